import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { withoutTypeOnlyImports } from './type-only-imports.js';

/**
 * What a test file does that outlives it in its process and that nothing resets: such a file runs
 * in a process of its own (vitest.config.ts, project `isolated`). With `isolate: false` the files
 * of a worker share one process and one module cache, so a file doing any of these would change
 * what the next file in that worker sees. Measured: running all of test/unit with `isolate: false`
 * (no resets) failed 11 tests in 6 files (a client still mocked by aws-sdk-client-mock, a module
 * still mocked by vi.mock, spies still installed); all of test/infra, 1 test of
 * lifecycle-definitions.test.ts, which vi.mocks a module.
 */
export const OWN_PROCESS_PATTERNS: readonly RegExp[] = [
  /\bvi\.resetModules\b/, // the module registry reset in the middle of a file
  /\bprocess\.(on|once|chdir|umask)\b/, // process listeners, cwd, file mode mask
  /\b(globalThis|global)\.\w+\s*(\?\?|\|\||&&)?=[^=]/, // globals (fetch, crypto, ...)
  /\(\s*(globalThis|global)\b[^()]*\)\s*(\.\w+|\[[^\]]+\])\s*(\?\?|\|\||&&)?=[^=]/, // the same through a cast: (globalThis as X).awslambda = ...
  /\b(globalThis|global)\[[^\]]+\]\s*(\?\?|\|\||&&)?=[^=]/, // globalThis['x'] = ...
  /\bprocess\.env\s*=[^=]/, // process.env replaced
  /\.prototype\.\w+\s*=[^=]/, // a built-in or library class patched
  /\bprocess\.(addListener|prependListener|prependOnceListener)\b/,
  /\bsetGlobalDispatcher\b/, // undici's process-wide HTTP agent
  // A file that asserts module state across its tests (e.g. that a lazily loaded module is not
  // loaded yet) says so with this marker: another file in the worker may have loaded it.
  /\btessera:own-process\b/,
];

/**
 * Process-wide state that test/support/file-state.ts puts back after every file of the project
 * `shared-reset` (vitest.config.ts): process.env as it was before the file, every
 * aws-sdk-client-mock stub restored, spies, stubbed envs and globals and fake timers undone, and
 * the module registry of project code reset (each file imports lib/, lambdas/ and test helpers
 * afresh, as in a process of its own: module singletons and values read from process.env at
 * import are the file's own). What stays shared is node_modules (the AWS SDK, aws-cdk-lib, zod,
 * sinon), loaded once per worker.
 */
export const RESET_STATE_PATTERNS: readonly RegExp[] = [
  /\bvi\.(spyOn|stubEnv|stubGlobal|useFakeTimers|setSystemTime)\b/, // spies, env/global stubs, clocks
  // Module mocks: vitest keeps them per test file and drops them after it (its mocker's reset, also
  // with isolate: false), and file-state.ts's vi.resetModules() has the next file import project
  // code afresh, so no module keeps a mocked import into the next file.
  /\bvi\.(mock|doMock|unmock|doUnmock|hoisted)\b/,
  /\bprocess\.exitCode\b/, // set back, and the file failed, by file-state.ts's after-file check when it differs
  /\bmockClient\(/, // aws-sdk-client-mock stubs a client class's send for every instance in the process
  /\bprocess\.env(\.\w+|\[[^\]]+\])\s*(\?\?|\|\||&&|\+)?=[^=]/, // process.env.X = (or ??=, ||=, &&=, +=) ...
  /\bdelete\s+process\.env\b/,
  /\bObject\.assign\(\s*process\.env\b/,
];

/** Every pattern of either kind: what a file in project `shared` (no resets) must not do. */
export const PROCESS_STATE_PATTERNS: readonly RegExp[] = [...OWN_PROCESS_PATTERNS, ...RESET_STATE_PATTERNS];

/**
 * Test helpers (paths under test/) whose process-wide state was reviewed and is safe in a shared
 * worker, though their source matches {@link OWN_PROCESS_PATTERNS}: the kind their own source counts
 * as, and why. The test helpers they import are classified as usual.
 */
export const REVIEWED_HELPERS: Readonly<Record<string, { kind: WorkerKind; why: string }>> = {
  'support/temp-dirs.ts': {
    kind: 'shared',
    why: 'one exit hook per process (kept on the process under a Symbol.for key), not one per file; the dirs go after each file',
  },
  'integration/support/moto-server.ts': {
    kind: 'reset',
    why: "a spawned server's process.once('exit', kill) is removed by its stop() (and when it fails to start); a zygote-forked server's " +
      'lifeline is a socket its stop() closes; pointSdkAtMoto writes process.env (put back). A server a file does not stop is found by ' +
      "file-state.ts's after-file check (the child, or the lifeline socket, and the listener), ended, and fails that file",
  },
  'integration/support/api-gateway-emulator.ts': {
    kind: 'reset',
    why: "globalThis.awslambda (the Lambda runtime's streaming global) is put back by the emulator's stop(), with its servers and moto; " +
      'file-state.ts fails a file that leaves a global, a server or a child behind',
  },
};

/** Where a test file may run: with other files as is, with other files and a reset after each, or alone. */
export type WorkerKind = 'shared' | 'reset' | 'own';

const RANK: Record<WorkerKind, number> = { shared: 0, reset: 1, own: 2 };


/** The kind of a test source by itself ({@link OWN_PROCESS_PATTERNS}, then {@link RESET_STATE_PATTERNS}). */
export function sourceKind(source: string): WorkerKind {
  if (OWN_PROCESS_PATTERNS.some((p) => p.test(source))) return 'own';
  if (RESET_STATE_PATTERNS.some((p) => p.test(source))) return 'reset';
  return 'shared';
}

/**
 * The kind of `file` and of the test helpers it imports (relative imports inside `testRoot`,
 * transitively): the strictest of them. Project code (lib/, lambdas/) is not read: in project
 * `shared` it keeps no state a test relies on across files (caches are per client or per call),
 * and in `shared-reset` it is imported afresh by every file.
 */
function workerKind(file: string, testRoot: string, seen = new Set<string>()): WorkerKind {
  if (seen.has(file)) return 'shared';
  seen.add(file);
  const facts = factsOf(file, testRoot);
  let kind = facts.kind;
  if (kind === 'own') return kind;
  for (const helper of facts.helpers) {
    const helperKind = workerKind(helper, testRoot, seen);
    if (RANK[helperKind] > RANK[kind]) kind = helperKind;
    if (kind === 'own') return kind;
  }
  return kind;
}

/** What a file's own source says: its kind alone and the test helpers it loads. */
interface FileFacts { readonly stamp: string; readonly kind: WorkerKind; readonly helpers: readonly string[] }
/**
 * Per file, by path and test root, while its size and modification time stay the same: the config
 * classifies each directory twice (shared, then reset) and every file's helpers again, and the
 * patterns over the sources were most of its ~0.4 s of CPU.
 */
const factsCache = new Map<string, FileFacts>();

function factsOf(file: string, testRoot: string): FileFacts {
  const { size, mtimeMs } = statSync(file);
  const stamp = `${testRoot}\0${size}\0${mtimeMs}`;
  const cached = factsCache.get(file);
  if (cached?.stamp === stamp) return cached;
  const source = readFileSync(file, 'utf8');
  const kind = REVIEWED_HELPERS[relative(testRoot, file).split('\\').join('/')]?.kind ?? sourceKind(source);
  const helpers: string[] = [];
  // Static and dynamic imports of test helpers, either quote; not `import type`/`export type`, which
  // TypeScript erases: they load no module, so nothing of the helper runs in the file's process.
  for (const [, , spec] of withoutTypeOnlyImports(source).matchAll(/\b(from|import\()\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
    const helper = resolve(dirname(file), `${spec}.ts`);
    if (helper.startsWith(testRoot) && existsSync(helper)) helpers.push(helper);
  }
  const facts = { stamp, kind, helpers };
  factsCache.set(file, facts);
  return facts;
}

/** The test files under `dir` (relative to `root`, `/`-separated, sorted) of the given kind. */
function filesOfKind(root: string, dir: string, wanted: WorkerKind): string[] {
  const testRoot = join(root, 'test');
  const files: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.test.ts') && workerKind(child, testRoot) === wanted) files.push(relative(root, child).split('\\').join('/'));
    }
  };
  walk(join(root, dir));
  return files.sort();
}

/**
 * The test files under `dir` (relative to `root`) that touch no process-wide state
 * ({@link PROCESS_STATE_PATTERNS}, in the file or in the test helpers it imports): they may share a
 * worker process and its module cache with other such files (project `shared`). A new file is
 * classified when vitest starts, from its source: one that mocks a client or sets process.env
 * goes to `shared-reset`, one that mocks a module or sets a global runs isolated, without anyone
 * listing it.
 */
export function sharedWorkerFiles(root: string, dir: string): string[] {
  return filesOfKind(root, dir, 'shared');
}

/**
 * The test files under `dir` whose process-wide state is only of the kinds test/support/file-state.ts
 * puts back after each file ({@link RESET_STATE_PATTERNS}, in the file or its helpers, and none of
 * {@link OWN_PROCESS_PATTERNS}): they share a worker process with a reset after each file
 * (project `shared-reset`).
 */
export function resetWorkerFiles(root: string, dir: string): string[] {
  return filesOfKind(root, dir, 'reset');
}
