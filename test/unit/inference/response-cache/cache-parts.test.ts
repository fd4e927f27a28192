import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheStatusField, parseCacheControl } from '../../../../lambdas/inference/response-cache/cache-control.js';
import { CacheFlights } from '../../../../lambdas/inference/response-cache/single-flight.js';
import { cacheKeyOf, canonicalJson, type CacheKeyParts } from '../../../../lambdas/inference/response-cache/cache-key.js';
import { AnswerTooLargeToCache, decodeCachedAudit, decodeCachedBody, encodeCachedAnswer, encodeCachedBody, MAX_CACHED_BYTES, MemoryResponseCache } from '../../../../lambdas/inference/response-cache/cache-store.js';
import { DynamoDbResponseCache } from '../../../../lambdas/inference/response-cache/dynamodb-response-cache.js';
import { GatewayPolicy } from '../../../../lib/tenant-record.js';

const now = () => Math.floor(Date.now() / 1000);
const KEY = 'a'.repeat(64);
/** A body whose gzip is larger than MAX_CACHED_BYTES (random bytes do not compress). */
const incompressible = () => JSON.stringify({ data: randomBytes(MAX_CACHED_BYTES).toString('base64') });

describe('the responseCache policy key (one zod schema: GatewayPolicy)', () => {
  it('is off unless set; scope defaults to caller; ttlSeconds at most maxTtlSeconds, both 1 to 7 days', () => {
    expect(GatewayPolicy.parse({}).responseCache).toBeUndefined();
    expect(GatewayPolicy.parse({ responseCache: { ttlSeconds: 300 } }).responseCache).toEqual({ ttlSeconds: 300, scope: 'caller' });
    expect(GatewayPolicy.safeParse({ responseCache: { ttlSeconds: 600, maxTtlSeconds: 300 } }).error?.issues[0]).toMatchObject({ path: ['responseCache', 'ttlSeconds'], message: 'ttlSeconds must be at most maxTtlSeconds, 300: raise maxTtlSeconds with it, or remove maxTtlSeconds (it defaults to ttlSeconds)' });
    expect(GatewayPolicy.safeParse({ responseCache: { ttlSeconds: 0 } }).success).toBe(false);
    expect(GatewayPolicy.safeParse({ responseCache: { ttlSeconds: 604_801 } }).success).toBe(false);
    expect(GatewayPolicy.safeParse({ responseCache: { ttlSeconds: 1.5 } }).success).toBe(false);
    expect(GatewayPolicy.safeParse({ responseCache: { ttlSeconds: 60, scope: 'everyone' } }).success).toBe(false);
  });
});

describe('parseCacheControl (x-tessera-cache, x-tessera-cache-ttl)', () => {
  it('reads the directives (any case) and a whole number of seconds', () => {
    expect(parseCacheControl({})).toEqual({});
    expect(parseCacheControl({ 'x-tessera-cache': ' No-Cache ', 'x-tessera-cache-ttl': '3600' })).toEqual({ directive: 'no-cache', ttlSeconds: 3600 });
    expect(parseCacheControl({ 'x-tessera-cache': 'no-store' })).toEqual({ directive: 'no-store' });
    expect(parseCacheControl({ 'x-tessera-cache': '' })).toEqual({});
    expect(parseCacheControl({ 'x-tessera-cache-max-age': '0' })).toEqual({ maxAgeSeconds: 0 });
    expect(parseCacheControl({ 'x-tessera-cache-max-age': '120' })).toEqual({ maxAgeSeconds: 120 });
  });

  it('refuses another directive, a TTL that is not 1 to 604800 whole seconds, and a header sent twice: a 400 naming the header', () => {
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as { status: number; param: string; code: string; message: string };
      }
      throw new Error('not refused');
    };
    expect(refusal(() => parseCacheControl({ 'x-tessera-cache': 'max-age=60' }))).toMatchObject({ status: 400, param: 'x-tessera-cache', code: 'invalid_value' });
    for (const ttl of ['0', '-1', '1.5', '1e3', '604801', 'soon']) {
      expect(refusal(() => parseCacheControl({ 'x-tessera-cache-ttl': ttl })), ttl).toMatchObject({ status: 400, param: 'x-tessera-cache-ttl' });
    }
    expect(refusal(() => parseCacheControl({ 'x-tessera-cache': 'no-cache' }, ['x-tessera-cache'])).message).toContain('more than once');
    for (const age of ['-1', '2.5', '604801', 'old']) {
      expect(refusal(() => parseCacheControl({ 'x-tessera-cache-max-age': age })), age).toMatchObject({ status: 400, param: 'x-tessera-cache-max-age', code: 'invalid_value' });
    }
    expect(refusal(() => parseCacheControl({ 'x-tessera-cache-max-age': '5' }, ['x-tessera-cache-max-age'])).param).toBe('x-tessera-cache-max-age');
  });
});

describe('cacheStatusField (RFC 9211 Cache-Status)', () => {
  it('names the cache tessera: hit with its ttl, fwd=miss|request|bypass with stored, collapsed for a follower', () => {
    expect(cacheStatusField({ status: 'HIT', stored: false, ttlSeconds: 42 })).toBe('tessera; hit; ttl=42');
    expect(cacheStatusField({ status: 'HIT', stored: false, collapsed: true, ttlSeconds: 600 })).toBe('tessera; fwd=miss; collapsed; ttl=600');
    expect(cacheStatusField({ status: 'MISS', stored: true })).toBe('tessera; fwd=miss; stored');
    expect(cacheStatusField({ status: 'MISS', stored: false })).toBe('tessera; fwd=miss');
    expect(cacheStatusField({ status: 'MISS', stored: true, collapsed: false })).toBe('tessera; fwd=miss; stored; collapsed=?0');
    expect(cacheStatusField({ status: 'REFRESH', stored: true })).toBe('tessera; fwd=request; stored');
    expect(cacheStatusField({ status: 'BYPASS', stored: false })).toBe('tessera; fwd=bypass');
  });
});

describe('CacheFlights (single flight per key)', () => {
  it('the first to join leads; the others follow and get what it lands, once; then the key is free; keys and tenants apart', async () => {
    const flights = new CacheFlights();
    const leader = flights.join('acme', 'k1');
    expect(leader.leader).toBeDefined();
    const followers = [flights.join('acme', 'k1'), flights.join('acme', 'k1')];
    expect(followers.every((f) => f.follow)).toBe(true);
    expect(flights.join('globex', 'k1').leader).toBeDefined(); // another tenant: its own flight
    expect(flights.join('acme', 'k2').leader).toBeDefined(); // another key
    expect(flights.waiting).toBe(2);
    const answer = { body: '{}', storedAt: 1, expiresAt: 2 };
    leader.leader!.land(answer);
    leader.leader!.land(undefined); // only the first counts
    expect(await Promise.all(followers.map((f) => f.follow))).toEqual([answer, answer]);
    expect(flights.waiting).toBe(0);
    expect(flights.join('acme', 'k1').leader).toBeDefined();
  });
});

describe('cacheKeyOf', () => {
  const parts = (over: Partial<CacheKeyParts> = {}): CacheKeyParts => ({
    tenantId: 'acme', tier: 'starter', scope: 'user:u1', route: '/v1/chat/completions',
    model: { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100 } as CacheKeyParts['model'],
    policy: GatewayPolicy.parse({ responseCache: { ttlSeconds: 60 } }),
    body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    ...over,
  });

  it('is a SHA-256 hex, the same for the same body with its keys in another order', () => {
    const key = cacheKeyOf(parts());
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKeyOf(parts({ body: { messages: [{ content: 'hi', role: 'user' }], model: 'openai/gpt-4o-mini' } }))).toBe(key);
    expect(canonicalJson({ b: 1, a: [1, { d: undefined, c: null }] })).toBe('{"a":[1,{"c":null}],"b":1}');
  });

  it('differs by tenant, tier, caller, route, the resolved model entry, the policy and the body; not by the cache settings', () => {
    const key = cacheKeyOf(parts());
    const others = [
      parts({ tenantId: 'globex' }), parts({ tier: 'professional' }), parts({ scope: 'user:u2' }), parts({ scope: 'key:key_1' }), parts({ route: '/v1/embeddings' }),
      parts({ model: { ...parts().model, upstream: 'gpt-4o-mini-2024-07-18' } }),
      parts({ policy: GatewayPolicy.parse({ responseCache: { ttlSeconds: 60 }, systemPrompt: 'Be brief.' }) }),
      parts({ policy: GatewayPolicy.parse({ responseCache: { ttlSeconds: 60 }, guardrails: { redactPii: false } }) }),
      parts({ policy: GatewayPolicy.parse({ responseCache: { ttlSeconds: 60 }, providerKeys: { openai: 'own' } }) }),
      parts({ body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], user: 'end-user-1' } }),
    ];
    for (const other of others) expect(cacheKeyOf(other), JSON.stringify(other)).not.toBe(key);
    expect(cacheKeyOf(parts({ policy: GatewayPolicy.parse({ responseCache: { ttlSeconds: 900, maxTtlSeconds: 3600, scope: 'tenant' } }) }))).toBe(key);
  });
});

describe('MemoryResponseCache', () => {
  it('answers by tenant and key, never an expired answer, and keeps at most maxEntries (the oldest goes)', async () => {
    const cache = new MemoryResponseCache(2);
    await cache.put('acme', KEY, { body: '{"a":1}', storedAt: now(), expiresAt: now() + 60 });
    expect(await cache.get('acme', KEY)).toMatchObject({ body: '{"a":1}' });
    expect(await cache.get('globex', KEY)).toBeUndefined();
    await cache.put('acme', 'b'.repeat(64), { body: '{}', storedAt: now(), expiresAt: now() - 1 });
    expect(await cache.get('acme', 'b'.repeat(64))).toBeUndefined();
    await cache.put('acme', 'c'.repeat(64), { body: '{}', storedAt: now(), expiresAt: now() + 60 });
    await cache.put('acme', 'd'.repeat(64), { body: '{}', storedAt: now(), expiresAt: now() + 60 });
    expect(await cache.get('acme', KEY)).toBeUndefined();
    expect(await cache.get('acme', 'd'.repeat(64))).toBeDefined();
  });

  it('refuses an answer over MAX_CACHED_BYTES gzipped (AnswerTooLargeToCache), as DynamoDB\'s 400 KB item would', async () => {
    await expect(new MemoryResponseCache().put('acme', KEY, { body: incompressible(), storedAt: now(), expiresAt: now() + 60 })).rejects.toBeInstanceOf(AnswerTooLargeToCache);
    expect(decodeCachedBody(encodeCachedBody('{"x":"y"}'))).toBe('{"x":"y"}');
  });
});

describe('DynamoDbResponseCache (SDK mocked)', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const asked: string[] = [];
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
  const cache = new DynamoDbResponseCache('tessera-gateway-responses', async (tenantId) => (asked.push(tenantId), doc));
  beforeEach(() => {
    ddb.reset();
    asked.length = 0;
  });
  afterAll(() => ddb.restore());

  it('puts `cache#<key>` in the tenant\'s partition with the table\'s TTL attribute and the body gzipped, with the tenant\'s client', async () => {
    ddb.on(PutCommand).resolves({});
    await cache.put('acme', KEY, { body: '{"object":"list"}', storedAt: 1_800_000_000, expiresAt: 1_800_000_600 });
    const input = ddb.commandCalls(PutCommand)[0].args[0].input;
    expect(input).toMatchObject({ TableName: 'tessera-gateway-responses', Item: { tenantId: 'acme', responseId: `cache#${KEY}`, storedAt: 1_800_000_000, expiresAt: 1_800_000_600 } });
    expect(decodeCachedBody(input.Item!.body as Uint8Array)).toBe('{"object":"list"}');
    expect(asked).toEqual(['acme']);
  });

  it('keeps the request\'s audit fields gzipped in `audit` and reads them back (only those fields); an item without it has none', async () => {
    ddb.on(PutCommand).resolves({});
    const audit = { promptSha256: 'a'.repeat(64), prompt: 'hi', piiRedacted: ['EMAIL'], guardrailMasked: { input: 1 } };
    await cache.put('acme', KEY, { body: '{"a":1}', storedAt: now(), expiresAt: now() + 60, audit: { ...audit, costUsd: 5 } as never });
    const item = ddb.commandCalls(PutCommand)[0].args[0].input.Item!;
    expect(decodeCachedAudit(item.audit as Uint8Array)).toEqual(audit);
    ddb.on(GetCommand).resolvesOnce({ Item: item }).resolvesOnce({ Item: { ...item, audit: undefined } });
    expect(await cache.get('acme', KEY)).toEqual({ body: '{"a":1}', storedAt: item.storedAt, expiresAt: item.expiresAt, audit });
    expect((await cache.get('acme', KEY))!.audit).toBeUndefined();
  });

  it('counts the audit fields in the size limit: a prompt text that takes the answer over it is AnswerTooLargeToCache', () => {
    const half = incompressible().slice(0, Math.ceil(MAX_CACHED_BYTES * 0.9));
    expect(() => encodeCachedAnswer({ body: JSON.stringify(half) })).not.toThrow();
    expect(() => encodeCachedAnswer({ body: JSON.stringify(half), audit: { prompt: half } })).toThrow(AnswerTooLargeToCache);
  });

  it('reads it back, and refuses an expired item DynamoDB has not deleted yet', async () => {
    const body = encodeCachedBody('{"a":1}');
    ddb.on(GetCommand).resolvesOnce({ Item: { tenantId: 'acme', responseId: `cache#${KEY}`, storedAt: now() - 5, expiresAt: now() + 60, body } })
      .resolvesOnce({ Item: { tenantId: 'acme', responseId: `cache#${KEY}`, storedAt: now() - 90, expiresAt: now() - 30, body } });
    expect(await cache.get('acme', KEY)).toMatchObject({ body: '{"a":1}' });
    expect(await cache.get('acme', KEY)).toBeUndefined();
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: 'tessera-gateway-responses', Key: { tenantId: 'acme', responseId: `cache#${KEY}` } });
  });

  it('an answer too large is never sent (AnswerTooLargeToCache); a key that is not a SHA-256 hex nor a tenant id reaches nothing', async () => {
    await expect(cache.put('acme', KEY, { body: incompressible(), storedAt: now(), expiresAt: now() + 60 })).rejects.toBeInstanceOf(AnswerTooLargeToCache);
    expect(await cache.get('acme', 'resp_1')).toBeUndefined();
    expect(await cache.get('Not A Tenant', KEY)).toBeUndefined();
    expect(ddb.calls()).toHaveLength(0);
  });
});
