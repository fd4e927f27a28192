import {
  CloudFormationClient, CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand,
  ListStackResourcesCommand, CloudFormationServiceException, type DescribeChangeSetCommandOutput, type Stack,
} from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ACCOUNT_ZONES, blueprintObject, standingSubnets, credentials, EXECUTION_ARN, leased, ownedTags, setLifecycleEnv, state } from './support.js';
import { records, registryMock } from './registry-mock.js';

// ExecuteChangeSet only starts the update ("After the call successfully completes, CloudFormation starts updating the
// stack": API reference, ExecuteChangeSet) and DescribeStacks is eventually consistent: Check blueprint's read after it may
// still answer the stack's previous UPDATE_COMPLETE. Each test runs Deploy blueprint's ExecuteChangeSet, then Check
// blueprint with Deploy's answer (`$.deploy`, as the workflow passes it) against a DescribeStacks still answering that.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const templates = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const zones = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const { handler: deploy, requestToken } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');
const { handler: checkStack } = await import('../../../lambdas/lifecycle/check-stack.js');
const { changeSetName } = await import('../../../lambdas/lifecycle/change-set-guard.js');

const execution = { executionArn: EXECUTION_ARN, request: { requestId: 'req-acme-0001' } as never };
const NAME = changeSetName(requestToken(execution, 'tenant'));
const CREATED = new Date('2026-12-06T09:00:00.000Z');
/** The tenant stack as the change found it: UPDATE_COMPLETE of its previous update, on 1.0.0, last updated before the change's change set. */
const BEFORE: Stack = {
  StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date('2026-11-01T00:00:00.000Z'),
  LastUpdatedTime: new Date('2026-11-20T00:00:00.000Z'), Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }],
  Tags: [...ownedTags(), { Key: 'tessera:blueprint-version', Value: '1.0.0' }], Outputs: [{ OutputKey: 'BlueprintVersion', OutputValue: '1.0.0' }],
};
/** The same stack once the change's update completed. */
const AFTER: Stack = { ...BEFORE, LastUpdatedTime: new Date('2026-12-06T09:01:00.000Z'), Tags: [...ownedTags(), { Key: 'tessera:blueprint-version', Value: '2.0.0' }], Outputs: [{ OutputKey: 'BlueprintVersion', OutputValue: '2.0.0' }] };
/** A change of acme (starter 1.0.0) to blueprint version 2.0.0. */
const change = () => state('acme', { blueprint: 'tenant', change: { tier: 'starter', blueprintVersion: '2.0.0' } });
/** DescribeChangeSet of `name` (created at CREATED) with `ExecutionStatus`. */
const changeSet = (ExecutionStatus: string, name = NAME, stack = 'tessera-acme'): DescribeChangeSetCommandOutput =>
  ({ Status: 'CREATE_COMPLETE', ExecutionStatus: ExecutionStatus as never, ChangeSetName: name, StackName: stack, CreationTime: CREATED, Changes: [], $metadata: {} });

const DR_NAME = changeSetName(requestToken(execution, 'dr'));
/** A change of acme (professional 1.0.0, its DR stack ACTIVE in us-west-2) to blueprint version 2.0.0, at its DR stack. */
const drChange = () => state('acme', { blueprint: 'dr', change: { tier: 'professional', blueprintVersion: '2.0.0' } });
/**
 * Runs Deploy DR blueprint for drChange() against a DR stack read as BEFORE with `stack` over it (its change set AVAILABLE
 * until executed) and returns Deploy's answer, checked to have executed DR_NAME.
 */
async function deployDrChange(stack: Partial<Stack>) {
  const DR_STACK: Stack = { ...BEFORE, StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1', Parameters: [], ...stack };
  records.set('acme', leased('change', {
    tier: 'professional', status: 'UPDATING', blueprintVersion: '1.0.0', stackName: 'tessera-acme',
    disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: '2026-12-01T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } },
  }, EXECUTION_ARN));
  cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [DR_STACK] });
  cfn.on(DescribeChangeSetCommand).resolves(changeSet('AVAILABLE', DR_NAME, 'tessera-acme-dr'));
  const deployed = await deploy(drChange());
  expect(deployed).toMatchObject({ changeSet: { name: DR_NAME, outcome: 'EXECUTED' } });
  return deployed;
}

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, sts, bus, zones, templates]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  zones.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  cfn.on(ListStackResourcesCommand).resolves(standingSubnets().resources);
  zones.on(DescribeSubnetsCommand).resolves(standingSubnets().subnets);
  templates.on(GetObjectCommand).resolves(blueprintObject());
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [BEFORE] });
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-id' });
  cfn.on(DeleteChangeSetCommand).resolves({});
  cfn.on(ExecuteChangeSetCommand).resolves({});
  cfn.on(DescribeChangeSetCommand).resolves(changeSet('AVAILABLE'));
  records.set('acme', leased('change', { status: 'UPDATING', blueprintVersion: '1.0.0', stackName: 'tessera-acme' }, EXECUTION_ARN));
});

describe('Check blueprint right after Deploy blueprint\'s ExecuteChangeSet (s39t)', () => {
  it('a read still answering the previous UPDATE_COMPLETE while the change set is AVAILABLE, then EXECUTE_IN_PROGRESS: IN_PROGRESS, nothing recorded, the lease\'s mark kept; the update shown: COMPLETE', async () => {
    // GIVEN Deploy blueprint executed the change's change set (marked on the lease), and CloudFormation has not started it
    const deployed = await deploy(change());
    expect(deployed).toMatchObject({ changeSet: { name: NAME, outcome: 'EXECUTED' } });
    expect(records.get('acme')!.lease!.stackUpdate).toMatchObject({ changeSetName: NAME, blueprintVersion: '2.0.0' });
    for (const executionStatus of ['AVAILABLE', 'EXECUTE_IN_PROGRESS']) {
      cfn.on(DescribeChangeSetCommand).resolves(changeSet(executionStatus));
      // WHEN Check blueprint reads the stack, still UPDATE_COMPLETE on 1.0.0
      await expect(checkStack({ ...change(), deploy: deployed })).resolves.toMatchObject({ state: 'IN_PROGRESS', status: 'UPDATE_COMPLETE', awaiting: { name: NAME, executionStatus } });
      // THEN nothing is recorded of it: the registry on 1.0.0, the change set still marked as executing on the lease
      expect(records.get('acme')).toMatchObject({ blueprintVersion: '1.0.0', lease: { stackUpdate: { changeSetName: NAME } } });
    }
    // WHEN the update completed and shows
    cfn.on(DescribeChangeSetCommand).resolves(changeSet('EXECUTE_COMPLETE'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [AFTER] });
    // THEN it is recorded, the mark cleared
    await expect(checkStack({ ...change(), deploy: deployed })).resolves.toMatchObject({ state: 'COMPLETE' });
    expect(records.get('acme')!.blueprintVersion).toBe('2.0.0');
    expect(records.get('acme')!.lease!.stackUpdate).toBeUndefined();
  });

  it('a read from before the update (LastUpdatedTime before the change set\'s CreationTime) while the change set says EXECUTE_COMPLETE: IN_PROGRESS, the read taken again', async () => {
    const deployed = await deploy(change());
    cfn.on(DescribeChangeSetCommand).resolves(changeSet('EXECUTE_COMPLETE'));
    await expect(checkStack({ ...change(), deploy: deployed })).resolves.toMatchObject({
      state: 'IN_PROGRESS', awaiting: { executionStatus: 'EXECUTE_COMPLETE', why: `stack tessera-acme read UPDATE_COMPLETE last updated at 2026-11-20T00:00:00.000Z, before change set ${NAME} was created (2026-12-06T09:00:00.000Z): a read from before its update` },
    });
    expect(records.get('acme')!.blueprintVersion).toBe('1.0.0');
  });

  it('a read still answering the UPDATE_ROLLBACK_COMPLETE of an earlier update: IN_PROGRESS, not that earlier failure', async () => {
    const deployed = await deploy(change());
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...BEFORE, StackStatus: 'UPDATE_ROLLBACK_COMPLETE' }] });
    await expect(checkStack({ ...change(), deploy: deployed })).resolves.toMatchObject({ state: 'IN_PROGRESS', status: 'UPDATE_ROLLBACK_COMPLETE', awaiting: { executionStatus: 'AVAILABLE' } });
  });

  it('the DR stack\'s check: a read of its previous UPDATE_COMPLETE while its change set is AVAILABLE is IN_PROGRESS, its mark kept, its record not made ACTIVE', async () => {
    const deployed = await deployDrChange({});
    expect(records.get('acme')!.disasterRecovery!.status).toBe('DEPLOYING');
    await expect(checkStack({ ...drChange(), deploy: deployed })).resolves.toMatchObject({ state: 'IN_PROGRESS', awaiting: { name: DR_NAME, executionStatus: 'AVAILABLE' } });
    expect(records.get('acme')).toMatchObject({ disasterRecovery: { status: 'DEPLOYING' }, lease: { stackUpdate: { stack: 'tessera-acme-dr', changeSetName: DR_NAME } } });
    expect(cfn.commandCalls(DescribeChangeSetCommand).at(-1)!.args[0].input).toEqual({ StackName: 'tessera-acme-dr', ChangeSetName: DR_NAME });
  });

  it('the interim update (the cache\'s failover off): a read of the previous UPDATE_COMPLETE while its change set is AVAILABLE is IN_PROGRESS, not COMPLETE (which ran Deploy blueprint again for the target)', async () => {
    const INTERIM = changeSetName(requestToken(execution, 'tenant', 'interim'));
    cfn.on(DescribeChangeSetCommand).resolves(changeSet('AVAILABLE', INTERIM));
    const deployed = { stackName: 'tessera-acme', kind: 'tenant', changeSet: { name: INTERIM, outcome: 'EXECUTED' }, interim: true };
    await expect(checkStack({ ...change(), deploy: deployed })).resolves.toMatchObject({ state: 'IN_PROGRESS', awaiting: { name: INTERIM, executionStatus: 'AVAILABLE' } });
    expect(records.get('acme')!.blueprintVersion).toBe('1.0.0');
  });

  // s39v hostile: DescribeStacks gives no LastUpdatedTime to a stack never updated ("only returned if the stack has been
  // updated at least once": API reference, Stack). A DR or namespace stack is made by CreateStack and first updated by a
  // change set, so the comparison with the change set's CreationTime had nothing to compare: a stale CREATE_COMPLETE read
  // beside an EXECUTE_COMPLETE change set was taken, the DR record made ACTIVE on the target version, the mark cleared.
  it('a never-updated DR stack read CREATE_COMPLETE (no LastUpdatedTime) while its first change set says EXECUTE_COMPLETE: IN_PROGRESS, the record DEPLOYING', async () => {
    const deployed = await deployDrChange({ StackStatus: 'CREATE_COMPLETE', LastUpdatedTime: undefined });
    cfn.on(DescribeChangeSetCommand).resolves(changeSet('EXECUTE_COMPLETE', DR_NAME, 'tessera-acme-dr'));
    await expect(checkStack({ ...drChange(), deploy: deployed })).resolves.toMatchObject({ state: 'IN_PROGRESS', awaiting: { name: DR_NAME, executionStatus: 'EXECUTE_COMPLETE' } });
    expect(records.get('acme')).toMatchObject({ disasterRecovery: { status: 'DEPLOYING' }, lease: { stackUpdate: { stack: 'tessera-acme-dr', changeSetName: DR_NAME } } });
  });
});
