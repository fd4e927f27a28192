/**
 * Found by a platform engineer trying the README (s22): `npm run demo:onboarding -- --help` ignored
 * --help and ran the whole demo (moto, the synthesized state machines, two onboardings), while
 * `rehearse:deploy-guide` honours it. Every npm `demo:*`, `rehearse:*` and `bench:*` script now
 * prints its usage for --help / -h and exits 0 with nothing run (scripts/help-flag.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
/** The npm scripts the rule covers, with the file `tsx <file>` runs. */
const covered = Object.entries(scripts).filter(([name]) => /^(demo|rehearse|bench):|^local-platform$/.test(name)).map(([name, command]) => {
  const file = /^tsx (\S+\.ts)$/.exec(command)?.[1];
  return { name, command, file };
});

/** The demo's entry as npm runs it (tsx), with no moto and an endpoint nothing answers: a run that started anything would fail or hang. */
/** With the preload of test/unit/cli/start-imports.test.ts, which prints at exit whether the process loaded the config schema. */
const demoRun = (file: string, ...args: string[]) => spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'unit', 'cli', 'count-start-modules.mjs'), '--import', 'tsx', file, ...args], {
  cwd: ROOT, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
  env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', MOTO_SERVER: 'http://127.0.0.1:9' },
});
const demo = (...args: string[]) => demoRun('test/demo/onboarding-demo.ts', ...args);

describe('npm demo:*, rehearse:*, bench:* scripts honour --help / -h', () => {
  it.each([['--help'], ['-h']])('npm run demo:onboarding -- %s prints the usage and exits 0 without running the demo', (flag) => {
    const r = demo(flag);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^A full onboarding with the `tessera` CLI/);
    expect(r.stdout).toContain('Usage: npm run demo:onboarding');
    expect(r.stdout).not.toMatch(/tenants create|onboarding acme/);
    // Nor loaded: the demo's platform (the harness, the config, the Lambda handlers) is imported after the check.
    expect(r.stderr).toBe('aws-cdk-lib modules loaded: 0\nconfig schema loaded: 0\n');
  }, 60_000);

  it('npm run demo:drift -- --help prints the usage and exits 0 without running the demo or loading its platform', () => {
    const r = demoRun('test/demo/drift-demo.ts', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^`tessera tenants drift` on this machine/);
    expect(r.stdout).toContain('Usage: npm run demo:drift');
    expect(r.stderr).toBe('aws-cdk-lib modules loaded: 0\nconfig schema loaded: 0\n');
  }, 60_000);

  it('every such script runs one file whose first import is the --help check (or, rehearse:deploy-guide, its own parser), and names its usage', () => {
    expect(covered.map((s) => s.name)).toEqual(expect.arrayContaining(['demo:onboarding', 'demo:drift', 'rehearse:deploy-guide', 'bench:synth', 'bench:test', 'bench:lifecycle', 'bench:gateway', 'bench:tokens', 'local-platform']));
    for (const { name, command, file } of covered) {
      expect(file, `${name}: ${command}`).toBeDefined();
      const source = readFileSync(join(ROOT, file!), 'utf8');
      if (name === 'rehearse:deploy-guide') {
        expect(source).toMatch(/args\[0\] === '--help' \|\| args\[0\] === '-h'/);
        continue;
      }
      const firstImport = /^import .*$/m.exec(source)?.[0];
      expect(firstImport, name).toMatch(/^import '(\.\.\/)+scripts\/help-flag\.js';$/);
      expect(/^\s*\/\*\*([\s\S]*?)\*\//.exec(source)?.[1], name).toContain(`Usage: npm run ${name}`);
    }
  });
});
