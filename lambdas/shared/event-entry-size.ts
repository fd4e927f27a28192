import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { utf8Length, utf8Prefix } from './utf8.js';

/**
 * The size of a PutEvents entry as EventBridge counts it, and a detail bounded to fit. EventBridge refuses an entry of
 * 256 KB or more ("Calculating Amazon EventBridge PutEvents event entry size", EventBridge User Guide: "The total entry
 * size must be less than 256KB"), in the answer's entry (FailedEntryCount), not as an exception.
 */

/** EventBridge's PutEvents entry limit in bytes (256 KB): an entry must be smaller. */
export const PUT_EVENTS_ENTRY_LIMIT = 256 * 1024;

/**
 * An entry's size by AWS's rule: `Time` 14 bytes if present, `Source` and `DetailType` their UTF-8 bytes, `Detail` its
 * UTF-8 bytes if present, each `Resources` entry its UTF-8 bytes.
 * @returns bytes
 */
export function putEventsEntrySize(entry: Pick<PutEventsRequestEntry, 'Time' | 'Source' | 'DetailType' | 'Detail' | 'Resources'>): number {
  let size = entry.Time ? 14 : 0;
  size += utf8Length(entry.Source ?? '') + utf8Length(entry.DetailType ?? '');
  if (entry.Detail) size += utf8Length(entry.Detail);
  for (const resource of entry.Resources ?? []) size += utf8Length(resource);
  return size;
}

/** What boundDetail cut to make an entry fit (empty when nothing). */
export interface DetailCut {
  /** The detail's top-level fields it cut: strings clipped (their marker naming the length), lists shortened (`<field>Omitted` counting the rest). */
  fields: string[];
  /** The entry's size before, in bytes. */
  before: number;
  /** Its size after (putEventsEntrySize). */
  after: number;
}

/**
 * `detail` made to fit one PutEvents entry with `source` and `detailType` (below PUT_EVENTS_ENTRY_LIMIT), by cutting its
 * largest top-level fields, largest first, until it fits: a string is clipped on a character boundary (utf8Prefix) with
 * ` … (<length> characters; cut to fit EventBridge's 256 KB entry)` at its end; a list keeps its first items and the count
 * of the rest is added to `<field>Omitted` (as `leftBehind` and `leftBehindOmitted` already say it); a plain object (the
 * tenant's `tags`) keeps its first keys, the count of the rest added to `<field>Omitted` too (until 2026-12-07 an object was
 * not cut, and a detail it filled was given back over the limit). Nothing else is changed, and no field is dropped: nested
 * values are not cut into.
 * A string is clipped once (one clip frees all it can: its marker keeps the length of the whole; clipped again, the marker
 * named its own length), and a cut that would not make the entry smaller is not made (it would only mangle a short field,
 * `tenantId`, for an entry EventBridge refuses anyway): then the detail is given back over the limit and PutEvents refuses it.
 * @param limit the entry's limit @default PUT_EVENTS_ENTRY_LIMIT
 * @param fit what the cut fits, as a clipped string's marker says @default "EventBridge's 256 KB entry"
 * @returns the detail (itself when it fits) and what was cut
 */
export function boundDetail(source: string, detailType: string, detail: Record<string, unknown>, limit: number = PUT_EVENTS_ENTRY_LIMIT, fit = 'EventBridge\'s 256 KB entry'): { detail: Record<string, unknown>; cut: DetailCut } {
  const size = (d: Record<string, unknown>) => putEventsEntrySize({ Source: source, DetailType: detailType, Detail: JSON.stringify(d) });
  const before = size(detail);
  if (before < limit) return { detail, cut: { fields: [], before, after: before } };
  let out: Record<string, unknown> = { ...detail };
  const fields = new Set<string>();
  for (let now = before; now >= limit;) {
    const [key, value] = Object.entries(out)
      .filter(([k, v]) => (typeof v === 'string' && v !== '' && !fields.has(k)) || (Array.isArray(v) && v.length > 0) || (isPlainObject(v) && Object.keys(v).length > 0))
      .map(([k, v]) => [k, v, utf8Length(JSON.stringify(v))] as const)
      .sort((a, b) => b[2] - a[2])[0] ?? [];
    if (key === undefined) break;
    const over = now - limit + 1;
    const trial: Record<string, unknown> = { ...out };
    if (typeof value === 'string') {
      const marker = ` … (${value.length} characters; cut to fit ${fit})`;
      // JSON escapes take at least the UTF-8 bytes of what they escape: cutting `over` bytes of text frees `over` of JSON
      trial[key] = utf8Prefix(value, Math.max(0, utf8Length(value) - over - utf8Length(marker))) + marker;
    } else if (isPlainObject(value)) {
      const entries = Object.entries(value);
      let keep = entries.length;
      for (let freed = 0; keep > 0 && freed < over; keep--) freed += utf8Length(JSON.stringify(Object.fromEntries([entries[keep - 1]]))) - 1;
      const omittedKey = `${key}Omitted`;
      trial[key] = Object.fromEntries(entries.slice(0, keep));
      trial[omittedKey] = (typeof out[omittedKey] === 'number' ? out[omittedKey] as number : 0) + entries.length - keep;
    } else {
      const items = value as unknown[];
      let keep = items.length;
      for (let freed = 0; keep > 0 && freed < over; keep--) freed += utf8Length(JSON.stringify(items[keep - 1])) + 1;
      const omittedKey = `${key}Omitted`;
      trial[key] = items.slice(0, keep);
      trial[omittedKey] = (typeof out[omittedKey] === 'number' ? out[omittedKey] as number : 0) + items.length - keep;
    }
    const next = size(trial);
    if (next >= now) break; // nothing to gain (a marker longer than what it replaced): the cut is not made
    out = trial;
    fields.add(key);
    now = next;
  }
  return { detail: out, cut: { fields: [...fields], before, after: size(out) } };
}

/** Whether `v` is a plain object (a JSON object), not a list or null. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
