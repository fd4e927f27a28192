import { CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, ListStacksCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { drRegionConflict } from '../../../lambdas/lifecycle/dr-region-change.js';
import { configWith } from '../../support/config-with.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, leased, ownedTags, setLifecycleEnv, state } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const bus = mockClient(EventBridgeClient);
const { handler: check } = await import('../../../lambdas/lifecycle/check-stack.js');
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');
const { handler: deploy } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');

const drConfig = configWith({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } } as never);

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.config] = JSON.stringify(drConfig);
  records.clear();
  for (const m of [cfn, sts, bus]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }));
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
  cfn.on(DeleteStackCommand).resolves({});
  cfn.on(UpdateTerminationProtectionCommand).resolves({});
});

/**
 * Record failure and a DR stack that never came up: a tier change to a DR tier whose DR stack create
 * rolled back leaves no DEPLOYING record behind (it would pin the tenant's DR region and be checked
 * for drift): the stack is deleted in its region and recorded REMOVED.
 */
describe('Record failure: a DR stack that never came up', () => {
  it('is deleted (as the execution role, in its region) and recorded REMOVED; a later move to another DR region is no conflict', async () => {
    records.set('acme', leased('change', {
      tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z' },
    }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{
      StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(),
      Tags: ownedTags(),
    }] });
    const st = { ...state('acme'), blueprint: 'dr', change: { tier: 'professional', drRegion: 'us-west-2' } };
    const thrown = await check(st as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'StackFailed' });
    const out = await recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'change', error: { Error: thrown!.name, Cause: JSON.stringify({ errorMessage: thrown!.message }) }, failedStep: 'Check DR blueprint' } as never, {} as never);
    expect(out).toMatchObject({ cleanup: ['deleted ROLLBACK_COMPLETE DR stack tessera-acme-dr (us-west-2)'] });
    const deletes = cfn.commandCalls(DeleteStackCommand).filter((c) => c.args[0].input.StackName === 'tessera-acme-dr');
    expect(deletes.map((c) => c.args[0].input.RoleARN)).toEqual([expect.stringMatching(/^arn:aws:iam::333333333333:role\//)]);
    expect(await (deletes[0].thisValue as CloudFormationClient).config.region()).toBe('us-west-2');
    const after = records.get('acme')!;
    expect(after).toMatchObject({ tier: 'starter', disasterRecovery: { stackName: 'tessera-acme-dr', status: 'REMOVED' } });
    expect(drRegionConflict(after, { disasterRecovery: { region: 'eu-west-1', rpoHours: 1, rtoHours: 4 } } as never)).toBeUndefined();
  });
});

describe('Deploy DR blueprint: a recorded DR stack in another region', () => {
  it('an onboarding re-run after the tier\'s DR region changed in config is refused before any stack operation, naming both regions and the stack (a second DR stack would be left out of the registry and of offboarding)', async () => {
    records.set('acme', leased('onboard', {
      tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', status: 'PROVISIONING',
      disasterRecovery: { region: 'eu-west-1', stackName: 'tessera-acme-dr', status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z' },
    }));
    const thrown = await deploy({ ...state('acme'), blueprint: 'dr' } as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'ChangeRefused', message: expect.stringMatching(/its DR region is us-west-2, but tenant acme's DR stack tessera-acme-dr is in eu-west-1 \(ACTIVE\)/) });
    expect(cfn.commandCalls(DescribeStacksCommand)).toEqual([]);
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ region: 'eu-west-1', status: 'ACTIVE' });
  });
});

/**
 * hlc4 (s16): hops's refusal of a change that finds no tenant stack left the DR stack out. A tenant
 * whose registry records a DR stack (ACTIVE, DEPLOYING or RETAINED) that was deleted outside Tessera
 * had it created again by the next change, upgrade or repair: on AWS that create meets the DR key
 * alias, bucket and vault the deleted stack retained (fixed names) and rolls back, and *Record
 * failure* then deleted the dead stack and recorded the DR stack REMOVED, so the registry said the
 * tenant had no DR stack while its retained DR key, replica bucket and recovery point copies stayed in
 * the DR region: no longer pinning the DR region or checked for drift, and refused by failover-plan.
 */
describe('Deploy DR blueprint: a recorded DR stack that no longer exists', () => {
  const upgrade = { tier: 'professional', previousTier: 'professional', blueprintVersion: '2.0.0', drRegion: 'us-west-2', computeMode: 'shared' };
  it('is refused for a change, an upgrade or a repair (ChangeRefused, no CreateStack, the registry unchanged); a first move to a DR tier creates it', async () => {
    cfn.on(CreateStackCommand).resolves({ StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/2' });
    for (const status of ['ACTIVE', 'RETAINED', 'DEPLOYING'] as const) {
      // GIVEN acme on the DR tier, its DR stack recorded but deleted by hand
      const dr = { region: 'us-west-2', stackName: 'tessera-acme-dr', status, updatedAt: '2026-12-02T00:00:00.000Z' };
      records.set('acme', leased('upgrade', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: dr }));
      for (const change of [upgrade, { ...upgrade, blueprintVersion: '1.0.0', repair: true }]) {
        // WHEN
        const thrown = await deploy({ ...state('acme'), blueprint: 'dr', change } as never, {} as never).then(() => undefined, (e: Error) => e);
        // THEN
        expect(thrown, `${status} ${JSON.stringify(change)}`).toMatchObject({ name: 'ChangeRefused', message: expect.stringMatching(/^DR stack tessera-acme-dr \(us-west-2\) is recorded .* but does not exist \(deleted outside Tessera\)/) });
        expect(records.get('acme')!.disasterRecovery).toEqual(dr);
      }
    }
    expect(cfn.commandCalls(CreateStackCommand)).toEqual([]);
    // GIVEN a tenant moving to the DR tier for the first time (no DR stack recorded), or after its DR stack was removed
    for (const disasterRecovery of [undefined, { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'REMOVED' as const, updatedAt: '2026-12-02T00:00:00.000Z' }]) {
      records.set('acme', leased('change', { tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333', ...(disasterRecovery ? { disasterRecovery } : {}) }));
      // WHEN / THEN its DR stack is created
      await deploy({ ...state('acme'), blueprint: 'dr', change: { ...upgrade, previousTier: 'starter' } } as never, {} as never);
      expect(records.get('acme')!.disasterRecovery).toMatchObject({ region: 'us-west-2', status: 'DEPLOYING' });
    }
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(2);
    // GIVEN this execution's own create rolled back, and Deploy DR blueprint deleted it (StackBusy until it is gone)
    const own = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: 't', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: state('acme').executionArn } };
    records.set('acme', leased('change', { tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: own }));
    // WHEN / THEN it is created again, as before
    await deploy({ ...state('acme'), blueprint: 'dr', change: { ...upgrade, previousTier: 'starter' } } as never, {} as never);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(3);
  });
});

/**
 * drdead (s16): Record failure recorded REMOVED any DEPLOYING DR stack it found missing, whoever's
 * DEPLOYING that was. A DR stack an earlier change recorded DEPLOYING (it came up, or was being
 * updated) and then deleted outside Tessera left its DR key alias, replica bucket and vault (RETAIN,
 * fixed names) in the DR region; the next change is refused by Deploy DR blueprint, and its Record
 * failure then said REMOVED: no DR region pinned, no drift check, failover-plan refusing the tenant,
 * while those stores still held the tenant's copies. Only this execution's own create, which rolled
 * back (RetainExceptOnCreate: nothing retained) and was deleted, is gone with nothing left.
 */
describe('Record failure: a DEPLOYING DR stack that no longer exists', () => {
  const upgrade = { tier: 'professional', previousTier: 'professional', blueprintVersion: '2.0.0', drRegion: 'us-west-2', computeMode: 'shared' };
  const failWith = async (st: ReturnType<typeof state>, thrown: Error) => recordFailure({
    request: st.request, executionArn: st.executionArn, kind: 'upgrade', error: { Error: thrown.name, Cause: JSON.stringify({ errorMessage: thrown.message }) }, failedStep: 'Deploy DR blueprint',
  } as never, {} as never) as Promise<{ reason: string; cleanup: string[] }>;

  it('recorded DEPLOYING by an earlier execution (or by none recorded): kept as recorded, the failure naming the missing stack and the stores it retained', async () => {
    for (const deployedWith of [{ tier: 'professional', blueprintVersion: '1.0.0', executionArn: 'arn:aws:states:us-east-1:111111111111:execution:tessera-change:earlier' }, undefined]) {
      // GIVEN acme's DR stack recorded DEPLOYING by an earlier change, then deleted outside Tessera
      const dr = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: '2026-12-02T00:00:00.000Z', ...(deployedWith ? { deployedWith } : {}) };
      records.set('acme', leased('upgrade', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: dr }));
      const st = { ...state('acme'), blueprint: 'dr', change: upgrade };
      // WHEN the next upgrade is refused by Deploy DR blueprint and Record failure runs
      const thrown = await deploy(st as never, {} as never).then(() => undefined, (e: Error) => e);
      expect(thrown).toMatchObject({ name: 'ChangeRefused' });
      const out = await failWith(st, thrown!);
      // THEN the DR stack is not recorded REMOVED: it still pins the DR region
      const after = records.get('acme')!;
      expect(after.disasterRecovery, JSON.stringify(deployedWith)).toEqual(dr);
      expect(drRegionConflict(after, { disasterRecovery: { region: 'eu-west-1', rpoHours: 1, rtoHours: 4 } } as never)).toBeDefined();
      // AND the failure says the stack is missing and what it retained
      const says = /DR stack tessera-acme-dr \(us-west-2\) is recorded DEPLOYING .*but does not exist.*DR key alias, replica bucket and backup vault.*stay in us-west-2.*kept recorded DEPLOYING/;
      expect(out.reason).toMatch(says);
      expect(after.failure?.reason).toMatch(says);
      expect(out.cleanup.join('; ')).not.toMatch(/REMOVED/);
    }
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
  });

  it('recorded DEPLOYING by this execution (its own create rolled back and was deleted): recorded REMOVED, as before', async () => {
    const own = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: 't', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: state('acme').executionArn } };
    records.set('acme', leased('change', { tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: own }));
    const st = { ...state('acme'), blueprint: 'dr', change: { ...upgrade, previousTier: 'starter' } };
    // its own create, listed deleted, created after the lease was taken
    cfn.on(ListStacksCommand).resolves({ StackSummaries: [{ StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/9', StackStatus: 'DELETE_COMPLETE', CreationTime: new Date('2099-01-01T00:00:00.000Z') }] });
    const out = await failWith(st, Object.assign(new Error('States.Timeout'), { name: 'States.Timeout' }));
    expect(out.cleanup).toEqual(['DR stack tessera-acme-dr (us-west-2) does not exist: recorded REMOVED']);
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'REMOVED' });
  });

  it('recorded DEPLOYING by this execution\'s update of a DR stack that stood before it (deleted meanwhile), or the deleted stacks not listable: kept as recorded', async () => {
    const own = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: 't', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: state('acme').executionArn } };
    const st = { ...state('acme'), blueprint: 'dr', change: upgrade };
    for (const listed of [true, false]) {
      records.set('acme', leased('upgrade', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: own }));
      if (listed) cfn.on(ListStacksCommand).resolves({ StackSummaries: [{ StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1', StackStatus: 'DELETE_COMPLETE', CreationTime: new Date('2020-01-01T00:00:00.000Z') }] });
      else cfn.on(ListStacksCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
      const out = await failWith(st, Object.assign(new Error('States.Timeout'), { name: 'States.Timeout' }));
      expect(records.get('acme')!.disasterRecovery, String(listed)).toEqual(own);
      expect(out.reason).toMatch(/is recorded DEPLOYING by this execution's update of a stack that stood before it .*stay in us-west-2/);
    }
  });
});
