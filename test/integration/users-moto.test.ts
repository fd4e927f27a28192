import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  AdminGetUserCommand, AdminListGroupsForUserCommand, CognitoIdentityProviderClient, CreateGroupCommand, CreateUserPoolClientCommand, CreateUserPoolCommand, GetUserCommand, SetUserPoolMfaConfigCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import OpenAI from 'openai';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS_TABLE_NAME } from '../../lib/identity/api-key.js';
import { DynamoDbUserTokenRevocations } from '../../lambdas/identity/stores/user-token-revocations.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import { Authorizer } from '../../lambdas/inference/auth.js';
import { Gateway } from '../../lambdas/inference/gateway.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';
import { ProviderRegistry } from '../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../lambdas/inference/stores/memory-store.js';
import { CliError } from '../../lib/cli/cli-error.js';
import { ROLE_GROUPS } from '../../lib/identity/roles.js';
import { LIFECYCLE_EVENT_SOURCE, PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { putNewTenant } from '../../lambdas/shared/registry.js';
import { expectPolite } from '../support/polite-cli.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { configWith } from '../support/config-with.js';
import { startAdminApiFront, type AdminApiFront } from './support/admin-api-front.js';
import { runTessera, runTesseraInProcess } from './support/tessera-cli.js';
import { loginCommand } from '../../lib/cli/users-command.js';
import type { Terminal } from '../../lib/cli/users/terminal.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { freshTotp, runCli, useJsbnModPow, useNativeModPow } from '../unit/users/support.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { KEYS_TABLE_SCHEMA } from './support/keys-table.js';

// `tessera users …` (the real CLI, bin/tessera.mjs) → the admin API handler (lambdas/admin/admin-api.ts,
// users routes) behind support/admin-api-front.ts (IAM caller OPERATOR) → moto's Cognito, the platform bus
// (a rule copies its events to an SQS queue read back here) and the keys table (the token revocations);
// the registry in moto's DynamoDB. `tessera login` stays direct (the user's own sign-in, no AWS credentials).
//
// moto 5.2.5's Cognito, and where it is more lenient than Cognito (read from moto/cognitoidp/models.py):
// - USER_SRP_AUTH does NOT verify the SRP proof: SRP_B and SALT are random, any PASSWORD_CLAIM_SIGNATURE
//   passes, so a wrong password signs in (asserted below). The proof itself is tested against
//   Cognito's rules only through cognito-srp-helper; the unit tests pin what is sent.
// - AdminCreateUser sends no email and sets no temporary password unless one is given; MessageAction
//   RESEND creates a second user instead of re-mailing (so --resend is tested with mocks only).
// - NEW_PASSWORD_REQUIRED, MFA_SETUP, AssociateSoftwareToken and VerifySoftwareToken are emulated, with
//   the fixed TOTP secret asdfasdfasdf (shown upper-cased by the CLI); with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true moto checks the
//   codes (VerifySoftwareToken and SOFTWARE_TOKEN_MFA) as Cognito does.
// - The ID token's `email` claim is the username moto was given in the last challenge answer (here the
//   user's sub), not the email attribute as in Cognito; the CLI reports the --email it signed in with.
// - ListUsers refuses a Filter on a custom attribute, as Cognito does.
// - Tokens are RS256 JWTs signed with moto's key, published at <endpoint>/<pool id>/.well-known/jwks.json,
//   with Cognito's issuer (https://cognito-idp.<region>.amazonaws.com/<pool id>): the gateway's own
//   authorizer verifies them against that JWKS below.

let moto: MotoServer;
let userPoolId: string;
let clientId: string;
let front: AdminApiFront;
let queueUrl: string;
const OPERATOR = 'arn:aws:iam::123456789012:user/platform-admin';
// The file's first run is the real process (bin/tessera.mjs); the others run the same program in this process (a Node start costs 1-2 s each).
let spawned = false;
const tessera = (...args: string[]) => (spawned ? runTesseraInProcess : ((spawned = true), runTessera))(front.url, ...args);
const record = (tenantId: string): TenantRecord => ({
  tenantId, name: `${tenantId} corp`, tier: 'starter', isolation: 'vpc', adminEmail: `ops@${tenantId}.example.com`, status: 'ACTIVE', requestId: `req-${tenantId}-0001`,
  accountId: '333333333333', createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', stackOutputs: {}, executions: [],
});

/** The platform bus's events delivered to the test queue since the last call: [detail-type, detail]. */
async function busEvents(expected: number): Promise<Array<[string, Record<string, unknown>]>> {
  const sqs = new SQSClient({});
  const found: Array<[string, Record<string, unknown>]> = [];
  for (let i = 0; i < 40 && found.length < expected; i++) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    for (const m of out.Messages ?? []) {
      const body = JSON.parse(m.Body!);
      found.push([body['detail-type'], body.detail]);
    }
    if (found.length < expected) await new Promise((r) => setTimeout(r, 50));
  }
  return found;
}
const cognito = () => new CognitoIdentityProviderClient({ region: 'us-east-1' });
/** The CLI bundled once (test/support/cli-bundle.ts: the same program without tsx's start-up cost); the `users`/`login` commands' module (users-command.ts) starts through bin/tessera.mjs in this file's first run. */
const cli = await tesseraBundle();
const NEW_PASSWORD = 'Tessera-first-login-2026!';

beforeAll(async () => {
  process.env.MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP = 'true'; // read by the moto_server child at start
  moto = await startMoto();
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  delete process.env.TESSERA_API_URL;
  // The pool as constructs/inference-api.ts declares it (email sign-in, MFA required with TOTP only,
  // admin-created users only, immutable custom:tenant_id of 3-24 characters), and its GatewayClient
  // (SRP only, no secret, 1 h tokens). Created by API: moto's CloudFormation has no AWS::Cognito::UserPool.
  const pool = await cognito().send(new CreateUserPoolCommand({
    PoolName: 'tessera-tenants', UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'], MfaConfiguration: 'ON',
    AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    Policies: { PasswordPolicy: { MinimumLength: 14, RequireNumbers: true, RequireLowercase: true, RequireUppercase: true, RequireSymbols: true } },
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false, StringAttributeConstraints: { MinLength: '3', MaxLength: '24' } }],
  }));
  userPoolId = pool.UserPool!.Id!;
  // The role groups and the platform bus, as the platform stack makes them (the admin API puts the user events there),
  // with a rule copying its lifecycle events to a queue the test reads.
  for (const group of ROLE_GROUPS) await cognito().send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group }));
  const events = new EventBridgeClient({ region: 'us-east-1' });
  await events.send(new CreateEventBusCommand({ Name: PLATFORM_EVENT_BUS_NAME }));
  const sqs = new SQSClient({ region: 'us-east-1' });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'platform-bus-copy' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await events.send(new PutRuleCommand({ Name: 'all-lifecycle', EventBusName: PLATFORM_EVENT_BUS_NAME, EventPattern: JSON.stringify({ source: [LIFECYCLE_EVENT_SOURCE] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'all-lifecycle', EventBusName: PLATFORM_EVENT_BUS_NAME, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  // The keys table, where disable, set-role and remove record the user's token revocation.
  const ddb = new DynamoDBClient({ region: 'us-east-1' });
  await ddb.send(new CreateTableCommand({
    TableName: API_KEYS_TABLE_NAME, BillingMode: 'PAY_PER_REQUEST',
    ...KEYS_TABLE_SCHEMA,
  }));
  // The registry, with the two tenants the admin API checks.
  await ddb.send(new CreateTableCommand({ TableName: 'tessera-tenants', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }] }));
  await cognito().send(new SetUserPoolMfaConfigCommand({ UserPoolId: userPoolId, MfaConfiguration: 'ON', SoftwareTokenMfaConfiguration: { Enabled: true } }));
  clientId = (await cognito().send(new CreateUserPoolClientCommand({
    UserPoolId: userPoolId, ClientName: 'GatewayClient', GenerateSecret: false, ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    IdTokenValidity: 1, AccessTokenValidity: 1, TokenValidityUnits: { IdToken: 'hours', AccessToken: 'hours' },
  }))).UserPoolClient!.ClientId!;
  // The platform stack's outputs, as the CLI reads them (DescribeStacks).
  await new CloudFormationClient({ region: 'us-east-1' }).send(new CreateStackCommand({
    StackName: 'TesseraPlatform',
    TemplateBody: JSON.stringify({
      Resources: { Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
      Outputs: { TenantUserPoolId: { Value: userPoolId }, TenantUserPoolClientId: { Value: clientId } },
    }),
  }));
  // The admin API handler's environment, as constructs/admin-api.ts sets it, and its loopback front.
  Object.assign(process.env, {
    [ENV.config]: JSON.stringify(configWith()), [ENV.registryTable]: 'tessera-tenants', [ENV.eventBus]: PLATFORM_EVENT_BUS_NAME,
    [ENV.userPoolId]: userPoolId, [ENV.apiKeysTable]: API_KEYS_TABLE_NAME, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_TRACE_ENABLED: 'false',
  });
  for (const id of ['acme', 'globex']) await putNewTenant(record(id));
  const { handler } = await import('../../lambdas/admin/admin-api.js');
  front = await startAdminApiFront(handler, OPERATOR);
}, 120_000);
afterAll(async () => {
  await front?.close();
  await moto?.stop();
});
// The in-process sign-ins (runCli's loginCommand) run cognito-srp-helper's whole SRP with jsbn's modPow computed by
// native BigInt (test/unit/users/support.ts: the same values, checked against jsbn's own in sign-in.test.ts's first
// test), ~0.1-0.4 s of CPU less each of their three exponentiations; the real CLI's sign-in (tesseraChild) keeps jsbn's.
beforeAll(useNativeModPow);
afterAll(() => useJsbnModPow());

/** A terminal with no TTY whose stdin lines are produced when asked: the code comes from the secret it was shown. */
class ScriptTerminal implements Terminal {
  readonly interactive = false;
  readonly told: string[] = [];
  constructor(private readonly lines: Array<string | ((told: string[]) => Promise<string>)>) {}
  async ask(): Promise<string> {
    throw new Error('not interactive');
  }
  async nextLine() {
    const next = this.lines.shift();
    return typeof next === 'function' ? next(this.told) : next;
  }
  info(text: string) {
    this.told.push(text);
  }
}
const secretShown = (told: string[]) => /secret key: (\S+)/.exec(told.join('\n'))![1];

/** The real CLI (bundled) as a child: stdin lines written as it asks for them. */
function tesseraChild(args: string[], answer: (stderr: string, stdin: NodeJS.WritableStream) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => {
      stderr += String(d);
      answer(stderr, child.stdin);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    answer(stderr, child.stdin);
  });
}

describe('tenant users against moto (cognito-idp)', () => {
  it('invites users of two tenants through the admin API; list shows each tenant its own (filtered there: ListUsers cannot filter on custom:tenant_id); the events reach the platform bus by the IAM caller', async () => {
    const invited = await tessera('users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com');
    expect([invited.code, invited.stderr]).toEqual([0, '']);
    const lines = invited.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^invited dev@acme.example.com to tenant acme as member \(user [0-9a-f-]{36}, status FORCE_CHANGE_PASSWORD\)$/);
    expect(lines[1]).toBe('tenant acme is ACTIVE');
    expect(lines.at(-1)).toBe(`  tessera login --email dev@acme.example.com --user-pool-id ${userPoolId} --client-id ${clientId}`);
    expect((await tessera('users', 'invite', '--tenant', 'acme', '--email', 'ops@acme.example.com')).code).toBe(0);
    expect((await tessera('users', 'invite', '--tenant', 'globex', '--email', 'dev@globex.example.com')).code).toBe(0);

    const user = await cognito().send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: 'dev@acme.example.com' }));
    expect(Object.fromEntries(user.UserAttributes!.map((a) => [a.Name, a.Value]))).toMatchObject({ email: 'dev@acme.example.com', email_verified: 'true', 'custom:tenant_id': 'acme' });
    const created = await busEvents(3);
    expect(created.map(([type, detail]) => [type, detail.tenantId, detail.email, detail.by])).toEqual([
      ['Tenant User Created', 'acme', 'dev@acme.example.com', OPERATOR], ['Tenant User Created', 'acme', 'ops@acme.example.com', OPERATOR], ['Tenant User Created', 'globex', 'dev@globex.example.com', OPERATOR],
    ]);

    const acme = JSON.parse((await tessera('--json', 'users', 'list', '--tenant', 'acme')).stdout);
    expect(acme.map((u: { email: string; status: string }) => [u.email, u.status])).toEqual([['dev@acme.example.com', 'FORCE_CHANGE_PASSWORD'], ['ops@acme.example.com', 'FORCE_CHANGE_PASSWORD']]);
    const globex = JSON.parse((await tessera('--json', 'users', 'list', '--tenant', 'globex')).stdout);
    expect(globex.map((u: { email: string }) => u.email)).toEqual(['dev@globex.example.com']);
    expect((await tessera('users', 'list', '--tenant', 'acme', '--email-prefix', 'ops')).stdout).toMatch(/^EMAIL.*\nops@acme.example.com\s+member\s+FORCE_CHANGE_PASSWORD\s+true\s+\S+\s+[0-9a-f-]{36}\n$/);
  });

  it('refusals are one line naming the flag, without a stack trace: a user who exists (the --resend fix), an unknown tenant, a bad role (before any call)', async () => {
    expectPolite(await tessera('users', 'invite', '--tenant', 'acme', '--email', 'dev@acme.example.com'), 1,
      /^error: --email: a user with email dev@acme.example.com exists already in tenant "acme": .*\(tessera users invite --resend\) \(user_exists\)$/m);
    expectPolite(await tessera('users', 'invite', '--tenant', 'globex', '--email', 'dev@acme.example.com'), 1,
      /^error: --email: email dev@acme.example.com cannot be invited to tenant "globex": the address is already registered on the platform outside this tenant.*\(email_unavailable\)$/m);
    expectPolite(await tessera('users', 'list', '--tenant', 'nobody'), 1, /^error: --tenant: tenant "nobody" does not exist \(tenant_not_found\)$/m);
    expectPolite(await tessera('users', 'set-role', '--tenant', 'acme', '--user', 'dev@acme.example.com', '--role', 'owner'), 2, /^error: --role "owner" is not a role: use one of admin, developer, member, viewer/);
    expect(await busEvents(0)).toEqual([]);
  });

  it('set-role, disable and remove through the CLI: the role groups change, the user is disabled (revocation in the keys table), then gone; each event on the bus; another tenant\'s --tenant is refused', async () => {
    const invitedRun = await tessera('--json', 'users', 'invite', '--tenant', 'acme', '--email', 'temp@acme.example.com', '--role', 'viewer');
    const invited = JSON.parse(invitedRun.stdout);
    expect(invited).toMatchObject({ email: 'temp@acme.example.com', role: 'viewer', tenantId: 'acme', userPoolId, clientId, resent: false, tenantStatus: 'ACTIVE' });
    const groups = async () => ((await cognito().send(new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: invited.id }))).Groups ?? []).map((g) => g.GroupName);
    expect(await groups()).toEqual(['tenant-viewer']);

    expectPolite(await tessera('users', 'set-role', '--tenant', 'globex', '--user', invited.id, '--role', 'admin'), 1, new RegExp(`^error: --user: no user "${invited.id}" in tenant "globex" \\(user_not_found\\)$`, 'm'));
    expect(await groups()).toEqual(['tenant-viewer']);

    const changed = await tessera('users', 'set-role', '--tenant', 'acme', '--user', 'temp@acme.example.com', '--role', 'developer');
    expect(changed.stdout).toMatch(new RegExp(`^temp@acme.example.com \\(user ${invited.id}\\) of tenant acme is now developer;`));
    expect(await groups()).toEqual(['tenant-developer']);
    const listed = await tessera('users', 'list', '--tenant', 'acme', '--email-prefix', 'temp');
    expect(listed.stdout).toMatch(/^EMAIL\s+ROLE\s+STATUS\s+ENABLED\s+CREATED AT\s+ID\ntemp@acme.example.com\s+developer\s+FORCE_CHANGE_PASSWORD\s+true\s/);

    const disabled = JSON.parse((await tessera('--json', 'users', 'disable', '--tenant', 'acme', '--user', invited.id)).stdout);
    expect(disabled).toMatchObject({ id: invited.id, enabled: false, role: 'developer' });
    expect((await cognito().send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: invited.id }))).Enabled).toBe(false);
    // The user's earlier ID tokens stop counting at the gateway: the revocation is in the keys table, keyed by the user's sub.
    const sub = (await cognito().send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: invited.id }))).UserAttributes!.find((a) => a.Name === 'sub')!.Value!;
    const revokedAt = await new DynamoDbUserTokenRevocations(API_KEYS_TABLE_NAME, unscopedDocumentClient()).notBefore('acme', sub);
    expect(Date.now() - revokedAt!).toBeLessThan(120_000);

    const removed = await tessera('users', 'remove', '--tenant', 'acme', '--user', invited.id);
    expect(removed.stdout).toMatch(new RegExp(`^removed temp@acme.example.com \\(user ${invited.id}, role developer\\) from tenant acme;`));
    await expect(cognito().send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: invited.id }))).rejects.toThrow(/does not exist/);
    const story = await busEvents(4);
    expect(story.map(([type, detail]) => [type, detail.email, detail.by])).toEqual([
      ['Tenant User Created', 'temp@acme.example.com', OPERATOR], ['Tenant User Role Changed', 'temp@acme.example.com', OPERATOR],
      ['Tenant User Disabled', 'temp@acme.example.com', OPERATOR], ['Tenant User Deleted', 'temp@acme.example.com', OPERATOR],
    ]);
    expect(story[1]![1]).toMatchObject({ previousRole: 'viewer' });
  });

  it('moto, like Cognito, refuses a ListUsers filter on custom:tenant_id (why list filters here)', async () => {
    const { ListUsersCommand } = await import('@aws-sdk/client-cognito-identity-provider');
    await expect(cognito().send(new ListUsersCommand({ UserPoolId: userPoolId, Filter: 'custom:tenant_id = "acme"' }))).rejects.toThrow(/Invalid search attribute: custom:tenant_id/);
  });

  it('first sign-in through the real CLI: SRP, new password, MFA setup with the shown secret; stdout is the ID token only', async () => {
    let sent = 0;
    const run = await tesseraChild(['login', '--email', 'dev@acme.example.com', '--password-stdin', '--new-password-stdin', '--totp-code', '-'], (stderr, stdin) => {
      if (sent === 0) {
        stdin.write(`temporary-password-from-the-email\n${NEW_PASSWORD}\n`);
        sent = 1;
      } else if (sent === 1 && /secret key: (\S+)/.test(stderr)) {
        sent = 2;
        void freshTotp(/secret key: (\S+)/.exec(stderr)![1]).then((code) => {
          stdin.write(`${code}\n`);
          stdin.end();
        });
      }
    });
    expect(run.stderr).toContain('Multi-factor authentication is required: add Tessera to an authenticator app');
    expect(run.stderr).toMatch(/otpauth:\/\/totp\/Tessera:dev%40acme.example.com\?secret=ASDFASDFASDF&issuer=Tessera&algorithm=SHA1&digits=6&period=30/);
    expect(run.stderr).toMatch(/signed in as dev@acme.example.com \(tenant acme\); the ID token below is your API key for the inference API until \d{4}-/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const user = await cognito().send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: 'dev@acme.example.com' }));
    expect(user.UserStatus).toBe('CONFIRMED');
  });

  describe('the next sign-ins', () => {
    const login = (lines: ConstructorParameters<typeof ScriptTerminal>[0], ...args: string[]) =>
      runCli(loginCommand, ['--json', 'login', '--email', 'dev@acme.example.com', '--password-stdin', ...args], new ScriptTerminal(lines));

    it('ask for the authenticator code (SOFTWARE_TOKEN_MFA); --json prints the tokens; no AWS credentials needed', async () => {
      const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      try {
        const { out } = await login([NEW_PASSWORD], '--user-pool-id', userPoolId, '--client-id', clientId, '--totp-code', await freshTotp('ASDFASDFASDF'));
        const tokens = JSON.parse(out[0]);
        expect(tokens).toMatchObject({ tenantId: 'acme', email: 'dev@acme.example.com', tokenType: 'Bearer', expiresIn: 3600 });
        expect(Date.parse(tokens.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
        const me = await cognito().send(new GetUserCommand({ AccessToken: tokens.accessToken }));
        expect(me.UserAttributes?.find((a) => a.Name === 'custom:tenant_id')?.Value).toBe('acme');
      } finally {
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: saved.id, AWS_SECRET_ACCESS_KEY: saved.secret });
      }
    });

    it('refuse a wrong code (CodeMismatchException)', async () => {
      const wrong = String((Number(await freshTotp('ASDFASDFASDF')) + 500_000) % 1_000_000).padStart(6, '0');
      const error = await login([NEW_PASSWORD], '--totp-code', wrong).catch((e) => e);
      expect(error).toBeInstanceOf(CliError);
      expect(error.message).toMatch(/^Cognito RespondToAuthChallenge: the authenticator code was not accepted \(CodeMismatchException\)/);
    });

    it('refuse an unknown user (UserNotFoundException)', async () => {
      const error = await runCli(loginCommand, ['login', '--email', 'nobody@acme.example.com', '--password-stdin'], new ScriptTerminal(['x'])).catch((e) => e);
      expect(error.message).toMatch(/^Cognito InitiateAuth: no user nobody@acme.example.com in user pool .* ask your platform admin to invite you/);
    });

    it('LENIENT: moto accepts a wrong password (it does not verify the SRP proof; Cognito answers NotAuthorizedException)', async () => {
      const { out } = await login(['not-the-password'], '--totp-code', await freshTotp('ASDFASDFASDF'));
      expect(JSON.parse(out[0]).tenantId).toBe('acme');
    });
  });

  it('the printed token passes the gateway\'s JWT verification (moto\'s JWKS) and answers a chat completion through the openai client', async () => {
    // Second tenant user, first sign-in in-process.
    const terminal = new ScriptTerminal(['temporary', NEW_PASSWORD, (told) => freshTotp(secretShown(told))]);
    const first = await runCli(loginCommand, ['login', '--email', 'dev@globex.example.com', '--password-stdin', '--new-password-stdin', '--totp-code', '-'], terminal);
    const globexToken = first.out[0];
    const { out } = await runCli(loginCommand, ['login', '--email', 'ops@acme.example.com', '--password-stdin', '--new-password-stdin', '--totp-code', '-'],
      new ScriptTerminal(['temporary', NEW_PASSWORD, (told) => freshTotp(secretShown(told))]));
    const acmeToken = out[0];

    // The gateway as deployed, but local: its Authorizer with Cognito's issuer and the client id as
    // audience (constructs/inference-api.ts), the JWKS fetched from moto instead of cognito-idp.amazonaws.com.
    const upstream = await new FakeUpstream().start();
    const config = gatewayConfig();
    const local = { ...config, gateway: { ...config.gateway, providers: { openai: { baseUrl: upstream.url }, huggingface: { baseUrl: upstream.url }, 'openai-compatible': { baseUrl: upstream.url } } } };
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'enterprise'));
    store.putTenant(localTenant('globex', 'enterprise', { status: 'SUSPENDED' }));
    const authorizer = new Authorizer({ issuer: `https://cognito-idp.us-east-1.amazonaws.com/${userPoolId}`, audience: clientId, jwks: `${moto.endpoint}/${userPoolId}/.well-known/jwks.json` }, store);
    const audit = new MemoryAuditSink();
    const gateway = new Gateway({ config: local, store, authorizer, providers: new ProviderRegistry(local, async () => 'local'), audit });
    const server: Server = await startLocalServer(gateway, { port: 0, maxBytes: config.gateway.maxRequestBytes });
    try {
      const baseURL = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
      const acme = new OpenAI({ baseURL, apiKey: acmeToken, maxRetries: 0 });
      const answer = await acme.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello from a Cognito user' }] });
      expect(answer.choices[0].message.role).toBe('assistant');
      expect(audit.records.at(-1)).toMatchObject({ tenantId: 'acme', status: 200 });

      // The access token has no aud (client_id instead) and no tenant claim: refused.
      const accessToken = JSON.parse((await runCli(loginCommand, ['--json', 'login', '--email', 'ops@acme.example.com', '--password-stdin', '--totp-code', await freshTotp('ASDFASDFASDF')], new ScriptTerminal([NEW_PASSWORD]))).out[0]).accessToken;
      const refusedAccess = await new OpenAI({ baseURL, apiKey: accessToken, maxRetries: 0 }).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      expect(refusedAccess.status).toBe(401);
      // A valid token of a suspended tenant: refused by tenant status, not by the token.
      const refusedTenant = await new OpenAI({ baseURL, apiKey: globexToken, maxRetries: 0 }).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      expect(refusedTenant.status).toBe(403);
      expect(refusedTenant.message).toMatch(/tenant "globex" is SUSPENDED/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await upstream.stop();
    }
  });
});
