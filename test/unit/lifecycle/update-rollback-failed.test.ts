import { CreateChangeSetCommand, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { records, registryMock } from './registry-mock.js';
import { leased, ownedTags, state, useConfig } from './support.js';
import { configWith } from '../../support/config-with.js';
import { DR_STACK_ID, drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({
  releaseSlot: vi.fn(async () => undefined),
  // Delete tenant stacks gives the tenant's range back once its stacks are gone (release-network.ts)
  cidrClaimsOf: vi.fn(async () => []), releaseCidr: vi.fn(async () => undefined), listReleasedCidr: vi.fn(async () => undefined),
}));
const mocks = drLifecycleMocks();
const { cfn } = mocks;
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');
const { handler: deploy } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');
const { handler: deleteStacks } = await import('../../../lambdas/lifecycle/delete-tenant-stacks.js');

beforeEach(() => {
  resetDrLifecycle(mocks);
  cfn.on(CreateChangeSetCommand).rejects(Object.assign(new Error(`Stack:${DR_STACK_ID} is in UPDATE_ROLLBACK_FAILED state and can not be updated.`), { name: 'ValidationError' }));
});

const drStack = (status: string, extra: Record<string, unknown> = {}) => cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{
  StackName: 'tessera-acme-dr', StackId: DR_STACK_ID, StackStatus: status as never, StackStatusReason: 'The following resource(s) failed to update: [ReplicaBucket]. ',
  CreationTime: new Date(), EnableTerminationProtection: true, Tags: [...ownedTags(), { Key: 'tessera:tier', Value: 'professional' }, { Key: 'tessera:blueprint-version', Value: '1.0.0' }], ...extra,
}] });

const FAILED_EVENTS = { StackEvents: [
  { StackId: DR_STACK_ID, StackName: 'tessera-acme-dr', EventId: '3', LogicalResourceId: 'tessera-acme-dr', ResourceStatus: 'UPDATE_ROLLBACK_FAILED' as const, Timestamp: new Date(3000) },
  { StackId: DR_STACK_ID, StackName: 'tessera-acme-dr', EventId: '2', LogicalResourceId: 'ReplicaKey', ResourceStatus: 'UPDATE_FAILED' as const, ResourceStatusReason: 'Key is pending deletion', Timestamp: new Date(2000) },
  { StackId: DR_STACK_ID, StackName: 'tessera-acme-dr', EventId: '1', LogicalResourceId: 'ReplicaBucket', ResourceStatus: 'UPDATE_FAILED' as const, ResourceStatusReason: 'Bucket policy refused', Timestamp: new Date(1000) },
] };

/**
 * s22life: a tier change or upgrade whose DR stack update failed and whose rollback failed too (UPDATE_ROLLBACK_FAILED).
 * Before: Record failure left the DR record DEPLOYING (nothing deploys it) with `deployedWith` naming the version the
 * stack never reached, the reason saying only the status; the next change went into a change set CloudFormation refuses
 * ("is in UPDATE_ROLLBACK_FAILED state and can not be updated"), naming neither the cause nor the way out.
 */
describe('a DR stack left UPDATE_ROLLBACK_FAILED by a change', () => {
  const fail = async (tier: string) => {
    records.set('acme', leased('upgrade', {
      tier, blueprintVersion: '1.0.0', accountId: '333333333333',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: state('acme').executionArn } },
    }));
    drStack('UPDATE_ROLLBACK_FAILED');
    cfn.on(DescribeStackEventsCommand).resolves(FAILED_EVENTS);
    const st = state('acme');
    return recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'upgrade', error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: 'stack tessera-acme-dr in us-west-2 is UPDATE_ROLLBACK_FAILED' }) }, failedStep: 'Check DR blueprint' } as never, {} as never) as Promise<{ reason: string }>;
  };

  it('Record failure: ACTIVE on a tier with DR there, updateRollbackFailed with what was attempted and why, no deployedWith; the reason names the stack, its region and the way out; nothing deleted', async () => {
    const out = await fail('professional');
    const dr = records.get('acme')!.disasterRecovery!;
    expect(dr.status).toBe('ACTIVE');
    expect(dr.deployedWith).toBeUndefined();
    expect(dr.updateRollbackFailed).toEqual({ at: expect.any(String), reason: 'ReplicaBucket UPDATE_FAILED: Bucket policy refused', attempted: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: state('acme').executionArn } });
    expect(out.reason).toContain('DR stack tessera-acme-dr (us-west-2) is UPDATE_ROLLBACK_FAILED (the update to tier professional, version 2.0.0): ReplicaBucket UPDATE_FAILED: Bucket policy refused');
    expect(out.reason).toContain('aws cloudformation continue-update-rollback --stack-name tessera-acme-dr --region us-west-2');
    expect(records.get('acme')!.failure!.reason).toBe(out.reason);
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toEqual([]);
  });

  it('Record failure: ACTIVE on a tier with DR whose region the config has moved since the stack was deployed (was: RETAINED, as if the primary no longer replicated into it)', async () => {
    useConfig(configWith({ allowedRegions: ['us-east-1', 'us-west-2', 'eu-west-1'], tiers: { professional: { disasterRecovery: { region: 'eu-west-1', rpoHours: 1, rtoHours: 4 } } } } as never));
    await fail('professional');
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ region: 'us-west-2', status: 'ACTIVE', updateRollbackFailed: expect.objectContaining({ reason: 'ReplicaBucket UPDATE_FAILED: Bucket policy refused' }) });
  });

  it('Record failure: RETAINED for a tenant on a tier without DR (a failed move to a DR tier)', async () => {
    await fail('starter');
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'RETAINED', updateRollbackFailed: expect.objectContaining({ attempted: expect.objectContaining({ blueprintVersion: '2.0.0' }) }) });
  });

  it('Deploy DR blueprint: the next change is refused before any change set, naming the stack, its region, the resource that failed and the way out', async () => {
    records.set('acme', leased('change', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z' } }));
    drStack('UPDATE_ROLLBACK_FAILED');
    cfn.on(DescribeStackEventsCommand).resolves(FAILED_EVENTS);
    const thrown = await deploy({ ...state('acme'), blueprint: 'dr', change: { tier: 'professional', previousTier: 'professional', blueprintVersion: '2.0.0', drRegion: 'us-west-2' } } as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'StackFailed', message: expect.stringContaining('stack tessera-acme-dr in us-west-2 is UPDATE_ROLLBACK_FAILED (an earlier update failed, then its rollback): ReplicaKey UPDATE_FAILED: Key is pending deletion') });
    expect((thrown as Error).message).toContain('continue-update-rollback --stack-name tessera-acme-dr --region us-west-2');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toEqual([]);
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
  });

  it('Deploy blueprint: a tier change meeting the PRIMARY stack UPDATE_ROLLBACK_FAILED is refused the same way, before any change set or zone lookup', async () => {
    records.set('acme', leased('change', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{
      StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_ROLLBACK_FAILED', StackStatusReason: 'The following resource(s) failed to update: [Database]. ',
      CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags(),
    }] });
    const thrown = await deploy({ ...state('acme'), blueprint: 'tenant', change: { tier: 'professional', previousTier: 'professional', blueprintVersion: '2.0.0' } } as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'StackFailed', message: expect.stringContaining('stack tessera-acme is UPDATE_ROLLBACK_FAILED (an earlier update failed, then its rollback): The following resource(s) failed to update: [Database].') });
    expect((thrown as Error).message).toContain('aws cloudformation continue-update-rollback --stack-name tessera-acme [--resources-to-skip');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toEqual([]);
  });

  it('Delete tenant stacks: once the stuck DR stack is gone, the offboarding records it REMOVED without updateRollbackFailed', async () => {
    records.set('acme', leased('offboard', {
      tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', status: 'OFFBOARDING',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z', updateRollbackFailed: { at: '2026-12-02T00:00:00.000Z', reason: 'ReplicaBucket UPDATE_FAILED: Bucket policy refused' } },
    }));
    const out = await deleteStacks({ ...state('acme') } as never, {} as never) as { state: string };
    expect(out.state).toBe('COMPLETE');
    const dr = records.get('acme')!.disasterRecovery!;
    expect(dr.status).toBe('REMOVED');
    expect(dr.updateRollbackFailed).toBeUndefined();
  });
});
