import { DeleteStackCommand, DescribeStacksCommand, UpdateTerminationProtectionCommand, type DescribeStacksCommandInput } from '@aws-sdk/client-cloudformation';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, type DescribeDBInstancesCommandInput } from '@aws-sdk/client-rds';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { restoredDatabaseStackName } from '../../../lib/cli/failover-restored-database.js';
import { drRestoredInstanceIdentifier } from '../../../lib/tenant-naming.js';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';
import { leased, state, tenant } from './support.js';
import { DR_STACK_ID, drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';
import { keptByFailoverStack } from './failover-kept.js';

/**
 * *Check rebuilt stack* (and *Delete tenant stacks*, which checks again) against a failover rebuild half done or half
 * removed (docs/resilience.md, runbook steps 5-8): stack `tessera-<id>` in the DR region gone (or never made), but stack
 * `tessera-<id>-restored` or the DB instance `tessera-<id>-restored` it keeps when deleted still there, with the tenant's
 * data. Each of them alone refuses the operation; none lets it go on; a look-up AWS refuses fails the step, nothing
 * changed, with a message naming the call, the resource and the role.
 */
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const controlTable = controlMock;
const mocks = drLifecycleMocks();
const { cfn, rds } = mocks;
const { handler: checkRebuilt } = await import('../../../lambdas/lifecycle/check-rebuilt-stack.js');
const { handler: deleteStacks } = await import('../../../lambdas/lifecycle/delete-tenant-stacks.js');

const RANGE = '10.80.16.0/20';
const DR = 'us-west-2';
const PRIMARY = 'tessera-acme';
const RESTORED_STACK = restoredDatabaseStackName('acme');
const RESTORED_INSTANCE = drRestoredInstanceIdentifier('acme');

/** Stacks by region and name, as DescribeStacks answers them in that region (absent: ValidationError "does not exist"). */
let stacks: Record<string, Record<string, string>>;
/** DB instances by region and identifier, as DescribeDBInstances answers them there (absent: DBInstanceNotFound). */
let instances: Record<string, Record<string, string>>;

type RegionClient = () => { config: { region: () => Promise<string> } };

/** The calls of the look-up in `region`: DescribeStacks by stack name, DescribeDBInstances by identifier. */
const lookedUpIn = async (region: string) => {
  const out: string[] = [];
  for (const c of cfn.commandCalls(DescribeStacksCommand)) if (await (c.thisValue as ReturnType<RegionClient>).config.region() === region) out.push(`stack ${c.args[0].input.StackName}`);
  for (const c of rds.commandCalls(DescribeDBInstancesCommand)) if (await (c.thisValue as ReturnType<RegionClient>).config.region() === region) out.push(`instance ${c.args[0].input.DBInstanceIdentifier}`);
  return out;
};

/** The DR tenant acme, ACTIVE on professional 1.0.0, its DR stack in us-west-2. */
const drTenant = () => tenant({
  tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', status: 'ACTIVE', vpcCidr: RANGE,
  disasterRecovery: { region: DR, stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z' },
});

const checkOffboarding = () => checkRebuilt({ ...state('acme'), kind: 'offboard' } as never, {} as never);
const checkChange = (input: Record<string, unknown> = { change: { tier: 'professional', blueprintVersion: '1.1.0' } }) => checkRebuilt({ ...state('acme'), kind: 'change', ...input } as never, {} as never);

/** AWS's answer to a call the role's policies do not allow (the query protocol's AccessDenied, 403). */
const accessDenied = (action: string, arn: string) => Object.assign(
  new Error(`User: arn:aws:sts::333333333333:assumed-role/TesseraProvisioning/tessera-acme-offboard is not authorized to perform: ${action} on resource: ${arn} because no identity-based policy allows the ${action} action`),
  { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
);

beforeEach(() => {
  resetDrLifecycle(mocks);
  for (const f of Object.values(controlTable)) if (vi.isMockFunction(f)) f.mockClear();
  // The failover runbook's rebuild removed in part: the primary stack deleted; each test puts back what is left.
  stacks = { 'us-east-1': {}, [DR]: { [PRIMARY]: 'DELETE_COMPLETE' } };
  instances = { 'us-east-1': {}, [DR]: {} };
  cfn.on(DescribeStacksCommand).callsFake(async (input: DescribeStacksCommandInput, getClient: RegionClient) => {
    const status = stacks[await getClient().config.region()]?.[input.StackName!];
    if (!status) throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
    return { Stacks: [{ StackName: input.StackName, StackId: `arn:aws:cloudformation:${DR}:333333333333:stack/${input.StackName}/1`, StackStatus: status, CreationTime: new Date() }] };
  });
  rds.on(DescribeDBInstancesCommand).callsFake(async (input: DescribeDBInstancesCommandInput, getClient: RegionClient) => {
    const status = instances[await getClient().config.region()]?.[input.DBInstanceIdentifier!];
    if (!status) throw new DBInstanceNotFoundFault({ message: `DBInstance ${input.DBInstanceIdentifier} not found.`, $metadata: { httpStatusCode: 404 } });
    return { DBInstances: [{ DBInstanceIdentifier: input.DBInstanceIdentifier, DBInstanceStatus: status, DeletionProtection: true }] };
  });
});

describe('Check rebuilt stack finds a half-done or half-removed DR rebuild, not only stack tessera-<id>', () => {
  const lead = 'tenant acme was partly rebuilt in its DR region by the failover runbook (its stack tessera-acme is not there, but what else the rebuild makes is, with the tenant\'s data): ';
  const offboardingRefusal = (found: string, removal: string) => `${lead}${found}. `
    + 'A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in us-west-2, not in this offboarding\'s export, and its roles are the home stack\'s): '
    + 'the offboarding was refused at its start, before anything changed (no key or user revoked, nothing exported, no protection lifted, no stack deleted); the tenant stays ACTIVE and its VPC range stays claimed. '
    + `Export its data from us-west-2, ${removal}, then offboard it again: tessera tenants delete acme --yes`;

  it('the restored stack alone: the offboarding is refused, naming the stack, its status, and the instance it keeps when deleted', async () => {
    records.set('acme', drTenant());
    stacks[DR]![RESTORED_STACK] = 'UPDATE_COMPLETE';
    await expect(checkOffboarding()).rejects.toMatchObject({
      name: 'TenantRebuiltInDrRegion',
      message: offboardingRefusal('stack tessera-acme-restored in us-west-2 is UPDATE_COMPLETE',
        `delete stack tessera-acme-restored in us-west-2 and then the database instance tessera-acme-restored, which the stack of that name keeps when deleted (DeletionPolicy Retain; turn its deletion protection off first): the offboarding deletes no instance in the DR region${keptByFailoverStack(false)}`),
    });
    expect(records.get('acme')).toEqual(drTenant());
  });

  it('the retained instance alone (both stacks deleted): the offboarding is refused, naming the instance and its status', async () => {
    records.set('acme', drTenant());
    stacks[DR]![RESTORED_STACK] = 'DELETE_COMPLETE';
    instances[DR]![RESTORED_INSTANCE] = 'available';
    await expect(checkOffboarding()).rejects.toMatchObject({
      name: 'TenantRebuiltInDrRegion',
      message: offboardingRefusal('DB instance tessera-acme-restored in us-west-2 is available',
        `delete the database instance tessera-acme-restored in us-west-2 (turn its deletion protection off first if it is on): the offboarding deletes no instance in the DR region${keptByFailoverStack(false)}`),
    });
    expect(records.get('acme')).toEqual(drTenant());
    expect(await lookedUpIn(DR)).toEqual([`stack ${PRIMARY}`, `stack ${RESTORED_STACK}`, `instance ${RESTORED_INSTANCE}`]);
  });

  it('the whole rebuild: all three are named, and the way on deletes them in order', async () => {
    records.set('acme', drTenant());
    stacks[DR]![PRIMARY] = 'UPDATE_COMPLETE';
    stacks[DR]![RESTORED_STACK] = 'UPDATE_COMPLETE';
    instances[DR]![RESTORED_INSTANCE] = 'available';
    await expect(checkOffboarding()).rejects.toMatchObject({
      name: 'TenantRebuiltInDrRegion',
      message: 'tenant acme was rebuilt in its DR region by the failover runbook: stack tessera-acme in us-west-2 is UPDATE_COMPLETE, stack tessera-acme-restored in us-west-2 is UPDATE_COMPLETE and DB instance tessera-acme-restored in us-west-2 is available. '
        + 'A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in us-west-2, not in this offboarding\'s export, and its roles are the home stack\'s): '
        + 'the offboarding was refused at its start, before anything changed (no key or user revoked, nothing exported, no protection lifted, no stack deleted); the tenant stays ACTIVE and its VPC range stays claimed. '
        + `Export its data from us-west-2, delete stacks tessera-acme-restored and tessera-acme in us-west-2 and then the database instance tessera-acme-restored, which the stack of that name keeps when deleted (DeletionPolicy Retain; turn its deletion protection off first): the offboarding deletes no instance in the DR region${keptByFailoverStack(true)}, then offboard it again: tessera tenants delete acme --yes`,
    });
  });

  it('none of the three (the stacks DELETE_COMPLETE, no instance): it looks for each in the DR region and passes', async () => {
    records.set('acme', drTenant());
    stacks[DR]![RESTORED_STACK] = 'DELETE_COMPLETE';
    await expect(checkOffboarding()).resolves.toEqual({ rebuilt: false });
    await expect(checkChange()).resolves.toEqual({ rebuilt: false });
    expect(await lookedUpIn(DR)).toEqual([`stack ${PRIMARY}`, `stack ${RESTORED_STACK}`, `stack ${PRIMARY}`, `stack ${RESTORED_STACK}`, `instance ${RESTORED_INSTANCE}`, `instance ${RESTORED_INSTANCE}`]);
    expect(await lookedUpIn('us-east-1')).toEqual([]);
    expect(records.get('acme')).toEqual(drTenant());
  });

  it('a change of a tenant whose retained instance is left is refused; a rolling upgrade skips it, with the same reason', async () => {
    records.set('acme', drTenant());
    instances[DR]![RESTORED_INSTANCE] = 'available';
    const reason = (what: string) => `${lead}DB instance tessera-acme-restored in us-west-2 is available. `
      + `The lifecycle does not manage what the failover runbook makes: ${what} would update the tenant's home stacks while its data is also in us-west-2, so it was refused and nothing was changed (the tenant stays on tier professional, version 1.0.0). `
      + `To go on: delete the database instance tessera-acme-restored in us-west-2 (turn its deletion protection off first if it is on): the offboarding deletes no instance in the DR region${keptByFailoverStack(false)}, then run it again`;
    await expect(checkChange()).rejects.toMatchObject({ name: 'TenantRebuiltInDrRegion', message: reason('this change (to tier professional, version 1.1.0)') });
    expect(records.get('acme')).toEqual(drTenant());
    const run = { kind: 'upgrade', change: { tier: 'professional', blueprintVersion: '1.1.0', listedVersion: '1.0.0', upgradeId: 'professional-1_1_0-1c2d3e4f', actor: 'admin:ops' } };
    await expect(checkChange(run)).resolves.toEqual({ skipped: true, tenantId: 'acme', reason: reason('the rolling upgrade of tier professional to version 1.1.0') });
    expect(records.get('acme')!.executions).toEqual([expect.objectContaining({ kind: 'upgrade', status: 'SKIPPED', reason: reason('the rolling upgrade of tier professional to version 1.1.0') })]);
  });

  it('Delete tenant stacks, checking again, refuses on the retained instance alone: no stack deleted, the range kept', async () => {
    records.set('acme', leased('offboard', { ...drTenant(), status: 'OFFBOARDING' }));
    instances[DR]![RESTORED_INSTANCE] = 'available';
    const thrown = await deleteStacks(state('acme') as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantRebuiltInDrRegion' });
    expect((thrown as Error).message).toBe(`${lead}DB instance tessera-acme-restored in us-west-2 is available. `
      + 'A rebuilt tenant is offboarded by hand (docs/resilience.md: its data since the failover is in us-west-2, not in this offboarding\'s export, and its roles are the home stack\'s): '
      + 'this step deletes none of the tenant\'s stacks while it exists; its VPC range 10.80.16.0/20 stays claimed and is not given back to the pool (the rebuilt VPC may use it while anything of the rebuild is left; '
      + 'a second VPC with it would break a later peering or Transit Gateway attachment, and rules by range would admit the wrong tenant). '
      + `Export its data from us-west-2, delete the database instance tessera-acme-restored in us-west-2 (turn its deletion protection off first if it is on): the offboarding deletes no instance in the DR region${keptByFailoverStack(false)}, then resume the offboarding: tessera tenants retry acme`);
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toEqual([]);
    expect(controlTable.releaseCidr).not.toHaveBeenCalled();
  });
});

describe('Check rebuilt stack fails closed when AWS refuses a look-up', () => {
  const role = 'the provisioning role TesseraProvisioning of account 333333333333';

  it('AccessDenied on DescribeDBInstances of the restored instance: the step fails, naming the call, the instance, the region, the role and the grant; nothing changed', async () => {
    records.set('acme', drTenant());
    const arn = `arn:aws:rds:${DR}:333333333333:db:${RESTORED_INSTANCE}`;
    rds.on(DescribeDBInstancesCommand).rejects(accessDenied('rds:DescribeDBInstances', arn));
    const thrown = await checkOffboarding().then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'AccessDenied' });
    expect((thrown as Error).message).toBe('could not look for tenant acme\'s rebuild in its DR region us-west-2, so the operation was refused before anything changed: '
      + `rds:DescribeDBInstances of DB instance tessera-acme-restored as ${role} failed (AccessDenied: ${accessDenied('rds:DescribeDBInstances', arn).message}). `
      + 'Without it the lifecycle cannot tell whether the failover runbook left the tenant\'s data in us-west-2; allow the role rds:DescribeDBInstances on DB instance tessera-acme-restored in us-west-2 '
      + '(in the shared workload account: deploy the workload provisioning template of this release, whose DisasterRecovery policy grants it), then run the operation again');
    expect(records.get('acme')).toEqual(drTenant());
    // a change fails the same way (a rolling upgrade's run too: no skip is recorded for a tenant not looked at)
    await expect(checkChange()).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('rds:DescribeDBInstances of DB instance tessera-acme-restored') });
    await expect(checkChange({ kind: 'upgrade', change: { tier: 'professional', blueprintVersion: '1.1.0', listedVersion: '1.0.0', upgradeId: 'professional-1_1_0-1c2d3e4f', actor: 'admin:ops' } }))
      .rejects.toMatchObject({ name: 'AccessDenied' });
    expect(records.get('acme')).toEqual(drTenant());
  });

  it('AccessDenied on DescribeStacks of the restored stack: the step fails, naming the stack', async () => {
    records.set('acme', drTenant());
    const arn = `arn:aws:cloudformation:${DR}:333333333333:stack/${RESTORED_STACK}/*`;
    cfn.on(DescribeStacksCommand, { StackName: RESTORED_STACK }).rejects(accessDenied('cloudformation:DescribeStacks', arn));
    await expect(checkOffboarding()).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringMatching(/^could not look for tenant acme's rebuild in its DR region us-west-2, so the operation was refused before anything changed: cloudformation:DescribeStacks of stack tessera-acme-restored as the provisioning role TesseraProvisioning of account 333333333333 failed \(AccessDenied: .*\)\. .*allow the role cloudformation:DescribeStacks on stack tessera-acme-restored in us-west-2/),
    });
    expect(records.get('acme')).toEqual(drTenant());
  });

  it('throttling keeps its name (the workflows retry it), with the same account of what was read', async () => {
    records.set('acme', drTenant());
    rds.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await expect(checkOffboarding()).rejects.toMatchObject({
      name: 'Throttling',
      message: expect.stringMatching(/rds:DescribeDBInstances of DB instance tessera-acme-restored as the provisioning role TesseraProvisioning of account 333333333333 failed \(Throttling: Rate exceeded\)\. .*; run the operation again once the cause is removed$/),
    });
  });
});
