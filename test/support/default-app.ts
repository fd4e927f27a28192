import { Template } from 'aws-cdk-lib/assertions';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The templates of the default app (`buildApp()`: default config, bundling skipped), for test files
 * that only read them. Building and synthesizing the app takes seconds (most of a read-only infra
 * test file's time); this does it once per state of the sources, not once per file, in a child
 * process (test/support/synthesize-default-app.ts): a file that reads the cache does not even
 * import the app's code.
 *
 * Vitest runs each file in its own process, so the templates are shared through a cache on disk
 * (`.tessera/test-synth-cache/<key>.json`). The key is a SHA-256 over every file the app can read
 * at synth: `bin/`, `constructs/`, `lambdas/`, `lib/`, `types/`, `test/support/` (this helper and
 * `buildApp`), `cdk.json`, `package.json`, `package-lock.json` (the versions of aws-cdk-lib,
 * cdk-nag and the rest) and `tsconfig.json`. Any change to any of them is a new key and a fresh
 * synth; nothing else goes into a template (the app reads no environment variables at synth).
 * While one process synthesizes, the others of the run wait for its file (a lock file,
 * `<key>.lock`) instead of synthesizing the same app again.
 *
 * The logical id of any CloudFormation element of the app is there too, by construct path
 * (`logicalIdAt('TesseraPlatform/Lifecycle/WorkBucket/Resource')`): a test that only needs the
 * logical id of a construct reads the shared templates as well. A test that needs the constructs
 * themselves (their properties or children, `app.synth()`'s validation report, a config of its
 * own) keeps calling `buildApp()`.
 */
export interface DefaultAppTemplates {
  readonly organization: Template;
  readonly platform: Template;
  /** The platform's Operations nested stack. */
  readonly operations: Template;
  readonly accountBaseline: Template;
  readonly workloadProvisioning: Template;
  /** Tier name → blueprint. */
  readonly blueprints: Record<string, Template>;
  /** Tier name → namespace blueprint (shared-compute tiers only). */
  readonly namespaceBlueprints: Record<string, Template>;
  /**
   * The logical id of the CloudFormation element (resource, output, parameter, …) at construct
   * path `path`, as in its stack's template: `stack.getLogicalId(construct.node.defaultChild)`.
   * @throws Error naming the path when the app has no element there
   */
  logicalIdAt(path: string): string;
}

type Json = Record<string, unknown>;
interface CachedTemplates {
  organization: Json; platform: Json; operations: Json; accountBaseline: Json; workloadProvisioning: Json;
  blueprints: Record<string, Json>; namespaceBlueprints: Record<string, Json>;
  /** Construct path → logical id of every CfnElement of the app. */
  logicalIds: Record<string, string>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE_DIR = join(ROOT, '.tessera', 'test-synth-cache');
const INPUT_DIRS = ['bin', 'constructs', 'lambdas', 'lib', 'types', 'test/support'];
const INPUT_FILES = ['cdk.json', 'package.json', 'package-lock.json', 'tsconfig.json'];
/** A lock older than this is left by a process that died: ignored. */
const LOCK_STALE_MS = 240_000;
/** Cache files older than this are removed when a new one is written. */
const KEEP_MS = 3_600_000;

let memo: { key: string; templates: CachedTemplates } | undefined;

/**
 * The default app's templates: from this process's memo, the disk cache, or a synth (then cached).
 * Each call gives new `Template`s over copies of the JSON, made when first read: a test that
 * changes one changes nothing another test sees, as with `Template.fromStack(buildApp().x)`.
 */
export function defaultAppTemplates(): DefaultAppTemplates {
  const key = inputKey();
  if (memo?.key !== key) memo = { key, templates: cachedOrSynthesized(key) };
  return toTemplates(memo.templates);
}

/** SHA-256 over the path and content of every input file, in a fixed order. */
export function inputKey(): string {
  const hash = createHash('sha256');
  const add = (relative: string) => {
    const path = join(ROOT, relative);
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(`${relative}/${name}`);
    } else {
      hash.update(`${relative}\0`).update(readFileSync(path)).update('\0');
    }
  };
  for (const input of [...INPUT_DIRS, ...INPUT_FILES]) add(input);
  return hash.digest('hex').slice(0, 32);
}

function cachedOrSynthesized(key: string): CachedTemplates {
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, `${key}.json`);
  const lock = join(CACHE_DIR, `${key}.lock`);
  // A file without logicalIds was written by a process still running the previous version of this
  // module (the key is read from the files on disk, the code was loaded earlier): not ours to use.
  const read = () => {
    const cached = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as CachedTemplates : undefined;
    return cached?.logicalIds ? cached : undefined;
  };
  const waitUntil = Date.now() + LOCK_STALE_MS;
  for (;;) {
    const cached = read();
    if (cached) return cached;
    if (takeLock(lock)) break;
    if (Date.now() > waitUntil) break; // the holder is stuck: synthesize without the lock
    sleep(200);
  }
  try {
    const cached = read(); // written between our last look and the lock
    if (cached) return cached;
    const partial = `${file}.${process.pid}.tmp`;
    synthesizeInto(partial);
    const templates = JSON.parse(readFileSync(partial, 'utf8')) as CachedTemplates;
    renameSync(partial, file); // atomic: readers see the whole file or none
    prune(file);
    return templates;
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Synthesizes the default app in a child process (test/support/synthesize-default-app.ts), which
 * writes the cache's JSON to `file`: this process then never imports the app's code.
 * @throws Error with the child's stderr when it fails
 */
function synthesizeInto(file: string): void {
  try {
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'support', 'synthesize-default-app.ts'), file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    rmSync(file, { force: true });
    throw new Error(`synthesizing the default app failed: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
  }
}

function toTemplates(c: CachedTemplates): DefaultAppTemplates {
  const made = new Map<Json, Template>();
  const t = (json: Json) => made.get(json) ?? made.set(json, Template.fromJSON(structuredClone(json))).get(json)!;
  const byTier = (stacks: Record<string, Json>) => {
    const out: Record<string, Template> = {};
    for (const [tier, json] of Object.entries(stacks)) Object.defineProperty(out, tier, { enumerable: true, get: () => t(json) });
    return out;
  };
  const blueprints = byTier(c.blueprints);
  const namespaceBlueprints = byTier(c.namespaceBlueprints);
  return {
    get organization() { return t(c.organization); },
    get platform() { return t(c.platform); },
    get operations() { return t(c.operations); },
    get accountBaseline() { return t(c.accountBaseline); },
    get workloadProvisioning() { return t(c.workloadProvisioning); },
    blueprints,
    namespaceBlueprints,
    logicalIdAt(path: string) {
      const id = c.logicalIds[path];
      if (id === undefined) throw new Error(`the default app has no CloudFormation element at ${path}`);
      return id;
    },
  };
}

/** Creates the lock file unless it exists and is fresh; true when this process holds it. */
function takeLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, 'wx'));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
    } catch { /* removed meanwhile */ }
    return false;
  }
}

function prune(keep: string): void {
  for (const name of readdirSync(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    try {
      if (path !== keep && name.endsWith('.json') && Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { force: true });
    } catch { /* removed by another process */ }
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
