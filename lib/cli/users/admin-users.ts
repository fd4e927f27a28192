import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { Command } from 'commander';
import { HTTP_TIMEOUTS } from '../../aws-http-timeouts.js';
import type { TenantUser } from '../../../lambdas/identity/tenant-users.js';
import { AdminApiError, AdminClient } from '../admin-client.js';
import { CliError } from '../cli-error.js';
import { PLATFORM_STACK_NAME, platformStackOutputs } from './platform-outputs.js';

type Globals = { apiUrl?: string; region?: string; json?: boolean; profile?: string };

/** The admin API's paths of a tenant's users (lambdas/admin/users-routes.ts); ids and emails URL-encoded. */
export const usersPath = (tenantId: string, userId?: string, action?: 'disable' | 'role') =>
  `/admin/tenants/${encodeURIComponent(tenantId)}/users${userId === undefined ? '' : `/${encodeURIComponent(userId)}`}${action ? `/${action}` : ''}`;

/** The admin API's answer to `GET /admin/tenants/{id}/users`. */
export interface UsersList {
  tenantId: string;
  users: TenantUser[];
}

/** The region in an execute-api URL (`https://<id>.execute-api.<region>.amazonaws.com/<stage>`), else undefined. */
export function regionOfApiUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com/.exec(url)?.[1];
}

/** Where `tessera users` calls: the admin API client, its URL and the region it signs for. */
export interface UsersTarget {
  api: AdminClient;
  url: string;
  /** `--region`, else the region in the execute-api URL, else AWS_REGION, else us-east-1. */
  region: string;
  json: boolean;
  /** `--profile`: the credentials of the admin API calls and the stack lookups. */
  profile?: string;
}

/**
 * The admin API of `--api-url` / TESSERA_API_URL (the AdminApiUrl output of the platform stack),
 * SigV4-signed for `--region`, else the URL's region, else AWS_REGION, else us-east-1.
 * @throws CliError (exit 2) when no URL is given or it is not http(s).
 */
export function usersTarget(cmd: Command, env: NodeJS.ProcessEnv = process.env): UsersTarget {
  const g = cmd.optsWithGlobals<Globals>();
  const url = g.apiUrl ?? env.TESSERA_API_URL;
  if (!url) throw new CliError('no admin API URL: pass --api-url or set TESSERA_API_URL (the AdminApiUrl output of the TesseraPlatform stack); tessera users goes through the admin API (execute-api:Invoke)');
  if (!/^https?:\/\//.test(url)) throw new CliError(`${g.apiUrl ? '--api-url' : 'TESSERA_API_URL'} ${url}: expected an https URL, the AdminApiUrl output of the TesseraPlatform stack (https://<id>.execute-api.<region>.amazonaws.com/<stage>)`);
  const region = g.region ?? regionOfApiUrl(url) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return { api: new AdminClient(url, region, g.profile), url, region, json: Boolean(g.json), profile: g.profile };
}

/** The flag that carries each field the admin API's users routes name in a refusal (`param`). */
const FLAGS: Record<string, string> = { email: '--email', userId: '--user', role: '--role', id: '--tenant', emailPrefix: '--email-prefix', resend: '--resend' };

/**
 * Runs an admin API call, turning a refusal that names a field into a one-line CliError naming the
 * flag that carried it: `--user: no user "x" in tenant "acme" (user_not_found)`. A 400 exits 2
 * (the command line was wrong), any other status 1 (the pool's or the tenant's state). Refusals
 * without a field (API Gateway's 403, 502 `cognito_error`, the transport) pass unchanged (exit 1,
 * or 2 for a wrong URL or signing region).
 */
export async function asUsersFlagError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof AdminApiError) || !e.param) throw e;
    const flag = FLAGS[e.param];
    if (!flag) throw e;
    const message = e.message.replace(/ \([a-z_]+, field [^)]+\)$/, '');
    const said = message.startsWith(`${e.param} = `) ? `${flag} ${message.slice(e.param.length + 3)}` : `${flag}: ${message}`;
    throw new CliError(`${said}${e.code ? ` (${e.code})` : ''}`, e.status === 400 ? 2 : 1, undefined, e);
  }
}

/** What an invited user needs for `tessera login`: the pool and the gateway's app client, when known. */
export interface SignInHints {
  userPoolId?: string;
  clientId?: string;
}

/**
 * The platform stack's TenantUserPoolId and TenantUserPoolClientId outputs (CloudFormation
 * DescribeStacks, which the TesseraPlatformAdmin permission set allows), for the login command an
 * invitation prints. Best effort: any failure gives no hints (the invitation itself is made).
 */
export async function signInHints(region: string, profile?: string, cloudFormation = new CloudFormationClient({ region, ...(profile ? { profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } })): Promise<SignInHints> {
  try {
    const outputs = await platformStackOutputs(cloudFormation, PLATFORM_STACK_NAME, region);
    return { userPoolId: outputs.TenantUserPoolId, clientId: outputs.TenantUserPoolClientId };
  } catch {
    return {};
  }
}

/** `tessera login --email … --user-pool-id … --client-id …`, with placeholders naming the outputs for what is not known. */
export function loginLine(email: string, hints: SignInHints): string {
  return `tessera login --email ${email} --user-pool-id ${hints.userPoolId ?? '<TenantUserPoolId>'} --client-id ${hints.clientId ?? '<TenantUserPoolClientId>'}`;
}
