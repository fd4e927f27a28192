import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { inject } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * The offboarding's final database snapshot on moto, through the real offboarding workflow: *Snapshot database* deletes
 * the final snapshot (`tessera-<id>-final-<ms>`, under the tenant key) once its archive-key copy is available, so the
 * offboarding leaves two manual snapshots (the copy, CloudFormation's at the stack deletion), not three; and a run after
 * the delete whose answer was lost neither fails on the missing snapshot nor copies again.
 */
const local = useLocalLifecycle();
const { config } = local;

describe('offboarding final snapshot', () => {
  it('is deleted once its copy is available; DELETE again after the delete\'s answer was lost finishes without a second copy', async () => {
    // GIVEN a starter tenant (the real blueprint: a database, DeletionPolicy Snapshot)
    const onboarded = await local.workflows.run('onboard', onboardRequest('bluth', 'starter'));
    expect(onboarded.error).toBeUndefined();
    const instance = (await getTenant('bluth'))!.stackOutputs.DatabaseInstanceId!;
    const rds = new RDSClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    const snapshotsOf = async () => ((await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instance, SnapshotType: 'manual' }))).DBSnapshots ?? [])
      .map((s) => s.DBSnapshotIdentifier!).sort();
    // AND every CopyDBSnapshot the Lambdas send counted; the Lambda that deletes the final snapshot dies once right after
    // RDS deleted it (a lost answer: a timeout)
    const copies: string[] = [];
    const deletes: string[] = [];
    let died = false;
    local.cleanups.push(inject('count-and-die', (next, context) => async (args) => {
      if (context.commandName === 'CopyDBSnapshotCommand') copies.push(args.input.TargetDBSnapshotIdentifier);
      if (context.commandName === 'DeleteDBSnapshotCommand') deletes.push(args.input.DBSnapshotIdentifier);
      const out = await next(args);
      if (context.commandName === 'DeleteDBSnapshotCommand') {
        if (!died) {
          died = true;
          throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' });
        }
      }
      return out;
    }));

    // WHEN DELETE: the run stops at Snapshot database (its Lambda timed out, not retried), the final snapshot deleted
    const first = await local.workflows.run('offboard', { request: { tenantId: 'bluth', requestId: 'req-offboard-1' } });
    expect(died).toBe(true);
    expect(first.status).toBe('FAILED');
    expect(first.error?.message ?? '').toMatch(/Sandbox\.Timedout/);
    expect(copies).toEqual([expect.stringMatching(/^tessera-bluth-final-\d+-archive$/)]);
    const finalSnapshot = copies[0].slice(0, -'-archive'.length);
    expect(deletes).toEqual([finalSnapshot]);
    expect(await snapshotsOf()).toEqual([copies[0]]);
    // the copy was recorded before the delete; the delete itself was not
    const stopped = (await getTenant('bluth'))!;
    expect(stopped.status).toBe('OFFBOARDING');
    expect(stopped.offboarding?.databaseSnapshot).toEqual({ instance, snapshotId: finalSnapshot, archiveSnapshotId: copies[0], archivedAt: expect.any(String) });

    // AND DELETE again
    const second = await local.workflows.run('offboard', { request: { tenantId: 'bluth', requestId: 'req-offboard-2' } });

    // THEN it finishes: the delete sent again (RDS: DBSnapshotNotFound, the delete done) and recorded, nothing copied again
    expect(second.error).toBeUndefined();
    expect(second.states).toContain('Snapshot database');
    expect(copies).toHaveLength(1);
    expect(deletes).toEqual([finalSnapshot, finalSnapshot]);
    const end = (await getTenant('bluth'))!;
    expect(end.status).toBe('OFFBOARDED');
    expect(end.offboarding?.databaseSnapshot).toEqual({ instance, snapshotId: finalSnapshot, archiveSnapshotId: copies[0], archivedAt: expect.any(String), sourceDeletedAt: expect.any(String) });
    // AND the offboarding leaves two manual snapshots of the instance: the archived copy and CloudFormation's final snapshot
    const left = await snapshotsOf();
    expect(left).toHaveLength(2);
    expect(left).toEqual(expect.arrayContaining([copies[0], expect.stringMatching(/^tessera-bluth-snapshot-databaseinstance/)]));
  }, 300_000);
});
