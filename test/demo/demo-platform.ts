import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { configWith } from '../support/synth.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { USAGE_TABLE_ENV } from '../../lambdas/admin/usage-routes.js';
import { LocalPlatform } from '../integration/support/local-platform.js';

/** A running demo platform and a `tessera` CLI pointed at it. */
export interface DemoPlatform {
  platform: LocalPlatform;
  /** Runs `tessera <args>` against the platform, printing `$ tessera …`, then its stdout and stderr, then a blank line. Never throws on a non-zero exit: the transcript shows it. */
  tessera(...args: string[]): Promise<void>;
}

/**
 * The demos' platform on this machine: moto plays AWS, the synthesized state machines run in
 * aws-local-stepfunctions with the real Lambda handlers, and the admin API handler answers on loopback
 * (test/integration/support/local-platform.ts), with the default config, and the gateway's usage table
 * (`tessera-usage`, named to the admin API as in AWS; the platform fixture makes it for every LocalPlatform) so that
 * `tessera tenants usage <id>` answers: without it the admin API's usage route had no table and answered 500
 * "internal error; see the admin API logs", whose logs the demo silences (found on `npm run local-platform`).
 * moto is installed into .venv unless it is there (or MOTO_SERVER names one), as `npm test`'s pretest
 * does; its messages go to stderr, so stdout stays the transcript. The caller stops `platform`.
 * @param options.port the admin API's port on 127.0.0.1 (LocalPlatform.start); @default 0 (a free one)
 * @param options.config the platform config (tiers, regions, accounts) the lifecycle and the admin API run with; @default the default config
 * @throws LocalPortError when that port cannot be bound (taken: `code` EADDRINUSE), before the moto server starts
 */
export async function startDemoPlatform(options: { port?: number; config?: PlatformConfig } = {}): Promise<DemoPlatform> {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  if (!process.env.MOTO_SERVER) execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'ensure-moto.mjs')], { stdio: ['ignore', 2, 2] });
  const platform = await LocalPlatform.start(options.config ?? configWith(), { port: options.port });
  process.env[USAGE_TABLE_ENV] = 'tessera-usage'; // made by the platform fixture (support/platform-fixture.ts)
  const cli = join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs');
  const tessera = async (...args: string[]): Promise<void> => {
    process.stdout.write(`$ tessera ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}\n`);
    await new Promise<void>((resolve) => {
      const child = execFile(process.execPath, [cli, ...args], {
        env: { ...process.env, TESSERA_API_URL: platform.apiUrl, AWS_ACCESS_KEY_ID: 'demo', AWS_SECRET_ACCESS_KEY: 'demo', AWS_SESSION_TOKEN: '' },
      }, () => resolve());
      child.stdout?.pipe(process.stdout);
      child.stderr?.pipe(process.stderr);
    });
    process.stdout.write('\n');
  };
  return { platform, tessera };
}
