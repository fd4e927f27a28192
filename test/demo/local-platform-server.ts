/**
 * The control plane on this machine, kept up for your own `tessera` commands until Ctrl-C: moto plays AWS, the
 * synthesized state machines run in aws-local-stepfunctions with the real Lambda handlers, and the admin API handler
 * answers on 127.0.0.1 (test/integration/support/local-platform.ts, the default config: tiers starter, professional,
 * enterprise). It prints the `export` line to paste into another shell (TESSERA_API_URL, AWS_REGION and placeholder
 * credentials: the local admin API does not check the signature), then e.g.
 *   npx tessera tenants apply -f tenants.yaml --dry-run
 *   npx tessera tenants list
 *   npx tessera tenants show <id>
 * Ctrl-C (SIGINT) or SIGTERM lets the running executions end, closes the admin API and stops moto, then exits 0.
 * Usage: npm run local-platform (installs moto into .venv first when it is missing, as `npm test` does)
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';
import { configWith } from '../support/config-with.js';
import { startDemoPlatform } from './demo-platform.js';

const { platform } = await startDemoPlatform();

/** The environment a shell needs for the CLI to reach this admin API (the operator's shell of test/integration/support/tessera-cli.ts). */
export const shellEnv = { TESSERA_API_URL: platform.apiUrl, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: '' };

process.stdout.write([
  'Tessera local platform: the admin API on moto, up until Ctrl-C.',
  `  admin API  ${platform.apiUrl}`,
  `  AWS (moto) ${platform.moto.endpoint}`,
  '',
  'In another shell:',
  `  export ${Object.entries(shellEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`,
  '  npx tessera tenants apply -f tenants.yaml --dry-run',
  '  npx tessera tenants list',
  '  npx tessera tenants show <id>',
  `(or, with the credentials exported, --api-url ${platform.apiUrl} --region us-east-1 on each command)`,
  `Tiers (the default config): ${Object.keys(configWith().tiers).join(', ')}`,
  '',
].join('\n'));

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: letting running executions end, then stopping the admin API and moto\n`);
    platform.stop().then(
      () => { process.stderr.write('stopped\n'); process.exit(0); },
      (e: unknown) => { process.stderr.write(`stopping failed: ${e instanceof Error ? e.message : String(e)}\n`); process.exit(1); },
    );
  });
}
