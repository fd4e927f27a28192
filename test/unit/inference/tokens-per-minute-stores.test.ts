import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { Worker } from 'node:worker_threads';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { DynamoDbStore } from '../../../lambdas/inference/stores/dynamodb-store.js';
import { BudgetExhaustedError, TokenRateLimitError, type GatewayStore, type Subject } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { SharedMemoryStore } from '../../../lambdas/inference/stores/shared-memory-store.js';

// Tokens per minute (the tier's `tokensPerMinute` as BudgetLimits.minuteTokens, a key's or user's `tokensPerMinute`):
// checked and added in the reservation's all-or-nothing step, corrected by the settle in the reservation's minute.
const now = new Date('2026-11-23T10:15:30Z');
const nextMinute = new Date('2026-11-23T10:16:00Z');
const tenants = [localTenant('other', 'enterprise'), localTenant('t', 'enterprise')];
const stores: Array<[string, () => GatewayStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SharedMemoryStore', () => new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants)],
];
const key: Subject = { kind: 'key', id: 'key_00000000000000aa', limits: { tokensPerMinute: 300 } };
const other: Subject = { kind: 'key', id: 'key_00000000000000bb' };

describe.each(stores)('%s: tokens per minute', (_name, make) => {
  // The settle reads the clock (the minute it corrects): held at `now` unless a test moves it.
  beforeEach(() => vi.useFakeTimers({ now, toFake: ['Date'] }));
  afterEach(() => vi.useRealTimers());

  it('a settle after its minute ended adds what the request used beyond its count to the current minute, and gives nothing back to a past one', async () => {
    const s = make();
    const long = await s.reserve('t', 100, 0, { minuteTokens: 1000 }, now, key); // a stream admitted at 10:15:30
    const short = await s.reserve('t', 100, 0, { minuteTokens: 1000 }, now, key);
    vi.setSystemTime(nextMinute);
    await s.settle(long, 350, 0); // it ended at 10:16:00, having used 350
    await s.settle(short, 10, 0); // used less: the past minute's 90 are no one's to give back
    expect(await s.minuteTokens('t', nextMinute)).toBe(250);
    expect(await s.minuteTokens('t', nextMinute, key)).toBe(250);
    await expect(s.reserve('t', 51, 0, { minuteTokens: 1000 }, nextMinute, key)).rejects.toEqual(new TokenRateLimitError(300, 250, 51, 'key'));
    expect((await s.reserve('t', 50, 0, { minuteTokens: 1000 }, nextMinute, key)).committed).toMatchObject({ minute: 300, subjectMinute: 300 });
  });

  it('admits reservations while the minute\'s tokens stay within the tier\'s limit, all or nothing, and names the minute\'s use at the refusal', async () => {
    const s = make();
    // 25 concurrent reservations of 100 tokens under a limit of 1,000: exactly 10 pass.
    const results = await Promise.allSettled(Array.from({ length: 25 }, () => s.reserve('t', 100, 0, { minuteTokens: 1000 }, now, other)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
    expect(refused).toEqual(new TokenRateLimitError(1000, 1000, 100, 'tenant'));
    // Nothing of a refused reservation was counted: the day has the 10 admitted.
    expect(await s.usage('t', now)).toMatchObject({ day: { tokens: 1000, requests: 10 } });
    // The next minute starts again.
    const r = await s.reserve('t', 100, 0, { minuteTokens: 1000 }, nextMinute, other);
    expect(r.minuteTokens).toEqual({ minute: '2026-11-23T10:16', tenant: true, subject: false, tokens: 100 });
    expect(r.committed).toMatchObject({ minute: 100 });
  });

  it('settles the minute\'s counter to the real usage: what the estimate held beyond it is free again within the minute', async () => {
    const s = make();
    const first = await s.reserve('t', 900, 0, { minuteTokens: 1000 }, now);
    await expect(s.reserve('t', 200, 0, { minuteTokens: 1000 }, now)).rejects.toEqual(new TokenRateLimitError(1000, 900, 200, 'tenant'));
    await s.settle(first, 150, 0);
    const second = await s.reserve('t', 800, 0, { minuteTokens: 1000 }, now);
    expect(second.committed).toMatchObject({ minute: 950 });
    // A settle of a past minute corrects nothing of the current one.
    const late = await s.reserve('t', 50, 0, { minuteTokens: 1000 }, now);
    expect((await s.reserve('t', 400, 0, { minuteTokens: 1000 }, nextMinute)).committed).toMatchObject({ minute: 400 });
    await s.settle(late, 0, 0);
    expect((await s.reserve('t', 600, 0, { minuteTokens: 1000 }, nextMinute)).committed).toMatchObject({ minute: 1000 });
    await expect(s.reserve('t', 1, 0, { minuteTokens: 1000 }, nextMinute)).rejects.toEqual(new TokenRateLimitError(1000, 1000, 1, 'tenant'));
  });

  it('counts a key\'s own tokens per minute beside the tenant\'s, and names the key when its limit is the one reached', async () => {
    const s = make();
    const r = await s.reserve('t', 200, 0, { minuteTokens: 1000 }, now, key);
    expect(r.minuteTokens).toEqual({ minute: '2026-11-23T10:15', tenant: true, subject: true, tokens: 200 });
    expect(r.committed).toMatchObject({ minute: 200, subjectMinute: 200 });
    await expect(s.reserve('t', 150, 0, { minuteTokens: 1000 }, now, key)).rejects.toEqual(new TokenRateLimitError(300, 200, 150, 'key'));
    // Another key is held by the tenant's limit only, which did not count the refused request.
    expect((await s.reserve('t', 800, 0, { minuteTokens: 1000 }, now, other)).committed).toMatchObject({ minute: 1000 });
    // Without a tier limit, the key's alone applies; its settle frees its own minute.
    await s.settle(r, 0, 0);
    expect((await s.reserve('t', 300, 0, {}, now, key)).committed).toMatchObject({ subjectMinute: 300 });
  });

  it('counts its minuteTokens on the minute (the budgets their tokens), and the settle replaces those by the real usage', async () => {
    const s = make();
    // A chat request without max_tokens: the budgets reserve the model's maximum (4,096 + 60), the minute its input (60).
    const r = await s.reserve('t', 4156, 0, { dayTokens: 100_000, minuteTokens: 1000 }, now, key, 60);
    expect(r.minuteTokens).toEqual({ minute: '2026-11-23T10:15', tenant: true, subject: true, tokens: 60 });
    expect(r.committed).toMatchObject({ day: 4156, minute: 60, subjectMinute: 60 });
    await s.settle(r, 260, 0);
    expect(await s.minuteTokens('t', now)).toBe(260);
    expect(await s.minuteTokens('t', now, key)).toBe(260);
    expect(await s.usage('t', now)).toMatchObject({ day: { tokens: 260 } });
    // Only minuteTokens alone over a whole minute is "too large".
    await expect(s.reserve('t', 4156, 0, { minuteTokens: 1000 }, now, other, 1001)).rejects.toEqual(new TokenRateLimitError(1000, 0, 1001, 'tenant'));
  });

  it('a reservation of 0 minute tokens (a moderation, an image) passes a minute a settle took past its limit, and is settled on it', async () => {
    const s = make();
    const r = await s.reserve('t', 900, 0, { minuteTokens: 1000 }, now, other);
    await s.settle(r, 1200, 0); // the provider counted more than the estimate
    await expect(s.reserve('t', 1, 0, { minuteTokens: 1000 }, now, other)).rejects.toEqual(new TokenRateLimitError(1000, 1200, 1, 'tenant'));
    const zero = await s.reserve('t', 0, 0.01, { minuteTokens: 1000 }, now, other);
    expect(zero.minuteTokens).toEqual({ minute: '2026-11-23T10:15', tenant: true, subject: false, tokens: 0 });
    await s.settle(zero, 5, 0.01);
    expect(await s.minuteTokens('t', now)).toBe(1205);
  });

  it('reads the minute\'s tokens of the tenant and of a subject (0 for another minute or a subject never counted)', async () => {
    const s = make();
    await s.reserve('t', 120, 0, { minuteTokens: 1000 }, now, key);
    expect(await s.minuteTokens('t', now)).toBe(120);
    expect(await s.minuteTokens('t', now, key)).toBe(120);
    expect(await s.minuteTokens('t', now, other)).toBe(0);
    expect(await s.minuteTokens('t', nextMinute)).toBe(0);
  });

  it('names a budget rather than the minute when both would refuse (a reservation larger than the whole minute first, as DynamoDB), and keeps no minute counter without a limit', async () => {
    const s = make();
    await s.reserve('t', 900, 0, { minuteTokens: 1000 }, now);
    await expect(s.reserve('t', 200, 0, { minuteTokens: 1000, dayTokens: 1000 }, now)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 1000));
    await expect(s.reserve('t', 1001, 0, { minuteTokens: 1000, dayTokens: 1000 }, nextMinute)).rejects.toEqual(new TokenRateLimitError(1000, 0, 1001, 'tenant'));
    const r = await s.reserve('t', 5000, 0, {}, now);
    expect(r.minuteTokens).toBeUndefined();
    expect(r.committed).not.toHaveProperty('minute');
  });
});

describe('SharedMemoryStore: tokens per minute across threads (tessera serve --workers N)', () => {
  it('4 threads racing 100 reservations of 10 tokens each against a minute of 370 admit exactly 37', async () => {
    const buffer = SharedMemoryStore.allocate(tenants.length);
    const run = () => new Promise<number>((resolve, reject) => {
      const w = new Worker(new URL('../../support/shared-store-worker.ts', import.meta.url), {
        workerData: { buffer, tenants, attempts: 100, tokens: 10, limits: { minuteTokens: 370 }, at: now.toISOString() }, execArgv: ['--import', 'tsx'],
      });
      w.once('message', resolve);
      w.once('error', reject);
    });
    const admitted = await Promise.all([run(), run(), run(), run()]);
    expect(admitted.reduce((a, b) => a + b, 0)).toBe(37);
    await expect(new SharedMemoryStore(buffer, tenants).reserve('t', 1, 0, { minuteTokens: 370 }, now)).rejects.toEqual(new TokenRateLimitError(370, 370, 1, 'tenant'));
  });
});

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const store = new DynamoDbStore('tenants', 'usage', async () => doc);
const cancelled = (...codes: string[]) => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
const transactions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!.map((i) => i.Update!));
const ttl = Math.floor(now.getTime() / 1000) + 2 * 86400;

describe('DynamoDbStore: tokens per minute in the reservation\'s transaction', () => {
  beforeEach(() => {
    ddb.reset();
    vi.useFakeTimers({ now, toFake: ['Date'] }); // the settle reads the clock (the minute it corrects)
  });
  afterEach(() => vi.useRealTimers());

  it('a settle after its minute ended ADDs what was used beyond the count to the current minute\'s items, and writes no past minute', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const long = await store.reserve('acme', 100, 0, { minuteTokens: 1000 }, now, key);
    const short = await store.reserve('acme', 100, 0, { minuteTokens: 1000 }, now, key);
    vi.setSystemTime(nextMinute);
    await store.settle(long, 350, 0);
    await store.settle(short, 10, 0);
    const [, , carried, past] = transactions();
    expect(carried.slice(4)).toEqual(['rate#acme#2026-11-23T10:16', `rate#acme#key#${key.id}#2026-11-23T10:16`].map((id) => ({
      TableName: 'usage', Key: { id }, UpdateExpression: 'ADD tokens :t SET expiresAt = if_not_exists(expiresAt, :ttl)',
      ExpressionAttributeValues: { ':t': 250, ':ttl': Math.floor(nextMinute.getTime() / 1000) + 2 * 86400 },
    })));
    expect(past.map((i) => i.Key!.id).filter((id) => id.startsWith('rate#'))).toEqual([]);
  });

  it('adds the minute items (the rate items of countRequest) to the transaction, each conditioned on tokens <= limit - n', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const r = await store.reserve('acme', 120, 0, { minuteTokens: 1000 }, now, key);
    expect(r.minuteTokens).toEqual({ minute: '2026-11-23T10:15', tenant: true, subject: true, tokens: 120 });
    const [items] = transactions();
    expect(items.map((i) => i.Key!.id)).toEqual([
      'usage#acme#2026-11-23', 'usage#acme#2026-11', `usage#acme#key#${key.id}#2026-11-23`, `usage#acme#key#${key.id}#2026-11`,
      'rate#acme#2026-11-23T10:15', `rate#acme#key#${key.id}#2026-11-23T10:15`,
    ]);
    for (const [i, limit] of [[4, 1000], [5, 300]] as const) {
      expect(items[i]).toEqual({
        TableName: 'usage', Key: items[i].Key, UpdateExpression: 'ADD tokens :t SET expiresAt = if_not_exists(expiresAt, :ttl)',
        ConditionExpression: 'attribute_not_exists(tokens) OR tokens <= :maxTokens', ExpressionAttributeValues: { ':t': 120, ':maxTokens': limit - 120, ':ttl': ttl },
      });
    }
  });

  it('reads the minute\'s tokens with one consistent GetItem of its rate item', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { id: `rate#acme#key#${key.id}#2026-11-23T10:15` } }).resolves({ Item: { count: 2, tokens: 77 } });
    expect(await store.minuteTokens('acme', now, key)).toBe(77);
    expect(await store.minuteTokens('acme', now)).toBe(0);
    expect(ddb.commandCalls(GetCommand).map((c) => [c.args[0].input.Key!.id, c.args[0].input.ConsistentRead])).toEqual([[`rate#acme#key#${key.id}#2026-11-23T10:15`, true], ['rate#acme#2026-11-23T10:15', true]]);
  });

  it('sends no minute item without a limit', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const r = await store.reserve('acme', 120, 0, { dayTokens: 1000 }, now, other);
    expect(r.minuteTokens).toBeUndefined();
    expect(transactions()[0].map((i) => i.Key!.id).filter((id) => id.startsWith('rate#'))).toEqual([]);
  });

  it('names the limit whose minute item refused the transaction, with the minute\'s tokens read after the refusal', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'None', 'None', 'None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand, { Key: { id: `rate#acme#key#${key.id}#2026-11-23T10:15` } }).resolves({ Item: { count: 3, tokens: 250 } });
    await expect(store.reserve('acme', 120, 0, { minuteTokens: 1000 }, now, key)).rejects.toEqual(new TokenRateLimitError(300, 250, 120, 'key'));
    ddb.reset();
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand).resolves({ Item: { tokens: 990 } });
    await expect(store.reserve('acme', 120, 0, { minuteTokens: 1000 }, now)).rejects.toEqual(new TokenRateLimitError(1000, 990, 120, 'tenant'));
  });

  it('adds minuteTokens, not the budgets\' tokens, to the minute items, and settles them by the real usage less minuteTokens', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const r = await store.reserve('acme', 4156, 0, { minuteTokens: 1000 }, now, key, 60);
    expect(r.minuteTokens).toEqual({ minute: '2026-11-23T10:15', tenant: true, subject: true, tokens: 60 });
    const [items] = transactions();
    expect(items.slice(4).map((i) => i.ExpressionAttributeValues)).toEqual([1000, 300].map((limit) => ({ ':t': 60, ':maxTokens': limit - 60, ':ttl': ttl })));
    expect(items[0].ExpressionAttributeValues).toMatchObject({ ':t': 4156 });
    await store.settle(r, 260, 0);
    expect(transactions()[1].slice(4).map((i) => i.ExpressionAttributeValues![':t'])).toEqual([200, 200]);
  });

  it('sends no minute item for a reservation of 0 minute tokens (a moderation, an image): a minute past its limit does not refuse it', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const r = await store.reserve('acme', 0, 0.01, { minuteTokens: 1000 }, now, key);
    expect(transactions()[0].map((i) => i.Key!.id).filter((id) => id.startsWith('rate#'))).toEqual([]);
    expect(r.minuteTokens).toEqual({ minute: '2026-11-23T10:15', tenant: true, subject: true, tokens: 0 });
    await store.settle(r, 5, 0.01);
    expect(transactions()[1].slice(4).map((i) => [i.Key!.id, i.ExpressionAttributeValues![':t']])).toEqual([['rate#acme#2026-11-23T10:15', 5], [`rate#acme#key#${key.id}#2026-11-23T10:15`, 5]]);
  });

  it('refuses at once, with no call, a reservation larger than a whole minute\'s limit', async () => {
    await expect(store.reserve('acme', 301, 0, { minuteTokens: 1000 }, now, key)).rejects.toEqual(new TokenRateLimitError(300, 0, 301, 'key'));
    expect(ddb.calls()).toHaveLength(0);
  });

  it('settles the minute items of the reservation\'s minute by the difference, in the settle\'s transaction', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const r = await store.reserve('acme', 120, 0, { minuteTokens: 1000 }, now, key);
    await store.settle(r, 45, 0);
    const settle = transactions()[1];
    expect(settle.slice(4)).toEqual(['rate#acme#2026-11-23T10:15', `rate#acme#key#${key.id}#2026-11-23T10:15`].map((id) => ({
      TableName: 'usage', Key: { id }, UpdateExpression: 'ADD tokens :t SET expiresAt = if_not_exists(expiresAt, :ttl)',
      ExpressionAttributeValues: { ':t': -75, ':ttl': Math.floor(Date.parse('2026-11-23T10:15:00Z') / 1000) + 2 * 86400 },
    })));
  });
});
