/**
 * `npm run rehearse:deploy-guide` takes no arguments (scripts/rehearse-deploy-guide.ts): `--help`
 * prints the usage, which says the rehearsal uses a config of its own, and anything else is refused
 * with exit 2, before moto or any process is started (it once ran the whole rehearsal for `--help`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/rehearse-deploy-guide.ts', ...args], {
  cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
});

describe('npm run rehearse:deploy-guide arguments', () => {
  it('--help prints the usage (its own config, no AWS account) and exits 0 without rehearsing', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run rehearse:deploy-guide \(no arguments\): .*a config of its own/);
    expect(r.stdout).not.toContain('###');
  }, 60_000);

  it('refuses an unknown argument with the usage, exit 2', () => {
    const r = run('--config', 'tessera.config.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('npm run rehearse:deploy-guide: unknown arguments --config tessera.config.yaml\nusage: npm run rehearse:deploy-guide (no arguments)');
    expect(r.stdout).toBe('');
  }, 60_000);
});
