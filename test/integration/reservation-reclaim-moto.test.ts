import { DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECLAIM_ENV } from '../../lambdas/inference/reclaim/environment.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore, usageIds } from '../../lambdas/inference/stores/dynamodb-store.js';
import type { Subject } from '../../lambdas/inference/stores/gateway-store.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// The reservation reclaim (lambdas/inference/reclaim/reclaim-handler.ts) on DynamoDB (moto): the
// gateway's own store reserves for a tenant and its key on 23 November, one request is lost (never
// settled: its router Lambda died) and one is settled; the Lambda's handler, as the schedule of
// 24 November 00:30 UTC invokes it, leaves the day and month items of the tenant and of the key
// counting exactly the settled request and holding nothing; a second run changes nothing. moto runs
// serial: DynamoDB applies each transaction and ADD atomically, moto_server's threads do not.
let moto: MotoServer;
let store: DynamoDbStore;
const day = '2026-11-23';
const during = new Date(`${day}T23:50:00Z`);
const key: Subject = { kind: 'key', id: 'key_0123456789abcdef' };
const user: Subject = { kind: 'user', id: '3f1c9a6e-5a43-4d2e-9a7b-1c2d3e4f5a6b' };
const onboarded = { createdAt: '2026-09-01T00:00:00.000Z' };
/** A succeeded offboarding that ended at `endedAt`. */
const offboarding = (endedAt: string) => ({ kind: 'offboard' as const, requestId: `offboard-${endedAt}`, startedAt: endedAt, endedAt, status: 'SUCCEEDED' as const });
const schedule = { version: '0', id: 'e-1', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-24T00:30:00Z', region: 'us-east-1', resources: [], detail: {} };

const scan = async () => {
  const items = (await DynamoDBDocumentClient.from(new DynamoDBClient({})).send(new ScanCommand({ TableName: 'tessera-usage', ConsistentRead: true }))).Items ?? [];
  return Object.fromEntries(items.map((i) => [String(i.id), i]));
};
const counters = (item: Record<string, unknown> | undefined) => ({
  tokens: item?.tokens, costNanos: item?.costNanos, heldTokens: item?.heldTokens, heldNanos: item?.heldNanos, requests: item?.requests,
  // micro-dollars, on items written before nano-dollars (absent on the others: toEqual passes over undefined)
  costMicros: item?.costMicros, heldMicros: item?.heldMicros,
});

beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  Object.assign(process.env, { [RECLAIM_ENV.registryTable]: 'tessera-tenants', [RECLAIM_ENV.usageTable]: 'tessera-usage', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
  await createGatewayTables([
    localTenant('acme', 'professional', onboarded), localTenant('globex', 'starter', { ...onboarded, status: 'SUSPENDED' }),
    localTenant('initech', 'starter', { ...onboarded, status: 'OFFBOARDED', executions: [offboarding('2026-11-20T09:00:00.000Z')] }),
    localTenant('hooli', 'starter', { ...onboarded, status: 'OFFBOARDED', executions: [offboarding('2026-11-23T23:58:00.000Z')] }),
  ]);
  store = new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient());
  // acme, 23 November: a lost request of its key (a router that ran out of memory) and a settled one.
  await store.reserve('acme', 16_398, 0.0098, { dayTokens: 100_000 }, during, key);
  await store.settle(await store.reserve('acme', 2_000, 0.0012, { dayTokens: 100_000 }, during, key), 620, 0.00031);
  // acme, 24 November 00:10: a user's request still in flight when the reclaim runs (another day: left alone).
  await store.reserve('acme', 900, 0.0005, {}, new Date('2026-11-24T00:10:00Z'), user);
  // globex (suspended since: it served that day) lost one without a subject; so did hooli, offboarded
  // two minutes before midnight; initech was offboarded on the 20th: its items are left (a held amount put there to show it).
  await store.reserve('hooli', 3_000, 0.003, {}, during);
  await store.reserve('globex', 4_000, 0.002, {}, during);
  await store.reserve('initech', 1_000, 0.001, {}, during);
});
afterAll(async () => {
  await moto?.stop();
});

describe('the reservation reclaim on DynamoDB (moto)', () => {
  it('releases what the lost request held on the tenant\'s and the key\'s day and month items: they count the settled request alone and hold nothing', async () => {
    const { handler } = await import('../../lambdas/inference/reclaim/reclaim-handler.js');
    const outcome = await handler(schedule as never);
    expect(outcome).toMatchObject({ day, month: '2026-11', tenants: 3, skipped: [], unlisted: [], failed: [] });
    expect(outcome.released.map((r) => [r.item, r.tokens, r.nanos]).sort()).toEqual([
      ['usage#acme#2026-11-23', 16_398, 9_800_000], [usageIds.subjectUsage('acme', key, day), 16_398, 9_800_000], ['usage#globex#2026-11-23', 4_000, 2_000_000], ['usage#hooli#2026-11-23', 3_000, 3_000_000],
    ]);
    const items = await scan();
    const settled = { tokens: 620, costNanos: 310_000, heldTokens: 0, heldNanos: 0, requests: 2 };
    for (const id of ['usage#acme#2026-11-23', usageIds.subjectUsage('acme', key, day), usageIds.subjectUsage('acme', key, '2026-11')]) {
      expect(counters(items[id]), id).toEqual(settled);
    }
    // The tenant's month: the settled request, and the 24th's request still held (900 tokens, 500,000 nano-dollars).
    expect(counters(items['usage#acme#2026-11'])).toEqual({ tokens: 620 + 900, costNanos: 310_000 + 500_000, heldTokens: 900, heldNanos: 500_000, requests: 3 });
    // What budgets and alerts read: nothing held, the settled request used.
    expect(await store.usage('acme', during, key)).toEqual({ day: { tokens: 620, costUsd: 0.00031, requests: 2 }, month: { tokens: 620, costUsd: 0.00031, requests: 2 }, held: { day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } } });
    expect(counters(items['usage#globex#2026-11'])).toEqual({ tokens: 0, costNanos: 0, heldTokens: 0, heldNanos: 0, requests: 1 });
    // hooli, offboarded the day it served: nothing held, the lost request counted as a request only.
    expect(counters(items['usage#hooli#2026-11'])).toEqual({ tokens: 0, costNanos: 0, heldTokens: 0, heldNanos: 0, requests: 1 });
    // The next day's request still holds (it may yet settle), and the items of the tenant offboarded before the day are as they were.
    expect(counters(items[usageIds.subjectUsage('acme', user, '2026-11')])).toEqual({ tokens: 900, costNanos: 500_000, heldTokens: 900, heldNanos: 500_000, requests: 1 });
    expect(counters(items['usage#acme#2026-11-24'])).toMatchObject({ heldTokens: 900 });
    expect(counters(items['usage#initech#2026-11'])).toMatchObject({ tokens: 1_000, heldTokens: 1_000 });
  });

  it('changes nothing when it runs again (a retry of the schedule\'s event, or an operator\'s replay)', async () => {
    const before = await scan();
    const { handler } = await import('../../lambdas/inference/reclaim/reclaim-handler.js');
    const again = await handler(schedule as never);
    expect(again).toMatchObject({ day, released: [], skipped: [], failed: [] });
    expect(await scan()).toEqual(before);
  });

  it('refuses a day not over by 30 minutes (the router\'s 15 and as much again), writing nothing', async () => {
    const before = await scan();
    const { handler } = await import('../../lambdas/inference/reclaim/reclaim-handler.js');
    const today = new Date().toISOString().slice(0, 10);
    await expect(handler({ day: today })).rejects.toThrow(`day "${today}" is not over by 30 minutes yet`);
    expect(await scan()).toEqual(before);
  });

  it('reclaims a day asked by hand ({"day"}), a user found through the month\'s subject set, from that month\'s items only what the day held: a lost request of before nano-dollars in its micro-dollars, beside one of after', async () => {
    // A lost request of 20 November as the version before nano-dollars reserved it (micro-dollars, ADDed to
    // the day and month items), and one lost after the upgrade, that day (nano-dollars); the user is listed
    // on acme's November item since the 24th's request.
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const id = usageIds.subjectUsage('acme', user, '2026-11-20');
    const old = { ':t': 50, ':m': 7, ':one': 1 };
    for (const item of [id, 'usage#acme#2026-11-20', usageIds.subjectUsage('acme', user, '2026-11'), 'usage#acme#2026-11']) {
      await doc.send(new UpdateCommand({ TableName: 'tessera-usage', Key: { id: item }, UpdateExpression: 'ADD tokens :t, costMicros :m, requests :one, heldTokens :t, heldMicros :m', ExpressionAttributeValues: old }));
    }
    await store.reserve('acme', 10, 0.0000004, {}, new Date('2026-11-20T18:00:00Z'), user);
    const before = await scan();
    expect(await store.usage('acme', new Date('2026-11-20T18:00:00Z'), user)).toMatchObject({ day: { tokens: 60, costUsd: 0.0000074, requests: 2 }, held: { day: { tokens: 60, costUsd: 0.0000074 } } });
    const { handler } = await import('../../lambdas/inference/reclaim/reclaim-handler.js');
    const out = await handler({ day: '2026-11-20' });
    expect(out.released.map((r) => [r.item, r.tokens, r.nanos])).toEqual([[id, 60, 7_400], ['usage#acme#2026-11-20', 60, 7_400]]);
    const items = await scan();
    expect(counters(items[id])).toEqual({ tokens: 0, costNanos: 0, heldTokens: 0, heldNanos: 0, costMicros: 0, heldMicros: 0, requests: 2 });
    // The month: only what the day held released, in each unit; the 24th's request still held.
    const month = usageIds.subjectUsage('acme', user, '2026-11');
    expect(counters(items[month])).toEqual({ ...counters(before[month]), tokens: 900, costNanos: 500_000, heldTokens: 900, heldNanos: 500_000, costMicros: 0, heldMicros: 0 });
    expect(await store.usage('acme', new Date('2026-11-20T18:00:00Z'), user)).toMatchObject({ month: { tokens: 900, costUsd: 0.0005 }, held: { month: { tokens: 900, costUsd: 0.0005 } } });
  });
});
