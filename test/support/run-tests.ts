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

// The type-check's result cache (test/support/typecheck-cache.ts), by URL: node runs this file without a
// loader, and tsc would refuse an import ending in `.ts`; the type annotation is erased by Node.
const { storePassedTypecheck, typecheckInputKey, typecheckPassedBefore }: typeof import('./typecheck-cache.js') =
  await import(new URL('./typecheck-cache.ts', import.meta.url).href);

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
const tscArgs = ['--noEmit', '--singleThreaded', '--incremental', '--tsBuildInfoFile', join(typecheckCache, 'tsconfig.tsbuildinfo')];
// Not run at all when every file the last passing check read is unchanged (test/support/typecheck-cache.ts):
// even incremental, tsc parses all ~10,000 files it reads (~6-8 s of CPU) to find that nothing changed.
const cacheOff = process.env.TESSERA_TEST_CACHE === 'off';
const inputs = cacheOff ? undefined : typecheckInputKey(ROOT, typecheckCache, tscArgs);
const passedAt = inputs ? typecheckPassedBefore(typecheckCache, inputs.key) : undefined;
const tscStartedAt = Date.now();
const tsc = passedAt ? undefined : spawn(bin('tsc'), tscArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
tsc?.stdout?.on('data', (d) => (typecheckOutput += String(d)));
tsc?.stderr?.on('data', (d) => (typecheckOutput += String(d)));
// Node's compile cache for vitest's main process and the workers it forks (vitest.config.ts says what it covers).
// test/support/compile-cache.ts's directory, written out: node runs this file without a loader, so it imports no .ts module.
const compileCache = process.env.NODE_COMPILE_CACHE || join(ROOT, 'node_modules', '.cache', 'tessera-test-compile-cache');
const vitest = spawn(bin('vitest'), ['run', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_COMPILE_CACHE: compileCache } });

// Ctrl-C reaches both through the terminal's process group; a plain kill of this process is passed on.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of [tsc, vitest]) if (child && child.exitCode === null) child.kill(signal);
  });
}

const [typecheck, tests] = await Promise.all([tsc ? finished(tsc, started) : { code: 0, seconds: 0 }, finished(vitest, started)]);
if (passedAt) {
  console.log(`\n type-check  tsc --noEmit passed (not run: no file it read has changed since the check that passed at ${passedAt})`);
} else if (typecheck.code === 0) {
  // Kept only when no input changed after tsc started (else the next run checks again).
  if (!cacheOff) storePassedTypecheck(typecheckCache, typecheckInputKey(ROOT, typecheckCache, tscArgs), tscStartedAt);
  console.log(`\n type-check  tsc --noEmit passed (${typecheck.seconds.toFixed(1)} s, run beside the tests)`);
} else {
  process.stdout.write(`\n${typecheckOutput}`);
  console.log(`\n type-check  FAILED: tsc --noEmit exited ${typecheck.code} (errors above)`);
}
process.exitCode = tests.code !== 0 ? tests.code : typecheck.code;
