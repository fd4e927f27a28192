/**
 * A full onboarding with the `tessera` CLI, on this machine: moto plays AWS, the synthesized state
 * machines run in aws-local-stepfunctions with the real Lambda handlers, and the admin API handler
 * answers on loopback. Prints the transcript quoted in the README.
 * Usage: npm run demo:onboarding (installs moto into .venv first when it is missing, as `npm test` does)
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { configWith } from '../support/synth.js';
import { LocalPlatform } from '../integration/support/local-platform.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
// moto plays AWS: install it into .venv unless it is there (or MOTO_SERVER names one), as `npm test`'s
// pretest does; its messages go to stderr, so stdout stays the transcript.
if (!process.env.MOTO_SERVER) execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'ensure-moto.mjs')], { stdio: ['ignore', 2, 2] });
const platform = await LocalPlatform.start(configWith());
const cli = join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs');

async function tessera(...args: string[]): Promise<void> {
  process.stdout.write(`$ tessera ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}\n`);
  await new Promise<void>((resolve) => {
    const child = execFile(process.execPath, [cli, ...args], {
      env: { ...process.env, TESSERA_API_URL: platform.apiUrl, AWS_ACCESS_KEY_ID: 'demo', AWS_SECRET_ACCESS_KEY: 'demo', AWS_SESSION_TOKEN: '' },
    }, () => resolve());
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  });
  process.stdout.write('\n');
}

try {
  await tessera('tenants', 'create', '--id', 'acme', '--name', 'Acme Corp', '--tier', 'professional', '--admin-email', 'platform+acme@example.com', '--request-id', 'acme-2026-11-23', '--watch', '--interval', '0.5');
  await tessera('tenants', 'create', '--id', 'globex', '--name', 'Globex', '--tier', 'enterprise', '--admin-email', 'platform+globex@example.com', '--request-id', 'globex-2026-11-23', '--watch', '--interval', '0.5');
  await tessera('tenants', 'list');
  await tessera('tenants', 'show', 'globex');
  await tessera('tenants', 'create', '--id', 'acme', '--name', 'Someone Else', '--tier', 'starter', '--admin-email', 'x@example.com');
} finally {
  await platform.stop();
}
