import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';

// Every audit record names the key or the user, refusals included: a revoked key still in use is
// the security event most worth a record, and a 403 names the permission it was about.

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

const get = (path: string, bearer: string) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
/** The record of the last request, read once the gateway settled (each record is written after its answer; no sleep). */
const lastAudit = async () => {
  await gw.settled();
  return gw.audit.records.at(-1)!;
};

describe('audit records of refusals', () => {
  it('a revoked key: 401 api_key_revoked, audited with its tenant and key id', async () => {
    const { key, record } = await gw.apiKey('acme', { revokedAt: new Date(Date.now() - 1000).toISOString() });
    expect((await get('/models', key)).status).toBe(401);
    expect(await lastAudit()).toMatchObject({ status: 401, outcome: 'api_key_revoked', tenantId: 'acme', keyId: record.keyId, userId: record.keyId });
  });

  it('an expired key: the same', async () => {
    const { key, record } = await gw.apiKey('acme', { expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect((await get('/models', key)).status).toBe(401);
    expect(await lastAudit()).toMatchObject({ outcome: 'api_key_expired', tenantId: 'acme', keyId: record.keyId });
  });

  it('group_by without usage.read_by_caller: 403 audited with detail.permission', async () => {
    const member = await gw.token('acme', { role: 'member', sub: 'bob' });
    const res = await get('/usage?group_by=key', member);
    expect(res.status).toBe(403);
    expect(await lastAudit()).toMatchObject({ status: 403, outcome: 'permission_denied', userId: 'bob', role: 'member', detail: { permission: 'usage.read_by_caller' } });
  });
});
