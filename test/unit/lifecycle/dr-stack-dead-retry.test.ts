import { CreateChangeSetCommand, DeleteStackCommand, DescribeStacksCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loseLease, records, registryMock } from './registry-mock.js';
import { deletesAfterRecreate } from './late-delete.js';
import { DELETE_TOKEN, leased, ownedTags, state, useConfig } from './support.js';
import { configWith } from '../../support/config-with.js';
import { DR_STACK_ID, drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const mocks = drLifecycleMocks();
const { cfn } = mocks;
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');
const { handler: deploy } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');

beforeEach(() => resetDrLifecycle(mocks));

const drStack = (status: string, extra: Record<string, unknown> = {}) => cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{
  StackName: 'tessera-acme-dr', StackId: DR_STACK_ID, StackStatus: status as never, StackStatusReason: 'The following resource(s) failed to delete: [ReplicaKey]. ',
  CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags(), ...extra,
}] });

/**
 * hdr2 (s19): an onboarding retried onto a DR stack left ROLLBACK_FAILED, CREATE_FAILED or DELETE_FAILED went into a
 * change set CloudFormation refuses on such a stack (only ROLLBACK_COMPLETE was deleted), and Record failure removed
 * DELETE_FAILED ones never: every retry failed for ever. Now it is removed as a dead primary stack is, in one retry.
 */
describe('Deploy DR blueprint: an onboarding re-run meets a dead DR stack', () => {
  for (const status of ['ROLLBACK_FAILED', 'CREATE_FAILED', 'DELETE_FAILED']) {
    it(`${status}: termination protection lifted and recorded, deleted as the execution role, StackBusy (no change set)`, async () => {
      records.set('acme', leased('onboard', {
        tier: 'professional', accountId: '333333333333', status: 'PROVISIONING',
        disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: 'arn:aws:states:us-east-1:111111111111:execution:tessera-onboard:earlier' } },
      }));
      drStack(status);
      const thrown = await deploy({ ...state('acme'), blueprint: 'dr' } as never, {} as never).then(() => undefined, (e: Error) => e);
      expect(thrown).toMatchObject({ name: 'StackBusy', message: expect.stringContaining(`stack tessera-acme-dr is ${status} from an earlier attempt`) });
      expect(cfn.commandCalls(CreateChangeSetCommand)).toEqual([]);
      const deletes = cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input);
      expect(deletes).toEqual([{ StackName: DR_STACK_ID, RoleARN: expect.stringMatching(/^arn:aws:iam::333333333333:role\//), ClientRequestToken: DELETE_TOKEN }]);
      expect(cfn.commandCalls(UpdateTerminationProtectionCommand).map((c) => c.args[0].input)).toEqual([{ StackName: DR_STACK_ID, EnableTerminationProtection: false }]);
      expect(records.get('acme')!.executions.at(-1)!.liftedProtections).toEqual([expect.objectContaining({ logicalId: 'tessera-acme-dr', protection: 'TerminationProtection', physicalId: DR_STACK_ID })]);
    });
  }

  // A DR stack ROLLBACK_COMPLETE met by Deploy DR blueprint had its termination protection lifted, then was deleted,
  // the lift recorded nowhere (no history entry, audit or event), while a dead stack's are recorded as they are made.
  it('ROLLBACK_COMPLETE: the lift of its termination protection is in the execution\'s history entry before DeleteStack, then in the audit and on the bus; once', async () => {
    const st = state('acme');
    const { onRecord, atDeletion } = drStackDeployingWithLiftsWatched(st.executionArn, 'ROLLBACK_COMPLETE');
    const run = () => deploy({ ...st, blueprint: 'dr' } as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(await run()).toMatchObject({ name: 'StackBusy', message: expect.stringContaining('ROLLBACK_COMPLETE from an earlier attempt; deleted it') });
    const lift = {
      logicalId: 'tessera-acme-dr', type: 'AWS::CloudFormation::Stack', physicalId: DR_STACK_ID, protection: 'TerminationProtection', at: expect.any(String),
      step: 'Deploy blueprint', requestId: 'req-acme-0001', executionArn: st.executionArn, intendedAt: expect.any(String),
      reason: 'dead DR stack ROLLBACK_COMPLETE: lifted so that the stack can be deleted and created again',
    };
    expect(atDeletion()).toEqual(['tessera-acme-dr TerminationProtection']);
    expect(onRecord()).toEqual([lift]);
    const audits = mocks.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key!).filter((k) => k.includes('protection-lifted'));
    expect(audits).toEqual([expect.stringMatching(/acme\/.*-protection-lifted-tessera-acme-dr\.json$/)]);
    // A retry of the step (the stack still listed, the lift on record): not recorded again.
    await run();
    expect(onRecord()).toEqual([lift]);
    const detailTypes = mocks.bus.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.DetailType));
    expect(detailTypes.filter((t) => t === 'Tenant Protection Lifted')).toHaveLength(1);
  });

  it('ROLLBACK_COMPLETE without termination protection: deleted, no lift recorded', async () => {
    records.set('acme', leased('onboard', { tier: 'professional', accountId: '333333333333', status: 'PROVISIONING' }));
    drStack('ROLLBACK_COMPLETE', { EnableTerminationProtection: false });
    await deploy({ ...state('acme'), blueprint: 'dr' } as never, {} as never).catch(() => undefined);
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual([DR_STACK_ID]);
    expect(records.get('acme')!.executions.at(-1)!.liftedProtections).toBeUndefined();
    expect(mocks.bus.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.DetailType))).not.toContain('Tenant Protection Lifted');
  });

  it('a change that meets its DR stack DELETE_FAILED fails the step (StackFailed) and deletes nothing: a live tenant\'s DR stack is for an operator', async () => {
    records.set('acme', leased('change', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z' } }));
    drStack('DELETE_FAILED');
    const thrown = await deploy({ ...state('acme'), blueprint: 'dr', change: { tier: 'professional', previousTier: 'professional', blueprintVersion: '2.0.0', drRegion: 'us-west-2' } } as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'StackFailed', message: expect.stringContaining('stack tessera-acme-dr in us-west-2 is DELETE_FAILED') });
    // what to do: no --repair (CloudFormation takes only a deletion of such a stack), the import of the retained stores, or offboarding
    expect((thrown as Error).message).toMatch(/neither a change nor --repair can bring it back: finish its deletion by hand \(its key alias, replica bucket and vault are retained\), then import them back into tessera-acme-dr \(CloudFormation resource import; .*\), or offboard the tenant \(tessera tenants delete acme --yes\)$/);
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toEqual([]);
  });
});

// s39g: Step Functions does not stop a running Lambda; an onboarding whose lease was ended (the status-change rule) while
// the step read its dead DR stack must not delete it (stack-operation-lease.ts holdLeaseFor): the next attempt owns it.
describe('Deploy DR blueprint: a dead DR stack and an onboarding that lost its lease', () => {
  it.each(['ROLLBACK_COMPLETE', 'CREATE_FAILED'])('%s: no DeleteStack, TenantBusy naming the deletion not started', async (status) => {
    records.set('acme', leased('onboard', { tier: 'professional', accountId: '333333333333', status: 'PROVISIONING' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).callsFake(() => {
      loseLease('acme', { status: 'FAILED' });
      return { Stacks: [{ StackName: 'tessera-acme-dr', StackId: DR_STACK_ID, StackStatus: status, CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] };
    });
    const thrown = await deploy({ ...state('acme'), blueprint: 'dr' } as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantBusy', message: expect.stringMatching(/DeleteStack of stack tessera-acme-dr( in us-west-2)? not started: the execution lost the tenant's lease/) });
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(records.get('acme')).toMatchObject({ status: 'FAILED', lease: undefined });
  });
});

describe('Record failure: a DR stack DELETE_FAILED after a failed onboarding', () => {
  it('is deleted and recorded REMOVED (its stores checked absent), so the retry creates it afresh', async () => {
    records.set('acme', leased('onboard', {
      tier: 'professional', accountId: '333333333333', status: 'PROVISIONING',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: state('acme').executionArn } },
    }));
    drStack('DELETE_FAILED');
    const st = state('acme');
    const out = await recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'onboard', error: { Error: 'StackFailed', Cause: '{}' }, failedStep: 'Check DR blueprint' } as never, {} as never) as { cleanup: string[] };
    expect(out.cleanup).toContain('deleted DELETE_FAILED DR stack tessera-acme-dr (us-west-2)');
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toContain(DR_STACK_ID);
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'REMOVED' });
  });

  // s39g: Record failure of an execution stopped while it ran (its lease ended by the status-change rule) deleted it all the same.
  it('is not deleted once the execution lost the lease while Record failure ran (TenantBusy): left to the next holder', async () => {
    records.set('acme', leased('onboard', {
      tier: 'professional', accountId: '333333333333', status: 'PROVISIONING',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: state('acme').executionArn } },
    }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).callsFake(() => {
      loseLease('acme', { status: 'FAILED' });
      return { Stacks: [{ StackName: 'tessera-acme-dr', StackId: DR_STACK_ID, StackStatus: 'DELETE_FAILED', CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] };
    });
    const st = state('acme');
    const fail = recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'onboard', error: { Error: 'StackFailed', Cause: '{}' }, failedStep: 'Check DR blueprint' } as never, {} as never);
    await expect(fail).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'DEPLOYING' });
  });

  // The DR stack's termination protection was lifted and recorded nowhere (no history entry, failure, audit or
  // event), while the primary's lifts are recorded as they happen (dead-stack.ts).
  it('records the lift of its termination protection in the execution\'s history entry before the deletion, then in the failure and on the bus; once', async () => {
    const st = state('acme');
    const { onRecord, atDeletion } = drStackDeployingWithLiftsWatched(st.executionArn, 'DELETE_FAILED');
    const fail = () => recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'onboard', error: { Error: 'StackFailed', Cause: '{}' }, failedStep: 'Check DR blueprint' } as never, {} as never);
    await fail();
    const lift = {
      logicalId: 'tessera-acme-dr', type: 'AWS::CloudFormation::Stack', physicalId: DR_STACK_ID, protection: 'TerminationProtection', at: expect.any(String),
      step: 'Record failure', requestId: 'req-acme-0001', executionArn: st.executionArn, intendedAt: expect.any(String),
      reason: 'dead DR stack: lifted so that the stack can be deleted',
    };
    expect(atDeletion()).toEqual(['tessera-acme-dr TerminationProtection']);
    expect(onRecord()).toEqual([lift]);
    expect(records.get('acme')!.failure?.liftedProtections).toEqual([lift]);
    const detailTypes = mocks.bus.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.DetailType));
    expect(detailTypes.filter((t) => t === 'Tenant Protection Lifted')).toHaveLength(1);
  });
});

/**
 * hdr2 (s19): a tier change or upgrade whose DR stack update rolled back (UPDATE_ROLLBACK_COMPLETE) left the DR record
 * DEPLOYING, `deployedWith` naming the version the stack never reached.
 */
describe('Record failure: a DR stack whose update rolled back', () => {
  const fail = async (tier: string) => {
    records.set('acme', leased('upgrade', {
      tier, blueprintVersion: '1.0.0', accountId: '333333333333',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', replicationStoppedAt: tier === 'starter' ? '2026-11-01T00:00:00.000Z' : undefined, deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: state('acme').executionArn } },
    }));
    drStack('UPDATE_ROLLBACK_COMPLETE', { StackStatusReason: 'The following resource(s) failed to update: [ReplicaBucket]. ', Tags: [...ownedTags(), { Key: 'tessera:tier', Value: 'professional' }, { Key: 'tessera:blueprint-version', Value: '1.0.0' }] });
    const st = state('acme');
    return recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'upgrade', error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: 'stack tessera-acme-dr in us-west-2 is UPDATE_ROLLBACK_COMPLETE' }) }, failedStep: 'Check DR blueprint' } as never, {} as never) as Promise<{ reason: string }>;
  };

  it('on a tier with DR there: recorded ACTIVE with the tier and version it still runs, the reason saying it rolled back; nothing deleted', async () => {
    const out = await fail('professional');
    const dr = records.get('acme')!.disasterRecovery!;
    expect(dr).toMatchObject({ status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } });
    expect(dr.deployedWith!.executionArn).toBeUndefined();
    expect(out.reason).toContain('DR stack tessera-acme-dr (us-west-2) rolled back its update (UPDATE_ROLLBACK_COMPLETE: The following resource(s) failed to update: [ReplicaBucket]. ): it still runs tier professional at version 1.0.0; recorded ACTIVE');
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
  });

  // The config's DR region of the tier had to be the stack's: a platform config that moved professional's DR region since the
  // stack was deployed had the stack its primary still replicates into recorded RETAINED.
  it('on a tier with DR whose region the config has moved since the stack was deployed: still ACTIVE (the stack\'s own region is where its DR is)', async () => {
    useConfig(configWith({ allowedRegions: ['us-east-1', 'us-west-2', 'eu-west-1'], tiers: { professional: { disasterRecovery: { region: 'eu-west-1', rpoHours: 1, rtoHours: 4 } } } } as never));
    const out = await fail('professional');
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ region: 'us-west-2', status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } });
    expect(records.get('acme')!.disasterRecovery!.replicationStoppedAt).toBeUndefined();
    expect(out.reason).toContain('recorded ACTIVE');
  });

  it('the tenant on a tier without DR (a move to a DR tier that failed): recorded RETAINED, replicationStoppedAt kept', async () => {
    const out = await fail('starter');
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'RETAINED', replicationStoppedAt: '2026-11-01T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0' } });
    expect(out.reason).toContain('recorded RETAINED');
  });
});

// s39k: the DR stack's DeleteStack went by name: one that arrived after the next holder of the tenant had deleted the dead
// DR stack and created it again deleted that new create. By the StackId read it deletes nothing.
describe('a late DeleteStack of a dead DR stack created again since deletes nothing (by the StackId read)', () => {
  const st = state('acme');
  it.each([
    { step: 'Deploy DR blueprint', status: 'ROLLBACK_COMPLETE', run: () => deploy({ ...st, blueprint: 'dr' } as never, {} as never) },
    { step: 'Deploy DR blueprint', status: 'ROLLBACK_FAILED', run: () => deploy({ ...st, blueprint: 'dr' } as never, {} as never) },
    { step: 'Record failure', status: 'DELETE_FAILED', run: () => recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'onboard', error: { Error: 'StackFailed', Cause: '{}' }, failedStep: 'Check DR blueprint' } as never, {} as never) },
  ])('$step, the DR stack $status', async ({ status, run }) => {
    records.set('acme', leased('onboard', {
      tier: 'professional', accountId: '333333333333', status: 'PROVISIONING',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: st.executionArn } },
    }));
    drStack(status, { EnableTerminationProtection: false });
    const { deleted } = deletesAfterRecreate(cfn, { StackName: 'tessera-acme-dr', StackId: DR_STACK_ID });
    await run().catch(() => undefined);
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual([DR_STACK_ID]);
    expect(deleted).toEqual([]);
  });
});

/**
 * Tenant acme onboarding (leased) with its DR stack DEPLOYING and in `status`; the lifts on record in the execution's
 * history entry (`onRecord`), and those that were on record when DeleteStack of the DR stack was called (`atDeletion`).
 */
function drStackDeployingWithLiftsWatched(executionArn: string, status: string) {
  records.set('acme', leased('onboard', {
    tier: 'professional', accountId: '333333333333', status: 'PROVISIONING',
    disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn } },
  }));
  drStack(status);
  const onRecord = () => records.get('acme')!.executions.find((e) => e.executionArn === executionArn)?.liftedProtections ?? [];
  let seen: string[] = [];
  cfn.on(DeleteStackCommand, { StackName: DR_STACK_ID }).callsFake(() => {
    seen = onRecord().map((l) => `${l.logicalId} ${l.protection}`);
    return {};
  });
  return { onRecord, atDeletion: () => seen };
}
