import { describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import type { GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { SharedMemoryStore } from '../../../lambdas/inference/stores/shared-memory-store.js';
import { tagsToRecord } from '../../../lambdas/inference/stores/tag-usage.js';
import { expectConcurrentAtLimit, expectTagLimit, expectTagScenario, settleTagged, settleTagScenario } from '../../support/tag-usage-scenario.js';

// Usage by request tag on the two embedded stores: the same answers (and the same as DynamoDB's on moto:
// test/integration/usage-by-tag-dynamodb.test.ts).
const tenants = [localTenant('other', 'enterprise'), localTenant('t', 'enterprise')];
const stores: Array<[string, () => GatewayStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SharedMemoryStore', () => new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants)],
];

describe.each(stores)('%s: usage by request tag', (_name, make) => {
  it('counts a settle with usage under each of its tags, today and this month; none without tags or without usage', async () => {
    const s = make();
    await settleTagScenario(s);
    await expectTagScenario(s);
  });

  it('records at most MAX_TAGS_PER_MONTH distinct tags a month and counts the requests with a tag past it', async () => {
    await expectTagLimit(make(), 't', '2026-09');
  });

  it('records exactly the limit\'s last 6 tags of 20 new ones settled at once, and counts the other 14 requests', async () => {
    await expectConcurrentAtLimit(make(), 't', '2026-04');
  });

  it('sums 200 concurrent settles of one tag exactly', async () => {
    const s = make();
    const at = new Date('2026-11-23T12:00:00Z');
    await Promise.all(Array.from({ length: 200 }, () => settleTagged(s, 't', at, ['checkout'], 10, 0.000001)));
    expect((await s.tagUsage('t', at)).tags).toEqual([{ tag: 'checkout', day: { tokens: 2000, costUsd: 0.0002, requests: 200 }, month: { tokens: 2000, costUsd: 0.0002, requests: 200 } }]);
  });
});

describe('SharedMemoryStore: the tag table', () => {
  it('keeps the tags of two tenants apart and reuses the slots of tags not counted for two months', async () => {
    const s = new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants);
    await expectTagLimit(s, 't', '2026-01');
    await expectTagLimit(s, 't', '2026-03'); // January's 256 tags (and February's one) give their slots to March's
    await settleTagged(s, 'other', new Date('2026-03-05T00:00:00Z'), ['job:0000'], 10, 0.00001);
    expect((await s.tagUsage('other', new Date('2026-03-05T00:00:00Z'))).tags.map((t) => [t.tag, t.month.requests])).toEqual([['job:0000', 1]]);
    expect((await s.tagUsage('t', new Date('2026-03-05T00:00:00Z'))).tags[0].month.requests).toBe(2);
  });
});

describe('tagsToRecord', () => {
  it('records the known tags, new ones while the month has room, in the order sent, and says when one was left out', () => {
    const known = new Set(['a', 'b']);
    expect(tagsToRecord(['x', 'a', 'y', 'b'], (t) => known.has(t), 2, 3)).toEqual({ recorded: ['x', 'a', 'b'], added: ['x'], dropped: true });
    expect(tagsToRecord(['x', 'a'], (t) => known.has(t), 2, 4)).toEqual({ recorded: ['x', 'a'], added: ['x'], dropped: false });
  });
});
