import { CognitoIdentityProviderClient, CreateGroupCommand, CreateUserPoolCommand, AdminListGroupsForUserCommand, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_GROUPS } from '../../../lib/identity/roles.js';
import { CognitoTenantUsers } from '../../../lambdas/identity/cognito-tenant-users.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from '../support/moto-server.js';

// /v1/tenant/users on the real CognitoTenantUsers against a Cognito pool in moto: a tenant admin
// invites, lists, re-roles and disables its own users through the gateway, never another tenant's.
// (TESSERA_PRINT=1 prints each answer: the README's examples.)

let moto: MotoServer;
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let poolId: string;
const events: Array<{ detailType: string; detail: Record<string, unknown> }> = [];
const cognito = () => new CognitoIdentityProviderClient({});
const bearer: Record<string, string> = {};

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  poolId = (await cognito().send(new CreateUserPoolCommand({
    PoolName: 'tessera-tenants', UsernameAttributes: ['email'], AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false, StringAttributeConstraints: { MinLength: '3', MaxLength: '24' } }],
  }))).UserPool!.Id!;
  for (const group of ROLE_GROUPS) await cognito().send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
  upstream = await new FakeUpstream().start();
  const users = new CognitoTenantUsers(cognito(), poolId, async (detailType, detail) => void events.push({ detailType, detail }));
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise'), localTenant('globex', 'starter')], { users });
  bearer.acme = await gw.token('acme', { role: 'admin', sub: 'alice@acme.example.com' });
  bearer.globex = await gw.token('globex', { role: 'admin', sub: 'gina@globex.example.com' });
}, 120_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  await moto?.stop();
});

async function api(method: string, path: string, tenant: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${bearer[tenant]}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json() as any;
  if (process.env.TESSERA_PRINT) console.log(`${method} /v1${path} ${body === undefined ? '' : JSON.stringify(body)}\n-> ${res.status} ${JSON.stringify(json, null, 2)}`);
  return { status: res.status, json };
}

describe('/v1/tenant/users on Cognito (moto)', () => {
  let bob: string;

  it('invites a user into the caller\'s tenant with a role group, and emits Tenant User Created naming the admin', async () => {
    const { status, json } = await api('POST', '/tenant/users', 'acme', { email: 'bob@acme.example.com', role: 'developer' });
    expect(status).toBe(201);
    expect(json).toMatchObject({ object: 'tenant.user', email: 'bob@acme.example.com', tenantId: 'acme', role: 'developer', enabled: true });
    bob = json.id;
    const user = await cognito().send(new AdminGetUserCommand({ UserPoolId: poolId, Username: bob }));
    expect(user.UserAttributes).toContainEqual({ Name: 'custom:tenant_id', Value: 'acme' });
    expect(events.at(-1)).toMatchObject({ detailType: 'Tenant User Created', detail: { tenantId: 'acme', email: 'bob@acme.example.com', by: 'tenant-user:alice@acme.example.com' } });
  });

  it('lists only the caller\'s tenant\'s users', async () => {
    await api('POST', '/tenant/users', 'globex', { email: 'gary@globex.example.com' });
    const acme = await api('GET', '/tenant/users', 'acme');
    expect(acme.json.data.map((u: { email: string }) => u.email)).toEqual(['bob@acme.example.com']);
    const globex = await api('GET', '/tenant/users', 'globex');
    expect(globex.json.data.map((u: { email: string; role: string }) => [u.email, u.role])).toEqual([['gary@globex.example.com', 'member']]);
  });

  it('sets a role (moves the user to that group only) and disables a user', async () => {
    const { json } = await api('PUT', `/tenant/users/${bob}/role`, 'acme', { role: 'viewer' });
    expect(json.role).toBe('viewer');
    const groups = await cognito().send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: bob }));
    expect(groups.Groups?.map((g) => g.GroupName)).toEqual(['tenant-viewer']);
    const disabled = await api('POST', `/tenant/users/${bob}/disable`, 'acme');
    expect([disabled.status, disabled.json.enabled]).toEqual([200, false]);
    expect((await cognito().send(new AdminGetUserCommand({ UserPoolId: poolId, Username: bob }))).Enabled).toBe(false);
  });

  it('refuses another tenant\'s user as not found, and a tenant named in the body, changing nothing', async () => {
    const before = JSON.stringify((await api('GET', '/tenant/users', 'acme')).json);
    expect((await api('PUT', `/tenant/users/${bob}/role`, 'globex', { role: 'admin' })).status).toBe(404);
    expect((await api('POST', `/tenant/users/${bob}/disable`, 'globex')).status).toBe(404);
    const named = await api('POST', '/tenant/users', 'globex', { email: 'mallory@acme.example.com', role: 'admin', tenantId: 'acme' });
    expect([named.status, named.json.error.code, named.json.error.param]).toEqual([400, 'unknown_parameter', 'tenantId']);
    expect(JSON.stringify((await api('GET', '/tenant/users', 'acme')).json)).toBe(before);
  });

  it('refuses an address Cognito cannot take as a Username (129 characters: AdminCreateUser takes 1-128) with 400 invalid_email naming email, making no user; takes one of 128', async () => {
    // Before, the address reached AdminCreateUser, whose InvalidParameterException about 'username' (moto answers it as AWS
    // does: tessera_moto_patches.py refuse_cognito_parameters_as_aws) came back as a Cognito call error, not a 400 naming email.
    const before = JSON.stringify((await api('GET', '/tenant/users', 'acme')).json);
    const long = `${'c'.repeat(112)}@acme.example.com`;
    expect(long).toHaveLength(129);
    const refused = await api('POST', '/tenant/users', 'acme', { email: long, role: 'member' });
    expect([refused.status, refused.json.error.code, refused.json.error.param]).toEqual([400, 'invalid_email', 'email']);
    expect(refused.json.error.message).toContain('(129 characters)');
    expect(refused.json.error.message).toContain('1-128 characters');
    expect(JSON.stringify((await api('GET', '/tenant/users', 'acme')).json)).toBe(before);
    const longest = await api('POST', '/tenant/users', 'acme', { email: long.slice(1), role: 'member' });
    expect([longest.status, longest.json.email]).toEqual([201, long.slice(1)]);
  });

  it('refuses an emailPrefix whose ListUsers Filter would be over 256 characters with 400 invalid_email_prefix naming emailPrefix; lists with one that fits', async () => {
    const users = new CognitoTenantUsers(cognito(), poolId, async () => undefined);
    const room = 256 - 'email ^= ""'.length;
    await expect(users.list('acme', { emailPrefix: 'c'.repeat(room + 1) })).rejects.toMatchObject({ status: 400, code: 'invalid_email_prefix', param: 'emailPrefix' });
    // a " counts twice (escaped as \")
    await expect(users.list('acme', { emailPrefix: `${'c'.repeat(room - 1)}"` })).rejects.toMatchObject({ code: 'invalid_email_prefix' });
    await expect(users.list('acme', { emailPrefix: 'c'.repeat(room) })).resolves.toEqual([]);
    await expect(users.list('acme', { emailPrefix: 'c'.repeat(100) })).resolves.toMatchObject([{ email: `${'c'.repeat(111)}@acme.example.com` }]);
  });
});
