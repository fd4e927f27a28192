import {
  CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DeleteStackCommand, DescribeChangeSetCommand, ExecuteChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand, ListStackResourcesCommand, UpdateStackCommand,
  UpdateTerminationProtectionCommand, type ResourceStatus, type Stack, type StackStatus, type Tag, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DescribeAvailabilityZonesCommand, DescribeInstanceTypeOfferingsCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { ACCOUNT_ZONES, offeringsIn, blueprintObject, standingSubnets, credentials, DELETE_TOKEN, EXECUTION_ARN, lease, leased, OTHER_EXECUTION_ARN, ownedTags, setLifecycleEnv, state } from './support.js';
import { loseLease, records, registryMock } from './registry-mock.js';
import { deletesAfterRecreate, liftsAfterRecreate } from './late-delete.js';
import { MAX_REASON_BYTES } from '../../../lambdas/lifecycle/catch-reason.js';
import { marshall } from '@aws-sdk/util-dynamodb';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

/** A change or upgrade's change set with nothing destructive in it (change-set-guard.ts), executed. */
function harmlessChangeSet(): void {
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
  cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
  cfn.on(ExecuteChangeSetCommand).resolves({});
}
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
/** The tenant account's zones (Deploy blueprint chooses the VPC's). */
const zones = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions(); // each test sees its own AssumeRole calls (the provisioning sessions are kept per account, tenant and step)
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, sts, events, s3, zones]) m.reset();
  s3.on(PutObjectCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  zones.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  // a dedicated tier's zones are chosen among those offering its node groups' types: every zone offers them here
  zones.on(DescribeInstanceTypeOfferingsCommand).callsFake(offeringsIn(ACCOUNT_ZONES.AvailabilityZones.map((z) => z.ZoneName)));
  // a standing stack's subnets (a tenant without recorded zones: Deploy blueprint reads them from its stack)
  cfn.on(ListStackResourcesCommand).resolves(standingSubnets().resources);
  zones.on(DescribeSubnetsCommand).resolves(standingSubnets().subnets);
  s3.on(GetObjectCommand).resolves(blueprintObject());
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

const notFound = Object.assign(new Error('Stack with id tessera-account-baseline does not exist'), { name: 'ValidationError' });
const baselineStack = (StackStatus: string, version = '1.0.0') => ({ Stacks: [{
  StackName: 'tessera-account-baseline', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-account-baseline/1', StackStatus: StackStatus as StackStatus, CreationTime: new Date(),
  Tags: [{ Key: 'tessera:blueprint-version', Value: version }, { Key: 'tessera:component', Value: 'account-baseline' }],
}] });
const EXECUTION_ROLE = 'arn:aws:iam::333333333333:role/TesseraBlueprintExecution';
/** An upgrade's execution, after the onboarding's (state()). */
const UPGRADE_ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:upgrade-1';
/** The ClientRequestToken of `kind`'s stack operation in `executionArn` (deploy-blueprint.ts: 24 hex of the ARN's SHA-256). */
const tokenOf = (executionArn: string, kind: string) => `tessera-deploy-${kind}-${createHash('sha256').update(executionArn).digest('hex').slice(0, 24)}`;

describe('Deploy account baseline', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const check = (await import('../../../lambdas/lifecycle/check-stack.js')).handler;
  const baseline = (extra: Record<string, unknown> = {}) => state('acme', { blueprint: 'baseline', ...extra });

  it('creates the baseline with the provisioning session (no RoleARN), from the catalog, protected, tagged with its version', async () => {
    // GIVEN a workload account without a baseline
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    // WHEN
    await expect(deploy(baseline())).resolves.toEqual({ stackName: 'tessera-account-baseline', kind: 'baseline', action: 'CREATED' });
    // THEN
    const input = cfn.commandCalls(CreateStackCommand)[0].args[0].input;
    expect(input).toMatchObject({
      StackName: 'tessera-account-baseline',
      TemplateURL: 'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/1.0.0/account-baseline.template.json',
      Capabilities: ['CAPABILITY_NAMED_IAM'], EnableTerminationProtection: true, OnFailure: 'ROLLBACK', ClientRequestToken: tokenOf(EXECUTION_ARN, 'baseline'),
      Tags: [{ Key: 'tessera:blueprint-version', Value: '1.0.0' }, { Key: 'tessera:component', Value: 'account-baseline' }],
    });
    expect(input.RoleARN).toBeUndefined();
    expect(input.Parameters).toBeUndefined();
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toContain('arn:aws:iam::333333333333:role/TesseraProvisioning');
    expect(records.get('acme')?.stackName).toBeUndefined();
  });

  it('waits when another onboarding created it a moment earlier (AlreadyExistsException)', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).rejects(Object.assign(new Error('Stack [tessera-account-baseline] already exists'), { name: 'AlreadyExistsException' }));
    await expect(deploy(baseline())).resolves.toMatchObject({ action: 'WAITING' });
  });

  it('waits for a create or update in progress, without touching it', async () => {
    records.set('acme', leased('onboard'));
    for (const status of ['CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']) {
      cfn.on(DescribeStacksCommand).resolves(baselineStack(status));
      await expect(deploy(baseline())).resolves.toMatchObject({ action: 'WAITING' });
    }
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
  });

  it('updates a complete baseline; "No updates are to be performed" is success', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(baselineStack('UPDATE_COMPLETE'));
    cfn.on(UpdateStackCommand).rejects(Object.assign(new Error('No updates are to be performed.'), { name: 'ValidationError' }));
    await expect(deploy(baseline())).resolves.toMatchObject({ action: 'UNCHANGED' });
    expect(cfn.commandCalls(UpdateStackCommand)[0].args[0].input).toMatchObject({ StackName: 'tessera-account-baseline', TemplateURL: expect.stringMatching(/1\.0\.0\/account-baseline\.template\.json$/) });
  });

  it('takes a concurrent update that started between describe and update as a wait', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(baselineStack('CREATE_COMPLETE'));
    cfn.on(UpdateStackCommand).rejects(Object.assign(new Error('Stack:arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-account-baseline/x is in UPDATE_IN_PROGRESS state and can not be updated.'), { name: 'ValidationError' }));
    await expect(deploy(baseline())).resolves.toMatchObject({ action: 'WAITING' });
  });

  it('never downgrades a baseline a rolling upgrade already moved to a newer version', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(baselineStack('UPDATE_COMPLETE', '1.10.0'));
    await expect(deploy(baseline())).resolves.toMatchObject({ action: 'NEWER' });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  it('deletes a baseline whose first create rolled back (its termination protection lifted first), and asks for a retry', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...baselineStack('ROLLBACK_COMPLETE').Stacks[0], EnableTerminationProtection: true }] });
    await expect(deploy(baseline())).rejects.toMatchObject({ name: 'StackBusy', message: expect.stringMatching(/ROLLBACK_COMPLETE from an earlier attempt; deleted it/) });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].args[0].input).toEqual({ StackName: baselineStack('ROLLBACK_COMPLETE').Stacks[0].StackId, EnableTerminationProtection: false });
    expect(cfn.commandCalls(DeleteStackCommand)[0].args[0].input).toEqual({ StackName: baselineStack('ROLLBACK_COMPLETE').Stacks[0].StackId, ClientRequestToken: DELETE_TOKEN });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].calledBefore(cfn.commandCalls(DeleteStackCommand)[0])).toBe(true);
  });

  // s39k: two onboardings into one account both read the shared baseline ROLLBACK_COMPLETE; one deleted it and created it
  // again, and the other's late DeleteStack by name deleted that new create (the leases are per tenant: no help).
  it('a late DeleteStack of a ROLLBACK_COMPLETE baseline another onboarding deleted and created again deletes nothing (by the StackId read)', async () => {
    records.set('acme', leased('onboard'));
    const read = baselineStack('ROLLBACK_COMPLETE').Stacks[0];
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [read] });
    const { deleted } = deletesAfterRecreate(cfn, read);
    await expect(deploy(baseline())).rejects.toMatchObject({ name: 'StackBusy' });
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual([read.StackId]);
    expect(deleted).toEqual([]);
  });

  // s39t: the same race one call earlier. The lift before that DeleteStack went by name: it switched off the protection of
  // the baseline the other onboarding had just created, which then stood unprotected (its DeleteStack by the old id deleted nothing).
  it('a late lift of a ROLLBACK_COMPLETE baseline another onboarding deleted and created again switches off no protection (by the StackId read): StackBusy, no DeleteStack, nothing recorded', async () => {
    records.set('acme', leased('onboard'));
    const read = { ...baselineStack('ROLLBACK_COMPLETE').Stacks[0], EnableTerminationProtection: true };
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [read] });
    const { unprotected } = liftsAfterRecreate(cfn, read);
    const { deleted } = deletesAfterRecreate(cfn, read);
    await expect(deploy(baseline())).rejects.toMatchObject({
      name: 'StackBusy', message: `stack tessera-account-baseline (${read.StackId}) was deleted since it was read ROLLBACK_COMPLETE: its termination protection is not lifted (the lift goes by the StackId read, never by the name, which another stack may hold now); nothing of it is left to delete, the step reads the stack again`,
    });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand).map((c) => c.args[0].input.StackName)).toEqual([read.StackId]);
    expect(unprotected).toEqual([]);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(deleted).toEqual([]);
    // The lift was not made: no intent left behind, nothing in the execution's history entry, no announcement.
    expect(records.get('acme')!.liftIntents).toBeUndefined();
    expect(records.get('acme')!.executions.find((e) => e.executionArn === EXECUTION_ARN)?.liftedProtections ?? []).toEqual([]);
    expect(events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!).filter((e) => e.DetailType === 'Tenant Protection Lifted')).toEqual([]);
  });

  // The baseline's termination protection was lifted before its deletion and recorded nowhere (no history entry,
  // audit or event), while a dead tenant stack's lifts are recorded as they are made.
  it('records the lift of a ROLLBACK_COMPLETE baseline\'s termination protection in the execution\'s history entry before DeleteStack, then in the audit and on the bus; once', async () => {
    records.set('acme', leased('onboard'));
    const BASELINE_ID = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-account-baseline/1';
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...baselineStack('ROLLBACK_COMPLETE').Stacks[0], StackId: BASELINE_ID, EnableTerminationProtection: true }] });
    const onRecord = () => records.get('acme')!.executions.find((e) => e.executionArn === EXECUTION_ARN)?.liftedProtections ?? [];
    let atDeletion: unknown[] = [];
    cfn.on(DeleteStackCommand).callsFake(() => {
      atDeletion = onRecord().map((l) => `${l.logicalId} ${l.protection}`);
      return {};
    });
    await expect(deploy(baseline())).rejects.toMatchObject({ name: 'StackBusy' });
    const lift = {
      logicalId: 'tessera-account-baseline', type: 'AWS::CloudFormation::Stack', physicalId: BASELINE_ID, protection: 'TerminationProtection', at: expect.any(String),
      step: 'Deploy blueprint', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, intendedAt: expect.any(String),
      reason: 'account baseline ROLLBACK_COMPLETE: lifted so that the stack can be deleted and created again',
    };
    expect(atDeletion).toEqual(['tessera-account-baseline TerminationProtection']);
    expect(onRecord()).toEqual([lift]);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key!).filter((k) => k.includes('protection-lifted'))).toEqual([expect.stringMatching(/acme\/.*-protection-lifted-tessera-account-baseline\.json$/)]);
    const lifted = () => events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!).filter((e) => e.DetailType === 'Tenant Protection Lifted');
    expect(JSON.parse(lifted()[0].Detail!)).toMatchObject({ tenantId: 'acme', stack: 'tessera-account-baseline', physicalId: BASELINE_ID, step: 'Deploy blueprint', executionArn: EXECUTION_ARN });
    // The step retried before the deletion shows: the same stack (StackId), not recorded again.
    await expect(deploy(baseline())).rejects.toMatchObject({ name: 'StackBusy' });
    expect(onRecord()).toEqual([lift]);
    expect(lifted()).toHaveLength(1);
  });

  it('never adopts a stack with the baseline\'s name that lacks its component tag (StackNotOwned), calling nothing on it', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-account-baseline', StackId: 'arn:stack/tessera-account-baseline/x', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), Tags: [{ Key: 'tessera:component', Value: 'something-else' }] }] });
    await expect(deploy(baseline())).rejects.toMatchObject({
      name: 'StackNotOwned', message: expect.stringMatching(/^stack tessera-account-baseline \(arn:stack\/tessera-account-baseline\/x\) exists but is not Tessera's account baseline: its tag tessera:component is "something-else", not "account-baseline"/),
    });
    // it was only described: no create, update, protection change or deletion
    expect(cfn.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeStacksCommand']);
  });

  it('fails, naming the stack and its state, when the baseline needs an operator', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...baselineStack('UPDATE_ROLLBACK_FAILED').Stacks[0], StackStatusReason: 'role in use' }] });
    await expect(deploy(baseline())).rejects.toMatchObject({ name: 'StackFailed', message: expect.stringMatching(/^stack tessera-account-baseline is UPDATE_ROLLBACK_FAILED: role in use/) });
  });

  it('is ready when complete at the target version or newer', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(baselineStack('UPDATE_COMPLETE', '1.0.0'));
    await expect(check(baseline())).resolves.toMatchObject({ state: 'COMPLETE', version: '1.0.0' });
    cfn.on(DescribeStacksCommand).resolves(baselineStack('UPDATE_ROLLBACK_COMPLETE', '2.0.0'));
    await expect(check(baseline())).resolves.toMatchObject({ state: 'COMPLETE', version: '2.0.0' });
    expect(records.get('acme')?.stackOutputs).toEqual({});
  });

  it('updates a baseline another onboarding completed at an older version, and keeps waiting', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(baselineStack('CREATE_COMPLETE', '0.9.0'));
    cfn.on(UpdateStackCommand).resolves({ StackId: 'id' });
    await expect(check(baseline())).resolves.toMatchObject({ state: 'IN_PROGRESS', action: 'UPDATED' });
  });

  it('fails when an update to the target version rolled back', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(baselineStack('UPDATE_ROLLBACK_COMPLETE', '0.9.0'));
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [{ LogicalResourceId: 'ExecutionRole', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'policy too large', StackId: 's', StackName: 's', EventId: '1', Timestamp: new Date() }] });
    await expect(check(baseline())).rejects.toMatchObject({ name: 'StackFailed', message: 'stack tessera-account-baseline is UPDATE_ROLLBACK_COMPLETE at version 0.9.0 (needs 1.0.0): ExecutionRole UPDATE_FAILED: policy too large' });
  });

  // s39g: Step Functions does not stop a running Lambda; an execution whose lease was ended (the status-change rule) or
  // taken over while the step read the baseline must start no operation on it (stack-operation-lease.ts holdLeaseFor).
  const stackOperations = [CreateStackCommand, UpdateStackCommand, DeleteStackCommand];
  it.each([
    { step: 'Deploy blueprint', operation: 'CreateStack', read: () => Promise.reject(notFound), run: () => deploy(baseline()) },
    { step: 'Deploy blueprint', operation: 'UpdateStack', read: async () => baselineStack('UPDATE_COMPLETE', '0.9.0'), run: () => deploy(baseline()) },
    { step: 'Deploy blueprint', operation: 'DeleteStack', read: async () => baselineStack('ROLLBACK_COMPLETE'), run: () => deploy(baseline()) },
    { step: 'Check blueprint', operation: 'UpdateStack', read: async () => baselineStack('CREATE_COMPLETE', '0.9.0'), run: () => check(baseline()) },
  ])('$step starts no $operation of the baseline once the execution lost its lease while it read the stack (TenantBusy naming it)', async ({ operation, read, run }) => {
    // GIVEN the onboarding's lease ended (released, then taken by a change) at the step's last read before the operation
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).callsFake(() => {
      loseLease('acme', { takenBy: lease('change', OTHER_EXECUTION_ARN) });
      return read();
    });
    for (const command of stackOperations) cfn.on(command).resolves({});
    // WHEN the step goes on
    await expect(run()).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringContaining(`${operation} of stack tessera-account-baseline not started: the execution lost the tenant's lease`) });
    // THEN nothing was started on the stack, and the record is the new holder's
    for (const command of stackOperations) expect(cfn.commandCalls(command)).toHaveLength(0);
    expect(records.get('acme')!.lease).toMatchObject({ executionArn: OTHER_EXECUTION_ARN });
  });
});

describe('Deploy blueprint (tenant stack through the execution role)', async () => {
  const { handler: deploy, requestToken } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');
  const tenantStack = (extra: Partial<Stack> = {}): { Stacks: Stack[] } => ({ Stacks: [{
    StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), ...extra,
  }] });
  const upgrade = () => state('acme', { executionArn: UPGRADE_ARN, blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } });

  it('creates and updates the tenant stack with RoleARN = the execution role and RetainExceptOnCreate, one token per execution', async () => {
    // GIVEN an onboarding creates the stack, an upgrade later updates it
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejectsOnce(notFound).resolves(tenantStack({ Tags: [...ownedTags(), { Key: 'tessera:created-by', Value: EXECUTION_ARN }] }));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    harmlessChangeSet();
    await deploy(state('acme', { blueprint: 'tenant' }));
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0' }, UPGRADE_ARN));
    await deploy(upgrade());
    // THEN the upgrade updates through a change set (change-set-guard.ts) with the same role, token and RetainExceptOnCreate
    const create = cfn.commandCalls(CreateStackCommand)[0].args[0].input;
    const update = cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input;
    const execute = cfn.commandCalls(ExecuteChangeSetCommand)[0].args[0].input;
    expect(create).toMatchObject({ RoleARN: EXECUTION_ROLE, RetainExceptOnCreate: true, ClientRequestToken: tokenOf(EXECUTION_ARN, 'tenant') });
    expect(update).toMatchObject({ RoleARN: EXECUTION_ROLE, ClientToken: tokenOf(UPGRADE_ARN, 'tenant') });
    expect(execute).toMatchObject({ RetainExceptOnCreate: true, ClientRequestToken: tokenOf(UPGRADE_ARN, 'tenant') });
    expect(update.ClientToken).not.toBe(create.ClientRequestToken);
  });

  it('tags the stack it creates with the tenant, tier, version, the onboarding request and the execution that created it; an update keeps the creator', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejectsOnce(notFound).resolves(tenantStack({ Tags: [...ownedTags(), { Key: 'tessera:created-by', Value: EXECUTION_ARN }] }));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    harmlessChangeSet();
    await deploy(state('acme', { blueprint: 'tenant' }));
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0' }, UPGRADE_ARN));
    await deploy(upgrade());
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Tags).toEqual([
      { Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:tier', Value: 'starter' }, { Key: 'tessera:blueprint-version', Value: '1.0.0' },
      { Key: 'tessera:request-id', Value: 'req-acme-0001' }, { Key: 'tessera:created-by', Value: EXECUTION_ARN },
    ]);
    // CloudFormation replaces the tag set on update: the onboarding's request and creator go with it
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Tags).toEqual([
      { Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:tier', Value: 'starter' }, { Key: 'tessera:blueprint-version', Value: '2.0.0' },
      { Key: 'tessera:request-id', Value: 'req-acme-0001' }, { Key: 'tessera:created-by', Value: EXECUTION_ARN },
    ]);
  });

  it('uses the same ClientRequestToken on every retry of the step within an execution, and another in the next execution', async () => {
    // GIVEN CreateStack is retried within one execution (the first answer was lost), then the onboarding is run again
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    await deploy(state('acme', { blueprint: 'tenant' }));
    const rerun = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:2';
    records.set('acme', leased('onboard', {}, rerun));
    await deploy(state('acme', { blueprint: 'tenant', executionArn: rerun }));
    // THEN
    const tokens = cfn.commandCalls(CreateStackCommand).map((c) => c.args[0].input.ClientRequestToken!);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(tokens.every((t) => /^[a-zA-Z0-9][-a-zA-Z0-9]*$/.test(t) && t.length <= 128)).toBe(true);
    // and per blueprint kind within one execution
    expect(requestToken(state(), 'namespace')).not.toBe(requestToken(state(), 'tenant'));
    expect(requestToken(state(), 'tenant')).toBe(tokenOf(EXECUTION_ARN, 'tenant'));
  });

  it.each([
    ['without tags (made by hand)', [] as Tag[], 'its tag tessera:tenant-id is absent, not "acme"'],
    ['of another tenant', ownedTags('globex'), 'its tag tessera:tenant-id is "globex", not "acme"'],
    ['of an earlier tenant with the same id (another onboarding request)', ownedTags('acme', 'req-acme-old'), 'its tag tessera:request-id is "req-acme-old", not the tenant\'s onboarding request "req-acme-0001"'],
  ])('refuses an existing stack %s (StackNotOwned) and calls nothing on it', async (_case, Tags, problem) => {
    for (const StackStatus of ['CREATE_COMPLETE', 'ROLLBACK_COMPLETE', 'DELETE_FAILED'] as const) {
      records.set('acme', leased('onboard'));
      cfn.on(DescribeStacksCommand).resolves(tenantStack({ StackStatus, Tags, EnableTerminationProtection: true }));
      await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({
        name: 'StackNotOwned',
        message: `stack tessera-acme (arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1, ${StackStatus}) exists in account 333333333333 but was not created by Tessera's workflow for tenant acme: ${problem}; `
          + 'Tessera never adopts, updates or deletes a stack it did not create — remove or rename that stack, then retry the tenant',
      });
    }
    // each was only described: no create, update, protection change, deletion or resource listing
    expect(cfn.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeStacksCommand', 'DescribeStacksCommand', 'DescribeStacksCommand']);
    expect(records.get('acme')?.stackName).toBeUndefined();
  });

  it('passes the GPU node sizes to a dedicated tier: the tier\'s while the quota holds a node, 0/0 while it waits', async () => {
    records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: '444444444444' }));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('ent', { blueprint: 'tenant' }));
    records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: '444444444444', gpuCapacity: { state: 'WAITING_FOR_QUOTA', instanceType: 'g5.2xlarge', quotaCode: 'L-DB2E81BA', appliedVcpus: 0, oneNodeVcpus: 8, minSize: 0, desiredSize: 0, checkedAt: 't' } }));
    await deploy(state('ent', { blueprint: 'tenant' }));
    const params = cfn.commandCalls(CreateStackCommand).map((c) => Object.fromEntries(c.args[0].input.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue])));
    expect(params[0]).toMatchObject({ TenantId: 'ent', GpuNodesMinSize: '1', GpuNodesDesiredSize: '1' });
    expect(params[1]).toMatchObject({ GpuNodesMinSize: '0', GpuNodesDesiredSize: '0' });
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.RoleARN).toBe('arn:aws:iam::444444444444:role/TesseraBlueprintExecution');
  });

  it('passes no GPU parameters to a tier without dedicated compute', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters!.map((p) => p.ParameterKey)).toEqual(['TenantId', 'VpcCidr', 'AvailabilityZones', 'DatabaseDeletionProtection']);
  });
});

describe('Record failure names what a dead stack left behind', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/record-failure.js');
  const register = (await import('../../../lambdas/lifecycle/register-tenant.js')).handler;
  // The rollback deleted or skipped every resource: nothing in the stack carries a protection.
  beforeEach(() => void cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] }));
  const failure = { ...state(), kind: 'onboard' as const, error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: 'stack tessera-acme is ROLLBACK_COMPLETE: Vault CREATE_FAILED: denied' }) } };
  const event = (LogicalResourceId: string, ResourceType: string, ResourceStatus: string, PhysicalResourceId?: string, ResourceStatusReason?: string) =>
    ({ LogicalResourceId, ResourceType, ResourceStatus: ResourceStatus as ResourceStatus, PhysicalResourceId, ResourceStatusReason, StackId: 's', StackName: 'tessera-acme', EventId: LogicalResourceId + ResourceStatus, Timestamp: new Date() });

  // s39k: Record failure's DeleteStacks went by name: one that arrived after the next holder of the tenant had deleted the
  // dead stack and created it again deleted that new create.
  it('a late DeleteStack of a dead tenant stack created again since deletes nothing (by the StackId read)', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    const read = { StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1' };
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ ...read, StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    const { deleted } = deletesAfterRecreate(cfn, read);
    await handler(failure);
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual([read.StackId]);
    expect(deleted).toEqual([]);
  });

  it('a late DeleteStack of a dead namespace stack created again since deletes nothing (by the StackId read)', async () => {
    const NAMESPACE_ID = deadNamespaceStackInPlatformAccount();
    const { deleted } = deletesAfterRecreate(cfn, { StackName: 'tessera-acme-namespace', StackId: NAMESPACE_ID });
    await handler(failure);
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual([NAMESPACE_ID]);
    expect(deleted).toEqual([]);
  });

  it('records DELETE_SKIPPED and DELETE_FAILED resources (logical id, type, physical id) in the registry and the event', async () => {
    // GIVEN a rolled-back create whose events (newest first) show a skipped log group and a vault that could not be deleted
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      event('tessera-acme', 'AWS::CloudFormation::Stack', 'ROLLBACK_COMPLETE'),
      event('Logs', 'AWS::Logs::LogGroup', 'DELETE_SKIPPED', '/tessera/acme/app'),
      event('Vault', 'AWS::Backup::BackupVault', 'DELETE_FAILED', 'tessera-acme-vault', 'vault not empty'),
      event('Bucket', 'AWS::S3::Bucket', 'DELETE_COMPLETE', 'tessera-acme-bucket'),
      event('Vault', 'AWS::Backup::BackupVault', 'CREATE_FAILED', 'tessera-acme-vault', 'denied'),
      event('Logs', 'AWS::Logs::LogGroup', 'CREATE_COMPLETE', '/tessera/acme/app'),
    ] });
    // WHEN
    const out = await handler(failure);
    // THEN
    const leftBehind = [
      { stack: 'tessera-acme', logicalId: 'Logs', type: 'AWS::Logs::LogGroup', physicalId: '/tessera/acme/app', status: 'DELETE_SKIPPED' },
      { stack: 'tessera-acme', logicalId: 'Vault', type: 'AWS::Backup::BackupVault', physicalId: 'tessera-acme-vault', status: 'DELETE_FAILED', reason: 'vault not empty' },
    ];
    expect(cfn.commandCalls(DescribeStackEventsCommand)[0].args[0].input.StackName).toBe('arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1');
    expect(records.get('acme')?.failure).toMatchObject({ step: 'Check blueprint', leftBehind });
    expect(records.get('acme')?.failure?.reason).toBe('StackFailed: stack tessera-acme is ROLLBACK_COMPLETE: Vault CREATE_FAILED: denied; left behind: Logs (AWS::Logs::LogGroup) /tessera/acme/app DELETE_SKIPPED; Vault (AWS::Backup::BackupVault) tessera-acme-vault DELETE_FAILED: vault not empty');
    expect((out as { leftBehind?: unknown }).leftBehind).toEqual(leftBehind);
    const failed = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).find((e) => e.DetailType === 'Tenant Lifecycle Failed')!;
    const detail = JSON.parse(failed.Detail!);
    expect(detail.leftBehind).toEqual(leftBehind);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(1);
    expect(cfn.commandCalls(DeleteStackCommand)[0].args[0].input).toEqual({ StackName: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', RoleARN: EXECUTION_ROLE, ClientRequestToken: DELETE_TOKEN });
  });

  // The history entry kept the step's error alone: once a retry's Register tenant cleared `failure`, nothing said what the
  // failed attempt had left behind.
  it('keeps what the failure left behind in the attempt\'s history entry too, so it outlives the failure a retry clears', async () => {
    // GIVEN a rolled-back create whose events show a log group skipped at deletion
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      event('tessera-acme', 'AWS::CloudFormation::Stack', 'ROLLBACK_COMPLETE'),
      event('Logs', 'AWS::Logs::LogGroup', 'DELETE_SKIPPED', '/tessera/acme/app'),
      event('Logs', 'AWS::Logs::LogGroup', 'CREATE_COMPLETE', '/tessera/acme/app'),
    ] });
    // WHEN the failure is recorded, then a retry's Register tenant takes the tenant and clears it
    await handler(failure);
    const whole = 'StackFailed: stack tessera-acme is ROLLBACK_COMPLETE: Vault CREATE_FAILED: denied; left behind: Logs (AWS::Logs::LogGroup) /tessera/acme/app DELETE_SKIPPED';
    expect(records.get('acme')?.failure?.reason).toBe(whole);
    const retry = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:acme-retry';
    await register({ ...state(), executionArn: retry });
    // THEN the failed attempt's entry still says what failed and what it left behind
    const after = records.get('acme')!;
    expect(after.failure).toBeUndefined();
    expect(after.executions.find((e) => e.executionArn === EXECUTION_ARN)).toMatchObject({ status: 'FAILED', failedStep: 'Check blueprint', reason: whole });
    expect(after.lease?.executionArn).toBe(retry);
  });

  // The entry's clip named the length of catchReason's line (2,000, itself already clipped), not the error's.
  it('names the whole error\'s length in the history entry\'s clip when a long error and what was left behind share it', async () => {
    // GIVEN a rolled-back create whose error runs to 30,000 characters and whose events show a log group skipped at deletion
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      event('tessera-acme', 'AWS::CloudFormation::Stack', 'ROLLBACK_COMPLETE'),
      event('Logs', 'AWS::Logs::LogGroup', 'DELETE_SKIPPED', '/tessera/acme/app'),
      event('Logs', 'AWS::Logs::LogGroup', 'CREATE_COMPLETE', '/tessera/acme/app'),
    ] });
    const message = `stack tessera-acme is ROLLBACK_COMPLETE: ${'x'.repeat(30_000)}`;
    // WHEN the failure is recorded
    await handler({ ...failure, error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: message }) } });
    // THEN the entry keeps the start of the error, its whole length, and what was left behind
    const entry = records.get('acme')!.executions.find((e) => e.executionArn === EXECUTION_ARN)!;
    expect(entry.reason!.length).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(entry.reason).toMatch(new RegExp(`^StackFailed: stack tessera-acme is ROLLBACK_COMPLETE: x+ … \\(${'StackFailed: '.length + message.length} characters; the rest is in the execution's history\\); left behind: Logs \\(AWS::Logs::LogGroup\\) /tessera/acme/app DELETE_SKIPPED$`));
  });

  // Hundreds of left-behind resources (and their CloudFormation reasons) were written whole into `failure.leftBehind` and
  // `failure.reason`: the tenant item passed DynamoDB's 400 KB, the failure's UpdateItem was refused, and the registry kept
  // saying PROVISIONING (test/integration/failure-item-size.test.ts shows moto refusing it).
  it('keeps the first 25 left-behind resources (each reason clipped) and the count of the rest, in the registry, the event and the output, within the 400 KB item', async () => {
    // GIVEN a rolled-back create whose events show 600 log groups skipped at deletion, each with a 1,000-character reason
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound);
    const logs = Array.from({ length: 600 }, (_, i) => `Logs${String(i).padStart(3, '0')}`);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      event('tessera-acme', 'AWS::CloudFormation::Stack', 'ROLLBACK_COMPLETE'),
      ...logs.map((id) => event(id, 'AWS::Logs::LogGroup', 'DELETE_SKIPPED', `/tessera/acme/${id}/${'p'.repeat(200)}`, `retained: ${'r'.repeat(990)}`)),
    ] });
    // WHEN the failure is recorded
    const out = await handler(failure) as { leftBehind?: Array<{ logicalId: string; reason?: string }>; leftBehindOmitted?: number; reason: string };
    // THEN the registry keeps the first 25 resources, each reason clipped to 500 characters naming its length, and the count of the rest
    const record = records.get('acme')!;
    expect(record.status).toBe('FAILED');
    expect(record.failure!.leftBehind!.map((r) => r.logicalId)).toEqual(logs.slice(0, 25));
    expect(record.failure!.leftBehindOmitted).toBe(575);
    expect(record.failure!.leftBehind![0].reason).toMatch(/^retained: r+ … \(1000 characters; the rest is in the execution's history\)$/);
    expect(record.failure!.leftBehind![0].reason!.length).toBeLessThanOrEqual(500);
    // the reason as the history entry's: at most 2,000 characters, the error first, then what was left behind and how many more
    expect(record.failure!.reason.length).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(record.failure!.reason).toMatch(/^StackFailed: stack tessera-acme is ROLLBACK_COMPLETE: Vault CREATE_FAILED: denied; left behind: Logs000 \(AWS::Logs::LogGroup\)/);
    expect(record.executions.find((e) => e.executionArn === EXECUTION_ARN)!.reason).toBe(record.failure!.reason);
    // the event and the output carry the same 25 and the count; the output's reason names the 575 more
    const detail = JSON.parse(events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).find((e) => e.DetailType === 'Tenant Lifecycle Failed')!.Detail!);
    expect(detail.leftBehind).toEqual(record.failure!.leftBehind);
    expect(detail.leftBehindOmitted).toBe(575);
    expect(out.leftBehind).toEqual(record.failure!.leftBehind);
    expect(out.leftBehindOmitted).toBe(575);
    expect(out.reason).toContain('; and 575 more not listed here (600 in all: the stack\'s events name each)');
    // the item, marshalled as DynamoDB stores it (its JSON with type descriptors: more bytes than DynamoDB counts), under 400 KB
    expect(Buffer.byteLength(JSON.stringify(marshall(record, { removeUndefinedValues: true })))).toBeLessThan(400 * 1024);
  });

  // The namespace stack's termination protection was lifted before its deletion and recorded nowhere, while the
  // tenant and DR stacks' lifts are in the execution's history entry, failure.liftedProtections, the audit and the bus.
  it('records the lift of a dead namespace stack\'s termination protection in the history entry before DeleteStack, then in the failure, the audit and on the bus', async () => {
    const NAMESPACE_ID = deadNamespaceStackInPlatformAccount();
    const onRecord = () => records.get('acme')!.executions.find((e) => e.executionArn === EXECUTION_ARN)?.liftedProtections ?? [];
    let atDeletion: unknown[] = [];
    cfn.on(DeleteStackCommand, { StackName: NAMESPACE_ID }).callsFake(() => {
      atDeletion = onRecord().map((l) => `${l.logicalId} ${l.protection}`);
      return {};
    });
    const out = await handler(failure) as { cleanup: string[]; liftedProtections?: unknown };
    const lift = {
      logicalId: 'tessera-acme-namespace', type: 'AWS::CloudFormation::Stack', physicalId: NAMESPACE_ID, protection: 'TerminationProtection', at: expect.any(String),
      step: 'Record failure', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, intendedAt: expect.any(String),
      reason: 'dead namespace stack ROLLBACK_COMPLETE: lifted so that the stack can be deleted',
    };
    expect(out.cleanup).toContain('deleted ROLLBACK_COMPLETE stack tessera-acme-namespace');
    expect(cfn.commandCalls(DeleteStackCommand, { StackName: NAMESPACE_ID }).map((c) => c.args[0].input.ClientRequestToken)).toEqual([DELETE_TOKEN]);
    expect(atDeletion).toEqual(['tessera-acme-namespace TerminationProtection']);
    expect(onRecord()).toEqual([lift]);
    expect(records.get('acme')!.failure?.liftedProtections).toEqual([lift]);
    expect(out.liftedProtections).toEqual([lift]);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key!).filter((k) => k.includes('protection-lifted'))).toEqual([expect.stringMatching(/acme\/.*-protection-lifted-tessera-acme-namespace\.json$/)]);
    const detailTypes = events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.DetailType));
    expect(detailTypes.filter((t) => t === 'Tenant Protection Lifted')).toHaveLength(1);
  });

  // The audit record and the event of that lift named the tenant's account (333333333333, record.accountId), but
  // the namespace stack lives in the platform account (its StackId's account, 111111111111 here).
  it('records the platform account, the namespace stack\'s own, in the audit record and the event of its lift', async () => {
    const NAMESPACE_ID = deadNamespaceStackInPlatformAccount();
    await handler(failure);
    const audit = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input).find((i) => i.Key!.includes('protection-lifted'))!;
    expect(JSON.parse(audit.Body as string)).toMatchObject({ action: 'protection-lifted', stack: 'tessera-acme-namespace', physicalId: NAMESPACE_ID, accountId: '111111111111' });
    const lifted = events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!).find((e) => e.DetailType === 'Tenant Protection Lifted')!;
    expect(JSON.parse(lifted.Detail!)).toMatchObject({ tenantId: 'acme', stack: 'tessera-acme-namespace', accountId: '111111111111' });
  });

  it('records no leftBehind when the rollback removed everything (RetainExceptOnCreate)', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [event('Logs', 'AWS::Logs::LogGroup', 'DELETE_COMPLETE', '/tessera/acme/app')] });
    const out = await handler(failure);
    expect((out as { leftBehind?: unknown }).leftBehind).toBeUndefined();
    expect(records.get('acme')?.failure).not.toHaveProperty('leftBehind');
  });

  it('still deletes the stack and records the failure when the events cannot be read', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound);
    cfn.on(DescribeStackEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(handler(failure)).resolves.toMatchObject({ status: 'FAILED' });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
  });
});

/**
 * Tenant acme onboarding (leased) at Check namespace blueprint, its tenant stack absent and its namespace stack
 * ROLLBACK_COMPLETE with termination protection, in the platform account 111111111111; returns that stack's StackId.
 */
function deadNamespaceStackInPlatformAccount(): string {
  records.set('acme', leased('onboard', { currentStep: 'Check namespace blueprint' }));
  const stackId = 'arn:aws:cloudformation:us-east-1:111111111111:stack/tessera-acme-namespace/1';
  cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).rejects(notFound);
  cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).resolves({ Stacks: [{ StackName: 'tessera-acme-namespace', StackId: stackId, StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags() }] });
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
  return stackId;
}
