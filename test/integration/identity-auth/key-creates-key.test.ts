import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';

// An admin key narrowed to some models, with limits of its own or an expiry, may manage the
// tenant's keys; the keys it creates or rotates (a rotation hands it the successor) stay inside its
// own bounds, or a key made for one model and a small budget could get itself an unbounded key. A
// key with limits creates none: limits count per key, so its keys would add up past its own.
// A user admin (no such bounds) is not limited.

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const create = (bearer: string, body: unknown) => fetch(`${gw.url}/tenant/keys`, {
  method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
});
type Refusal = { error: { type: string; code: string; param: string | null; message: string } };

describe('a key creating keys stays within its own models, limits and expiry', () => {
  const MODEL = 'openai/gpt-4o-mini';
  const in10Days = () => new Date(Date.now() + 10 * 86_400_000).toISOString();

  it('refuses a key wider than the creating key, naming the field, and creates nothing', async () => {
    const { key } = await gw.apiKey('acme', { role: 'admin', models: [MODEL], expiresAt: in10Days() });
    const before = (await gw.apiKeys.list('acme')).length;
    const within = { models: [MODEL], limits: { tokensPerDay: 1000 }, expiresInDays: 9 };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...within, models: undefined }, 'models'],
      [{ ...within, models: [MODEL, 'openai-compatible/default'] }, 'models[1]'],
      [{ ...within, expiresInDays: undefined }, 'expiresInDays'],
      [{ ...within, expiresInDays: 11 }, 'expiresInDays'],
    ];
    for (const [body, param] of cases) {
      const res = await create(key, { name: 'wider', ...body });
      const refusal = await res.json() as Refusal;
      expect([res.status, refusal.error.type, refusal.error.code, refusal.error.param], param).toEqual([403, 'permission_error', 'exceeds_creating_key', param]);
    }
    expect((await gw.apiKeys.list('acme')).length).toBe(before);
    const ok = await create(key, { name: 'within', ...within });
    expect(ok.status).toBe(201);
  });

  it('a key with limits creates no keys, not even one within them: each would spend on counters of its own', async () => {
    const limits = { requestsPerMinute: 5, tokensPerDay: 1000, monthlyCostUsd: 2 };
    const { key, record } = await gw.apiKey('acme', { role: 'admin', models: [MODEL], limits, expiresAt: in10Days() });
    const before = (await gw.apiKeys.list('acme')).length;
    for (const body of [{ models: [MODEL], limits, expiresInDays: 9 }, { models: [MODEL], limits: { requestsPerMinute: 1, tokensPerDay: 10, monthlyCostUsd: 0.01 }, expiresInDays: 1 }]) {
      const res = await create(key, { name: 'child', ...body });
      const refusal = await res.json() as Refusal;
      expect([res.status, refusal.error.type, refusal.error.code, refusal.error.param]).toEqual([403, 'permission_error', 'creating_key_has_limits', null]);
      expect(refusal.error.message).toContain(`API key ${record.keyId} has limits of its own (requestsPerMinute 5, tokensPerDay 1000, monthlyCostUsd 2)`);
    }
    expect((await gw.apiKeys.list('acme')).length).toBe(before);
  });

  it('a bounded key cannot rotate a wider key (the rotation would hand it the wider successor); it can rotate keys within its bounds', async () => {
    const { key } = await gw.apiKey('acme', { role: 'admin', models: [MODEL], expiresAt: in10Days() });
    const rotate = (keyId: string) => fetch(`${gw.url}/tenant/keys/${keyId}/rotate`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"gracePeriodHours":0}',
    });
    const wider = [
      [(await gw.apiKey('acme', {})).record, 'models'],
      [(await gw.apiKey('acme', { models: [MODEL], limits: { tokensPerDay: 1000 } })).record, 'expiresAt'],
    ] as const;
    for (const [record, field] of wider) {
      const res = await rotate(record.keyId);
      const refusal = await res.json() as Refusal;
      expect([res.status, refusal.error.code, refusal.error.param], field).toEqual([403, 'exceeds_creating_key', 'keyId']);
      expect(refusal.error.message, field).toContain(field);
      const stored = (await gw.apiKeys.get('acme', record.keyHash))!;
      expect([stored.revokedAt, stored.rotatedTo], field).toEqual([undefined, undefined]);
    }
    const within = await gw.apiKey('acme', { models: [MODEL], limits: { tokensPerDay: 999 }, expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect((await rotate(within.record.keyId)).status).toBe(201);
  });

  // hmerge2: with limits counted per key, a limited key that rotated another key within its limits was handed that key's
  // successor, whose budget counts on that key's chain beside the caller's own: N such keys, N budgets.
  it('a key with limits rotates itself only: another key\'s successor, however small its limits, would spend beside its own', async () => {
    const limits = { tokensPerDay: 1000, monthlyCostUsd: 2 };
    const limited = await gw.apiKey('acme', { role: 'admin', models: [MODEL], limits, expiresAt: in10Days() });
    const rotate = (keyId: string) => fetch(`${gw.url}/tenant/keys/${keyId}/rotate`, {
      method: 'POST', headers: { authorization: `Bearer ${limited.key}`, 'content-type': 'application/json' }, body: '{"gracePeriodHours":0}',
    });
    const other = (await gw.apiKey('acme', { models: [MODEL], limits: { tokensPerDay: 10, monthlyCostUsd: 0.01 }, expiresAt: in10Days() })).record;
    const res = await rotate(other.keyId);
    const refusal = await res.json() as Refusal;
    expect([res.status, refusal.error.type, refusal.error.code, refusal.error.param]).toEqual([403, 'permission_error', 'creating_key_has_limits', 'keyId']);
    expect(refusal.error.message).toContain(`API key ${limited.record.keyId} has limits of its own (tokensPerDay 1000, monthlyCostUsd 2), so it rotates only itself`);
    const stored = (await gw.apiKeys.get('acme', other.keyHash))!;
    expect([stored.revokedAt, stored.rotatedTo]).toEqual([undefined, undefined]);
    // its own rotation: the successor counts on its own chain
    const self = await rotate(limited.record.keyId);
    expect(self.status).toBe(201);
    const successor = (await gw.apiKeys.get('acme', limited.record.keyHash))!.rotatedTo!;
    expect((await gw.apiKeys.list('acme')).find((k) => k.keyId === successor)?.usageKeyId).toBe(limited.record.keyId);
  });

  // hrevoke: a bounded key revoked any key of the tenant (unbounded admin keys, other teams' keys) with DELETE.
  it('a bounded key revokes only itself and keys within its bounds: a wider key is 403 key_is_bounded (param keyId) and stays working', async () => {
    const ci = await gw.apiKey('acme', { role: 'admin', models: [MODEL], limits: { tokensPerDay: 1000 }, expiresAt: in10Days() });
    const revoke = (keyId: string) => fetch(`${gw.url}/tenant/keys/${keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ci.key}` } });
    const wider = [
      [(await gw.apiKey('acme', { role: 'admin' })).record, 'models'],
      [(await gw.apiKey('acme', { models: [MODEL], expiresAt: in10Days() })).record, 'limits.tokensPerDay'],
      [(await gw.apiKey('acme', { models: [MODEL], limits: { tokensPerDay: 1000 } })).record, 'expiresAt'],
    ] as const;
    for (const [record, field] of wider) {
      const res = await revoke(record.keyId);
      const refusal = await res.json() as Refusal;
      expect([res.status, refusal.error.type, refusal.error.code, refusal.error.param], field).toEqual([403, 'permission_error', 'key_is_bounded', 'keyId']);
      expect(refusal.error.message, field).toContain(`not key ${record.keyId} (${field}: `);
      expect((await gw.apiKeys.get('acme', record.keyHash))!.revokedAt, field).toBeUndefined();
    }
    const within = await gw.apiKey('acme', { models: [MODEL], limits: { tokensPerDay: 10 }, expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    const ok = await revoke(within.record.keyId);
    expect([ok.status, typeof (await ok.json() as { revokedAt?: string }).revokedAt]).toEqual([200, 'string']);
    expect((await revoke(ci.record.keyId)).status).toBe(200);
  });

  it('a user admin and an unbounded admin key are not limited', async () => {
    const admin = await gw.token('acme', { role: 'admin', sub: 'ada' });
    expect((await create(admin, { name: 'any' })).status).toBe(201);
    const { key } = await gw.apiKey('acme', { role: 'admin' });
    expect((await create(key, { name: 'any' })).status).toBe(201);
  });
});
