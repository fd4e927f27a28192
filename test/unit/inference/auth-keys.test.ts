import { exportJWK, generateKeyPair, SignJWT, type CryptoKey as JoseKey, type JWK } from 'jose';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mintApiKey } from '../../../lib/identity/api-key.js';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import { AUTH_CACHE_MS, Authorizer } from '../../../lambdas/inference/auth.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { MemoryApiKeyStore } from '../../../lambdas/identity/stores/memory-api-key-store.js';
import { logSpy } from '../../support/service-log.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'tessera';
const T0 = Date.parse('2026-12-01T12:00:00Z');
let privateKey: JoseKey;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
});

/** The refusal `promise` rejects with (fails when it resolves). */
async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected a refusal').toBeInstanceOf(GatewayError);
  return e as GatewayError;
}

describe('Authorizer: tenant API keys (tsk_…)', () => {
  let clock: number;
  let store: MemoryStore;
  let keys: MemoryApiKeyStore;
  let authorizer: Authorizer;

  async function keyOf(tenantId: string, fields: Partial<ApiKeyRecord> = {}) {
    const m = mintApiKey(tenantId);
    const record: ApiKeyRecord = { tenantId, keyHash: m.keyHash, keyId: m.keyId, hint: m.hint, name: 'ci', role: 'developer', createdBy: 'admin:test', createdAt: new Date(T0 - 1000).toISOString(), ...fields };
    await keys.put(record);
    return { key: m.key, record };
  }

  beforeEach(() => {
    clock = T0;
    store = new MemoryStore();
    store.putTenant(localTenant('acme', 'enterprise'));
    store.putTenant(localTenant('globex', 'starter'));
    keys = new MemoryApiKeyStore();
    authorizer = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { keys, now: () => clock });
  });

  it('accepts a key: tenant from its prefix, role and models from its record, user id = key id', async () => {
    const { key, record } = await keyOf('acme', { role: 'admin', models: ['openai/gpt-4o-mini'] });
    const caller = await authorizer.authorize(`Bearer ${key}`);
    expect(caller).toMatchObject({ tenantId: 'acme', userId: record.keyId, keyId: record.keyId, role: 'admin', key: { models: ['openai/gpt-4o-mini'] } });
    expect(caller.tenant.tenantId).toBe('acme');
  });

  it('takes the scheme in any case and surrounding whitespace', async () => {
    const { key } = await keyOf('acme');
    for (const header of [`bearer ${key}`, `BEARER ${key}`, `  Bearer   ${key}  `]) expect((await authorizer.authorize(header)).tenantId).toBe('acme');
  });

  it('refuses mis-shaped keys with 401 malformed_api_key naming the shape, never echoing the key', async () => {
    const { key } = await keyOf('acme');
    for (const bad of ['tsk_', 'tsk_acme', 'tsk_acme_short', 'tsk_a.b.c', `${key} extra`, `${key}x`, 'tsk_ACME_' + 'a'.repeat(43), `tsk_acme_${'a'.repeat(42)}!`]) {
      const e = await refusal(authorizer.authorize(`Bearer ${bad}`));
      expect([e.status, e.code, e.type]).toEqual([401, 'malformed_api_key', 'authentication_error']);
      expect(e.message).toContain('tsk_<tenant id>_<43 letters and digits>');
      if (bad.length > 20) expect(e.message).not.toContain(bad);
    }
  });

  it('refuses a key with a valid prefix and a random body, or of a tenant that does not exist, with the same 401 invalid_api_key', async () => {
    const random = mintApiKey('acme').key;
    const noTenant = mintApiKey('nosuchtenant').key;
    const a = await refusal(authorizer.authorize(`Bearer ${random}`));
    const b = await refusal(authorizer.authorize(`Bearer ${noTenant}`));
    expect([a.status, a.code]).toEqual([401, 'invalid_api_key']);
    expect(b.body()).toBe(a.body());
    expect(a.message).not.toMatch(/acme|tenant/i);
  });

  it('refuses a key of tenant A presented under tenant B\'s prefix (the hash names no record of B)', async () => {
    const { key } = await keyOf('acme', { role: 'admin' });
    const swapped = key.replace('tsk_acme_', 'tsk_globex_');
    const e = await refusal(authorizer.authorize(`Bearer ${swapped}`));
    expect(e.code).toBe('invalid_api_key');
  });

  it('refuses revoked (401 api_key_revoked) and expired (401 api_key_expired) keys, naming the key id', async () => {
    const revoked = await keyOf('acme', { revokedAt: new Date(T0 - 1).toISOString() });
    const expired = await keyOf('acme', { expiresAt: new Date(T0).toISOString() });
    const r = await refusal(authorizer.authorize(`Bearer ${revoked.key}`));
    const x = await refusal(authorizer.authorize(`Bearer ${expired.key}`));
    expect([r.status, r.code]).toEqual([401, 'api_key_revoked']);
    expect(r.message).toContain(revoked.record.keyId);
    expect([x.status, x.code]).toEqual([401, 'api_key_expired']);
  });

  it('an expired key is not told to rotate (a rotation keeps the expiry instant); a rotated key past its grace, or revoked by it, names its successor', async () => {
    const expired = await keyOf('acme', { expiresAt: new Date(T0).toISOString() });
    const x = await refusal(authorizer.authorize(`Bearer ${expired.key}`));
    expect(x.code).toBe('api_key_expired');
    expect(x.message).not.toMatch(/rotate/);
    expect(x.message).toContain('new key');
    const graceOver = await keyOf('acme', { expiresAt: new Date(T0).toISOString(), rotatedTo: 'key_00000000000000aa' });
    const g = await refusal(authorizer.authorize(`Bearer ${graceOver.key}`));
    expect(g.code).toBe('api_key_expired');
    expect(g.message).toContain(`API key ${graceOver.record.keyId} was rotated into key_00000000000000aa`);
    const cutShort = await keyOf('acme', { revokedAt: new Date(T0 - 1).toISOString(), rotatedTo: 'key_00000000000000bb' });
    const c = await refusal(authorizer.authorize(`Bearer ${cutShort.key}`));
    expect(c.code).toBe('api_key_revoked');
    expect(c.message).toContain(`API key ${cutShort.record.keyId} was rotated into key_00000000000000bb`);
  });

  it('reads a key once per cache TTL: a revoked key works until the TTL ends (AUTH_CACHE_MS, 30 s), then stops', async () => {
    const { key, record } = await keyOf('acme');
    const get = vi.spyOn(keys, 'get');
    await authorizer.authorize(`Bearer ${key}`);
    await keys.update('acme', record.keyHash, { revokedAt: new Date(T0).toISOString() });
    expect(AUTH_CACHE_MS).toBe(30_000);
    clock = T0 + AUTH_CACHE_MS - 1;
    expect((await authorizer.authorize(`Bearer ${key}`)).keyId).toBe(record.keyId);
    expect(get).toHaveBeenCalledTimes(1);
    clock = T0 + AUTH_CACHE_MS;
    expect((await refusal(authorizer.authorize(`Bearer ${key}`))).code).toBe('api_key_revoked');
    expect(get).toHaveBeenCalledTimes(2);
  });

  it('caches refusals too (random keys cost one read per TTL), and never trusts a key past its expiry', async () => {
    const random = mintApiKey('acme').key;
    const get = vi.spyOn(keys, 'get');
    for (let i = 0; i < 5; i++) await refusal(authorizer.authorize(`Bearer ${random}`));
    expect(get).toHaveBeenCalledTimes(1);
    const soon = await keyOf('acme', { expiresAt: new Date(T0 + 10_000).toISOString() });
    await authorizer.authorize(`Bearer ${soon.key}`);
    clock = T0 + 10_000;
    expect((await refusal(authorizer.authorize(`Bearer ${soon.key}`))).code).toBe('api_key_expired');
  });

  it('keeps at most maxEntries verdicts (least recently used forgotten first)', async () => {
    const small = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { keys, maxEntries: 50, now: () => clock });
    const { key } = await keyOf('acme');
    await small.authorize(`Bearer ${key}`);
    for (let i = 0; i < 300; i++) {
      await refusal(small.authorize(`Bearer ${mintApiKey('acme').key}`));
      if (i % 10 === 0) await small.authorize(`Bearer ${key}`); // kept in use: never the least recently used
    }
    expect(small.cacheSize).toBe(50);
    const get = vi.spyOn(keys, 'get');
    await small.authorize(`Bearer ${key}`);
    expect(get).not.toHaveBeenCalled();
  });

  it('forgets the least recently used verdict first: a verdict read again outlives one stored after it', async () => {
    const two = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { keys, maxEntries: 2, now: () => clock });
    const [a, b, c] = [await keyOf('acme'), await keyOf('acme'), await keyOf('globex')];
    const get = vi.spyOn(keys, 'get');
    const reads = (k: { record: ApiKeyRecord }) => get.mock.calls.filter(([, hash]) => hash === k.record.keyHash).length;
    await two.authorize(`Bearer ${a.key}`);
    await two.authorize(`Bearer ${b.key}`);
    await two.authorize(`Bearer ${a.key}`); // a is now the most recently used: b goes first
    await two.authorize(`Bearer ${c.key}`);
    expect(two.cacheSize).toBe(2);
    await two.authorize(`Bearer ${a.key}`);
    await two.authorize(`Bearer ${c.key}`);
    expect([reads(a), reads(b), reads(c)]).toEqual([1, 1, 1]);
    await two.authorize(`Bearer ${b.key}`); // forgotten: read again (and now a, the least recently used, goes)
    await two.authorize(`Bearer ${a.key}`);
    expect([reads(a), reads(b), reads(c)]).toEqual([2, 2, 1]);
  });

  it('refuses a cache bound that is not a positive integer, naming the option', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { keys, maxEntries })).toThrow(new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`));
    }
  });

  it('stops a suspended tenant\'s keys at once (403 tenant_not_active), cached or not', async () => {
    const { key } = await keyOf('acme');
    await authorizer.authorize(`Bearer ${key}`);
    store.putTenant(localTenant('acme', 'enterprise', { status: 'SUSPENDED' }));
    const e = await refusal(authorizer.authorize(`Bearer ${key}`));
    expect([e.status, e.code]).toEqual([403, 'tenant_not_active']);
    // with the next step a tenant developer can take (s23: the message gave none)
    expect(e.message).toBe('tenant "acme" is SUSPENDED; the gateway serves ACTIVE and UPDATING tenants only: ask your platform team: suspension is theirs to lift (tessera tenants resume acme); its keys and users work again once it is ACTIVE');
    store.putTenant(localTenant('acme', 'enterprise', { status: 'OFFBOARDING' }));
    expect((await refusal(authorizer.authorize(`Bearer ${key}`))).message).toMatch(/^tenant "acme" is OFFBOARDING; the gateway serves ACTIVE and UPDATING tenants only: the tenant is being removed \(offboarding\): its keys and users will not work again/);
    store.putTenant(localTenant('acme', 'enterprise', { status: 'SUSPENDED' }));
    const fresh = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { keys, now: () => clock });
    expect((await refusal(fresh.authorize(`Bearer ${key}`))).code).toBe('tenant_not_active');
  });

  it('writes lastUsedAt on a cache miss only, and a failed write does not fail the request', async () => {
    const { key, record } = await keyOf('acme');
    const update = vi.spyOn(keys, 'update');
    await authorizer.authorize(`Bearer ${key}`);
    await authorizer.authorize(`Bearer ${key}`);
    await vi.waitFor(async () => expect((await keys.get('acme', record.keyHash))?.lastUsedAt).toBe(new Date(T0).toISOString()));
    expect(update).toHaveBeenCalledTimes(1);
    const other = await keyOf('acme');
    update.mockRejectedValueOnce(new Error('throttled'));
    const log = logSpy('tessera-gateway', 'error');
    expect((await authorizer.authorize(`Bearer ${other.key}`)).keyId).toBe(other.record.keyId);
    await vi.waitFor(() => expect(log).toHaveBeenCalledWith('API key lastUsedAt not written', { tenantId: 'acme', keyId: other.record.keyId, error: 'throttled' }));
    log.mockRestore();
  });

  it('settled() waits for the lastUsedAt writes started so far (the authorizer Lambda awaits it before it answers), and never rejects', async () => {
    const { key, record } = await keyOf('acme');
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const put = keys.update.bind(keys);
    vi.spyOn(keys, 'update').mockImplementationOnce(async (...args) => { await held; return put(...args); });
    await authorizer.authorize(`Bearer ${key}`);
    let done = false;
    const settled = authorizer.settled().then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    release();
    await settled;
    expect((await keys.get('acme', record.keyHash))?.lastUsedAt).toBe(new Date(T0).toISOString());
    // A failed write is logged and settles too.
    const other = await keyOf('acme');
    vi.spyOn(keys, 'update').mockRejectedValueOnce(new Error('throttled'));
    const log = logSpy('tessera-gateway', 'error');
    await authorizer.authorize(`Bearer ${other.key}`);
    await expect(authorizer.settled()).resolves.toBeUndefined();
    expect(log).toHaveBeenCalledWith('API key lastUsedAt not written', { tenantId: 'acme', keyId: other.record.keyId, error: 'throttled' });
    log.mockRestore();
  });

  it('without a key store, a tsk_ bearer is 401 api_keys_not_enabled', async () => {
    const jwtOnly = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store);
    const e = await refusal(jwtOnly.authorize(`Bearer ${mintApiKey('acme').key}`));
    expect([e.status, e.code]).toEqual([401, 'api_keys_not_enabled']);
    expect(e.message).toContain('API keys are not enabled here');
  });

  it('callerOf: a batch or background response whose creating key is revoked or gone is refused, naming what the key created', async () => {
    const { record } = await keyOf('acme', { revokedAt: new Date(T0 - 10).toISOString() });
    const owner = { tenantId: 'acme', userId: record.keyId, role: 'developer' as const, keyId: record.keyId };
    const batch = await refusal(authorizer.callerOf(owner));
    expect([batch.status, batch.code]).toEqual([401, 'api_key_revoked']);
    expect(batch.message).toContain(`API key ${record.keyId}, which created this batch, is revoked`);
    const background = await refusal(authorizer.callerOf(owner, 'background response'));
    expect(background.message).toContain(`API key ${record.keyId}, which created this background response, is revoked`);
    const gone = await refusal(authorizer.callerOf({ ...owner, keyId: 'key_gone' }, 'background response'));
    expect([gone.status, gone.code, gone.message]).toEqual([401, 'invalid_api_key', 'API key key_gone, which created this background response, no longer exists']);
  });
});

describe('Authorizer: roles from verified JWT claims', () => {
  const store = new MemoryStore();
  store.putTenant(localTenant('acme', 'enterprise'));
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('u-1').setIssuedAt().setExpirationTime('1h').sign(privateKey);
  const authorizer = () => new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store);

  it('reads tessera:role, or the role group of a Cognito ID token (custom:tenant_id, cognito:groups)', async () => {
    expect((await authorizer().authorize(`Bearer ${await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'viewer' })}`)).role).toBe('viewer');
    const cognito = await sign({ 'custom:tenant_id': 'acme', 'cognito:groups': ['tenant-developer'] });
    expect(await authorizer().authorize(`Bearer ${cognito}`)).toMatchObject({ tenantId: 'acme', userId: 'u-1', role: 'developer' });
    expect((await authorizer().authorize(`Bearer ${await sign({ 'custom:tenant_id': 'acme', 'cognito:groups': ['tenant-admin', 'tenant-viewer'] })}`)).role).toBe('viewer');
  });

  it('makes a token with no role claim a member (users invited before roles existed keep inference)', async () => {
    expect((await authorizer().authorize(`Bearer ${await sign({ 'tessera:tenant-id': 'acme' })}`)).role).toBe('member');
    expect((await authorizer().authorize(`Bearer ${await sign({ 'custom:tenant_id': 'acme', 'cognito:groups': ['other'] })}`)).role).toBe('member');
  });

  it('refuses a role claim naming no role: 403 unknown_role naming the value', async () => {
    const e = await refusal(authorizer().authorize(`Bearer ${await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'superuser' })}`));
    expect([e.status, e.code, e.type]).toEqual([403, 'unknown_role', 'permission_error']);
    expect(e.message).toContain('"superuser"');
    expect(e.message).toContain('admin, developer, member, viewer');
  });
});

describe('Authorizer: what a refusal tells, and what it costs (hostile review)', () => {
  it('a key naming no record costs one read, whether its tenant exists or not (no tenant read): no timing tells them apart', async () => {
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'enterprise'));
    const keys = new MemoryApiKeyStore();
    const authorizer = new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { keys });
    const tenantReads = vi.spyOn(store, 'getTenant');
    const keyReads = vi.spyOn(keys, 'get');
    for (const tenant of ['acme', 'nosuchco']) {
      const e = await refusal(authorizer.authorize(`Bearer ${mintApiKey(tenant).key}`));
      expect(e.code).toBe('invalid_api_key');
    }
    expect(keyReads).toHaveBeenCalledTimes(2);
    expect(tenantReads).not.toHaveBeenCalled();
  });

  it('a revoked or expired key\'s refusal names its tenant and key for the audit record', async () => {
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'enterprise'));
    const keys = new MemoryApiKeyStore();
    const m = mintApiKey('acme');
    await keys.put({ tenantId: 'acme', keyHash: m.keyHash, keyId: m.keyId, hint: m.hint, name: 'ci', role: 'member', createdBy: 'admin:test', createdAt: new Date(T0 - 1000).toISOString(), revokedAt: new Date(T0 - 10).toISOString() });
    const e = await refusal(new Authorizer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [publicJwk] } }, store, { keys }).authorize(`Bearer ${m.key}`));
    expect([e.code, e.audit]).toEqual(['api_key_revoked', { tenantId: 'acme', keyId: m.keyId, userId: m.keyId }]);
  });
});
