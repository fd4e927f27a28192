import { mintApiKey } from '../../../lib/identity/api-key.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { MemoryUsers } from './memory-users.js';

// Issue 15's hostile inputs at the gateway: each answered with the right 4xx, and nothing changed
// (no key stored or revoked, no user invited, no upstream call, no usage counted).

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const users = new MemoryUsers();
const bearer: Record<string, string> = {};
let acmeKey: { key: string; keyId: string };

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise'), localTenant('globex', 'starter')], { users });
  bearer.acmeAdmin = await gw.token('acme', { role: 'admin', sub: 'admin@acme' });
  bearer.acmeMember = await gw.token('acme', { role: 'member', sub: 'member@acme' });
  bearer.globexAdmin = await gw.token('globex', { role: 'admin', sub: 'admin@globex' });
  const made = await gw.apiKey('acme', { role: 'admin' });
  acmeKey = { key: made.key, keyId: made.record.keyId };
  await users.invite('globex', { email: 'someone@globex.example.com', role: 'member' }, 'test');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

async function send(method: string, path: string, authorization: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, error: ((await res.json()) as { error?: any }).error };
}
const chat = { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] };

/** Everything a hostile request could change: keys of both tenants, users, usage, upstream calls. */
async function snapshot() {
  const now = new Date();
  return JSON.stringify({
    keys: [await gw.apiKeys.list('acme'), await gw.apiKeys.list('globex')].map((l) => l.map((r) => ({ ...r, lastUsedAt: undefined }))),
    users: [...users.users.values()],
    usage: [await gw.store.usage('acme', now), await gw.store.usage('globex', now)],
    upstream: upstream.calls.length,
  });
}

describe('hostile inputs at the gateway: the right 4xx, nothing changed', () => {
  const cases: Array<[name: string, run: () => ReturnType<typeof send>, status: number, code: string]> = [
    ['a key with a valid prefix and a random body', () => send('POST', '/chat/completions', `Bearer ${mintApiKey('acme').key}`, chat), 401, 'invalid_api_key'],
    ['a key of another tenant (acme\'s key under globex\'s prefix)', () => send('POST', '/chat/completions', `Bearer ${acmeKey.key.replace('tsk_acme_', 'tsk_globex_')}`, chat), 401, 'invalid_api_key'],
    ['a key for a tenant that does not exist', () => send('GET', '/models', `Bearer ${mintApiKey('nosuchtenant').key}`), 401, 'invalid_api_key'],
    ['a key sent with a JWT-looking shape (tsk_a.b.c)', () => send('POST', '/chat/completions', 'Bearer tsk_a.b.c', chat), 401, 'malformed_api_key'],
    ['a key with whitespace inside', () => send('POST', '/chat/completions', `Bearer ${acmeKey.key.slice(0, 20)} ${acmeKey.key.slice(20)}`, chat), 401, 'malformed_api_key'],
    ['a key with one character too many', () => send('POST', '/chat/completions', `Bearer ${acmeKey.key}x`, chat), 401, 'malformed_api_key'],
    ['a member creating a key', () => send('POST', '/tenant/keys', `Bearer ${bearer.acmeMember}`, { name: 'mine', role: 'admin' }), 403, 'permission_denied'],
    ['a member revoking a key', () => send('DELETE', `/tenant/keys/${acmeKey.keyId}`, `Bearer ${bearer.acmeMember}`), 403, 'permission_denied'],
    ['a tenant admin adding a user to another tenant (tenantId in the body)', () => send('POST', '/tenant/users', `Bearer ${bearer.acmeAdmin}`, { email: 'x@globex.example.com', role: 'admin', tenantId: 'globex' }), 400, 'unknown_parameter'],
    ['a tenant admin adding a user to another tenant (tenant in the body)', () => send('POST', '/tenant/users', `Bearer ${bearer.acmeAdmin}`, { email: 'x@globex.example.com', tenant: 'globex' }), 400, 'unknown_parameter'],
    ['a tenant admin disabling another tenant\'s user', () => send('POST', '/tenant/users/user-1/disable', `Bearer ${bearer.acmeAdmin}`), 404, 'user_not_found'],
    ['a tenant admin re-roling another tenant\'s user', () => send('PUT', '/tenant/users/user-1/role', `Bearer ${bearer.acmeAdmin}`, { role: 'admin' }), 404, 'user_not_found'],
    ['a tenant admin creating a key for another tenant', () => send('POST', '/tenant/keys', `Bearer ${bearer.acmeAdmin}`, { name: 'x', tenantId: 'globex' }), 400, 'unknown_parameter'],
    ['a tenant admin revoking another tenant\'s key', () => send('DELETE', `/tenant/keys/${acmeKey.keyId}`, `Bearer ${bearer.globexAdmin}`), 404, 'key_not_found'],
    ['key creation with an unknown model', () => send('POST', '/tenant/keys', `Bearer ${bearer.acmeAdmin}`, { name: 'x', models: ['openai-compatible/default', 'no/such-model'] }), 400, 'unknown_model'],
    ['key creation with a model of another tenant', () => send('POST', '/tenant/keys', `Bearer ${bearer.acmeAdmin}`, { name: 'x', models: ['sagemaker/ft:nova:globex:sales'] }), 400, 'unknown_model'],
    ['key creation with a budget above the tenant\'s', () => send('POST', '/tenant/keys', `Bearer ${bearer.acmeAdmin}`, { name: 'x', limits: { tokensPerDay: 10_000_000_000 } }), 400, 'limit_above_tenant'],
    ['key creation with an unknown role', () => send('POST', '/tenant/keys', `Bearer ${bearer.acmeAdmin}`, { name: 'x', role: 'owner' }), 400, 'invalid_request'],
    ['an invitation with an unknown role', () => send('POST', '/tenant/users', `Bearer ${bearer.acmeAdmin}`, { email: 'y@acme.example.com', role: 'owner' }), 400, 'invalid_request'],
  ];

  it.each(cases)('%s', async (_name, run, status, code) => {
    const before = await snapshot();
    const answer = await run();
    expect([answer.status, answer.error?.code], JSON.stringify(answer.error)).toEqual([status, code]);
    expect(answer.error.message).not.toContain(acmeKey.key.slice(9));
    expect(await snapshot()).toBe(before);
  });

  // s31l: parseWith answered a top-level field a strict body does not know with param null and "(root) = {...}: Unrecognized key".
  it('an unknown field in an invitation or a role change: 400 unknown_parameter naming it in param and message, nothing changed', async () => {
    const before = await snapshot();
    const invite = await send('POST', '/tenant/users', `Bearer ${bearer.acmeAdmin}`, { email: 'z@acme.example.com', admin: true });
    expect([invite.status, invite.error]).toEqual([400, expect.objectContaining({ code: 'unknown_parameter', param: 'admin', message: 'Unrecognized request argument supplied: admin' })]);
    const role = await send('PUT', '/tenant/users/user-1/role', `Bearer ${bearer.acmeAdmin}`, { role: 'admin', email: 'x@acme.example.com' });
    expect([role.status, role.error]).toEqual([400, expect.objectContaining({ code: 'unknown_parameter', param: 'email' })]);
    expect(await snapshot()).toBe(before);
  });

  // hrevoke: GET answered another tenant's key id 404 type invalid_request_error, DELETE 404 type not_found_error.
  it('GET and DELETE of another tenant\'s key id answer the same 404 as an id that does not exist (type, code, param), and nothing changes', async () => {
    const before = await snapshot();
    const answers = [];
    for (const keyId of [acmeKey.keyId, 'key_0123456789abcdef']) {
      for (const method of ['GET', 'DELETE']) {
        const answer = await send(method, `/tenant/keys/${keyId}`, `Bearer ${bearer.globexAdmin}`);
        answers.push({ status: answer.status, type: answer.error.type, code: answer.error.code, param: answer.error.param });
        expect(answer.error.message).not.toContain('acme');
      }
    }
    expect(answers[0]).toEqual({ status: 404, type: 'not_found_error', code: 'key_not_found', param: 'keyId' });
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await snapshot()).toBe(before);
  });

  it('a role claim that does not exist: 403 unknown_role naming it, nothing called', async () => {
    const before = await snapshot();
    const answer = await send('POST', '/chat/completions', `Bearer ${await gw.token('acme', { role: 'superuser' })}`, chat);
    expect([answer.status, answer.error.code, answer.error.type]).toEqual([403, 'unknown_role', 'permission_error']);
    expect(answer.error.message).toContain('"superuser"');
    expect(await snapshot()).toBe(before);
  });

  it('an admin key may manage keys too; what it creates names it (createdBy key:<id>)', async () => {
    const res = await fetch(`${gw.url}/tenant/keys`, { method: 'POST', headers: { authorization: `Bearer ${acmeKey.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'made by a key', role: 'viewer' }) });
    const made = await res.json() as { key: string; createdBy: string; role: string };
    expect([res.status, made.createdBy, made.role]).toEqual([201, `key:${acmeKey.keyId}`, 'viewer']);
  });
});
