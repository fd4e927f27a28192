import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Command } from 'commander';
import { CognitoTenantUsers } from '../../lambdas/identity/cognito-tenant-users.js';
import { DynamoDbUserTokenRevocations } from '../../lambdas/identity/stores/user-token-revocations.js';
import { API_KEYS_TABLE_NAME } from '../identity/api-key.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { ROLES } from '../identity/roles.js';
import { PLATFORM_EVENT_BUS_NAME } from '../lifecycle-constants.js';
import { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';
import { table } from './format.js';
import { CredentialSource } from './users/credentials.js';
import { PLATFORM_STACK_NAME, checkUserPoolId, platformStackOutputs, regionOfUserPool, resolveClientId, resolveUserPoolId } from './users/platform-outputs.js';
import { signIn } from './users/sign-in.js';
import { checkTenantId, checkTenantServed } from './users/tenant-check.js';
import { checkEmail, checkRole, usersCliError } from './users/tenant-users.js';
import { eventBridgeEmitter, resolveEventBus } from './users/event-bus.js';
import { processTerminal, type Terminal } from './users/terminal.js';
import { loginTokens } from './users/tokens.js';

type Globals = { apiUrl?: string; region?: string; json?: boolean };

/** Where the commands write and ask; tests replace it. */
export interface UsersIo {
  out(text: string): void;
  terminal(): Terminal;
}
const processIo: UsersIo = { out: (text) => void process.stdout.write(`${text}\n`), terminal: () => processTerminal() };

/**
 * The region of the platform's AWS calls: `--region`, else the homeRegion of `--config`, else
 * AWS_REGION / AWS_DEFAULT_REGION, else the embedded default config's homeRegion.
 * @throws CliError (exit 2) naming --config when the config file is invalid.
 */
export function platformRegion(region: string | undefined, configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (region) return region;
  const load = (file?: string) => {
    try {
      return loadConfig({ file }).homeRegion;
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(`${e.message}\n  fix the config file named above (--config ${file})`);
      throw new CliError(`--config ${file}: cannot be read (${(e as Error).message})`);
    }
  };
  if (configFile) return load(configFile);
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? load();
}

interface PlatformContext {
  region: string;
  cognito: CognitoIdentityProviderClient;
  userPoolId: string;
  outputs: () => Promise<Record<string, string>>;
}

/** The platform pool, from --user-pool-id or the platform stack's outputs (read once, when needed). */
async function platformPool(o: { userPoolId?: string; config?: string; stackName: string }, g: Globals): Promise<PlatformContext> {
  const region = o.userPoolId ? (g.region ?? regionOfUserPool(checkUserPoolId(o.userPoolId, '--user-pool-id'))!) : platformRegion(g.region, o.config);
  let cached: Promise<Record<string, string>> | undefined;
  const outputs = () => (cached ??= platformStackOutputs(new CloudFormationClient({ region }), o.stackName, region));
  const userPoolId = await resolveUserPoolId(o.userPoolId, outputs, o.stackName);
  return { region, cognito: new CognitoIdentityProviderClient({ region: regionOfUserPool(userPoolId) ?? region }), userPoolId, outputs };
}

interface Directory extends PlatformContext {
  users: CognitoTenantUsers;
  bus: string;
  /** Who acts, for the events' `by`: the caller's ARN (STS GetCallerIdentity), else `tessera-cli`. */
  by: () => Promise<string>;
}

/** The platform pool's CognitoTenantUsers (the admin API's implementation), its events on the platform bus. */
async function directory(o: { userPoolId?: string; config?: string; stackName: string; eventBus?: string; apiKeysTable?: string }, g: Globals): Promise<Directory> {
  const platform = await platformPool(o, g);
  const bus = await resolveEventBus(o.eventBus, platform.outputs);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: platform.region }));
  const revocations = new DynamoDbUserTokenRevocations(o.apiKeysTable ?? API_KEYS_TABLE_NAME, async () => documents);
  const users = new CognitoTenantUsers(platform.cognito, platform.userPoolId, eventBridgeEmitter(new EventBridgeClient({ region: platform.region }), bus), undefined, revocations);
  const by = async () => (await new STSClient({ region: platform.region }).send(new GetCallerIdentityCommand({})).catch(() => undefined))?.Arn ?? 'tessera-cli';
  return { ...platform, users, bus, by };
}

/** Runs a directory call, turning its refusals into one-line CliErrors naming the flag. */
async function act<T>(userPoolId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw usersCliError(e, userPoolId);
  }
}

const poolOptions = (cmd: Command) => cmd
  .option('--user-pool-id <id>', 'the platform user pool (default: the TenantUserPoolId output of the platform stack)')
  .option('--stack-name <name>', 'the platform stack whose outputs name the pool', PLATFORM_STACK_NAME)
  .option('--config <file>', 'platform config file: its homeRegion is the region of the stack (default: --region, AWS_REGION, then the embedded default)');
const busOption = (cmd: Command) => cmd
  .option('--event-bus <name>', `the platform bus the user events go to (default: the LifecycleEventBusName output, else ${PLATFORM_EVENT_BUS_NAME})`)
  .option('--api-keys-table <name>', `the keys table where disable, set-role and remove record that the user's earlier tokens stop counting (the gateway refuses them within 60 s)`, API_KEYS_TABLE_NAME);
const userOptions = (cmd: Command) => busOption(poolOptions(cmd
  .requiredOption('--tenant <id>', 'the tenant the user belongs to')
  .requiredOption('--user <id>', 'the user: its id (tessera users list) or its email')));

/** The ID token lifetime of the gateway's app client (constructs/inference-api.ts): how long a disabled or removed user's last token still works. */
const ID_TOKEN_WINDOW = 'the gateway refuses the ID tokens issued before within 60 s (Cognito cannot revoke them; the keys table records the change)';

/**
 * `tessera users invite | list | disable | set-role | remove`: tenant users in the platform's
 * Cognito pool, with the platform engineer's AWS credentials, through the same CognitoTenantUsers
 * as the admin API (lambdas/identity/cognito-tenant-users.ts), so the same checks apply and the
 * same events (`Tenant User Created`, `Tenant User Disabled`, `Tenant User Role Changed`,
 * `Tenant User Deleted`) reach the platform bus. A user carries `custom:tenant_id`, which the
 * gateway's authorizer reads from their ID token, and one role group `tenant-<role>`.
 */
export function usersCommand(io: UsersIo = processIo): Command {
  const users = new Command('users').description('tenant users in the platform Cognito pool: invite (mails a temporary password), list, disable, set-role, remove');
  const print = (g: Globals, value: unknown, text: string) => io.out(g.json ? JSON.stringify(value, null, 2) : text);

  busOption(poolOptions(users.command('invite')
    .description('create a tenant user (Cognito AdminCreateUser) in a role group: Cognito emails a temporary password; the user then runs tessera login')
    .requiredOption('--tenant <id>', 'the tenant the user belongs to (custom:tenant_id; cannot be changed later)')
    .requiredOption('--email <address>', 'the user\'s email: their sign-in name and where the invitation goes')
    .option('--role <role>', `the user's role: ${ROLES.join(', ')} (tessera roles)`, 'member')
    .option('--resend', 'mail a new temporary password to a user who has not signed in yet (MessageAction RESEND); --role is not changed')))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const tenantId = checkTenantId(o.tenant);
      const email = checkEmail(o.email);
      const role = checkRole(o.role);
      const apiUrl = g.apiUrl ?? process.env.TESSERA_API_URL;
      const d = await directory(o, g);
      const checked = apiUrl ? await checkTenantServed(new AdminClient(apiUrl, d.region), tenantId, apiUrl) : undefined;
      const user = await act(d.userPoolId, async () => (o.resend ? d.users.resend(tenantId, email) : d.users.invite(tenantId, { email, role }, await d.by())));
      const clientId = await resolveClientId(undefined, d.outputs, d.cognito, d.userPoolId).catch(() => undefined);
      const login = `tessera login --email ${email} --user-pool-id ${d.userPoolId}${clientId ? ` --client-id ${clientId}` : ' --client-id <TenantUserPoolClientId>'}`;
      print(g, { ...user, userPoolId: d.userPoolId, clientId, resent: Boolean(o.resend), tenantChecked: Boolean(checked), eventBus: o.resend ? undefined : d.bus, login }, [
        `${o.resend ? 'invitation resent to' : 'invited'} ${email} to tenant ${tenantId} as ${user.role ?? '(no role)'} (user ${user.id}, status ${user.status})`,
        checked ? `tenant ${tenantId} is ${checked.status}` : 'tenant not checked against the registry: no --api-url / TESSERA_API_URL',
        ...(o.resend ? [] : [`event "Tenant User Created" sent to bus ${d.bus}`]),
        'Cognito emails them a temporary password, valid for 7 days. Send them this command for their first sign-in (it sets a new password and an authenticator app):',
        `  ${login}`,
      ].join('\n'));
    });

  poolOptions(users.command('list')
    .description('list a tenant\'s users with their roles (ListUsers, filtered on custom:tenant_id here: Cognito cannot filter on custom attributes)')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--email-prefix <prefix>', 'only emails starting with this (filtered by Cognito)'))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const tenantId = checkTenantId(o.tenant);
      const platform = await platformPool(o, g);
      // Listing changes nothing, so it emits nothing and needs no bus.
      const directory = new CognitoTenantUsers(platform.cognito, platform.userPoolId, async () => undefined);
      const found = await act(platform.userPoolId, () => directory.list(tenantId, { emailPrefix: o.emailPrefix }));
      print(g, found, found.length ? table(found as never, ['email', 'role', 'status', 'enabled', 'createdAt', 'id']) : `no users of tenant ${tenantId} in user pool ${platform.userPoolId}`);
    });

  userOptions(users.command('disable')
    .description('disable a tenant user (AdminDisableUser) and sign them out everywhere (AdminUserGlobalSignOut): no new sign-in, refresh tokens stop'))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const tenantId = checkTenantId(o.tenant);
      const d = await directory(o, g);
      const user = await act(d.userPoolId, async () => d.users.disable(tenantId, o.user, await d.by()));
      print(g, user, [
        `disabled ${user.email} (user ${user.id}) of tenant ${tenantId} and signed them out: no new sign-in, their refresh tokens stop; ${ID_TOKEN_WINDOW}`,
        `event "Tenant User Disabled" sent to bus ${d.bus}`,
      ].join('\n'));
    });

  userOptions(users.command('set-role')
    .description('move a tenant user to another role group (joins the new group first, then leaves the old one: never more than either role)')
    .requiredOption('--role <role>', `the new role: ${ROLES.join(', ')}`))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const tenantId = checkTenantId(o.tenant);
      const role = checkRole(o.role);
      const d = await directory(o, g);
      const user = await act(d.userPoolId, async () => d.users.setRole(tenantId, o.user, role, await d.by()));
      print(g, user, [
        `${user.email} (user ${user.id}) of tenant ${tenantId} is now ${role}; tokens issued before keep the old role's groups until they expire (at most 1 hour)`,
        `event "Tenant User Role Changed" sent to bus ${d.bus} (none when the role was already ${role})`,
      ].join('\n'));
    });

  userOptions(users.command('remove')
    .description('delete a tenant user from the pool (AdminDeleteUser); to keep the user for audit, disable it instead'))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const tenantId = checkTenantId(o.tenant);
      const d = await directory(o, g);
      const user = await act(d.userPoolId, async () => d.users.remove(tenantId, o.user, await d.by()));
      print(g, { ...user, deleted: true }, [
        `removed ${user.email} (user ${user.id}, role ${user.role ?? '(none)'}) from tenant ${tenantId}; ${ID_TOKEN_WINDOW}`,
        `event "Tenant User Deleted" sent to bus ${d.bus}`,
      ].join('\n'));
    });

  return users;
}

/**
 * `tessera login`: a tenant user signs in (SRP, first-sign-in password change, TOTP setup and
 * codes) and gets the token the gateway accepts, printed alone on stdout (the ID token); prompts
 * and notes go to stderr. Needs no AWS credentials, only the pool and client ids (from the
 * invitation, the env or, with platform credentials, the platform stack's outputs).
 */
export function loginCommand(io: UsersIo = processIo): Command {
  return new Command('login')
    .description('sign in as a tenant user (Cognito SRP with MFA) and print the bearer token for the inference API')
    .requiredOption('--email <address>', 'your email (the invitation\'s address)')
    .option('--user-pool-id <id>', 'the platform user pool (default: $TESSERA_USER_POOL_ID, else the TenantUserPoolId output of the platform stack)')
    .option('--client-id <id>', 'the gateway\'s app client (default: $TESSERA_CLIENT_ID, else the TenantUserPoolClientId output)')
    .option('--stack-name <name>', 'the platform stack whose outputs name the pool and client', PLATFORM_STACK_NAME)
    .option('--config <file>', 'platform config file (its homeRegion), when the ids come from the stack outputs')
    .option('--password-stdin', 'read the password from stdin\'s first line (default: $TESSERA_PASSWORD, else a prompt)')
    .option('--new-password-stdin', 'first sign-in: read the new password from stdin\'s next line (default: $TESSERA_NEW_PASSWORD, else a prompt)')
    .option('--totp-code <code>', 'the authenticator app\'s current code; "-" reads it from stdin when it is asked for (default: a prompt)')
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const email = checkEmail(o.email);
      const pool = await platformPool({ userPoolId: o.userPoolId ?? process.env.TESSERA_USER_POOL_ID, config: o.config, stackName: o.stackName }, g);
      const clientId = await resolveClientId(o.clientId ?? process.env.TESSERA_CLIENT_ID, pool.outputs, pool.cognito, pool.userPoolId);
      const terminal = io.terminal();
      const credentials = new CredentialSource({ passwordStdin: o.passwordStdin, newPasswordStdin: o.newPasswordStdin, totpCode: o.totpCode }, terminal);
      let tokens;
      try {
        tokens = loginTokens(await signIn(pool.cognito, { email, userPoolId: pool.userPoolId, clientId }, credentials, terminal), email);
      } finally {
        terminal.close?.();
      }
      if (g.json) {
        io.out(JSON.stringify(tokens, null, 2));
        return;
      }
      terminal.info(`signed in as ${email} (tenant ${tokens.tenantId}); the ID token below is your API key for the inference API until ${tokens.expiresAt}`);
      io.out(tokens.idToken);
    });
}
