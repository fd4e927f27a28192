import { expect } from 'vitest';
import { MAX_TAGS_PER_MONTH, type GatewayStore, type Reservation } from '../../lambdas/inference/stores/gateway-store.js';

// Usage by request tag (GET /v1/usage?group_by=tag), one scenario every GatewayStore must answer alike: MemoryStore and
// SharedMemoryStore (test/unit/inference/stores-tag-usage.test.ts) and DynamoDbStore on moto
// (test/integration/usage-by-tag-dynamodb.test.ts).

const MINI = 'openai/gpt-4o-mini';
const day23 = new Date('2026-11-23T10:15:30Z');
const day24 = new Date('2026-11-24T08:00:00Z');
const october = new Date('2026-10-31T23:59:59Z');

/** Reserves on `tenant` at `now`, tagged as the pipeline tags a reservation, and settles `tokens` for `costUsd` (with usage, unless `released`). */
export async function settleTagged(s: GatewayStore, tenant: string, now: Date, tags: string[], tokens: number, costUsd: number, released = false): Promise<void> {
  const r: Reservation = { ...(await s.reserve(tenant, 500, 0.01, {}, now, { kind: 'key', id: 'key_00000000000000aa' })), tags };
  if (released) return s.settle(r, 0, 0);
  await s.settle(r, tokens, costUsd, { model: MINI, promptTokens: tokens - 10, completionTokens: 10, reported: true, estimatedTokens: tokens });
}

/**
 * On tenant `t`: 31 October `checkout` (another month); 23 November, `checkout` + `env=prod` (120 tokens, USD 0.0012), `checkout` alone (60, 0.0006), no tags
 * (30, 0.0003: under none), `env=prod` released (nothing produced: under none); 24 November `checkout` (15, 0.000015); tenant `other`'s `checkout`.
 */
export async function settleTagScenario(s: GatewayStore): Promise<void> {
  await settleTagged(s, 't', october, ['checkout'], 7, 0.00001); // first: the embedded stores keep a tag's current and previous month
  await settleTagged(s, 't', day23, ['checkout', 'env=prod'], 120, 0.0012);
  await settleTagged(s, 't', day23, ['checkout'], 60, 0.0006);
  await settleTagged(s, 't', day23, [], 30, 0.0003);
  await settleTagged(s, 't', day23, ['env=prod'], 0, 0, true);
  await settleTagged(s, 't', day24, ['checkout'], 15, 0.000015);
  await settleTagged(s, 'other', day23, ['checkout'], 2000, 1);
}

/** The answers after settleTagScenario, added up by hand, on 24 November and on 23 November. */
export async function expectTagScenario(s: GatewayStore): Promise<void> {
  expect(await s.tagUsage('t', day24)).toEqual({
    tags: [
      { tag: 'checkout', day: { tokens: 15, costUsd: 0.000015, requests: 1 }, month: { tokens: 195, costUsd: 0.001815, requests: 3 } },
      { tag: 'env=prod', day: { tokens: 0, costUsd: 0, requests: 0 }, month: { tokens: 120, costUsd: 0.0012, requests: 1 } },
    ],
    unrecorded: 0,
  });
  expect((await s.tagUsage('t', day23)).tags.map((t) => [t.tag, t.day])).toEqual([
    ['checkout', { tokens: 180, costUsd: 0.0018, requests: 2 }], ['env=prod', { tokens: 120, costUsd: 0.0012, requests: 1 }],
  ]);
  // October's month (its last day is two days back: the embedded stores keep a current and a previous day, as for users and keys).
  expect((await s.tagUsage('t', october)).tags.map((t) => [t.tag, t.month])).toEqual([['checkout', { tokens: 7, costUsd: 0.00001, requests: 1 }]]);
  expect((await s.tagUsage('other', day23)).tags.map((t) => [t.tag, t.month.costUsd])).toEqual([['checkout', 1]]);
  expect(await s.tagUsage('t', new Date('2026-12-01T00:00:00Z'))).toEqual({ tags: [], unrecorded: 0 });
}

/**
 * A tenant sending a new tag on every request: MAX_TAGS_PER_MONTH distinct tags are recorded in the month, then a request
 * with a known tag and a new one counts under the known one and once in `unrecorded`, and one with only new tags in
 * `unrecorded` alone; the next month starts empty. `month` is `YYYY-MM` (a month no other test of the store uses).
 */
export async function expectTagLimit(s: GatewayStore, tenant: string, month: string): Promise<void> {
  const at = new Date(`${month}-10T12:00:00Z`);
  const tags = Array.from({ length: MAX_TAGS_PER_MONTH }, (_, i) => `job:${String(i).padStart(4, '0')}`);
  for (let i = 0; i < tags.length; i += 16) await settleTagged(s, tenant, at, tags.slice(i, i + 16), 10, 0.00001);
  await settleTagged(s, tenant, at, ['job:0000', 'job:9999'], 10, 0.00001);
  await settleTagged(s, tenant, at, ['job:9998', 'job:9997'], 10, 0.00001);
  const listed = await s.tagUsage(tenant, at);
  expect(listed.tags.map((t) => t.tag)).toEqual(tags);
  expect(listed.tags[0].month).toEqual({ tokens: 20, costUsd: 0.00002, requests: 2 });
  expect(listed.tags[1].month).toEqual({ tokens: 10, costUsd: 0.00001, requests: 1 });
  expect(listed.unrecorded).toBe(2);
  const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 2));
  await settleTagged(s, tenant, next, ['job:9999'], 10, 0.00001);
  expect(await s.tagUsage(tenant, next)).toEqual({ tags: [{ tag: 'job:9999', day: { tokens: 10, costUsd: 0.00001, requests: 1 }, month: { tokens: 10, costUsd: 0.00001, requests: 1 } }], unrecorded: 0 });
}

/**
 * 20 settles sent at once, each with a tag new to a month that has MAX_TAGS_PER_MONTH - 6 tags: exactly 6 are recorded,
 * whichever, and 14 requests counted in `unrecorded` (on DynamoDB, the registry's condition refuses the rest, which
 * read it and are sent again). `month` is `YYYY-MM` (a month no other test of the store uses).
 */
export async function expectConcurrentAtLimit(s: GatewayStore, tenant: string, month: string): Promise<void> {
  const at = new Date(`${month}-10T12:00:00Z`);
  const first = Array.from({ length: MAX_TAGS_PER_MONTH - 6 }, (_, i) => `old:${i}`);
  for (let i = 0; i < first.length; i += 16) await settleTagged(s, tenant, at, first.slice(i, i + 16), 10, 0.00001);
  await Promise.all(Array.from({ length: 20 }, (_, i) => settleTagged(s, tenant, at, [`new:${i}`], 10, 0.00001)));
  const listed = await s.tagUsage(tenant, at);
  expect(listed.tags).toHaveLength(MAX_TAGS_PER_MONTH);
  expect(listed.tags.filter((t) => t.tag.startsWith('new:')).map((t) => t.month.requests)).toEqual([1, 1, 1, 1, 1, 1]);
  expect(listed.unrecorded).toBe(14);
}
