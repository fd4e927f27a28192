import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearKeyContainersLeft, enqueueKeyDeletion, keyDeletions, markKeyDeletionScheduled, recordKeyContainersLeft } from '../../lambdas/shared/control-table.js';
import { configWithBusinessTier } from './support/business-tier.js';
import { LocalPlatform } from './support/local-platform.js';

/**
 * The key-deletion queue's `containersLeft` mark (session 48, hostile pass on offboarding): a scheduled key whose emptied
 * Backup vault AWS Backup refused (a recovery point still in it) keeps a mark on its control-table entry, so the daily
 * job tries the vault again; before, the entry was SCHEDULED and nothing came back to it. The writes' conditions, on
 * DynamoDB (moto): the offboarding's mark never takes over a QUEUED entry (the daily job owns it).
 */
let platform: LocalPlatform;
beforeAll(async () => { platform = await LocalPlatform.start(configWithBusinessTier()); });
afterAll(async () => { await platform?.settle(); await platform?.stop(); });

const KEY = 'arn:aws:kms:us-east-1:333333333333:key/containers-left';
const entryOf = async (keyArn: string) => (await keyDeletions()).find((k) => k.keyArn === keyArn);

describe('key deletion entries: containersLeft', () => {
  it('a queued key marked scheduled with containers left keeps the mark until it is cleared', async () => {
    await enqueueKeyDeletion({ keyArn: KEY, accountId: '333333333333', tenantId: 'leftco', dueAt: '2026-10-01T00:00:00.000Z' });
    expect(await markKeyDeletionScheduled(KEY, '2026-10-08T00:00:00.000Z', true)).toBe(true);
    expect(await entryOf(KEY)).toMatchObject({ status: 'SCHEDULED', containersLeft: true, deletionDate: '2026-10-08T00:00:00.000Z' });
    await clearKeyContainersLeft(KEY);
    const cleared = await entryOf(KEY);
    expect(cleared).toMatchObject({ status: 'SCHEDULED', deletionDate: '2026-10-08T00:00:00.000Z' });
    expect(cleared).not.toHaveProperty('containersLeft');
  });

  it('the offboarding\'s mark is written for a key never queued, never over a QUEUED entry', async () => {
    const now = `${KEY}-now`;
    expect(await recordKeyContainersLeft({ keyArn: now, accountId: '333333333333', tenantId: 'nowco', dueAt: '2026-10-01T00:00:00.000Z', deletionDate: '2026-10-08T00:00:00.000Z' })).toBe(true);
    expect(await entryOf(now)).toMatchObject({ status: 'SCHEDULED', containersLeft: true, tenantId: 'nowco' });
    const queued = `${KEY}-queued`;
    await enqueueKeyDeletion({ keyArn: queued, accountId: '333333333333', tenantId: 'queuedco', dueAt: '2999-01-01T00:00:00.000Z' });
    expect(await recordKeyContainersLeft({ keyArn: queued, accountId: '333333333333', tenantId: 'queuedco', dueAt: '2026-10-01T00:00:00.000Z' })).toBe(false);
    expect(await entryOf(queued)).toMatchObject({ status: 'QUEUED', dueAt: '2999-01-01T00:00:00.000Z' });
    expect(await entryOf(queued)).not.toHaveProperty('containersLeft');
  });
});
