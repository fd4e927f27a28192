import {
  CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand,
  ListStackResourcesCommand, UpdateStackCommand, CloudFormationServiceException, type Stack,
} from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { SFNClient, SFNServiceException, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ACCOUNT_ZONES, blueprintObject, standingSubnets, credentials, EXECUTION_ARN, leased, ownedTags, setLifecycleEnv, state } from './support.js';
import { loseLeaseAfterWrite, records, registryMock } from './registry-mock.js';

// Step Functions does not stop a running Lambda when its execution is stopped or times out: the status-change rule
// (End stopped execution) may end the lease while Deploy blueprint is between its change set's inspection and
// ExecuteChangeSet. Each test holds the step at one point of that gap (a mocked call that waits for the test), runs the
// rule there, then lets the step go on.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const templates = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const zones = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const { handler: deploy } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');
const { handler: checkStack } = await import('../../../lambdas/lifecycle/check-stack.js');
const { handler: endStopped } = await import('../../../lambdas/lifecycle/end-stopped-execution.js');
const { acquireLease } = await import('../../../lambdas/lifecycle/lease.js');
const { changeSetName } = await import('../../../lambdas/lifecycle/change-set-guard.js');
const { requestToken } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');

const NAME = changeSetName(requestToken({ executionArn: EXECUTION_ARN, request: { requestId: 'req-acme-0001' } as never }, 'tenant'));
/** The tenant stack as the change found it: stable on the recorded tier. */
const STACK: Stack = {
  StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(),
  Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }], Tags: ownedTags(),
};
/** A change of acme (starter 1.0.0) to blueprint version 2.0.0. */
const change = () => state('acme', { blueprint: 'tenant', change: { tier: 'starter', blueprintVersion: '2.0.0' } });
const stopped = { detail: { executionArn: EXECUTION_ARN, status: 'ABORTED', input: JSON.stringify({ request: { tenantId: 'acme', requestId: 'req-acme-0001' } }) } };

/** A point where a mocked call waits until the test lets it go; `reached` once the step got there. */
function hold() {
  let release!: () => void;
  let arrived!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const reached = new Promise<void>((r) => (arrived = r));
  return { release, reached, wait: async () => { arrived(); await gate; } };
}

/**
 * Holds `run` at ExecuteChangeSet (sent: the lease check behind it), ends the lease there as the status-change rule does,
 * lets the step go on, and checks acme's record: still 1.0.0, no lease, and a failure saying `stack` may be updating to
 * `tier` 2.0.0 through `changeSetName` (a PATCH back answers stack_update_pending, not nothing_to_change).
 */
async function expectStopInFlightRecorded(run: () => Promise<unknown>, stack: string, changeSetName: string, tier: string) {
  const point = hold();
  cfn.on(ExecuteChangeSetCommand).callsFake(async () => {
    await point.wait();
    return {};
  });
  const step = run();
  await point.reached;
  expect(records.get('acme')!.lease!.stackUpdate).toMatchObject({ stack, changeSetName, tier, blueprintVersion: '2.0.0' });
  await endStopped(stopped as never, {} as never);
  point.release();
  await step.catch(() => undefined);
  const after = records.get('acme')!;
  expect(after).toMatchObject({ status: 'ACTIVE', blueprintVersion: '1.0.0' });
  expect(after.lease).toBeUndefined();
  expect(after.failure).toMatchObject({
    stackUpdating: { stack, status: 'CHANGE_SET_EXECUTING', tier, blueprintVersion: '2.0.0' },
    reason: expect.stringContaining(`was about to execute change set ${changeSetName} on stack ${stack} (to tier ${tier}, version 2.0.0`),
  });
}

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, sts, bus, zones, sfn, templates]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  zones.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  cfn.on(ListStackResourcesCommand).resolves(standingSubnets().resources);
  zones.on(DescribeSubnetsCommand).resolves(standingSubnets().subnets);
  templates.on(GetObjectCommand).resolves(blueprintObject());
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [STACK] });
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-id' });
  cfn.on(DeleteChangeSetCommand).resolves({});
  cfn.on(ExecuteChangeSetCommand).resolves({});
  cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', ChangeSetName: NAME, StackName: 'tessera-acme', Changes: [] });
  records.set('acme', leased('change', { status: 'UPDATING', blueprintVersion: '1.0.0', stackName: 'tessera-acme' }, EXECUTION_ARN));
  // the execution as Step Functions answers once it was stopped (the status-change rule's `stopped` event)
  sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED', executionArn: EXECUTION_ARN, stateMachineArn: 'sm', startDate: new Date() });
});

describe('Deploy blueprint and an execution stopped while its Lambda runs (s38m)', () => {
  it('stopped before the lease check: the change set is deleted, never executed, and the step fails naming why', async () => {
    // GIVEN the step held after its change set's inspection, before ExecuteChangeSet
    const point = hold();
    cfn.on(DescribeChangeSetCommand).callsFake(async () => {
      await point.wait();
      return { Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', ChangeSetName: NAME, StackName: 'tessera-acme', Changes: [] };
    });
    const step = deploy(change()).catch((e: Error) => e);
    await point.reached;
    // WHEN the operator stops the execution and the status-change rule ends its lease (the stack stable on 1.0.0)
    await expect(endStopped(stopped as never, {} as never)).resolves.toMatchObject({ ended: true, status: 'ACTIVE' });
    point.release();
    // THEN the step does not start the stack update it would leave unrecorded
    const error = await step;
    expect(error).toMatchObject({ name: 'TenantBusy', message: expect.stringContaining(`ExecuteChangeSet of change set ${NAME} on stack tessera-acme not started: the execution lost the tenant's lease`) });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'tessera-acme', ChangeSetName: NAME }]);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '1.0.0' });
    expect(records.get('acme')!.failure!.stackUpdating).toBeUndefined();
  });

  it('stopped after the lease check, ExecuteChangeSet in flight: the failure records the stack as updating to the change\'s version', async () => {
    await expectStopInFlightRecorded(() => deploy(change()), 'tessera-acme', NAME, 'starter');
  });

  it('the rule read the record before the lease check and writes after it: its write fails and it decides again on a fresh read', async () => {
    // GIVEN the step held before ExecuteChangeSet's lease check, and the rule held right after its record read
    const step = hold();
    cfn.on(DescribeChangeSetCommand).callsFake(async () => {
      await step.wait();
      return { Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', ChangeSetName: NAME, StackName: 'tessera-acme', Changes: [] };
    });
    const deploying = deploy(change());
    await step.reached;
    const rule = hold();
    registryMock.getTenant.mockImplementationOnce(async (id: string) => {
      const read = structuredClone(records.get(id));
      await rule.wait();
      return read;
    });
    const ending = endStopped(stopped as never, {} as never);
    await rule.reached;
    // WHEN the step records its change set on the lease and executes it, then the rule writes
    step.release();
    await deploying;
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    rule.release();
    await ending;
    // THEN the failure says the stack may be updating (before, it recorded 1.0.0 over the update the step had just started)
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', failure: { stackUpdating: { status: 'CHANGE_SET_EXECUTING', blueprintVersion: '2.0.0' } } });
  });

  it('a dead lease with a recorded change set ended by the next request records the stack as updating', async () => {
    // GIVEN the execution ended after its lease check, and the status-change event was missed
    await deploy(change());
    sfn.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT', executionArn: EXECUTION_ARN, stateMachineArn: 'sm', startDate: new Date() });
    // WHEN the next request meets the dead lease (a suspend: refused for the tenant's status once the lease is ended)
    await acquireLease('acme', { kind: 'suspend', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-suspend:2', requestId: 'sus-1' }).catch(() => undefined);
    // THEN the change's failure says the stack may be updating to 2.0.0 (before: the tier before the change, nothing pending)
    const after = records.get('acme')!;
    expect(after.executions.find((e) => e.executionArn === EXECUTION_ARN)).toMatchObject({ status: 'FAILED' });
    expect(after).toMatchObject({ status: 'ACTIVE', blueprintVersion: '1.0.0' });
    expect(after.failure).toMatchObject({
      executionArn: EXECUTION_ARN, stackUpdating: { stack: 'tessera-acme', status: 'CHANGE_SET_EXECUTING', tier: 'starter', blueprintVersion: '2.0.0' },
      reason: expect.stringContaining(`was about to execute change set ${NAME}`),
    });
  });

  // s39g hostile: Step Functions' redrive runs a stopped execution again under the same ARN, from the state it stopped in,
  // and the lease still names it when the status-change event was not processed yet (EventBridge retries it for 6 hours,
  // then its dead-letter queue, which `tessera dlq redrive` sends again later). That stale event ended the lease of the
  // running execution: its next stack operation was refused, and the tenant recorded failed on the old tier mid-change.
  it('a stale status-change event of an execution redriven since (RUNNING again, same ARN) leaves its lease alone', async () => {
    // GIVEN the change's execution timed out and was redriven before the rule processed its TIMED_OUT event
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', redriveCount: 1, executionArn: EXECUTION_ARN, stateMachineArn: 'sm', startDate: new Date() });
    const before = structuredClone(records.get('acme'));
    // WHEN the event arrives
    const out = await endStopped({ detail: { ...stopped.detail, status: 'TIMED_OUT' } } as never, {} as never);
    // THEN the record is untouched: the redriven execution still holds the tenant and may run its stack operation
    expect(out).toMatchObject({ ended: false, reason: expect.stringContaining('runs again') });
    expect(records.get('acme')).toEqual(before);
    await deploy(change());
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  // s39g hostile: two stacks of one tenant under one lease. A change to a DR tier updates the tenant stack (its change set
  // marked on the lease), Check blueprint records it complete, then Deploy DR blueprint runs under the same lease, the mark
  // still on it. Stopped there, the failure said the tenant stack "may be updating" to a version it had completed and the
  // registry recorded (a PATCH back refused stack_update_pending until the drift check).
  it('a change stopped after Check blueprint recorded its tenant stack\'s update (at its DR stack, say): nothing recorded as pending', async () => {
    // GIVEN the tenant stack's change set executed under the mark, and Check blueprint found the update complete
    await deploy(change());
    expect(records.get('acme')!.lease!.stackUpdate).toMatchObject({ blueprintVersion: '2.0.0' });
    const updated: Stack = { ...STACK, Tags: [...ownedTags(), { Key: 'tessera:tier', Value: 'starter' }, { Key: 'tessera:blueprint-version', Value: '2.0.0' }],
      Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }], Outputs: [{ OutputKey: 'BlueprintVersion', OutputValue: '2.0.0' }] };
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [updated] });
    await expect(checkStack(change())).resolves.toMatchObject({ state: 'COMPLETE' });
    expect(records.get('acme')).toMatchObject({ blueprintVersion: '2.0.0' });
    // WHEN the execution is stopped at a later step (the DR stack's deploy) and the rule ends its lease
    await expect(endStopped(stopped as never, {} as never)).resolves.toMatchObject({ ended: true, status: 'ACTIVE' });
    // THEN the failure records the version the tenant stack completed, with no update said to be pending on it
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0', failure: { executionArn: EXECUTION_ARN } });
    expect(after.lease).toBeUndefined();
    expect(after.failure!.stackUpdating).toBeUndefined();
    expect(after.failure!.reason).not.toContain('was about to execute change set');
  });

  // s39k hostile: a DR tier's change updates a second stack, in the DR region; its change set was recorded nowhere, so a stop
  // while it ran left the registry saying nothing of it: the failure recorded nothing pending, and a PATCH back to the
  // recorded version met nothing_to_change while the DR stack went on to the new one.
  describe('the DR stack\'s update', () => {
    const DR_NAME = changeSetName(requestToken({ executionArn: EXECUTION_ARN, request: { requestId: 'req-acme-0001' } as never }, 'dr'));
    const DR_STACK: Stack = { ...STACK, StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1', Parameters: [] };
    /** A change of acme (professional 1.0.0, its DR stack ACTIVE in us-west-2) to blueprint version 2.0.0, at its DR stack. */
    const drChange = () => state('acme', { blueprint: 'dr', change: { tier: 'professional', blueprintVersion: '2.0.0' } });
    beforeEach(() => {
      records.set('acme', leased('change', {
        tier: 'professional', status: 'UPDATING', blueprintVersion: '1.0.0', stackName: 'tessera-acme',
        disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: '2026-12-01T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } },
      }, EXECUTION_ARN));
      cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [DR_STACK] });
      cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', ChangeSetName: DR_NAME, StackName: 'tessera-acme-dr', Changes: [] });
    });

    it('stopped with its ExecuteChangeSet in flight: the failure records the DR stack as updating to the change\'s version', async () => {
      // the tenant stack untouched on 1.0.0
      await expectStopInFlightRecorded(() => deploy(drChange()), 'tessera-acme-dr', DR_NAME, 'professional');
    });

    it('a dead lease ended by the next request records the DR stack as updating', async () => {
      await deploy(drChange());
      sfn.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT', executionArn: EXECUTION_ARN, stateMachineArn: 'sm', startDate: new Date() });
      await acquireLease('acme', { kind: 'suspend', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-suspend:2', requestId: 'sus-1' }).catch(() => undefined);
      expect(records.get('acme')!.failure).toMatchObject({ stackUpdating: { stack: 'tessera-acme-dr', status: 'CHANGE_SET_EXECUTING', blueprintVersion: '2.0.0' } });
    });

    it('stopped after Check DR blueprint found its update complete: nothing recorded as pending', async () => {
      await deploy(drChange());
      cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{ ...DR_STACK, Tags: [...ownedTags(), { Key: 'tessera:blueprint-version', Value: '2.0.0' }] }] });
      await expect(checkStack(drChange())).resolves.toMatchObject({ state: 'COMPLETE' });
      expect(records.get('acme')!.lease!.stackUpdate).toBeUndefined();
      await expect(endStopped(stopped as never, {} as never)).resolves.toMatchObject({ ended: true, status: 'ACTIVE' });
      expect(records.get('acme')!.failure!.stackUpdating).toBeUndefined();
    });
  });

  // s39m hostile: DescribeExecution is eventually consistent ("may not reflect very recent updates", its API reference), so
  // the rule, asking as soon as the event arrives, may read the stopped execution still RUNNING. Taken for a redrive, the
  // event ended nothing and was consumed: the tenant stayed UPDATING under a dead lease, its failure unrecorded, until the
  // daily sweep or the next request. A redrive is told by its count (the event's redriveCount against DescribeExecution's).
  it('an event read back RUNNING with no redrive since (an eventually consistent DescribeExecution) ends the lease; a redrive since keeps it', async () => {
    const stop = Date.parse('2026-12-06T09:00:00Z');
    const event = { ...stopped.detail, status: 'TIMED_OUT', stopDate: stop, redriveCount: 0 };
    // GIVEN the stale read: RUNNING, never redriven
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', redriveCount: 0, executionArn: EXECUTION_ARN, stateMachineArn: 'sm', startDate: new Date(stop - 60_000) });
    // WHEN the event arrives THEN the operation is ended as the event says
    expect(await endStopped({ detail: event } as never, {} as never)).toMatchObject({ ended: true });
    expect(records.get('acme')!.lease).toBeUndefined();
    // GIVEN, again leased, an execution redriven after that stop (its count went up)
    records.set('acme', leased('change', { status: 'UPDATING', blueprintVersion: '1.0.0', stackName: 'tessera-acme' }, EXECUTION_ARN));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', redriveCount: 1, redriveDate: new Date(stop + 60_000), executionArn: EXECUTION_ARN, stateMachineArn: 'sm', startDate: new Date(stop - 60_000) });
    const before = structuredClone(records.get('acme'));
    expect(await endStopped({ detail: event } as never, {} as never)).toMatchObject({ ended: false, reason: expect.stringContaining('runs again') });
    expect(records.get('acme')).toEqual(before);
  });

  /** The status-change rule's ending of the onboarding's lease, done at a read of the step (its last before the stack operation). */
  const leaseEndedNow = () => {
    const r = records.get('acme')!;
    records.set('acme', { ...r, status: 'FAILED', lease: undefined, executions: r.executions.map((e) => ({ ...e, status: 'FAILED' as const })) });
  };

  it('an onboarding whose lease ended while Check blueprint read the stack does not switch the database protection on (UpdateStack)', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(UpdateStackCommand).resolves({ StackId: 'id' });
    cfn.on(DescribeStacksCommand).callsFake(() => {
      leaseEndedNow();
      return { Stacks: [{ ...STACK, StackStatus: 'CREATE_COMPLETE', Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'false' }], Outputs: [{ OutputKey: 'KeyArn', OutputValue: 'arn:k' }] }] };
    });
    await expect(checkStack(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringContaining('UpdateStack (DatabaseDeletionProtection=true) of stack tessera-acme not started') });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  it('an onboarding whose lease ended after Deploy blueprint recorded the tenant VPC\'s zones does not create the tenant stack (CreateStack)', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    loseLeaseAfterWrite('acme', 'availabilityZones', { status: 'FAILED' });
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringContaining('CreateStack of stack tessera-acme not started') });
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
  });

  it('an onboarding re-run whose lease ended while its change set was inspected does not execute it (no mark: the tenant is left FAILED)', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeChangeSetCommand).callsFake(() => {
      leaseEndedNow();
      return { Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', ChangeSetName: 'cs', StackName: 'tessera-acme', Changes: [] };
    });
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringMatching(/ExecuteChangeSet of change set \S+ on stack tessera-acme not started/) });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
  });
});
