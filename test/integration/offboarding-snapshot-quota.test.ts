import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateDBSnapshotCommand, DeleteDBSnapshotCommand, DescribeAccountAttributesCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient,
} from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * The offboarding's manual snapshot quota check (lambdas/lifecycle/manual-snapshot-quota.ts) enforced on moto, through the
 * real offboarding workflow: moto answers RDS DescribeAccountAttributes as AWS does (support/moto-python/tessera_moto_patches.py
 * answer_rds_account_attributes: `ManualSnapshots` Used the account's manual DB instance snapshots in the Region, Max AWS's
 * default 100), so an account without room for the two manual snapshots an offboarding holds at once stops the offboarding
 * at *Snapshot database* before it makes one, and DELETE again once snapshots were freed finishes.
 */
const local = useLocalLifecycle();

describe('offboarding manual snapshot quota', () => {
  it('stops an offboarding in an account at 99 of its 100 manual snapshots with QuotaExceeded, nothing deleted; DELETE again after snapshots were freed finishes', async () => {
    // GIVEN a starter tenant (the real blueprint: a database in the shared workload account)
    const onboarded = await local.workflows.run('onboard', onboardRequest('gob', 'starter'));
    expect(onboarded.error).toBeUndefined();
    const record = (await getTenant('gob'))!;
    const instance = record.stackOutputs.DatabaseInstanceId!;
    const rds = new RDSClient({ credentials: await local.fixture.as(record.accountId!) });
    const manualSnapshots = async () => (await rds.send(new DescribeAccountAttributesCommand({}))).AccountQuotas!
      .find((q) => q.AccountQuotaName === 'ManualSnapshots')!;
    const snapshotIds = async () => ((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!);
    // AND the account's manual snapshots in the Region made up to 99 of AWS's default 100 (room for 1; an offboarding holds 2)
    const before = await manualSnapshots();
    expect(before.Max).toBe(100);
    const filler: string[] = [];
    for (let i = Number(before.Used); i < 99; i++) {
      const id = `filler-${i}`;
      await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: id }));
      filler.push(id);
    }
    expect(await manualSnapshots()).toMatchObject({ Used: 99, Max: 100 });
    const held = (await snapshotIds()).sort();

    // WHEN DELETE
    const first = await local.workflows.run('offboard', { request: { tenantId: 'gob', requestId: 'req-offboard-1' } });

    // THEN it stops at Snapshot database with QuotaExceeded naming the quota, its use and maximum
    expect(first.status).toBe('FAILED');
    expect(first.error?.message ?? '').toMatch(/QuotaExceeded/);
    const stopped = (await getTenant('gob'))!;
    expect(stopped.status).toBe('OFFBOARDING');
    expect(stopped.failure?.step).toBe('Snapshot database');
    expect(stopped.failure?.reason).toMatch(new RegExp(`QuotaExceeded: .*DescribeAccountAttributes ManualSnapshots\\) in account ${record.accountId}, us-east-1: 99 used of 100, room for 1`));
    expect(first.states).toContain('Snapshot database');
    expect(first.states).not.toContain('Delete tenant stacks');
    // AND nothing was made or deleted: the same manual snapshots (no final snapshot), the instance and the stack still there
    expect((await snapshotIds()).sort()).toEqual(held);
    expect((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }))).DBInstances).toHaveLength(1);
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(record.accountId!) });
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-gob' }))).Stacks?.[0]?.StackStatus).toMatch(/_COMPLETE$/);

    // WHEN snapshots no longer needed are deleted (room for the offboarding's two) and DELETE is sent again
    for (const id of filler.slice(0, 2)) await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }));
    expect(await manualSnapshots()).toMatchObject({ Used: 97, Max: 100 });
    const second = await local.workflows.run('offboard', { request: { tenantId: 'gob', requestId: 'req-offboard-2' } });

    // THEN it finishes, leaving its two manual snapshots (the archived copy, CloudFormation's final snapshot): 99 of 100
    expect(second.error).toBeUndefined();
    expect((await getTenant('gob'))!.status).toBe('OFFBOARDED');
    expect(await manualSnapshots()).toMatchObject({ Used: 99, Max: 100 });
  }, 300_000);
});
