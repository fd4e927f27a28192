import { formatPath, valueAt } from '../zod-issues.js';
import type { ConfigLayer } from './config-issues.js';

/**
 * The embedded default's placeholders: values that let `npx cdk synth` run on a fresh machine but
 * must never reach a deployment. A placeholder account id may belong to someone: a platform that
 * trusted it would hand that account its keys and buckets.
 *
 * Two marks, both checked:
 * - keys whose embedded value is a placeholder (`PLACEHOLDER_KEYS`): a placeholder remains when no
 *   config layer but the embedded default sets the key;
 * - tokens (`PLACEHOLDER_TOKENS`) that mark a placeholder wherever they appear in a string value,
 *   so a copied default (`s3://tessera-base-models-222222222222/...`) is caught too.
 */
export const PLACEHOLDER_KEYS: ReadonlyArray<{
  readonly path: readonly string[];
  readonly what: string;
  /** Whether the key matters to the merged config (absent: always); a placeholder of a key that does not matter is left alone. */
  readonly appliesTo?: (merged: unknown) => boolean;
}> = [
  { path: ['organization', 'managementAccountId'], what: 'your management account id' },
  { path: ['organization', 'organizationId'], what: 'your organization id (o-…)' },
  { path: ['organization', 'rootId'], what: 'your organization root id (r-…)' },
  {
    path: ['organization', 'accountEmail'],
    what: 'the root email of the tenant accounts, an address of your platform team\'s with {tenantId} (e.g. aws+tessera-{tenantId}@<your domain>)',
    // Only account-isolation tiers create accounts: a platform of VPC tiers alone never sends the address.
    appliesTo: usesAccountIsolation,
  },
  { path: ['platformAccountId'], what: 'the platform account id' },
  { path: ['workloadAccountId'], what: 'the workload account id' },
  {
    path: ['fineTuning', 'baseModels'],
    what: 'your base models: each with id, trainingImage and servingImage (ECR images in your home region), weightsS3Uri (a bucket of your platform account), inputPricePer1k and outputPricePer1k',
  },
];

/** Substrings that mark a placeholder in any string value: the example account ids, organization and root ids, and example email domains. */
export const PLACEHOLDER_TOKENS: readonly string[] = ['111111111111', '222222222222', '333333333333', 'o-exampleorg1', 'r-ex01', '@example.com', '@example.org'];

/** The name of the first config layer, the embedded default (lib/config/load-config.ts). */
export const EMBEDDED_DEFAULT = 'embedded default';

/** One placeholder still in force: its dotted path, its value, what to set instead and the layer that set it. */
export interface PlaceholderFinding {
  readonly path: string;
  readonly value: unknown;
  readonly what: string;
  /** The config layer the value came from (`embedded default`, the file, `context tessera:config`). */
  readonly source: string;
}

/** Whether a tier of `merged` uses account isolation (its tenants get AWS accounts of their own). */
function usesAccountIsolation(merged: unknown): boolean {
  const tiers = valueAt(merged, ['tiers']);
  return typeof tiers === 'object' && tiers !== null
    && Object.values(tiers).some((t) => typeof t === 'object' && t !== null && (t as { isolation?: unknown }).isolation === 'account');
}

function has(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, key);
}

function setBy(layer: unknown, path: readonly string[]): boolean {
  let cur = layer;
  for (const key of path) {
    if (!has(cur, key)) return false;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur !== null; // null removes the key: the default's value does not stay, but nothing replaces it either
}

/** The last layer whose own value sets `path` (objects and arrays walked), else the first: the embedded default. */
function sourceOf(layers: readonly ConfigLayer[], path: readonly PropertyKey[]): string {
  for (const layer of [...layers].reverse()) {
    let cur: unknown = layer.value;
    for (const key of path) cur = typeof cur === 'object' && cur !== null && Object.prototype.hasOwnProperty.call(cur, key) ? (cur as Record<PropertyKey, unknown>)[key] : undefined;
    if (cur !== undefined && cur !== null) return layer.name;
  }
  return layers[0]?.name ?? EMBEDDED_DEFAULT;
}

function* stringsIn(value: unknown, path: PropertyKey[] = []): Generator<{ path: PropertyKey[]; value: string }> {
  if (typeof value === 'string') yield { path, value };
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsIn(v, [...path, i]);
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...path, k]);
}

/**
 * Every placeholder still in force in `merged`, the config merged from `layers` (the first layer
 * is the embedded default). Returns `[]` when the config is deployable in this respect.
 */
export function findPlaceholders(merged: unknown, layers: readonly ConfigLayer[]): PlaceholderFinding[] {
  const own = layers.slice(1);
  const findings: PlaceholderFinding[] = [];
  const seen = new Set<string>();
  for (const key of PLACEHOLDER_KEYS) {
    const value = valueAt(merged, key.path);
    if (value !== undefined && key.appliesTo && !key.appliesTo(merged)) {
      seen.add(key.path.join('.')); // nor reported by its token below
      continue;
    }
    if (value === undefined || own.some((layer) => setBy(layer.value, key.path))) continue;
    findings.push({ path: key.path.join('.'), value, what: key.what, source: layers[0]?.name ?? EMBEDDED_DEFAULT });
    seen.add(key.path.join('.'));
  }
  for (const found of stringsIn(merged)) {
    const token = PLACEHOLDER_TOKENS.find((t) => found.value.includes(t));
    const path = formatPath(found.path);
    if (!token || [...seen].some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`))) continue;
    // A key with its own advice (a placeholder account id copied into a file) keeps it.
    const what = PLACEHOLDER_KEYS.find((k) => k.path.join('.') === path)?.what ?? `a value without the embedded default's placeholder ${token}`;
    findings.push({ path, value: found.value, what, source: sourceOf(layers, found.path) });
  }
  return findings;
}

/**
 * One line per finding, led by its source as the config's other errors are. A placeholder left in
 * force by the embedded default reads
 * `embedded default: path = value: is a placeholder of the embedded default; set <what> in <where>`;
 * one that a layer of the user's set (copied into a file, or given as context) reads
 * `<source>: path = value: is a placeholder of the embedded default; replace it with <what> in <source>`.
 * @param where the file (or context) the user edits when nothing of theirs set the key yet
 */
export function describePlaceholders(findings: readonly PlaceholderFinding[], where: string): string[] {
  return findings.map((f) => {
    const shown = Array.isArray(f.value) ? `[${f.value.length} entr${f.value.length === 1 ? 'y' : 'ies'} of the embedded default]` : JSON.stringify(f.value);
    const advice = f.source === EMBEDDED_DEFAULT ? `set ${f.what} in ${where}` : `replace it with ${f.what} in ${f.source}`;
    return `${f.source}: ${f.path} = ${shown}: is a placeholder of the embedded default; ${advice}`;
  });
}
