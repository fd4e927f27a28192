import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dirs.js';

// test/bench/fake-upstream-main.ts's command line (docs/gateway.md "tessera serve"): --help prints the usage without
// starting a server, and an unknown flag is refused (exit 2) naming it and the known flags, rather than
// starting a server in another mode than the one asked for (a typo such as --tool).
const run = (...args: string[]) => spawnSync(process.execPath, [join('node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/bench/fake-upstream-main.ts', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('fake-upstream-main flags', () => {
  it('--help prints the usage with every flag and exits 0 without starting a server', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npx tsx test\/bench\/fake-upstream-main\.ts \[--tools\] \[--follow-format\] \[--reasoning\] \[--lenient\] \[--help\]\n/);
    for (const flag of ['--tools', '--follow-format', '--reasoning', '--lenient']) expect(r.stdout).toContain(`\n  ${flag} `);
    expect(r.stdout).not.toContain('http://');
    expect(r.stderr).not.toContain('fake upstream pid');
  }, 30_000);

  it('refuses an unknown flag with exit 2, naming it and the known flags', () => {
    const r = run('--reasoning', '--tool');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('fake-upstream-main: unknown argument --tool; known flags: --tools, --follow-format, --reasoning, --lenient, --help\n');
  }, 30_000);
});

/**
 * The README's quick start ("Try the gateway locally"), its first block: the fake upstream's URL goes through a file
 * of the shell's own (mktemp), so two users (or two terminals) on one machine do not read each other's URL, as they did
 * through a fixed /tmp/tessera-upstream.url. Run as written, with `npx tessera` replaced by a function that prints its
 * arguments (the serve line's --upstream) and TMPDIR a directory of the test's, where mktemp makes the file.
 */
describe('the README quick start\'s fake upstream', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Try the gateway locally\n'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;

  it('writes its URL to no fixed path under /tmp', () => {
    expect(block).toContain('serve --tenant acme:enterprise --upstream');
    expect(block).not.toMatch(/\/tmp\//);
    expect(block).toMatch(/\$\(mktemp\)/);
  });

  it('two runs at once, as written, each hand their own upstream\'s URL to serve', async () => {
    const run = () => new Promise<{ serveArgs: string; pid: number; tmp: string }>((resolve, reject) => {
      const tmp = tempDir('tessera-test-quick-start-');
      const stub = 'npx() { if [ "$1" = tessera ]; then shift; printf "%s\\n" "$*"; else command npx "$@"; fi; }\n';
      const shell = spawn('bash', ['-c', stub + block], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      shell.stdout.on('data', (d) => (out += d));
      shell.stderr.on('data', (d) => (err += d));
      // `exit`, not `close`: the fake upstream, in the background, holds the shell's stderr open.
      shell.on('exit', async (code) => {
        if (code !== 0) return reject(new Error(`exit ${code}: ${err}`));
        for (let i = 0; i < 100 && !/fake upstream pid \d+/.test(err); i++) await new Promise((ok) => setTimeout(ok, 50));
        resolve({ serveArgs: out.trim(), pid: Number(/fake upstream pid (\d+)/.exec(err)?.[1]), tmp });
      });
    });
    const runs = await Promise.all([run(), run()]);
    try {
      const urls = runs.map((r) => /^serve --tenant acme:enterprise --upstream (http:\/\/127\.0\.0\.1:\d+\/v1)$/.exec(r.serveArgs)?.[1]);
      expect(urls).toEqual([expect.any(String), expect.any(String)]);
      expect(urls[0]).not.toBe(urls[1]);
      for (const [i, r] of runs.entries()) {
        const files = readdirSync(r.tmp).filter((f) => f.startsWith('tmp.')); // mktemp's (tsx keeps a cache there too)
        expect(files).toHaveLength(1); // under this run's TMPDIR
        expect(readFileSync(join(r.tmp, files[0]!), 'utf8')).toBe(`${urls[i]}\n`);
      }
    } finally {
      for (const r of runs) if (r.pid) process.kill(r.pid);
    }
  }, 60_000);
});
