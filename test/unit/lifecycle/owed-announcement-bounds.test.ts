import { describe, expect, it } from 'vitest';
import { MAX_OWED_BYTES, MIN_OWED_DETAIL_BYTES, owe } from '../../../lambdas/lifecycle/announcements.js';
import { TenantRecord } from '../../../lib/tenant-record.js';

const at = '2026-12-07T10:00:00.000Z';
const tenant = () => TenantRecord.parse({
  tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@acme.example.com', status: 'ACTIVE', requestId: 'req-acme-0001', createdAt: at, updatedAt: at,
});
/** 40 tags at their longest (128 + 256 characters), in CJK: about 46 KB of UTF-8. */
const tags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'鍵'.repeat(126)}`, '値'.repeat(256)]));
const changed = (i: number) => ({ tenantId: 'acme', previousTier: 'starter', tier: 'starter', blueprintVersion: '0.11.0', executionArn: `arn:aws:states:us-east-1:111111111111:execution:tessera-change:acme-${i}`, tags });
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('owe: the owed announcements within MAX_OWED_BYTES', () => {
  it('keeps the first announcement whole when it fits (the largest the lifecycle writes: 40 CJK tags)', () => {
    const { owedAnnouncements } = owe(tenant(), 'Tenant Changed', changed(1), changed(1).executionArn);
    expect(owedAnnouncements).toEqual([expect.objectContaining({ detailType: 'Tenant Changed', detail: changed(1), executionArn: changed(1).executionArn })]);
    expect(bytes(owedAnnouncements)).toBeLessThanOrEqual(MAX_OWED_BYTES);
  });

  it('cuts a later one to what the earlier ones leave (at least MIN_OWED_DETAIL_BYTES): its tags\' first keys kept, tagsOmitted the rest; before, each kept its whole detail', () => {
    let record = tenant();
    for (let i = 1; i <= 6; i += 1) record = { ...record, ...owe(record, 'Tenant Changed', changed(i), changed(i).executionArn) };
    const owed = record.owedAnnouncements!;
    expect(owed.map((a) => a.executionArn)).toEqual([1, 2, 3, 4, 5, 6].map((i) => changed(i).executionArn));
    expect(owed[0].detail).toEqual(changed(1));
    for (const a of owed.slice(1)) {
      // the short fields whole, the tags cut and counted
      expect(a.detail).toMatchObject({ tenantId: 'acme', tier: 'starter', previousTier: 'starter', executionArn: a.executionArn });
      const kept = Object.keys(a.detail.tags as object);
      expect(kept).toEqual(Object.keys(tags).slice(0, kept.length));
      expect(a.detail.tagsOmitted).toBe(40 - kept.length);
      expect(bytes(a.detail)).toBeLessThan(Math.max(MIN_OWED_DETAIL_BYTES, MAX_OWED_BYTES - 46_000));
    }
    // within the budget and one MIN_OWED_DETAIL_BYTES entry per announcement past it
    expect(bytes(owed)).toBeLessThanOrEqual(MAX_OWED_BYTES + 5 * (MIN_OWED_DETAIL_BYTES + 300));
  });

  it('replaces the same execution\'s announcement of the same type (a retry of the step), as before', () => {
    const record = { ...tenant(), ...owe(tenant(), 'Tenant Changed', changed(1), changed(1).executionArn) };
    const again = owe(record, 'Tenant Changed', { ...changed(1), tags: { a: 'b' } }, changed(1).executionArn);
    expect(again.owedAnnouncements).toEqual([expect.objectContaining({ detail: { ...changed(1), tags: { a: 'b' } } })]);
  });
});
