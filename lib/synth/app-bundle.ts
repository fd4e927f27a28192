import { build, type BuildOptions, type Plugin } from 'esbuild';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { changedSince, inputsDigest } from '../bundling/lambda-build-cache.js';
import { removeDirsOfGoneProcesses } from '../process-alive.js';
import { APP_BUNDLE_CHECK, APP_BUNDLE_ENTRY, APP_BUNDLE_POINTER, type AppBundlePointer } from './app-bundle-check.js';

/**
 * The CDK app as one esbuild build of the project's own TypeScript (bin/tessera-app.ts and what it
 * imports; every package external, so aws-cdk-lib, constructs and cdk-nag load as plain Node
 * modules), run by bin/cdk-app.mjs with plain `node` instead of through tsx's loader hooks (which
 * ran on every `require` of aws-cdk-lib's too: ~19% of the app process's CPU, docs/performance-history.md
 * "Synth, session 46 (the app bundle)").
 *
 * A build is kept in `<cacheDir>/<digest>/` (the output files, `.mjs` with their source maps) and
 * named by `<cacheDir>/latest.json` (`AppBundlePointer`): the next synth runs it while the digest of
 * its inputs (lib/bundling/lambda-build-cache.ts `inputsDigest`: every input's content, the listings
 * and resolution files of their directories) is unchanged, and builds again otherwise. An entry is
 * never written again once in place (a synth running it, another one building), and its path is the
 * same for the same inputs (Node's compile cache, bin/compile-cache.mjs, keys by path).
 *
 * Code that finds files next to its own module keeps doing so: each source file's `import.meta.url`,
 * `import.meta.dirname` and `import.meta.filename` are its own (`moduleMetaPlugin`), not the
 * bundle's. `import.meta.resolve` stays the bundle's: it resolves bare specifiers only, from
 * `.tessera/` the same as from the sources (one node_modules at the project root).
 */

/** The project root (this file is lib/synth/app-bundle.ts). */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the builds are kept: `.tessera/app-bundle/` (gitignored). */
export const APP_BUNDLE_DIR = join(PROJECT_ROOT, '.tessera', 'app-bundle');

/** Builds kept besides the newest: older ones are removed after a build (an edit-and-synth loop would otherwise grow the directory by ~3 MB a synth). */
export const MAX_APP_BUNDLES = 4;

/** What `buildAppBundle` builds and where. */
export interface AppBundleOptions {
  /** The project root: esbuild's working directory, the highest directory whose listing counts. @default the project's */
  readonly root?: string;
  /** The app's entry, relative to `root`. @default 'bin/tessera-app.ts' */
  readonly entry?: string;
  /** @default APP_BUNDLE_DIR */
  readonly cacheDir?: string;
}

/**
 * Per source file, `import.meta.url` / `.dirname` / `.filename` as that file's own: each file gets
 * `var __moduleUrl = …, …;` prepended on its first line (after a `#!` line), and the build's `define`
 * points `import.meta.*` at those names, which esbuild binds in each module's own scope. Line
 * numbers stay as they were (the source maps, the creation stacks in `*.metadata.json`).
 */
export const moduleMetaPlugin: Plugin = {
  name: 'module-meta',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?tsx?$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const declaration = `var __moduleUrl = ${JSON.stringify(pathToFileURL(args.path).href)}, __moduleDirname = ${JSON.stringify(dirname(args.path))}, __moduleFilename = ${JSON.stringify(args.path)};`;
      const at = source.startsWith('#!') ? source.indexOf('\n') + 1 : 0;
      return { contents: source.slice(0, at) + declaration + source.slice(at), loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
    });
  },
};

/** esbuild's options for the app (`outdir` apart). */
export function appBundleBuildOptions(root: string, entry: string): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: { [APP_BUNDLE_ENTRY.replace(/\.mjs$/, '')]: entry, [APP_BUNDLE_CHECK.replace(/\.mjs$/, '')]: fileURLToPath(new URL('./app-bundle-check.ts', import.meta.url)) },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    // The app's dynamic imports stay dynamic (chunks): a refused config does not load the constructs (bin/tessera-app.ts).
    splitting: true,
    outExtension: { '.js': '.mjs' },
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [moduleMetaPlugin],
    define: { 'import.meta.url': '__moduleUrl', 'import.meta.dirname': '__moduleDirname', 'import.meta.filename': '__moduleFilename' },
  };
}

/**
 * Builds the app and keeps the build (`latest.json` names it), unless one of its inputs changed
 * while esbuild ran (then it runs once from its staging directory, removed by a later build once
 * this process is gone).
 * @returns the absolute path of the app's entry module in the build (esbuild's asynchronous API: plugins need it)
 * @throws esbuild's error for a source that does not build
 */
export async function buildAppBundle(options: AppBundleOptions = {}): Promise<string> {
  const root = options.root ?? PROJECT_ROOT;
  const cacheDir = options.cacheDir ?? APP_BUNDLE_DIR;
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(join(cacheDir, `.new-${process.pid}-`));
  const startedMs = Date.now();
  const { metafile } = await build({ ...appBundleBuildOptions(root, options.entry ?? 'bin/tessera-app.ts'), outdir: staging });
  // This file too: its options and plugin shape the build as much as the sources do.
  const inputs = [...Object.keys(metafile!.inputs).filter((path) => !/^[a-z-]+:/.test(path)).map((path) => resolve(root, path)), fileURLToPath(import.meta.url)];
  if (changedSince(inputs, root, startedMs)) return join(staging, APP_BUNDLE_ENTRY);
  const digest = inputsDigest(inputs, root);
  const dir = digest.slice(0, 32);
  try {
    renameSync(staging, join(cacheDir, dir));
  } catch {
    // Another synth kept the same build first: its files are these.
    rmSync(staging, { recursive: true, force: true });
  }
  const pointer: AppBundlePointer = { dir, inputs, root, digest };
  const written = join(cacheDir, `.latest-${process.pid}.json`);
  writeFileSync(written, JSON.stringify(pointer));
  renameSync(written, join(cacheDir, APP_BUNDLE_POINTER));
  pruneAppBundles(cacheDir, dir);
  return join(cacheDir, dir, APP_BUNDLE_ENTRY);
}

/** Removes the builds beyond the newest `MAX_APP_BUNDLES` (never `keep`) and the staging directories of processes that are gone. */
function pruneAppBundles(cacheDir: string, keep: string): void {
  try {
    removeDirsOfGoneProcesses(cacheDir, /^\.new-(\d+)-/);
    const builds = readdirSync(cacheDir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== keep)
      .map((e) => ({ name: e.name, mtimeMs: statSync(join(cacheDir, e.name)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const { name } of builds.slice(MAX_APP_BUNDLES - 1)) rmSync(join(cacheDir, name), { recursive: true, force: true });
  } catch { /* pruning is housekeeping */ }
}
