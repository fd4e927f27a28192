import type { z } from 'zod';
import { formatPath, valueAt } from '../zod-issues.js';
import { EMBEDDED_DEFAULT } from './placeholders.js';
import { DISJOINT, TIER_NAME_RULE } from './config-rules.js';
import { nearest } from './nearest.js';

/**
 * Config validation messages that say what to do: each line names the source that set the key
 * (the file, the context key or the embedded default), the dotted path, the value given and the
 * fix; an unknown key gets the nearest known key ("did you mean `managementAccountId`?", nearest.ts).
 *
 * Kept apart from lib/zod-issues.ts (shared by the Lambdas) so that Lambda bundles do not carry
 * the config's messages.
 */

/** One source of the merged config, in merge order (the last one wins). */
export interface ConfigLayer {
  readonly name: string;
  readonly value: unknown;
}

type Path = readonly PropertyKey[];

/** `Gold_Tier` → `gold-tier`: the closest name that follows the tier-name rule. */
export function tierNameLike(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '').slice(0, 31);
  return cleaned.length >= 2 ? cleaned : `tier-${cleaned}`.replace(/-$/, '');
}

function has(value: unknown, key: PropertyKey): boolean {
  return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, key);
}

/** Whether `raw` has every key of `path` (a value of `undefined` or `null` counts: the layer set it). */
function defines(raw: unknown, path: Path): boolean {
  let cur: unknown = raw;
  for (const key of path) {
    if (!has(cur, key)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return true;
}

/**
 * The layer that set `path`: the last one defining it, else the last one defining (or removing,
 * with `null`) its longest defined prefix, e.g. the file that added a tier missing a section.
 */
export function sourceOf(path: Path, layers: readonly ConfigLayer[]): string {
  for (let n = path.length; n > 0; n--) {
    const prefix = path.slice(0, n);
    for (let i = layers.length - 1; i >= 0; i--) {
      if (defines(layers[i].value, prefix)) return layers[i].name;
    }
  }
  return layers.map((l) => l.name).join(' + ');
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const shown = JSON.stringify(value);
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return `the ${typeof input} ${JSON.stringify(input)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys',
  record: 'a mapping of keys',
};

function quoted(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function lastKey(path: Path): string {
  return String(path[path.length - 1] ?? 'value');
}

/** Zod issue (as the error map sees it) → a message that says what to do. */
type RawIssue = z.core.$ZodRawIssue & { inst?: { _zod?: { def?: { shape?: Record<string, unknown> } } } };

/**
 * A per-parse zod error map. Messages set by the schema itself (refinements, regex messages) take
 * precedence over it; it rewrites zod's generic ones. Known keys of each object with unknown keys
 * are recorded in `knownKeys` (by dotted path) for the suggestion.
 */
export function configErrorMap(knownKeys: Map<string, string[]>): (issue: RawIssue) => string | undefined {
  return (issue) => {
    const path = issue.path ?? [];
    const input = issue.input;
    switch (issue.code) {
      case 'unrecognized_keys': {
        knownKeys.set(formatPath(path), Object.keys(issue.inst?._zod?.def?.shape ?? {}));
        return 'is not a known key';
      }
      case 'invalid_type': {
        const expected = EXPECTED[issue.expected] ?? issue.expected;
        if (input === undefined) {
          // A section of a tier (tiers.<name>.<section>): a tier the default lacks inherits none, so say where to copy one from.
          const tierSection = path.length === 3 && path[0] === 'tiers';
          return issue.expected === 'object'
            ? `is required: add the ${lastKey(path)} section${tierSection ? ` (a tier of your own is written whole: \`npx tessera config defaults --tier professional\` prints a default tier to copy it from; starter and enterprise too)` : ''} (see docs/configuration.md)`
            : `is required: set it to ${expected} (see docs/configuration.md)`;
        }
        let fix = '';
        if ((issue.expected === 'number' || issue.expected === 'int') && typeof input === 'string' && input.trim() !== '' && Number.isFinite(Number(input))) fix = `: write ${input} without quotes`;
        else if (issue.expected === 'boolean' && (input === 'true' || input === 'false')) fix = `: write ${input} without quotes`;
        else if (issue.expected === 'string' && typeof input === 'number') fix = ': quote it (in YAML an unquoted number such as an account id is read as a number and loses its leading zeros)';
        else if (issue.expected === 'array' && (typeof input === 'string' || typeof input === 'number')) fix = `: write it as a list, e.g. [${JSON.stringify(input)}]`;
        else if (issue.expected === 'int' && typeof input === 'number') fix = `: round ${input} to a whole number`;
        return `must be ${expected}, not ${describeInput(input)}${fix}`;
      }
      case 'too_small': {
        const min = Number(issue.minimum);
        if (issue.origin === 'array' || issue.origin === 'set') return `must list at least ${min} item${min === 1 ? '' : 's'}: add ${min === 1 ? 'one' : 'more'}`;
        if (issue.origin === 'string') return min <= 1 ? 'must not be empty: set a value or remove the key' : `must be at least ${min} characters long`;
        return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
      }
      case 'too_big': {
        const max = Number(issue.maximum);
        if (issue.origin === 'array' || issue.origin === 'set') return `must list at most ${max} item${max === 1 ? '' : 's'}: remove some`;
        if (issue.origin === 'string') return `must be at most ${max} characters long`;
        return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
      }
      case 'invalid_value': {
        const values = issue.values as readonly unknown[];
        const guess = typeof input === 'string' ? nearest(input, values.filter((v): v is string => typeof v === 'string')) : undefined;
        return `must be one of ${quoted(values)}${guess ? `; did you mean \`${guess}\`?` : ''}`;
      }
      case 'invalid_union': {
        const discriminated = issue as { discriminator?: string; options?: unknown[] };
        if (discriminated.discriminator && discriminated.options) {
          const options = discriminated.options.filter((v): v is string => typeof v === 'string');
          const given = (input as Record<string, unknown> | undefined)?.[discriminated.discriminator];
          if (given === undefined) return `is required: set ${discriminated.discriminator} to one of ${quoted(options)}`;
          const guess = typeof given === 'string' ? nearest(given, options) : undefined;
          return `must be one of ${quoted(options)}${guess ? `; did you mean \`${guess}\`?` : ''}`;
        }
        return undefined;
      }
      case 'invalid_format': {
        if (issue.format === 'url') return 'must be an absolute URL such as https://api.example.com/v1';
        if (issue.format === 'regex') return `must match the pattern ${String((issue as { pattern?: unknown }).pattern)}`;
        return undefined;
      }
      default:
        return undefined;
    }
  };
}

/** The issue as the caller gets it (zod's finalized issue, with the key rule for record keys). */
type FinalIssue = z.core.$ZodIssue;

function startsWith(path: Path, prefix: Path): boolean {
  return path.length > prefix.length && prefix.every((k, i) => path[i] === k);
}

/**
 * One line per problem: `<source>: <path> = <value>: <what to do>`. Unknown keys get a line each,
 * with the nearest known key; an invalid tier name hides the errors of the tier's body.
 * @param tierKeys the keys a tier takes (TierConfigSchema's): an unknown key elsewhere that is one of them
 *   (`ebsEncryptionByDefault: true` at the top level) is told to go under a tier, `tiers.<tier>.<key>`, with the
 *   config's tiers named, rather than offered the nearest key of the wrong place. @default [] - no such hint
 */
export function describeConfigIssues(issues: readonly FinalIssue[], merged: unknown, layers: readonly ConfigLayer[], knownKeys: ReadonlyMap<string, string[]>, tierKeys: readonly string[] = []): string[] {
  const badKeys = issues.filter((i) => i.code === 'invalid_key').map((i) => i.path);
  const lines: string[] = [];
  const line = (path: Path, message: string) =>
    lines.push(`${sourceOf(path, layers)}: ${formatPath(path) || '(root)'} = ${show(valueAt(merged, path))}: ${message}`);
  const tierNames = Object.keys((valueAt(merged, ['tiers']) as Record<string, unknown> | undefined) ?? {});
  // The tiers to name in a hint: not a tier's key written straight under `tiers` (`tiers: {deleteDefaultVpcs: true}`).
  const realTiers = tierNames.filter((t) => !tierKeys.includes(t));
  // A tier the layers below do not have, missing required sections, whose name is close to a tier
  // they do have: most likely a misspelt override (`tiers: { profesional: { limits: … } }`). One
  // line for it, not one per missing section.
  const misspeltTiers = new Map<string, string>();
  for (const issue of issues) {
    if (issue.path[0] !== 'tiers' || issue.path.length < 3 || issue.code !== 'invalid_type' || valueAt(merged, issue.path) !== undefined) continue;
    const name = String(issue.path[1]);
    const existing = tierNames.filter((t) => t !== name && layers.slice(0, -1).some((l) => defines(l.value, ['tiers', t])));
    const guess = nearest(name, existing);
    if (guess && !layers.slice(0, -1).some((l) => defines(l.value, ['tiers', name]))) misspeltTiers.set(name, guess);
  }
  for (const [name, guess] of misspeltTiers) {
    line(['tiers', name], `is a new tier missing required sections; did you mean \`${guess}\`? (to change a tier, use its name; a new tier must define isolation, network, database, cache, compute, limits, models and training)`);
  }
  // A tier of the config's own missing several sections (a copy begun with isolation and network alone): one line naming
  // them all, not one per section, each with the same hint (six lines of 250 characters for a tier of two keys).
  const missingSections = new Map<string, FinalIssue[]>();
  for (const issue of issues) {
    const name = String(issue.path[1]);
    if (issue.path[0] !== 'tiers' || issue.path.length !== 3 || issue.code !== 'invalid_type' || issue.expected !== 'object') continue;
    if (valueAt(merged, issue.path) !== undefined || misspeltTiers.has(name) || badKeys.some((k) => startsWith(issue.path, k))) continue;
    missingSections.set(name, [...(missingSections.get(name) ?? []), issue]);
  }
  for (const [name, missing] of missingSections) {
    if (missing.length < 2) {
      missingSections.delete(name);
      continue;
    }
    const sections = missing.map((i) => String(i.path[2]));
    lines.push(`${sourceOf(missing[0].path, layers)}: ${formatPath(['tiers', name])}.{${sections.join(', ')}} = (missing): are required: add the ${sections.slice(0, -1).join(', ')} and ${sections.at(-1)} sections `
      + '(a tier of your own is written whole: `npx tessera config defaults --tier professional` prints a default tier to copy them from; starter and enterprise too) (see docs/configuration.md)');
  }
  for (const issue of issues) {
    if (badKeys.some((k) => startsWith(issue.path, k))) continue;
    if (issue.path[0] === 'tiers' && misspeltTiers.has(String(issue.path[1]))) continue;
    if (missingSections.get(String(issue.path[1]))?.includes(issue)) continue;
    if (issue.path.length === 1 && issue.path[0] === 'defaultTier' && issue.code === 'custom') {
      const guess = nearest(String(valueAt(merged, ['defaultTier'])), tierNames);
      line(issue.path, `${issue.message}${guess ? `; did you mean \`${guess}\`?` : ''}`);
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      const parent = formatPath(issue.path);
      const known = knownKeys.get(parent) ?? [];
      // Of known keys as near, name one the mapping does not set yet: `quota: { cpu: 16, gpu: 4 }` meant `gpus`, not the
      // `cpu` it already has (both one edit away; nearest keeps the candidates' order for a tie).
      const here = valueAt(merged, issue.path);
      const set = (k: string) => typeof here === 'object' && here !== null && Object.hasOwn(here, k);
      const unsetFirst = [...known.filter((k) => !set(k)), ...known.filter(set)];
      // Where a tier's key was written in the wrong place: within a tier's section (the tier is known), or outside tiers.
      const tier = issue.path[0] === 'tiers' && issue.path.length >= 2 ? String(issue.path[1]) : undefined;
      for (const key of issue.keys) {
        const of = parent ? `a key of ${parent}` : 'a top-level key';
        const guess = nearest(key, unsetFirst);
        const tiersKey = tierKeys.includes(key) && !(tier !== undefined && issue.path.length === 2);
        if (tiersKey && tier === undefined) {
          const under = `tiers.<tier>.${key} (this config's tiers: ${realTiers.join(', ')})`;
          line([...issue.path, key], `is not ${of}; ${guess ? `did you mean \`${guess}\`? Or, a tier's key, put it under each tier it applies to: ${under}` : `it is a tier's key: put it under each tier it applies to, ${under}`}`);
          continue;
        }
        if (tiersKey) {
          line([...issue.path, key], `is not ${of}; ${guess ? `did you mean \`${guess}\`? Or` : `remove it or use one of ${known.join(', ')}; or`}, a key of the tier itself, move it up to tiers.${tier}.${key}`);
          continue;
        }
        const fix = guess ? `did you mean \`${guess}\`?` : `remove it or use one of ${known.join(', ')}`;
        line([...issue.path, key], `is not ${of}; ${fix}`);
      }
    } else if (issue.code === 'invalid_key') {
      const key = String(issue.path[issue.path.length - 1]);
      const inTiers = issue.path.length === 2 && issue.path[0] === 'tiers';
      if (inTiers && tierKeys.includes(key)) {
        line(issue.path, `is a tier's key, not a tier: \`tiers\` holds tiers by name; put it under each tier it applies to, tiers.<tier>.${key} (this config's tiers: ${realTiers.join(', ')})`);
        continue;
      }
      const rule = inTiers ? TIER_NAME_RULE : issue.issues.map((i) => i.message).join('; ');
      line(issue.path, inTiers ? `${rule}; rename it to \`${tierNameLike(key)}\`` : rule);
    } else if (issue.code === 'custom' && Array.isArray(issue.params?.overlaps)) {
      // An overlap of two ranges, led by the key of a layer you wrote: it was led by whichever came later in the check,
      // `embedded default: tiers.enterprise.network.tenantCidrPool …` for your platformNetwork.cidr, as if the default were wrong.
      const other = issue.params.overlaps as Path;
      const [lead, side] = sourceOf(issue.path, layers) === EMBEDDED_DEFAULT && sourceOf(other, layers) !== EMBEDDED_DEFAULT ? [other, issue.path] : [issue.path, other];
      const fromDefault = sourceOf(side, layers) === EMBEDDED_DEFAULT;
      const named = fromDefault ? (side[0] === 'tiers' ? `the default tier's pool ${formatPath(side)}` : `the default's ${formatPath(side)}`) : formatPath(side);
      line(lead, `overlaps ${named} (${String(valueAt(merged, side))}); ${DISJOINT}${fromDefault ? ': choose a range outside it' : ''}`);
    } else if (issue.code === 'custom' && isLeadWith(issue.params?.leadWith)) {
      // A problem between two keys, told from the other key when only that one is yours: your sharedCluster.gpu.maxSize 0
      // against the default professional tier's quota.gpus, not `embedded default: tiers.professional…` as if the default were wrong.
      const other = issue.params.leadWith;
      const yoursOnly = sourceOf(issue.path, layers) === EMBEDDED_DEFAULT && sourceOf(other.path, layers) !== EMBEDDED_DEFAULT;
      if (yoursOnly) line(other.path, other.message);
      else line(issue.path, issue.message);
    } else {
      line(issue.path, issue.message);
    }
  }
  return lines;
}

/**
 * An issue's other key and the message told from it (`params.leadWith` of a custom issue): the line leads with it when
 * the issue's own key is the embedded default's and this one is not (describeConfigIssues).
 */
export interface LeadWith {
  readonly path: Path;
  readonly message: string;
}

function isLeadWith(value: unknown): value is LeadWith {
  return typeof value === 'object' && value !== null && Array.isArray((value as LeadWith).path) && typeof (value as LeadWith).message === 'string';
}

/**
 * `null` removes a key of the layers below; a `null` for a key they do not have removes nothing and
 * is most likely a misspelling (`tiers: { startr: null }`).
 */
export function uselessRemovals(base: unknown, layer: ConfigLayer, path: PropertyKey[] = [], value: unknown = layer.value): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const here = [...path, key];
    if (v === null && !has(base, key)) {
      const known = typeof base === 'object' && base !== null ? Object.keys(base) : [];
      const guess = nearest(key, known);
      out.push(`${layer.name}: ${formatPath(here)} = null: removes nothing, ${formatPath(path) || 'the config'} has no key "${key}"; ${guess ? `did you mean \`${guess}\`?` : 'remove this line'}`);
    } else if (v !== null) {
      out.push(...uselessRemovals(has(base, key) ? (base as Record<string, unknown>)[key] : undefined, layer, here, v));
    }
  }
  return out;
}
