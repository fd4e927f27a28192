import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminGetUserCommand, AdminListGroupsForUserCommand, CognitoIdentityProviderClient, InitiateAuthCommand, ListUserPoolClientsCommand, ListUsersCommand, RespondToAuthChallengeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { UserStatusType } from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { AdminApiError, type AdminClient } from '../../../lib/cli/admin-client.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { loginCommand, platformRegion, usersCommand } from '../../../lib/cli/users-command.js';
import { PLATFORM_STACK_NAME, regionOfUserPool } from '../../../lib/cli/users/platform-outputs.js';
import { checkTenantServed } from '../../../lib/cli/users/tenant-check.js';
import { STACK_IDS } from '../../../lib/tessera-app.js';
import { FakeTerminal, fakeJwt, passwordVerifier, runCli } from './support.js';

const cognito = mockClient(CognitoIdentityProviderClient);
const cloudFormation = mockClient(CloudFormationClient);
const eventBridge = mockClient(EventBridgeClient);
const sts = mockClient(STSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const OPERATOR = 'arn:aws:sts::222222222222:assumed-role/TesseraPlatformAdmin/ops';
const POOL = 'eu-west-1_Pool123';
const attrs = (email: string, tenant: string) => [{ Name: 'sub', Value: `sub-${email}` }, { Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }, { Name: 'custom:tenant_id', Value: tenant }];
const user = (email: string, tenant: string, status: UserStatusType = 'FORCE_CHANGE_PASSWORD') => ({ Username: `sub-${email}`, Attributes: attrs(email, tenant), UserStatus: status, Enabled: true, UserCreateDate: new Date('2026-11-30T12:00:00Z') });
const failure = (name: string, message: string) => Object.assign(new Error(message), { name });

beforeEach(() => {
  cognito.reset();
  cloudFormation.reset();
  eventBridge.reset();
  sts.reset();
  dynamodb.reset();
  dynamodb.on(PutCommand).resolves({});
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: OPERATOR });
  cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [{ GroupName: 'tenant-member' }] });
  cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'TesseraPlatform', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'TenantUserPoolId', OutputValue: POOL }, { OutputKey: 'TenantUserPoolClientId', OutputValue: 'gatewayclient1' }] }] });
  delete process.env.TESSERA_API_URL;
});

describe('tessera users invite', () => {
  it('creates the user with email, email_verified and custom:tenant_id, mailed by Cognito, in the member group by default; the pool and client from the stack outputs; the event on the platform bus', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    const { out } = await runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'TesseraPlatform' });
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input).toEqual({
      UserPoolId: POOL, Username: 'dev@acme.example.com', DesiredDeliveryMediums: ['EMAIL'],
      UserAttributes: [{ Name: 'email', Value: 'dev@acme.example.com' }, { Name: 'email_verified', Value: 'true' }, { Name: 'custom:tenant_id', Value: 'acme' }],
    });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'sub-dev@acme.example.com', GroupName: 'tenant-member' });
    const [event] = eventBridge.commandCalls(PutEventsCommand)[0].args[0].input.Entries!;
    expect({ ...event, Detail: JSON.parse(event.Detail!) }).toEqual({ EventBusName: 'tessera-lifecycle', Source: 'tessera.lifecycle', DetailType: 'Tenant User Created', Detail: expect.objectContaining({ tenantId: 'acme', email: 'dev@acme.example.com', userRole: 'member', by: OPERATOR }) });
    expect(out.join('\n')).toBe([
      'invited dev@acme.example.com to tenant acme as member (user sub-dev@acme.example.com, status FORCE_CHANGE_PASSWORD)',
      'tenant not checked against the registry: no --api-url / TESSERA_API_URL',
      'event "Tenant User Created" sent to bus tessera-lifecycle',
      'Cognito emails them a temporary password, valid for 7 days. Send them this command for their first sign-in (it sets a new password and an authenticator app):',
      `  tessera login --email dev@acme.example.com --user-pool-id ${POOL} --client-id gatewayclient1`,
    ].join('\n'));
  });

  it('prints JSON with --json; takes --user-pool-id and finds the only app client when the stack has no client output', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(failure('ValidationError', 'Stack with id TesseraPlatform does not exist'));
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    cognito.on(ListUserPoolClientsCommand).resolves({ UserPoolClients: [{ ClientId: 'onlyclient', UserPoolId: POOL, ClientName: 'GatewayClient' }] });
    const { out } = await runCli(usersCommand, ['--json', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com', '--user-pool-id', POOL]);
    expect(JSON.parse(out[0])).toEqual({
      object: 'tenant.user', id: 'sub-dev@acme.example.com', email: 'dev@acme.example.com', tenantId: 'acme', role: 'member', status: 'FORCE_CHANGE_PASSWORD', enabled: true, createdAt: '2026-11-30T12:00:00.000Z',
      userPoolId: POOL, clientId: 'onlyclient', resent: false, tenantChecked: false, eventBus: 'tessera-lifecycle', login: `tessera login --email dev@acme.example.com --user-pool-id ${POOL} --client-id onlyclient`,
    });
  });

  it.each([
    [['--tenant', 'Acme'], /^--tenant "Acme" must be a lower-case DNS label/],
    [['--tenant', 'tenant'], /^--tenant "tenant" "tenant" is reserved/],
    [['--email', 'not-an-email'], /^--email "not-an-email" is not an email address/],
    [['--user-pool-id', 'pool'], /^--user-pool-id "pool" is not a user pool id/],
    [['--role', 'owner'], /^--role "owner" is not a role: use one of admin, developer, member, viewer/],
  ])('refuses %j before any AWS call (exit 2)', async (args, message) => {
    const base: Record<string, string> = { '--tenant': 'acme', '--email': 'dev@acme.example.com' };
    for (let i = 0; i < args.length; i += 2) base[args[i]] = args[i + 1];
    const error = await runCli(usersCommand, ['users', 'invite', ...Object.entries(base).flat()]).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('a user who exists already in this tenant: says so with the --resend fix; in another tenant: says the address is taken, without naming the tenant (exit 1, no event)', async () => {
    cognito.on(AdminCreateUserCommand).rejects(failure('UsernameExistsException', 'An account with the given email already exists.'));
    cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', UserAttributes: attrs('dev@acme.example.com', 'acme'), UserStatus: 'CONFIRMED' as const });
    const same = await runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']).catch((e) => e);
    expect(same.message).toBe('--email: a user with email dev@acme.example.com exists already in tenant "acme": list the tenant\'s users to find it; a user who has not signed in yet can be sent a new invitation (tessera users invite --resend)');
    expect(same.exitCode).toBe(1);
    cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', UserAttributes: attrs('dev@acme.example.com', 'globex'), UserStatus: 'CONFIRMED' as const });
    const other = await runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']).catch((e) => e);
    expect(other.message).toMatch(/^--email: email dev@acme.example.com cannot be invited to tenant "acme": the address is already registered on the platform outside this tenant/);
    expect(other.message).not.toContain('globex');
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('--resend: MessageAction RESEND for this tenant\'s user who has not signed in', async () => {
    cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', UserAttributes: attrs('dev@acme.example.com', 'acme'), UserStatus: 'FORCE_CHANGE_PASSWORD' as const });
    cognito.on(AdminCreateUserCommand).resolves({ User: user('dev@acme.example.com', 'acme') });
    const { out } = await runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com', '--resend']);
    expect(cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'dev@acme.example.com', DesiredDeliveryMediums: ['EMAIL'], MessageAction: 'RESEND' });
    expect(out[0]).toMatch(/^invitation resent to dev@acme.example.com to tenant acme as member/);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it.each([
    [{ UserAttributes: attrs('dev@acme.example.com', 'globex'), UserStatus: 'FORCE_CHANGE_PASSWORD' as const }, /^--email: no user "dev@acme.example.com" in tenant "acme"$/],
    [{ UserAttributes: attrs('dev@acme.example.com', 'acme'), UserStatus: 'CONFIRMED' as const }, /has signed in already \(status CONFIRMED\)/],
    [undefined, /^--email: no user "dev@acme.example.com" in tenant "acme"$/],
  ])('--resend refuses %#', async (existing, message) => {
    if (existing) cognito.on(AdminGetUserCommand).resolves({ Username: 'sub-1', ...existing });
    else cognito.on(AdminGetUserCommand).rejects(failure('UserNotFoundException', 'User does not exist.'));
    await expect(runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com', '--resend'])).rejects.toThrow(message);
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
  });

  it.each([
    ['no platform stack in the region', () => cloudFormation.on(DescribeStacksCommand).rejects(failure('ValidationError', 'Stack with id TesseraPlatform does not exist')), /^CloudFormation DescribeStacks: no stack TesseraPlatform in eu-west-1: deploy the platform .* or pass --user-pool-id$/],
    ['no credentials', () => cloudFormation.on(DescribeStacksCommand).rejects(failure('CredentialsProviderError', 'Could not load credentials from any providers')), /^CloudFormation DescribeStacks: no valid AWS credentials .* sign in to the platform account/],
    ['a platform with an external IdP', () => cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'TesseraPlatform', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] }), /has no TenantUserPoolId output: the platform uses an external identity provider/],
    ['a pool without custom:tenant_id', () => cognito.on(AdminCreateUserCommand).rejects(failure('InvalidParameterException', 'Attributes did not conform to the schema: Type for attribute {custom:tenant_id} could not be determined')), /is not the platform's tenant pool .* pass the TenantUserPoolId output as --user-pool-id/],
    ['a role without the permission', () => cognito.on(AdminCreateUserCommand).rejects(failure('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/x is not authorized to perform: cognito-idp:AdminCreateUser on resource')), /^Cognito AdminCreateUser: access denied \(cognito-idp:AdminCreateUser\)/],
  ])('%s', async (_what, arrange, message) => {
    arrange();
    const error = await runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com']).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toMatch(message);
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
  it('pages through ListUsers without a Filter (custom attributes are not searchable) and keeps the tenant\'s users', async () => {
    cognito.on(ListUsersCommand).resolvesOnce({ Users: [user('b@acme.example.com', 'acme', 'CONFIRMED'), user('x@globex.example.com', 'globex')], PaginationToken: 'p2' })
      .resolvesOnce({ Users: [user('a@acme.example.com', 'acme')] });
    const { out } = await runCli(usersCommand, ['--json', 'users', 'list', '--tenant', 'acme', '--user-pool-id', POOL]);
    expect(cognito.commandCalls(ListUsersCommand).map((c) => c.args[0].input)).toEqual([
      { UserPoolId: POOL, Limit: 60, PaginationToken: undefined, Filter: undefined },
      { UserPoolId: POOL, Limit: 60, PaginationToken: 'p2', Filter: undefined },
    ]);
    expect(JSON.parse(out[0]).map((u: { email: string; status: string }) => [u.email, u.status])).toEqual([['a@acme.example.com', 'FORCE_CHANGE_PASSWORD'], ['b@acme.example.com', 'CONFIRMED']]);
  });

  it('prints a table, narrows by --email-prefix through Cognito, and says when there are none', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [user('a@acme.example.com', 'acme')] });
    const { out } = await runCli(usersCommand, ['users', 'list', '--tenant', 'acme', '--user-pool-id', POOL, '--email-prefix', 'a"b']);
    expect(cognito.commandCalls(ListUsersCommand)[0].args[0].input.Filter).toBe('email ^= "a\\"b"');
    expect(out[0]).toMatch(/^EMAIL\s+ROLE\s+STATUS\s+ENABLED\s+CREATEDAT\s+ID\na@acme.example.com\s+member\s+FORCE_CHANGE_PASSWORD\s+true\s+2026-11-30T12:00:00.000Z\s+sub-a@acme.example.com$/);
    const none = await runCli(usersCommand, ['users', 'list', '--tenant', 'globex', '--user-pool-id', POOL]);
    expect(none.out[0]).toBe(`no users of tenant globex in user pool ${POOL}`);
  });
});

describe('tessera users disable | set-role | remove', () => {
  const got = (tenant: string) => ({ Username: 'sub-dev', UserAttributes: attrs('dev@acme.example.com', tenant), UserStatus: 'CONFIRMED' as const, Enabled: true, UserCreateDate: new Date('2026-11-30T12:00:00Z') });
  const sent = () => eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);

  it('disable: disables and signs out, prints the ID-token window, emits Tenant User Disabled on --event-bus', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    const { out } = await runCli(usersCommand, ['users', 'disable', '--tenant', 'acme', '--user', 'sub-dev', '--user-pool-id', POOL, '--event-bus', 'my-bus']);
    expect(out[0]).toBe([
      'disabled dev@acme.example.com (user sub-dev) of tenant acme and signed them out: no new sign-in, their refresh tokens stop; the gateway refuses the ID tokens issued before within 60 s (Cognito cannot revoke them; the keys table records the change)',
      'event "Tenant User Disabled" sent to bus my-bus',
    ].join('\n'));
    expect(sent().map((e) => [e.EventBusName, e.DetailType])).toEqual([['my-bus', 'Tenant User Disabled']]);
    // The revocation the authorizer reads, in the keys table, before Cognito was changed.
    const put = dynamodb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ TableName: 'tessera-gateway-api-keys', Item: { tenantId: 'acme', keyHash: 'user#sub-dev@acme.example.com' } }); // the user's sub attribute (the JWT's sub)
  });

  it('set-role --json: the user with its new role; the event names the previous one', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    const { out } = await runCli(usersCommand, ['--json', 'users', 'set-role', '--tenant', 'acme', '--user', 'dev@acme.example.com', '--role', 'developer', '--user-pool-id', POOL]);
    expect(JSON.parse(out[0])).toMatchObject({ id: 'sub-dev', role: 'developer', tenantId: 'acme' });
    expect(JSON.parse(sent()[0].Detail!)).toMatchObject({ role: 'developer', previousRole: 'member' });
  });

  it('remove: deletes the user, emits Tenant User Deleted on the stack\'s bus output', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'TesseraPlatform', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'TenantUserPoolId', OutputValue: POOL }, { OutputKey: 'LifecycleEventBusName', OutputValue: 'bus-from-stack' }] }] });
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    const { out } = await runCli(usersCommand, ['--region', 'eu-west-1', 'users', 'remove', '--tenant', 'acme', '--user', 'sub-dev']);
    expect(out[0]).toMatch(/^removed dev@acme.example.com \(user sub-dev, role member\) from tenant acme; /);
    expect(sent().map((e) => [e.EventBusName, e.DetailType])).toEqual([['bus-from-stack', 'Tenant User Deleted']]);
  });

  it.each([['disable'], ['set-role', '--role', 'admin'], ['remove']])('%s on another tenant\'s user: exit 1 naming --user, nothing changed, no event', async (command, ...extra) => {
    cognito.on(AdminGetUserCommand).resolves(got('globex'));
    const error = await runCli(usersCommand, ['users', command, '--tenant', 'acme', '--user', 'sub-dev', '--user-pool-id', POOL, ...extra]).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect([error.message, error.exitCode]).toEqual(['--user: no user "sub-dev" in tenant "acme"', 1]);
    expect(cognito.calls().map((c) => (c.args[0] as object).constructor.name)).toEqual(['AdminGetUserCommand']);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('set-role refuses an unknown --role before any AWS call (exit 2)', async () => {
    const error = await runCli(usersCommand, ['users', 'set-role', '--tenant', 'acme', '--user', 'sub-dev', '--role', 'root', '--user-pool-id', POOL]).catch((e) => e);
    expect([error.exitCode, cognito.calls().length]).toEqual([2, 0]);
  });

  it('a bus that refuses the event: exit 1, says the change was made and the event not sent', async () => {
    cognito.on(AdminGetUserCommand).resolves(got('acme'));
    eventBridge.on(PutEventsCommand).rejects(failure('ResourceNotFoundException', 'Event bus nope does not exist.'));
    const error = await runCli(usersCommand, ['users', 'disable', '--tenant', 'acme', '--user', 'sub-dev', '--user-pool-id', POOL, '--event-bus', 'nope']).catch((e) => e);
    expect(error.message).toBe('EventBridge PutEvents failed (ResourceNotFoundException: Event bus nope does not exist.): the change was made, but its "Tenant User Disabled" event did not reach bus nope: check --event-bus (the LifecycleEventBusName output)');
    expect(error.exitCode).toBe(1);
  });
});

describe('tessera login (command)', () => {
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
