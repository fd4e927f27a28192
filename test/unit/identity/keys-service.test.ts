import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, hashApiKey, parseApiKey } from '../../../lib/identity/api-key.js';
import type { TenantRecord, TenantStatus } from '../../../lib/tenant-record.js';
import { ApiKeyService, keyUsable, MAX_LIVE_KEYS } from '../../../lambdas/identity/api-keys.js';
import { IdentityError } from '../../../lambdas/identity/identity-error.js';
import { adminRevokeHow } from '../../../lambdas/admin/keys-routes.js';
import { MemoryApiKeyStore } from '../../../lambdas/identity/stores/memory-api-key-store.js';
import { configWith } from '../../support/config-with.js';

const config = configWith();
const NOW = new Date('2026-12-01T10:00:00.000Z');
const hours = (h: number) => new Date(NOW.getTime() + h * 3_600_000);
const ADMIN = 'admin:arn:aws:iam::111111111111:user/ops';

function tenant(tenantId = 'acme', extra: Partial<TenantRecord> = {}): TenantRecord {
  return {
    tenantId, name: `${tenantId} corp`, tier: 'starter', isolation: 'vpc', adminEmail: `ops@${tenantId}.example.com`, status: 'ACTIVE', requestId: `req-${tenantId}-0001`,
    createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', stackOutputs: {}, executions: [],
    gateway: { fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true }, auditPromptText: false, monthlyCostBudgetUsd: 50 },
    ...extra,
  };
}

const setup = () => {
  const store = new MemoryApiKeyStore();
  return { store, keys: new ApiKeyService(store, config) };
};

/** The IdentityError `promise` rejects with (fails the test when it resolves or throws anything else). */
async function refusal(promise: Promise<unknown>): Promise<IdentityError> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(IdentityError);
  return e as IdentityError;
}

describe('ApiKeyService.create', () => {
  it('mints a tsk_ key, stores only its hash, and returns the key once with the record', async () => {
    const { store, keys } = setup();
    const { key, record } = await keys.create(tenant(), {
      name: 'batch job', role: 'developer', models: ['openai/gpt-4o-mini', 'bedrock/amazon.nova-lite'], limits: { requestsPerMinute: 10, tokensPerDay: 5000, monthlyCostUsd: 5 }, expiresInDays: 30,
    }, ADMIN, NOW);
    expect(key).toMatch(API_KEY_PATTERN);
    expect(parseApiKey(key)).toEqual({ tenantId: 'acme', keyHash: record.keyHash });
    expect(record).toEqual({
      tenantId: 'acme', keyHash: hashApiKey(key), keyId: `key_${hashApiKey(key).slice(0, 16)}`, hint: `tsk_acme_…${key.slice(-4)}`, name: 'batch job', role: 'developer',
      models: ['openai/gpt-4o-mini', 'bedrock/amazon.nova-lite'], limits: { requestsPerMinute: 10, tokensPerDay: 5000, monthlyCostUsd: 5 },
      expiresAt: '2026-12-31T10:00:00.000Z', createdBy: ADMIN, createdAt: '2026-12-01T10:00:00.000Z',
    });
    expect(await store.get('acme', record.keyHash)).toEqual(record);
    expect(JSON.stringify(await store.list('acme'))).not.toContain(key.split('_')[2]);
  });

  it('defaults: role member, every model of the tenant, no limits of its own, no expiry', async () => {
    const { record } = await setup().keys.create(tenant(), { name: 'plain' }, ADMIN, NOW);
    expect(record.role).toBe('member');
    for (const field of ['models', 'limits', 'expiresAt', 'revokedAt', 'rotatedFrom'] as const) expect(record[field]).toBeUndefined();
  });

  it('accepts the tenant\'s fine-tuned model and limits equal to the tenant\'s', async () => {
    const ft = 'ft:llama-3.1-8b-instruct:acme:support';
    const withModel = tenant('acme', { tier: 'professional', fineTunedModels: [{ id: ft, baseModel: 'llama-3.1-8b-instruct', jobId: 'ftjob-1', endpointName: 'tessera-acme-ft-support', createdAt: '2026-11-20T00:00:00.000Z' }] });
    const { record } = await setup().keys.create(withModel, { name: 'ft', models: [ft], limits: { requestsPerMinute: 500, tokensPerDay: 10_000_000, monthlyCostUsd: 50 } }, ADMIN, NOW);
    expect(record.models).toEqual([ft]);
  });

  it.each([
    // hostile: an unknown model, another tier's model, another tenant's fine-tuned model
    [{ name: 'x', models: ['openai/gpt-4o-mini', 'openai/gpt-5-turbo'] }, 'models[1]', 'unknown_model', /models\[1\] = "openai\/gpt-5-turbo": not a model of tenant acme \(its models: .*openai\/gpt-4o-mini.*; GET \/v1\/models lists them\)/],
    [{ name: 'x', models: ['huggingface/meta-llama/Llama-3.1-8B-Instruct'] }, 'models[0]', 'unknown_model', /not a model of tenant acme/],
    [{ name: 'x', models: ['ft:llama-3.1-8b-instruct:globex:support'] }, 'models[0]', 'unknown_model', /not a model of tenant acme/],
    // hostile: a budget above the tenant's
    [{ name: 'x', limits: { monthlyCostUsd: 50.01 } }, 'limits.monthlyCostUsd', 'limit_above_tenant', /limits\.monthlyCostUsd = 50\.01: above tenant acme's own limit of 50 USD a month/],
    [{ name: 'x', limits: { tokensPerDay: 1_000_001 } }, 'limits.tokensPerDay', 'limit_above_tenant', /limits\.tokensPerDay = 1000001: above tenant acme's own limit of 1000000 tokens a day \(tier starter\)/],
    // the starter tier has no tokensPerMinute: a key's is held to the tier's tokens a day
    [{ name: 'x', limits: { tokensPerMinute: 1_000_001 } }, 'limits.tokensPerMinute', 'limit_above_tenant', /limits\.tokensPerMinute = 1000001: above tenant acme's own limit of 1000000 tokens a day \(tier starter, which has no tokensPerMinute\)/],
    [{ name: 'x', limits: { requestsPerMinute: 101 } }, 'limits.requestsPerMinute', 'limit_above_tenant', /limits\.requestsPerMinute = 101: above tenant acme's own limit of 100 requests a minute/],
    // hostile: an unknown role, a non-integer limit, unknown fields (top level and nested)
    [{ name: 'x', role: 'owner' }, 'role', 'invalid_request', /role = "owner": must be one of "admin", "developer", "member", "viewer"$/],
    [{ name: 'x', limits: { tokensPerDay: 10.5 } }, 'limits.tokensPerDay', 'invalid_request', /limits\.tokensPerDay = 10\.5: must be a whole number$/],
    [{ name: 'x', limits: { requestsPerMinute: -1 } }, 'limits.requestsPerMinute', 'invalid_request', /limits\.requestsPerMinute = -1/],
    // a cost budget under one nano-dollar would round to 0 in the stores and refuse every priced request
    [{ name: 'x', limits: { monthlyCostUsd: 0.0000000004 } }, 'limits.monthlyCostUsd', 'invalid_request', /limits\.monthlyCostUsd = 4e-10: must be at least 0\.000000001 \(one nano-dollar\): budgets are counted in nano-dollars/],
    [{ name: 'x', tenantId: 'globex' }, 'tenantId', 'unknown_parameter', /^tenantId = "globex": is not a field of this request \(its fields: name, /],
    [{ name: 'x', limits: { tokensPerHour: 5 } }, 'limits.tokensPerHour', 'unknown_parameter', /^limits\.tokensPerHour = 5: is not a field of limits; did you mean tokensPerDay\? \(its fields: requestsPerMinute, tokensPerMinute, tokensPerDay, monthlyCostUsd\)$/],
    [{ name: 'x', limits: { tokensPerMinute: 0 } }, 'limits.tokensPerMinute', 'invalid_request', /limits\.tokensPerMinute = 0/],
    // a key's minute above its own day (as a tier's is refused in the config)
    [{ name: 'x', limits: { tokensPerMinute: 1000, tokensPerDay: 100 } }, 'limits.tokensPerMinute', 'invalid_request', /^limits\.tokensPerMinute = 1000: must be at most tokensPerDay \(100\): a minute cannot use more tokens than its day$/],
    [{ name: 'x', limits: { tokensPerMinute: 1.5 } }, 'limits.tokensPerMinute', 'invalid_request', /^limits\.tokensPerMinute = 1\.5: must be a whole number$/],
    [{ name: 'x', limits: { tokensPerMinute: -5 } }, 'limits.tokensPerMinute', 'invalid_request', /^limits\.tokensPerMinute = -5/],
    [{ name: 'x', expiresInDays: 0 }, 'expiresInDays', 'invalid_request', /expiresInDays = 0/],
    [{ name: 'x', expiresInDays: 1.5 }, 'expiresInDays', 'invalid_request', /expiresInDays = 1\.5/],
    [{ role: 'member' }, 'name', 'invalid_request', /name = \(missing\)/],
    [{ name: '' }, 'name', 'invalid_request', /name = "":/],
    [{ name: 'x', models: [] }, 'models', 'invalid_request', /models = \[\]/],
    ['not an object', undefined, 'invalid_request', /\(root\) = "not an object"/],
  ])('refuses %j with a 400 naming %s (%s), and stores nothing', async (request, param, code, message) => {
    const { store, keys } = setup();
    const e = await refusal(keys.create(tenant(), request, ADMIN, NOW));
    expect({ status: e.status, param: e.param, code: e.code }).toEqual({ status: 400, param, code });
    expect(e.message).toMatch(message);
    expect(await store.list('acme')).toEqual([]);
  });

  it('a tenant without a cost budget has no cost ceiling for its keys', async () => {
    const noBudget = tenant('acme', { gateway: undefined });
    const { record } = await setup().keys.create(noBudget, { name: 'x', limits: { monthlyCostUsd: 10_000 } }, ADMIN, NOW);
    expect(record.limits).toEqual({ monthlyCostUsd: 10_000 });
  });

  it.each(['REQUESTED', 'PROVISIONING', 'FAILED', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED'] as TenantStatus[])('refuses a %s tenant with a 409 naming the status', async (status) => {
    const { store, keys } = setup();
    const e = await refusal(keys.create(tenant('acme', { status }), { name: 'x' }, ADMIN, NOW));
    expect({ status: e.status, code: e.code }).toEqual({ status: 409, code: 'invalid_status' });
    expect(e.message).toContain(`tenant acme is ${status}: cannot create a key`);
    expect(await store.list('acme')).toEqual([]);
  });

  it('an UPDATING tenant is served: keys can be created', async () => {
    await expect(setup().keys.create(tenant('acme', { status: 'UPDATING' }), { name: 'x' }, ADMIN, NOW)).resolves.toBeDefined();
  });

  it(`allows ${MAX_LIVE_KEYS} live keys; revoked and expired ones do not count`, async () => {
    const { store, keys } = setup();
    const made = [];
    for (let i = 0; i < MAX_LIVE_KEYS; i++) made.push(await keys.create(tenant(), { name: `k${i}`, ...(i === 0 ? { expiresInDays: 1 } : {}) }, ADMIN, NOW));
    const e = await refusal(keys.create(tenant(), { name: 'one too many' }, ADMIN, NOW));
    expect({ status: e.status, code: e.code }).toEqual({ status: 409, code: 'too_many_keys' });
    expect(e.message).toContain(`tenant acme has 100 live API keys, the most a tenant may have (100)`);
    // The service of the gateway's route tells a tenant admin its own way to revoke (the admin API's names its own: below).
    expect(e.message).toContain('revoke keys it no longer uses (DELETE /v1/tenant/keys/{keyId}; GET /v1/tenant/keys shows when each was last used)');
    expect(e.message).not.toMatch(/admin|tessera keys/);
    await keys.revoke('acme', made[1]!.record.keyId, NOW);
    await keys.create(tenant(), { name: 'after a revoke' }, ADMIN, NOW);
    await keys.create(tenant(), { name: 'after the first expired' }, ADMIN, hours(25));
    await expect(keys.create(tenant(), { name: 'full again' }, ADMIN, hours(25))).rejects.toMatchObject({ code: 'too_many_keys' });
    expect(await store.list('acme')).toHaveLength(102);
    await expect(keys.create(tenant('globex'), { name: 'other tenant' }, ADMIN, NOW)).resolves.toBeDefined();
  });
  it('the admin API\'s service names the admin route and the CLI in too_many_keys, not the /v1 route a platform operator does not call', async () => {
    const store = new MemoryApiKeyStore();
    const keys = new ApiKeyService(store, config, adminRevokeHow);
    for (let i = 0; i < MAX_LIVE_KEYS; i++) await keys.create(tenant(), { name: `k${i}` }, ADMIN, NOW);
    const e = await refusal(keys.create(tenant(), { name: 'one too many' }, ADMIN, NOW));
    expect(e.message).toBe('tenant acme has 100 live API keys, the most a tenant may have (100); revoke keys it no longer uses (DELETE /admin/tenants/acme/keys/{keyId}, or tessera keys revoke <keyId> --tenant acme; GET /admin/tenants/acme/keys and tessera keys list show when each was last used)');
  });
});

describe('ApiKeyService.list and revoke', () => {
  it('lists the tenant\'s keys newest first, revoked ones included, never another tenant\'s', async () => {
    const { keys } = setup();
    const a = await keys.create(tenant(), { name: 'a' }, ADMIN, NOW);
    const b = await keys.create(tenant(), { name: 'b' }, ADMIN, hours(1));
    await keys.create(tenant('globex'), { name: 'theirs' }, ADMIN, hours(2));
    await keys.revoke('acme', a.record.keyId, hours(3));
    expect((await keys.list('acme')).map((r) => [r.name, r.revokedAt])).toEqual([['b', undefined], ['a', hours(3).toISOString()]]);
    expect(b.record.tenantId).toBe('acme');
  });

  it('revokes at once, and a second revoke returns the key unchanged', async () => {
    const { store, keys } = setup();
    const { record } = await keys.create(tenant(), { name: 'a' }, ADMIN, NOW);
    const revoked = await keys.revoke('acme', record.keyId, hours(1));
    expect(revoked).toEqual({ ...record, revokedAt: hours(1).toISOString() });
    expect(await store.get('acme', record.keyHash)).toEqual(revoked);
    expect(keyUsable(revoked, hours(1))).toEqual({ ok: false, reason: 'revoked' });
    expect(await keys.revoke('acme', record.keyId, hours(2))).toEqual(revoked);
    expect(await store.get('acme', record.keyHash)).toEqual(revoked);
  });

  it('an unknown id, a malformed one, or another tenant\'s key is a 404 key_not_found, and nothing changes', async () => {
    const { store, keys } = setup();
    const theirs = await keys.create(tenant('globex'), { name: 'theirs' }, ADMIN, NOW);
    for (const id of [theirs.record.keyId, 'key_0123456789abcdef', 'key_../../x', theirs.record.keyHash]) {
      const e = await refusal(keys.revoke('acme', id, NOW));
      expect({ status: e.status, code: e.code, param: e.param }).toEqual({ status: 404, code: 'key_not_found', param: 'keyId' });
    }
    expect((await store.get('globex', theirs.record.keyHash))?.revokedAt).toBeUndefined();
  });
});

// hrevoke: a bounded admin key (a models subset, limits or an expiry) revoked any key of the tenant, unbounded admin
// keys and other teams' keys included: a leaked narrow CI key could take the whole tenant's access down.
describe('ApiKeyService.revoke by a bounded key: only itself, its rotation chain and keys within its bounds', () => {
  const MINI = 'openai/gpt-4o-mini';
  const NOVA = 'bedrock/amazon.nova-lite';

  it('refuses keys wider in models, limits or expiry with 403 key_is_bounded (param keyId, naming the field), and revokes nothing', async () => {
    const { store, keys } = setup();
    const make = (body: Record<string, unknown>) => keys.create(tenant(), { name: 'k', ...body }, ADMIN, NOW).then((k) => k.record);
    const cases: Array<[revoker: Record<string, unknown>, wider: Record<string, unknown>, field: string]> = [
      [{ models: [MINI] }, {}, 'models'],
      [{ models: [MINI] }, { models: [MINI, NOVA] }, 'models'],
      [{ limits: { tokensPerDay: 1000 } }, {}, 'limits.tokensPerDay'],
      [{ limits: { tokensPerDay: 1000 } }, { limits: { tokensPerDay: 1001 } }, 'limits.tokensPerDay'],
      [{ expiresInDays: 10 }, {}, 'expiresAt'],
      [{ expiresInDays: 10 }, { expiresInDays: 11 }, 'expiresAt'],
    ];
    for (const [bounds, wider, field] of cases) {
      const revoker = await make(bounds);
      const target = await make(wider);
      const e = await refusal(keys.revoke('acme', target.keyId, hours(1), revoker));
      expect({ status: e.status, code: e.code, param: e.param }, field).toEqual({ status: 403, code: 'key_is_bounded', param: 'keyId' });
      expect(e.message, field).toContain(`API key ${revoker.keyId} is bounded (`);
      expect(e.message, field).toContain(`not key ${target.keyId} (${field}: `);
      expect(await store.get('acme', target.keyHash), field).toEqual(target);
    }
  });

  it('revokes keys within its models, limits and expiry (narrower or equal), and keys its own bounds do not name', async () => {
    const { keys } = setup();
    const revoker = (await keys.create(tenant(), { name: 'ci', models: [MINI, NOVA], limits: { tokensPerDay: 1000 }, expiresInDays: 10 }, ADMIN, NOW)).record;
    for (const body of [
      { models: [MINI], limits: { tokensPerDay: 1000 }, expiresInDays: 10 },
      { models: [NOVA], limits: { tokensPerDay: 10, requestsPerMinute: 5 }, expiresInDays: 1 },
    ]) {
      const target = (await keys.create(tenant(), { name: 'within', ...body }, ADMIN, NOW)).record;
      expect((await keys.revoke('acme', target.keyId, hours(1), revoker)).revokedAt, JSON.stringify(body)).toBe(hours(1).toISOString());
    }
  });

  it('revokes itself and its rotation chain always, even a successor whose expiry is past its own shortened one', async () => {
    const { keys } = setup();
    const first = await keys.create(tenant(), { name: 'ci', models: [MINI], limits: { tokensPerDay: 1000 }, expiresInDays: 10 }, ADMIN, NOW);
    const { record: successor, previous } = await keys.rotate(tenant(), first.record.keyId, { gracePeriodHours: 6 }, ADMIN, hours(1));
    // previous (in its grace period) expires at hours(7), its successor in 10 days: wider, but the same chain
    expect((await keys.revoke('acme', successor.keyId, hours(2), previous)).revokedAt).toBe(hours(2).toISOString());
    expect((await keys.revoke('acme', previous.keyId, hours(2), successor)).revokedAt).toBe(hours(2).toISOString());
    const self = (await keys.create(tenant(), { name: 'self', expiresInDays: 1 }, ADMIN, NOW)).record;
    expect((await keys.revoke('acme', self.keyId, hours(1), self)).revokedAt).toBe(hours(1).toISOString());
  });

  it('an already revoked key answers as before to whoever may revoke it (unchanged); a wider one stays 403 for a bounded key', async () => {
    const { keys } = setup();
    const revoker = (await keys.create(tenant(), { name: 'ci', models: [MINI] }, ADMIN, NOW)).record;
    const within = (await keys.create(tenant(), { name: 'within', models: [MINI] }, ADMIN, NOW)).record;
    const wide = (await keys.create(tenant(), { name: 'wide' }, ADMIN, NOW)).record;
    const revoked = await keys.revoke('acme', within.keyId, hours(1), revoker);
    expect(await keys.revoke('acme', within.keyId, hours(2), revoker)).toEqual(revoked);
    const byAdmin = await keys.revoke('acme', wide.keyId, hours(1));
    expect(await keys.revoke('acme', wide.keyId, hours(2))).toEqual(byAdmin);
    expect((await refusal(keys.revoke('acme', wide.keyId, hours(2), revoker))).code).toBe('key_is_bounded');
  });

  it('an unbounded admin key, a user and the platform admin (no revoker key) revoke any key', async () => {
    const { keys } = setup();
    const unbounded = (await keys.create(tenant(), { name: 'admin', role: 'admin' }, ADMIN, NOW)).record;
    const narrow = (await keys.create(tenant(), { name: 'narrow', models: [MINI], expiresInDays: 1 }, ADMIN, NOW)).record;
    const other = (await keys.create(tenant(), { name: 'other' }, ADMIN, NOW)).record;
    expect((await keys.revoke('acme', other.keyId, hours(1), unbounded)).revokedAt).toBe(hours(1).toISOString());
    expect((await keys.revoke('acme', unbounded.keyId, hours(1))).revokedAt).toBe(hours(1).toISOString());
    expect((await keys.revoke('acme', narrow.keyId, hours(1), { ...unbounded, limits: {} })).revokedAt).toBe(hours(1).toISOString());
  });

  it('get answers another tenant\'s key id as revoke and rotate do: 404 key_not_found, param keyId, one message', async () => {
    const { keys } = setup();
    const theirs = await keys.create(tenant('globex'), { name: 'theirs' }, ADMIN, NOW);
    const mine = await keys.create(tenant(), { name: 'mine' }, ADMIN, NOW);
    expect(await keys.get('acme', mine.record.keyId)).toEqual(mine.record);
    const answers = await Promise.all([
      refusal(keys.get('acme', theirs.record.keyId)),
      refusal(keys.revoke('acme', theirs.record.keyId, NOW)),
      refusal(keys.rotate(tenant(), theirs.record.keyId, {}, ADMIN, NOW)),
    ]);
    const shapes = answers.map((e) => ({ status: e.status, code: e.code, param: e.param, message: e.message }));
    expect(shapes[0]).toMatchObject({ status: 404, code: 'key_not_found', param: 'keyId' });
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
  });
});

describe('ApiKeyService.rotate', () => {
  it('rotations racing on one key: exactly one returns a key, the others 409 key_rotated and leave no live key behind', async () => {
    const { store, keys } = setup();
    const old = await keys.create(tenant(), { name: 'ci' }, ADMIN, NOW);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => keys.rotate(tenant(), old.record.keyId, { gracePeriodHours: 1 }, ADMIN, hours(1)).then((r) => r, (e: unknown) => e)));
    const won = outcomes.filter((o): o is Awaited<ReturnType<typeof keys.rotate>> => !(o instanceof Error));
    expect(won).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o instanceof Error)) expect([(lost as IdentityError).status, (lost as IdentityError).code]).toEqual([409, 'key_rotated']);
    const live = (await store.list('acme')).filter((r) => keyUsable(r, hours(1)).ok).map((r) => r.keyId).sort();
    expect(live).toEqual([old.record.keyId, won[0]!.record.keyId].sort());
    expect((await store.get('acme', old.record.keyHash))!.rotatedTo).toBe(won[0]!.record.keyId);
  });

  it('mints a new key with the same name, role, models, limits and expiry instant; the old one works for the grace period', async () => {
    const { store, keys } = setup();
    const old = await keys.create(tenant(), { name: 'ci', role: 'developer', models: ['openai/gpt-4o-mini'], limits: { tokensPerDay: 1000 }, expiresInDays: 10 }, ADMIN, NOW);
    const out = await keys.rotate(tenant(), old.record.keyId, { gracePeriodHours: 6 }, 'admin:rotator', hours(1));
    expect(out.key).toMatch(API_KEY_PATTERN);
    expect(out.key).not.toBe(old.key);
    expect(out.record).toMatchObject({ name: 'ci', role: 'developer', models: ['openai/gpt-4o-mini'], limits: { tokensPerDay: 1000 }, expiresAt: old.record.expiresAt, rotatedFrom: old.record.keyId, createdBy: 'admin:rotator', createdAt: hours(1).toISOString() });
    expect(out.previous).toEqual({ ...old.record, expiresAt: hours(7).toISOString(), rotatedTo: out.record.keyId });
    expect(await store.get('acme', old.record.keyHash)).toEqual(out.previous);
    expect(await store.get('acme', out.record.keyHash)).toEqual(out.record);
    expect(keyUsable(out.previous, hours(6.9))).toEqual({ ok: true });
    expect(keyUsable(out.previous, hours(7))).toEqual({ ok: false, reason: 'expired' });
  });

  it('the default grace is 24 hours; it never extends the old key\'s own expiry', async () => {
    const { keys } = setup();
    const open = await keys.create(tenant(), { name: 'a' }, ADMIN, NOW);
    expect((await keys.rotate(tenant(), open.record.keyId, {}, ADMIN, NOW)).previous.expiresAt).toBe(hours(24).toISOString());
    const soon = await keys.create(tenant(), { name: 'b', expiresInDays: 1 }, ADMIN, hours(-20)); // expires at NOW + 4 h
    const rotated = await keys.rotate(tenant(), soon.record.keyId, { gracePeriodHours: 168 }, ADMIN, NOW);
    expect(rotated.previous.expiresAt).toBe(hours(4).toISOString());
    expect(rotated.record.expiresAt).toBe(hours(4).toISOString()); // the remaining expiry, not a new one
  });

  it('grace 0 revokes the old key at once', async () => {
    const { store, keys } = setup();
    const old = await keys.create(tenant(), { name: 'a' }, ADMIN, NOW);
    const out = await keys.rotate(tenant(), old.record.keyId, { gracePeriodHours: 0 }, ADMIN, hours(1));
    expect(out.previous.revokedAt).toBe(hours(1).toISOString());
    expect((await store.get('acme', old.record.keyHash))?.revokedAt).toBe(hours(1).toISOString());
  });

  it('a revoked or expired key cannot be rotated (409), and nothing is minted', async () => {
    const { store, keys } = setup();
    const revoked = await keys.create(tenant(), { name: 'r' }, ADMIN, NOW);
    await keys.revoke('acme', revoked.record.keyId, NOW);
    const expired = await keys.create(tenant(), { name: 'e', expiresInDays: 1 }, ADMIN, NOW);
    const r = await refusal(keys.rotate(tenant(), revoked.record.keyId, {}, ADMIN, hours(1)));
    expect({ status: r.status, code: r.code }).toEqual({ status: 409, code: 'key_revoked' });
    const e = await refusal(keys.rotate(tenant(), expired.record.keyId, {}, ADMIN, hours(24)));
    expect({ status: e.status, code: e.code }).toEqual({ status: 409, code: 'key_expired' });
    expect(e.message).toContain(`was expired at ${hours(24).toISOString()}`);
    expect(await store.list('acme')).toHaveLength(2);
  });

  it('a rotated key that ended (grace 0, or its grace past) names its successor to rotate, not a new key to create', async () => {
    const { store, keys } = setup();
    const cut = await keys.create(tenant(), { name: 'cut' }, ADMIN, NOW);
    const cutNext = await keys.rotate(tenant(), cut.record.keyId, { gracePeriodHours: 0 }, ADMIN, hours(1));
    const r = await refusal(keys.rotate(tenant(), cut.record.keyId, {}, ADMIN, hours(2)));
    expect({ status: r.status, code: r.code, param: r.param }).toEqual({ status: 409, code: 'key_revoked', param: 'keyId' });
    expect(r.message).toBe(`key ${cut.record.keyId} was revoked at ${hours(1).toISOString()}: only a working key can be rotated; it was rotated into ${cutNext.record.keyId}: rotate ${cutNext.record.keyId} instead`);
    const graced = await keys.create(tenant(), { name: 'graced' }, ADMIN, NOW);
    const gracedNext = await keys.rotate(tenant(), graced.record.keyId, { gracePeriodHours: 1 }, ADMIN, NOW);
    const e = await refusal(keys.rotate(tenant(), graced.record.keyId, {}, ADMIN, hours(2)));
    expect({ status: e.status, code: e.code }).toEqual({ status: 409, code: 'key_expired' });
    expect(e.message).toContain(`rotate ${gracedNext.record.keyId} instead`);
    expect(e.message).not.toContain('create a new key');
    expect(await store.list('acme')).toHaveLength(4);
  });

  it.each([
    [{ gracePeriodHours: 169 }, 'gracePeriodHours', 'invalid_request'],
    [{ gracePeriodHours: -1 }, 'gracePeriodHours', 'invalid_request'],
    [{ gracePeriodHours: 1.5 }, 'gracePeriodHours', 'invalid_request'],
    [{ gracePeriodHours: '24' }, 'gracePeriodHours', 'invalid_request'],
    [{ grace: 24 }, 'grace', 'unknown_parameter'],
  ])('refuses %j with a 400 naming %s', async (request, param, code) => {
    const { store, keys } = setup();
    const old = await keys.create(tenant(), { name: 'a' }, ADMIN, NOW);
    const e = await refusal(keys.rotate(tenant(), old.record.keyId, request, ADMIN, NOW));
    expect({ status: e.status, param: e.param, code: e.code }).toEqual({ status: 400, param, code });
    expect(await store.list('acme')).toEqual([old.record]);
  });

  it('another tenant\'s key is a 404; a suspended tenant cannot rotate (409)', async () => {
    const { keys } = setup();
    const theirs = await keys.create(tenant('globex'), { name: 'theirs' }, ADMIN, NOW);
    expect(await refusal(keys.rotate(tenant(), theirs.record.keyId, {}, ADMIN, NOW))).toMatchObject({ status: 404, code: 'key_not_found' });
    const mine = await keys.create(tenant(), { name: 'mine' }, ADMIN, NOW);
    expect(await refusal(keys.rotate(tenant('acme', { status: 'SUSPENDED' }), mine.record.keyId, {}, ADMIN, NOW))).toMatchObject({ status: 409, code: 'invalid_status' });
  });

  it('rotation is not refused by the live-key cap: a leaked key can always be replaced', async () => {
    const { keys } = setup();
    const first = await keys.create(tenant(), { name: 'k0' }, ADMIN, NOW);
    for (let i = 1; i < MAX_LIVE_KEYS; i++) await keys.create(tenant(), { name: `k${i}` }, ADMIN, NOW);
    await expect(keys.rotate(tenant(), first.record.keyId, {}, ADMIN, NOW)).resolves.toBeDefined();
  });
});

describe('keyUsable', () => {
  it('a key is usable until its expiry instant and not after a revocation', () => {
    expect(keyUsable({}, NOW)).toEqual({ ok: true });
    expect(keyUsable({ expiresAt: hours(1).toISOString() }, NOW)).toEqual({ ok: true });
    expect(keyUsable({ expiresAt: NOW.toISOString() }, NOW)).toEqual({ ok: false, reason: 'expired' });
    expect(keyUsable({ revokedAt: hours(1).toISOString(), expiresAt: hours(-1).toISOString() }, NOW)).toEqual({ ok: false, reason: 'revoked' });
  });
});

describe('rotation happens once per key (hostile review)', () => {
  it('refuses a second rotation of the same key (409 key_rotated naming the successor); the successor keeps the original expiry', async () => {
    const { ApiKeyService } = await import('../../../lambdas/identity/api-keys.js');
    const { MemoryApiKeyStore } = await import('../../../lambdas/identity/stores/memory-api-key-store.js');
    const { localTenant } = await import('../../../lambdas/inference/local-gateway.js');
    const { gatewayConfig } = await import('../../support/gateway-config.js');
    const { IdentityError } = await import('../../../lambdas/identity/identity-error.js');
    const store = new MemoryApiKeyStore();
    const service = new ApiKeyService(store, gatewayConfig());
    const tenant = localTenant('acme', 'enterprise');
    const now = new Date('2026-12-01T10:00:00Z');
    const { record } = await service.create(tenant, { name: 'batch' }, 'admin:test', now);
    const first = await service.rotate(tenant, record.keyId, { gracePeriodHours: 1 }, 'admin:test', now);
    expect(first.record.expiresAt).toBeUndefined();
    expect(first.previous.rotatedTo).toBe(first.record.keyId);
    const again = await service.rotate(tenant, record.keyId, { gracePeriodHours: 168 }, 'admin:test', now).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(IdentityError);
    expect([(again as InstanceType<typeof IdentityError>).status, (again as InstanceType<typeof IdentityError>).code]).toEqual([409, 'key_rotated']);
    expect((again as Error).message).toContain(first.record.keyId);
    expect((await service.list('acme')).length).toBe(2);
    const second = await service.rotate(tenant, first.record.keyId, {}, 'admin:test', now);
    expect(second.record.rotatedFrom).toBe(first.record.keyId);
    // Usage and budgets stay with the chain's first key: a rotation resets nothing.
    expect([first.record.usageKeyId, second.record.usageKeyId]).toEqual([record.keyId, record.keyId]);
    const { subjectOf } = await import('../../../lambdas/inference/pipeline.js');
    const subject = subjectOf({ caller: { tenantId: 'acme', tenant, userId: second.record.keyId, role: 'member', keyId: second.record.keyId, key: second.record }, policy: {} as never });
    expect(subject).toMatchObject({ kind: 'key', id: record.keyId });
  });

  // Bidirectional controls reorder what a terminal shows (`tessera keys list`, audit lines): a name could pass for another key's.
  it.each([['a\u0000b'], ['line\nbreak'], ['   '], ['batch\u202Eyek'], ['\u2066prod\u2069'], ['a\u200Fb'], ['line\u2028break'], ['para\u2029break']])('refuses the key name %j (control characters, line separators, bidirectional controls, blank)', async (name) => {
    const { ApiKeyService } = await import('../../../lambdas/identity/api-keys.js');
    const { MemoryApiKeyStore } = await import('../../../lambdas/identity/stores/memory-api-key-store.js');
    const { localTenant } = await import('../../../lambdas/inference/local-gateway.js');
    const { gatewayConfig } = await import('../../support/gateway-config.js');
    const e = await new ApiKeyService(new MemoryApiKeyStore(), gatewayConfig()).create(localTenant('acme', 'enterprise'), { name }, 'admin:test').catch((x: unknown) => x) as { status: number; param?: string };
    expect([e.status, e.param]).toEqual([400, 'name']);
  });
});

describe('key writes racing the lifecycle: the store checks the status at the write (offboarding, suspension)', () => {
  /** A service whose store reads the registry (`registry`), and a caller holding `tenant()` as it read it before. */
  const fenced = () => {
    const registry = new Map<string, TenantStatus>([['acme', 'ACTIVE']]);
    const store = new MemoryApiKeyStore(async (id) => registry.get(id));
    return { registry, store, keys: new ApiKeyService(store, config) };
  };

  it.each(['OFFBOARDING', 'SUSPENDED', 'OFFBOARDED'] as const)('create on a record read ACTIVE while the registry says %s: 409 invalid_status naming it, no key kept, none left for deleteAll', async (status) => {
    const { registry, store, keys } = fenced();
    const stale = tenant(); // read before the lifecycle step moved the tenant
    registry.set('acme', status);
    const e = await refusal(keys.create(stale, { name: 'late' }, ADMIN, NOW));
    expect({ status: e.status, code: e.code, param: e.param }).toEqual({ status: 409, code: 'invalid_status', param: 'status' });
    expect(e.message).toBe(`tenant acme is ${status}: cannot create a key; keys are created and rotated only for a tenant that is served (ACTIVE or UPDATING)`);
    expect(await store.list('acme')).toEqual([]);
  });

  it('rotate on a record read ACTIVE while the tenant is being offboarded: 409 invalid_status; the old key is left as it was; deleteAll leaves nothing', async () => {
    const { registry, store, keys } = fenced();
    const old = await keys.create(tenant(), { name: 'ci' }, ADMIN, NOW);
    registry.set('acme', 'OFFBOARDING');
    const e = await refusal(keys.rotate(tenant(), old.record.keyId, { gracePeriodHours: 0 }, ADMIN, hours(1)));
    expect({ status: e.status, code: e.code }).toEqual({ status: 409, code: 'invalid_status' });
    expect(e.message).toContain('tenant acme is OFFBOARDING: cannot rotate a key');
    expect(await store.list('acme')).toEqual([old.record]);
    expect(await store.deleteAll('acme')).toBe(1);
    expect(await store.list('acme')).toEqual([]);
  });

  it('a tenant with no registry record: 409 invalid_status saying so', async () => {
    const { registry, keys } = fenced();
    registry.delete('acme');
    const e = await refusal(keys.create(tenant(), { name: 'late' }, ADMIN, NOW));
    expect(e.message).toContain('tenant acme is not in the registry: cannot create a key');
  });
});

describe('ApiKeyService.listPage (GET /v1/tenant/keys, GET /admin/tenants/{id}/keys)', () => {
  it('answers OpenAI\'s cursor list in creation order (oldest first; desc newest first): 20 keys by default, first_id, last_id, has_more; after goes on from last_id', async () => {
    const { keys } = setup();
    const made = [];
    for (let i = 0; i < 23; i++) made.push((await keys.create(tenant(), { name: `k${i}` }, ADMIN, new Date(NOW.getTime() + i * 60_000))).record);
    const ids = made.map((r) => r.keyId); // creation order, not key-id order
    expect(ids).not.toEqual([...ids].sort());
    const first = await keys.listPage('acme', undefined);
    expect({ ...first, data: first.data.map((r) => r.keyId) }).toEqual({ object: 'list', data: ids.slice(0, 20), first_id: ids[0], last_id: ids[19], has_more: true });
    const rest = await keys.listPage('acme', { after: first.last_id!, limit: '20' });
    expect({ ...rest, data: rest.data.map((r) => r.keyId) }).toEqual({ object: 'list', data: ids.slice(20), first_id: ids[20], last_id: ids[22], has_more: false });
    expect(rest.data[0]).toEqual(made[20]);
    const desc = await keys.listPage('acme', { order: 'desc', limit: '2' });
    expect([desc.data.map((r) => r.name), desc.has_more]).toEqual([['k22', 'k21'], true]);
    const next = await keys.listPage('acme', { order: 'desc', limit: '2', after: desc.last_id! });
    expect(next.data.map((r) => r.name)).toEqual(['k20', 'k19']);
    expect(await keys.listPage('globex', {})).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });

  it('limit takes leading zeros as OpenAI\'s API does (limit=05 is 5); a sign, a point, an exponent or a space are still refused', async () => {
    const { keys } = setup();
    for (let i = 0; i < 7; i++) await keys.create(tenant(), { name: `k${i}` }, ADMIN, new Date(NOW.getTime() + i * 60_000));
    expect((await keys.listPage('acme', { limit: '05' })).data.map((r) => r.name)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect((await keys.listPage('acme', { limit: '0100' })).data).toHaveLength(7);
    for (const limit of ['+5', '5 ', ' 5', '0x5', '1e1', '-1', '9'.repeat(101)]) {
      const e = await refusal(keys.listPage('acme', { limit }));
      expect([e.status, e.param, e.code]).toEqual([400, 'limit', 'invalid_value']);
    }
    // Leading zeros read, then out of 1-100: OpenAI's bound words, as any list's limit.
    for (const [limit, code] of [['00', 'integer_below_min_value'], ['0101', 'integer_above_max_value']]) {
      const e = await refusal(keys.listPage('acme', { limit }));
      expect([e.status, e.param, e.code]).toEqual([400, 'limit', code]);
    }
    // Past Number's safe range: the same bound words with the digits sent, as the gateway's list routes answer (it was invalid_value here).
    for (const limit of ['9999999999999999', '99999999999999999999']) {
      const e = await refusal(keys.listPage('acme', { limit }));
      expect([e.status, e.param, e.code, e.message]).toEqual([400, 'limit', 'integer_above_max_value', `Invalid 'limit': integer above maximum value. Expected a value <= 100, but got ${limit} instead.`]);
    }
  });

  it('an after that is no key of the tenant (never one, or another tenant\'s key): 400 invalid_value naming after, as OpenAI refuses a cursor its list does not hold', async () => {
    const { keys } = setup();
    await keys.create(tenant(), { name: 'mine' }, ADMIN, NOW);
    const theirs = (await keys.create(tenant('globex'), { name: 'theirs' }, ADMIN, NOW)).record;
    for (const after of ['key_0123456789abcdef', theirs.keyId]) {
      const e = await refusal(keys.listPage('acme', { after }));
      expect([e.status, e.param, e.code]).toEqual([400, 'after', 'invalid_value']);
      expect(e.message).toBe(`after "${after}" is not a key of tenant acme: give the last_id of the page before, or leave after out for the first page`);
    }
  });

  it.each([
    // Out of 1-100: OpenAI's words and code, as every list route of the gateway answers its limit (it said `limit "0" must be a decimal integer from 1 to 100`, invalid_value).
    [{ limit: '0' }, 'limit', 'integer_below_min_value', /^Invalid 'limit': integer below minimum value\. Expected a value >= 1, but got 0 instead\.$/],
    [{ limit: '101' }, 'limit', 'integer_above_max_value', /^Invalid 'limit': integer above maximum value\. Expected a value <= 100, but got 101 instead\.$/],
    [{ limit: '2.0' }, 'limit', 'invalid_value', /"2\.0"/],
    [{ limit: '' }, 'limit', 'invalid_value', /from 1 to 100/],
    [{ after: '' }, 'after', 'invalid_value', /^after is empty/],
    [{ after: 'key_0123' }, 'after', 'invalid_value', /^after "key_0123" is not a key id/],
    [{ after: 'tsk_acme_secret' }, 'after', 'invalid_value', /not a key id/],
    [{ order: 'newest' }, 'order', 'invalid_value', /^order "newest" must be "asc" or "desc"$/],
    [{ before: 'key_0123456789abcdef' }, 'before', 'unknown_parameter', /takes limit, after, order/],
  ])('%o: 400 naming %s', async (query, param, code, message) => {
    const e = await refusal(setup().keys.listPage('acme', query));
    expect([e.status, e.param, e.code]).toEqual([400, param, code]);
    expect(e.message).toMatch(message);
  });
});
