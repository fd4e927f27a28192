import { type CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeBackupVaultCommand } from '@aws-sdk/client-backup';
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { drRegionConflict } from '../../../lambdas/lifecycle/dr-region-change.js';
import { loseLeaseAfterWrite, records, registryMock } from './registry-mock.js';
import { DELETE_TOKEN, leased, ownedTags, state } from './support.js';
import { mockDrStores } from './dr-store-mocks.js';
import { drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const mocks = drLifecycleMocks();
const { cfn, kms, s3, backup } = mocks;
const named = (name: string, message = name) => Object.assign(new Error(message), { name });
/** The DR stores in the DR region: absent unless a test says so (dr-store-mocks.ts). */
const drStores = (present?: Parameters<typeof mockDrStores>[1]) => mockDrStores({ kms, s3, backup }, present);
const { handler: check } = await import('../../../lambdas/lifecycle/check-stack.js');
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');
const { handler: deploy } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');

// ListStackResources unanswered, as this file always had it.
beforeEach(() => resetDrLifecycle(mocks, { listStackResources: false }));

/**
 * Record failure and a DR stack that never came up: a tier change to a DR tier whose DR stack create
 * rolled back leaves no DEPLOYING record behind (it would pin the tenant's DR region and be checked
 * for drift): the stack is deleted in its region and recorded REMOVED.
 */
describe('Record failure: a DR stack that never came up', () => {
  it('is deleted (as the execution role, in its region) and recorded REMOVED; a later move to another DR region is no conflict', async () => {
    records.set('acme', leased('change', {
      tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333',
      disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING', updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: state('acme').executionArn } },
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
    const deletes = cfn.commandCalls(DeleteStackCommand).filter((c) => c.args[0].input.StackName === 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1');
    expect(deletes.map((c) => c.args[0].input.RoleARN)).toEqual([expect.stringMatching(/^arn:aws:iam::333333333333:role\//)]);
    expect(deletes.map((c) => c.args[0].input.ClientRequestToken)).toEqual([DELETE_TOKEN]);
    expect(await (deletes[0].thisValue as CloudFormationClient).config.region()).toBe('us-west-2');
    const after = records.get('acme')!;
    expect(after).toMatchObject({ tier: 'starter', disasterRecovery: { stackName: 'tessera-acme-dr', status: 'REMOVED' } });
    expect(drRegionConflict(after, { disasterRecovery: { region: 'eu-west-1', rpoHours: 1, rtoHours: 4 } } as never)).toBeUndefined();
    // hlc5: the replica bucket asked with its owner (S3 names are global: a bucket of that name in another account answers
    // 403, not found as the tenant's — were its policy to let anyone read its encryption, it counted as the tenant's store)
    expect(s3.commandCalls(GetBucketEncryptionCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'tessera-acme-dr-333333333333-us-west-2', ExpectedBucketOwner: '333333333333' }]);
  });
});

/**
 * lcleft2: a DR stack in ROLLBACK_COMPLETE that an earlier execution recorded DEPLOYING was deleted and recorded
 * REMOVED unchecked. Its create rolled back (RetainExceptOnCreate: it holds nothing, so it is deleted), but what
 * made it roll back may be the DR key alias, replica bucket and vault an earlier DR stack of that name retained
 * (fixed names) after it came up and was deleted outside Tessera: those still hold the tenant's copies.
 */
describe('Record failure: a ROLLBACK_COMPLETE DR stack an earlier execution recorded DEPLOYING', () => {
  const earlier = { tier: 'professional', blueprintVersion: '1.0.0', executionArn: 'arn:aws:states:us-east-1:111111111111:execution:tessera-change:earlier' };
  const dr = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: '2026-12-02T00:00:00.000Z', deployedWith: earlier };
  const run = async () => {
    records.set('acme', leased('change', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: dr }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{
      StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/2', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), Tags: ownedTags(),
    }] });
    const st = state('acme');
    return recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'change', error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: 'stack tessera-acme is UPDATE_ROLLBACK_COMPLETE' }) }, failedStep: 'Check blueprint' } as never, {} as never) as Promise<{ reason: string; cleanup: string[] }>;
  };

  it('with its stores found (the earlier DR stack\'s, retained): the dead stack is deleted, the DR stack kept recorded DEPLOYING, the reason naming each store found', async () => {
    drStores({ key: true, bucket: true, vault: true });
    const out = await run();
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual(['arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/2']);
    const after = records.get('acme')!;
    expect(after.disasterRecovery).toEqual(dr);
    expect(drRegionConflict(after, { disasterRecovery: { region: 'eu-west-1', rpoHours: 1, rtoHours: 4 } } as never)).toBeDefined();
    const says = /DR stack tessera-acme-dr \(us-west-2\) is recorded DEPLOYING by an earlier execution \(arn:.*:earlier\) and its stack was ROLLBACK_COMPLETE .*: its retained DR key alias alias\/tessera-acme-dr \(key k-1, Enabled\), replica bucket tessera-acme-dr-333333333333-us-west-2, backup vault tessera-acme-dr \(3 recovery points\) stay in us-west-2 \(checked\), so it is kept recorded DEPLOYING, not REMOVED/;
    expect(out.reason).toMatch(says);
    expect(after.failure?.reason).toMatch(says);
    expect(out.cleanup).toEqual(['deleted ROLLBACK_COMPLETE DR stack tessera-acme-dr (us-west-2); left it recorded DEPLOYING: not this execution\'s create, and its stores not all checked absent']);
  });

  it('with a store that cannot be checked (the workload account\'s provisioning role may not describe the tenant\'s key): kept, the reason saying what was not checked and why', async () => {
    drStores({ keyDenied: true });
    const out = await run();
    expect(records.get('acme')!.disasterRecovery).toEqual(dr);
    expect(out.reason).toMatch(/DR key alias alias\/tessera-acme-dr \(AccessDeniedException: User is not authorized to perform: kms:DescribeKey\) not checked: it may remain in us-west-2; DR replica bucket tessera-acme-dr-333333333333-us-west-2, backup vault tessera-acme-dr do not exist \(checked\), so it is kept recorded DEPLOYING/);
  });

  it('with every store checked absent: nothing of a DR stack remains, recorded REMOVED, the cleanup saying what was checked', async () => {
    const out = await run();
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'REMOVED' });
    expect(out.cleanup).toEqual([expect.stringMatching(/^deleted ROLLBACK_COMPLETE DR stack tessera-acme-dr \(us-west-2\) \(recorded DEPLOYING by an earlier execution .*; DR key alias alias\/tessera-acme-dr, replica bucket .*, backup vault tessera-acme-dr do not exist \(checked\)\)$/)]);
    // asked in the DR region
    expect(await (kms.commandCalls(DescribeKeyCommand)[0].thisValue as KMSClient).config.region()).toBe('us-west-2');
    expect(backup.commandCalls(DescribeBackupVaultCommand)[0].args[0].input).toEqual({ BackupVaultName: 'tessera-acme-dr' });
  });

  it('this execution\'s own create, rolled back on a store an earlier DR stack left: kept, naming it', async () => {
    drStores({ bucket: true });
    records.set('acme', leased('change', { tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: { ...dr, deployedWith: { ...earlier, executionArn: state('acme').executionArn } } }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{ StackName: 'tessera-acme-dr', StackId: 'x', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    const st = state('acme');
    const out = await recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'change', error: { Error: 'StackFailed', Cause: '{}' }, failedStep: 'Check DR blueprint' } as never, {} as never) as { reason: string };
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'DEPLOYING' });
    expect(out.reason).toMatch(/by this execution's create and its stack was ROLLBACK_COMPLETE .*: its retained DR replica bucket tessera-acme-dr-333333333333-us-west-2 stay in us-west-2 \(checked\)/);
  });
});

/**
 * hlc5: an own create's DR stack was recorded REMOVED whenever no store was *found*: a store that could not be checked
 * (KMS throttled, S3 or AWS Backup unreachable in the DR region, no session) counted as gone, though the create may have
 * rolled back on exactly the stores an earlier DR stack of that name retained (the case the check exists for).
 */
describe('Record failure: this execution\'s own DR create, its stores not checkable', () => {
  it('keeps it recorded DEPLOYING (not REMOVED) when a store could not be checked, naming it; a re-run that checks them all absent records REMOVED', async () => {
    const own = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: 't', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: state('acme').executionArn } };
    const fail = async () => {
      records.set('acme', leased('change', { tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: own }));
      cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-dr' }).resolves({ Stacks: [{ StackName: 'tessera-acme-dr', StackId: 'x', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
      const st = state('acme');
      return recordFailure({ request: st.request, executionArn: st.executionArn, kind: 'change', error: { Error: 'StackFailed', Cause: '{}' }, failedStep: 'Check DR blueprint' } as never, {} as never) as Promise<{ reason: string; cleanup: string[] }>;
    };
    // GIVEN KMS throttled and S3 unreachable in the DR region (the vault answers: absent)
    kms.on(DescribeKeyCommand).rejects(named('ThrottlingException', 'Rate exceeded'));
    s3.on(GetBucketEncryptionCommand).rejects(named('TimeoutError', 'connect ETIMEDOUT s3.us-west-2.amazonaws.com'));
    // WHEN its own create rolled back
    const out = await fail();
    // THEN the dead stack is deleted, but the DR stack stays DEPLOYING (pinning us-west-2), the reason naming what was not checked
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual(['x']);
    expect(records.get('acme')!.disasterRecovery).toEqual(own);
    expect(out.reason).toMatch(/by this execution's create and its stack was ROLLBACK_COMPLETE .*: DR key alias alias\/tessera-acme-dr \(ThrottlingException: Rate exceeded\), replica bucket tessera-acme-dr-333333333333-us-west-2 \(TimeoutError: .*\) not checked: they may remain in us-west-2; DR backup vault tessera-acme-dr does not exist \(checked\), so it is kept recorded DEPLOYING/);
    expect(out.cleanup).toEqual(['deleted ROLLBACK_COMPLETE DR stack tessera-acme-dr (us-west-2); left it recorded DEPLOYING: a store could not be checked (it may remain)']);
    // AND a later run that checks every store absent records it REMOVED
    drStores();
    await fail();
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'REMOVED' });
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

  // s39g: Step Functions does not stop a running Lambda; a change whose lease was ended (the status-change rule) after the
  // step recorded the DR stack DEPLOYING must not create it (stack-operation-lease.ts holdLeaseFor).
  it('a first move to a DR tier whose lease was ended right after the DR stack was recorded: no CreateStack, TenantBusy naming it', async () => {
    cfn.on(CreateStackCommand).resolves({ StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/2' });
    records.set('acme', leased('change', { tier: 'starter', blueprintVersion: '1.0.0', accountId: '333333333333' }));
    loseLeaseAfterWrite('acme', 'disasterRecovery');
    const thrown = await deploy({ ...state('acme'), blueprint: 'dr', change: { ...upgrade, previousTier: 'starter' } } as never, {} as never).then(() => undefined, (e: Error) => e);
    expect(thrown).toMatchObject({ name: 'TenantBusy', message: expect.stringContaining('CreateStack of stack tessera-acme-dr not started: the execution lost the tenant\'s lease') });
    expect(cfn.commandCalls(CreateStackCommand)).toEqual([]);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', lease: undefined, disasterRecovery: { stackName: 'tessera-acme-dr', status: 'DEPLOYING' } });
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
      drStores({ key: true, bucket: true, vault: true });
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
      // (lcleft2: checked, each named; before, they were said to remain without asking)
      const says = /DR stack tessera-acme-dr \(us-west-2\) is recorded DEPLOYING .*but does not exist \(deleted outside Tessera\): its retained DR key alias alias\/tessera-acme-dr \(key k-1, Enabled\), replica bucket tessera-acme-dr-333333333333-us-west-2, backup vault tessera-acme-dr \(3 recovery points\) stay in us-west-2 \(checked\), so it is kept recorded DEPLOYING/;
      expect(out.reason).toMatch(says);
      expect(after.failure?.reason).toMatch(says);
      expect(out.cleanup.join('; ')).not.toMatch(/REMOVED/);
    }
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
  });

  it('recorded DEPLOYING by an earlier execution, and its key alias, replica bucket and vault all checked absent: nothing of it remains, recorded REMOVED', async () => {
    const dr = { region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: 't', deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: 'arn:aws:states:us-east-1:111111111111:execution:tessera-change:earlier' } };
    records.set('acme', leased('upgrade', { tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', disasterRecovery: dr }));
    const out = await failWith({ ...state('acme') }, Object.assign(new Error('States.Timeout'), { name: 'States.Timeout' }));
    expect(records.get('acme')!.disasterRecovery).toMatchObject({ status: 'REMOVED' });
    expect(out.cleanup).toEqual([expect.stringMatching(/^DR stack tessera-acme-dr \(us-west-2\) does not exist: recorded REMOVED \(recorded DEPLOYING by an earlier execution .*do not exist \(checked\)\)$/)]);
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
      drStores({ key: true, bucket: true, vault: true });
      if (listed) cfn.on(ListStacksCommand).resolves({ StackSummaries: [{ StackName: 'tessera-acme-dr', StackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1', StackStatus: 'DELETE_COMPLETE', CreationTime: new Date('2020-01-01T00:00:00.000Z') }] });
      else cfn.on(ListStacksCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
      const out = await failWith(st, Object.assign(new Error('States.Timeout'), { name: 'States.Timeout' }));
      expect(records.get('acme')!.disasterRecovery, String(listed)).toEqual(own);
      expect(out.reason).toMatch(/is recorded DEPLOYING by this execution's update of a stack that stood before it .*stay in us-west-2/);
    }
  });
});
