import { Document, isMap, isScalar, isSeq, visit, type Node } from 'yaml';
import { DEFAULT_CONFIG } from './default-config.js';
import { PLACEHOLDER_KEYS } from './placeholders.js';
import type { PlatformConfig } from './schema.js';

/**
 * The embedded default (lib/config/default-config.ts) as YAML in a config file's own terms: what `tessera config
 * defaults` prints, so that a platform team copies a tier or a section from it instead of reading TypeScript. The text
 * loads back unchanged (lib/config/load-config.ts: a file holding it gives the embedded default again): strings YAML
 * would read as another type (`"17"`, `"1.35"`, account ids) are quoted. A map or list of plain values is written on
 * one line (`database: { engineMajorVersion: "17", ... }`), as docs/configuration.md writes a tier.
 */

/** The text of the first comment lines: where the values come from and the command that printed them. */
const SOURCE = 'the embedded default (lib/config/default-config.ts)';

/**
 * The whole embedded default as YAML, each placeholder key (lib/config/placeholders.ts PLACEHOLDER_KEYS) commented
 * `PLACEHOLDER: set <what>`.
 * @param version the tessera version named in the header (package.json's)
 * @param config the config to print @default DEFAULT_CONFIG
 */
export function defaultConfigYaml(version: string, config: PlatformConfig = DEFAULT_CONFIG): string {
  const doc = new Document(config);
  doc.commentBefore = [
    ` ${SOURCE}, tessera ${version}: tessera config defaults`,
    ' A config file (tessera.config.yaml) takes any part of it: copy only what you change. Maps merge key by key onto',
    ' this default, lists and values replace it, null removes a key (docs/configuration.md).',
  ].join('\n');
  for (const { path, what } of PLACEHOLDER_KEYS) {
    const key = pairAt(doc, path)?.key;
    if (isScalar(key)) key.commentBefore = ` PLACEHOLDER: set ${what}`;
  }
  return render(doc);
}

/**
 * One tier of the embedded default as YAML, under `tiers.<name>`: what a config file writes to add a tier of its own
 * (renamed, with a tenantCidrPool of its own).
 * @param name a tier of `config.tiers` (the caller checks it: {@link defaultTierNames})
 * @param version the tessera version named in the header
 * @param config @default DEFAULT_CONFIG
 * @throws Error when `config` has no tier `name`
 */
export function defaultTierYaml(name: string, version: string, config: PlatformConfig = DEFAULT_CONFIG): string {
  const tier = config.tiers[name];
  if (!tier) throw new Error(`the embedded default has no tier ${name} (its tiers: ${defaultTierNames(config).join(', ')})`);
  const doc = new Document({ tiers: { [name]: tier } });
  doc.commentBefore = [
    ` tiers.${name} of ${SOURCE}, tessera ${version}: tessera config defaults --tier ${name}`,
    ` For a tier of your own, put it in tessera.config.yaml under another name (a lower-case DNS label) and give it a`,
    ' network.tenantCidrPool of its own: tier pools must not overlap. A new tier inherits no key of the default\'s tiers:',
    ' keep every section (docs/configuration.md, "A tier of your own is written whole").',
  ].join('\n');
  return render(doc);
}

/** The embedded default's tier names, in its order (starter, professional, enterprise). */
export function defaultTierNames(config: PlatformConfig = DEFAULT_CONFIG): string[] {
  return Object.keys(config.tiers);
}

/** The pair of `doc` at `path` (its key's map entry), or undefined. */
function pairAt(doc: Document, path: readonly string[]) {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    if (!isMap(node)) return undefined;
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === path[i]);
    if (!pair) return undefined;
    if (i === path.length - 1) return pair;
    node = pair.value;
  }
  return undefined;
}

/** A list of plain values, or a map of plain values and such lists without a comment: written on one line. */
function flat(node: Node): boolean {
  if (isSeq(node)) return node.items.every((item) => isScalar(item));
  return isMap(node) && node.items.every((pair) => !(isScalar(pair.key) && pair.key.commentBefore)
    && (isScalar(pair.value) || (isSeq(pair.value) && flat(pair.value))));
}

/** `doc` as text: flat collections on one line, no line folded (a long image URI stays one line). */
function render(doc: Document): string {
  visit(doc, {
    Map: (_key, node) => { if (flat(node)) node.flow = true; },
    Seq: (_key, node) => { if (flat(node)) node.flow = true; },
  });
  return doc.toString({ lineWidth: 0 });
}
