import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';
import { table } from './format.js';
import { CredentialSource } from './users/credentials.js';
import { PLATFORM_STACK_NAME, checkUserPoolId, platformStackOutputs, regionOfUserPool, resolveClientId, resolveUserPoolId } from './users/platform-outputs.js';
import { signIn } from './users/sign-in.js';
import { checkTenantId, checkTenantServed } from './users/tenant-check.js';
import { checkEmail, inviteTenantUser, listTenantUsers } from './users/tenant-users.js';
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

const poolOptions = (cmd: Command) => cmd
  .option('--user-pool-id <id>', 'the platform user pool (default: the TenantUserPoolId output of the platform stack)')
  .option('--stack-name <name>', 'the platform stack whose outputs name the pool', PLATFORM_STACK_NAME)
  .option('--config <file>', 'platform config file: its homeRegion is the region of the stack (default: --region, AWS_REGION, then the embedded default)');

/**
 * `tessera users invite | list`: tenant users in the platform's Cognito pool, with the platform
 * engineer's AWS credentials. A user carries `custom:tenant_id`, which the gateway's authorizer
 * reads from their ID token. (Tenant API keys replace these users as the tenant credential later.)
 */
export function usersCommand(io: UsersIo = processIo): Command {
  const users = new Command('users').description('tenant users in the platform Cognito pool: invite (mails a temporary password), list');

  poolOptions(users.command('invite')
    .description('create a tenant user (Cognito AdminCreateUser): Cognito emails a temporary password; the user then runs tessera login')
    .requiredOption('--tenant <id>', 'the tenant the user belongs to (custom:tenant_id; cannot be changed later)')
    .requiredOption('--email <address>', 'the user\'s email: their sign-in name and where the invitation goes')
    .option('--resend', 'mail a new temporary password to a user who has not signed in yet (MessageAction RESEND)'))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const tenantId = checkTenantId(o.tenant);
      const email = checkEmail(o.email);
      const apiUrl = g.apiUrl ?? process.env.TESSERA_API_URL;
      const platform = await platformPool(o, g);
      const checked = apiUrl ? await checkTenantServed(new AdminClient(apiUrl, platform.region), tenantId, apiUrl) : undefined;
      const user = await inviteTenantUser(platform.cognito, { userPoolId: platform.userPoolId, tenantId, email, resend: o.resend });
      const clientId = await resolveClientId(undefined, platform.outputs, platform.cognito, platform.userPoolId).catch(() => undefined);
      const login = `tessera login --email ${email} --user-pool-id ${platform.userPoolId}${clientId ? ` --client-id ${clientId}` : ' --client-id <TenantUserPoolClientId>'}`;
      if (g.json) {
        io.out(JSON.stringify({ ...user, userPoolId: platform.userPoolId, clientId, resent: Boolean(o.resend), tenantChecked: Boolean(checked), login }, null, 2));
        return;
      }
      io.out([
        `${o.resend ? 'invitation resent to' : 'invited'} ${email} to tenant ${tenantId} (user ${user.username}, status ${user.status})`,
        checked ? `tenant ${tenantId} is ${checked.status}` : 'tenant not checked against the registry: no --api-url / TESSERA_API_URL',
        'Cognito emails them a temporary password, valid for 7 days. Send them this command for their first sign-in (it sets a new password and an authenticator app):',
        `  ${login}`,
      ].join('\n'));
    });

  poolOptions(users.command('list')
    .description('list a tenant\'s users (ListUsers, filtered on custom:tenant_id here: Cognito cannot filter on custom attributes)')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--email-prefix <prefix>', 'only emails starting with this (filtered by Cognito)'))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const tenantId = checkTenantId(o.tenant);
      const platform = await platformPool(o, g);
      const found = await listTenantUsers(platform.cognito, platform.userPoolId, tenantId, o.emailPrefix);
      if (g.json) io.out(JSON.stringify(found, null, 2));
      else io.out(found.length ? table(found as never, ['email', 'status', 'enabled', 'createdAt', 'username']) : `no users of tenant ${tenantId} in user pool ${platform.userPoolId}`);
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
