import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * What a test file does that outlives it in its process: with `isolate: false` (vitest.config.ts,
 * project `shared`) the files of a worker share one process and one module cache, so a file doing
 * any of these would change what the next file in that worker sees. Measured: running all of
 * test/unit with `isolate: false` failed 11 tests in 6 files (a client still mocked by
 * aws-sdk-client-mock, a module still mocked by vi.mock, spies still installed); all of test/infra,
 * 1 test of lifecycle-definitions.test.ts, which vi.mocks a module (it passed isolated that hour).
 */
export const PROCESS_STATE_PATTERNS: readonly RegExp[] = [
  /\bvi\.(mock|doMock|unmock|spyOn|stubEnv|stubGlobal|useFakeTimers|setSystemTime|resetModules|hoisted)\b/, // module registry, spies, clocks
  /\bmockClient\(/, // aws-sdk-client-mock stubs a client class's send for every instance in the process
  /\bprocess\.env(\.\w+|\[[^\]]+\])\s*(\?\?|\|\||&&|\+)?=[^=]/, // process.env.X = (or ??=, ||=, &&=, +=) ...
  /\bdelete\s+process\.env\b/,
  /\bObject\.assign\(\s*process\.env\b/,
  /\bprocess\.(on|once|chdir|exitCode|umask)\b/, // process listeners, cwd, exit status
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

/** Test helpers whose process-wide state is meant to be shared: temp-dirs.ts's exit hook (once per process). */
const SHARED_BY_DESIGN = new Set(['support/temp-dirs.ts']);

/**
 * Whether `file` or a test helper it imports (relative imports inside `testRoot`, transitively)
 * matches one of {@link PROCESS_STATE_PATTERNS}. Project code (lib/, lambdas/) is not read: it
 * keeps no state a test relies on across files (caches are per client or per call).
 */
function touchesProcessState(file: string, testRoot: string, seen = new Set<string>()): boolean {
  if (seen.has(file) || SHARED_BY_DESIGN.has(relative(testRoot, file).split('\\').join('/'))) return false;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  if (PROCESS_STATE_PATTERNS.some((p) => p.test(source))) return true;
  // Static and dynamic imports of test helpers, either quote.
  for (const [, , spec] of source.matchAll(/\b(from|import\()\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
    const helper = resolve(dirname(file), `${spec}.ts`);
    if (helper.startsWith(testRoot) && existsSync(helper) && touchesProcessState(helper, testRoot, seen)) return true;
  }
  return false;
}

/**
 * The test files under `dir` (relative to `root`, `/`-separated) that touch no process-wide state
 * ({@link PROCESS_STATE_PATTERNS}, in the file or in the test helpers it imports): they may share a
 * worker process with other such files. A new file is classified when vitest starts, from its
 * source: one that mocks a client or sets process.env runs isolated without anyone listing it.
 */
export function sharedWorkerFiles(root: string, dir: string): string[] {
  const testRoot = join(root, 'test');
  const files: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.test.ts') && !touchesProcessState(child, testRoot)) files.push(relative(root, child).split('\\').join('/'));
    }
  };
  walk(join(root, dir));
  return files.sort();
}
