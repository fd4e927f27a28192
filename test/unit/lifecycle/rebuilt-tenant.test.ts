import { DeleteStackCommand, DescribeStacksCommand, UpdateTerminationProtectionCommand, type DescribeStacksCommandInput } from '@aws-sdk/client-cloudformation';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';
import { EXECUTION_ARN, lease, leased, ownedTags, state, tenant } from './support.js';
import { DR_STACK_ID, drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';
import { keptByFailoverStack } from './failover-kept.js';
import { configWith } from '../../support/config-with.js';
import { ENV } from '../../../lambdas/shared/environment.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const controlTable = controlMock;
const mocks = drLifecycleMocks();
const { cfn } = mocks;
const { handler: deleteStacks } = await import('../../../lambdas/lifecycle/delete-tenant-stacks.js');
const { releaseTenantNetwork } = await import('../../../lambdas/lifecycle/release-network.js');
const { handler: beginOffboarding } = await import('../../../lambdas/lifecycle/begin-offboarding.js');
const { handler: beginChange } = await import('../../../lambdas/lifecycle/begin-change.js');
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');
const { handler: checkRebuilt } = await import('../../../lambdas/lifecycle/check-rebuilt-stack.js');

const RANGE = '10.80.16.0/20';
const REBUILT_ID = 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme/rebuilt';

/** The DescribeStacks calls in `region` (the client's), by stack name. */
const describedIn = async (region: string) => {
  const out: string[] = [];
  for (const c of cfn.commandCalls(DescribeStacksCommand)) if (await (c.thisValue as { config: { region: () => Promise<string> } }).config.region() === region) out.push(c.args[0].input.StackName!);
  return out;
};

/** The DR tenant acme as its record stands before an operation: ACTIVE on professional 1.0.0, its DR stack in us-west-2. */
const drTenant = (extra: Parameters<typeof tenant>[0] = {}) => tenant({
  tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', status: 'ACTIVE', vpcCidr: RANGE,
  disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z' },
  ...extra,
});

/** The Catch's input to Record failure for `error` thrown at `failedStep`. */
const caught = (kind: 'offboard' | 'change', failedStep: string, error: Error) => ({
  ...state('acme'), kind, failedStep, error: { Error: error.name, Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message }) },
});

/** Stacks by region and name, as DescribeStacks answers them in that region (absent: ValidationError "does not exist"). */
let stacks: Record<string, Record<string, string>>;

/** acme offboarding on the DR tier, its DR stack in us-west-2 recorded, its range `RANGE`. */
const offboarding = (dr: 'ACTIVE' | 'REMOVED' = 'ACTIVE') => leased('offboard', {
  tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', status: 'OFFBOARDING', vpcCidr: RANGE,
  disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: dr, updatedAt: '2026-12-02T00:00:00.000Z' },
});

/** The rebuilt stack's outputs, as DescribeStacks answers them (none unless a test sets them). */
let rebuiltOutputs: Array<{ OutputKey: string; OutputValue: string }> | undefined;

beforeEach(() => {
  resetDrLifecycle(mocks);
  for (const f of Object.values(controlTable)) if (vi.isMockFunction(f)) f.mockClear();
  rebuiltOutputs = undefined;
  // The rebuilt stack: the failover blueprint as tessera-acme in the DR region (runbook step 5), with the tenant's VpcCidr.
  stacks = { 'us-east-1': {}, 'us-west-2': { 'tessera-acme': 'UPDATE_COMPLETE' } };
  cfn.on(DescribeStacksCommand).callsFake(async (input: DescribeStacksCommandInput, getClient: () => { config: { region: () => Promise<string> } }) => {
    const region = await getClient().config.region();
    const status = stacks[region]?.[input.StackName!];
    if (!status) throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
    return { Stacks: [{
      StackName: input.StackName, StackId: REBUILT_ID, StackStatus: status, CreationTime: new Date(),
      Parameters: [{ ParameterKey: 'TenantId', ParameterValue: 'acme' }, { ParameterKey: 'VpcCidr', ParameterValue: RANGE }],
      // The lifecycle's own stacks carry its tags (stack-ownership.ts); the runbook deploys the rebuilt one by hand, untagged.
      ...(region === 'us-east-1' ? { Tags: ownedTags() } : {}),
      ...(region === 'us-west-2' && rebuiltOutputs ? { Outputs: rebuiltOutputs } : {}),
    }] };
  });
});

describe('a tenant rebuilt in its DR region by the failover runbook (stack tessera-<id> there)', () => {
  it('Delete tenant stacks refuses before deleting any stack: TenantRebuiltInDrRegion names the stack, its region, the range kept and the way on', async () => {
    records.set('acme', offboarding());
    // The home region is back: its tenant stack is there too (the refusal comes before it is touched).
    stacks['us-east-1']!['tessera-acme'] = 'UPDATE_COMPLETE';
    const thrown = await deleteStacks(state('acme') as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantRebuiltInDrRegion' });
    expect((thrown as Error).message).toBe(
      'tenant acme was rebuilt in its DR region by the failover runbook: stack tessera-acme in us-west-2 is UPDATE_COMPLETE. '
      + 'A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in us-west-2, not in this offboarding\'s export, and its roles are the home stack\'s): '
      + 'this step deletes none of the tenant\'s stacks while it exists; its VPC range 10.80.16.0/20 stays claimed and is not given back to the pool (the rebuilt VPC uses 10.80.16.0/20; '
      + 'a second VPC with it would break a later peering or Transit Gateway attachment, and rules by range would admit the wrong tenant). '
      + `Export its data from us-west-2, delete stack tessera-acme in us-west-2${keptByFailoverStack(true)}, then resume the offboarding: tessera tenants retry acme`,
    );
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toEqual([]);
    expect(controlTable.releaseCidr).not.toHaveBeenCalled();
    expect(controlTable.listReleasedCidr).not.toHaveBeenCalled();
    expect(records.get('acme')).toMatchObject({ vpcCidr: RANGE, disasterRecovery: { status: 'ACTIVE' } });
    expect(records.get('acme')!.offboarding?.network).toBeUndefined();
  });

  it('names what the rebuilt stack keeps when deleted, the tenant bucket and the key by the names its outputs give, so following the way on leaves no tenant data in the DR region', async () => {
    // GIVEN the rebuilt stack's outputs name its bucket and key (the failover blueprint's BucketName and KeyArn)
    records.set('acme', offboarding());
    const bucketName = 'tessera-acme-storagebucket5cb7c8ea-1x2y3z4w5v6u';
    const keyArn = 'arn:aws:kms:us-west-2:333333333333:key/8f0c2d3e-1111-4222-8333-944455556666';
    rebuiltOutputs = [{ OutputKey: 'BucketName', OutputValue: bucketName }, { OutputKey: 'KeyArn', OutputValue: keyArn }, { OutputKey: 'Tier', OutputValue: 'professional' }];
    // WHEN Delete tenant stacks checks again
    const thrown = await deleteStacks(state('acme') as never, {} as never).then(() => undefined, (e: Error) => e);
    // THEN the way on deletes the stack and then each resource its failover blueprint retains, by name (was: the stack alone,
    // which left the tenant bucket with the data written since the failover, the vector bucket, the vault, the log groups,
    // the final snapshots and the key in us-west-2 for good)
    expect(thrown).toMatchObject({ name: 'TenantRebuiltInDrRegion' });
    expect((thrown as Error).message).toContain(`delete stack tessera-acme in us-west-2${keptByFailoverStack(true, { bucketName, keyArn })}, then resume the offboarding: tessera tenants retry acme`);
    for (const name of [bucketName, keyArn, 'tessera-acme-vectors', 'tessera-acme-database', '/tessera/acme/vpc-flow-logs', '/aws/rds/instance/tessera-acme/postgresql', 'tessera-acme-dlq-training-events']) {
      expect((thrown as Error).message).toContain(name);
    }
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
  });

  it('the release itself refuses while the rebuilt stack exists (home stacks gone, DR stack REMOVED): no claim deleted, nothing listed, nothing recorded', async () => {
    records.set('acme', offboarding('REMOVED'));
    controlTable.cidrClaimsOf.mockResolvedValueOnce([RANGE]);
    const thrown = await releaseTenantNetwork(records.get('acme')!, state('acme').executionArn).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantRebuiltInDrRegion', message: expect.stringContaining('the tenant\'s range was not released; its VPC range 10.80.16.0/20 stays claimed') });
    expect(controlTable.releaseCidr).not.toHaveBeenCalled();
    expect(controlTable.listReleasedCidr).not.toHaveBeenCalled();
    expect(records.get('acme')!.vpcCidr).toBe(RANGE);
    expect(records.get('acme')!.offboarding?.network).toBeUndefined();
  });

  it('once an operator removed the rebuilt stack (DELETE_COMPLETE), the resumed offboarding deletes what is left and gives the range back', async () => {
    records.set('acme', offboarding());
    await expect(deleteStacks(state('acme') as never, {} as never)).rejects.toMatchObject({ name: 'TenantRebuiltInDrRegion' });
    stacks['us-west-2']!['tessera-acme'] = 'DELETE_COMPLETE';
    await expect(deleteStacks(state('acme') as never, {} as never)).resolves.toEqual({ state: 'COMPLETE' });
    expect(controlTable.releaseCidr).toHaveBeenCalledWith(RANGE, 'acme');
    expect(controlTable.listReleasedCidr).toHaveBeenCalledWith('professional', RANGE);
    expect(records.get('acme')!.offboarding?.network).toMatchObject({ vpcCidr: RANGE });
    expect(records.get('acme')!.vpcCidr).toBeUndefined();
  });
});

/** The offboarding's *Check rebuilt stack* Task, as the workflow passes it (the state with `kind`). */
const checkOffboarding = () => checkRebuilt({ ...state('acme'), kind: 'offboard' } as never, {} as never);

describe('Check rebuilt stack, before Begin offboarding, refuses a rebuilt tenant before anything of the offboarding is done', () => {
  const refusal = (status: string, again: string) => 'tenant acme was rebuilt in its DR region by the failover runbook: stack tessera-acme in us-west-2 is UPDATE_COMPLETE. '
    + 'A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in us-west-2, not in this offboarding\'s export, and its roles are the home stack\'s): '
    + `the offboarding was refused at its start, before anything changed (no key or user revoked, nothing exported, no protection lifted, no stack deleted); the tenant stays ${status} and its VPC range stays claimed. `
    + `Export its data from us-west-2, delete stack tessera-acme in us-west-2${keptByFailoverStack(true)}, then ${again}`;

  it('under the admin API\'s lease: TenantRebuiltInDrRegion, and Record failure gives the tenant back ACTIVE with the refusal recorded, no stack touched', async () => {
    // The admin API took the lease for the execution (ACTIVE -> OFFBOARDING); the home stack failed a deletion made outside Tessera.
    const before = drTenant({ status: 'OFFBOARDING', lease: lease('offboard'), executions: [{ kind: 'offboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: '2026-11-23T00:00:00.000Z', status: 'RUNNING' }] });
    records.set('acme', before);
    stacks['us-east-1']!['tessera-acme'] = 'DELETE_FAILED';
    const thrown = await checkOffboarding().then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantRebuiltInDrRegion', message: refusal('ACTIVE', 'offboard it again: tessera tenants delete acme --yes') });
    expect(records.get('acme')).toEqual(before);
    expect(await describedIn('us-west-2')).toEqual(['tessera-acme', 'tessera-acme-restored']);
    // WHEN the workflow's Catch runs Record failure
    const out = await recordFailure(caught('offboard', 'Check rebuilt stack', thrown!) as never, {} as never);
    // THEN the tenant is ACTIVE again (served), the refusal recorded; no stack deleted and no protection lifted
    expect(out).toMatchObject({ status: 'ACTIVE', step: 'Check rebuilt stack', reason: expect.stringContaining('TenantRebuiltInDrRegion') });
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', vpcCidr: RANGE, failure: { step: 'Check rebuilt stack', kind: 'offboard', reason: expect.stringContaining('stack tessera-acme in us-west-2 is UPDATE_COMPLETE') } });
    expect(after.lease).toBeUndefined();
    expect(after.executions.at(-1)).toMatchObject({ kind: 'offboard', executionArn: EXECUTION_ARN, status: 'FAILED', failedStep: 'Check rebuilt stack' });
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toEqual([]);
    expect(mocks.bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType)).toEqual(['Tenant Lifecycle Failed']);
  });

  it('a start from elsewhere (no lease yet): refused before Begin offboarding takes the lease, the record untouched', async () => {
    const before = drTenant();
    records.set('acme', before);
    await expect(checkOffboarding()).rejects.toMatchObject({ name: 'TenantRebuiltInDrRegion', message: refusal('ACTIVE', 'offboard it again: tessera tenants delete acme --yes') });
    expect(records.get('acme')).toEqual(before);
  });

  it('an offboarding resumed after an earlier one failed stays OFFBOARDING, and the way on is a retry', async () => {
    records.set('acme', offboarding());
    records.set('acme', { ...records.get('acme')!, lease: lease('offboard', EXECUTION_ARN, { previousStatus: 'OFFBOARDING' }) });
    const thrown = await checkOffboarding().then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantRebuiltInDrRegion', message: refusal('OFFBOARDING', 'resume the offboarding: tessera tenants retry acme') });
    await recordFailure(caught('offboard', 'Check rebuilt stack', thrown!) as never, {} as never);
    expect(records.get('acme')).toMatchObject({ status: 'OFFBOARDING', failure: { step: 'Check rebuilt stack' } });
  });

  it('once the rebuilt stack is gone (DELETE_COMPLETE), it looks in the DR region and passes; Begin offboarding then takes the lease', async () => {
    records.set('acme', drTenant());
    stacks['us-west-2']!['tessera-acme'] = 'DELETE_COMPLETE';
    await expect(checkOffboarding()).resolves.toEqual({ rebuilt: false });
    expect(await describedIn('us-west-2')).toEqual(['tessera-acme', 'tessera-acme-restored']);
    expect(records.get('acme')).toEqual(drTenant());
    await expect(beginOffboarding(state('acme') as never, {} as never)).resolves.toMatchObject({ previousStatus: 'ACTIVE' });
    expect(records.get('acme')).toMatchObject({ status: 'OFFBOARDING', lease: { kind: 'offboard', executionArn: EXECUTION_ARN } });
  });

  it('a Task payload without a kind of the three is refused with InvalidRequest naming it, before the registry is read', async () => {
    records.set('acme', drTenant());
    await expect(checkRebuilt({ ...state('acme'), kind: 'delete' } as never, {} as never)).rejects.toMatchObject({ name: 'InvalidRequest', message: 'kind = "delete": must be "offboard", "change" or "upgrade"' });
    expect(cfn.commandCalls(DescribeStacksCommand)).toEqual([]);
  });
});

// The lease-taking steps may not reach the tenant accounts (test/isolation/lifecycle-role-grants.test.ts): they no longer look.
// Hostile pass (session 48): a DR region taken out of allowedRegions since the tenant's DR stack was made there (the tier's
// DR region moved, or set to none). The guardrail SCP DenyOutsideAllowedRegions denies every call there: the look-up's
// AccessDenied said to grant the provisioning role DescribeStacks, which no IAM grant can fix (an SCP's deny wins).
describe('Check rebuilt stack, for a DR region no longer in allowedRegions', () => {
  it('refuses before any call, DrRegionNotAllowed naming the region, allowedRegions and the way on; Record failure gives the tenant back its status', async () => {
    process.env[ENV.config] = JSON.stringify(configWith({ allowedRegions: ['us-east-1'] } as never));
    const before = drTenant({ status: 'OFFBOARDING', lease: lease('offboard'), executions: [{ kind: 'offboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: '2026-11-23T00:00:00.000Z', status: 'RUNNING' }] });
    records.set('acme', before);
    const thrown = await checkOffboarding().then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'DrRegionNotAllowed', message: expect.stringContaining("tenant acme's DR region us-west-2 (disasterRecovery.region, its DR stack tessera-acme-dr ACTIVE) is not in allowedRegions (us-east-1): the guardrail SCP DenyOutsideAllowedRegions denies every call there") });
    expect(thrown!.message).toContain("Add us-west-2 to allowedRegions and deploy it (TesseraOrganization's guardrail SCP, and TesseraPlatform), run the operation again");
    expect(mocks.sts.commandCalls(AssumeRoleCommand)).toEqual([]);
    expect(cfn.commandCalls(DescribeStacksCommand)).toEqual([]);
    expect(records.get('acme')).toEqual(before);
    await recordFailure(caught('offboard', 'Check rebuilt stack', thrown!) as never, {} as never);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', failure: { step: 'Check rebuilt stack', reason: expect.stringContaining('DrRegionNotAllowed') } });
  });
});

describe('Check rebuilt stack, for an opt-in DR region no longer in allowedRegions', () => {
  it('refuses it too (a failure there let the offboarding go on, for Enable regions to fix; no enabling lifts the SCP), the tenant untouched', async () => {
    process.env[ENV.config] = JSON.stringify(configWith({ allowedRegions: ['us-east-1'] } as never));
    const before = drTenant({ isolation: 'account', disasterRecovery: { region: 'af-south-1', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'RETAINED', updatedAt: '2026-12-02T00:00:00.000Z' } });
    records.set('acme', before);
    await expect(checkOffboarding()).rejects.toMatchObject({ name: 'DrRegionNotAllowed', message: expect.stringContaining("tenant acme's DR region af-south-1") });
    expect(mocks.sts.commandCalls(AssumeRoleCommand)).toEqual([]);
    expect(records.get('acme')).toEqual(before);
  });
});

describe('Begin offboarding and Begin change, lease-taking steps, do not read the tenant\'s account', () => {
  beforeEach(() => {
    mocks.s3.on(HeadObjectCommand).resolves({});
  });

  it('Begin offboarding takes the lease of a rebuilt tenant without an AssumeRole or a DescribeStacks (Check rebuilt stack refused it before)', async () => {
    records.set('acme', drTenant());
    await expect(beginOffboarding(state('acme') as never, {} as never)).resolves.toMatchObject({ previousStatus: 'ACTIVE' });
    expect(mocks.sts.commandCalls(AssumeRoleCommand)).toEqual([]);
    expect(cfn.commandCalls(DescribeStacksCommand)).toEqual([]);
  });

  it('Begin change likewise', async () => {
    records.set('acme', drTenant());
    await expect(beginChange({ ...state('acme'), change: { tier: 'professional', blueprintVersion: '1.1.0' } } as never, {} as never)).resolves.toMatchObject({ tier: 'professional', blueprintVersion: '1.1.0' });
    expect(mocks.sts.commandCalls(AssumeRoleCommand)).toEqual([]);
    expect(cfn.commandCalls(DescribeStacksCommand)).toEqual([]);
  });
});

describe('Check rebuilt stack, before Begin change, refuses a change of a rebuilt tenant, and a rolling upgrade skips it', () => {
  const refusal = (what: string) => 'tenant acme was rebuilt in its DR region by the failover runbook: stack tessera-acme in us-west-2 is UPDATE_COMPLETE, and the tenant runs from it. '
    + `The lifecycle does not manage the rebuilt stack: ${what} would update the tenant's home stacks (whose roles the rebuilt stack imports), not the stack it runs from, so it was refused and nothing was changed (the tenant stays on tier professional, version 1.0.0). `
    + `Updates of a rebuilt tenant are by hand until the home region is back (docs/resilience.md); once the tenant runs from its home region again, delete stack tessera-acme in us-west-2${keptByFailoverStack(true)}, then run it again`;
  /** The change's *Check rebuilt stack* Task, as the workflow passes it. */
  const check = (input: Record<string, unknown>) => checkRebuilt({ ...state('acme'), kind: 'change', ...input } as never, {} as never);

  beforeEach(() => {
    // The target tier is published at the version (Begin change's HeadObject of the catalog).
    mocks.s3.on(HeadObjectCommand).resolves({});
  });

  it('a repair under the admin API\'s lease: TenantRebuiltInDrRegion before anything is deployed; Record failure leaves it ACTIVE', async () => {
    const before = leased('change', { tier: 'professional', blueprintVersion: '1.0.0', vpcCidr: RANGE, disasterRecovery: drTenant().disasterRecovery });
    records.set('acme', before);
    const thrown = await check({ change: { blueprintVersion: '1.0.0', repair: true } }).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantRebuiltInDrRegion', message: refusal('this repair') });
    expect(records.get('acme')).toEqual(before);
    const out = await recordFailure(caught('change', 'Check rebuilt stack', thrown!) as never, {} as never);
    expect(out).toMatchObject({ status: 'ACTIVE', step: 'Check rebuilt stack' });
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', failure: { step: 'Check rebuilt stack', reason: expect.stringContaining('TenantRebuiltInDrRegion: tenant acme was rebuilt') } });
    expect(records.get('acme')!.lease).toBeUndefined();
  });

  it('a change started from elsewhere names the tier and version it asked for; nothing written', async () => {
    const before = drTenant();
    records.set('acme', before);
    await expect(check({ change: { tier: 'professional', blueprintVersion: '1.1.0' } }))
      .rejects.toMatchObject({ name: 'TenantRebuiltInDrRegion', message: refusal('this change (to tier professional, version 1.1.0)') });
    expect(records.get('acme')).toEqual(before);
  });

  it('a rolling upgrade\'s run skips the tenant: no lease, its history entry SKIPPED with the reason, still on its version', async () => {
    records.set('acme', drTenant());
    const run = { kind: 'upgrade', change: { tier: 'professional', blueprintVersion: '1.1.0', listedVersion: '1.0.0', upgradeId: 'professional-1_1_0-1c2d3e4f', actor: 'admin:ops' } };
    const reason = refusal('the rolling upgrade of tier professional to version 1.1.0');
    await expect(check(run)).resolves.toEqual({ skipped: true, tenantId: 'acme', reason });
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0' });
    expect(after.lease).toBeUndefined();
    expect(after.executions).toEqual([expect.objectContaining({ kind: 'upgrade', executionArn: EXECUTION_ARN, status: 'SKIPPED', reason, upgradeId: 'professional-1_1_0-1c2d3e4f', actor: 'admin:ops' })]);
  });

  it('without a rebuilt stack (DELETE_COMPLETE) it passes, and Begin change takes the lease and goes on', async () => {
    records.set('acme', drTenant());
    stacks['us-west-2']!['tessera-acme'] = 'DELETE_COMPLETE';
    const change = { tier: 'professional', blueprintVersion: '1.1.0' };
    await expect(check({ change })).resolves.toEqual({ rebuilt: false });
    expect(await describedIn('us-west-2')).toEqual(['tessera-acme', 'tessera-acme-restored']);
    await expect(beginChange({ ...state('acme'), change } as never, {} as never)).resolves.toMatchObject({ tier: 'professional', blueprintVersion: '1.1.0' });
    expect(records.get('acme')).toMatchObject({ status: 'UPDATING', lease: { kind: 'change', executionArn: EXECUTION_ARN } });
  });
});
