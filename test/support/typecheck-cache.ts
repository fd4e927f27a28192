/**
 * `npm test`'s type-check result, kept while nothing it read changes (test/support/run-tests.ts).
 *
 * Even incremental, `tsc --noEmit` parses every file it reads to find what changed: ~10,000 files
 * here (the AWS SDK clients' and aws-cdk-lib's declarations), 6-8 s of CPU on a run where nothing
 * changed. A check that passed is a pure function of its inputs, so it is recorded under a key of
 * those inputs, and a run whose key is the recorded one reports the pass without running tsc:
 * - the files the last check read (the build info's `fileNames`): project files by content
 *   (SHA-256), files under node_modules by size and modification time;
 * - the package.json files its module resolution read (size and time) and the ones it looked for
 *   and did not find (still absent);
 * - the names of every file under tsconfig.json's `include` directories (a new or removed module);
 * - tsconfig.json, the arguments, the TypeScript package (its package.json: version) and
 *   node_modules/.package-lock.json (npm rewrites it on every install).
 * A tsconfig.json that is not plain JSON with an `include` list, or that names other configs
 * (`extends`, `references`), gives no key: tsc always runs then.
 * Only a pass is recorded, and only when none of those files was modified after tsc started (what it
 * read is what the key holds); a failing check always runs again and prints its errors.
 * `TESSERA_TEST_CACHE=off` runs tsc and records nothing. Node runs this module without a loader
 * (type stripping): Node built-ins only.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

const RECORD = 'passed.json';
const BUILD_INFO = 'tsconfig.tsbuildinfo';

interface BuildInfo {
  fileNames?: string[];
  packageJsons?: string[];
  missingPackageJsons?: string[];
}

/** The inputs' key, and the latest modification time (ms since the epoch) of the files in it. */
export interface TypecheckInputs {
  key: string;
  newestMtimeMs: number;
}

/** The TypeScript sources tsc's `include` picks up (no `allowJs` here). */
const TS_SOURCE = /\.[cm]?tsx?$/;

/** Every TypeScript source under `dir` (relative to `root`), sorted; none when it does not exist. */
function sourceNames(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = join(path, e.name);
      if (e.isDirectory()) walk(child);
      else if (TS_SOURCE.test(e.name)) out.push(relative(root, child));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/**
 * The key of the type-check's inputs (see the module comment), from the build info tsc wrote in
 * `cacheDir`; undefined when there is none (a first run: tsc runs).
 */
export function typecheckInputKey(root: string, cacheDir: string, args: readonly string[]): TypecheckInputs | undefined {
  let info: BuildInfo;
  try {
    info = JSON.parse(readFileSync(join(cacheDir, BUILD_INFO), 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
  if (!Array.isArray(info.fileNames) || info.fileNames.length === 0) return undefined;
  const hash = createHash('sha256');
  let newestMtimeMs = 0;
  const stat = (path: string) => {
    try {
      const s = statSync(path, { bigint: true });
      newestMtimeMs = Math.max(newestMtimeMs, Number(s.mtimeNs / 1_000_000n));
      return s;
    } catch {
      return undefined;
    }
  };
  /** Size and modification time, or `absent`. */
  const stamp = (path: string) => {
    const s = stat(path);
    return s ? `${s.size}:${s.mtimeNs}` : 'absent';
  };
  const contentHash = (path: string) => {
    if (!stat(path)) return 'absent';
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  };
  const part = (...values: string[]) => hash.update(values.join('\0')).update('\n');
  part('args', ...args);
  // A tsconfig this key cannot read whole (comments, `extends` or `references` name other inputs): tsc runs.
  let tsconfig: string;
  let include: string[];
  try {
    tsconfig = readFileSync(join(root, 'tsconfig.json'), 'utf8');
    const parsed = JSON.parse(tsconfig) as { include?: unknown; extends?: unknown; references?: unknown };
    if (parsed.extends !== undefined || parsed.references !== undefined || !Array.isArray(parsed.include)) return undefined;
    include = parsed.include.map(String);
  } catch {
    return undefined;
  }
  part('tsconfig', tsconfig);
  part('typescript', contentHash(join(root, 'node_modules', 'typescript', 'package.json')));
  part('installed', contentHash(join(root, 'node_modules', '.package-lock.json')));
  const modules = join(root, 'node_modules') + sep;
  for (const name of info.fileNames) {
    // Bare names are TypeScript's own lib files (lib.es2023.d.ts): its package above.
    if (!name.startsWith('.') && !isAbsolute(name)) {
      part('lib', name);
      continue;
    }
    const path = resolve(cacheDir, name);
    part('file', path, path.startsWith(modules) ? stamp(path) : contentHash(path));
  }
  for (const name of info.packageJsons ?? []) part('package.json', name, stamp(resolve(cacheDir, name)));
  for (const name of info.missingPackageJsons ?? []) part('missing', name, String(existsSync(resolve(cacheDir, name))));
  for (const dir of include) {
    const names = sourceNames(root, dir);
    for (const name of names) stat(join(root, name));
    part('listing', dir, ...names);
  }
  return { key: hash.digest('hex'), newestMtimeMs };
}

/** When the check with inputs `key` passed (an ISO time), if the record says it did. */
export function typecheckPassedBefore(cacheDir: string, key: string): string | undefined {
  try {
    const record = JSON.parse(readFileSync(join(cacheDir, RECORD), 'utf8')) as { key?: string; passedAt?: string };
    return record.key === key ? record.passedAt : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records a passing check that started at `startedAtMs`, with its inputs read after it ended: kept
 * only when none of them was modified since it started (else the next run checks again).
 * @returns whether it was recorded
 */
export function storePassedTypecheck(cacheDir: string, inputs: TypecheckInputs | undefined, startedAtMs: number): boolean {
  if (!inputs || inputs.newestMtimeMs >= startedAtMs) return false;
  writeFileSync(join(cacheDir, RECORD), `${JSON.stringify({ key: inputs.key, passedAt: new Date().toISOString() })}\n`);
  return true;
}
