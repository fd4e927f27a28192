import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { configErrorMap, describeConfigIssues, uselessRemovals, type ConfigLayer } from './config-issues.js';
import { nearest } from './nearest.js';
import { CONFIG_CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY, TESSERA_CONTEXT_KEYS, TESSERA_CONTEXT_PREFIX } from './context-keys.js';
import { DEFAULT_CONFIG } from './default-config.js';
import { describePlaceholders, EMBEDDED_DEFAULT, findPlaceholders, type PlaceholderFinding } from './placeholders.js';
import { PlatformConfigSchema, TierConfigSchema, type PlatformConfig } from './schema.js';

/** Context keys (cdk.json, `-c key=value`) that override the embedded default. */
export { CONFIG_CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY };

export { ConfigError };

export interface ConfigSources {
  /** Path of a YAML or JSON file whose keys override the default. @default - none */
  readonly file?: string;
  /** An object (or its JSON text) whose keys override the default and the file. @default - none */
  readonly overrides?: unknown;
}

/** Reads the config sources named in the CDK context of `node` (use `app.node`). */
export function configSourcesFromContext(tryGetContext: (key: string) => unknown): ConfigSources {
  const file = tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  return {
    file: typeof file === 'string' && file.length > 0 ? file : undefined,
    overrides: tryGetContext(CONFIG_CONTEXT_KEY),
  };
}

/**
 * One line for each `tessera:` context key the app does not read (`-c tessera:configfile=…` would
 * otherwise be ignored, and the embedded default synthesized): the key, the nearest known key and
 * the keys the app reads. Keys without the prefix (CDK's feature flags, lookups) are not Tessera's.
 */
export function unknownContextKeyProblems(keys: Iterable<string>): string[] {
  const known = TESSERA_CONTEXT_KEYS.join(', ');
  return [...keys].filter((key) => key.startsWith(TESSERA_CONTEXT_PREFIX) && !TESSERA_CONTEXT_KEYS.includes(key)).map((key) => {
    const guess = nearest(key, TESSERA_CONTEXT_KEYS);
    return `context key ${key} is not one Tessera reads${guess ? `; did you mean \`${guess}\`?` : ''} (known keys: ${known})`;
  });
}

/**
 * @throws ConfigError naming each `tessera:` key of `context` (all of the app's context:
 * `app.node.getAllContext()`) that the app does not read ({@link unknownContextKeyProblems})
 */
export function refuseUnknownContextKeys(context: Record<string, unknown>): void {
  const problems = unknownContextKeyProblems(Object.keys(context));
  if (problems.length > 0) throw new ConfigError('CDK context', problems);
}

/**
 * Default ⊕ file ⊕ overrides, validated. Objects merge key by key; arrays and scalars replace;
 * `null` removes a key (e.g. `tiers: { starter: null }` drops a default tier).
 * @throws ConfigError listing every problem, one line each
 */
export function loadConfig(sources: ConfigSources = {}): PlatformConfig {
  return loadConfigReport(sources).config;
}

/** A loaded config and the embedded default's placeholders still in force in it (see lib/config/placeholders.ts). */
export interface LoadedConfig {
  readonly config: PlatformConfig;
  readonly placeholders: readonly PlaceholderFinding[];
}

/**
 * `loadConfig`, also reporting the placeholders of the embedded default that no source replaced.
 * With `refusePlaceholders`, any such placeholder is a ConfigError naming each key to set (the
 * CDK app refuses them whenever a config file is given: a file means a real deployment).
 * @throws ConfigError for an invalid config, or for placeholders when `refusePlaceholders`
 */
export function loadConfigReport(sources: ConfigSources = {}, options: { refusePlaceholders?: boolean } = {}): LoadedConfig {
  const layers: ConfigLayer[] = [{ name: EMBEDDED_DEFAULT, value: DEFAULT_CONFIG }];
  if (sources.file) layers.push({ name: sources.file, value: readConfigFile(sources.file) });
  if (sources.overrides !== undefined) {
    layers.push({ name: `context ${CONFIG_CONTEXT_KEY}`, value: parseOverrides(sources.overrides) });
  }
  const removals: string[] = [];
  const merged = layers.reduce<unknown>((acc, layer) => {
    removals.push(...uselessRemovals(acc, layer));
    return deepMerge(acc, layer.value);
  }, {});
  dropEmbeddedAliasesWithoutTarget(merged, layers);
  const source = layers.map((l) => l.name).join(' + ');
  const config = parseConfig(merged, source, layers, removals);
  const placeholders = findPlaceholders(merged, layers);
  if (options.refusePlaceholders && placeholders.length > 0) {
    const where = sources.file ?? `context ${CONFIG_CONTEXT_KEY}`;
    throw new ConfigError(`${source}; placeholders remain, so it cannot be deployed`, describePlaceholders(placeholders, where));
  }
  return { config, placeholders };
}

/**
 * Validates an already merged config object. Every problem is one line naming the layer that set
 * the key (`layers`; @default - `source` for all), its dotted path, the value and the fix.
 * The schema is strict: an unknown key at any depth is an error with the nearest known key.
 */
export function parseConfig(raw: unknown, source = 'config', layers: readonly ConfigLayer[] = [{ name: source, value: raw }], problems: readonly string[] = []): PlatformConfig {
  const knownKeys = new Map<string, string[]>();
  const result = PlatformConfigSchema.safeParse(raw, { error: configErrorMap(knownKeys) });
  // zod finalizes messages lazily: read the issues here, while the error map's known keys are ours.
  const issues = result.success ? [] : result.error.issues;
  const all = [...problems, ...describeConfigIssues(issues, raw, layers, knownKeys, Object.keys(TierConfigSchema.shape))];
  if (all.length > 0 || !result.success) throw new ConfigError(source, all);
  return result.data;
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read the config file: ${(e as Error).message}`]);
  }
  let document: unknown;
  try {
    // YAML is a superset of JSON, so one parser serves both. `merge`: YAML 1.1's merge key (`<<: *base`), which YAML 1.2
    // dropped but platform teams write beside anchors (Compose, GitLab CI): without it `<<` reached the schema as a key.
    document = parseYaml(text, { merge: true });
  } catch (e) {
    throw new ConfigError(file, [`is not valid YAML/JSON: ${(e as Error).message}`]);
  }
  // A file is the keys it sets: an empty one (YAML's null) would otherwise merge as a null root,
  // which deletes the whole config and was reported against the embedded default too.
  if (document === null || document === undefined) throw new ConfigError(file, ['is empty: a config file is a mapping of the keys it sets (the smallest one that deploys: docs/configuration.md)']);
  if (!isPlainObject(document)) throw new ConfigError(file, [`must be a mapping of keys at its top, not ${Array.isArray(document) ? 'a list' : `a ${typeof document}`}`]);
  return document;
}

function parseOverrides(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new ConfigError(`context ${CONFIG_CONTEXT_KEY}`, [`is not valid JSON: ${(e as Error).message}`]);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Removes, in place, the embedded default's model aliases (`DEFAULT_CONFIG.gateway.modelAliases`: the bare OpenAI
 * names of its `openai/*` models) whose target the merged catalog no longer has: a config whose `gateway.models`
 * replaces the catalog (arrays replace) keeps the embedded aliases of the models it keeps and loses the others
 * silently, as it loses those models. An alias that a later layer sets itself (even to the same target) is kept and
 * checked as the user's, so a target missing there is the synth error naming `gateway.modelAliases.<alias>`.
 * @param merged the merged config object (default ⊕ file ⊕ overrides), before validation
 * @param layers the layers merged, the embedded default first
 */
export function dropEmbeddedAliasesWithoutTarget(merged: unknown, layers: readonly ConfigLayer[]): void {
  const embedded = DEFAULT_CONFIG.gateway.modelAliases ?? {};
  if (!isPlainObject(merged) || !isPlainObject(merged.gateway)) return;
  const gateway = merged.gateway;
  const aliases = gateway.modelAliases;
  if (!isPlainObject(aliases) || !Array.isArray(gateway.models)) return;
  const ids = new Set(gateway.models.map((m: unknown) => (isPlainObject(m) ? m.id : undefined)));
  const setLater = (alias: string) => layers.slice(1).some((l) => isPlainObject(l.value) && isPlainObject(l.value.gateway)
    && isPlainObject(l.value.gateway.modelAliases) && Object.prototype.hasOwnProperty.call(l.value.gateway.modelAliases, alias));
  const kept = { ...aliases };
  for (const [alias, target] of Object.entries(embedded)) {
    if (kept[alias] === target && !ids.has(target) && !setLater(alias)) delete kept[alias];
  }
  gateway.modelAliases = kept;
}

export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = deepMerge(base[key], value);
  }
  return out;
}
