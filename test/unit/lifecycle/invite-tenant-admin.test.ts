import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminDeleteUserCommand, AdminGetUserCommand, AdminListGroupsForUserCommand, CognitoIdentityProviderClient, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { RETRYABLE_ERRORS } from '../../../lambdas/shared/errors.js';
import { records, registryMock } from './registry-mock.js';
import { EXECUTION_ARN, leased, setLifecycleEnv, state } from './support.js';

// GIVEN an onboarding execution holding acme's lease (PROVISIONING, its resources up); Cognito and EventBridge mocked at the SDK.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const { handler } = await import('../../../lambdas/lifecycle/invite-tenant-admin.js');

const POOL = 'us-east-1_Pool123';
const EMAIL = 'admin@acme.example.com';
const exists = () => Object.assign(new Error('User account already exists'), { name: 'UsernameExistsException', $fault: 'client' });
/** AdminGetUser's answer for a user of `tenant` (the pool names a user by its sub). */
const userOf = (tenant: string, extra: Record<string, unknown> = {}) => ({
  Username: 'sub-ada', UserStatus: 'FORCE_CHANGE_PASSWORD' as const, Enabled: true, UserCreateDate: new Date('2026-12-01T00:00:00.000Z'),
  UserAttributes: [{ Name: 'email', Value: EMAIL }, { Name: 'custom:tenant_id', Value: tenant }, { Name: 'sub', Value: 'sub-ada' }], ...extra,
});
const busEvents = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).map((e) => [e.DetailType, JSON.parse(e.Detail!)]);

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.userPoolId] = POOL;
  records.clear();
  records.set('acme', leased('onboard'));
  cognito.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});
afterEach(() => {
  delete process.env[ENV.userPoolId];
});

describe('Invite tenant admin (onboarding, just before Activate tenant)', () => {
  it('first invite: creates adminEmail as the tenant\'s admin, announces it and records INVITED under the lease', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'sub-ada', Attributes: [{ Name: 'email', Value: EMAIL }], UserStatus: 'FORCE_CHANGE_PASSWORD', Enabled: true } });
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    // WHEN
    const out = await handler(state());
    // THEN the user: Username = the address, the tenant attribute, Cognito mails the temporary password; then the admin group
    expect(cognito.commandCalls(AdminCreateUserCommand).map((c) => c.args[0].input)).toEqual([{
      UserPoolId: POOL, Username: EMAIL, DesiredDeliveryMediums: ['EMAIL'],
      UserAttributes: [{ Name: 'email', Value: EMAIL }, { Name: 'email_verified', Value: 'true' }, { Name: 'custom:tenant_id', Value: 'acme' }],
    }]);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand).map((c) => c.args[0].input)).toEqual([{ UserPoolId: POOL, Username: 'sub-ada', GroupName: 'tenant-admin' }]);
    expect(out).toEqual({ state: 'INVITED', email: EMAIL, userId: 'sub-ada' });
    expect(records.get('acme')!.adminInvite).toEqual({ state: 'INVITED', email: EMAIL, userId: 'sub-ada', by: 'onboarding', at: expect.any(String), executionArn: EXECUTION_ARN });
    expect(records.get('acme')!.currentStep).toBe('Invite tenant admin');
    expect(busEvents()).toEqual([['Tenant User Created', expect.objectContaining({ tenantId: 'acme', email: EMAIL, userRole: 'admin', by: 'onboarding' })]]);
  });

  it('a retry after a lost answer (UsernameExistsException): reads the user back, joins the admin group it never joined, records INVITED found', async () => {
    // The first AdminCreateUser made the user; its answer was lost and the retry is refused.
    cognito.on(AdminCreateUserCommand).rejects(exists());
    cognito.on(AdminGetUserCommand).resolves(userOf('acme'));
    cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [] });
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    const out = await handler(state());
    expect(out).toEqual({ state: 'INVITED', email: EMAIL, userId: 'sub-ada', found: true });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand).map((c) => c.args[0].input.GroupName)).toEqual(['tenant-admin']);
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(0);
    expect(records.get('acme')!.adminInvite).toMatchObject({ state: 'INVITED', userId: 'sub-ada', found: true });
    // Tenant User Created may never have gone out for it: sent now (at least once).
    expect(busEvents().map(([t]) => t)).toContain('Tenant User Created');
  });

  it('a retry that finds the user already this tenant\'s admin changes nothing in Cognito and records INVITED found', async () => {
    cognito.on(AdminCreateUserCommand).rejects(exists());
    cognito.on(AdminGetUserCommand).resolves(userOf('acme'));
    cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [{ GroupName: 'tenant-admin' }] });
    await expect(handler(state())).resolves.toEqual({ state: 'INVITED', email: EMAIL, userId: 'sub-ada', found: true });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(0);
  });

  it('a user of this tenant with another role is not raised: FAILED naming the role and the command', async () => {
    cognito.on(AdminCreateUserCommand).rejects(exists());
    cognito.on(AdminGetUserCommand).resolves(userOf('acme'));
    cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [{ GroupName: 'tenant-developer' }] });
    const out = await handler(state());
    expect(out.state).toBe('FAILED');
    expect(out.reason).toBe(`${EMAIL} is a user of tenant "acme" already, with role developer, not admin (user sub-ada): its role is not raised by the onboarding; tessera users set-role --tenant acme --user sub-ada --role admin`);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(0);
  });

  it('the address is another tenant\'s user: FAILED naming that tenant, the onboarding goes on (no throw), nothing changed in Cognito', async () => {
    cognito.on(AdminCreateUserCommand).rejects(exists());
    cognito.on(AdminGetUserCommand).resolves(userOf('globex'));
    // WHEN
    const out = await handler(state());
    // THEN
    expect(out).toEqual({ state: 'FAILED', email: EMAIL, reason: expect.any(String) });
    expect(out.reason).toBe(`${EMAIL} is already a user of tenant "globex", and a user belongs to one tenant: the first admin of tenant "acme" was not invited; once it is ACTIVE, invite another address: tessera users invite --tenant acme --email <address> --role admin`);
    expect(records.get('acme')!.adminInvite).toMatchObject({ state: 'FAILED', email: EMAIL, by: 'onboarding', reason: out.reason });
    expect(records.get('acme')!.status).toBe('PROVISIONING');
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(0);
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
  });

  it('no pool and no gateway.jwt (a local platform or a demo): SKIPPED saying neither is there, no Cognito call', async () => {
    delete process.env[ENV.userPoolId];
    const out = await handler(state());
    expect(out).toEqual({ state: 'SKIPPED', email: EMAIL, reason: 'the platform has no user pool (TESSERA_USER_POOL_ID is not set) and no external identity provider (gateway.jwt is not configured either): it makes no tenant users, as a local platform or a demo, which have no pool' });
    expect(cognito.calls()).toHaveLength(0);
  });

  it('no pool and gateway.jwt configured: SKIPPED naming the external identity provider and its issuer', async () => {
    delete process.env[ENV.userPoolId];
    const config = JSON.parse(process.env[ENV.config]!);
    process.env[ENV.config] = JSON.stringify({ ...config, gateway: { ...config.gateway, jwt: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks', audience: 'tessera' } } });
    const out = await handler(state());
    expect(out).toEqual({ state: 'SKIPPED', email: EMAIL, reason: 'the platform has no user pool (TESSERA_USER_POOL_ID is not set): it uses an external identity provider (gateway.jwt, issuer https://idp.example.com), whose users are managed there, not by Tessera' });
    expect(cognito.calls()).toHaveLength(0);
  });

  it('external IdP with inviteAdmin: true (an execution started outside the admin API): FAILED, no Cognito call, no throw', async () => {
    delete process.env[ENV.userPoolId];
    records.set('acme', leased('onboard', { inviteAdmin: true }));
    const out = await handler(state());
    expect(out.state).toBe('FAILED');
    expect(out.reason).toMatch(/^inviteAdmin is true, but the platform has no user pool/);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('inviteAdmin: false: SKIPPED, no Cognito call, the way to invite named', async () => {
    records.set('acme', leased('onboard', { inviteAdmin: false }));
    const out = await handler(state());
    expect(out).toEqual({ state: 'SKIPPED', email: EMAIL, reason: `inviteAdmin is false in the onboarding request: no user was invited; once the tenant is ACTIVE, tessera users invite --tenant acme --email ${EMAIL} --role admin` });
    expect(cognito.calls()).toHaveLength(0);
  });

  it('recorded INVITED already (the Task run again, a retried onboarding): no Cognito call, no event', async () => {
    const invited = { state: 'INVITED' as const, email: EMAIL, userId: 'sub-ada', by: 'onboarding', at: '2026-12-01T00:00:00.000Z' };
    records.set('acme', leased('onboard', { adminInvite: invited }));
    await expect(handler(state())).resolves.toEqual({ state: 'INVITED', email: EMAIL, userId: 'sub-ada' });
    expect(cognito.calls()).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
  });

  it('Cognito throttling is thrown under its own name, which the state machine retries; nothing recorded', async () => {
    cognito.on(AdminCreateUserCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $fault: 'client' }));
    const error = await handler(state()).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'TooManyRequestsException', message: 'Cognito AdminCreateUser failed (TooManyRequestsException: Rate exceeded)' });
    expect(RETRYABLE_ERRORS).toContain((error as Error).name);
    expect(records.get('acme')!.adminInvite).toBeUndefined();
  });

  it('a broken connection (Node\'s Error, code ECONNRESET: a name no Retry lists) is thrown as ServiceUnavailable, which it retries; nothing recorded', async () => {
    cognito.on(AdminCreateUserCommand).rejects(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const error = await handler(state()).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ServiceUnavailable', message: 'Cognito AdminCreateUser failed (Error: read ECONNRESET)' });
    expect(RETRYABLE_ERRORS).toContain((error as Error).name);
    expect(records.get('acme')!.adminInvite).toBeUndefined();
  });

  it('a refusal (AccessDenied) is recorded FAILED with Cognito\'s words, not thrown', async () => {
    cognito.on(AdminCreateUserCommand).rejects(Object.assign(new Error('not authorized to perform: cognito-idp:AdminCreateUser'), { name: 'AccessDeniedException', $fault: 'client' }));
    const out = await handler(state());
    expect(out).toMatchObject({ state: 'FAILED', reason: 'Cognito AdminCreateUser failed (AccessDeniedException: not authorized to perform: cognito-idp:AdminCreateUser); the first admin was not invited' });
  });

  it('run by the Catch with the error (retries ran out): records FAILED with that error and the command, calls nothing', async () => {
    const inviteError = { Error: 'TooManyRequestsException', Cause: JSON.stringify({ errorType: 'TooManyRequestsException', errorMessage: 'Cognito AdminCreateUser failed (TooManyRequestsException: Rate exceeded)', trace: [] }) };
    // As the definition runs it (*Record invite failure*, its state named in the payload)
    const out = await handler(state('acme', { inviteError, stateName: 'Record invite failure' }));
    // The registry's currentStep (tenants show and list) is that state, not Invite tenant admin
    expect(records.get('acme')!.currentStep).toBe('Record invite failure');
    expect(out).toEqual({ state: 'FAILED', email: EMAIL, reason: `the invitation of ${EMAIL} failed (TooManyRequestsException: Cognito AdminCreateUser failed (TooManyRequestsException: Rate exceeded)); the onboarding went on without it: once the tenant is ACTIVE, tessera users invite --tenant acme --email ${EMAIL} --role admin` });
    expect(cognito.calls()).toHaveLength(0);
  });

  it('EventBridge refusing Tenant User Created keeps the user: INVITED, with the event\'s error recorded', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'sub-ada', Attributes: [{ Name: 'email', Value: EMAIL }] } });
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'denied' }] });
    const out = await handler(state());
    expect(out.state).toBe('INVITED');
    expect(records.get('acme')!.adminInvite!.eventError).toBe('AccessDeniedException: EventBridge rejected "Tenant User Created": AccessDeniedException denied');
  });

  it('writes nothing once the execution lost the lease (TenantBusy for the state machine)', async () => {
    records.set('acme', leased('onboard', {}, 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:other'));
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'sub-ada' } });
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(cognito.calls()).toHaveLength(0);
  });
});
