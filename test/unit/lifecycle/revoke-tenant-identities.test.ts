import {
  AdminDisableUserCommand, AdminGetUserCommand, AdminListGroupsForUserCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient, ListUsersCommand, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { RETRYABLE_ERRORS } from '../../../lambdas/shared/errors.js';
import { records, registryMock } from './registry-mock.js';
import { leased, setLifecycleEnv, state } from './support.js';

// GIVEN an offboarding execution holding acme's lease; DynamoDB, Cognito and EventBridge mocked at the SDK.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const dynamodb = mockClient(DynamoDBDocumentClient);
const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const { handler, API_KEYS_TABLE_ENV } = await import('../../../lambdas/lifecycle/revoke-tenant-identities.js');

const TABLE = 'tessera-api-keys';
const POOL = 'us-east-1_Pool123';
const user = (email: string, tenant: string) => ({ Username: `sub-${email}`, Attributes: [{ Name: 'email', Value: email }, { Name: 'custom:tenant_id', Value: tenant }], Enabled: true, UserStatus: 'CONFIRMED' as const });
const keyItem = (hash: string) => ({ tenantId: 'acme', keyHash: hash });

beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, { [API_KEYS_TABLE_ENV]: TABLE, [ENV.userPoolId]: POOL });
  records.clear();
  records.set('acme', leased('offboard'));
  dynamodb.reset();
  cognito.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [{ GroupName: 'tenant-developer' }] });
});

describe('Revoke tenant identities (offboarding)', () => {
  it('deletes the tenant\'s key records and disables its enabled users, returning the counts', async () => {
    dynamodb.on(QueryCommand).resolvesOnce({ Items: [keyItem('a'.repeat(64)), keyItem('b'.repeat(64))] }).resolves({ Items: [] }); // deleteAll queries until a Query finds nothing
    dynamodb.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
    cognito.on(ListUsersCommand).resolves({ Users: [user('dev@acme.example.com', 'acme'), user('dev@globex.example.com', 'globex')] });
    // WHEN
    const out = await handler(state());
    // THEN
    expect(out).toEqual({ tenantId: 'acme', apiKeys: { deleted: 2 }, users: { disabled: 1 } });
    const query = dynamodb.commandCalls(QueryCommand)[0].args[0].input;
    expect([query.TableName, query.ExpressionAttributeValues]).toEqual([TABLE, { ':t': 'acme' }]);
    expect(dynamodb.commandCalls(BatchWriteCommand)[0].args[0].input.RequestItems![TABLE]).toHaveLength(2);
    expect(cognito.commandCalls(AdminDisableUserCommand).map((c) => c.args[0].input)).toEqual([{ UserPoolId: POOL, Username: 'sub-dev@acme.example.com' }]);
    expect(cognito.commandCalls(AdminUserGlobalSignOutCommand)).toHaveLength(1);
    const entry = events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect([entry.EventBusName, entry.DetailType, JSON.parse(entry.Detail!)]).toEqual(['tessera-lifecycle', 'Tenant User Disabled', expect.objectContaining({ tenantId: 'acme', by: 'offboarding', userRole: 'developer', enabled: false })]);
  });

  it('records what it revoked in the registry (offboarding.identities), keys first; a resumed run adds what it found and its execution', async () => {
    // GIVEN a first run whose Cognito listing is refused after the keys went
    dynamodb.on(QueryCommand).resolvesOnce({ Items: [keyItem('a'.repeat(64)), keyItem('b'.repeat(64))] }).resolves({ Items: [] });
    dynamodb.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
    cognito.on(ListUsersCommand).rejectsOnce(Object.assign(new Error('not authorized to perform: cognito-idp:ListUsers'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }))
      .resolves({ Users: [user('dev@acme.example.com', 'acme')] });
    await expect(handler(state())).rejects.toMatchObject({ name: 'CognitoCallError' });
    const first = records.get('acme')!.offboarding!.identities!;
    expect(first).toEqual({ apiKeys: { deleted: 2, checkedAt: expect.any(String) }, executionArns: [state().executionArn] });
    // WHEN the offboarding is resumed by another execution (tessera tenants retry), which holds the lease
    const resumed = `${state().executionArn}-retry`;
    records.set('acme', leased('offboard', { offboarding: records.get('acme')!.offboarding }, resumed));
    await expect(handler(state('acme', { executionArn: resumed }))).resolves.toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 1 } });
    // THEN the keys' total stays 2, the user is on record, both executions are named
    expect(records.get('acme')!.offboarding!.identities).toEqual({
      apiKeys: { deleted: 2, checkedAt: expect.any(String) }, users: { disabled: 1, checkedAt: expect.any(String) }, executionArns: [state().executionArn, resumed],
    });
    expect(records.get('acme')!.offboarding!.pendingUserEvents).toBeUndefined();
    // and a third run, which finds the user disabled (no longer listed), adds nothing
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await handler(state('acme', { executionArn: resumed }));
    expect(records.get('acme')!.offboarding!.identities).toMatchObject({ apiKeys: { deleted: 2 }, users: { disabled: 1 }, executionArns: [state().executionArn, resumed] });
  });

  it('a second run deletes and disables nothing (idempotent)', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    cognito.on(ListUsersCommand).resolves({ Users: [user('dev@globex.example.com', 'globex')] });
    await expect(handler(state())).resolves.toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 0 } });
    expect(dynamodb.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
  });

  it('no platform pool (external IdP, gateway.jwt): deletes the keys, skips the users and says where to disable them', async () => {
    delete process.env[ENV.userPoolId];
    const config = JSON.parse(process.env[ENV.config]!);
    process.env[ENV.config] = JSON.stringify({ ...config, gateway: { ...config.gateway, jwt: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks', audience: 'tessera' } } });
    dynamodb.on(QueryCommand).resolvesOnce({ Items: [keyItem('c'.repeat(64))] }).resolves({ Items: [] });
    dynamodb.on(BatchWriteCommand).resolves({});
    const out = await handler(state());
    expect(out).toEqual({ tenantId: 'acme', apiKeys: { deleted: 1 }, users: { skipped: 'the platform has no user pool (TESSERA_USER_POOL_ID is not set): it uses an external identity provider (gateway.jwt, issuer https://idp.example.com), whose users are managed there, not by Tessera: disable the tenant\'s users there' } });
    expect(cognito.calls()).toHaveLength(0);
  });

  it('no platform pool and no gateway.jwt (a local platform): deletes the keys and says there are no tenant users', async () => {
    delete process.env[ENV.userPoolId];
    dynamodb.on(QueryCommand).resolvesOnce({ Items: [keyItem('c'.repeat(64))] }).resolves({ Items: [] });
    dynamodb.on(BatchWriteCommand).resolves({});
    const out = await handler(state());
    expect(out.users).toEqual({ skipped: expect.stringMatching(/^the platform has no user pool \(TESSERA_USER_POOL_ID is not set\) and no external identity provider \(gateway\.jwt is not configured either\)/) });
    expect(records.get('acme')!.offboarding!.identities).toEqual({ apiKeys: { deleted: 1, checkedAt: expect.any(String) }, users: { skipped: out.users && 'skipped' in out.users ? out.users.skipped : '', checkedAt: expect.any(String) }, executionArns: [state().executionArn] });
    expect(cognito.calls()).toHaveLength(0);
  });

  it('fails naming the missing keys table, before any change', async () => {
    delete process.env[API_KEYS_TABLE_ENV];
    await expect(handler(state())).rejects.toThrow('environment variable TESSERA_API_KEYS_TABLE is not set');
    expect(dynamodb.calls()).toHaveLength(0);
    expect(cognito.calls()).toHaveLength(0);
  });

  it.each([
    ['a throttle', 'ListUsers', Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $fault: 'client', $metadata: { httpStatusCode: 429 } }), 'TooManyRequestsException'],
    ['a server fault', 'AdminDisableUser', Object.assign(new Error('Internal error'), { name: 'InternalErrorException', $fault: 'server', $metadata: { httpStatusCode: 500 } }), 'InternalErrorException'],
    ['a broken connection', 'AdminUserGlobalSignOut', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'ServiceUnavailable'],
  ])('a Cognito call that may succeed again (%s, %s) is thrown under a name its Retry matches (RETRYABLE_ERRORS), the call named', async (_what, call, error, name) => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    cognito.on(ListUsersCommand).resolves({ Users: [user('dev@acme.example.com', 'acme')] });
    const command = { ListUsers: ListUsersCommand, AdminDisableUser: AdminDisableUserCommand, AdminUserGlobalSignOut: AdminUserGlobalSignOutCommand }[call]!;
    cognito.on(command as typeof ListUsersCommand).rejects(error);
    // WHEN
    const thrown = await handler(state()).catch((e: Error) => e);
    // THEN
    expect(thrown).toMatchObject({ name, message: `Cognito ${call} failed (${error.name}: ${error.message})` });
    expect(RETRYABLE_ERRORS).toContain((thrown as Error).name);
  });

  it('a sign-out throttled on the first run: the retried run signs the user out, disables it and sends its event (before, it was disabled first and never listed again)', async () => {
    // GIVEN a pool that answers ListUsers from what was disabled so far
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    const disabledUsers = new Set<string>();
    cognito.on(ListUsersCommand).callsFake((input: { Filter?: string }) => {
      const users = [user('dev@acme.example.com', 'acme')].map((u) => ({ ...u, Enabled: !disabledUsers.has(u.Username) }));
      return { Users: input.Filter === 'status = "Enabled"' ? users.filter((u) => u.Enabled) : users };
    });
    cognito.on(AdminDisableUserCommand).callsFake((input: { Username: string }) => { disabledUsers.add(input.Username); return {}; });
    cognito.on(AdminUserGlobalSignOutCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $fault: 'client', $metadata: { httpStatusCode: 429 } }))
      .resolves({});
    // WHEN the first run fails on the throttle and the Retry runs the step again
    await expect(handler(state())).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    const retried = await handler(state());
    // THEN
    expect(retried).toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 1 } });
    expect(disabledUsers).toEqual(new Set(['sub-dev@acme.example.com']));
    expect(cognito.commandCalls(AdminUserGlobalSignOutCommand)).toHaveLength(2); // the throttled one and the retried run's
    const sent = events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!));
    expect(sent).toEqual([expect.objectContaining({ userId: 'sub-dev@acme.example.com', by: 'offboarding', enabled: false })]);
  });

  /** A pool of these users that answers ListUsers (the enabled filter), AdminGetUser and AdminDisableUser from what was disabled so far. */
  function statefulPool(users: ReturnType<typeof user>[]) {
    const disabledUsers = new Set<string>();
    const now = () => users.map((u) => ({ ...u, Enabled: !disabledUsers.has(u.Username) }));
    cognito.on(ListUsersCommand).callsFake((input: { Filter?: string }) => ({ Users: input.Filter === 'status = "Enabled"' ? now().filter((u) => u.Enabled) : now() }));
    cognito.on(AdminGetUserCommand).callsFake((input: { Username: string }) => {
      const found = now().find((u) => u.Username === input.Username);
      if (!found) throw Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      const { Attributes, ...rest } = found;
      return { ...rest, UserAttributes: Attributes };
    });
    cognito.on(AdminDisableUserCommand).callsFake((input: { Username: string }) => { disabledUsers.add(input.Username); return {}; });
    cognito.on(AdminUserGlobalSignOutCommand).resolves({});
    return disabledUsers;
  }
  const throttledEntry = { FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] };
  const sentUserIds = (from = 0) => events.commandCalls(PutEventsCommand).slice(from).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!).userId);

  it('a PutEvents that fails after the user was disabled: the user is on record (offboarding.pendingUserEvents), and the retried run sends its event once and clears it (before, the event was lost)', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    const disabledUsers = statefulPool([user('dev@acme.example.com', 'acme')]);
    events.on(PutEventsCommand).resolvesOnce(throttledEntry).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    // WHEN the first run fails on the event (a retryable name) after AdminDisableUser
    await expect(handler(state())).rejects.toMatchObject({ name: 'ThrottlingException' });
    // THEN the user is disabled, its event owed on record
    expect(disabledUsers).toEqual(new Set(['sub-dev@acme.example.com']));
    expect(records.get('acme')!.offboarding?.pendingUserEvents).toEqual([{ userId: 'sub-dev@acme.example.com', intendedAt: expect.any(String) }]);
    // WHEN the Retry runs the step again
    const tried = events.commandCalls(PutEventsCommand).length;
    const retried = await handler(state());
    // THEN exactly one event for that user, disabled once, and the record ends clean
    expect(sentUserIds(tried)).toEqual(['sub-dev@acme.example.com']);
    expect(JSON.parse(events.commandCalls(PutEventsCommand)[tried].args[0].input.Entries![0].Detail!)).toMatchObject({ tenantId: 'acme', email: 'dev@acme.example.com', userRole: 'developer', enabled: false, by: 'offboarding' });
    expect(retried).toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 1 } });
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(1);
    expect(records.get('acme')!.offboarding?.pendingUserEvents).toBeUndefined();
    // AND a third run sends nothing
    const after = events.commandCalls(PutEventsCommand).length;
    await expect(handler(state())).resolves.toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 0 } });
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(after);
  });

  it('on record from an earlier run: a user deleted since is cleared without an event; one still enabled is disabled and announced by the listing, once', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    statefulPool([user('dev@acme.example.com', 'acme')]);
    const r = records.get('acme')!;
    records.set('acme', { ...r, offboarding: { liftedProtections: [], pendingUserEvents: [
      { userId: 'sub-gone@acme.example.com', intendedAt: '2026-12-04T00:00:00.000Z' },
      { userId: 'sub-dev@acme.example.com', intendedAt: '2026-12-04T00:00:00.000Z' },
    ] } });
    const out = await handler(state());
    expect(out).toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 1 } });
    expect(sentUserIds()).toEqual(['sub-dev@acme.example.com']);
    expect(records.get('acme')!.offboarding?.pendingUserEvents).toBeUndefined();
  });

  it.each([['AdminUserGlobalSignOut'], ['AdminDisableUser']])('a user deleted between ListUsers and %s (UserNotFoundException) counts as done, reported as gone, with no event', async (call) => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    cognito.on(ListUsersCommand).resolves({ Users: [user('gone@acme.example.com', 'acme'), user('dev@acme.example.com', 'acme')] });
    const command = (call === 'AdminDisableUser' ? AdminDisableUserCommand : AdminUserGlobalSignOutCommand) as typeof AdminDisableUserCommand;
    cognito.on(command, { Username: 'sub-gone@acme.example.com' }).rejects(Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    // WHEN
    const out = await handler(state());
    // THEN
    expect(out).toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 1, gone: 1 } });
    const sent = events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!).userId);
    expect(sent).toEqual(['sub-dev@acme.example.com']);
  });

  it('a Cognito refusal (AccessDenied) stays a CognitoCallError, which no Retry matches: the Catch records it at once', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    cognito.on(ListUsersCommand).rejects(Object.assign(new Error('not authorized to perform: cognito-idp:ListUsers'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const thrown = await handler(state()).catch((e: Error) => e);
    expect(thrown).toMatchObject({ name: 'CognitoCallError', message: 'Cognito ListUsers failed (AccessDeniedException: not authorized to perform: cognito-idp:ListUsers)' });
    expect(RETRYABLE_ERRORS).not.toContain((thrown as Error).name);
  });
});
