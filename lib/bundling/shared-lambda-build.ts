import { createHash } from 'node:crypto';
import { buildSync, type LogLevel, type Metafile, version as esbuildVersion } from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeDirsOfGoneProcesses } from '../process-alive.js';
import { buildKey, linkOrCopy, restoreBuild, storeBuild } from './lambda-build-cache.js';
import { lambdaEntries } from './lambda-entries.js';

/** What may differ between two shared builds of one synth; everything else is fixed (`LAMBDA_BUILD`). */
export interface SharedLambdaBuildOptions {
  /**
   * esbuild `define`: identifiers replaced by these JavaScript expressions in every module of the
   * build, e.g. `{ 'process.env.TESSERA_PLATFORM_CONFIG': '"{…}"' }`. Functions that ask for
   * different values get different builds, so a value inlined for one function reaches no other.
   */
  readonly define: Readonly<Record<string, string>>;
  /** esbuild's log level (`warning`: warnings and errors only). */
  readonly logLevel: LogLevel;
  /** Module patterns left to the Lambda runtime, e.g. `['@aws-sdk/*', '@smithy/*']`. */
  readonly external: readonly string[];
}

/**
 * The esbuild options every Lambda is built with: minified ESM for Node.js 24 (the Lambda runtime,
 * arm64 or x86 alike: the output is JavaScript), linked source maps (`NODE_OPTIONS=--enable-source-maps`
 * on the function), `module` before `main` in package.json, and code splitting: modules two
 * functions share go into shared chunks, and a dynamic `import()` (the router's providers) into
 * a chunk loaded on first use. These are the options `NodejsFunction` was given before the shared
 * build, plus `splitting` (which needs `outdir` and ESM).
 */
export const LAMBDA_BUILD = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  mainFields: ['module', 'main'],
  splitting: true,
  outExtension: { '.js': '.mjs' },
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  // ESM bundles of CommonJS dependencies still call require().
  banner: { js: "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);" },
} as const;

/** The file a function's asset runs: its `handler` export is the Lambda handler `index.handler`. */
export const FUNCTION_ENTRY_FILE = 'index.mjs';

let buildsRun = 0;
let esbuildRuns = 0;

/** A file copied into one function's asset next to its code (read at run time, not bundled). */
export interface ExtraFile {
  /** Absolute path of the file to copy. */
  readonly from: string;
  /** Its name in the asset. */
  readonly name: string;
}

/**
 * One esbuild build of many Lambda entry points (`LAMBDA_BUILD` with one set of
 * `SharedLambdaBuildOptions`) into a flat directory: `<entry>.mjs` per entry point (its handler file
 * with `/` as `.`, e.g. `lifecycle.create-account.mjs`), `chunk-<hash>.mjs` per shared chunk,
 * `<module>-<hash>.mjs` per lazily imported module, each with its `.map`. Chunk names are hashes of
 * their content, and the build is deterministic: the same sources and options give the same files.
 *
 * `writeFunction` copies one function's part of it (its entry and every chunk that entry loads,
 * statically or lazily) into a directory of its own: that directory is the function's asset.
 */
export class SharedLambdaBuild {
  /** Handler files this build holds, e.g. `lifecycle/create-account`. */
  readonly entries: ReadonlySet<string>;
  /** Where the build wrote its files (a fresh directory per build). */
  readonly outdir: string;
  private readonly outputs: Metafile['outputs'];

  /**
   * Builds now (synchronously: CDK stages an asset while its function is constructed), or takes the
   * last build of the same options and entries from `<project root>/.tessera/lambda-build-cache/`
   * when nothing it read has changed (lib/bundling/lambda-build-cache.ts; `TESSERA_SYNTH_CACHE=off`
   * or `TESSERA_TEST_CACHE=off` always builds; a build with warnings is not kept, so they are printed at every synth).
   * @param lambdasDir absolute path of `lambdas/`; the build goes under `<its parent>/.tessera/lambda-build/`
   *   (inside the project, so that source map paths are the same on every machine and a built
   *   function can resolve the AWS SDK from node_modules when run locally), removed when the process exits
   * @throws Error with esbuild's messages when the build fails
   */
  constructor(readonly lambdasDir: string, entries: Iterable<string>, readonly options: SharedLambdaBuildOptions) {
    this.entries = new Set([...entries].sort());
    const projectRoot = dirname(lambdasDir);
    const parent = join(projectRoot, '.tessera', 'lambda-build');
    mkdirSync(parent, { recursive: true });
    removeOrphanedBuilds(parent);
    this.outdir = mkdtempSync(join(parent, `build-${process.pid}-`));
    const outdir = this.outdir;
    buildsRun += 1;
    removeAtExit(outdir);
    const buildOptions = {
      ...LAMBDA_BUILD,
      mainFields: [...LAMBDA_BUILD.mainFields],
      absWorkingDir: projectRoot,
      entryPoints: Object.fromEntries([...this.entries].map((file) => [outputName(file), join(lambdasDir, `${file}.ts`)])),
      define: { ...options.define },
      external: [...options.external],
      logLevel: options.logLevel,
    };
    // The last build of these options, when nothing it read has changed (lib/bundling/lambda-build-cache.ts);
    // not with `TESSERA_SYNTH_CACHE=off` (a synth's caches), nor `TESSERA_TEST_CACHE=off` (a test run's).
    const cacheOff = process.env.TESSERA_SYNTH_CACHE === 'off' || process.env.TESSERA_TEST_CACHE === 'off';
    const cacheDir = cacheOff ? undefined : join(projectRoot, '.tessera', 'lambda-build-cache');
    const key = buildKey([esbuildVersion, buildOptions]);
    const restored = cacheDir === undefined ? undefined : restoreBuild(cacheDir, key, outdir);
    if (restored) {
      this.outputs = restored;
    } else {
      esbuildRuns += 1;
      const startedMs = millisecondAfter(Date.now());
      const result = buildSync({ ...buildOptions, outdir, metafile: true });
      // Keyed by file name (the output directory is flat).
      this.outputs = Object.fromEntries(Object.entries(result.metafile.outputs).map(([path, output]) => [basename(path), output]));
      // A build with warnings runs again next time, so that they are printed at every synth.
      if (cacheDir !== undefined && result.warnings.length === 0) storeBuild(cacheDir, key, outdir, projectRoot, result.metafile, this.outputs, startedMs);
    }
  }

  /**
   * The files one function loads: its entry first, then every chunk it imports, statically or by
   * `import()`, transitively, each followed by its source map; names in `outdir`.
   * @param handlerFile e.g. `lifecycle/create-account`
   * @throws Error when the build holds no such entry
   */
  functionFiles(handlerFile: string): string[] {
    const entry = `${outputName(handlerFile)}.mjs`;
    if (!this.entries.has(handlerFile) || !this.outputs[entry]) throw new Error(`the shared Lambda build holds no entry ${handlerFile} (built: ${[...this.entries].join(', ')})`);
    const code = new Set([entry]);
    for (const file of code) {
      for (const imported of this.outputs[file].imports) if (!imported.external) code.add(basename(imported.path));
    }
    return [...code].flatMap((file) => (this.outputs[`${file}.map`] ? [file, `${file}.map`] : [file]));
  }

  /**
   * What one function's asset holds, file by file, in the order `writeFunction` writes it: its entry as `index.mjs`
   * (the source map comment renamed with it, source map `index.mjs.map`), the chunks it loads under their own names
   * (they import each other as `./chunk-….mjs`), and `extraFiles`. Each file is either a file of the build or an extra
   * file (`from`, absolute) or text made here (`text`).
   * @throws Error when the build holds no such entry, or an extra file would take a built file's name
   */
  private functionAsset(handlerFile: string, extraFiles: readonly ExtraFile[]): AssetFile[] {
    const files = this.functionFiles(handlerFile);
    const entry = files[0];
    // A chunk that imports the entry itself would load it a second time under index.mjs: then
    // index.mjs only re-exports the entry, kept under its own name.
    const entryImported = files.some((file) => this.outputs[file].imports.some((i) => !i.external && basename(i.path) === entry));
    const asset: AssetFile[] = [];
    for (const file of files) {
      if (file === entry && !entryImported) {
        const code = readFileSync(join(this.outdir, file), 'utf8');
        asset.push({ name: FUNCTION_ENTRY_FILE, text: code.replace(new RegExp(`//# sourceMappingURL=${escape(entry)}\\.map\\s*$`), `//# sourceMappingURL=${FUNCTION_ENTRY_FILE}.map\n`) });
      } else if (file === `${entry}.map` && !entryImported) {
        asset.push({ name: `${FUNCTION_ENTRY_FILE}.map`, from: join(this.outdir, file), built: true });
      } else {
        asset.push({ name: file, from: join(this.outdir, file), built: true });
      }
    }
    if (entryImported) asset.push({ name: FUNCTION_ENTRY_FILE, text: `export * from './${entry}';\n` });
    for (const extra of extraFiles) {
      if (asset.some((f) => f.name === extra.name)) throw new Error(`${handlerFile}: the extra file ${extra.name} (from ${extra.from}) would overwrite a built file of that name`);
      asset.push({ name: extra.name, from: extra.from, built: false });
    }
    return asset;
  }

  /**
   * Writes one function's asset into `targetDir` (`functionAsset`): built files as hard links where the file system
   * allows (they are never written again), extra files as copies.
   * @throws Error when the build holds no such entry, or an extra file would overwrite a built one
   */
  writeFunction(handlerFile: string, targetDir: string, extraFiles: readonly ExtraFile[] = []): void {
    for (const file of this.functionAsset(handlerFile, extraFiles)) {
      const target = join(targetDir, file.name);
      if (file.text !== undefined) writeFileSync(target, file.text);
      else if (file.built) linkOrCopy(file.from, target);
      else copyFileSync(file.from, target);
    }
  }

  /**
   * The digest of the asset `writeFunction` writes for this function (sha256, hex): of every file's name in the asset
   * and the sha256 of its bytes, in name order. Two assets have the same digest exactly when they hold the same files
   * with the same bytes, so it serves as the asset's hash (lib/bundling/shared-build-code.ts) without CDK reading the
   * written directory again. A build file is hashed once per build (chunks are shared by many functions).
   * @throws Error when the build holds no such entry, an extra file would overwrite a built one, or a file cannot be read
   */
  functionDigest(handlerFile: string, extraFiles: readonly ExtraFile[] = []): string {
    const files = this.functionAsset(handlerFile, extraFiles).map((file) => ({ name: file.name, digest: this.fileDigest(file) }));
    files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const hash = createHash('sha256').update(`${ASSET_DIGEST_VERSION}\0`);
    for (const { name, digest } of files) hash.update(`${name}\0${digest}\0`);
    return hash.digest('hex');
  }

  /** Digests of the build's files by name (the build's files are never written again). */
  private readonly builtDigests = new Map<string, string>();

  private fileDigest(file: AssetFile): string {
    if (file.text !== undefined) return sha256(file.text);
    if (!file.built) return sha256(readFileSync(file.from));
    let digest = this.builtDigests.get(file.from);
    if (digest === undefined) {
      digest = sha256(readFileSync(file.from));
      this.builtDigests.set(file.from, digest);
    }
    return digest;
  }
}

/** A file of one function's asset: built (`from` in the build's directory), extra (`from` anywhere) or made (`text`). */
type AssetFile = { readonly name: string; readonly text: string; readonly from?: undefined; readonly built?: undefined }
  | { readonly name: string; readonly from: string; readonly built: boolean; readonly text?: undefined };

/** Names the form of `functionDigest`'s input: a change of that form changes every digest. */
const ASSET_DIGEST_VERSION = 'tessera-lambda-asset-v1';

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Builds of this process by their options: a synth (and a test file's synths) builds each set once. */
const builds = new Map<string, SharedLambdaBuild>();

/**
 * The shared build for these options that holds `handlerFile`: made on first use from every entry
 * point under `lambdasDir` (`lambdaEntries`), then reused for every function with the same options
 * in this process. A handler file the scan missed gets a new build of the old entries plus it
 * (functions staged from the old build keep their files: each asset is a copy).
 * @throws Error when esbuild fails
 */
export function sharedLambdaBuild(lambdasDir: string, options: SharedLambdaBuildOptions, handlerFile: string): SharedLambdaBuild {
  const key = JSON.stringify([lambdasDir, Object.entries(options.define).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), options.logLevel, [...options.external].sort()]);
  const existing = builds.get(key);
  if (existing?.entries.has(handlerFile)) return existing;
  const entries = new Set([...(existing?.entries ?? lambdaEntries(lambdasDir)), handlerFile]);
  const build = new SharedLambdaBuild(lambdasDir, entries, options);
  builds.set(key, build);
  return build;
}

/** Build directories of this process, removed when it exits (one listener for all of them). */
const buildDirs = new Set<string>();

function removeAtExit(dir: string): void {
  if (buildDirs.size === 0) process.once('exit', () => { for (const d of buildDirs) rmSync(d, { recursive: true, force: true }); });
  buildDirs.add(dir);
}

/** How many shared builds this process has made (a synth makes one per set of options), by esbuild or from the cache. */
export function sharedLambdaBuildCount(): number {
  return buildsRun;
}

/** How many of them ran esbuild (the others came from `.tessera/lambda-build-cache/`, lib/bundling/lambda-build-cache.ts). */
export function sharedLambdaEsbuildRuns(): number {
  return esbuildRuns;
}

function outputName(handlerFile: string): string {
  return handlerFile.split('/').join('.');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A build directory without a pid in its name (written before pids were) is orphaned after this long. */
const UNNAMED_BUILD_STALE_MS = 3_600_000;

/**
 * Removes the build directories under `parent` whose process is gone: each build is removed when its
 * process exits, but a process ended by a signal (a test worker vitest stops, Ctrl-C on a synth) runs
 * no exit handler, and its 6-7 MB build stayed. `build-<pid>-…`: removed when no process has that
 * pid; a directory of another name (written before pids were): when older than an hour.
 */
export function removeOrphanedBuilds(parent: string): void {
  removeDirsOfGoneProcesses(parent, /^build-(\d+)-/);
  for (const name of readdirSync(parent)) {
    if (/^build-\d+-/.test(name)) continue;
    const path = join(parent, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > UNNAMED_BUILD_STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch { /* removed meanwhile */ }
  }
}

/**
 * The first clock reading (epoch ms) after `ms`, waited for (under a millisecond). A build's start must come after the
 * constructor's own writes in the project (`.tessera/` made on a project's first synth changes the root's ctime): storeBuild
 * keeps no build during which an input or listed directory changed (ctime at or after the start), and a start read in
 * the same millisecond as those writes (Date.now() drops the fraction ctime keeps) left the build out of the cache by
 * chance (a fresh clone's run failed lambda-build-cache's "keeps one build per set of options" that way).
 */
function millisecondAfter(ms: number): number {
  let now = Date.now();
  while (now <= ms) now = Date.now();
  return now;
}
