import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { MemoryUsers } from './memory-users.js';

// The audit record of a tenant admin's key and user management says what the caller was answered
// (a created or rotated key, an invited user: 201, not the 200 every record starts with), what was
// done and to which key or user.

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')], { users: new MemoryUsers() });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const call = (method: string, path: string, bearer: string, body?: unknown) => fetch(`${gw.url}${path}`, {
  method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
});
/** The record of the last request, read once the gateway settled (each record is written after its answer; no sleep). */
const lastAudit = async () => {
  await gw.settled();
  return gw.audit.records.at(-1)!;
};

describe('audit records of /v1/tenant/keys', () => {
  it('create, rotate and revoke: the status answered and the key acted on', async () => {
    const admin = await gw.token('acme', { role: 'admin', sub: 'ada' });
    const created = await call('POST', '/tenant/keys', admin, { name: 'batch' });
    expect(created.status).toBe(201);
    const { keyId } = await created.json() as { keyId: string };
    expect(await lastAudit()).toMatchObject({ status: 201, outcome: 'ok', userId: 'ada', role: 'admin', action: 'tenant.key.created', detail: { keyId } });

    const rotated = await call('POST', `/tenant/keys/${keyId}/rotate`, admin, { gracePeriodHours: 1 });
    expect(rotated.status).toBe(201);
    const next = await rotated.json() as { keyId: string };
    expect(await lastAudit()).toMatchObject({ status: 201, outcome: 'ok', action: 'tenant.key.rotated', detail: { keyId: next.keyId, rotatedFrom: keyId } });

    expect((await call('DELETE', `/tenant/keys/${next.keyId}`, admin)).status).toBe(200);
    expect(await lastAudit()).toMatchObject({ status: 200, outcome: 'ok', action: 'tenant.key.revoked', detail: { keyId: next.keyId } });
  });
});

describe('audit records of /v1/tenant/users', () => {
  it('invite, set the role, disable: the status answered and the user acted on', async () => {
    const admin = await gw.token('acme', { role: 'admin', sub: 'ada' });
    const invited = await call('POST', '/tenant/users', admin, { email: 'bob@acme.example.com', role: 'viewer' });
    expect(invited.status).toBe(201);
    const { id } = await invited.json() as { id: string };
    expect(await lastAudit()).toMatchObject({ status: 201, outcome: 'ok', userId: 'ada', action: 'tenant.user.invited', detail: { user: id, role: 'viewer' } });

    expect((await call('PUT', `/tenant/users/${id}/role`, admin, { role: 'developer' })).status).toBe(200);
    expect(await lastAudit()).toMatchObject({ status: 200, action: 'tenant.user.role_changed', detail: { user: id, role: 'developer' } });

    expect((await call('POST', `/tenant/users/${id}/disable`, admin)).status).toBe(200);
    expect(await lastAudit()).toMatchObject({ status: 200, action: 'tenant.user.disabled', detail: { user: id } });
  });
});
