import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminDeleteUserCommand, AdminDisableUserCommand, AdminGetUserCommand,
  AdminListGroupsForUserCommand, AdminRemoveUserFromGroupCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient, ListUsersCommand, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { records, registryMock } from '../lifecycle/registry-mock.js';
import { setLifecycleEnv, tenant } from '../lifecycle/support.js';

// GIVEN the admin API with the registry in memory, Cognito and EventBridge mocked at the SDK.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const { handler } = await import('../../../lambdas/admin/admin-api.js');

const POOL = 'us-east-1_Pool123';
const ADMIN = 'arn:aws:sts::222222222222:assumed-role/TesseraPlatformAdmin/ops';
const call = (httpMethod: string, resource: string, pathParameters: Record<string, string>, body?: unknown, queryStringParameters: Record<string, string> | null = null) =>
  handler({ httpMethod, resource, headers: {}, pathParameters, queryStringParameters, body: body === undefined ? null : JSON.stringify(body), requestContext: { requestId: 'r1', identity: { userArn: ADMIN } } } as unknown as APIGatewayProxyEvent);
const answer = (r: { statusCode: number; body: string }) => [r.statusCode, JSON.parse(r.body)];
const attrs = (email: string, t: string) => [{ Name: 'email', Value: email }, { Name: 'custom:tenant_id', Value: t }];
const got = (email: string, t: string) => ({ Username: `sub-${email}`, UserAttributes: attrs(email, t), UserStatus: 'CONFIRMED' as const, Enabled: true, UserCreateDate: new Date('2026-11-30T12:00:00Z') });
const sentEvents = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).map((e) => ({ bus: e.EventBusName, source: e.Source, type: e.DetailType, detail: JSON.parse(e.Detail!) }));

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.userPoolId] = POOL;
  records.clear();
  records.set('acme', tenant({ status: 'ACTIVE' }));
  cognito.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
  cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [{ GroupName: 'tenant-member' }] });
});

describe('admin API: tenant users', () => {
  it('POST /users invites (201) with the role group and puts Tenant User Created on the platform bus, by the IAM caller', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'sub-1', Attributes: attrs('dev@acme.example.com', 'acme'), UserStatus: 'FORCE_CHANGE_PASSWORD', Enabled: true, UserCreateDate: new Date('2026-12-01T00:00:00Z') } });
    const [status, user] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com', role: 'admin' }));
    expect(status).toBe(201);
    expect(user).toEqual({ object: 'tenant.user', id: 'sub-1', email: 'dev@acme.example.com', tenantId: 'acme', role: 'admin', status: 'FORCE_CHANGE_PASSWORD', enabled: true, createdAt: '2026-12-01T00:00:00.000Z' });
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input.UserPoolId).toBe(POOL);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0].args[0].input.GroupName).toBe('tenant-admin');
    expect(sentEvents()).toEqual([{ bus: 'tessera-lifecycle', source: 'tessera.lifecycle', type: 'Tenant User Created', detail: expect.objectContaining({ tenantId: 'acme', userName: 'sub-1', email: 'dev@acme.example.com', userRole: 'admin', by: ADMIN }) }]);
  });

  // The way to retry a first-admin invitation the onboarding could not make keeps the registry truthful.
  it('inviting the tenant\'s adminEmail as admin records the first admin INVITED (by the IAM caller); another address or role leaves the record', async () => {
    const failed = { state: 'FAILED' as const, email: 'admin@acme.example.com', by: 'onboarding', at: '2026-12-01T00:00:00.000Z', reason: 'Cognito AdminCreateUser failed (…)' };
    records.set('acme', tenant({ status: 'ACTIVE', adminInvite: failed }));
    cognito.on(AdminCreateUserCommand).callsFake((input: { Username: string }) => ({ User: { Username: `sub-${input.Username}`, Attributes: attrs(input.Username, 'acme') } }));
    // another role, then another address: unchanged
    await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'Admin@acme.example.com', role: 'member' });
    await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com', role: 'admin' });
    expect(records.get('acme')!.adminInvite).toEqual(failed);
    // WHEN the admin email (in another case) as admin
    const [status] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'Admin@acme.example.com', role: 'admin' }));
    // THEN
    expect(status).toBe(201);
    expect(records.get('acme')!.adminInvite).toEqual({ state: 'INVITED', email: 'admin@acme.example.com', userId: 'sub-Admin@acme.example.com', by: ADMIN, at: expect.any(String) });
  });

  it('the role defaults to member', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'sub-1', Attributes: attrs('dev@acme.example.com', 'acme') } });
    await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com' });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0].args[0].input.GroupName).toBe('tenant-member');
  });

  it.each([
    [{ email: 'dev@acme.example.com', role: 'owner' }, 'role'],
    [{ email: 'dev@acme.example.com', role: 'member', tenantId: 'globex' }, 'tenantId'],
    [{ role: 'member' }, 'email'],
    [{ email: 'nope', role: 'member' }, 'email'],
  ])('POST /users refuses %j with a 400 naming %s, and calls nobody', async (body, param) => {
    const [status, error] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, body));
    expect(status).toBe(400);
    expect(error.error.param).toBe(param);
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
  });

  it.each([
    ['POST', '/admin/tenants/{id}/users', { id: 'nobody' }, { email: 'a@b.example.com' }],
    ['GET', '/admin/tenants/{id}/users', { id: 'nobody' }, undefined],
    ['POST', '/admin/tenants/{id}/users/{userId}/disable', { id: 'nobody', userId: 'sub-1' }, undefined],
    ['PUT', '/admin/tenants/{id}/users/{userId}/role', { id: 'nobody', userId: 'sub-1' }, { role: 'viewer' }],
    ['DELETE', '/admin/tenants/{id}/users/{userId}', { id: 'nobody', userId: 'sub-1' }, undefined],
  ])('%s %s of a tenant that does not exist: 404 tenant_not_found', async (method, resource, params, body) => {
    const [status, error] = answer(await call(method, resource, params, body));
    expect([status, error.error.code]).toEqual([404, 'tenant_not_found']);
    expect(cognito.calls()).toHaveLength(0);
  });

  it.each(['REQUESTED', 'PROVISIONING', 'FAILED', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED'])('a %s tenant gets no new users nor resent invitations (409 naming its status): the gateway serves ACTIVE and UPDATING only', async (state) => {
    records.set('acme', tenant({ status: state as never }));
    for (const body of [{ email: 'dev@acme.example.com', role: 'admin' }, { email: 'dev@acme.example.com', resend: true }]) {
      const [status, error] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, body));
      expect([status, error.error.code, error.error.param]).toEqual([409, 'invalid_status', 'id']);
      expect(error.error.message).toContain(`is ${state}: users are invited only to a tenant the gateway serves (ACTIVE or UPDATING)`);
    }
    expect(cognito.calls()).toHaveLength(0);
  });

  it('an offboarding that begins while the invitation is made (after the route read the tenant ACTIVE): the user is deleted again, 409 invalid_status naming OFFBOARDING, no event', async () => {
    cognito.on(AdminCreateUserCommand).callsFake(() => {
      records.set('acme', tenant({ status: 'OFFBOARDING' })); // Begin offboarding, between the route's read and the user's creation
      return { User: { Username: 'sub-1', Attributes: attrs('late@acme.example.com', 'acme') } };
    });
    const [status, error] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'late@acme.example.com', role: 'admin' }));
    expect([status, error.error.code, error.error.param]).toEqual([409, 'invalid_status', 'status']);
    expect(error.error.message).toContain('tenant acme is OFFBOARDING: users are invited only to a tenant the gateway serves');
    expect(cognito.commandCalls(AdminDeleteUserCommand).map((c) => c.args[0].input)).toEqual([{ UserPoolId: POOL, Username: 'sub-1' }]);
    expect(sentEvents()).toEqual([]);
  });

  it('an UPDATING tenant (served) gets its users invited', async () => {
    records.set('acme', tenant({ status: 'UPDATING' }));
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'sub-1', Attributes: attrs('dev@acme.example.com', 'acme') } });
    const [status] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com' }));
    expect(status).toBe(201);
  });

  it('GET /users lists the tenant\'s users with their roles', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [{ Username: 'sub-a', Attributes: attrs('a@acme.example.com', 'acme') }, { Username: 'sub-x', Attributes: attrs('x@globex.example.com', 'globex') }] });
    const [status, list] = answer(await call('GET', '/admin/tenants/{id}/users', { id: 'acme' }));
    expect(status).toBe(200);
    expect(list).toEqual({ tenantId: 'acme', users: [expect.objectContaining({ id: 'sub-a', email: 'a@acme.example.com', role: 'member' })] });
  });

  it('disable, set-role and delete act on the tenant\'s user and emit their events', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    const [s1, disabled] = answer(await call('POST', '/admin/tenants/{id}/users/{userId}/disable', { id: 'acme', userId: 'sub-dev@acme.example.com' }));
    expect([s1, disabled.enabled]).toEqual([200, false]);
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(1);
    expect(cognito.commandCalls(AdminUserGlobalSignOutCommand)).toHaveLength(1);
    const [s2, changed] = answer(await call('PUT', '/admin/tenants/{id}/users/{userId}/role', { id: 'acme', userId: 'sub-dev@acme.example.com' }, { role: 'viewer' }));
    expect([s2, changed.role]).toEqual([200, 'viewer']);
    expect(cognito.commandCalls(AdminRemoveUserFromGroupCommand)[0].args[0].input.GroupName).toBe('tenant-member');
    const [s3, removed] = answer(await call('DELETE', '/admin/tenants/{id}/users/{userId}', { id: 'acme', userId: 'sub-dev@acme.example.com' }));
    expect([s3, removed.deleted, removed.id]).toEqual([200, true, 'sub-dev@acme.example.com']);
    expect(sentEvents().map((e) => e.type)).toEqual(['Tenant User Disabled', 'Tenant User Role Changed', 'Tenant User Deleted']);
  });

  it('another tenant\'s user: 404 user_not_found naming userId, nothing changed', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@globex.example.com', 'globex'));
    for (const [method, resource, body] of [['POST', '/admin/tenants/{id}/users/{userId}/disable'], ['PUT', '/admin/tenants/{id}/users/{userId}/role', { role: 'admin' }], ['DELETE', '/admin/tenants/{id}/users/{userId}']] as const) {
      const [status, error] = answer(await call(method, resource, { id: 'acme', userId: 'sub-dev@globex.example.com' }, body));
      expect([status, error.error.code, error.error.param, error.error.type]).toEqual([404, 'user_not_found', 'userId', 'not_found_error']);
    }
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(0);
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
  });

  it('PUT /role refuses an unknown role or key (400 naming it)', async () => {
    for (const [body, param] of [[{ role: 'root' }, 'role'], [{ role: 'admin', by: 'me' }, 'by'], [{}, 'role']] as const) {
      const [status, error] = answer(await call('PUT', '/admin/tenants/{id}/users/{userId}/role', { id: 'acme', userId: 'sub-1' }, body));
      expect([status, error.error.param]).toEqual([400, param]);
    }
    expect(cognito.calls()).toHaveLength(0);
  });

  it('an address that exists: 409 (this tenant: user_exists; another: email_unavailable, not naming it)', async () => {
    cognito.on(AdminCreateUserCommand).rejects(Object.assign(new Error('An account with the given email already exists.'), { name: 'UsernameExistsException' }));
    cognito.on(AdminGetUserCommand).resolves(got('dev@globex.example.com', 'globex'));
    const [status, error] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@globex.example.com' }));
    expect([status, error.error.code, error.error.type]).toEqual([409, 'email_unavailable', 'conflict_error']);
    expect(error.error.message).not.toContain('globex"');
  });

  it('Cognito failing (throttling): 502 naming the call', async () => {
    cognito.on(ListUsersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const [status, error] = answer(await call('GET', '/admin/tenants/{id}/users', { id: 'acme' }));
    expect([status, error.error.code, error.error.message]).toEqual([502, 'cognito_error', 'Cognito ListUsers failed (TooManyRequestsException: Rate exceeded)']);
  });

  it('POST /users {resend: true}: MessageAction RESEND for this tenant\'s user who has not signed in (200, no event)', async () => {
    cognito.on(AdminGetUserCommand).resolves({ ...got('dev@acme.example.com', 'acme'), UserStatus: 'FORCE_CHANGE_PASSWORD' as const });
    cognito.on(AdminCreateUserCommand).resolves({});
    const [status, user] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com', resend: true }));
    expect([status, user.email, user.role, user.status]).toEqual([200, 'dev@acme.example.com', 'member', 'FORCE_CHANGE_PASSWORD']);
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'dev@acme.example.com', DesiredDeliveryMediums: ['EMAIL'], MessageAction: 'RESEND' });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
  });

  it.each([
    ['another tenant\'s user', { UserStatus: 'FORCE_CHANGE_PASSWORD' as const, tenant: 'globex' }, [404, 'user_not_found', 'email']],
    ['a user who signed in', { UserStatus: 'CONFIRMED' as const, tenant: 'acme' }, [409, 'user_signed_in', 'email']],
  ])('POST /users {resend: true} refuses %s, mailing nothing', async (_what, { UserStatus, tenant: owner }, expected) => {
    cognito.on(AdminGetUserCommand).resolves({ ...got('dev@acme.example.com', owner), UserStatus });
    const [status, error] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com', resend: true }));
    expect([status, error.error.code, error.error.param]).toEqual(expected);
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
  });

  it('POST /users refuses a role with resend, and a resend that is not a boolean (400 naming it, no call)', async () => {
    const [s1, e1] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com', resend: true, role: 'admin' }));
    expect([s1, e1.error.param, e1.error.message]).toEqual([400, 'role', expect.stringMatching(/^role cannot be given with resend/)]);
    const [s2, e2] = answer(await call('POST', '/admin/tenants/{id}/users', { id: 'acme' }, { email: 'dev@acme.example.com', resend: 'yes' }));
    expect([s2, e2.error.param]).toEqual([400, 'resend']);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('GET /users?emailPrefix= narrows ListUsers by Cognito\'s Filter (quotes escaped); an unknown query parameter is a 400', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [{ Username: 'sub-a', Attributes: attrs('a@acme.example.com', 'acme') }] });
    const [status, list] = answer(await call('GET', '/admin/tenants/{id}/users', { id: 'acme' }, undefined, { emailPrefix: 'a"b' }));
    expect([status, list.users.length]).toEqual([200, 1]);
    expect(cognito.commandCalls(ListUsersCommand)[0].args[0].input.Filter).toBe('email ^= "a\\"b"');
    const [s2, e2] = answer(await call('GET', '/admin/tenants/{id}/users', { id: 'acme' }, undefined, { email_prefix: 'a' }));
    expect([s2, e2.error.param, e2.error.code]).toEqual([400, 'email_prefix', 'unknown_parameter']);
  });

  it('{userId} may be the user\'s email: AdminGetUser takes it (the pool signs in by email)', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    const [status, user] = answer(await call('POST', '/admin/tenants/{id}/users/{userId}/disable', { id: 'acme', userId: 'dev@acme.example.com' }));
    expect([status, user.id, user.enabled]).toEqual([200, 'sub-dev@acme.example.com', false]);
    expect(cognito.commandCalls(AdminGetUserCommand)[0].args[0].input.Username).toBe('dev@acme.example.com');
    expect(cognito.commandCalls(AdminDisableUserCommand)[0].args[0].input.Username).toBe('sub-dev@acme.example.com');
  });

  it('a platform without the pool and without gateway.jwt (a local platform, a demo): 404 no_user_pool saying neither is there, not "an external identity provider"', async () => {
    delete process.env[ENV.userPoolId];
    const [status, error] = answer(await call('GET', '/admin/tenants/{id}/users', { id: 'acme' }));
    expect([status, error.error.code]).toEqual([404, 'no_user_pool']);
    expect(error.error.message).toBe('the platform has no user pool (TESSERA_USER_POOL_ID is not set) and no external identity provider (gateway.jwt is not configured either): it makes no tenant users, as a local platform or a demo, which have no pool; tenant users are not managed through this admin API');
  });

  it('a platform without the pool with gateway.jwt (external IdP): 404 no_user_pool naming the provider\'s issuer', async () => {
    delete process.env[ENV.userPoolId];
    const config = JSON.parse(process.env[ENV.config]!);
    process.env[ENV.config] = JSON.stringify({ ...config, gateway: { ...config.gateway, jwt: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks', audience: 'tessera' } } });
    const [status, error] = answer(await call('GET', '/admin/tenants/{id}/users', { id: 'acme' }));
    expect([status, error.error.code]).toEqual([404, 'no_user_pool']);
    expect(error.error.message).toMatch(/^the platform has no user pool \(TESSERA_USER_POOL_ID is not set\): it uses an external identity provider \(gateway\.jwt, issuer https:\/\/idp\.example\.com\), whose users are managed there/);
  });
});
