import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../lambdas/identity/api-keys.js';
import { TenantNotServedError } from '../../lambdas/identity/stores/api-key-store-common.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import type { MemoryStore } from '../../lambdas/inference/stores/memory-store.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

// tessera serve's key store (files under <stateDir>/api-keys/) reads the tenant's status in serve's
// own registry after each key write: a key created by a caller that read the tenant ACTIVE before it
// was suspended or offboarded is not kept, as the DynamoDB store's transaction refuses it in AWS.

let gw: Awaited<ReturnType<typeof serveGateway>> | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe('tessera serve: key writes fenced on the tenant\'s status in its registry', () => {
  it.each(['SUSPENDED', 'OFFBOARDING'] as const)('a create on the tenant as read ACTIVE, after serve\'s registry moved it to %s: 409 invalid_status naming it, no key file kept', async (status) => {
    const acme = localTenant('acme', 'enterprise');
    gw = await serveGateway(gatewayConfig(), 'http://127.0.0.1:9', [acme]);
    const service = new ApiKeyService(gw.apiKeys, gatewayConfig());
    await service.create(acme, { name: 'before' }, 'admin:test');
    (gw.store as MemoryStore).putTenant({ ...acme, status });
    const e = await service.create(acme, { name: 'late' }, 'admin:test').catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 409, code: 'invalid_status', message: expect.stringContaining(`tenant acme is ${status}: cannot create a key`) });
    expect((await gw.apiKeys.list('acme')).map((r) => r.name)).toEqual(['before']);
    await expect(gw.apiKey('acme')).rejects.toBeInstanceOf(TenantNotServedError);
  });

  it('an ACTIVE tenant gets its key through POST /v1/tenant/keys as before', async () => {
    gw = await serveGateway(gatewayConfig(), 'http://127.0.0.1:9', [localTenant('acme', 'enterprise')]);
    const admin = await gw.apiKey('acme', { role: 'admin' });
    const res = await fetch(`${gw.url}/tenant/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci' }) });
    expect(res.status).toBe(201);
    expect((await gw.apiKeys.list('acme')).map((r) => r.name).sort()).toEqual(['ci', admin.record.name].sort());
  });
});
