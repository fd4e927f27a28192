import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// test/bench/fake-upstream-main.ts's command line (README "tessera serve"): --help prints the usage without
// starting a server, and an unknown flag is refused (exit 2) naming it and the known flags, rather than
// starting a server in another mode than the one asked for (a typo such as --tool).
const run = (...args: string[]) => spawnSync(process.execPath, [join('node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/bench/fake-upstream-main.ts', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('fake-upstream-main flags', () => {
  it('--help prints the usage with every flag and exits 0 without starting a server', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npx tsx test\/bench\/fake-upstream-main\.ts \[--tools\] \[--follow-format\] \[--reasoning\] \[--help\]\n/);
    for (const flag of ['--tools', '--follow-format', '--reasoning']) expect(r.stdout).toContain(`\n  ${flag} `);
    expect(r.stdout).not.toContain('http://');
    expect(r.stderr).not.toContain('fake upstream pid');
  }, 30_000);

  it('refuses an unknown flag with exit 2, naming it and the known flags', () => {
    const r = run('--reasoning', '--tool');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('fake-upstream-main: unknown argument --tool; known flags: --tools, --follow-format, --reasoning, --help\n');
  }, 30_000);
});
