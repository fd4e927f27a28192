import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * Session 47: `tessera --json …` interrupted by Ctrl-C while Node was still loading the CLI (its
 * first 0.6 s as `node bin/tessera.mjs`, about 2 s through npx) ended 130 with nothing on stderr: the JSON line of
 * `--json` (program.ts sayInterruptedInJson) is installed only once the program is built. bin/tessera.mjs now listens
 * from its first line. The Ctrl-C is sent by the process itself at a fixed point of the load, not after a delay: a
 * preloaded module hook (module.registerHooks, synchronous, on the main thread) signals SIGINT when bin/tessera.mjs
 * asks for `tsx/esm/api`, before the TypeScript CLI exists. Without a listener Node's default action ends the process
 * at once, with no line.
 */
const dir = tempDir('interrupted-while-loading-');
const bin = join(process.cwd(), 'bin', 'tessera.mjs');

/** A preload that sends the process a SIGINT when `tsx/esm/api` is resolved: a Ctrl-C while the CLI loads. */
function ctrlCWhileLoading(): string {
  const file = join(dir, 'ctrl-c-while-loading.mjs');
  writeFileSync(file, [
    "import { registerHooks } from 'node:module';",
    'let sent = false;',
    'registerHooks({ resolve(specifier, context, next) {',
    "  if (!sent && specifier === 'tsx/esm/api') { sent = true; process.kill(process.pid, 'SIGINT'); }",
    '  return next(specifier, context);',
    '} });',
    '',
  ].join('\n'));
  return file;
}

/** Runs the CLI with the preload; the API URL is a closed port (nothing is reached: the run ends before any call). */
function run(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(ctrlCWhileLoading()).href, bin, ...args], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, TESSERA_API_URL: 'http://127.0.0.1:9/v1', NO_COLOR: '1' },
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

describe('Ctrl-C while Node loads the CLI', () => {
  it('with --json: exit 130 and one interrupted JSON line on stderr, nothing on stdout', () => {
    const result = run(['--json', 'tenants', 'list']);
    expect({ status: result.status, signal: result.signal, stdout: result.stdout }).toEqual({ status: 130, signal: null, stdout: '' });
    // Which listener says it depends on when Node dispatches the signal: bin/tessera.mjs's while it loads, or the program's
    // (sayInterruptedInJson) once it took over; either way the one line of every --json end.
    const lines = result.stderr.trim().split('\n');
    const { error } = JSON.parse(lines.at(-1) ?? '') as { error: Record<string, unknown> };
    expect({ type: error.type, code: error.code }).toEqual({ type: 'interrupted', code: 'command_stopped' });
    expect(error.message).toMatch(/^interrupted \(Ctrl-C\) (while tessera was starting: no command ran, nothing was sent|before tessera tenants list ended; anything it had started goes on)$/);
  });

  it("without --json: Node's default action, as before (ended by the signal, which a shell reports as 130; no line)", () => {
    const result = run(['tenants', 'list']);
    expect({ status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: null, signal: 'SIGINT', stdout: '', stderr: '' });
  });
});
