import { build, transform, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, utimesSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COMPILE_CACHE_DIR } from './compile-cache.js';

/**
 * The project's command-line entry points bundled once per state of the sources, for tests that
 * must run them as real processes (exit codes, signals, stdout/stderr, nothing left running).
 *
 * `node bin/tessera.mjs` registers tsx and loads the TypeScript of the command it runs through its
 * loader hooks at every start: about 0.5 s of CPU here (1-1.2 s for `--help`, which loads every
 * command). `node <bundle>` loads the project's code bundled by esbuild, and with it the pure
 * JavaScript packages every command loads (BUNDLED_PACKAGES: zod, yaml, commander, jose, the AWS
 * SDK and Smithy, their ES module builds where they have one); every other package is imported
 * from node_modules at run time: about 0.2 s for a command's refusal. Only the wrapper differs; bin/tessera.mjs itself (the Node version
 * check, tsx) stays covered by the runs the test files keep on it.
 *
 * The bundle is the directory `.tessera/test-cli-bundle/<entry>-<key>/` (the entry point and, split
 * off by esbuild, the chunks its dynamic imports load, so a run loads only the command it runs, as
 * under tsx: lib/cli/program.ts); the key is a SHA-256 over the
 * checkout's real path, this file (how it is built) and every file the entry can import (`bin/`, `constructs/`, `lambdas/`, `lib/`, `types/`,
 * and the test directories an entry under test/ names) and `package.json`, `package-lock.json`,
 * `tsconfig.json`, and Node's version. A change to any of them is a new bundle, built by the first test process that
 * asks (the others of the run wait for its lock file); a build that bundles a project file outside
 * the key's inputs fails, so the key cannot miss one. Bundles not used for an hour are removed when
 * a new one is written.
 *
 * `import.meta.url`, `.dirname` and `.filename` in the project's files are replaced by their
 * source file's values, so files read next to a module (the tokenizer's ranks) are found where they
 * are. The CLI's bundle has serve's worker thread bundled beside it (COMPANIONS).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// In this checkout (.tessera/ is git-ignored), not under node_modules: a bundle carries its
// checkout's absolute source paths (serve's worker script, the tokenizer's ranks), and node_modules
// may be shared by several checkouts through a symlink. The key holds the checkout's real path too.
const CACHE_DIR = join(ROOT, '.tessera', 'test-cli-bundle');
const INPUT_DIRS = ['bin', 'constructs', 'lambdas', 'lib', 'types'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];
/** A lock older than this was left by a process that died: ignored. */
const LOCK_STALE_MS = 120_000;
/** Bundles older than this are removed when a new one is written. */
const KEEP_MS = 3_600_000;

/** Node's compile cache for the children of test processes (test/support/compile-cache.ts): about a third of a CLI start. */
export { COMPILE_CACHE_DIR };

/** `{ NODE_COMPILE_CACHE }` for a child's environment. */
export const compileCacheEnv = (): { NODE_COMPILE_CACHE: string } => ({ NODE_COMPILE_CACHE: COMPILE_CACHE_DIR });

const built = new Map<string, Promise<string>>();
/** This file's own text, in the key too: a change to how bundles are built is a new bundle. */
const BUILDER = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex');

/**
 * The path of `entry` (relative to the project root, e.g. `bin/tessera-cli.ts`) bundled as an ES
 * module for `node <path> <args>` (or a `new Worker(<path>)` without tsx): built once per state of
 * the sources, shared by the test processes of a run. Also sets NODE_COMPILE_CACHE in this
 * process's environment (see COMPILE_CACHE_DIR), which children started with `{ ...process.env }` inherit.
 * @param testInputs directories or files under test/ (relative to the root) the entry imports, hashed
 *   into the key with the production sources (e.g. `['test/support', 'test/integration/support']`)
 * @throws Error when the bundle holds a project file outside the key's inputs (name it in testInputs)
 */
export function bundledEntry(entry: string, testInputs: readonly string[] = []): Promise<string> {
  // A process-wide write (test/support/shared-worker-files.ts sees it): files using this run isolated or in a shared-reset/shared-integration worker, where file-state.ts puts process.env back after each file.
  if (!process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = COMPILE_CACHE_DIR;
  const inputs = [...INPUT_DIRS, ...testInputs, ...INPUT_FILES];
  const key = `${realpathSync(ROOT)}\0${entry}\0${inputs.join('\0')}\0${sourcesKey(inputs)}\0${BUILDER}\0${process.version}`;
  let path = built.get(key);
  if (!path) built.set(key, path = cachedOrBuilt(entry, inputs, createHash('sha256').update(key).digest('hex').slice(0, 24)));
  return path;
}

/** `bin/tessera-cli.ts` bundled: what `node bin/tessera.mjs` runs, without tsx. */
export const tesseraBundle = (): Promise<string> => bundledEntry('bin/tessera-cli.ts');

/** `lib/preflight/cli.ts` bundled: what `npm run preflight` runs, without tsx. */
export const preflightBundle = (): Promise<string> => bundledEntry('lib/preflight/cli.ts');

const keyMemo = new Map<string, string>();

/** SHA-256 over the path and content of every file of `inputs`, in a fixed order (once per process and inputs). */
function sourcesKey(inputs: readonly string[]): string {
  const memoKey = inputs.join('\0');
  const memo = keyMemo.get(memoKey);
  if (memo) return memo;
  const hash = createHash('sha256');
  const add = (rel: string) => {
    const path = join(ROOT, rel);
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(`${rel}/${name}`);
    } else {
      hash.update(`${rel}\0`).update(readFileSync(path)).update('\0');
    }
  };
  for (const input of inputs) add(input);
  const key = hash.digest('hex').slice(0, 32);
  keyMemo.set(memoKey, key);
  return key;
}

/**
 * The bundle of `entry` in its directory `<name>-<key>/`: the entry as `<entry's base name>.mjs`
 * and, with esbuild's code splitting, each module a dynamic `import()` loads (the CLI's commands,
 * lib/cli/program.ts) in a chunk of its own, so that a run loads only what it imports, as under tsx.
 */
async function cachedOrBuilt(entry: string, inputs: readonly string[], key: string): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const name = entry.replace(/[^A-Za-z0-9]+/g, '-').replace(/-ts$/, '');
  const dir = join(CACHE_DIR, `${name}-${key}`);
  const file = join(dir, `${entryBase(entry)}.mjs`);
  const lock = `${dir}.lock`;
  const waitUntil = Date.now() + LOCK_STALE_MS;
  for (;;) {
    if (existsSync(file)) return touched(dir, file);
    if (await takeLock(lock)) break;
    if (Date.now() > waitUntil) break; // the holder is stuck: build without the lock
    await new Promise((ok) => setTimeout(ok, 100));
  }
  try {
    if (existsSync(file)) return file; // written between our last look and the lock
    const partial = `${dir}.${process.pid}.tmp`;
    await rm(partial, { recursive: true, force: true });
    try {
      const define: Record<string, string> = {};
      for (const companion of COMPANIONS[entry] ?? []) {
        const base = entryBase(companion.entry);
        await bundleInto(companion.entry, join(partial, base), inputs, {});
        define[companion.define] = JSON.stringify(join(dir, base, `${base}.mjs`));
      }
      await bundleInto(entry, partial, inputs, define);
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      throw e;
    }
    await rename(partial, dir); // atomic: other processes see the whole bundle or none
    await prune(dir);
    return file;
  } finally {
    await rm(lock, { force: true });
  }
}

/** `lib/cli/serve-worker.ts` → `serve-worker`: the name of an entry's output (`.mjs`) and of a companion's directory. */
const entryBase = (entry: string) => basename(entry).replace(/\.[cm]?[jt]s$/, '');

/**
 * Bundles built with an entry, each in a directory of its own beside it, and the identifier whose
 * esbuild `define` gives the entry its path: the thread of `tessera serve --workers`
 * (TESSERA_SERVE_WORKER_BUNDLE in lib/cli/serve-command.ts), so the bundled CLI's threads run
 * bundled too instead of through tsx (about 0.9 s of CPU a thread). `bin/tessera.mjs` itself runs
 * everything through tsx, its `serve --workers` threads included (serve-worker.ts).
 */
const COMPANIONS: Record<string, ReadonlyArray<{ entry: string; define: string }>> = {
  'bin/tessera-cli.ts': [{ entry: 'lib/cli/serve-worker.ts', define: 'TESSERA_SERVE_WORKER_BUNDLE' }],
};

/** esbuild of `entry` into `outdir` (split at dynamic imports). @throws Error when it bundles a project file outside `inputs` */
async function bundleInto(entry: string, outdir: string, inputs: readonly string[], define: Record<string, string>): Promise<void> {
  const { metafile } = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT, // metafile paths relative to the root, as `inputs` are
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    // A package's ES module build before its CommonJS one (the AWS SDK's dist-es, not dist-cjs): an
    // `import()` of a bundled CommonJS module gives only its default export (esbuild follows
    // Node's rule without Node's named exports), and the CLI imports AWS SDK clients that way.
    mainFields: ['module', 'main'],
    logLevel: 'error',
    metafile: true,
    define,
    // The bundled packages' CommonJS calls require() for Node's modules and the packages left external.
    banner: { js: "import { createRequire as __tesseraCreateRequire } from 'node:module'; const require = __tesseraCreateRequire(import.meta.url);" },
    plugins: [httpByRequire, externalPackages, sourceImportMeta],
  });
  // node_modules is in the key through package-lock.json; http-by-require's module lists the exports of the running Node's http (its version is in the key).
  const outside = Object.keys(metafile.inputs).filter((path) => !/(^|\/)node_modules\//.test(path) && !path.startsWith('http-by-require:') && !inputs.some((input) => path === input || path.startsWith(`${input}/`)));
  if (outside.length) throw new Error(`bundling ${entry}: ${outside.join(', ')} not among the bundle key's inputs (${inputs.join(', ')}); name their directory in bundledEntry's testInputs`);
}

/**
 * Packages bundled into the entry rather than imported from node_modules when it runs: the pure
 * JavaScript ones a CLI start loads, with no file of their own read at run time (no `__dirname`,
 * `import.meta.url` or `require.resolve` in their code) and imported by no package left external
 * (so there is one instance of each). Resolving and loading their few hundred files from
 * node_modules was a quarter to two fifths of a start (CPU per start, the machine loaded, old and new bundle
 * alternated: `serve` refusing a flag 0.36-0.41 → 0.20-0.23 s, `serve` up and listening 0.62-0.67 → 0.42-0.54 s,
 * `tenants list` against a closed port 0.27-0.30 → 0.18-0.21 s); a build costs more, once per state of
 * the sources (the CLI's: ~1.2 s of esbuild's CPU instead of ~0.1 s). Others (gpt-tokenizer reads its ranks beside its code; aws-cdk-lib, constructs,
 * cdk-nag, iam-simulate, openai) stay external, as do Node's own modules.
 */
const BUNDLED_PACKAGES = /^(zod|yaml|commander|jose|tslib|bowser|fast-xml-parser|strnum|mnemonist|obliterator|uuid|@aws-sdk\/[^/]+|@smithy\/[^/]+|@aws-crypto\/[^/]+)(\/|$)/;

/** Every package import external but BUNDLED_PACKAGES' (esbuild's `packages: 'external'` with exceptions). */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED_PACKAGES.test(args.path) && !args.path.startsWith('node:') ? undefined : { path: args.path, external: true }));
  },
};

/**
 * Node's `http` module reached through `require` instead of an ES module import: the same module
 * object, without its ES module facade. Building that facade reads every export, and three of
 * http's are getters that load undici, Node's fetch (`WebSocket`, `CloseEvent`, `MessageEvent`):
 * 30-50 ms of CPU in every process or thread that imports `node:http` (the AWS SDK's handler does,
 * for moto's http endpoint, and serve's server), against 3-5 ms required (`node -e`, five runs each).
 * `import()` and static imports of `http`/`node:http` (not `require`) get a module whose default export is
 * `require('node:http')` and whose named exports are its properties but those three (an import of
 * one of them fails the build: no such export); fetch still loads undici when it is first used.
 * Run through bin/tessera.mjs, the CLI imports http as an ES module: only the start costs differ.
 */
const HTTP_UNDICI_GETTERS = new Set(['WebSocket', 'CloseEvent', 'MessageEvent']);
const httpByRequire: Plugin = {
  name: 'http-by-require',
  setup(b) {
    // The module's own require('node:http') is Node's (external), as is a bundled CommonJS package's
    // require('http') (externalPackages: Node's module object itself); ES module imports get the module.
    b.onResolve({ filter: /^(node:)?http$/ }, (args) => {
      if (args.namespace === 'http-by-require') return { path: 'node:http', external: true };
      return args.kind === 'import-statement' || args.kind === 'dynamic-import' ? { path: 'node:http', namespace: 'http-by-require' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'http-by-require' }, async () => {
      const names = Object.keys(await import('node:http')).filter((name) => name !== 'default' && !HTTP_UNDICI_GETTERS.has(name));
      // `require` is the banner's (createRequire), defined at the top of every output file.
      return { contents: `const http = require('node:http');\nexport default http;\nexport const { ${names.join(', ')} } = http;\n`, loader: 'js' };
    });
  },
};

/** Replaces `import.meta.url|dirname|filename` in the project's files by the source file's own. */
const sourceImportMeta: Plugin = {
  name: 'source-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      if (relative(ROOT, args.path).startsWith('node_modules')) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.')) return undefined;
      // define works on the syntax tree: an `import.meta.url` inside a string stays as it is.
      const { code } = await transform(text, {
        loader: args.path.endsWith('ts') ? 'ts' : 'js',
        format: 'esm',
        sourcefile: args.path,
        define: {
          'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
          'import.meta.dirname': JSON.stringify(dirname(args.path)),
          'import.meta.filename': JSON.stringify(args.path),
        },
      });
      return { contents: code, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/** Creates the lock file unless it exists and is fresh; true when this process holds it. */
async function takeLock(lock: string): Promise<boolean> {
  try {
    await (await open(lock, 'wx')).close();
    return true;
  } catch {
    try {
      if (Date.now() - (await stat(lock)).mtimeMs > LOCK_STALE_MS) await rm(lock, { force: true });
    } catch { /* removed meanwhile */ }
    return false;
  }
}

/** Marks the bundle `dir` as in use (its mtime now): prune() leaves a bundle alone for KEEP_MS after its last use. @returns `file` */
function touched(dir: string, file: string): string {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch { /* removed by another process's prune: exists again with its next build */ }
  return file;
}

/** Removes what was not used for KEEP_MS but `keep`: bundles (directories, and the single files of earlier versions), a dead process's partial build or lock. */
async function prune(keep: string): Promise<void> {
  for (const name of readdirSync(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    try {
      if (path !== keep && Date.now() - (await stat(path)).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
    } catch { /* removed by another process */ }
  }
}
