import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { Command } from 'commander';
import { HTTP_TIMEOUTS } from '../aws-http-timeouts.js';
import type { TenantUser } from '../../lambdas/identity/tenant-users.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { ROLES } from '../identity/roles.js';
import { profileOption } from './admin-target.js';
import { CliError } from './cli-error.js';
import { table } from './format.js';
import { asUsersFlagError, loginLine, signInHints, usersPath, usersTarget, type UsersList } from './users/admin-users.js';
import { CredentialSource } from './users/credentials.js';
import { PLATFORM_STACK_NAME, checkUserPoolId, platformStackOutputs, regionOfUserPool, resolveClientId, resolveUserPoolId } from './users/platform-outputs.js';
import { signIn } from './users/sign-in.js';
import { checkTenantId, checkTenantServed } from './users/tenant-check.js';
import { checkEmail, checkRole } from './users/tenant-users.js';
import { processTerminal, type Terminal } from './users/terminal.js';
import { loginTokens } from './users/tokens.js';

type Globals = { apiUrl?: string; region?: string; json?: boolean; profile?: string };

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
      if (e instanceof ConfigError) throw new CliError(`${e.message}\n  fix the config file named above (--config ${file})`, 2, undefined, e);
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

/** `tessera login`'s platform pool, from --user-pool-id or the platform stack's outputs (read once, when needed). */
async function platformPool(o: { userPoolId?: string; config?: string; stackName: string }, g: Globals): Promise<PlatformContext> {
  const region = o.userPoolId ? (g.region ?? regionOfUserPool(checkUserPoolId(o.userPoolId, '--user-pool-id'))!) : platformRegion(g.region, o.config);
  let cached: Promise<Record<string, string>> | undefined;
  const outputs = () => (cached ??= platformStackOutputs(new CloudFormationClient({ region, ...(g.profile ? { profile: g.profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } }), o.stackName, region));
  const userPoolId = await resolveUserPoolId(o.userPoolId, outputs, o.stackName);
  return { region, cognito: new CognitoIdentityProviderClient({ region: regionOfUserPool(userPoolId) ?? region, ...(g.profile ? { profile: g.profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } }), userPoolId, outputs };
}

/** The ID token lifetime of the gateway's app client (constructs/inference-api.ts): how long a disabled or removed user's last token still works. */
const ID_TOKEN_WINDOW = 'the gateway refuses the ID tokens issued before within 60 s (Cognito cannot revoke them; the admin API records the change in the keys table)';

const userOption = (cmd: Command) => cmd
  .requiredOption('--tenant <id>', 'the tenant the user belongs to')
  .requiredOption('--user <id>', 'the user: its id (tessera users list) or its email');

/**
 * `tessera users invite | list | disable | set-role | remove`: tenant users in the platform's
 * Cognito pool, through the admin API (lambdas/admin/users-routes.ts: `POST/GET
 * /admin/tenants/{id}/users`, `POST …/users/{userId}/disable`, `PUT …/users/{userId}/role`,
 * `DELETE …/users/{userId}`), SigV4-signed with the operator's AWS credentials: the
 * TesseraPlatformAdmin permission set (execute-api:Invoke on the admin API) is enough; no Cognito,
 * EventBridge or DynamoDB permission is needed. The admin API's CognitoTenantUsers makes the
 * change, puts the event (`Tenant User Created`, `Tenant User Disabled`, `Tenant User Role
 * Changed`, `Tenant User Deleted`) on the platform bus and records the token revocation.
 * `--user` takes the user's id or its email. Refusals name the flag (400 → exit 2, else exit 1).
 */
export function usersCommand(io: UsersIo = processIo): Command {
  const users = new Command('users').description('tenant users in the platform Cognito pool, through the admin API: invite (mails a temporary password), list, disable, set-role, remove').addOption(profileOption());
  const print = (json: boolean, value: unknown, text: string) => io.out(json ? JSON.stringify(value, null, 2) : text);

  users.command('invite')
    .description('create a tenant user in a role group (POST /admin/tenants/{id}/users): Cognito emails a temporary password; the user then runs tessera login')
    .requiredOption('--tenant <id>', 'the tenant the user belongs to (custom:tenant_id; cannot be changed later)')
    .requiredOption('--email <address>', 'the user\'s email: their sign-in name and where the invitation goes')
    .option('--role <role>', `the user's role: ${ROLES.join(', ')} (tessera roles)`, 'member')
    .option('--resend', 'mail a new temporary password to a user who has not signed in yet (MessageAction RESEND); --role is not changed')
    .action(async (o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const email = checkEmail(o.email);
      const role = checkRole(o.role);
      const target = usersTarget(cmd);
      const checked = await checkTenantServed(target.api, tenantId, target.url);
      const body = o.resend ? { email, resend: true } : { email, role };
      const user = await asUsersFlagError(() => target.api.call<TenantUser>('POST', usersPath(tenantId), body));
      const hints = await signInHints(target.region, target.profile);
      const login = loginLine(email, hints);
      print(target.json, { ...user, userPoolId: hints.userPoolId, clientId: hints.clientId, resent: Boolean(o.resend), tenantStatus: checked.status, login }, [
        `${o.resend ? 'invitation resent to' : 'invited'} ${email} to tenant ${tenantId} as ${user.role ?? '(no role)'} (user ${user.id}, status ${user.status})`,
        `tenant ${tenantId} is ${checked.status}`,
        ...(o.resend ? [] : ['event "Tenant User Created" sent to the platform bus by the admin API']),
        'Cognito emails them a temporary password, valid for 7 days. Send them this command for their first sign-in (it sets a new password and an authenticator app):',
        `  ${login}`,
      ].join('\n'));
    });

  users.command('list')
    .description('list a tenant\'s users with their roles, sorted by email (GET /admin/tenants/{id}/users)')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--email-prefix <prefix>', 'only emails starting with this (filtered by Cognito)')
    .action(async (o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const target = usersTarget(cmd);
      const { users: found } = await asUsersFlagError(() => target.api.call<UsersList>('GET', usersPath(tenantId), undefined, { emailPrefix: o.emailPrefix }));
      print(target.json, found, found.length
        ? table(found as never, ['email', 'role', 'status', 'enabled', 'createdAt', 'id'])
        : `no users of tenant ${tenantId}${o.emailPrefix ? ` with an email starting with "${o.emailPrefix}"` : ''} (tessera users invite --tenant ${tenantId} --email <address>)`);
    });

  userOption(users.command('disable')
    .description('disable a tenant user and sign them out everywhere (POST …/users/{userId}/disable): no new sign-in, refresh tokens stop'))
    .action(async (o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const target = usersTarget(cmd);
      const user = await asUsersFlagError(() => target.api.call<TenantUser>('POST', usersPath(tenantId, o.user, 'disable')));
      print(target.json, user, [
        `disabled ${user.email} (user ${user.id}) of tenant ${tenantId} and signed them out: no new sign-in, their refresh tokens stop; ${ID_TOKEN_WINDOW}`,
        'event "Tenant User Disabled" sent to the platform bus by the admin API',
      ].join('\n'));
    });

  userOption(users.command('set-role')
    .description('move a tenant user to another role group (PUT …/users/{userId}/role: joins the new group first, then leaves the old one: never more than either role)')
    .requiredOption('--role <role>', `the new role: ${ROLES.join(', ')}`))
    .action(async (o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const role = checkRole(o.role);
      const target = usersTarget(cmd);
      const user = await asUsersFlagError(() => target.api.call<TenantUser>('PUT', usersPath(tenantId, o.user, 'role'), { role }));
      print(target.json, user, [
        `${user.email} (user ${user.id}) of tenant ${tenantId} is now ${role}; ${ID_TOKEN_WINDOW}`,
        `event "Tenant User Role Changed" sent to the platform bus by the admin API (none when the role was already ${role})`,
      ].join('\n'));
    });

  userOption(users.command('remove')
    .description('delete a tenant user from the pool (DELETE …/users/{userId}); to keep the user for audit, disable it instead'))
    .action(async (o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const target = usersTarget(cmd);
      const user = await asUsersFlagError(() => target.api.call<TenantUser & { deleted: true }>('DELETE', usersPath(tenantId, o.user)));
      print(target.json, user, [
        `removed ${user.email} (user ${user.id}, role ${user.role ?? '(none)'}) from tenant ${tenantId}; ${ID_TOKEN_WINDOW}`,
        'event "Tenant User Deleted" sent to the platform bus by the admin API',
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
    .addOption(profileOption())
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
