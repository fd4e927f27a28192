import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand, type GetCommandInput } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mintApiKey } from '../../../lib/identity/api-key.js';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import { Authorizer } from '../../../lambdas/inference/auth.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/gateway-env.js';
import { localTenant } from '../../../lambdas/inference/local-tenant.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { DynamoDbStore } from '../../../lambdas/inference/stores/dynamodb-store.js';
import { DynamoDbTenantExistence } from '../../../lambdas/inference/stores/tenant-existence.js';
import { CachedTenantExistence, TENANT_EXISTENCE_CACHE_MS } from '../../../lambdas/inference/tenant-existence-cache.js';
import { DynamoDbApiKeyStore } from '../../../lambdas/identity/stores/dynamodb-api-key-store.js';
import { platformDocumentClient } from '../../../lambdas/shared/document-clients.js';
import { TenantCredentials, tenantDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { logSpy } from '../../support/service-log.js';

// A tsk_ key's prefix is an unauthenticated caller's text. Before, every new prefix was read as its
// tenant through a tenant-scoped session: one STS AssumeRole each (5,000 random prefixes, 5,001
// AssumeRole calls; STS's request quota is the account's, shared by every Lambda). Now a prefix no
// registered tenant has is refused with the platform's own read, and never reaches STS.

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const ddb = mockClient(DynamoDBDocumentClient);
const REGISTRY = 'tessera-tenants';
const KEYS = 'tessera-gateway-api-keys';
const T0 = Date.parse('2026-12-03T12:00:00Z');
let clock = T0;

/** The tables as DynamoDB would answer: registry items by tenantId (projected as asked), key items by (tenantId, keyHash). */
const registry = new Map<string, Record<string, unknown>>();
const keyItems = new Map<string, ApiKeyRecord>();

beforeEach(() => {
  clock = T0;
  registry.clear();
  keyItems.clear();
  sts.reset();
  ddb.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(T0 + 3_600_000) } });
  ddb.on(GetCommand).callsFake((input: GetCommandInput) => {
    const key = input.Key as { tenantId: string; keyHash?: string };
    if (input.TableName === REGISTRY) {
      const item = registry.get(key.tenantId);
      if (!item) return {};
      const wanted = input.ProjectionExpression?.split(/,\s*/);
      return { Item: wanted ? Object.fromEntries(wanted.filter((a) => a in item).map((a) => [a, item[a]])) : item };
    }
    const record = keyItems.get(`${key.tenantId}/${key.keyHash}`);
    return record ? { Item: record } : {};
  });
  ddb.on(UpdateCommand).resolves({});
});

function register(tenantId: string) {
  registry.set(tenantId, JSON.parse(JSON.stringify(localTenant(tenantId, 'starter'))));
}
function keyOf(tenantId: string): string {
  const m = mintApiKey(tenantId);
  keyItems.set(`${tenantId}/${m.keyHash}`, { tenantId, keyHash: m.keyHash, keyId: m.keyId, hint: m.hint, name: 'ci', role: 'developer', createdBy: 'admin:test', createdAt: new Date(T0 - 1000).toISOString() });
  return m.key;
}

/** The authorizer as the authorizer Lambda builds it: tenant-scoped stores, and the registry's existence check with the platform's client. */
function lambdaLikeAuthorizer() {
  const credentials = new TenantCredentials({ roleArn: 'arn:aws:iam::222222222222:role/tessera-tenant-data', now: () => clock });
  const docs = tenantDocumentClient(credentials);
  const tenants = new CachedTenantExistence(new DynamoDbTenantExistence(REGISTRY, platformDocumentClient()), { now: () => clock });
  const authorizer = new Authorizer({ issuer: 'https://issuer.test', audience: 'tessera', jwks: { keys: [] } }, new DynamoDbStore(REGISTRY, 'usage', docs), { keys: new DynamoDbApiKeyStore(KEYS, docs), tenants, now: () => clock });
  return { authorizer, tenants };
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected a refusal').toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

const randomTenant = () => `t${Math.random().toString(36).slice(2, 10).replace(/[^a-z0-9]/g, 'x')}`;

describe('tsk_ keys with a prefix no tenant has: no STS AssumeRole', () => {
  it('N requests with N random tenant prefixes cost 0 AssumeRole calls and N registry reads of tenantId only', async () => {
    const { authorizer, tenants } = lambdaLikeAuthorizer();
    const N = 300;
    for (let i = 0; i < N; i++) {
      const e = await refusal(authorizer.authorize(`Bearer ${mintApiKey(randomTenant()).key}`));
      expect([e.status, e.code]).toEqual([401, 'invalid_api_key']);
    }
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    const reads = ddb.commandCalls(GetCommand).map((c) => c.args[0].input);
    expect(reads).toHaveLength(N);
    for (const r of reads) expect(r).toMatchObject({ TableName: REGISTRY, ProjectionExpression: 'tenantId' });
    expect(tenants.size).toBe(N);
  });

  it('a known tenant\'s key with a wrong body gets the same 401 as a key of an unknown tenant', async () => {
    register('acme');
    keyOf('acme');
    const { authorizer } = lambdaLikeAuthorizer();
    const known = await refusal(authorizer.authorize(`Bearer ${mintApiKey('acme').key}`));
    const unknown = await refusal(authorizer.authorize(`Bearer ${mintApiKey('nosuchtenant').key}`));
    expect([known.status, known.code]).toEqual([401, 'invalid_api_key']);
    expect(unknown.body()).toBe(known.body());
    expect(unknown.headers).toEqual(known.headers);
    // Only the known tenant's key was read as that tenant.
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.Tags)).toEqual([[{ Key: 'tessera:tenant-id', Value: 'acme' }]]);
  });

  it('a tenant registered after a negative answer is served once the answer is older than TENANT_EXISTENCE_CACHE_MS', async () => {
    const { authorizer } = lambdaLikeAuthorizer();
    const key = keyOf('newco');
    expect((await refusal(authorizer.authorize(`Bearer ${key}`))).code).toBe('invalid_api_key');
    register('newco');
    clock += TENANT_EXISTENCE_CACHE_MS - 1;
    expect((await refusal(authorizer.authorize(`Bearer ${key}`))).code).toBe('invalid_api_key');
    clock += 2;
    expect(await authorizer.authorize(`Bearer ${key}`)).toMatchObject({ tenantId: 'newco', role: 'developer' });
  });

  it('keeps at most maxEntries answers, and asks again after a failed read (nothing cached)', async () => {
    const inner = { exists: vi.fn(async (t: string) => t === 'acme') };
    const cache = new CachedTenantExistence(inner, { maxEntries: 3, now: () => clock });
    for (const t of ['aaa', 'bbb', 'ccc', 'ddd', 'acme']) await cache.exists(t);
    expect(cache.size).toBe(3);
    expect(await Promise.all([cache.exists('eee'), cache.exists('eee')])).toEqual([false, false]);
    expect(inner.exists.mock.calls.filter(([t]) => t === 'eee')).toHaveLength(1);
    inner.exists.mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    await expect(cache.exists('fff')).rejects.toThrow(/Throughput/);
    expect(await cache.exists('fff')).toBe(false);
  });

  it('forgets the least recently used answer first', async () => {
    const inner = { exists: vi.fn(async (t: string) => t === 'acme') };
    const cache = new CachedTenantExistence(inner, { maxEntries: 2, now: () => clock });
    const reads = (t: string) => inner.exists.mock.calls.filter(([x]) => x === t).length;
    for (const t of ['acme', 'bbb', 'acme', 'ccc']) await cache.exists(t); // acme read again after bbb: bbb goes first
    expect(await cache.exists('acme')).toBe(true);
    expect(await cache.exists('ccc')).toBe(false);
    expect([reads('acme'), reads('bbb'), reads('ccc')]).toEqual([1, 1, 1]);
    expect(await cache.exists('bbb')).toBe(false);
    expect([reads('acme'), reads('bbb'), reads('ccc')]).toEqual([1, 2, 1]);
    expect(cache.size).toBe(2);
  });

  it('keeps an answer cacheMs from the end of its read, to the millisecond; then reads again', async () => {
    const inner = { exists: vi.fn(async (t: string) => { clock += 700; return t === 'acme'; }) }; // each read takes 700 ms
    const cache = new CachedTenantExistence(inner, { cacheMs: 10_000, now: () => clock });
    expect(await cache.exists('acme')).toBe(true);
    const read = clock;
    clock = read + 10_000 - 1;
    expect(await cache.exists('acme')).toBe(true);
    expect(inner.exists).toHaveBeenCalledTimes(1);
    clock = read + 10_000;
    expect(await cache.exists('acme')).toBe(true);
    expect(inner.exists).toHaveBeenCalledTimes(2);
    const zero = new CachedTenantExistence(inner, { cacheMs: 0, now: () => clock });
    await zero.exists('acme');
    await zero.exists('acme');
    expect(inner.exists).toHaveBeenCalledTimes(4); // cacheMs 0: nothing reused (lru-cache's ttl 0 would mean "forever")
  });

  it('a failed read reaches every caller waiting on it, and a failed refresh does not serve the expired answer', async () => {
    let fail: ((e: Error) => void) | undefined;
    const inner = { exists: vi.fn((t: string) => (t === 'slow' ? new Promise<boolean>((_, reject) => { fail = reject; }) : Promise.resolve(true))) };
    const cache = new CachedTenantExistence(inner, { now: () => clock });
    const both = Promise.allSettled([cache.exists('slow'), cache.exists('slow')]);
    await vi.waitFor(() => expect(fail).toBeDefined());
    fail!(new Error('ProvisionedThroughputExceededException'));
    expect((await both).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(inner.exists).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(0);
    expect(await cache.exists('acme')).toBe(true);
    clock += TENANT_EXISTENCE_CACHE_MS;
    inner.exists.mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    await expect(cache.exists('acme')).rejects.toThrow(/Throughput/);
    expect(await cache.exists('acme')).toBe(true);
    expect(inner.exists.mock.calls.filter(([t]) => t === 'acme')).toHaveLength(3);
  });

  it('answers the callers of a read that was evicted while in flight (uncached), not with an eviction error', async () => {
    let answer: ((exists: boolean) => void) | undefined;
    const inner = { exists: vi.fn((t: string) => (t === 'slow' ? new Promise<boolean>((resolve) => { answer = resolve; }) : Promise.resolve(false))) };
    const cache = new CachedTenantExistence(inner, { maxEntries: 1, now: () => clock });
    const slow = cache.exists('slow');
    await vi.waitFor(() => expect(answer).toBeDefined());
    expect(await cache.exists('bbb')).toBe(false); // takes the only place
    answer!(true);
    expect(await slow).toBe(true);
    expect(await cache.exists('bbb')).toBe(false);
    expect(inner.exists.mock.calls.filter(([t]) => t === 'bbb')).toHaveLength(1);
  });
});

describe('the authorizer Lambda (environment as the stack sets it)', () => {
  it('refuses random prefixes with "Unauthorized" and the same log line as a known tenant\'s wrong key, without AssumeRole', async () => {
    Object.assign(process.env, {
      [GATEWAY_ENV.registryTable]: REGISTRY, [GATEWAY_ENV.usageTable]: 'usage', [GATEWAY_ENV.apiKeysTable]: KEYS,
      [GATEWAY_ENV.tenantDataRole]: 'arn:aws:iam::222222222222:role/tessera-tenant-data',
      [GATEWAY_ENV.jwtIssuer]: 'https://issuer.test', [GATEWAY_ENV.jwtAudience]: 'tessera', [GATEWAY_ENV.jwksUri]: 'https://issuer.test/.well-known/jwks.json',
    });
    const { handler } = await import('../../../lambdas/inference/authorizer-handler.js');
    const log = logSpy('tessera-gateway', 'info');
    const event = (key: string) => ({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:111111111111:abc/prod/POST/v1/chat/completions', headers: { authorization: `Bearer ${key}` }, requestContext: { requestId: 'r' } }) as unknown as APIGatewayRequestAuthorizerEvent;
    for (let i = 0; i < 50; i++) await expect(handler(event(mintApiKey(randomTenant()).key))).rejects.toThrow(/^Unauthorized$/);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    register('acme');
    await expect(handler(event(mintApiKey('acme').key))).rejects.toThrow(/^Unauthorized$/);
    const lines = log.lines();
    expect(new Set(lines.map((l) => JSON.stringify(l)))).toEqual(new Set([JSON.stringify(lines[0])]));
    expect(lines[0]).toMatchObject({ status: 401, code: 'invalid_api_key' });
    log.mockRestore();
  });
});
