import { describe, expect, it } from 'vitest';
import { canonicalJson, changeSha256, describeDigest, digestChange, isRecordedChange, MAX_FULL_CHANGES_BYTES, withChangesBounded, type RecordedChange } from '../../../lib/change-digest.js';
import { LifecycleExecution } from '../../../lib/tenant-record.js';

/** 40 tags at their limits in CJK (a 128-character key, a 256-character value): about 46 KB of UTF-8. */
const longestTags = (n: number) => Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'鍵'.repeat(126)}`, `${'値'.repeat(255)}${n}`]));
const at = '2026-12-07T10:00:00.000Z';
const entry = (i: number, change?: LifecycleExecution['change']): LifecycleExecution =>
  ({ kind: 'change', requestId: `req-${i}`, executionArn: `arn:aws:states:us-east-1:111111111111:execution:tessera-change:c-${i}`, startedAt: at, endedAt: at, status: 'SUCCEEDED', ...(change ? { change } : {}) });

describe('a change request\'s digest', () => {
  it('the same request in another key order has the same digest; another value, another key or another field another', () => {
    const a = { tier: 'professional', tags: { B: '2', A: '1' }, allowReplacement: { reason: 'the cache is rebuilt' } };
    const b = { allowReplacement: { reason: 'the cache is rebuilt' }, tags: { A: '1', B: '2' }, tier: 'professional' };
    expect(canonicalJson(a)).toBe('{"allowReplacement":{"reason":"the cache is rebuilt"},"tags":{"A":"1","B":"2"},"tier":"professional"}');
    expect(changeSha256(a)).toBe(changeSha256(b));
    expect(changeSha256(a)).toMatch(/^[0-9a-f]{64}$/);
    const others: RecordedChange[] = [{ ...a, tags: { A: '1', B: '3' } }, { ...a, tags: { A: '1', B: '2', C: '3' } }, { ...a, tier: 'enterprise' }, { tier: a.tier, tags: a.tags }, { ...a, repair: true }];
    for (const other of others) {
      expect(changeSha256(other)).not.toBe(changeSha256(a));
    }
  });

  it('canonical JSON: keys sorted at depth, undefined values dropped as JSON.stringify drops them, `constructor` a key like any, Unicode normalization kept (NFC and NFD are two requests, as AWS takes two tag keys)', () => {
    expect(canonicalJson({ allowReplacement: { z: '1', reason: 'r' } as never, tier: undefined })).toBe('{"allowReplacement":{"reason":"r","z":"1"}}');
    expect(changeSha256({ tier: 'x', blueprintVersion: undefined })).toBe(changeSha256({ tier: 'x' }));
    expect(canonicalJson({ tags: { constructor: 'c', A: 'a' } })).toBe('{"tags":{"A":"a","constructor":"c"}}');
    const nfc = { tags: { 'caf\u00e9': '1' } };
    const nfd = { tags: { 'cafe\u0301': '1' } };
    expect(changeSha256(nfc)).not.toBe(changeSha256(nfd));
    // an entry from before the digest, with its full change, compares as a digested one would
    expect(isRecordedChange(entry(1, { tier: 'professional', blueprintVersion: '2.0.0' }), { blueprintVersion: '2.0.0', tier: 'professional' })).toBe(true);
    expect(isRecordedChange({ changeDigest: digestChange({ tier: 'professional', blueprintVersion: '2.0.0' }) }, { blueprintVersion: '2.0.0', tier: 'professional' })).toBe(true);
    expect(isRecordedChange({ changeDigest: digestChange(nfc) }, nfd)).toBe(false);
  });

  it('summarizes: the tier, version and repair asked, the number of tags, whether it carried allowReplacement; it parses as the schema\'s changeDigest', () => {
    const d = digestChange({ tier: 'professional', blueprintVersion: '2.0.0', tags: longestTags(1), allowReplacement: { reason: 'x'.repeat(500) } });
    expect(d).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), tier: 'professional', blueprintVersion: '2.0.0', tagCount: 40, allowReplacement: true });
    expect(LifecycleExecution.parse({ ...entry(1), changeDigest: d }).changeDigest).toEqual(d);
    expect(Buffer.byteLength(JSON.stringify(d))).toBeLessThan(200);
    expect(describeDigest(d)).toBe(`tier professional, blueprint 2.0.0, 40 tags, allow-replacement (sha256 ${d.sha256.slice(0, 12)}…)`);
    expect(digestChange({ tags: {} })).toEqual({ sha256: expect.any(String), tagCount: 0 });
    expect(describeDigest(digestChange({ repair: true }))).toMatch(/^repair \(sha256 [0-9a-f]{12}…\)$/);
  });

  it('compares a replay: with the full change, else with the digest (same body → true, another → false), undefined with neither', () => {
    const asked = { tags: longestTags(1) };
    const reordered = { tags: Object.fromEntries(Object.entries(longestTags(1)).reverse()) };
    const digested = { changeDigest: digestChange(asked) };
    expect(isRecordedChange(digested, reordered)).toBe(true);
    expect(isRecordedChange(digested, { tags: longestTags(2) })).toBe(false);
    expect(isRecordedChange(digested, { ...asked, tier: 'starter' })).toBe(false);
    expect(isRecordedChange({ change: asked }, reordered)).toBe(true);
    expect(isRecordedChange({ change: asked }, { tags: longestTags(2) })).toBe(false);
    expect(isRecordedChange({}, asked)).toBeUndefined();
  });

  it('an entry recorded before the digest existed (change only, or neither) still parses', () => {
    expect(LifecycleExecution.parse(entry(1, { tier: 'professional' })).changeDigest).toBeUndefined();
    expect(LifecycleExecution.parse(entry(2)).change).toBeUndefined();
    expect(() => LifecycleExecution.parse({ ...entry(3), changeDigest: { sha256: 'not-hex' } })).toThrow();
  });
});

describe('a history\'s change requests bounded (withChangesBounded)', () => {
  it('keeps the newest small changes in full and digests the older ones once they pass MAX_FULL_CHANGES_BYTES; other entries untouched', () => {
    // 60 changes of 10 ASCII tags of about 200 bytes each: about 2.2 KB per request
    const tags = (i: number) => Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`Key${j}`, `${i}-${'v'.repeat(190)}`]));
    const history = [{ kind: 'suspend', requestId: 's', startedAt: at, status: 'SUCCEEDED' } as LifecycleExecution, ...Array.from({ length: 60 }, (_, i) => entry(i, { tags: tags(i) }))];
    const bounded = withChangesBounded(history);
    expect(bounded).toHaveLength(61);
    expect(bounded[0]).toEqual(history[0]);
    const full = bounded.filter((e) => e.change);
    // the newest ones, in full, within the budget; every older one digested, none with both
    expect(full.map((e) => e.requestId)).toEqual(history.slice(-full.length).map((e) => e.requestId));
    expect(full.length).toBeGreaterThan(0);
    expect(full.reduce((n, e) => n + Buffer.byteLength(canonicalJson(e.change)), 0)).toBeLessThanOrEqual(MAX_FULL_CHANGES_BYTES);
    for (const [i, e] of bounded.slice(1, -full.length).entries()) {
      expect(e.change).toBeUndefined();
      expect(e.changeDigest).toEqual(digestChange(history[i + 1]!.change!));
    }
    // idempotent: bounding again changes nothing
    expect(withChangesBounded(bounded)).toEqual(bounded);
  });

  it('a change too large to keep in full is digested even when it is the newest (and RUNNING); a small one before it stays in full', () => {
    const history = [entry(0, { tags: longestTags(0) }), entry(1, { tier: 'professional' }), { ...entry(2, { tags: longestTags(2) }), status: 'RUNNING' as const, endedAt: undefined }];
    const bounded = withChangesBounded(history);
    expect(bounded[2]).toMatchObject({ status: 'RUNNING', changeDigest: { tagCount: 40 } });
    expect(bounded[2]!.change).toBeUndefined();
    expect(bounded[1]).toEqual(history[1]);
    expect(bounded[0]).toMatchObject({ changeDigest: digestChange({ tags: longestTags(0) }) });
    expect(bounded[0]!.change).toBeUndefined();
  });
});
