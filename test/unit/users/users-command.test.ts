import { CloudFormationClient, DescribeStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminDeleteUserCommand, AdminDisableUserCommand, AdminGetUserCommand, AdminListGroupsForUserCommand, AdminRemoveUserFromGroupCommand,
  CognitoIdentityProviderClient, InitiateAuthCommand, ListUsersCommand, RespondToAuthChallengeCommand, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import type { UserStatusType } from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../support/strict-mock.js';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { AdminApiError, type AdminClient } from '../../../lib/cli/admin-client.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { loginCommand, platformRegion, usersCommand } from '../../../lib/cli/users-command.js';
import { regionOfApiUrl } from '../../../lib/cli/users/admin-users.js';
import { PLATFORM_STACK_NAME, regionOfUserPool } from '../../../lib/cli/users/platform-outputs.js';
import { checkTenantServed } from '../../../lib/cli/users/tenant-check.js';
import { STACK_IDS } from '../../../lib/tessera-app.js';
import { startAdminApiFront, type AdminApiFront } from '../../integration/support/admin-api-front.js';
import { records, registryMock } from '../lifecycle/registry-mock.js';
import { setLifecycleEnv, tenant } from '../lifecycle/support.js';
import { FakeTerminal, fakeJwt, passwordVerifier, runCli, useJsbnModPow, useNativeModPow } from './support.js';

// GIVEN the CLI in-process, calling the real admin API handler (lambdas/admin/admin-api.ts) behind a
// loopback front shaped like API Gateway's proxy integration (IAM caller OPERATOR); the registry in
// memory; Cognito, EventBridge, DynamoDB (the token revocations) and CloudFormation (the platform
// stack's outputs, for the login line) mocked at the AWS SDK.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const cloudFormation = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const eventBridge = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const dynamodb = mockClient(DynamoDBDocumentClient);
const { handler } = await import('../../../lambdas/admin/admin-api.js');
const OPERATOR = 'arn:aws:sts::222222222222:assumed-role/TesseraPlatformAdmin/ops';
const POOL = 'eu-west-1_Pool123';
const KEYS_TABLE = 'tessera-gateway-api-keys';
const attrs = (email: string, tenant: string) => [{ Name: 'sub', Value: `sub-${email}` }, { Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }, { Name: 'custom:tenant_id', Value: tenant }];
const user = (email: string, tenant: string, status: UserStatusType = 'FORCE_CHANGE_PASSWORD') => ({ Username: `sub-${email}`, Attributes: attrs(email, tenant), UserStatus: status, Enabled: true, UserCreateDate: new Date('2026-11-30T12:00:00Z') });
const failure = (name: string, message: string) => Object.assign(new Error(message), { name });
const stackOutputs = (outputs: Record<string, string>) => ({ Stacks: [{ StackName: 'TesseraPlatform', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' as const, Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] });
const sent = () => eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);
/** The Cognito actions called, in order. */
const cognitoCalls = () => cognito.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));
let front: AdminApiFront;

beforeAll(async () => {
  front = await startAdminApiFront(handler, OPERATOR);
});
afterAll(async () => front?.close());

beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, { TESSERA_API_URL: front.url, [ENV.userPoolId]: POOL, [ENV.apiKeysTable]: KEYS_TABLE });
  records.clear();
  records.set('acme', tenant({ status: 'ACTIVE' }));
  records.set('globex', tenant({ tenantId: 'globex', status: 'ACTIVE' }));
  cognito.reset();
  cloudFormation.reset();
  eventBridge.reset();
  dynamodb.reset();
  dynamodb.on(PutCommand).resolves({});
  dynamodb.on(TransactWriteCommand).resolves({});
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
  cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [{ GroupName: 'tenant-member' }] });
  cloudFormation.on(DescribeStacksCommand).resolves(stackOutputs({ TenantUserPoolId: POOL, TenantUserPoolClientId: 'gatewayclient1' }));
});

describe('tessera users invite (through the admin API)', () => {
  it('POST /admin/tenants/acme/users: the user with email, email_verified and custom:tenant_id, mailed by Cognito, in the member group by default; the event on the platform bus by the IAM caller; the login line from the stack outputs', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    const { out } = await runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']);
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input).toEqual({
      UserPoolId: POOL, Username: 'dev@acme.example.com', DesiredDeliveryMediums: ['EMAIL'],
      UserAttributes: [{ Name: 'email', Value: 'dev@acme.example.com' }, { Name: 'email_verified', Value: 'true' }, { Name: 'custom:tenant_id', Value: 'acme' }],
    });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'sub-dev@acme.example.com', GroupName: 'tenant-member' });
    const [event] = sent();
    expect({ ...event, Detail: JSON.parse(event.Detail!) }).toEqual({ EventBusName: 'tessera-lifecycle', Source: 'tessera.lifecycle', DetailType: 'Tenant User Created', Detail: expect.objectContaining({ tenantId: 'acme', email: 'dev@acme.example.com', userRole: 'member', by: OPERATOR }) });
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'TesseraPlatform' });
    expect(await cloudFormation.commandCalls(DescribeStacksCommand)[0].thisValue.config.region()).toBe('eu-west-1');
    expect(out.join('\n')).toBe([
      'invited dev@acme.example.com to tenant acme as member (user sub-dev@acme.example.com, status FORCE_CHANGE_PASSWORD)',
      'tenant acme is ACTIVE',
      'event "Tenant User Created" sent to the platform bus by the admin API',
      'Cognito emails them a temporary password, valid for 7 days. Send them this command for their first sign-in (it sets a new password and an authenticator app):',
      `  tessera login --email dev@acme.example.com --user-pool-id ${POOL} --client-id gatewayclient1`,
    ].join('\n'));
  });

  it('--json: the admin API\'s user with the sign-in hints; --role; placeholders naming the outputs when the stack cannot be read', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(failure('AccessDenied', 'not authorized to perform: cloudformation:DescribeStacks'));
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    const { out } = await runCli(usersCommand, ['--json', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com', '--role', 'developer']);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0].args[0].input.GroupName).toBe('tenant-developer');
    expect(JSON.parse(out[0])).toEqual({
      object: 'tenant.user', id: 'sub-dev@acme.example.com', email: 'dev@acme.example.com', tenantId: 'acme', role: 'developer', status: 'FORCE_CHANGE_PASSWORD', enabled: true, createdAt: '2026-11-30T12:00:00.000Z',
      resent: false, tenantStatus: 'ACTIVE', login: 'tessera login --email dev@acme.example.com --user-pool-id <TenantUserPoolId> --client-id <TenantUserPoolClientId>',
    });
  });

  it.each([
    [['--tenant', 'Acme'], /^--tenant "Acme" must be a lower-case DNS label/],
    [['--tenant', 'tenant'], /^--tenant "tenant" "tenant" is reserved/],
    [['--email', 'not-an-email'], /^--email "not-an-email" is not an email address/],
    [['--role', 'owner'], /^--role "owner" is not a role: use one of admin, developer, member, viewer/],
  ])('refuses %j before any call (exit 2)', async (args, message) => {
    const base: Record<string, string> = { '--tenant': 'acme', '--email': 'dev@acme.example.com' };
    for (let i = 0; i < args.length; i += 2) base[args[i]] = args[i + 1];
    const error = await runCli(usersCommand, ['users', 'invite', ...Object.entries(base).flat()]).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
    expect(cognito.calls()).toHaveLength(0);
  });

  it.each([
    [undefined, /^no admin API URL: pass --api-url or set TESSERA_API_URL/],
    ['ftp://admin', /^TESSERA_API_URL ftp:\/\/admin: expected an https URL/],
  ])('without an admin API (TESSERA_API_URL %s): exit 2 before any call', async (url, message) => {
    if (url) process.env.TESSERA_API_URL = url;
    else delete process.env.TESSERA_API_URL;
    const error = await runCli(usersCommand, ['users', 'list', '--tenant', 'acme']).catch((e) => e);
    expect([error.exitCode, cognito.calls().length]).toEqual([2, 0]);
    expect(error.message).toMatch(message);
  });

  it('a user who exists already in this tenant: says so with the --resend fix; in another tenant: says the address is taken, without naming the tenant (exit 1, no event)', async () => {
    cognito.on(AdminCreateUserCommand).rejects(failure('UsernameExistsException', 'An account with the given email already exists.'));
    cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', UserAttributes: attrs('dev@acme.example.com', 'acme'), UserStatus: 'CONFIRMED' as const });
    const same = await runCli(usersCommand, ['users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']).catch((e) => e);
    expect(same.message).toBe('--email: a user with email dev@acme.example.com exists already in tenant "acme": list the tenant\'s users to find it; a user who has not signed in yet can be sent a new invitation (tessera users invite --resend) (user_exists)');
    expect(same.exitCode).toBe(1);
    cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', UserAttributes: attrs('dev@acme.example.com', 'globex'), UserStatus: 'CONFIRMED' as const });
    const other = await runCli(usersCommand, ['users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']).catch((e) => e);
    expect(other.message).toMatch(/^--email: email dev@acme.example.com cannot be invited to tenant "acme": the address is already registered on the platform outside this tenant.* \(email_unavailable\)$/);
    expect(other.message).not.toContain('globex');
    expect(sent()).toHaveLength(0);
  });

  it('--resend: POST {email, resend: true}, MessageAction RESEND for this tenant\'s user who has not signed in; no role sent, no event', async () => {
    cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', UserAttributes: attrs('dev@acme.example.com', 'acme'), UserStatus: 'FORCE_CHANGE_PASSWORD' as const });
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    const { out } = await runCli(usersCommand, ['users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com', '--resend']);
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'dev@acme.example.com', DesiredDeliveryMediums: ['EMAIL'], MessageAction: 'RESEND' });
    expect(out[0]).toMatch(/^invitation resent to dev@acme.example.com to tenant acme as member \(user sub-1, status FORCE_CHANGE_PASSWORD\)\ntenant acme is ACTIVE\nCognito emails/);
    expect(sent()).toHaveLength(0);
  });

  it.each([
    [{ UserAttributes: attrs('dev@acme.example.com', 'globex'), UserStatus: 'FORCE_CHANGE_PASSWORD' as const }, /^--email: no user "dev@acme.example.com" in tenant "acme" \(user_not_found\)$/, 1],
    [{ UserAttributes: attrs('dev@acme.example.com', 'acme'), UserStatus: 'CONFIRMED' as const }, /^--email: dev@acme.example.com has signed in already \(status CONFIRMED\).* \(user_signed_in\)$/, 1],
    [undefined, /^--email: no user "dev@acme.example.com" in tenant "acme" \(user_not_found\)$/, 1],
  ])('--resend refuses %#', async (existing, message, exitCode) => {
    if (existing) cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', ...existing });
    else cognito.on(AdminGetUserCommand).rejects(failure('UserNotFoundException', 'User does not exist.'));
    const error = await runCli(usersCommand, ['users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com', '--resend']).catch((e) => e);
    expect([error.message, error.exitCode]).toEqual([expect.stringMatching(message), exitCode]);
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
  });

  it.each([
    ['an unknown tenant', () => undefined, 'nobody', /^--tenant "nobody" does not exist: onboard it first/],
    ['a suspended tenant', () => records.set('acme', tenant({ status: 'SUSPENDED' })), 'acme', /^tenant "acme" is SUSPENDED; the gateway serves ACTIVE and UPDATING tenants only/],
  ])('%s: refused after GET /admin/tenants/{id}, before any Cognito call (exit 1)', async (_what, arrange, tenantId, message) => {
    arrange();
    const error = await runCli(usersCommand, ['users', 'invite', '--tenant', tenantId, '--email', 'dev@acme.example.com']).catch((e) => e);
    expect([error.exitCode, cognito.calls().length]).toEqual([1, 0]);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['Cognito refusing the admin API\'s role', () => cognito.on(AdminCreateUserCommand).rejects(failure('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/x is not authorized to perform: cognito-idp:AdminCreateUser on resource')),
      /^Cognito AdminCreateUser failed \(AccessDeniedException: User: .* cognito-idp:AdminCreateUser on resource\) \(cognito_error\)$/],
    ['a platform without a pool (and no gateway.jwt)', () => delete process.env[ENV.userPoolId], /^the platform has no user pool .* \(no_user_pool\)$/],
  ])('%s: the admin API\'s answer in one line (exit 1)', async (_what, arrange, message) => {
    arrange();
    const error = await runCli(usersCommand, ['users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect([error.message, error.exitCode]).toEqual([expect.stringMatching(message), 1]);
  });
});

describe('the tenant check through the admin API', () => {
  const api = (answer: () => unknown) => ({ call: async () => answer() }) as unknown as AdminClient;
  it('passes an ACTIVE or UPDATING tenant', async () => {
    for (const status of ['ACTIVE', 'UPDATING']) await expect(checkTenantServed(api(() => ({ tenantId: 'acme', status })), 'acme', 'https://admin')).resolves.toMatchObject({ status });
  });
  it.each([
    [() => { throw new AdminApiError(404, 'tenant "acme" does not exist', 'tenant_not_found'); }, /^--tenant "acme" does not exist: onboard it first/],
    [() => ({ tenantId: 'acme', status: 'SUSPENDED' }), /^tenant "acme" is SUSPENDED; the gateway serves ACTIVE and UPDATING tenants only/],
    [() => ({ tenantId: 'acme', status: 'PROVISIONING' }), /is PROVISIONING; .* invite users once it is ACTIVE \(tessera tenants watch acme\)/],
    [() => { throw new AdminApiError(0, 'cannot reach the admin API at https://admin: fetch failed'); }, /^the admin API at https:\/\/admin cannot confirm tenant "acme" .* fix --api-url/],
  ])('refuses %#', async (answer, message) => {
    await expect(checkTenantServed(api(answer), 'acme', 'https://admin')).rejects.toThrow(message);
  });
});

describe('tessera users list', () => {
  it('GET /admin/tenants/acme/users: the pool paged through without a Filter (custom attributes are not searchable), the tenant\'s users kept; --json prints them sorted by email', async () => {
    cognito.on(ListUsersCommand).resolvesOnce({ Users: [user('b@acme.example.com', 'acme', 'CONFIRMED'), user('x@globex.example.com', 'globex')], PaginationToken: 'p2' })
      .resolvesOnce({ Users: [user('a@acme.example.com', 'acme')] });
    const { out } = await runCli(usersCommand, ['--json', 'users', 'list', '--tenant', 'acme']);
    expect(cognito.commandCalls(ListUsersCommand).map((c) => c.args[0].input)).toEqual([
      { UserPoolId: POOL, Limit: 60, PaginationToken: undefined, Filter: undefined },
      { UserPoolId: POOL, Limit: 60, PaginationToken: 'p2', Filter: undefined },
    ]);
    expect(JSON.parse(out[0]).map((u: { email: string; status: string }) => [u.email, u.status])).toEqual([['a@acme.example.com', 'FORCE_CHANGE_PASSWORD'], ['b@acme.example.com', 'CONFIRMED']]);
  });

  it('prints a table, narrows by --email-prefix through Cognito (the emailPrefix query parameter), and says when there are none', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [user('a@acme.example.com', 'acme')] });
    const { out } = await runCli(usersCommand, ['users', 'list', '--tenant', 'acme', '--email-prefix', 'a"b']);
    expect(cognito.commandCalls(ListUsersCommand)[0].args[0].input.Filter).toBe('email ^= "a\\"b"');
    expect(out[0]).toMatch(/^EMAIL\s+ROLE\s+STATUS\s+ENABLED\s+CREATED AT\s+ID\na@acme.example.com\s+member\s+FORCE_CHANGE_PASSWORD\s+true\s+2026-11-30T12:00:00.000Z\s+sub-a@acme.example.com$/);
    const none = await runCli(usersCommand, ['users', 'list', '--tenant', 'globex']);
    expect(none.out[0]).toBe('no users of tenant globex (tessera users invite --tenant globex --email <address>)');
    const noneWithPrefix = await runCli(usersCommand, ['users', 'list', '--tenant', 'globex', '--email-prefix', 'ops']);
    expect(noneWithPrefix.out[0]).toBe('no users of tenant globex with an email starting with "ops" (tessera users invite --tenant globex --email <address>)');
  });

  it('an unknown tenant: one line naming --tenant (exit 1), no Cognito call', async () => {
    const error = await runCli(usersCommand, ['users', 'list', '--tenant', 'nobody']).catch((e) => e);
    expect([error.message, error.exitCode, cognito.calls().length]).toEqual(['--tenant: tenant "nobody" does not exist (tenant_not_found)', 1, 0]);
  });
});

describe('tessera users disable | set-role | remove', () => {
  const got = (tenant: string) => ({ Username: 'sub-dev', UserAttributes: attrs('dev@acme.example.com', tenant), UserStatus: 'CONFIRMED' as const, Enabled: true, UserCreateDate: new Date('2026-11-30T12:00:00Z') });

  it('disable: disables and signs out, prints the ID-token window, the admin API emits Tenant User Disabled and records the revocation before changing Cognito', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    const { out } = await runCli(usersCommand, ['users', 'disable', '--tenant', 'acme', '--user', 'sub-dev']);
    expect(out[0]).toBe([
      'disabled dev@acme.example.com (user sub-dev) of tenant acme and signed them out: no new sign-in, their refresh tokens stop; the gateway refuses the ID tokens issued before within 60 s (Cognito cannot revoke them; the admin API records the change in the keys table)',
      'event "Tenant User Disabled" sent to the platform bus by the admin API',
    ].join('\n'));
    expect(cognitoCalls()).toEqual(['AdminGetUser', 'AdminUserGlobalSignOut', 'AdminDisableUser', 'AdminListGroupsForUser']);
    expect(sent().map((e) => [e.EventBusName, e.DetailType, JSON.parse(e.Detail!).by])).toEqual([['tessera-lifecycle', 'Tenant User Disabled', OPERATOR]]);
    // One transaction: the registry check (not OFFBOARDING or OFFBOARDED: user-token-revocations.ts) and the Put.
    const [check, put] = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(check!.ConditionCheck).toMatchObject({ Key: { tenantId: 'acme' }, ExpressionAttributeValues: { ':gone': 'OFFBOARDED', ':going': 'OFFBOARDING' } });
    expect(put!.Put).toMatchObject({ TableName: KEYS_TABLE, Item: { tenantId: 'acme', keyHash: 'user#sub-dev@acme.example.com' } }); // the user's sub attribute (the JWT's sub)
  });

  it('set-role --json with --user as an email (URL-encoded in the path): the user with its new role; the event names the previous one', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    const { out } = await runCli(usersCommand, ['--json', 'users', 'set-role', '--tenant', 'acme', '--user', 'dev+ops@acme.example.com', '--role', 'developer']);
    expect(cognito.commandCalls(AdminGetUserCommand)[0].args[0].input.Username).toBe('dev+ops@acme.example.com');
    expect(JSON.parse(out[0])).toMatchObject({ id: 'sub-dev', role: 'developer', tenantId: 'acme' });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0].args[0].input.GroupName).toBe('tenant-developer');
    expect(cognito.commandCalls(AdminRemoveUserFromGroupCommand)[0].args[0].input.GroupName).toBe('tenant-member');
    expect(JSON.parse(sent()[0].Detail!)).toMatchObject({ role: 'developer', previousRole: 'member' });
  });

  it('remove: deletes the user, emits Tenant User Deleted; --json says deleted', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    const { out } = await runCli(usersCommand, ['users', 'remove', '--tenant', 'acme', '--user', 'sub-dev']);
    expect(out[0]).toMatch(/^removed dev@acme.example.com \(user sub-dev, role member\) from tenant acme; the gateway refuses/);
    expect(cognito.commandCalls(AdminDeleteUserCommand)[0].args[0].input.Username).toBe('sub-dev');
    expect(sent().map((e) => e.DetailType)).toEqual(['Tenant User Deleted']);
    const json = await runCli(usersCommand, ['--json', 'users', 'remove', '--tenant', 'acme', '--user', 'sub-dev']);
    expect(JSON.parse(json.out[0])).toMatchObject({ id: 'sub-dev', deleted: true });
  });

  it.each([['disable'], ['set-role', '--role', 'admin'], ['remove']])('%s on another tenant\'s user: exit 1 naming --user, nothing changed, no event', async (command, ...extra) => {
    cognito.on(AdminGetUserCommand).resolves(got('globex'));
    const error = await runCli(usersCommand, ['users', command, '--tenant', 'acme', '--user', 'sub-dev', ...extra]).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect([error.message, error.exitCode]).toEqual(['--user: no user "sub-dev" in tenant "acme" (user_not_found)', 1]);
    expect(cognitoCalls()).toEqual(['AdminGetUser']);
    expect(sent()).toHaveLength(0);
    expect(dynamodb.commandCalls(PutCommand)).toHaveLength(0);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('a --user Cognito cannot take as a username: the admin API\'s 400 naming --user (exit 2)', async () => {
    const error = await runCli(usersCommand, ['users', 'disable', '--tenant', 'acme', '--user', 'two words']).catch((e) => e);
    expect([error.message, error.exitCode]).toEqual([expect.stringMatching(/^--user: userId "two words" is not a user id .* \(invalid_user_id\)$/), 2]);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('set-role refuses an unknown --role before any call (exit 2)', async () => {
    const error = await runCli(usersCommand, ['users', 'set-role', '--tenant', 'acme', '--user', 'sub-dev', '--role', 'root']).catch((e) => e);
    expect([error.exitCode, cognito.calls().length]).toEqual([2, 0]);
    expect(error.message).toMatch(/^--role "root" is not a role/);
  });

  it('a bus that refuses the event: exit 1 with the admin API\'s answer; the change was made (the event is the admin API\'s to send)', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    eventBridge.on(PutEventsCommand).rejects(failure('ResourceNotFoundException', 'Event bus tessera-lifecycle does not exist.'));
    const error = await runCli(usersCommand, ['users', 'disable', '--tenant', 'acme', '--user', 'sub-dev']).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe('the change was made, but its "Tenant User Disabled" event did not reach the platform bus tessera-lifecycle (EventBridge PutEvents: ResourceNotFoundException: Event bus tessera-lifecycle does not exist.): check the admin API\'s TESSERA_EVENT_BUS and its events:PutEvents permission (event_not_sent)');
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(1);
  });
});

describe('tessera login (command)', () => {
  // Its SRP at native speed: jsbn's own arithmetic and the native one's agreement are sign-in.test.ts's first test.
  beforeAll(useNativeModPow);
  afterAll(() => useJsbnModPow());
  const idToken = fakeJwt({ aud: 'gatewayclient1', 'custom:tenant_id': 'acme', email: 'dev@acme.example.com', exp: 2_000_000_000 });
  beforeEach(() => {
    cognito.on(InitiateAuthCommand).resolves(passwordVerifier());
    cognito.on(RespondToAuthChallengeCommand).resolves({ AuthenticationResult: { IdToken: idToken, AccessToken: fakeJwt({}), RefreshToken: 'r', ExpiresIn: 3600, TokenType: 'Bearer' } });
  });

  it('prints only the ID token on stdout, the note on stderr; the pool region from the pool id', async () => {
    const terminal = new FakeTerminal(false, [], ['pw-123456789012!']);
    const { out } = await runCli(loginCommand, ['login', '--email', 'dev@acme.example.com', '--user-pool-id', POOL, '--client-id', 'gatewayclient1', '--password-stdin'], terminal);
    expect(out).toEqual([idToken]);
    expect(terminal.told).toEqual(['signed in as dev@acme.example.com (tenant acme); the ID token below is your API key for the inference API until 2033-05-18T03:33:20.000Z']);
    expect(await cognito.commandCalls(InitiateAuthCommand)[0].thisValue.config.region()).toBe('eu-west-1');
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  it('--json prints every token with its expiry; the ids from the stack outputs', async () => {
    const { out } = await runCli(loginCommand, ['--json', '--region', 'eu-west-1', 'login', '--email', 'dev@acme.example.com', '--password-stdin'], new FakeTerminal(false, [], ['pw']));
    expect(JSON.parse(out[0])).toEqual({ idToken, accessToken: expect.any(String), refreshToken: 'r', tokenType: 'Bearer', expiresIn: 3600, expiresAt: '2033-05-18T03:33:20.000Z', tenantId: 'acme', email: 'dev@acme.example.com' });
    expect(cognito.commandCalls(InitiateAuthCommand)[0].args[0].input.ClientId).toBe('gatewayclient1');
  });
});

describe('regions and names', () => {
  it('reads the region from an execute-api URL', () => {
    expect(regionOfApiUrl('https://abc123.execute-api.eu-west-1.amazonaws.com/prod')).toBe('eu-west-1');
    expect(regionOfApiUrl('http://127.0.0.1:8080/v1')).toBeUndefined();
  });
  it('reads the region from a pool id', () => {
    expect(regionOfUserPool('us-east-1_AbC123')).toBe('us-east-1');
    expect(regionOfUserPool('us-gov-west-1_AbC123')).toBe('us-gov-west-1');
    expect(regionOfUserPool('AbC123')).toBeUndefined();
  });
  it('takes --region, then --config\'s homeRegion, then AWS_REGION, then the default config', () => {
    expect(platformRegion('ap-south-1', undefined, { AWS_REGION: 'eu-west-1' })).toBe('ap-south-1');
    expect(platformRegion(undefined, undefined, { AWS_REGION: 'eu-west-1' })).toBe('eu-west-1');
    expect(platformRegion(undefined, undefined, {})).toBe('us-east-1');
    expect(() => platformRegion(undefined, '/nonexistent/tessera.config.yaml', {})).toThrow(/cannot read the config file: ENOENT[^]*fix the config file named above \(--config \/nonexistent\/tessera.config.yaml\)$/);
  });
  it('names the platform stack as the CDK app does', () => {
    expect(PLATFORM_STACK_NAME).toBe(STACK_IDS.platform);
  });
});
