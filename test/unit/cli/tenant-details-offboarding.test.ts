import { describe, expect, it } from 'vitest';
import { tenantDetails } from '../../../lib/cli/format.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';

/**
 * `tessera tenants show` of an offboarded tenant. Found by the day-2 teardown walk-through (s20, nuup): the text
 * showed the stack outputs and history only, none of `offboarding` (the archive export, the final snapshot, the
 * tenant key queued until when or scheduled for when, the stores kept) nor `accountClosure`, which the README's
 * Teardown sends an operator to before `cdk destroy`.
 */
const keyArn = 'arn:aws:kms:us-east-1:333333333333:key/d9ec5e0d-bb3a-49bb-ac6e-f122ebda60c9';
const archiveKey = 'arn:aws:kms:us-east-1:555555555555:key/0f0e0d0c-0b0a-4998-8776-655443322110';
const record = (extra: Partial<TenantRecord> = {}): TenantRecord => ({
  tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001',
  status: 'OFFBOARDED', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T07:00:00.000Z', stackOutputs: {}, executions: [], ...extra,
} as TenantRecord);
const offboarding = (keyDeletion: NonNullable<TenantRecord['offboarding']>['keyDeletion'], stores: NonNullable<TenantRecord['offboarding']>['retainedStores'] = []) => ({
  export: { prefix: 'acme/2026-12-03T200457Z/', versions: 12, currentObjects: 10, noncurrentVersions: 1, deleteMarkers: 1, bytes: 4096, manifestParts: 1, verifiedAt: '2026-12-03T20:04:57.532Z' },
  databaseSnapshot: { instance: 'tessera-acme', snapshotId: 'tessera-acme-final-1', archiveSnapshotId: 'tessera-acme-final-1-archive', archivedAt: '2026-12-03T20:04:57.616Z' },
  liftedProtections: [], keyDeletion, retainedStores: stores,
});

describe('tenantDetails: what an offboarding kept', () => {
  it('names the archive export, the final snapshot, the queued key with its date and every retained store', () => {
    const text = tenantDetails(record({ offboarding: offboarding({ state: 'QUEUED', keyArn, dueAt: '2027-12-03T20:04:58.121Z' }, [
      { store: 'log-group', id: '/tessera/acme/vpc-flow-logs', keyArn, keptUntil: '2027-12-03T20:04:58.121Z', disposition: 'expires', holdsKey: true },
      { store: 'bucket', id: 'tessera-acme-storageaccesslogsbucket06e03aa1-0ctuqv3hlb66', encryption: 'SSE-S3', disposition: 'review', holdsKey: false },
      { store: 'db-snapshot', id: 'tessera-acme-final-1-archive', keyArn: archiveKey, disposition: 'archived', holdsKey: false },
    ]) }));
    expect(text).toContain('  archive     acme/2026-12-03T200457Z/ in the admin archive bucket (12 versions, 4096 bytes; verified 2026-12-03T20:04:57.532Z)');
    expect(text).toContain('  snapshot    tessera-acme-final-1-archive (archive-key copy of tessera-acme-final-1, shared with the platform account)');
    expect(text).toContain(`  key         ${keyArn}: queued until 2027-12-03T20:04:58.121Z`);
    expect(text).toMatch(/^ {2}log-group +\/tessera\/acme\/vpc-flow-logs +expires +2027-12-03T20:04:58\.121Z +yes +tenant key$/m);
    expect(text).toMatch(/^ {2}bucket +tessera-acme-storageaccesslogsbucket06e03aa1-0ctuqv3hlb66 +review +- +no +SSE-S3$/m);
    expect(text).toMatch(new RegExp(`^ {2}db-snapshot +tessera-acme-final-1-archive +archived +- +no +${archiveKey}$`, 'm'));
    expect(text.indexOf('offboarding')).toBeLessThan(text.indexOf('history') === -1 ? Infinity : text.indexOf('history'));
  });

  it('says when the final snapshot under the tenant key was deleted, its copy made (s42b: before, it was kept)', () => {
    const o = offboarding({ state: 'QUEUED', keyArn, dueAt: '2027-12-03T20:04:58.121Z' });
    const text = tenantDetails(record({ offboarding: { ...o, databaseSnapshot: { ...o.databaseSnapshot, sourceDeletedAt: '2026-12-03T20:04:58.002Z' } } }));
    expect(text).toContain('  snapshot    tessera-acme-final-1-archive (archive-key copy of tessera-acme-final-1, shared with the platform account; tessera-acme-final-1 deleted 2026-12-03T20:04:58.002Z)');
  });

  it('says when the removal of an emptied vault was refused (tried again daily), and when one was removed (session 48)', () => {
    const text = tenantDetails(record({ offboarding: offboarding({ state: 'SCHEDULED', keyArn, deletionDate: '2026-10-08T06:00:00.000Z' }, [
      { store: 'backup-vault', id: 'tessera-acme-database', keyArn, keptUntil: '2026-10-01T00:00:00.000Z', disposition: 'expires', holdsKey: false, removalRefused: '2026-10-01T06:00:00.000Z: InvalidRequestException: it contains recovery points' },
      { store: 'log-group', id: '/tessera/acme/vpc-flow-logs', keyArn, keptUntil: '2026-10-01T00:00:00.000Z', disposition: 'expires', holdsKey: true, removedAt: '2026-10-01T06:00:00.000Z' },
    ]) }));
    expect(text).toMatch(/^ {2}backup-vault +tessera-acme-database +expires +removal refused 2026-10-01T06:00:00\.000Z, tried daily +no +tenant key$/m);
    expect(text).toMatch(/^ {2}log-group +\/tessera\/acme\/vpc-flow-logs +expires +removed 2026-10-01T06:00:00\.000Z +yes +tenant key$/m);
  });

  it('names the VPC range the offboarding gave back to the pool (the record holds none any more)', () => {
    const text = tenantDetails(record({ offboarding: { ...offboarding({ state: 'SCHEDULED', keyArn }), network: { vpcCidr: '10.64.8.0/22', releasedAt: '2026-12-03T20:05:10.000Z' } } }));
    expect(text).toContain('vpc         - (10.64.8.0/22 given back to the pool 2026-12-03T20:05:10.000Z)');
  });

  it('says when KMS deletes a scheduled key, what holds a held one, and the account closure', () => {
    expect(tenantDetails(record({ offboarding: offboarding({ state: 'SCHEDULED', keyArn, deletionDate: '2027-01-02T00:00:00.000Z' }) })))
      .toContain(`${keyArn}: deletion scheduled, KMS deletes it on 2027-01-02T00:00:00.000Z`);
    const held = tenantDetails(record({ offboarding: offboarding({ state: 'HELD', keyArn }, [
      { store: 'queue', id: 'tessera-acme-dlq-x', keyArn, disposition: 'review', holdsKey: true },
    ]) }));
    expect(held).toContain(`${keyArn}: held by 1 store(s)`);
    const closed = tenantDetails(record({ isolation: 'account', accountId: '944505401567',
      offboarding: offboarding({ state: 'WITH_ACCOUNT_CLOSURE', keyArn }),
      accountClosure: { accountId: '944505401567', state: 'NEEDS_OPERATOR', at: '2026-12-08T03:00:00.000Z', attempts: 5, error: 'AccessDeniedException: denied' } }));
    expect(closed).toContain('  account     944505401567 closure NEEDS_OPERATOR at 2026-12-08T03:00:00.000Z (5 attempts): AccessDeniedException: denied');
    expect(closed).toContain(`${keyArn}: goes with the account's closure`);
  });

  // Found by a platform engineer trying the README (s22): the tenant key's own retained-store row read `review` (as the
  // inventory records it, before Schedule key deletion decides) under a key line saying it was queued for deletion.
  it('the tenant key\'s row says what Schedule key deletion did: queued, scheduled, with the account; review only when held', () => {
    const keyStore = { store: 'key' as const, id: 'd9ec5e0d-bb3a-49bb-ac6e-f122ebda60c9', keyArn, disposition: 'review' as const, holdsKey: false, note: 'the tenant key; see offboarding.keyDeletion' };
    const rowOf = (text: string) => text.split('\n').find((l) => /^ {2}key +d9ec5e0d/.test(l));
    const queued = tenantDetails(record({ stackOutputs: { KeyArn: keyArn }, offboarding: offboarding({ state: 'QUEUED', keyArn, dueAt: '2027-12-03T20:04:58.121Z' }, [keyStore]) }));
    expect(queued).toContain(`  key         ${keyArn}: queued until 2027-12-03T20:04:58.121Z`);
    expect(rowOf(queued)).toMatch(/^ {2}key +d9ec5e0d-bb3a-49bb-ac6e-f122ebda60c9 +queued +2027-12-03T20:04:58\.121Z +no +tenant key$/);
    const scheduled = tenantDetails(record({ offboarding: offboarding({ state: 'SCHEDULED', keyArn, deletionDate: '2027-01-02T00:00:00.000Z' }, [keyStore]) }));
    expect(rowOf(scheduled)).toMatch(/ scheduled +2027-01-02T00:00:00\.000Z +no +tenant key$/);
    expect(rowOf(tenantDetails(record({ offboarding: offboarding({ state: 'WITH_ACCOUNT_CLOSURE', keyArn }, [keyStore]) })))).toMatch(/ with account +- +no +tenant key$/);
    expect(rowOf(tenantDetails(record({ offboarding: offboarding({ state: 'HELD', keyArn }, [keyStore]) })))).toMatch(/ review +- +no +tenant key$/);
  });

  it('prints no offboarding section for a tenant never offboarded', () => {
    expect(tenantDetails(record({ status: 'ACTIVE' }))).not.toMatch(/^offboarding/m);
  });

  it('shows what the offboarding revoked (offboarding.identities) and what it erased of the pooled gateway data (offboarding.pooledData)', () => {
    const executionArns = ['arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:1'];
    const text = tenantDetails(record({ offboarding: {
      ...offboarding({ state: 'QUEUED', keyArn, dueAt: '2027-12-03T20:04:58.121Z' }),
      identities: { apiKeys: { deleted: 3, checkedAt: '2026-12-03T20:00:01.000Z' }, users: { disabled: 2, gone: 1, checkedAt: '2026-12-03T20:00:02.000Z' }, executionArns },
      pooledData: { erased: { responses: 120, conversations: 2, conversationItems: 14, batches: 1, batchFiles: 3, vectorStores: 4, other: 0 }, objectsDeleted: 5, complete: true, checkedAt: '2026-12-03T20:00:09.000Z', executionArns },
    } }));
    expect(text).toContain('  identities  3 API key record(s) deleted (checked 2026-12-03T20:00:01.000Z); 2 user(s) disabled, 1 gone before (checked 2026-12-03T20:00:02.000Z); 1 execution(s)');
    expect(text).toContain('  pooled data erased 120 stored response(s), 2 conversation(s), 14 conversation item record(s), 1 batch(es), 3 batch file(s), 4 vector store record(s), 0 other item(s); 5 object(s) deleted; complete (checked 2026-12-03T20:00:09.000Z); 1 execution(s)');
    // users left alone with an external identity provider, and an erasure still running
    const other = tenantDetails(record({ offboarding: {
      ...offboarding(undefined),
      identities: { apiKeys: { deleted: 0, checkedAt: '2026-12-03T20:00:01.000Z' }, users: { skipped: 'no platform user pool', checkedAt: '2026-12-03T20:00:01.000Z' }, executionArns },
      pooledData: { erased: { responses: 1000, conversations: 0, conversationItems: 0, batches: 0, batchFiles: 0, vectorStores: 0, other: 0 }, objectsDeleted: 0, complete: false, checkedAt: '2026-12-03T20:00:05.000Z', executionArns },
    } }));
    expect(other).toContain('users left alone (no platform user pool; 2026-12-03T20:00:01.000Z)');
    expect(other).toContain('in progress (last run 2026-12-03T20:00:05.000Z)');
  });

  it('shows what the offboarding gave an expiry of the pooled gateway data with the erasure off (offboarding.pooledDataExpiry)', () => {
    const executionArns = ['arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:1'];
    const text = tenantDetails(record({ offboarding: {
      ...offboarding(undefined),
      pooledDataExpiry: { bounded: { responses: 0, conversations: 0, conversationItems: 0, batches: 0, batchFiles: 2, vectorStores: 3, other: 0 }, keptFilesMoved: 2, expiresAt: '2027-01-04T20:00:00.000Z', complete: true, checkedAt: '2026-12-05T20:00:09.000Z', executionArns },
    } }));
    expect(text).toContain('  pooled data expiring by 2027-01-04T20:00:00.000Z: TTL given to 0 stored response(s), 0 conversation(s), 0 conversation item record(s), 0 batch(es), 2 batch file(s), 3 vector store record(s), 0 other item(s); 2 kept file(s) moved to the expiring prefix; complete (checked 2026-12-05T20:00:09.000Z); 1 execution(s)');
  });

  it('a long reason for users left alone goes on indented lines of its own, each short, every fact kept', () => {
    const reason = 'the platform has no user pool (TESSERA_USER_POOL_ID is not set) and no external identity provider (gateway.jwt is not configured either): it makes no tenant users, as a local platform or a demo, which have no pool';
    const text = tenantDetails(record({ offboarding: {
      ...offboarding(undefined),
      identities: { apiKeys: { deleted: 0, checkedAt: '2026-12-05T09:03:46.813Z' }, users: { skipped: reason, checkedAt: '2026-12-05T09:03:46.872Z' }, executionArns: ['arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:1'] },
    } }));
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  identities  '));
    expect(lines.slice(at, at + 4)).toEqual([
      '  identities  0 API key record(s) deleted (checked 2026-12-05T09:03:46.813Z); users left alone (checked 2026-12-05T09:03:46.872Z; why below); 1 execution(s)',
      '              users left alone: the platform has no user pool (TESSERA_USER_POOL_ID is not set) and no external',
      '                identity provider (gateway.jwt is not configured either): it makes no tenant users, as a local',
      '                platform or a demo, which have no pool',
    ]);
  });
});
