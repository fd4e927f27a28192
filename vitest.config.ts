import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { COMPILE_CACHE_DIR } from './test/support/compile-cache.js';
import { LongestFirstSequencer } from './test/support/sequencer.js';
import { resetWorkerFiles, sharedWorkerFiles } from './test/support/shared-worker-files.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

// Node's compile cache (Node >= 22.1) for the worker processes, which vitest forks with this
// process's environment: V8 keeps the compiled code of each file Node itself loads (vitest's and
// vite's own modules, and the externalized node_modules: the AWS SDK clients, aws-cdk-lib, zod,
// sinon) and the next worker reuses it instead of parsing and compiling again. Not covered: project
// files (lib/, lambdas/, test/), which vitest transforms and evaluates itself (their transforms are
// vitest's fsModuleCache, node_modules/.vitest-cache). Measured: 0.75 -> 0.56 s of CPU per worker
// that imports the SDK, aws-sdk-client-mock, zod and aws-cdk-lib. The same directory as the test
// CLIs' (test/support/compile-cache.ts); run-tests.ts sets it for vitest's main process.
process.env.NODE_COMPILE_CACHE ??= COMPILE_CACHE_DIR;

// Unit and infra files that touch no process-wide state (no client or module mocks, no
// process.env writes, no globals; test/support/shared-worker-files.ts): they share worker
// processes (isolate: false), so the AWS SDK, aws-cdk-lib, zod schemas and the config are imported
// once per worker instead of once per file, and the default app synthesized once per worker
// (test/support/default-app.ts). Measured on test/unit's 87 such files, 2 workers: 87.4 s CPU
// isolated, 55.8 s shared, the same 960 tests passing. The isolation and preflight files too: they
// keep only pure memos in the process (the IAM simulator's answers, lib/preflight/iam-eval.ts), and
// each saved its process start, its imports and its read of the cached blueprints (~0.4-1 s a file).
const SHARED_FILES = ['test/unit', 'test/infra', 'test/isolation', 'test/preflight'].flatMap((dir) => sharedWorkerFiles(ROOT, dir));
// Unit and infra files whose process-wide state is of a kind put back after each file (client
// mocks, process.env, spies, fake timers; test/support/file-state.ts, which also has project code
// imported afresh by each file): they share worker processes too, and only node_modules stay
// loaded from one file to the next.
const RESET_FILES = [...resetWorkerFiles(ROOT, 'test/unit'), ...resetWorkerFiles(ROOT, 'test/infra')];
// Integration files whose process-wide state is of those kinds too (the classifier sees no module
// mock, global, listener or marker in them or their helpers, or only in reviewed helpers such as
// moto-server.ts: shared-worker-files.ts REVIEWED_HELPERS): they share worker processes with the
// same resets, whether the classifier found state to reset or none, because what it cannot see
// (child processes, servers, sockets: moto, fake upstreams, gateways, CLIs) is checked after each
// file instead: file-state.ts ends what a file left running and fails that file.
const INTEGRATION_FILES = [...sharedWorkerFiles(ROOT, 'test/integration'), ...resetWorkerFiles(ROOT, 'test/integration')].sort();

/** `--sequence.shuffle`, `--sequence.shuffle.files` (and `=true`) on vitest's command line. */
const SHUFFLE_REQUESTED = process.argv.some((arg) => /^--sequence\.shuffle(\.files)?(=true)?$/.test(arg));

export default defineConfig({
  test: {
    // Synthesizing the whole app takes seconds on a 2-core machine; these are limits, not targets.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // vitest's default is one worker per core minus one: 1 on a 2-core machine, the whole suite in
    // series while most integration files wait on moto, child CLIs and sockets. A worker keeps about
    // half a core busy on average (the whole suite: 335 s of CPU over 621 s of summed file wall time,
    // 2026-12-04), so two workers per core keep the cores busy through those waits: measured on this
    // 2-core machine, quiet, warm, the same 483 files passing: 3 workers 208 s wall, 4 workers 186 s
    // (the CPU floor, 335 s over 2 cores, is 168 s). `--maxWorkers` on the command line wins.
    maxWorkers: Math.max(4, availableParallelism() * 2),
    // Longest files first, from vitest's results cache or, on a fresh clone, from
    // test/support/file-durations.json (test/support/sequencer.ts). Not when the command line asks
    // for a shuffle: vitest keeps a configured sequencer and then drops `--sequence.shuffle.files`
    // (it picks its RandomSequencer only when none is configured), so the order would not change.
    sequence: SHUFFLE_REQUESTED ? {} : { sequencer: LongestFirstSequencer },
    // Silent Powertools logs, and every temp dir made through test/support/temp-dirs.ts removed after its file.
    setupFiles: ['test/support/test-setup.ts'],
    // Before and after the run: temp dirs of test processes that were killed (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'shared', include: SHARED_FILES, isolate: false },
      },
      {
        extends: true,
        test: { name: 'shared-reset', include: RESET_FILES, isolate: false, setupFiles: ['test/support/file-state.ts'] },
      },
      {
        extends: true,
        test: { name: 'shared-integration', include: INTEGRATION_FILES, isolate: false, setupFiles: ['test/support/file-state.ts'] },
      },
      {
        extends: true,
        // A fresh worker process per file: everything else (unit and infra files that set globals,
        // listeners or prototypes, or carry the marker tessera:own-process).
        test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: [...SHARED_FILES, ...RESET_FILES, ...INTEGRATION_FILES] },
      },
    ],
  },
});
