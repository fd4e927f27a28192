import { Template } from 'aws-cdk-lib/assertions';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlaceholderFinding } from '../../lib/config/placeholders.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import type { AppSnapshot, LifecycleIds, StackEnvironment, StackPaths } from './app-snapshot.js';
import { processAlive } from '../../lib/process-alive.js';
import { withoutTypeOnlyImports } from './type-only-imports.js';
import { platformWithFunctionPolicies, platformWithNestedStack } from './platform-with-policies.js';
import { configWith } from './config-with.js';

/**
 * The templates of the app, for test files that only read them. Building and synthesizing the app
 * takes seconds (most of a read-only infra test file's time); this does it once per config and per
 * state of the sources, not once per file or per test:
 * - `defaultAppTemplates()`: the default app (`buildApp()`: default config, bundling skipped),
 *   synthesized in a child process (test/support/synthesize-default-app.ts): a file that reads the
 *   cache does not even import the app's code.
 * - `appTemplates(overrides)`: the app of `configWith(overrides)` (test/support/synth.ts),
 *   synthesized in the calling process when no run has cached it yet (those files import the app
 *   anyway, and a process that has synthesized once synthesizes again in a fraction of the time).
 *
 * Vitest runs files in several processes, so the snapshots (test/support/app-snapshot.ts) are shared
 * through a cache on disk (`.tessera/test-synth-cache/<key>.json`). The key ({@link cacheKey}) is a
 * SHA-256 over every file the app's synth can read ({@link appInputKey}: the modules it loads, found
 * by following the imports of the test helpers that build it (synth.ts, these modules) through
 * `bin/`, `constructs/`, `lambdas/`, `lib/`, `types/` and test/; the names of all files there and
 * the content of those that are not modules; `cdk.json`, `package.json`, `package-lock.json` (the
 * versions of aws-cdk-lib, cdk-nag and the rest) and `tsconfig.json`) and, for `appTemplates`, the
 * overrides as canonical JSON. Any change to any of them is a new key and a fresh synth; an edit to
 * a module the synth does not load (a CLI command, a lifecycle handler, a test) is not. Nothing
 * else goes into a template (the app reads no environment variables at synth). While one process synthesizes, the others of the run wait for
 * its file (a lock file, `<key>.lock`) instead of synthesizing the same app again.
 *
 * A snapshot is written only after `app.synth()` succeeded, which runs the compliance packs (cdk-nag:
 * AwsSolutions, HIPAA, NIST 800-53) and CloudFormation validation and fails on any finding; their
 * report is in `validationReport`. The logical id of any CloudFormation element of the app is there
 * too, by construct path (`logicalIdAt('TesseraPlatform/Lifecycle/WorkBucket/Resource')`). A test
 * that needs the constructs themselves (their properties or children, a stack built alone, an app
 * changed after it was built) keeps calling `buildApp()`.
 */
export interface AppTemplates {
  readonly organization: Template;
  readonly platform: Template;
  /** The platform's Operations nested stack. */
  readonly operations: Template;
  /** The platform's FunctionPolicies nested stack: the managed policy of each platform Lambda (but the admin API's). */
  readonly functionPolicies: Template;
  /** The platform's EventRules nested stack: its EventBridge rules (lifecycle, fine-tuning, budget alert mail) and their Lambda invoke permissions. */
  readonly eventRules: Template;
  /** The platform's NamespaceKubectl nested stack: the tenants' namespace kubectl provider (a tier of shared compute only). */
  readonly namespaceKubectl: Template | undefined;
  /** The platform's ClusterAutoscaler nested stack: the shared cluster's Cluster Autoscaler (a tier of shared compute only). */
  readonly clusterAutoscaler: Template | undefined;
  /**
   * TesseraPlatform with the FunctionPolicies nested stack's policies in it, their parameters replaced
   * by the platform's values (test/support/platform-with-policies.ts): what each platform role may do.
   */
  readonly platformWithPolicies: Template;
  /**
   * TesseraPlatform with the EventRules nested stack's rules and invoke permissions in it, their parameters replaced by
   * the platform's values and the platform's reads of its outputs (a dead-letter queue's policy names its rule) by what
   * they name (test/support/platform-with-policies.ts `platformWithNestedStack`): the rules beside their targets.
   */
  readonly platformWithEventRules: Template;
  /** `TesseraPlatformDr` (with `platformDisasterRecovery: { region }` only). */
  readonly platformDr: Template | undefined;
  readonly accountBaseline: Template;
  readonly workloadProvisioning: Template;
  /** Tier name → blueprint. */
  readonly blueprints: Record<string, Template>;
  /** Tier name → namespace blueprint (shared-compute tiers only). */
  readonly namespaceBlueprints: Record<string, Template>;
  /** Tier name → DR blueprint (tiers with `disasterRecovery` only). */
  readonly drBlueprints: Record<string, Template>;
  /** Tier name → failover variant of the tier blueprint (tiers with `disasterRecovery` only). */
  readonly failoverBlueprints: Record<string, Template>;
  /** The blueprint catalog the platform publishes (`TesseraApp#blueprintTemplates`): file name → template (a copy). */
  readonly blueprintCatalog: Record<string, unknown>;
  /** `validation-report.json` of the app's synth (a copy): compliance packs and CloudFormation validation. */
  readonly validationReport: ValidationReport;
  /**
   * The logical id of the CloudFormation element (resource, output, parameter, …) at construct
   * path `path`, as in its stack's template: `stack.getLogicalId(construct.node.defaultChild)`.
   * @throws Error naming the path when the app has no element there
   */
  logicalIdAt(path: string): string;
  /**
   * The construct path of every CfnResource of the app (a copy; nested stacks and stages included):
   * the resources at or under a construct path are those equal to it or starting with it and `/`.
   */
  readonly resourcePaths: string[];
  /** The construct path of every CfnResource of the app that takes tags (`TagManager.isTaggable`; a copy). */
  readonly taggableResourcePaths: string[];
  /** Construct path → `stack.environment` (`aws://<account>/<region>`) of every stack of the app (a copy). */
  readonly environments: Record<string, string>;
  /**
   * The directory assets of the app's assembly (a copy): directory name (`asset.<hash>`) → path of each file in it →
   * SHA-256 (hex) of its bytes (test/support/app-snapshot.ts `assetFilesOf`): what the blueprint catalog publishes.
   */
  readonly assetFiles: Record<string, Record<string, string>>;
  /** The construct path of each stack (a copy), in the shape of the templates (`stackPaths.drBlueprints.professional`). */
  readonly stackPaths: StackPaths;
  /** Construct path → error annotations of each top-level stack (a copy): `Annotations.fromStack(stack).findError('*', Match.anyValue())` as id and data. */
  readonly errors: Record<string, Array<{ id: string; data: unknown }>>;
  /** Construct path → the construct paths of the stacks it depends on, for each top-level stack (a copy): what `cdk deploy --all` deploys first. */
  readonly stackDependencies: Record<string, string[]>;
  /** Construct path → stack name, account and region of each top-level stack (a copy): test/support/app-snapshot.ts `StackEnvironment`. */
  readonly stackEnvironments: Record<string, StackEnvironment>;
  /** Logical ids of the lifecycle's Lambdas and state machines in the platform stack (a copy): test/support/app-snapshot.ts `LifecycleIds`. */
  readonly lifecycleIds: LifecycleIds;
}

/** The templates of the default app; `deprecatedApisRefused`: synthesized with `JSII_DEPRECATED=fail` as its process's first synth. */
export interface DefaultAppTemplates extends AppTemplates {
  readonly deprecatedApisRefused: boolean;
}

/** The part of cdk.out/validation-report.json tests read. */
export interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: unknown[];
    suppressedViolations?: Array<{ ruleName: string; reason: string; acknowledgedAt: string; violatingConstructs: Array<{ constructPath: string }> }>;
  }>;
}

type Json = Record<string, unknown>;
type CachedSnapshot = AppSnapshot & { deprecatedApisRefused?: boolean };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE_DIR = join(ROOT, '.tessera', 'test-synth-cache');
const APP_INPUT_DIRS = ['bin', 'constructs', 'lambdas', 'lib', 'types'];
/** The test helpers that build and snapshot the app (and, through {@link appInputKey}, those they import). */
const SYNTH_HELPERS = ['test/support/synth.ts', 'test/support/default-app.ts', 'test/support/app-snapshot.ts', 'test/support/synthesize-default-app.ts'];
const INPUT_FILES = ['cdk.json', 'package.json', 'package-lock.json', 'tsconfig.json'];
/** A lock older than this is left by a process that died: ignored. */
const LOCK_STALE_MS = 240_000;
/**
 * A lock whose process still runs is waited for this long: a synth takes seconds on a quiet machine,
 * minutes on a loaded one, and a second synth of the same app only adds to the load.
 */
const LOCK_LIVE_MS = 900_000;
/** This module's cache files not read for this long are removed when a new one is written. */
const KEEP_MS = 3_600_000;
/**
 * This module's cache files: the snapshots (`<key>.json`, `app-<key>.json`) and the preflight's
 * blueprints through {@link cachedComputation} (`loaded-blueprints-<key>.json`). The other files of
 * the directory (the harness's disk-cache, the IAM answers) are pruned by their own modules.
 */
const OWN_FILE = /^(app-|loaded-blueprints-)?[0-9a-g][0-9a-f]{31}\.json$/;

/** Key → snapshot read or made by this process. */
const memo = new Map<string, CachedSnapshot>();
/** {@link appInputKey} when this process first imported the app's code (appTemplates' in-process synth). */
let loadedSourcesKey: string | undefined;

/**
 * The default app's templates: from this process's memo, the disk cache, or a synth in a child
 * process (then cached). Each call gives new `Template`s over copies of the JSON, made when first
 * read: a test that changes one changes nothing another test sees, as with
 * `Template.fromStack(buildApp().x)`.
 * @throws Error with the child's stderr when the synth fails (a finding, a deprecated API, a bug)
 */
export function defaultAppTemplates(): DefaultAppTemplates {
  const key = cacheKey();
  let snapshot = memo.get(key);
  if (!snapshot) {
    // The child loads the sources from disk when it starts: cached only if they did not change meanwhile.
    snapshot = cachedOrMade(key, synthesizeDefaultAppInto, () => cacheKey() === key);
    memo.set(key, snapshot);
  }
  return { ...toTemplates(snapshot), deprecatedApisRefused: snapshot.deprecatedApisRefused === true };
}

/**
 * The templates of the app of `configWith(overrides)` (the default config with `overrides` merged
 * in; bundling skipped), built with `options` (`placeholders`: the placeholder guard, as
 * `buildTesseraApp`'s): from this process's memo, the disk cache, or a synth in this process (then
 * cached). Fresh `Template`s and copies on each call, as {@link defaultAppTemplates}. The snapshot is
 * keyed on the config the overrides make ({@link cacheKey}), so {@link configTemplates} of the same
 * config reads it too.
 * @throws Error when the config is invalid or the synth fails (e.g. a compliance finding)
 */
export async function appTemplates(overrides: Json, options: { placeholders?: readonly PlaceholderFinding[] } = {}): Promise<AppTemplates> {
  return configTemplates(configWith(structuredClone(overrides)), options);
}

/**
 * The templates of the app of `config` (a whole config, as `configWith()` returns it), as
 * {@link appTemplates}: the same snapshot as `appTemplates(overrides)` whose `configWith(overrides)`
 * is this config (the lifecycle harness reads the definitions of its config from the snapshot an
 * infra file made, test/integration/support/lifecycle-definitions.ts).
 * @throws Error when the synth fails (e.g. a compliance finding)
 */
export async function configTemplates(config: PlatformConfig, options: { placeholders?: readonly PlaceholderFinding[] } = {}): Promise<AppTemplates> {
  const key = configCacheKey(config, options);
  let snapshot = memo.get(key);
  if (!snapshot) {
    // Loaded only on a miss: a file reading cached templates does not import the app.
    loadedSourcesKey ??= appInputKey();
    const [{ buildApp }, { snapshotOf }] = await Promise.all([import('./synth.js'), import('./app-snapshot.js')]);
    // This process builds with the code it loaded first (a shared worker keeps its modules across
    // files): cached only while the sources on disk are still what it loaded, else the templates of
    // old code would be stored under the new sources' key.
    snapshot = cachedOrMade(
      key,
      (file) => writeFileSync(file, JSON.stringify(snapshotOf(buildApp(structuredClone(config), structuredClone(options))))),
      () => appInputKey() === loadedSourcesKey && configCacheKey(config, options) === key,
    );
    memo.set(key, snapshot);
  }
  return toTemplates(snapshot);
}

/**
 * The `CDK_*` variables as sorted entries, part of every synth cache key: test/support/synth.ts reads
 * `CDK_VALIDATION` (off: no validation report), the app may read others (CDK_DEFAULT_ACCOUNT, ...).
 */
export const cdkEnvironment = (): Array<[string, string | undefined]> => Object.entries(process.env).filter(([k]) => k.startsWith('CDK_')).sort(([a], [b]) => (a < b ? -1 : 1));

/**
 * The cache key of the app of `configWith(overrides)` built with `options`: {@link appInputKey}
 * alone for the default app (no overrides) with no `CDK_*` variable set, else
 * {@link configCacheKey} of `configWith(overrides)` (overrides that make the same config share it).
 * @throws ConfigError when the overrides make an invalid config
 */
export function cacheKey(overrides?: Json, options: object = {}): string {
  if (overrides === undefined && cdkEnvironment().length === 0) return appInputKey();
  if (overrides === undefined) return configCacheKey(undefined, options);
  canonicalJson(overrides); // throws on an undefined value, as before
  return configCacheKey(configWith(structuredClone(overrides)), options);
}

/**
 * SHA-256 over {@link appInputKey}, `config` (undefined: the default app, whose snapshot is made
 * apart, {@link defaultAppTemplates}) and `options` as canonical JSON (keys sorted; values JSON
 * leaves out, `undefined`, left out) and the `CDK_*` variables (a snapshot made with
 * `CDK_VALIDATION=false` has no validation report and must not answer a run with it on).
 */
export function configCacheKey(config: PlatformConfig | undefined, options: object = {}): string {
  const cdk = cdkEnvironment();
  // `default` is not JSON, so the default app never shares a key with a config.
  const configText = config === undefined ? 'default' : canonicalJson(JSON.parse(JSON.stringify(config)));
  const hash = createHash('sha256').update(appInputKey()).update('\0').update(configText).update('\0').update(canonicalJson(options));
  if (cdk.length) hash.update('\0').update(JSON.stringify(cdk));
  return `app-${hash.digest('hex').slice(0, 32)}`;
}

/** JSON with object keys sorted at every level: equal values, equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Json)[k])}`).join(',')}}`;
  }
  if (value === undefined) throw new Error('appTemplates: overrides hold undefined (use null to remove a key, as the loader does)');
  return JSON.stringify(value);
}

/**
 * SHA-256 over the path and content of every file the app can read at synth, and of all of
 * `test/support/`, in a fixed order (test/integration/support/disk-cache.ts's key builds on it).
 */
export function inputKey(): string {
  return hashOf([...APP_INPUT_DIRS, 'test/support', ...INPUT_FILES]);
}

/**
 * SHA-256 over what the app's synth can read: every module it loads and the root files (`cdk.json`,
 * `package.json`, `package-lock.json`, `tsconfig.json`), starting from the test helpers that build
 * and snapshot it (synth.ts, this module, app-snapshot.ts, synthesize-default-app.ts). The modules
 * are the helpers' import graph ({@link synthModules}: every relative import, static or dynamic, and
 * re-export, followed through bin/, constructs/, lambdas/, lib/, types/ and test/), so an edit to a
 * module the synth never loads (a CLI command, a lifecycle handler, a test) is not a new app. Also
 * in the key, as the app reads files other than modules: the name of every file under those five
 * directories (the app checks that each function's handler file exists) and the content of every
 * file there that is not a `.ts` module (data such as the price tables, `bin/tessera.mjs`).
 * When the graph cannot be followed (an import whose module is not a literal path, or a path that
 * names no file), it is every file of the five directories and of the helpers, as before.
 */
export function appInputKey(): string {
  return moduleGraphKey(SYNTH_HELPERS) ?? hashOf([...APP_INPUT_DIRS, ...synthHelpers(), ...INPUT_FILES]);
}

/**
 * What {@link appInputKey} hashes, for the modules `entries` (repository-relative paths) load: their
 * import graph ({@link synthModules}), the name of every file under bin/, constructs/, lambdas/, lib/
 * and types/, the content of those that are not `.ts` modules, and the root files. Prefixed `g`.
 * Undefined when the graph cannot be followed (the caller then hashes every file).
 */
export function moduleGraphKey(entries: readonly string[]): string | undefined {
  const modules = synthModules(entries);
  if (!modules) return undefined;
  const hash = createHash('sha256');
  for (const relative of APP_INPUT_DIRS.flatMap(filesUnder)) {
    hash.update(`${relative}\0`);
    if (modules.has(relative) || !relative.endsWith('.ts')) hash.update(readFileSync(join(ROOT, relative))).update('\0');
  }
  for (const relative of [...modules].filter((m) => m.startsWith('test/')).sort()) hash.update(`${relative}\0`).update(readFileSync(join(ROOT, relative))).update('\0');
  return `g${hash.update(hashOf(INPUT_FILES)).digest('hex').slice(0, 31)}`;
}

/** Relative module paths a module loads at run time: `from '…'` (imports and re-exports), `import '…'`, `import('…')`, `require('…')`. */
const MODULE_REFERENCE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
/** A dynamic import or require whose argument is not a string literal: a module the graph cannot name. */
const COMPUTED_LOAD = /\b(?:import|require)\s*\(\s*(?![\s'")])/;
/**
 * Computed loads of modules in the graph that were read and load no project module (their targets
 * are node_modules, in the key through package-lock.json, or files beside a bundle): module → the
 * exact argument of each dynamic import. Any other computed load makes the key fall back to every file.
 */
const REVIEWED_COMPUTED_LOADS: Record<string, readonly string[]> = {
  // The tokenizer's ranks: o200k_base.mjs beside the Lambda bundle, else gpt-tokenizer's own module.
  'lambdas/inference/token-count.ts': ['ranksFrom'],
  // The decoders' ranks (cl100k_base, o200k_base): beside the Lambda bundle, else gpt-tokenizer's own modules.
  'lambdas/inference/token-decode.ts': ['ranksFrom'],
};

/**
 * The import graph of `entries` (default: the synth helpers): repository-relative paths of every project module they load,
 * transitively (relative imports only; node_modules are covered by package-lock.json). Undefined
 * when it cannot be followed: a module loads a computed path, or a relative path resolves to no
 * file (text of generated code, `'./${…}'`, excepted).
 */
export function synthModules(entries: readonly string[] = SYNTH_HELPERS): Set<string> | undefined {
  const seen = new Set<string>();
  const pending = [...entries];
  while (pending.length > 0) {
    const relative = pending.pop()!;
    if (seen.has(relative)) continue;
    seen.add(relative);
    let source = withoutTypeOnlyImports(readFileSync(join(ROOT, relative), 'utf8'));
    // (Spelled in pieces: this module is in the graph, and the whole call written out would read as a computed load.)
    for (const argument of REVIEWED_COMPUTED_LOADS[relative] ?? []) source = source.split(['import', '(', argument, ')'].join('')).join('');
    if (COMPUTED_LOAD.test(source)) return undefined;
    for (const [, spec] of source.matchAll(MODULE_REFERENCE)) {
      if (spec.includes('${')) continue; // a template of generated code, not an import of this module
      const target = join(dirname(relative), spec);
      const file = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`].find((f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile());
      if (!file) return undefined;
      pending.push(file);
    }
  }
  return seen;
}

/** Repository-relative paths of the files under `dir`, in name order at every level. */
function filesUnder(dir: string): string[] {
  const path = join(ROOT, dir);
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [dir];
  return readdirSync(path).sort().flatMap((name) => filesUnder(`${dir}/${name}`));
}

/** The synth helpers and the test helpers they import, relative imports resolving under test/, sorted: the key's fallback. */
function synthHelpers(): string[] {
  const seen = new Set<string>();
  const visit = (relative: string) => {
    if (seen.has(relative) || !existsSync(join(ROOT, relative))) return;
    seen.add(relative);
    const source = readFileSync(join(ROOT, relative), 'utf8');
    for (const [, spec] of source.matchAll(/\b(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      const target = join(dirname(relative), `${spec}.ts`);
      if (target.startsWith('test/')) visit(target);
    }
  };
  for (const entry of SYNTH_HELPERS) visit(entry);
  return [...seen].sort();
}

/**
 * Files under the hashed directories that no cached computation reads: the per-file wall times a `--durations` run
 * rewrites at its end (test/support/sequencer.ts orders files by them). Hashed, they made every run after a `--durations`
 * one rebuild the integration disk caches keyed by {@link inputKey} (measured 2026-12-06: two warm runs at 383 s wall,
 * 730 s of CPU, each after a `--durations` run).
 */
const NOT_INPUTS = new Set(['test/support/file-durations.json']); // sequencer.ts DURATIONS_FILE (not imported: it loads vitest/node)

/** SHA-256 over the path and content of every file of `inputs` (files, or directories walked in name order), but {@link NOT_INPUTS}. */
function hashOf(inputs: readonly string[]): string {
  const hash = createHash('sha256');
  const add = (relative: string) => {
    const path = join(ROOT, relative);
    if (NOT_INPUTS.has(relative) || !existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(`${relative}/${name}`);
    } else {
      hash.update(`${relative}\0`).update(readFileSync(path)).update('\0');
    }
  };
  for (const input of inputs) add(input);
  return hash.digest('hex').slice(0, 32);
}

/**
 * The snapshot under `key`: read from the disk cache, or made by `make` (into a temp file) and
 * cached, unless `stillCurrent()` says after the build that the sources it was made from are not
 * those of `key` any more (edited during the run): then it is returned but not cached.
 */
function cachedOrMade(key: string, make: (file: string) => void, stillCurrent: () => boolean): CachedSnapshot {
  return cachedFile(key, make, stillCurrent, (c: CachedSnapshot) => Boolean(c.validationReport && c.stackPaths && c.errors && c.lifecycleIds && c.assetFiles));
}

/**
 * The JSON that `compute()` returns, kept as the snapshots are (`.tessera/test-synth-cache/<key>.json`,
 * the same lock, `TESSERA_TEST_CACHE=off` computes and keeps nothing): read when there; else, after
 * waiting for another process computing the same key, `prepare()` (the imports the computation
 * needs: made on a miss only) and the computation run here, and the result is written unless
 * `stillCurrent()` says afterwards that the sources changed meanwhile.
 */
export async function cachedComputation<T>(key: string, prepare: () => Promise<() => T>, stillCurrent: () => boolean): Promise<T> {
  const file = join(CACHE_DIR, `${key}.json`);
  const lock = join(CACHE_DIR, `${key}.lock`);
  if (process.env.TESSERA_TEST_CACHE !== 'off') {
    const waitUntil = Date.now() + LOCK_LIVE_MS;
    while (!existsSync(file) && existsSync(lock) && Date.now() < waitUntil) {
      if (!takeLockWouldWait(lock)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (existsSync(file)) {
      try {
        const cached = JSON.parse(readFileSync(file, 'utf8')) as T;
        touch(file);
        return cached;
      } catch { /* pruned meanwhile: computed below */ }
    }
  }
  const compute = await prepare();
  return cachedFile(key, (out) => writeFileSync(out, JSON.stringify(compute())), stillCurrent, () => true) as T;
}

/** True while `lock` is held by a live process (or is too young to call stale). */
function takeLockWouldWait(lock: string): boolean {
  try {
    const holder = Number(readFileSync(lock, 'utf8'));
    return holder > 0 ? processAlive(holder) : Date.now() - statSync(lock).mtimeMs <= LOCK_STALE_MS;
  } catch {
    return false; // removed meanwhile
  }
}

function cachedFile<C>(key: string, make: (file: string) => void, stillCurrent: () => boolean, complete: (c: C) => boolean): C {
  mkdirSync(CACHE_DIR, { recursive: true });
  if (process.env.TESSERA_TEST_CACHE === 'off') {
    // As the other test caches: nothing read, nothing kept (the snapshot goes through a file of this process's own).
    const own = join(CACHE_DIR, `${key}.${process.pid}.${randomUUID()}.off.tmp`);
    try {
      make(own);
      return JSON.parse(readFileSync(own, 'utf8')) as C;
    } finally {
      rmSync(own, { force: true });
    }
  }
  const file = join(CACHE_DIR, `${key}.json`);
  const lock = join(CACHE_DIR, `${key}.lock`);
  // A file without validationReport was written by a process still running a previous version of
  // this module (the key is read from the files on disk, the code was loaded earlier): not ours to use.
  const read = () => {
    const cached = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as C : undefined;
    if (cached === undefined || !complete(cached)) return undefined;
    touch(file);
    return cached;
  };
  const waitUntil = Date.now() + LOCK_LIVE_MS;
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
    try {
      make(partial);
    } catch (e) {
      rmSync(partial, { force: true });
      throw e;
    }
    const snapshot = JSON.parse(readFileSync(partial, 'utf8')) as C;
    if (!stillCurrent()) {
      rmSync(partial, { force: true });
      return snapshot;
    }
    renameSync(partial, file); // atomic: readers see the whole file or none
    prune(file);
    return snapshot;
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Synthesizes the default app in a child process (test/support/synthesize-default-app.ts, with
 * `JSII_DEPRECATED=fail`), which writes its snapshot to `file`: this process then never imports
 * the app's code.
 * @throws Error with the child's stderr when it fails
 */
function synthesizeDefaultAppInto(file: string): void {
  try {
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'support', 'synthesize-default-app.ts'), file], {
      cwd: ROOT, env: { ...process.env, JSII_DEPRECATED: 'fail' }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    throw new Error(`synthesizing the default app failed: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
  }
}

function toTemplates(c: AppSnapshot): AppTemplates {
  const made = new Map<Json, Template>();
  const t = (json: Json) => made.get(json) ?? made.set(json, Template.fromJSON(structuredClone(json))).get(json)!;
  const byTier = (stacks: Record<string, Json>) => {
    const out: Record<string, Template> = {};
    for (const [tier, json] of Object.entries(stacks)) Object.defineProperty(out, tier, { enumerable: true, get: () => t(json) });
    return out;
  };
  const blueprints = byTier(c.blueprints);
  const namespaceBlueprints = byTier(c.namespaceBlueprints);
  const drBlueprints = byTier(c.drBlueprints);
  const failoverBlueprints = byTier(c.failoverBlueprints);
  return {
    get organization() { return t(c.organization); },
    get platform() { return t(c.platform); },
    get operations() { return t(c.operations); },
    get functionPolicies() { return t(c.functionPolicies); },
    get eventRules() { return t(c.eventRules); },
    get namespaceKubectl() { return c.namespaceKubectl ? t(c.namespaceKubectl) : undefined; },
    get clusterAutoscaler() { return c.clusterAutoscaler ? t(c.clusterAutoscaler) : undefined; },
    get platformWithPolicies() { return Template.fromJSON(platformWithFunctionPolicies(c.platform, c.functionPolicies)); },
    get platformWithEventRules() { return Template.fromJSON(platformWithNestedStack(c.platform, 'EventRules', c.eventRules)); },
    get platformDr() { return c.platformDr ? t(c.platformDr) : undefined; },
    get accountBaseline() { return t(c.accountBaseline); },
    get workloadProvisioning() { return t(c.workloadProvisioning); },
    blueprints,
    namespaceBlueprints,
    drBlueprints,
    failoverBlueprints,
    get blueprintCatalog() { return structuredClone(c.blueprintCatalog); },
    get validationReport() { return structuredClone(c.validationReport) as unknown as ValidationReport; },
    get stackPaths() { return structuredClone(c.stackPaths); },
    get errors() { return structuredClone(c.errors); },
    get stackDependencies() { return structuredClone(c.stackDependencies); },
    get stackEnvironments() { return structuredClone(c.stackEnvironments); },
    get lifecycleIds() { return structuredClone(c.lifecycleIds); },
    get resourcePaths() { return [...c.resourcePaths]; },
    get taggableResourcePaths() { return [...c.taggableResourcePaths]; },
    get environments() { return { ...c.environments }; },
    get assetFiles() { return structuredClone(c.assetFiles); },
    logicalIdAt(path: string) {
      const id = c.logicalIds[path];
      if (id === undefined) throw new Error(`the app has no CloudFormation element at ${path}`);
      return id;
    },
  };
}

/**
 * Creates the lock file (holding this process's id) unless another live process holds it; true when
 * this process holds it. A lock is left by a dead process when its holder is gone, or when it is older
 * than {@link LOCK_STALE_MS} and names no process (written by an earlier version of this module).
 */
function takeLock(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx');
    try {
      writeSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
    return true;
  } catch {
    try {
      const holder = Number(readFileSync(lock, 'utf8'));
      const dead = holder > 0 ? !processAlive(holder) : Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
      if (dead) rmSync(lock, { force: true });
    } catch { /* removed meanwhile */ }
    return false;
  }
}


function prune(keep: string): void {
  for (const name of readdirSync(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    try {
      if (path !== keep && OWN_FILE.test(name) && Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { force: true });
    } catch { /* removed by another process */ }
  }
}

/** Marks a cache file as read now: {@link prune} removes what was not read for {@link KEEP_MS}. */
function touch(file: string): void {
  try {
    const now = new Date();
    utimesSync(file, now, now);
  } catch { /* removed meanwhile */ }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
