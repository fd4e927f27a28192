import { DeleteStackCommand, DescribeStacksCommand, UpdateTerminationProtectionCommand, type DescribeStacksCommandInput } from '@aws-sdk/client-cloudformation';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { records, registryMock } from './registry-mock.js';
import { leased, ownedTags, state } from './support.js';
import { DR_STACK_ID, drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const controlTable = vi.hoisted(() => ({
  releaseSlot: vi.fn(async () => undefined),
  cidrClaimsOf: vi.fn(async (): Promise<string[]> => []),
  releaseCidr: vi.fn(async () => undefined),
  listReleasedCidr: vi.fn(async () => undefined),
}));
vi.mock('../../../lambdas/shared/control-table.js', () => controlTable);
const mocks = drLifecycleMocks();
const { cfn } = mocks;
const { handler: deleteStacks } = await import('../../../lambdas/lifecycle/delete-tenant-stacks.js');
const { releaseTenantNetwork } = await import('../../../lambdas/lifecycle/release-network.js');

const RANGE = '10.80.16.0/20';
const REBUILT_ID = 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme/rebuilt';

/** Stacks by region and name, as DescribeStacks answers them in that region (absent: ValidationError "does not exist"). */
let stacks: Record<string, Record<string, string>>;

/** acme offboarding on the DR tier, its DR stack in us-west-2 recorded, its range `RANGE`. */
const offboarding = (dr: 'ACTIVE' | 'REMOVED' = 'ACTIVE') => leased('offboard', {
  tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', status: 'OFFBOARDING', vpcCidr: RANGE,
  disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: dr, updatedAt: '2026-12-02T00:00:00.000Z' },
});

beforeEach(() => {
  resetDrLifecycle(mocks);
  for (const f of Object.values(controlTable)) f.mockClear();
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
      + 'Export its data from us-west-2, delete stacks tessera-acme-restored and tessera-acme in us-west-2, then resume the offboarding: tessera tenants retry acme',
    );
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toEqual([]);
    expect(controlTable.releaseCidr).not.toHaveBeenCalled();
    expect(controlTable.listReleasedCidr).not.toHaveBeenCalled();
    expect(records.get('acme')).toMatchObject({ vpcCidr: RANGE, disasterRecovery: { status: 'ACTIVE' } });
    expect(records.get('acme')!.offboarding?.network).toBeUndefined();
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
