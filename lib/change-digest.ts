import { createHash } from 'node:crypto';
import type { LifecycleExecution } from './tenant-record.js';

/**
 * A change's request (`executions[].change`, what a PATCH's Idempotency-Key stands for) as the tenant's history keeps it
 * once it is no longer among the latest: its SHA-256 and a short summary (`changeDigest`). A change's `tags` alone can be
 * about 46 KB (40 tags, CJK keys and values at their limits: 128 + 256 characters, 3 bytes each), and HISTORY_ENTRIES (50)
 * of them far exceed DynamoDB's 400 KB item ("Item sizes and formats": the UTF-8 bytes of attribute names and values):
 * every later write of the record was refused (ValidationException). A digest is about 200 bytes whatever was asked.
 */

/** A change's request as recorded in full (LifecycleExecution.change). */
export type RecordedChange = NonNullable<LifecycleExecution['change']>;
/** A change's request as recorded once digested (LifecycleExecution.changeDigest). */
export type ChangeDigest = NonNullable<LifecycleExecution['changeDigest']>;

/**
 * How many UTF-8 bytes of full `change` requests (as JSON) the history keeps: from the newest entry back, each that fits in
 * what is left of this keeps its request in full (`tenants show` prints what it asked); one that does not keeps its digest
 * only (digestChange, withChangesBounded). 8 KiB holds dozens of tier and version changes or a few tag changes of
 * a handful of tags; one change at the limits (about 46 KB of tags) is digested at once, even while it runs (its
 * execution's input and the tenant's `tags` once it succeeded hold the tags).
 */
export const MAX_FULL_CHANGES_BYTES = 8_192;

/**
 * The canonical JSON of a value: object keys sorted (by UTF-16 code unit, as Array.prototype.sort does) at every depth,
 * no white space; arrays in their order. A change holds only strings, booleans and objects of them, so this is RFC 8785
 * (JSON Canonicalization Scheme) for it without the number rules JCS adds; ten lines, so no library.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The SHA-256 (64 lower-case hex digits) of a change's canonical JSON (canonicalJson): the same request, the same digest, whatever the order of its keys and tags. */
export const changeSha256 = (change: RecordedChange): string => createHash('sha256').update(canonicalJson(change), 'utf8').digest('hex');

/**
 * A change's digest: its SHA-256 (changeSha256) and a summary — the tier, blueprint version and repair as asked (short:
 * the statements read the tier of an entry without `tierChange`, lib/statements/tenant-months.ts), how many tags it asked
 * for (`tagCount`; 0 for `{}`, which removes them all) and whether it carried an `allowReplacement` (its reason, up to
 * 500 characters, is in `allowedReplacements` when it was used).
 */
export function digestChange(change: RecordedChange): ChangeDigest {
  return {
    sha256: changeSha256(change),
    ...(change.tier !== undefined ? { tier: change.tier } : {}),
    ...(change.blueprintVersion !== undefined ? { blueprintVersion: change.blueprintVersion } : {}),
    ...(change.repair !== undefined ? { repair: change.repair } : {}),
    ...(change.tags !== undefined ? { tagCount: Object.keys(change.tags).length } : {}),
    ...(change.allowReplacement !== undefined ? { allowReplacement: true } : {}),
  };
}

/**
 * Whether `asked` is the change an entry recorded: equal canonical JSON to its full `change`, else the same SHA-256 as
 * its `changeDigest`. Undefined when the entry recorded neither (an entry from before 2026-12-05, or a StartExecution
 * from elsewhere): it cannot be told.
 */
export function isRecordedChange(entry: Pick<LifecycleExecution, 'change' | 'changeDigest'>, asked: RecordedChange): boolean | undefined {
  if (entry.change) return canonicalJson(entry.change) === canonicalJson(asked);
  if (entry.changeDigest) return entry.changeDigest.sha256 === changeSha256(asked);
  return undefined;
}

/**
 * A digested change as the 409s and `tenants show` name it: `tier professional, blueprint 2.0.0, 40 tags, allow-replacement
 * (sha256 1f2e…)` (the first 12 hex digits).
 */
export function describeDigest(d: ChangeDigest): string {
  const what = [
    d.tier !== undefined ? `tier ${d.tier}` : '', d.blueprintVersion !== undefined ? `blueprint ${d.blueprintVersion}` : '',
    d.tagCount !== undefined ? `${d.tagCount} tag${d.tagCount === 1 ? '' : 's'}` : '', d.repair ? 'repair' : '', d.allowReplacement ? 'allow-replacement' : '',
  ].filter(Boolean);
  return `${what.join(', ')} (sha256 ${d.sha256.slice(0, 12)}…)`;
}

/**
 * The history with its change requests bounded: walking from the newest entry back, an entry keeps its full `change` when
 * its UTF-8 bytes (canonical JSON) fit in what is left of MAX_FULL_CHANGES_BYTES, and keeps `changeDigest` (digestChange)
 * instead when they do not: a request too large for it (40 tags at their limits) is digested at once, the small ones
 * before it are still kept in full as far as the rest allows. Entries are otherwise unchanged and in their order; an
 * entry already digested stays so (what it asked is no longer there).
 */
export function withChangesBounded<E extends Pick<LifecycleExecution, 'change' | 'changeDigest'>>(entries: readonly E[]): E[] {
  let budget = MAX_FULL_CHANGES_BYTES;
  const out = [...entries];
  for (let i = out.length - 1; i >= 0; i -= 1) {
    const e = out[i]!;
    if (!e.change) continue;
    const bytes = Buffer.byteLength(canonicalJson(e.change), 'utf8');
    if (bytes <= budget) {
      budget -= bytes;
      continue;
    }
    const { change, ...rest } = e;
    out[i] = { ...rest, changeDigest: digestChange(change) } as E;
  }
  return out;
}
