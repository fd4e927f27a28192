import type { Metafile } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { removeDirsOfGoneProcesses } from '../process-alive.js';

/**
 * A shared Lambda build kept between processes (lib/bundling/shared-lambda-build.ts): one synth's
 * esbuild output (~7 MB, 1.3-1.4 s of esbuild on this machine) reused by the next synth whose build
 * would read the same files. An entry is `<cacheDir>/<key of the build's options>/`: `files/` (the
 * output directory as esbuild wrote it), `manifest.json` (`CachedBuild`).
 *
 * An entry is used only when everything esbuild read or resolved through is as it was: the content
 * of every input of the metafile; for every directory from an input up to the project root (or,
 * outside it, up to the outermost `node_modules`) its listing (a new file that would resolve first,
 * a new `node_modules`; a symbolic link with its target) and the content of its `package.json` and
 * `tsconfig.json` (entry points, `exports`, `sideEffects`, `type`, paths); above those, the
 * `package.json`, `tsconfig.json` and whether there is a `node_modules`.
 * The options, the entry points and esbuild's version are the entry's key. No environment variable
 * is: esbuild's JavaScript API reads none that steers a build — `NODE_PATH` only its command line
 * reads (esbuild 0.28.2: `buildSync` with `NODE_PATH` set resolves no package from it).
 */
interface CachedBuild {
  /** Inputs of the metafile, absolute. */
  readonly inputs: string[];
  /** esbuild's working directory (the project root): the highest directory whose listing counts. */
  readonly root: string;
  /** `inputsDigest(inputs, root)` when the build ran. */
  readonly digest: string;
  /** The metafile's outputs, keyed by file name (the output directory is flat). */
  readonly outputs: Metafile['outputs'];
  /** Size and modification time of each file of `files/` as stored: a file written since (in place, through a hard link in a cdk.out) voids the entry. */
  readonly stats: Record<string, FileStat>;
}

interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
}

function fileStat(path: string): FileStat {
  const { size, mtimeMs } = statSync(path);
  return { size, mtimeMs };
}

/** Files of a directory whose content decides how esbuild resolves and transforms the files under it. */
const RESOLUTION_FILES = ['package.json', 'tsconfig.json'];

/**
 * The key of a build's entry: sha256 (hex) of what the caller names (options, entry points, esbuild
 * version), as JSON.
 */
export function buildKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * sha256 (hex) of the inputs' content and of their directories' listings and resolution files, as
 * described above (`root`: esbuild's working directory); a file that cannot be read counts as
 * missing (it differs from any content).
 */
export function inputsDigest(inputs: readonly string[], root: string): string {
  const hash = createHash('sha256');
  for (const input of [...inputs].sort()) hash.update(`file\0${input}\0${contentDigest(input)}\0`);
  const { listed, above } = resolutionDirs(inputs, root);
  for (const dir of [...listed].sort()) {
    let names: string[];
    let listing: string[];
    try {
      const entries = readdirSync(dir, { withFileTypes: true });
      names = entries.map((e) => e.name).sort();
      // A symbolic link by its target too: esbuild resolves through it (a node_modules linked to another tree) and
      // the metafile names the target's files, which a link pointed elsewhere leaves as they were.
      listing = entries.map((e) => (e.isSymbolicLink() ? `${e.name}\0->${linkTarget(join(dir, e.name))}` : e.name)).sort();
    } catch {
      names = [];
      listing = ['\0missing'];
    }
    hash.update(`dir\0${dir}\0${listing.join('\0')}\0`);
    for (const name of RESOLUTION_FILES) if (names.includes(name)) hash.update(`${name}\0${contentDigest(join(dir, name))}\0`);
  }
  // Above the project (or the node_modules tree) a listing changes all the time (/tmp): there only
  // what resolution reads, a package.json, a tsconfig.json, a node_modules directory.
  for (const dir of [...above].sort()) {
    hash.update(`above\0${dir}\0${existsSync(join(dir, 'node_modules'))}\0`);
    for (const name of RESOLUTION_FILES) hash.update(`${name}\0${contentDigest(join(dir, name))}\0`);
  }
  return hash.digest('hex');
}

/** The directories whose listing counts (`listed`), and those above them whose resolution files count (`above`). */
function resolutionDirs(inputs: readonly string[], root: string): { listed: Set<string>; above: Set<string> } {
  const listed = new Set<string>();
  const above = new Set<string>();
  for (const input of inputs) {
    const top = listingTop(input, root);
    let dir = dirname(input);
    for (; !listed.has(dir) && !above.has(dir); dir = dirname(dir)) {
      (dir.length >= top.length ? listed : above).add(dir);
      if (dirname(dir) === dir) break;
    }
  }
  return { listed, above };
}

/**
 * Whether anything the digest reads changed at or after `sinceMs` (epoch ms): an input, a listed directory (a file added,
 * removed or renamed in it) or a resolution file, by its status change time (`ctime`, which no edit can set back, unlike
 * `mtime`). A file that cannot be read counts as changed.
 */
export function changedSince(inputs: readonly string[], root: string, sinceMs: number): boolean {
  const { listed, above } = resolutionDirs(inputs, root);
  const paths = [...inputs, ...listed, ...[...listed, ...above].flatMap((dir) => RESOLUTION_FILES.map((name) => join(dir, name)))];
  return paths.some((path) => {
    try {
      return statSync(path).ctimeMs >= sinceMs;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'ENOENT' || inputs.includes(path);
    }
  });
}

/**
 * The highest directory whose listing counts for `input`: `root` for a file under it; for a file
 * outside it (node_modules a symbolic link to another tree), the directory holding its outermost
 * `node_modules`; else the file's own directory.
 */
function listingTop(input: string, root: string): string {
  if (input.startsWith(`${root}${sep}`)) return root;
  const at = input.indexOf(`${sep}node_modules${sep}`);
  return at >= 0 ? input.slice(0, at) || sep : dirname(input);
}

/**
 * A hard link where the file system allows one, else a copy: the build's files are never written again (CDK moves a
 * function's directory into cdk.out and only reads it; a cached file written in place voids its entry: `stats`), and
 * about 40 functions of a few MB each (source maps included) would otherwise be written twice per synth.
 */
export function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '\0unreadable';
  }
}

function contentDigest(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'missing';
  }
}

/**
 * Puts the cached build of `key` into `outdir` (an empty directory; hard links where the file system
 * allows, else copies) and returns its outputs, when its inputs are unchanged and its files as
 * stored; else `undefined`, with `outdir` emptied again (the caller builds into it).
 */
export function restoreBuild(cacheDir: string, key: string, outdir: string): Metafile['outputs'] | undefined {
  const entry = join(cacheDir, key);
  let cached: CachedBuild;
  try {
    cached = JSON.parse(readFileSync(join(entry, 'manifest.json'), 'utf8')) as CachedBuild;
    // A manifest of another form (another version's, or damaged) is a miss, not a failed synth.
    if (!isCachedBuild(cached) || inputsDigest(cached.inputs, cached.root) !== cached.digest) return undefined;
  } catch {
    return undefined;
  }
  try {
    for (const name of Object.keys(cached.outputs)) {
      const from = join(entry, 'files', name);
      const stat = fileStat(from);
      if (stat.size !== cached.stats[name]?.size || stat.mtimeMs !== cached.stats[name]?.mtimeMs) throw new Error(`${from} changed since it was stored`);
      linkOrCopy(from, join(outdir, name));
    }
  } catch {
    for (const name of readdirSync(outdir)) rmSync(join(outdir, name), { force: true });
    return undefined;
  }
  return cached.outputs;
}

function isCachedBuild(value: unknown): value is CachedBuild {
  const v = value as Partial<CachedBuild> | null;
  const isObject = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  return isObject(v) && Array.isArray(v!.inputs) && v!.inputs.every((i) => typeof i === 'string') && typeof v!.root === 'string'
    && typeof v!.digest === 'string' && isObject(v!.outputs) && isObject(v!.stats);
}

/**
 * Keeps a finished build as the entry of `key` (replacing the old one). The inputs are read after
 * the build, so a build during which one of them changed (saved from an editor, a `git checkout`)
 * is not kept: esbuild may have read the old content, and a digest of the new one would match the
 * next synth, which would then reuse a build of content no longer there. Failures to write are
 * ignored (the cache is an optimization).
 * @param workingDir esbuild's `absWorkingDir` (the metafile's paths are relative to it)
 * @param startedMs when the build started (epoch ms, taken before esbuild was called): an input,
 *   listed directory or resolution file changed since (`ctime`) keeps the build out of the cache
 */
export function storeBuild(cacheDir: string, key: string, outdir: string, workingDir: string, metafile: Metafile, outputs: Metafile['outputs'], startedMs: number): void {
  try {
    const inputs = Object.keys(metafile.inputs).filter((path) => !/^[a-z-]+:/.test(path)).map((path) => resolve(workingDir, path));
    if (changedSince(inputs, workingDir, startedMs)) return;
    mkdirSync(cacheDir, { recursive: true });
    const staging = mkdtempSync(join(cacheDir, `.new-${process.pid}-`));
    mkdirSync(join(staging, 'files'));
    const stats: Record<string, FileStat> = {};
    for (const name of Object.keys(outputs)) {
      linkOrCopy(join(outdir, name), join(staging, 'files', name));
      stats[name] = fileStat(join(staging, 'files', name));
    }
    const manifest: CachedBuild = { inputs, root: workingDir, digest: inputsDigest(inputs, workingDir), outputs, stats };
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest));
    const entry = join(cacheDir, key);
    const old = join(cacheDir, `.old-${process.pid}-${key}`);
    try {
      renameSync(entry, old);
    } catch { /* no entry yet */ }
    try {
      renameSync(staging, entry);
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
    rmSync(old, { recursive: true, force: true });
    pruneEntries(cacheDir);
  } catch { /* a cache it cannot write is skipped */ }
}

/** Entries kept: one per set of build options (a config's `define`), the most recently written. */
export const MAX_CACHED_BUILDS = 8;

/**
 * Removes the oldest entries beyond `MAX_CACHED_BUILDS`, and the half-written (`.new-<pid>-`) or
 * replaced (`.old-<pid>-`) directories of processes that are gone (ended by a signal mid-write).
 */
function pruneEntries(cacheDir: string): void {
  removeDirsOfGoneProcesses(cacheDir, /^\.(?:new|old)-(\d+)-/);
  const entries = readdirSync(cacheDir).filter((name) => !name.startsWith('.')).map((name) => {
    try {
      return { name, mtimeMs: statSync(join(cacheDir, name)).mtimeMs };
    } catch {
      return { name, mtimeMs: 0 };
    }
  });
  entries.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { name } of entries.slice(MAX_CACHED_BUILDS)) rmSync(join(cacheDir, name), { recursive: true, force: true });
}
