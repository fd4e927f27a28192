import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { decodeCachedAudit, decodeCachedBody } from '../../../lambdas/inference/response-cache/cache-store.js';
import { responseIdOfItem } from '../../../lambdas/inference/responses/ids.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { PythonClient, runClient } from './clients.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * The response cache on the deployed path: API Gateway (emulated), the authorizer and the streaming router Lambda, the
 * answers kept in the responses table (moto) under the tenant's partition as `cache#<SHA-256>` items with the table's
 * TTL attribute, written and read with the tenant-scoped document client; the official Node and Python clients see a
 * MISS then a HIT, another tenant a MISS; the HIT's audit record (S3) says so.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let python: PythonClient;
const tokens: Record<string, string> = {};
const CACHE = { responseCache: { ttlSeconds: 300, scope: 'caller' as const } };
const MODEL = 'openai-compatible/default';

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  [apigw, python] = await Promise.all([startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme', CACHE), plainTenant('globex', CACHE)]), PythonClient.start()]);
  await createResponsesTable('tessera-responses');
  process.env[GATEWAY_ENV.responsesTable] = 'tessera-responses';
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
}, 120_000);
afterAll(async () => {
  delete process.env[GATEWAY_ENV.responsesTable];
  await python?.stop();
  await apigw?.stop();
  await upstream?.stop();
});

const client = (tenant: string) => new OpenAI({ baseURL: apigw.url, apiKey: tokens[tenant], maxRetries: 0 });
const cacheItems = async (tenantId: string) => (await (await unscopedDocumentClient()('')).send(new QueryCommand({
  TableName: 'tessera-responses', KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :p)', ExpressionAttributeValues: { ':t': tenantId, ':p': 'cache#' },
}))).Items ?? [];

describe('the response cache through the router Lambda (the responses table on moto)', () => {
  it('Node client: MISS, then HIT with no upstream call and cost 0; the item is the tenant\'s cache# item with the TTL; another tenant is a MISS', async () => {
    const ask = { model: MODEL, messages: [{ role: 'user' as const, content: 'Cache me on AWS' }] };
    const before = upstream.requests.length;
    const miss = await client('acme').chat.completions.create(ask).withResponse();
    expect(miss.response.headers.get('x-tessera-cache-status')).toBe('MISS');
    const hit = await client('acme').chat.completions.create(ask).withResponse();
    expect(hit.response.headers.get('x-tessera-cache-status')).toBe('HIT');
    expect(hit.response.headers.get('x-tessera-cost-usd')).toBe('0');
    expect(hit.response.headers.get('age')).toMatch(/^\d+$/);
    expect(hit.data.choices).toEqual(miss.data.choices);
    expect(upstream.requests.length - before).toBe(1);

    const items = await cacheItems('acme');
    expect(items).toHaveLength(1);
    expect(items[0].responseId).toMatch(/^cache#[0-9a-f]{64}$/);
    expect(items[0].expiresAt - items[0].storedAt).toBe(300);
    expect(JSON.parse(decodeCachedBody(items[0].body as Uint8Array)).choices).toEqual(miss.data.choices);
    // The MISS's prompt fields, for the HITs' audit records (a binary attribute, read back from DynamoDB).
    expect(decodeCachedAudit(items[0].audit as Uint8Array)).toEqual({ promptSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const other = await client('globex').chat.completions.create(ask).withResponse();
    expect(other.response.headers.get('x-tessera-cache-status')).toBe('MISS');
    expect(upstream.requests.length - before).toBe(2);
    expect(await cacheItems('globex')).toHaveLength(1);

    await apigw.settled();
    expect(await client('acme').get(`/tenant/requests/${hit.data.id}`)).toMatchObject({ id: hit.data.id, status: 200, cost_usd: 0, response_cache: { status: 'HIT' } });
  });

  it('Python client: MISS then HIT', async () => {
    const params = { model: MODEL, messages: [{ role: 'user', content: 'Cache me from Python' }] };
    const before = upstream.requests.length;
    const miss = await runClient('python', python, apigw.url, tokens.acme, { op: 'create', params, headers: true });
    const hit = await runClient('python', python, apigw.url, tokens.acme, { op: 'create', params, headers: true });
    expect([miss.error, hit.error]).toEqual([undefined, undefined]);
    expect([miss.headers!['x-tessera-cache-status'], hit.headers!['x-tessera-cache-status']]).toEqual(['MISS', 'HIT']);
    expect(hit.result.choices).toEqual(miss.result.choices);
    // Cache-Status through API Gateway; and, on the DynamoDB store, no x-ratelimit-* group on either answer (a HIT as a MISS).
    expect([miss.headers!['cache-status'], hit.headers!['cache-status']]).toEqual(['tessera; fwd=miss; stored', expect.stringMatching(/^tessera; hit; ttl=\d+$/)]);
    for (const h of [miss.headers!, hit.headers!]) expect(Object.keys(h).filter((k) => k.startsWith('x-ratelimit-'))).toEqual([]);
    expect(upstream.requests.length - before).toBe(1);
  });

  it('streamed (Node client, through the streaming router): MISS, then HIT replayed by the stream helper with no upstream call; the item holds the chunks', async () => {
    const ask = { model: MODEL, messages: [{ role: 'user' as const, content: 'Stream me on AWS' }], stream_options: { include_usage: true } };
    const before = upstream.requests.length;
    const itemsBefore = (await cacheItems('acme')).length;
    const miss = await client('acme').chat.completions.create({ ...ask, stream: true }).withResponse();
    expect(miss.response.headers.get('x-tessera-cache-status')).toBe('MISS');
    const chunks = [];
    for await (const chunk of miss.data) chunks.push(chunk);
    const hit = await client('acme').chat.completions.stream(ask).finalChatCompletion();
    expect(upstream.requests.length - before).toBe(1);
    expect(hit.choices[0].message.content).toBe(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''));
    expect(hit.usage).toEqual(chunks.at(-1)!.usage);
    const items = await cacheItems('acme');
    expect(items).toHaveLength(itemsBefore + 1);
    const kept = items.map((i) => JSON.parse(decodeCachedBody(i.body as Uint8Array))).find(Array.isArray) as Array<{ object: string }>;
    expect(kept.map((c) => c.object)).toEqual(chunks.map(() => 'chat.completion.chunk'));
    await apigw.settled();
    expect(await client('acme').get(`/tenant/requests/${hit.id}`)).toMatchObject({ id: hit.id, status: 200, cost_usd: 0, response_cache: { status: 'HIT' } });
  });

  it('the Responses API with store: false (Node client): MISS, then HIT with no upstream call', async () => {
    const before = upstream.requests.length;
    const params = { model: MODEL, input: 'A response on AWS', store: false };
    const miss = await client('acme').responses.create(params).withResponse();
    const hit = await client('acme').responses.create(params).withResponse();
    expect([miss.response.headers.get('x-tessera-cache-status'), hit.response.headers.get('x-tessera-cache-status')]).toEqual(['MISS', 'HIT']);
    expect(hit.data.output_text).toBe(miss.data.output_text);
    // Its items' ids derived from its own response id, not the MISS's.
    expect(hit.data.output.map((i) => i.id && responseIdOfItem(i.id))).toEqual(miss.data.output.map(() => hit.data.id));
    expect(upstream.requests.length - before).toBe(1);
  });
});
