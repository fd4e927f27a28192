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
 * before the failure. 25 of at most about 2.7 KB each (a physical id of up to 2,048 characters, the reason clipped to
 * MAX_LEFT_BEHIND_REASON_BYTES) keep the failure under 70 KB beside the 50 history entries of at most MAX_REASON_BYTES
 * (2,000 UTF-8 bytes) each: DynamoDB counts an item in UTF-8 bytes ("Item sizes and formats"), and so do the bounds
 * (test/integration/failure-item-size.test.ts writes that worst case in CJK and emoji).
 */
export const MAX_LEFT_BEHIND = 25;

/** The most UTF-8 bytes of one left-behind resource's `reason` (CloudFormation's ResourceStatusReason) kept (clipReason; until 2026-12-07 500 characters, up to 1,500 bytes of CJK). */
export const MAX_LEFT_BEHIND_REASON_BYTES = 500;

/** A failure's left-behind resources as the registry and the bus keep them (boundLeftBehind). */
export interface BoundedLeftBehind {
  /** The first `max` resources, each `reason` clipped to MAX_LEFT_BEHIND_REASON_BYTES (the marker naming its length). */
  leftBehind: LeftBehindResource[];
  /** How many resources were left out of `leftBehind` (0 when none was). */
  omitted: number;
}

/**
 * `resources` bounded for the registry item and the event: the first `max`, each reason clipped, and the count of the rest.
 * @param max the most resources kept @default MAX_LEFT_BEHIND
 */
export function boundLeftBehind(resources: readonly LeftBehindResource[], max: number = MAX_LEFT_BEHIND): BoundedLeftBehind {
  const leftBehind = resources.slice(0, max).map((r) => (r.reason && utf8Length(r.reason) > MAX_LEFT_BEHIND_REASON_BYTES ? { ...r, reason: clipReason(r.reason, MAX_LEFT_BEHIND_REASON_BYTES) } : r));
  return { leftBehind, omitted: Math.max(0, resources.length - leftBehind.length) };
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
