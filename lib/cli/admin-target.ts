import { Option, type Command } from 'commander';
import { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';

/** The program-wide options of every admin API command (bin/tessera-cli.ts). */
export type AdminGlobals = { apiUrl?: string; region?: string; json?: boolean; profile?: string };

/**
 * `--profile <profile>` of every command group that calls the admin API or AWS with your credentials (tenants, keys,
 * users, login), as dlq, doctor and admins take it: the profile whose credentials sign the calls. Read with
 * `optsWithGlobals()` by the group's subcommands (`tessera tenants list --profile x`). Was refused (exit 2) by all of them.
 */
export const profileOption = () => new Option('--profile <profile>', 'AWS profile whose credentials sign the calls (default: $AWS_PROFILE, else the default credential chain)');

/**
 * The admin API client of a command and whether it prints JSON: `--api-url`, else
 * `TESSERA_API_URL` (the AdminApiUrl output); the signing region `--region`, else `AWS_REGION`; the credentials of `--profile`, else the default chain.
 * @default region 'us-east-1'
 * @throws CliError (exit 2) naming the flag or variable when no URL is set or it is not http(s)
 */
export function adminTarget(cmd: Command): { api: AdminClient; json: boolean } {
  const g = cmd.optsWithGlobals<AdminGlobals>();
  const url = g.apiUrl ?? process.env.TESSERA_API_URL;
  if (!url) throw new CliError('no admin API URL: pass --api-url or set TESSERA_API_URL (the AdminApiUrl output of the TesseraPlatform stack)', 2, { type: 'config_error', code: 'no_api_url' });
  if (!/^https?:\/\//.test(url)) throw new CliError(`${g.apiUrl ? '--api-url' : 'TESSERA_API_URL'} ${url}: expected an https URL, the AdminApiUrl output of the TesseraPlatform stack (https://<id>.execute-api.<region>.amazonaws.com/<stage>)`);
  return { api: new AdminClient(url, g.region ?? process.env.AWS_REGION ?? 'us-east-1', g.profile), json: Boolean(g.json) };
}
