import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { MemoryUsers } from './memory-users.js';

// A key bounded by a model subset, limits or an expiry creates no wider key (key-creates-key.test.ts);
// nor may it invite a user or promote one: a user has none of those bounds, so an admin it invited
// could create the unbounded keys the key itself may not.

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let users: MemoryUsers;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  users = new MemoryUsers();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')], { users });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const call = (method: string, path: string, bearer: string, body?: unknown) => fetch(`${gw.url}${path}`, {
  method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
});
type Refusal = { error: { type: string; code: string; param: string | null; message: string } };
const MODEL = 'openai/gpt-4o-mini';

describe('a bounded admin key manages no user into more than it has', () => {
  it('refuses to invite a user or change a role with 403 key_is_bounded naming its bounds, and changes nothing; it may still list and disable', async () => {
    const admin = await gw.token('acme', { role: 'admin', sub: 'ada' });
    const member = await (await call('POST', '/tenant/users', admin, { email: 'mallory@acme.example.com', role: 'member' })).json() as { id: string };
    const bounded: Array<[Record<string, unknown>, string]> = [
      [{ models: [MODEL] }, `models ${MODEL}`],
      [{ limits: { tokensPerDay: 1000 } }, 'limits tokensPerDay 1000'],
      [{ expiresAt: new Date(Date.now() + 86_400_000).toISOString() }, 'expiry '],
    ];
    for (const [bounds, named] of bounded) {
      const { key } = await gw.apiKey('acme', { role: 'admin', ...bounds });
      const before = JSON.stringify(await users.list('acme'));
      for (const [method, path, body] of [['POST', '/tenant/users', { email: 'eve@acme.example.com', role: 'admin' }], ['PUT', `/tenant/users/${member.id}/role`, { role: 'admin' }]] as const) {
        const res = await call(method, path, key, body);
        const refusal = await res.json() as Refusal;
        expect([res.status, refusal.error.type, refusal.error.code], `${method} ${named}`).toEqual([403, 'permission_error', 'key_is_bounded']);
        expect(refusal.error.message).toContain(named);
      }
      expect(JSON.stringify(await users.list('acme'))).toBe(before);
      expect((await call('GET', '/tenant/users', key)).status).toBe(200);
    }
    const { key } = await gw.apiKey('acme', { role: 'admin', models: [MODEL] });
    expect((await call('POST', `/tenant/users/${member.id}/disable`, key)).status).toBe(200);
  });

  it('an admin key without bounds, and a user admin, invite and set roles', async () => {
    const { key } = await gw.apiKey('acme', { role: 'admin' });
    const invited = await call('POST', '/tenant/users', key, { email: 'bob@acme.example.com', role: 'viewer' });
    expect(invited.status).toBe(201);
    const { id } = await invited.json() as { id: string };
    expect((await call('PUT', `/tenant/users/${id}/role`, key, { role: 'developer' })).status).toBe(200);
  });
});
