import type { Command } from 'commander';
import { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';

/** The program-wide options of every admin API command (bin/tessera-cli.ts). */
export type AdminGlobals = { apiUrl?: string; region?: string; json?: boolean };

/**
 * The admin API client of a command and whether it prints JSON: `--api-url`, else
 * `TESSERA_API_URL` (the AdminApiUrl output); the signing region `--region`, else `AWS_REGION`.
 * @default region 'us-east-1'
 * @throws CliError (exit 2) naming the flag or variable when no URL is set or it is not http(s)
 */
export function adminTarget(cmd: Command): { api: AdminClient; json: boolean } {
  const g = cmd.optsWithGlobals<AdminGlobals>();
  const url = g.apiUrl ?? process.env.TESSERA_API_URL;
  if (!url) throw new CliError('no admin API URL: pass --api-url or set TESSERA_API_URL (the AdminApiUrl output of the TesseraPlatform stack)');
  if (!/^https?:\/\//.test(url)) throw new CliError(`${g.apiUrl ? '--api-url' : 'TESSERA_API_URL'} ${url}: expected an https URL, the AdminApiUrl output of the TesseraPlatform stack (https://<id>.execute-api.<region>.amazonaws.com/<stage>)`);
  return { api: new AdminClient(url, g.region ?? process.env.AWS_REGION ?? 'us-east-1'), json: Boolean(g.json) };
}
