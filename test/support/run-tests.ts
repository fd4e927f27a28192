/**
 * `npm test`: the type-check (`tsc --noEmit`) and the whole suite (`vitest run`) at the same time,
 * one command, failing when either fails. Arguments go to vitest (`npm test -- --reporter=json ...`).
 *
 * Run at the same time because they share no state and neither saturates the machine alone: the
 * suite's workers spend much of their time waiting on moto, child CLIs and sockets, and the
 * type-check fills those gaps (one after the other, its ~8 s of CPU came on top of the suite).
 * tsc runs `--singleThreaded`: TypeScript 7's parallel checkers check shared declarations once per
 * checker (about twice the CPU: 7-8 s single-threaded, 12-15 s with its default checkers, measured
 * on this 2-core machine), and CPU is what the suite's workers need. It runs `--incremental` with its
 * build info in `node_modules/.cache/tessera-tsc/`: a run after a small edit checks what changed
 * (about 6 s of CPU instead of 11-13 s; a first run, as on a fresh clone, costs what it did).
 *
 * vitest's output streams as it comes; the type-check's is held back and printed after it, with
 * its wall time, so the two do not interleave. Exit status: vitest's when it failed, else tsc's.
 * Runs on the project's Node 24 (type stripping): no tsx, no project imports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

interface Finished {
  code: number;
  seconds: number;
}

function finished(child: ChildProcess, started: number): Promise<Finished> {
  return new Promise((resolve) => {
    child.once('error', (error) => {
      console.error(error);
      resolve({ code: 1, seconds: (performance.now() - started) / 1000 });
    });
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), seconds: (performance.now() - started) / 1000 }));
  });
}

const started = performance.now();
let typecheckOutput = '';
// Incremental: the last check's results (`.tsbuildinfo`, outside git) let tsc re-check only the files that
// changed and those depending on them; errors of unchanged files are reported from it as before.
const typecheckCache = join(ROOT, 'node_modules', '.cache', 'tessera-tsc');
mkdirSync(typecheckCache, { recursive: true });
const tsc = spawn(bin('tsc'), ['--noEmit', '--singleThreaded', '--incremental', '--tsBuildInfoFile', join(typecheckCache, 'tsconfig.tsbuildinfo')], {
  cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
});
tsc.stdout?.on('data', (d) => (typecheckOutput += String(d)));
tsc.stderr?.on('data', (d) => (typecheckOutput += String(d)));
// Node's compile cache for vitest's main process and the workers it forks (vitest.config.ts says what it covers).
// test/support/compile-cache.ts's directory, written out: node runs this file without a loader, so it imports no .ts module.
const compileCache = process.env.NODE_COMPILE_CACHE || join(ROOT, 'node_modules', '.cache', 'tessera-test-compile-cache');
const vitest = spawn(bin('vitest'), ['run', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_COMPILE_CACHE: compileCache } });

// Ctrl-C reaches both through the terminal's process group; a plain kill of this process is passed on.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of [tsc, vitest]) if (child.exitCode === null) child.kill(signal);
  });
}

const [typecheck, tests] = await Promise.all([finished(tsc, started), finished(vitest, started)]);
if (typecheck.code === 0) {
  console.log(`\n type-check  tsc --noEmit passed (${typecheck.seconds.toFixed(1)} s, run beside the tests)`);
} else {
  process.stdout.write(`\n${typecheckOutput}`);
  console.log(`\n type-check  FAILED: tsc --noEmit exited ${typecheck.code} (errors above)`);
}
process.exitCode = tests.code !== 0 ? tests.code : typecheck.code;
