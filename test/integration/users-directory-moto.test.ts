import {
  AdminGetUserCommand, AdminInitiateAuthCommand, AdminListGroupsForUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient, CreateGroupCommand,
  CreateUserPoolClientCommand, CreateUserPoolCommand, GetUserCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CognitoTenantUsers } from '../../lambdas/identity/cognito-tenant-users.js';
import { IdentityError } from '../../lambdas/identity/identity-error.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { emitLifecycleEvent } from '../../lambdas/shared/events.js';
import { ROLE_GROUPS, roleOfClaims } from '../../lib/identity/roles.js';
import { LIFECYCLE_EVENT_SOURCE, PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';
import { KEYS_TABLE_SCHEMA } from './support/keys-table.js';

// CognitoTenantUsers and the offboarding step against moto's cognito-idp, EventBridge (a rule
// delivering the platform bus's events to an SQS queue, read back here) and DynamoDB.
// What moto does and does not do here (moto 5, checked in this test or its source):
// - It supports every call the directory makes: AdminCreateUser (email usernames: Username = sub),
//   groups (CreateGroup, AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser),
//   AdminGetUser, ListUsers with a `status = "Enabled"` Filter, AdminDisableUser, AdminDeleteUser,
//   AdminUserGlobalSignOut (drops the user's access and refresh tokens, but only those issued to
//   a sign-in that named the user by the same username: see the disable test).
// - Like Cognito, it refuses a ListUsers Filter on custom:tenant_id (users-moto.test.ts shows it).
// - It sends no invitation mail (Cognito does, DesiredDeliveryMediums EMAIL); the temporary
//   password is set here with AdminSetUserPassword instead.
// - The pool below has MFA off so that AdminInitiateAuth returns tokens at once; the platform's
//   pool requires TOTP (users-moto.test.ts signs in through it).
// - ID tokens carry `cognito:groups` and `custom:tenant_id` as Cognito's do, signed with moto's key
//   (JWKS at <endpoint>/<pool>/.well-known/jwks.json).

let moto: MotoServer;
let pool: string;
let clientId: string;
let queueUrl: string;
const KEYS_TABLE = 'tessera-api-keys';
const REGISTRY = 'tessera-tenants';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:tessera-offboard:offboard-acme-1';
const PASSWORD = 'Tessera-moto-password-2026!';
const cognito = () => new CognitoIdentityProviderClient({});
const directory = () => new CognitoTenantUsers(cognito(), pool, emitLifecycleEvent, () => new Date('2026-12-01T09:00:00Z'));

/** Every event the platform bus delivered to the test queue since the last call. */
async function deliveredEvents(expected: number): Promise<Array<{ 'detail-type': string; source: string; detail: Record<string, unknown> }>> {
  const sqs = new SQSClient({});
  const found: Array<{ 'detail-type': string; source: string; detail: Record<string, unknown> }> = [];
  for (let i = 0; i < 20 && found.length < expected; i++) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    found.push(...(out.Messages ?? []).map((m) => JSON.parse(m.Body!)));
    if (found.length < expected) await new Promise((r) => setTimeout(r, 50));
  }
  // Nothing more than expected: one more look.
  const extra = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  found.push(...(extra.Messages ?? []).map((m) => JSON.parse(m.Body!)));
  return found;
}

async function refusal(p: Promise<unknown>): Promise<IdentityError> {
  const e: unknown = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(IdentityError);
  return e as IdentityError;
}

const signIn = (email: string) => cognito().send(new AdminInitiateAuthCommand({ UserPoolId: pool, ClientId: clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }));
const groupsOf = async (username: string) => ((await cognito().send(new AdminListGroupsForUserCommand({ UserPoolId: pool, Username: username }))).Groups ?? []).map((g) => g.GroupName).sort();

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  Object.assign(process.env, { [ENV.eventBus]: PLATFORM_EVENT_BUS_NAME, [ENV.registryTable]: REGISTRY, POWERTOOLS_TRACE_ENABLED: 'false', POWERTOOLS_METRICS_DISABLED: 'true' });
  // The pool as constructs/inference-api.ts declares it (email sign-in, immutable custom:tenant_id,
  // admin-created users only) but with MFA off, and its four role groups.
  pool = (await cognito().send(new CreateUserPoolCommand({
    PoolName: 'tessera-tenants', UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'], AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false, StringAttributeConstraints: { MinLength: '3', MaxLength: '24' } }],
  }))).UserPool!.Id!;
  for (const group of ROLE_GROUPS) await cognito().send(new CreateGroupCommand({ UserPoolId: pool, GroupName: group }));
  clientId = (await cognito().send(new CreateUserPoolClientCommand({ UserPoolId: pool, ClientName: 'GatewayClient', ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }))).UserPoolClient!.ClientId!;
  // The platform bus, and a rule that copies its lifecycle events to a queue the test reads.
  const events = new EventBridgeClient({});
  await events.send(new CreateEventBusCommand({ Name: PLATFORM_EVENT_BUS_NAME }));
  const sqs = new SQSClient({});
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'platform-bus-copy' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await events.send(new PutRuleCommand({ Name: 'all-lifecycle', EventBusName: PLATFORM_EVENT_BUS_NAME, EventPattern: JSON.stringify({ source: [LIFECYCLE_EVENT_SOURCE] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'all-lifecycle', EventBusName: PLATFORM_EVENT_BUS_NAME, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  // The keys table (partition key tenantId, sort key keyHash, as constructs/api-keys-table.ts) and the registry.
  const ddb = new DynamoDBClient({});
  await ddb.send(new CreateTableCommand({
    TableName: KEYS_TABLE, BillingMode: 'PAY_PER_REQUEST',
    ...KEYS_TABLE_SCHEMA,
  }));
  await ddb.send(new CreateTableCommand({ TableName: REGISTRY, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }] }));
}, 120_000);
afterAll(async () => moto?.stop());

describe('tenant users in moto\'s Cognito, events on moto\'s EventBridge', () => {
  let devId: string;

  it('invites users of two tenants into their role groups; each Tenant User Created reaches the platform bus in SBT\'s shape', async () => {
    const users = directory();
    const admin = await users.invite('acme', { email: 'admin@acme.example.com', role: 'admin' }, 'arn:aws:iam::123456789012:role/ops');
    const dev = await users.invite('acme', { email: 'dev@acme.example.com', role: 'developer' }, 'arn:aws:iam::123456789012:role/ops');
    await users.invite('globex', { email: 'dev@globex.example.com', role: 'member' }, 'arn:aws:iam::123456789012:role/ops');
    devId = dev.id;
    expect(admin).toMatchObject({ object: 'tenant.user', id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: 'admin@acme.example.com', tenantId: 'acme', role: 'admin', status: 'FORCE_CHANGE_PASSWORD', enabled: true });
    expect(await groupsOf(dev.id)).toEqual(['tenant-developer']);
    const got = await cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: 'dev@acme.example.com' }));
    expect(Object.fromEntries(got.UserAttributes!.map((a) => [a.Name, a.Value]))).toMatchObject({ email: 'dev@acme.example.com', email_verified: 'true', 'custom:tenant_id': 'acme' });

    const events = await deliveredEvents(3);
    expect(events).toHaveLength(3);
    expect(events.map((e) => [e.source, e['detail-type'], e.detail.tenantId, e.detail.email, e.detail.userRole])).toEqual([
      ['tessera.lifecycle', 'Tenant User Created', 'acme', 'admin@acme.example.com', 'admin'],
      ['tessera.lifecycle', 'Tenant User Created', 'acme', 'dev@acme.example.com', 'developer'],
      ['tessera.lifecycle', 'Tenant User Created', 'globex', 'dev@globex.example.com', 'member'],
    ]);
    expect(events[1].detail).toEqual({
      tenantId: 'acme', userName: dev.id, userId: dev.id, email: 'dev@acme.example.com', userRole: 'developer', role: 'developer', enabled: true,
      by: 'arn:aws:iam::123456789012:role/ops', at: '2026-12-01T09:00:00.000Z',
    });
  });

  it('lists each tenant its own users with their roles', async () => {
    const users = directory();
    expect((await users.list('acme')).map((u) => [u.email, u.role])).toEqual([['admin@acme.example.com', 'admin'], ['dev@acme.example.com', 'developer']]);
    expect((await users.list('globex')).map((u) => [u.email, u.role])).toEqual([['dev@globex.example.com', 'member']]);
    expect(await users.list('initech')).toEqual([]);
  });

  it('refuses an address again (409 user_exists) and another tenant\'s address without naming the tenant (409 email_unavailable); nothing created', async () => {
    const users = directory();
    const again = await refusal(users.invite('acme', { email: 'dev@acme.example.com', role: 'member' }, 'x'));
    expect([again.status, again.code]).toEqual([409, 'user_exists']);
    const other = await refusal(users.invite('acme', { email: 'dev@globex.example.com', role: 'admin' }, 'x'));
    expect([other.status, other.code]).toEqual([409, 'email_unavailable']);
    expect(other.message).not.toContain('globex"');
    expect(await groupsOf((await cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: 'dev@globex.example.com' }))).Username!)).toEqual(['tenant-member']);
    expect(await deliveredEvents(0)).toEqual([]);
  });

  it('another tenant cannot disable, re-role or remove acme\'s user: 404, and the user is unchanged', async () => {
    const globex = directory();
    for (const act of [() => globex.disable('globex', devId, 'x'), () => globex.setRole('globex', devId, 'admin', 'x'), () => globex.remove('globex', devId, 'x')]) {
      const e = await refusal(act());
      expect([e.status, e.code]).toEqual([404, 'user_not_found']);
    }
    const user = await cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: devId }));
    expect(user.Enabled).toBe(true);
    expect(await groupsOf(devId)).toEqual(['tenant-developer']);
    expect(await deliveredEvents(0)).toEqual([]);
  });

  it('set-role moves the user to the new group only; the next ID token carries it and roleOfClaims reads it', async () => {
    const changed = await directory().setRole('acme', devId, 'viewer', 'tenant-user:admin');
    expect(changed.role).toBe('viewer');
    expect(await groupsOf(devId)).toEqual(['tenant-viewer']);
    const [event] = await deliveredEvents(1);
    expect([event['detail-type'], event.detail.role, event.detail.previousRole]).toEqual(['Tenant User Role Changed', 'viewer', 'developer']);
    await cognito().send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: devId, Password: PASSWORD, Permanent: true }));
    const tokens = (await signIn('dev@acme.example.com')).AuthenticationResult!;
    const claims = JSON.parse(Buffer.from(tokens.IdToken!.split('.')[1], 'base64url').toString());
    expect([claims['custom:tenant_id'], roleOfClaims(claims)]).toEqual(['acme', 'viewer']);
  });

  it('disable: no new sign-in, refresh and access tokens stop; an ID token issued before still verifies until it expires (the documented window)', async () => {
    // Signed in by the user's id, not the email: moto keys its refresh tokens by the USERNAME given
    // at sign-in and AdminUserGlobalSignOut drops those of the id only (Cognito resolves both to
    // the same user). Signed in by email, moto would keep honouring the refresh token.
    const tokens = (await signIn(devId)).AuthenticationResult!;
    const disabled = await directory().disable('acme', devId, 'tenant-user:admin');
    expect(disabled).toMatchObject({ id: devId, enabled: false, role: 'viewer' });
    expect((await cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: devId }))).Enabled).toBe(false);
    await expect(signIn('dev@acme.example.com')).rejects.toThrow(/disabled/i);
    await expect(cognito().send(new AdminInitiateAuthCommand({ UserPoolId: pool, ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken! } }))).rejects.toThrow();
    await expect(cognito().send(new GetUserCommand({ AccessToken: tokens.AccessToken! }))).rejects.toThrow();
    // Cognito cannot revoke an ID token: it verifies against the pool's keys until `exp`.
    const jwks = createRemoteJWKSet(new URL(`${moto.endpoint}/${pool}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.IdToken!, jwks);
    expect(payload.exp! - payload.iat!).toBe(3600);
    const [event] = await deliveredEvents(1);
    expect([event['detail-type'], event.detail.enabled, event.detail.by]).toEqual(['Tenant User Disabled', false, 'tenant-user:admin']);
    // Again: idempotent, the same answer.
    await expect(directory().disable('acme', devId, 'x')).resolves.toMatchObject({ enabled: false });
    await deliveredEvents(1);
  });

  it('remove deletes the user and emits Tenant User Deleted (SBT tenantUserDeleted)', async () => {
    const users = directory();
    const temp = await users.invite('acme', { email: 'temp@acme.example.com', role: 'member' }, 'x');
    await deliveredEvents(1);
    const removed = await users.remove('acme', temp.id, 'tenant-user:admin');
    expect(removed).toMatchObject({ email: 'temp@acme.example.com', role: 'member' });
    await expect(cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: temp.id }))).rejects.toThrow(/does not exist/);
    const [event] = await deliveredEvents(1);
    expect([event['detail-type'], event.detail.userName, event.detail.userRole]).toEqual(['Tenant User Deleted', temp.id, 'member']);
    const again = await refusal(users.remove('acme', temp.id, 'x'));
    expect(again.status).toBe(404);
  });
});

describe('offboarding: Revoke tenant identities against moto', () => {
  const record = (): TenantRecord => ({
    tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'admin@acme.example.com', accountId: '123456789012', status: 'OFFBOARDING',
    requestId: 'offboard-acme-1', createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', stackOutputs: {},
    executions: [{ kind: 'offboard', requestId: 'offboard-acme-1', executionArn: EXECUTION_ARN, startedAt: '2026-12-01T00:00:00.000Z', status: 'RUNNING' }],
    lease: { kind: 'offboard', executionArn: EXECUTION_ARN, requestId: 'offboard-acme-1', acquiredAt: '2026-12-01T00:00:00.000Z', previousStatus: 'ACTIVE' },
  });
  const state = { executionArn: EXECUTION_ARN, request: { tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'admin@acme.example.com', requestId: 'offboard-acme-1' } };
  const keysOf = async (tenantId: string) => ((await DynamoDBDocumentClient.from(new DynamoDBClient({})).send(new QueryCommand({ TableName: KEYS_TABLE, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': tenantId } }))).Items ?? []).length;

  it('deletes acme\'s keys and disables its enabled users (one event each), leaves globex alone; a second run changes nothing', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await doc.send(new PutCommand({ TableName: REGISTRY, Item: record() }));
    for (const [tenantId, n] of [['acme', 30], ['globex', 2]] as const) {
      for (let i = 0; i < n; i++) await doc.send(new PutCommand({ TableName: KEYS_TABLE, Item: { tenantId, keyHash: `${tenantId}-${String(i).padStart(62, '0')}`, keyId: `key_${i}` } }));
    }
    process.env.TESSERA_API_KEYS_TABLE = KEYS_TABLE;
    process.env[ENV.userPoolId] = pool;
    const { handler } = await import('../../lambdas/lifecycle/revoke-tenant-identities.js');

    // acme has two users: admin (enabled, signed in: it holds a refresh token) and dev (disabled above).
    const adminId = (await cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: 'admin@acme.example.com' }))).Username!;
    await cognito().send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: adminId, Password: PASSWORD, Permanent: true }));
    // signed in by its username: moto's AdminUserGlobalSignOut drops only the tokens of a sign-in under the name it is given (see the disable test)
    const tokens = (await signIn(adminId)).AuthenticationResult!;
    await expect(handler(state)).resolves.toEqual({ tenantId: 'acme', apiKeys: { deleted: 30 }, users: { disabled: 1 } });
    // nothing of acme grants access any more: the admin can neither sign in nor refresh its session
    await expect(signIn('admin@acme.example.com')).rejects.toThrow(/disabled/i);
    await expect(cognito().send(new AdminInitiateAuthCommand({ UserPoolId: pool, ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken! } }))).rejects.toThrow();
    // and the registry says what was revoked (offboarding.identities)
    const registryRecord = async () => (await doc.send(new GetCommand({ TableName: REGISTRY, Key: { tenantId: 'acme' } }))).Item as TenantRecord;
    expect((await registryRecord()).offboarding?.identities).toEqual({ apiKeys: { deleted: 30, checkedAt: expect.any(String) }, users: { disabled: 1, checkedAt: expect.any(String) }, executionArns: [EXECUTION_ARN] });
    expect([await keysOf('acme'), await keysOf('globex')]).toEqual([0, 2]);
    const admin = await cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: 'admin@acme.example.com' }));
    const globexUser = await cognito().send(new AdminGetUserCommand({ UserPoolId: pool, Username: 'dev@globex.example.com' }));
    expect([admin.Enabled, globexUser.Enabled]).toEqual([false, true]);
    const events = await deliveredEvents(1);
    expect(events.map((e) => [e['detail-type'], e.detail.email, e.detail.by, e.detail.userRole])).toEqual([['Tenant User Disabled', 'admin@acme.example.com', 'offboarding', 'admin']]);

    await expect(handler(state)).resolves.toEqual({ tenantId: 'acme', apiKeys: { deleted: 0 }, users: { disabled: 0 } });
    expect(await deliveredEvents(0)).toEqual([]);
    expect((await registryRecord()).offboarding?.identities).toMatchObject({ apiKeys: { deleted: 30 }, users: { disabled: 1 }, executionArns: [EXECUTION_ARN] });
  });
});
