import type { LeftBehindResource } from '../../lib/tenant-record.js';
import { clipReason, historyReason } from './catch-reason.js';
import { describeLeftBehind } from './stack-events.js';
import { utf8Length } from '../shared/utf8.js';

/**
 * The most resources a failure names as left behind (the registry's `failure.leftBehind`, `Tenant Lifecycle Failed`'s
 * `leftBehind`, Record failure's output): the first ones, as stack-events.ts leftBehindFrom orders them (by stack, then
 * logical id); how many more there were is `leftBehindOmitted`. A stack with hundreds of retained resources (a log group
 * per function, a key per store) named them all, and the tenant item passed DynamoDB's 400 KB: the failure's UpdateItem
 * was refused (ValidationException "Item size has exceeded the maximum allowed size") and the registry kept the status
 * before the failure. The list is bounded in bytes too (MAX_LEFT_BEHIND_BYTES): DynamoDB counts an item in UTF-8 bytes
 * ("Item sizes and formats"), and so do the bounds (test/integration/failure-item-size.test.ts writes the worst case in
 * CJK and emoji).
 */
export const MAX_LEFT_BEHIND = 25;

/** The most UTF-8 bytes of one left-behind resource's `reason` (CloudFormation's ResourceStatusReason) kept (clipReason; until 2026-12-07 500 characters, up to 1,500 bytes of CJK). */
export const MAX_LEFT_BEHIND_REASON_BYTES = 500;

/**
 * The most UTF-8 bytes of each of a left-behind resource's names kept (`stack`, `logicalId`, `type`, `physicalId`; clipReason,
 * the marker naming the whole length and the stack's events, which keep it whole). CloudFormation bounds none of them as
 * bytes: a logical id is up to 255 characters, a custom resource's physical id up to 1 KB ("Custom resource response
 * objects"), a resource's ARN up to 2,048 characters, and a resource type's handler sets its own primary identifier (the
 * physical id) with no documented limit. 2,048 keeps an ARN whole; until 2026-12-07 the names were kept unbounded, and 25
 * physical ids of 16 KB passed the item's 400 KB alone.
 */
export const MAX_LEFT_BEHIND_ID_BYTES = 2_048;

/**
 * The most UTF-8 bytes of `failure.leftBehind` as a whole (its JSON, which counts more than DynamoDB does: quotes, commas,
 * the attribute names once per resource): resources past it are counted in `leftBehindOmitted`, as those past
 * MAX_LEFT_BEHIND are. 25 resources of ordinary names (a log group's 100-byte name, a 300-byte reason: about 600 bytes
 * each) fit in 15 KB; at the bound of every name and reason (4 × MAX_LEFT_BEHIND_ID_BYTES + MAX_LEFT_BEHIND_REASON_BYTES,
 * about 8.8 KB) 3 do. Its share of the 400 KB item beside the other bounded parts: the 50 history entries (HISTORY_ENTRIES,
 * a reason and a request reason of at most 2,000 bytes each), the failure's and the refusal's reasons, the tenant's tags,
 * the owed announcements (announcements.ts MAX_OWED_BYTES), one line per customization (customization-failure.ts).
 */
export const MAX_LEFT_BEHIND_BYTES = 32 * 1024;

/** Where a clipped name of a left-behind resource is kept whole (clipReason's marker). */
const NAMED_WHOLE_IN = 'the stack\'s events';

/** A left-behind resource's names and reason within their bounds (MAX_LEFT_BEHIND_ID_BYTES, MAX_LEFT_BEHIND_REASON_BYTES). */
function boundResource(r: LeftBehindResource): LeftBehindResource {
  const id = (text: string) => clipReason(text, MAX_LEFT_BEHIND_ID_BYTES, NAMED_WHOLE_IN);
  return {
    ...r, stack: id(r.stack), logicalId: id(r.logicalId), type: id(r.type),
    ...(r.physicalId !== undefined ? { physicalId: id(r.physicalId) } : {}),
    ...(r.reason !== undefined ? { reason: clipReason(r.reason, MAX_LEFT_BEHIND_REASON_BYTES) } : {}),
  };
}

/** A failure's left-behind resources as the registry and the bus keep them (boundLeftBehind). */
export interface BoundedLeftBehind {
  /** The first resources (at most `max`, at most MAX_LEFT_BEHIND_BYTES in all), each name and reason clipped (the marker naming its length). */
  leftBehind: LeftBehindResource[];
  /** How many resources were left out of `leftBehind` (0 when none was). */
  omitted: number;
}

/**
 * `resources` bounded for the registry item and the event: the first ones, at most `max` and at most MAX_LEFT_BEHIND_BYTES
 * UTF-8 bytes as JSON, each name clipped to MAX_LEFT_BEHIND_ID_BYTES and reason to MAX_LEFT_BEHIND_REASON_BYTES, and the
 * count of the rest. The first resource always fits (its bounded names and reason are about 8.8 KB at most).
 * @param max the most resources kept @default MAX_LEFT_BEHIND
 */
export function boundLeftBehind(resources: readonly LeftBehindResource[], max: number = MAX_LEFT_BEHIND): BoundedLeftBehind {
  const leftBehind: LeftBehindResource[] = [];
  let bytes = 2; // []
  for (const r of resources.slice(0, max)) {
    const bounded = boundResource(r);
    const size = utf8Length(JSON.stringify(bounded)) + 1;
    if (bytes + size > MAX_LEFT_BEHIND_BYTES) break;
    leftBehind.push(bounded);
    bytes += size;
  }
  return { leftBehind, omitted: resources.length - leftBehind.length };
}

/**
 * The failure reason's part that names what was left behind: each kept resource (stack-events.ts describeLeftBehind), then
 * how many more there were, where they are named.
 * @returns '' when nothing was left behind
 */
export function describeBoundedLeftBehind(bounded: BoundedLeftBehind): string {
  if (!bounded.leftBehind.length) return '';
  const more = bounded.omitted ? `; and ${bounded.omitted} more not listed here (${bounded.leftBehind.length + bounded.omitted} in all: the stack's events name each)` : '';
  return `left behind: ${bounded.leftBehind.map(describeLeftBehind).join('; ')}${more}`;
}

/**
 * The reason Record failure writes into the registry's `failure.reason` and the attempt's history entry: the step's error,
 * then the notes (what to do: the continue-update-rollback advice, a DR stack's standing, an account that may be open),
 * then what was left behind, bounded as history reasons are (catch-reason.ts historyReason: at most MAX_REASON_BYTES). The
 * notes come before the list because a bound that cuts the tail then cuts the list, which `failure.leftBehind` keeps
 * whole, not the notes, which nothing else in the registry keeps (the left-behind list first cut them after 25 resources).
 * @param error the step's error, unclipped (catch-reason.ts fullCatchReason)
 * @param notes what Record failure found to say, in order
 */
export function recordedFailureReason(error: string, notes: readonly string[], bounded: BoundedLeftBehind): string {
  return historyReason(error, [...notes, describeBoundedLeftBehind(bounded)]);
}
