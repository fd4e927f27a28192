import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { BudgetAlerts } from '../../../lambdas/inference/budget-alerts/budget-alerts.js';
import { memoryEvents } from '../../../lambdas/inference/budget-alerts/local-events.js';
import { MemoryAlertMarkers } from '../../../lambdas/inference/budget-alerts/markers.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { RequestPipeline, type PipelineRequest } from '../../../lambdas/inference/pipeline.js';
import { DynamoDbStore, usageIds } from '../../../lambdas/inference/stores/dynamodb-store.js';
import type { BudgetLimits } from '../../../lambdas/inference/stores/gateway-store.js';

// How many times one request reads the usage table (GetItem, BatchGetItem, Query) on the DynamoDB
// store, by path: a refused request (429 budget_exceeded, rate_limit_exceeded) is where a client
// retrying in a loop lands, and both the budget-alert check and the 429's x-ratelimit-* headers
// read the tenant's (and the user's or key's) usage items.
const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const NOW = new Date('2026-11-23T10:15:30Z');
const DAY = '2026-11-23';
const MONTH = '2026-11';
const KEY = 'key_00000000000000aa';
const FREE = { id: 'openai/free', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 } as never;
const cancelled = (...codes: string[]) => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

/** The usage-table reads so far, by command. */
const reads = () => ({ get: ddb.commandCalls(GetCommand).length, batchGet: ddb.commandCalls(BatchGetCommand).length, query: ddb.commandCalls(QueryCommand).length });
/** The ids read by GetItem, sorted. */
const readIds = () => ddb.commandCalls(GetCommand).map((c) => String(c.args[0].input.Key!.id)).sort();

function world() {
  const store = new DynamoDbStore('tenants', 'usage', async () => doc);
  const { emit, events } = memoryEvents();
  const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
  const pipeline = new RequestPipeline(loadConfig(), store, {} as never, (async () => undefined) as never, alerts);
  return { store, alerts, pipeline, events };
}

/** A user's request (no limits of its own), or with `key` an API key's, under the tenant's `limits`. */
const request = (limits: BudgetLimits, key?: { requestsPerMinute?: number; tokensPerDay?: number }): PipelineRequest => ({
  caller: { tenantId: 'acme', userId: 'u-1', tenant: { tier: 'starter' }, ...(key ? { keyId: KEY, key: { limits: key } } : {}) },
  policy: { limits, tier: {}, gateway: {}, rate: { minute: 60, hour: 600, day: 6000 } },
  audit: { path: '/v1/chat/completions' },
}) as unknown as PipelineRequest;

/** The 429 the call threw. */
async function refusal(call: Promise<unknown>): Promise<GatewayError> {
  const e = await call.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

beforeEach(() => {
  ddb.reset();
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => vi.useRealTimers());

describe('usage reads per refused request (DynamoDB store)', () => {
  it('a tenant daily token budget refused: 1 GetItem of the store (which budget) and one read of the tenant\'s day and month for both the alert check and the headers (was 5: the two read them each)', async () => {
    const { pipeline, alerts, events } = world();
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None', 'None'));
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { id: usageIds.tenantUsage('acme', DAY) } }).resolves({ Item: { tokens: 1000, requests: 40 } });
    const e = await refusal(pipeline.reserve(request({ dayTokens: 1000 }), FREE, 10, 0));
    await alerts.idle();
    expect(e).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect(e.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-remaining-requests': '5960', 'x-tessera-limit-scope': 'tenant' });
    expect(events.map((x) => [x.detail.limit, x.detail.thresholdPercent])).toEqual([[1000, 50], [1000, 80], [1000, 100]]);
    expect(reads()).toEqual({ get: 3, batchGet: 0, query: 0 });
    expect(readIds()).toEqual([usageIds.tenantUsage('acme', MONTH), usageIds.tenantUsage('acme', DAY), usageIds.tenantUsage('acme', DAY)].sort());

    // Every threshold handled here this period: the next refusal's alert check reads nothing; the headers read the tenant once.
    ddb.resetHistory();
    await refusal(pipeline.reserve(request({ dayTokens: 1000 }), FREE, 10, 0));
    await alerts.idle();
    expect(reads()).toEqual({ get: 3, batchGet: 0, query: 0 });
    expect(events).toHaveLength(3);
  });

  it('a key\'s daily token budget refused: the tenant\'s and the key\'s day and month read once for both (5 GetItems, was 9)', async () => {
    const { pipeline, alerts, events } = world();
    const keyDay = usageIds.subjectUsage('acme', { kind: 'key', id: KEY }, DAY);
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed', 'None'));
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { id: usageIds.tenantUsage('acme', DAY) } }).resolves({ Item: { tokens: 300, requests: 7 } });
    ddb.on(GetCommand, { Key: { id: keyDay } }).resolves({ Item: { tokens: 95 } });
    const e = await refusal(pipeline.reserve(request({ dayTokens: 1000 }, { tokensPerDay: 100 }), FREE, 10, 0));
    await alerts.idle();
    // 5 of 100 left, the request's 10 do not fit: said as such (s23; was "is exhausted", though 5 were left)
    expect(e).toMatchObject({ status: 429, code: 'budget_exceeded', message: expect.stringContaining(`daily token budget of key ${KEY} has 5 of 100 tokens left, fewer than this request may use (10 tokens: 10 input + 0 completion tokens reserved)`) });
    expect(e.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '5', 'x-ratelimit-remaining-requests': '5993', 'x-tessera-limit-scope': 'key' });
    expect(events.map((x) => [x.detail.scope, x.detail.limit, x.detail.thresholdPercent])).toEqual([['key', 100, 50], ['key', 100, 80]]);
    expect(reads()).toEqual({ get: 5, batchGet: 0, query: 0 });
    expect(readIds().filter((id) => id === keyDay)).toHaveLength(2); // the store's read after the refusal, and the shared one
  });

  it('a key\'s rate limit refused (no tokensPerDay): only the tenant\'s day and month are read for the headers (2 GetItems, was 4: the key\'s usage was read and not used)', async () => {
    const { pipeline } = world();
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { id: usageIds.tenantUsage('acme', DAY) } }).resolves({ Item: { requests: 100 } });
    const e = await refusal(pipeline.admit(request({}, { requestsPerMinute: 10 })));
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(e.headers).toMatchObject({ 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '0', 'x-tessera-limit-scope': 'key' });
    expect(e.headers!['x-ratelimit-limit-tokens']).toBeUndefined();
    expect(reads()).toEqual({ get: 2, batchGet: 0, query: 0 });
    expect(readIds()).toEqual([usageIds.tenantUsage('acme', MONTH), usageIds.tenantUsage('acme', DAY)].sort());
  });

  it('an accepted request reads each usage item once: none to count, reserve or settle, then the alert check\'s tenant and key day and month (4 GetItems)', async () => {
    const { pipeline, alerts } = world();
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({});
    const r = request({ dayTokens: 1000 }, { requestsPerMinute: 10, tokensPerDay: 100 });
    await pipeline.admit(r);
    const reservation = await pipeline.reserve(r, FREE, 10, 0);
    expect(reads()).toEqual({ get: 0, batchGet: 0, query: 0 });
    await pipeline.settle(reservation, 8, 0);
    await alerts.idle();
    expect(reads()).toEqual({ get: 4, batchGet: 0, query: 0 });
    expect(new Set(readIds()).size).toBe(4);
  });

  it('an accepted request\'s answer reads nothing for its x-ratelimit-* headers: DynamoDB\'s transactions return no counts, so the answer has none (still 4 GetItems, the alert check\'s)', async () => {
    const { pipeline, alerts } = world();
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({});
    const r = request({ dayTokens: 1000 }, { requestsPerMinute: 10, tokensPerDay: 100 });
    await pipeline.admit(r);
    const reservation = await pipeline.reserve(r, FREE, 10, 0);
    expect(pipeline.servedRateHeaders(r)).toEqual({}); // the stream's head
    await pipeline.settle(reservation, 8, 0);
    expect(pipeline.servedRateHeaders(r)).toEqual({}); // a whole answer, after its settle
    await alerts.idle();
    expect(reads()).toEqual({ get: 4, batchGet: 0, query: 0 });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3); // count, reserve, settle: no write added either
  });
});
