import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminDeleteUserCommand, AdminDisableUserCommand, AdminGetUserCommand,
  AdminListGroupsForUserCommand, AdminRemoveUserFromGroupCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient, ListUsersCommand,
  type UserStatusType, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { CognitoCallError, CognitoTenantUsers } from '../../../lambdas/identity/cognito-tenant-users.js';
import { IdentityError } from '../../../lambdas/identity/identity-error.js';

// GIVEN a platform pool with users of two tenants; every Cognito call mocked at the SDK.
const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const POOL = 'eu-west-1_Pool123';
const AT = new Date('2026-12-01T10:00:00Z');
const attrs = (email: string, tenant: string) => [{ Name: 'sub', Value: `sub-${email}` }, { Name: 'email', Value: email }, { Name: 'custom:tenant_id', Value: tenant }];
const user = (email: string, tenant: string, status: UserStatusType = 'FORCE_CHANGE_PASSWORD', enabled = true) => ({ Username: `sub-${email}`, Attributes: attrs(email, tenant), UserStatus: status, Enabled: enabled, UserCreateDate: new Date('2026-11-30T12:00:00Z') });
const got = (email: string, tenant: string, status: UserStatusType = 'CONFIRMED') => ({ Username: `sub-${email}`, UserAttributes: attrs(email, tenant), UserStatus: status, Enabled: true, UserCreateDate: new Date('2026-11-30T12:00:00Z') });
const failure = (name: string, message: string) => Object.assign(new Error(message), { name });
const groups = (...names: string[]) => ({ Groups: names.map((GroupName) => ({ GroupName })) });

let events: Array<{ type: string; detail: Record<string, unknown> }>;
let users: CognitoTenantUsers;
const directory = () => new CognitoTenantUsers(new CognitoIdentityProviderClient({ region: 'eu-west-1' }), POOL, async (type, detail) => void events.push({ type, detail }), () => AT);

async function refusalOf(p: Promise<unknown>): Promise<IdentityError> {
  const e: unknown = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(IdentityError);
  return e as IdentityError;
}

beforeEach(() => {
  cognito.reset();
  events = [];
  users = directory();
  cognito.on(AdminListGroupsForUserCommand).resolves(groups('tenant-member'));
});

describe('invite', () => {
  it('creates the user (email, email_verified, custom:tenant_id; Cognito mails it), adds it to the role group, emits Tenant User Created', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    const invited = await users.invite('acme', { email: 'dev@acme.example.com', role: 'developer' }, 'arn:aws:iam::1:role/admin');
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input).toEqual({
      UserPoolId: POOL, Username: 'dev@acme.example.com', DesiredDeliveryMediums: ['EMAIL'],
      UserAttributes: [{ Name: 'email', Value: 'dev@acme.example.com' }, { Name: 'email_verified', Value: 'true' }, { Name: 'custom:tenant_id', Value: 'acme' }],
    });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'sub-dev@acme.example.com', GroupName: 'tenant-developer' });
    expect(invited).toEqual({ object: 'tenant.user', id: 'sub-dev@acme.example.com', email: 'dev@acme.example.com', tenantId: 'acme', role: 'developer', status: 'FORCE_CHANGE_PASSWORD', enabled: true, createdAt: '2026-11-30T12:00:00.000Z' });
    expect(events).toEqual([{ type: 'Tenant User Created', detail: {
      tenantId: 'acme', userName: 'sub-dev@acme.example.com', userId: 'sub-dev@acme.example.com', email: 'dev@acme.example.com', userRole: 'developer', role: 'developer',
      enabled: true, by: 'arn:aws:iam::1:role/admin', at: '2026-12-01T10:00:00.000Z',
    } }]);
  });

  it('an address this tenant has already: 409 user_exists, nothing created, no event', async () => {
    cognito.on(AdminCreateUserCommand).rejects(failure('UsernameExistsException', 'An account with the given email already exists.'));
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    const e = await refusalOf(users.invite('acme', { email: 'dev@acme.example.com', role: 'member' }, 'x'));
    expect([e.status, e.code, e.param]).toEqual([409, 'user_exists', 'email']);
    expect(e.message).toMatch(/^a user with email dev@acme.example.com exists already in tenant "acme"/);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('an address of another tenant: 409 email_unavailable, the message does not name the other tenant', async () => {
    cognito.on(AdminCreateUserCommand).rejects(failure('UsernameExistsException', 'An account with the given email already exists.'));
    cognito.on(AdminGetUserCommand).resolves(got('dev@globex.example.com', 'globex'));
    const e = await refusalOf(users.invite('acme', { email: 'dev@globex.example.com', role: 'member' }, 'x'));
    expect([e.status, e.code, e.param]).toEqual([409, 'email_unavailable', 'email']);
    expect(e.message).not.toMatch(/globex"/);
    expect(e.message).toBe('email dev@globex.example.com cannot be invited to tenant "acme": the address is already registered on the platform outside this tenant (a user belongs to one tenant); use another address');
  });

  it.each([
    ['not-an-email', 'invalid_email', 'email'],
    ['a b@c.d', 'invalid_email', 'email'],
  ])('refuses email %j before any call (400 naming email)', async (email, code, param) => {
    const e = await refusalOf(users.invite('acme', { email, role: 'member' }, 'x'));
    expect([e.status, e.code, e.param]).toEqual([400, code, param]);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('refuses a role that does not exist (400 naming role)', async () => {
    const e = await refusalOf(users.invite('acme', { email: 'a@acme.example.com', role: 'owner' as never }, 'x'));
    expect([e.status, e.code, e.param, e.message]).toEqual([400, 'invalid_role', 'role', 'role "owner" is not a role (roles: admin, developer, member, viewer)']);
  });

  it('Cognito refusing the email (InvalidParameterException): 400 naming email', async () => {
    cognito.on(AdminCreateUserCommand).rejects(failure('InvalidParameterException', 'Invalid email address format.'));
    const e = await refusalOf(users.invite('acme', { email: 'x@y.zz', role: 'member' }, 'x'));
    expect([e.status, e.code, e.param]).toEqual([400, 'invalid_email', 'email']);
    expect(e.message).toMatch(/Cognito AdminCreateUser \(Invalid email address format\.\)/);
  });

  it('a pool without custom:tenant_id (InvalidParameterException on the attribute): a CognitoCallError, not the caller\'s fault', async () => {
    cognito.on(AdminCreateUserCommand).rejects(failure('InvalidParameterException', 'Attributes did not conform to the schema: Type for attribute {custom:tenant_id} could not be determined'));
    const e = await users.invite('acme', { email: 'a@acme.example.com', role: 'member' }, 'x').catch((x) => x);
    expect(e).toBeInstanceOf(CognitoCallError);
    expect(e.call).toBe('AdminCreateUser');
  });

  it('a missing role group: deletes the new user again and says which group is missing', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    cognito.on(AdminAddUserToGroupCommand).rejects(failure('ResourceNotFoundException', 'Group not found.'));
    const e = await users.invite('acme', { email: 'dev@acme.example.com', role: 'admin' }, 'x').catch((x) => x);
    expect(e).toBeInstanceOf(CognitoCallError);
    expect(e.message).toMatch(/^Cognito AdminAddUserToGroup failed \(ResourceNotFoundException: Group not found\.\): the user pool has no group tenant-admin: the platform stack creates the role groups/);
    expect(cognito.commandCalls(AdminDeleteUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'sub-dev@acme.example.com' });
    expect(events).toEqual([]);
  });

  it('throttling and access denied pass as CognitoCallError naming the call', async () => {
    cognito.on(AdminCreateUserCommand).rejects(failure('TooManyRequestsException', 'Too many requests'));
    const e = await users.invite('acme', { email: 'a@acme.example.com', role: 'member' }, 'x').catch((x) => x);
    expect(e).toBeInstanceOf(CognitoCallError);
    expect(e.message).toBe('Cognito AdminCreateUser failed (TooManyRequestsException: Too many requests)');
    expect(e.cause.name).toBe('TooManyRequestsException');
  });
});

describe('invite racing the lifecycle: the tenant\'s status read once the user exists (tenantStatus)', () => {
  const fenced = (status: string | undefined) => {
    const reads: string[] = [];
    const d = new CognitoTenantUsers(new CognitoIdentityProviderClient({ region: 'eu-west-1' }), POOL, async (type, detail) => void events.push({ type, detail }), () => AT, undefined,
      async (tenantId) => (reads.push(tenantId), status as never));
    return { d, reads };
  };

  it.each(['OFFBOARDING', 'SUSPENDED', undefined])('the tenant is %s at that read (a caller that read it ACTIVE before): the new user is deleted again, 409 invalid_status naming it, no event', async (status) => {
    cognito.on(AdminCreateUserCommand).resolves({ User: user('late@acme.example.com', 'acme') });
    const { d, reads } = fenced(status);
    const e = await refusalOf(d.invite('acme', { email: 'late@acme.example.com', role: 'admin' }, 'x'));
    expect([e.status, e.code, e.param]).toEqual([409, 'invalid_status', 'status']);
    expect(e.message).toBe(`tenant acme is ${status ?? 'not in the registry'}: users are invited only to a tenant the gateway serves (ACTIVE or UPDATING); late@acme.example.com was not kept`);
    expect(reads).toEqual(['acme']);
    expect(cognito.commandCalls(AdminDeleteUserCommand).map((c) => c.args[0].input)).toEqual([{ UserPoolId: POOL, Username: 'sub-late@acme.example.com' }]);
    expect(events).toEqual([]);
  });

  it('still ACTIVE or UPDATING at that read: the user stays, as without the check', async () => {
    for (const status of ['ACTIVE', 'UPDATING']) {
      cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
      const { d, reads } = fenced(status);
      expect(await d.invite('acme', { email: 'dev@acme.example.com', role: 'member' }, 'x')).toMatchObject({ id: 'sub-dev@acme.example.com', enabled: true });
      expect(reads).toEqual(['acme']);
    }
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(0);
    expect(events.map((e) => e.type)).toEqual(['Tenant User Created', 'Tenant User Created']);
  });

  it('the status read failing (throttled, no network): the new user is deleted again and the read\'s error thrown, no event (not kept unfenced)', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: user('late@acme.example.com', 'acme') });
    const throttled = failure('ProvisionedThroughputExceededException', 'Throughput exceeds the current capacity');
    const d = new CognitoTenantUsers(new CognitoIdentityProviderClient({ region: 'eu-west-1' }), POOL, async (type, detail) => void events.push({ type, detail }), () => AT, undefined,
      async () => { throw throttled; });
    await expect(d.invite('acme', { email: 'late@acme.example.com', role: 'member' }, 'x')).rejects.toBe(throttled);
    expect(cognito.commandCalls(AdminDeleteUserCommand).map((c) => c.args[0].input)).toEqual([{ UserPoolId: POOL, Username: 'sub-late@acme.example.com' }]);
    expect(events).toEqual([]);
    // Its deletion failing too: a CognitoCallError naming AdminDeleteUser, the read's failure and the user to remove.
    cognito.on(AdminDeleteUserCommand).rejects(failure('TooManyRequestsException', 'Rate exceeded'));
    const e = await d.invite('acme', { email: 'late@acme.example.com', role: 'member' }, 'x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CognitoCallError);
    expect((e as Error).message).toMatch(/^Cognito AdminDeleteUser failed \(TooManyRequestsException: Rate exceeded\): the status of tenant acme could not be read \(ProvisionedThroughputExceededException: Throughput exceeds the current capacity\), so the user sub-late@acme.example.com just invited was to be deleted again/);
  });

  it('the deletion failing: a CognitoCallError naming AdminDeleteUser, the status and the user to remove', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: user('late@acme.example.com', 'acme') });
    cognito.on(AdminDeleteUserCommand).rejects(failure('TooManyRequestsException', 'Rate exceeded'));
    const e = await fenced('OFFBOARDING').d.invite('acme', { email: 'late@acme.example.com', role: 'member' }, 'x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CognitoCallError);
    expect((e as Error).message).toMatch(/^Cognito AdminDeleteUser failed \(TooManyRequestsException: Rate exceeded\): tenant acme is OFFBOARDING, so the user sub-late@acme.example.com just invited was to be deleted again/);
  });
});

describe('resend', () => {
  it('mails a new temporary password to this tenant\'s user who has not signed in (RESEND)', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme', 'FORCE_CHANGE_PASSWORD'));
    cognito.on(AdminCreateUserCommand).resolves({});
    const resent = await users.resend('acme', 'dev@acme.example.com');
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'dev@acme.example.com', DesiredDeliveryMediums: ['EMAIL'], MessageAction: 'RESEND' });
    expect(resent).toMatchObject({ id: 'sub-dev@acme.example.com', role: 'member', status: 'FORCE_CHANGE_PASSWORD' });
    expect(events).toEqual([]);
  });

  it.each([
    [got('dev@acme.example.com', 'globex', 'FORCE_CHANGE_PASSWORD'), 404, 'user_not_found'],
    [got('dev@acme.example.com', 'acme', 'CONFIRMED'), 409, 'user_signed_in'],
  ])('refuses %#', async (found, status, code) => {
    cognito.on(AdminGetUserCommand).resolves(found);
    const e = await refusalOf(users.resend('acme', 'dev@acme.example.com'));
    expect([e.status, e.code]).toEqual([status, code]);
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
  });
});

describe('list', () => {
  it('pages through ListUsers (no Filter: custom attributes are not searchable), keeps the tenant\'s users, reads each one\'s role group', async () => {
    cognito.on(ListUsersCommand).resolvesOnce({ Users: [user('b@acme.example.com', 'acme', 'CONFIRMED'), user('x@globex.example.com', 'globex')], PaginationToken: 'p2' })
      .resolvesOnce({ Users: [user('a@acme.example.com', 'acme')] });
    cognito.on(AdminListGroupsForUserCommand, { Username: 'sub-a@acme.example.com' }).resolves(groups('tenant-admin', 'other-group'));
    cognito.on(AdminListGroupsForUserCommand, { Username: 'sub-b@acme.example.com' }).resolves(groups());
    const listed = await users.list('acme');
    expect(cognito.commandCalls(ListUsersCommand).map((c) => c.args[0].input)).toEqual([
      { UserPoolId: POOL, Limit: 60, PaginationToken: undefined, Filter: undefined },
      { UserPoolId: POOL, Limit: 60, PaginationToken: 'p2', Filter: undefined },
    ]);
    expect(listed.map((u) => [u.email, u.role, u.status])).toEqual([['a@acme.example.com', 'admin', 'FORCE_CHANGE_PASSWORD'], ['b@acme.example.com', null, 'CONFIRMED']]);
    expect(cognito.commandCalls(AdminListGroupsForUserCommand).map((c) => c.args[0].input.Username).sort()).toEqual(['sub-a@acme.example.com', 'sub-b@acme.example.com']);
  });

  it('a user in two role groups (a role change half done) shows the lesser role, as the authorizer reads it', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [user('a@acme.example.com', 'acme')] });
    cognito.on(AdminListGroupsForUserCommand).resolves(groups('tenant-admin', 'tenant-viewer'));
    expect((await users.list('acme'))[0].role).toBe('viewer');
  });

  it('narrows by email prefix through Cognito (quotes escaped)', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await users.list('acme', { emailPrefix: 'a"b' });
    expect(cognito.commandCalls(ListUsersCommand)[0].args[0].input.Filter).toBe('email ^= "a\\"b"');
  });

  it('a failing ListUsers is a CognitoCallError naming it', async () => {
    cognito.on(ListUsersCommand).rejects(failure('ResourceNotFoundException', 'User pool eu-west-1_Pool123 does not exist.'));
    await expect(users.list('acme')).rejects.toThrow(/^Cognito ListUsers failed \(ResourceNotFoundException: .*\): the user pool does not exist/);
  });
});

describe('disable, set-role, remove act only on the tenant\'s own users', () => {
  it.each([
    ['disable', () => users.disable('acme', 'sub-dev@globex.example.com', 'x')],
    ['setRole', () => users.setRole('acme', 'sub-dev@globex.example.com', 'admin', 'x')],
    ['remove', () => users.remove('acme', 'sub-dev@globex.example.com', 'x')],
  ])('%s on another tenant\'s user: 404 user_not_found, the same answer as for no user, and no change', async (_name, act) => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@globex.example.com', 'globex'));
    const other = await refusalOf(act());
    cognito.on(AdminGetUserCommand).rejects(failure('UserNotFoundException', 'User does not exist.'));
    const none = await refusalOf(act());
    expect([other.status, other.code, other.param, other.message]).toEqual([404, 'user_not_found', 'userId', 'no user "sub-dev@globex.example.com" in tenant "acme"']);
    expect([none.status, none.code, none.message]).toEqual([other.status, other.code, other.message]);
    const changes = ['AdminDisableUserCommand', 'AdminUserGlobalSignOutCommand', 'AdminAddUserToGroupCommand', 'AdminRemoveUserFromGroupCommand', 'AdminDeleteUserCommand'];
    expect(cognito.calls().filter((c) => changes.includes((c.args[0] as object).constructor.name))).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('refuses a user id that cannot be a Cognito username (400 naming userId) before any call', async () => {
    const e = await refusalOf(users.disable('acme', 'has space', 'x'));
    expect([e.status, e.code, e.param]).toEqual([400, 'invalid_user_id', 'userId']);
    expect(cognito.calls()).toHaveLength(0);
  });
});

describe('disable', () => {
  it('AdminUserGlobalSignOut, then AdminDisableUser; emits Tenant User Disabled', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    const disabled = await users.disable('acme', 'sub-dev@acme.example.com', 'tenant-user:sub-admin');
    const order = cognito.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(order).toEqual(['AdminGetUserCommand', 'AdminUserGlobalSignOutCommand', 'AdminDisableUserCommand', 'AdminListGroupsForUserCommand']);
    expect(cognito.commandCalls(AdminDisableUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'sub-dev@acme.example.com' });
    expect(disabled).toMatchObject({ id: 'sub-dev@acme.example.com', enabled: false, role: 'member' });
    expect(events).toEqual([{ type: 'Tenant User Disabled', detail: expect.objectContaining({ tenantId: 'acme', userName: 'sub-dev@acme.example.com', email: 'dev@acme.example.com', enabled: false, by: 'tenant-user:sub-admin' }) }]);
  });

  it('a failing sign-out is a CognitoCallError naming AdminUserGlobalSignOut', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    cognito.on(AdminUserGlobalSignOutCommand).rejects(failure('TooManyRequestsException', 'Rate exceeded'));
    await expect(users.disable('acme', 'sub-dev@acme.example.com', 'x')).rejects.toThrow('Cognito AdminUserGlobalSignOut failed (TooManyRequestsException: Rate exceeded)');
  });
});

describe('setRole', () => {
  it('adds the new group first, then leaves every other role group (not other groups); emits Tenant User Role Changed with the previous role', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    cognito.on(AdminListGroupsForUserCommand).resolves(groups('tenant-member', 'beta-testers'));
    const changed = await users.setRole('acme', 'sub-dev@acme.example.com', 'admin', 'x');
    const order = cognito.calls().map((c) => [(c.args[0] as { constructor: { name: string } }).constructor.name, (c.args[0] as { input: { GroupName?: string } }).input.GroupName]);
    expect(order).toEqual([['AdminGetUserCommand', undefined], ['AdminListGroupsForUserCommand', undefined], ['AdminAddUserToGroupCommand', 'tenant-admin'], ['AdminRemoveUserFromGroupCommand', 'tenant-member']]);
    expect(changed.role).toBe('admin');
    expect(events).toEqual([{ type: 'Tenant User Role Changed', detail: expect.objectContaining({ role: 'admin', userRole: 'admin', previousRole: 'member' }) }]);
  });

  it('the same role again changes nothing and emits nothing', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    await users.setRole('acme', 'sub-dev@acme.example.com', 'member', 'x');
    expect(cognito.commandCalls(AdminRemoveUserFromGroupCommand)).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('refuses an unknown role (400) before any call', async () => {
    const e = await refusalOf(users.setRole('acme', 'sub-dev@acme.example.com', 'root' as never, 'x'));
    expect([e.status, e.param]).toEqual([400, 'role']);
    expect(cognito.calls()).toHaveLength(0);
  });
});

describe('remove', () => {
  it('AdminDeleteUser; emits Tenant User Deleted with the role it had', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    cognito.on(AdminListGroupsForUserCommand).resolves(groups('tenant-developer'));
    const removed = await users.remove('acme', 'sub-dev@acme.example.com', 'x');
    expect(cognito.commandCalls(AdminDeleteUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'sub-dev@acme.example.com' });
    expect(removed.role).toBe('developer');
    expect(events).toEqual([{ type: 'Tenant User Deleted', detail: expect.objectContaining({ tenantId: 'acme', userName: 'sub-dev@acme.example.com', userRole: 'developer' }) }]);
  });

  it('a user gone between the read and the delete: 404', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('dev@acme.example.com', 'acme'));
    cognito.on(AdminDeleteUserCommand).rejects(failure('UserNotFoundException', 'User does not exist.'));
    const e = await refusalOf(users.remove('acme', 'sub-dev@acme.example.com', 'x'));
    expect([e.status, e.code]).toEqual([404, 'user_not_found']);
    expect(events).toEqual([]);
  });
});

describe('disableAll (offboarding)', () => {
  it('disables and signs out every enabled user of the tenant only, one event each; returns the count', async () => {
    cognito.on(ListUsersCommand).resolvesOnce({ Users: [user('a@acme.example.com', 'acme'), user('x@globex.example.com', 'globex')], PaginationToken: 'p2' })
      .resolvesOnce({ Users: [user('b@acme.example.com', 'acme', 'CONFIRMED')] });
    await expect(users.disableAll('acme', 'offboarding')).resolves.toEqual({ disabled: 2, gone: 0 });
    expect(cognito.commandCalls(ListUsersCommand)[0].args[0].input.Filter).toBe('status = "Enabled"');
    expect(cognito.commandCalls(AdminDisableUserCommand).map((c) => c.args[0].input.Username).sort()).toEqual(['sub-a@acme.example.com', 'sub-b@acme.example.com']);
    expect(cognito.commandCalls(AdminUserGlobalSignOutCommand)).toHaveLength(2);
    expect(events.map((e) => [e.type, e.detail.email, e.detail.by])).toEqual(expect.arrayContaining([
      ['Tenant User Disabled', 'a@acme.example.com', 'offboarding'], ['Tenant User Disabled', 'b@acme.example.com', 'offboarding'],
    ]));
    expect(events).toHaveLength(2);
  });

  it('a second run finds no enabled user of the tenant and disables nothing', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [user('x@globex.example.com', 'globex')] });
    await expect(users.disableAll('acme', 'offboarding')).resolves.toEqual({ disabled: 0, gone: 0 });
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('a failure stops the run with the call named (the workflow retries it; users already disabled are not listed again)', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [user('a@acme.example.com', 'acme')] });
    cognito.on(AdminDisableUserCommand).rejects(failure('AccessDeniedException', 'not authorized to perform: cognito-idp:AdminDisableUser'));
    await expect(users.disableAll('acme', 'offboarding')).rejects.toThrow(/^Cognito AdminDisableUser failed \(AccessDeniedException/);
  });

  it('with pending: each listed user is recorded before its AdminDisableUser and cleared after its event; an event that fails leaves it recorded', async () => {
    const log: string[] = [];
    const pending = { recorded: () => [], record: async (ids: readonly string[]) => void log.push(`record ${ids.join(',')}`), clear: async (id: string) => void log.push(`clear ${id}`) };
    cognito.on(ListUsersCommand).resolves({ Users: [user('a@acme.example.com', 'acme')] });
    cognito.on(AdminDisableUserCommand).callsFake((input: { Username: string }) => { log.push(`disable ${input.Username}`); return {}; });
    users = new CognitoTenantUsers(new CognitoIdentityProviderClient({ region: 'eu-west-1' }), POOL, async () => { throw failure('ThrottlingException', 'Rate exceeded'); }, () => AT);
    await expect(users.disableAll('acme', 'offboarding', pending)).rejects.toThrow('Rate exceeded');
    expect(log).toEqual(['record sub-a@acme.example.com', 'disable sub-a@acme.example.com']);
  });

  it('with pending: a recorded user Cognito shows disabled gets its event and is cleared; one of another tenant or deleted is cleared without an event', async () => {
    const cleared: string[] = [];
    const pending = { recorded: () => ['sub-a@acme.example.com', 'sub-x@globex.example.com', 'sub-gone@acme.example.com'], record: async () => undefined, clear: async (id: string) => void cleared.push(id) };
    cognito.on(AdminGetUserCommand, { Username: 'sub-a@acme.example.com' }).resolves({ ...got('a@acme.example.com', 'acme'), Enabled: false });
    cognito.on(AdminGetUserCommand, { Username: 'sub-x@globex.example.com' }).resolves({ ...got('x@globex.example.com', 'globex'), Enabled: false });
    cognito.on(AdminGetUserCommand, { Username: 'sub-gone@acme.example.com' }).rejects(failure('UserNotFoundException', 'User does not exist.'));
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await expect(users.disableAll('acme', 'offboarding', pending)).resolves.toEqual({ disabled: 1, gone: 0 });
    expect(events.map((e) => [e.type, e.detail.userId, e.detail.enabled])).toEqual([['Tenant User Disabled', 'sub-a@acme.example.com', false]]);
    expect(cleared.sort()).toEqual(['sub-a@acme.example.com', 'sub-gone@acme.example.com', 'sub-x@globex.example.com']);
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(0);
  });
});
