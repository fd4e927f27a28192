import { describe, expect, it } from 'vitest';
import { useLocalLifecycle } from './support/local-lifecycle.js';
import { getTenant, putNewTenant } from '../../lambdas/shared/registry.js';
import { acquireLease, completeOperation } from '../../lambdas/lifecycle/lease.js';
import { changeSha256, digestChange } from '../../lib/change-digest.js';
import { HISTORY_ENTRIES, TenantRecord } from '../../lib/tenant-record.js';

/**
 * A tenant's history of tag changes within DynamoDB's 400 KB item ("Item sizes and formats": the UTF-8 bytes of attribute
 * names and values). Each change's entry kept what was asked in full (`change.tags`: 40 CJK tags at their limits, about
 * 46 KB), and HISTORY_ENTRIES (50) of them were kept: after about eight such changes moto refused the write as DynamoDB does
 * (ValidationException "Item size to update has exceeded the maximum allowed size"), the change's lease could not be taken
 * nor its end recorded, and the registry could no longer say anything new of the tenant. An entry now keeps the request's
 * digest (lib/change-digest.ts) once it is not among the newest MAX_FULL_CHANGES_BYTES of them.
 */
useLocalLifecycle();

/** 40 tags at their limits (a key of 128 characters, a value of 256: TenantTags), in CJK (3 UTF-8 bytes each): the `n`th set, every value its own. */
const longestTags = (n: number) => Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'鍵'.repeat(126)}`, `${String(n).padStart(3, '0')}${'値'.repeat(253)}`]));

describe('55 tag changes with CJK tags at their limits on one tenant', () => {
  it('each one\'s lease taken and end recorded: the history keeps each request\'s digest, the item stays well under 400 KB', async () => {
    const at = '2026-12-07T10:00:00.000Z';
    expect(Buffer.byteLength(JSON.stringify(longestTags(0)))).toBeGreaterThan(45_000);
    await putNewTenant(TenantRecord.parse({
      tenantId: 'tagstorm', name: 'Tag storm', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@tagstorm.example.com', status: 'ACTIVE',
      requestId: 'req-tagstorm-0000', createdAt: at, updatedAt: at, tags: longestTags(0),
    }));
    // WHEN 55 changes run one after another, each asking for a new set of 40 tags at their limits: the admin API's lease with
    // the entry as it records the request (askedChange), then *Finish change*'s completing write of the tags
    for (let i = 1; i <= 55; i += 1) {
      const request = { kind: 'change' as const, executionArn: `arn:aws:states:us-east-1:111111111111:execution:tessera-change:tagstorm-${i}`, requestId: `tagstorm-tags-${i}` };
      await acquireLease('tagstorm', request, {}, { entry: { change: { tags: longestTags(i) }, actor: 'admin:arn:aws:iam::111111111111:user/ops' } });
      // (before: after about eight of them, ValidationException "Item size to update has exceeded the maximum allowed size")
      await completeOperation('tagstorm', request, { tags: longestTags(i) });
    }
    // THEN every change is on record, the last 50 in the history, each with its request's digest (the full tags are the
    // tenant's own `tags` after the last one)
    const record = (await getTenant('tagstorm'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', tags: longestTags(55) });
    expect(record.lease).toBeUndefined();
    const changes = record.executions.filter((e) => e.kind === 'change');
    expect(changes.map((e) => e.requestId)).toEqual(Array.from({ length: HISTORY_ENTRIES }, (_, i) => `tagstorm-tags-${i + 6}`));
    for (const [i, e] of changes.entries()) {
      expect(e.status).toBe('SUCCEEDED');
      expect(e.change).toBeUndefined();
      expect(e.changeDigest).toEqual(digestChange({ tags: longestTags(i + 6) }));
      expect(e.changeDigest!.sha256).toBe(changeSha256({ tags: longestTags(i + 6) }));
    }
    // the whole item, as JSON (which counts more than DynamoDB does), about 105 KB: the tenant's tags and 50 digests
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(120_000);
  }, 240_000);
});
