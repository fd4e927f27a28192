import { utf8Length, utf8Prefix } from '../shared/utf8.js';

/**
 * The error a state machine's Catch hands on (`ResultPath`), as one line for the registry and the CLI.
 *
 * For a Lambda task, Step Functions sets `Error` to the function's `errorType` and `Cause` to the
 * Lambda runtime's JSON error, `{"errorType","errorMessage","trace":[…]}` (Lambda API reference,
 * ErrorObject; Step Functions Developer Guide, "Handling errors"): the line keeps `errorMessage` and
 * drops the stack trace. Any other Cause (a plain string, as a Fail state or a local runner gives
 * it) is kept as it is. A plain JavaScript `Error` (Lambda's errorType `Error`: a handler's `throw new Error(…)`) names
 * no kind of failure, so its line is the message alone: `error: Error: DetectStackDrift of …` told the reader nothing
 * the message did not.
 *
 * The line is at most MAX_REASON_BYTES UTF-8 bytes: a Cause may hold 32,768 characters (Step Functions quotas),
 * the registry keeps 50 history entries in one item and DynamoDB's item limit is 400 KB of UTF-8 bytes, so 50 long
 * causes would make the record unwritable and the failure unrecorded. The execution's own history
 * keeps the whole cause.
 * @param error `{ Error, Cause? }` of the Catch
 * @param max the most UTF-8 bytes of the line (clipReason; at least 80) @default MAX_REASON_BYTES
 * @returns `<Error>: <errorMessage>` for a Lambda's JSON error, `<Error>: <Cause>` for a plain Cause (the message
 *   alone when `Error` is the generic `Error`), `<Error>` alone when there is no Cause or the JSON carries no message; clipped (clipReason),
 *   the marker naming the length of the whole line
 */
export function catchReason(error: { Error: string; Cause?: string }, max: number = MAX_REASON_BYTES): string {
  return clipReason(fullCatchReason(error), max);
}

/**
 * The most UTF-8 bytes of a reason the registry keeps (catchReason, a failure's and a history entry's reason). DynamoDB
 * counts an item's size in UTF-8 bytes of attribute names and values (DynamoDB Developer Guide, "Item sizes and
 * formats"), so the bound is in bytes: 2,000 characters of ASCII as before, 666 of CJK (3 bytes each), 500 emoji (4).
 * Until 2026-12-07 it was 2,000 UTF-16 code units, 6,000 bytes of CJK: 50 history entries of them, a failure's reason and
 * its left-behind resources passed 400 KB and the failure's write was refused.
 */
export const MAX_REASON_BYTES = 2_000;

/**
 * `text` cut to at most `max` UTF-8 bytes, marker included, on a character boundary (never inside a multi-byte character
 * or between the halves of a surrogate pair: utf8.ts utf8Prefix; String#slice left half an emoji, which DynamoDB stores
 * as U+FFFD), with what was cut said at the end: ` … (<length> characters; the rest is in <rest>)`, the length in UTF-16
 * code units as JavaScript counts it.
 * @param max the most UTF-8 bytes of the answer, marker included (at least 80)
 * @param rest where the whole text is kept, as the marker says @default "the execution's history"
 */
export function clipReason(text: string, max: number, rest = 'the execution\'s history'): string {
  if (utf8Length(text) <= max) return text;
  const marker = ` … (${text.length} characters; the rest is in ${rest})`;
  return utf8Prefix(text, Math.max(0, max - utf8Length(marker))) + marker;
}

/**
 * The reason a FAILED history entry keeps (*Record failure*): the step's error (`reason`, catchReason's line unclipped:
 * fullCatchReason, so that a clip names the error's whole length) and what Record
 * failure found besides (`found`: resources left behind, where the stacks stand, a DR stack kept recorded, an account
 * request that may be pending), as the registry's `failure.reason` joins them (`; `). The `failure` is cleared by the next
 * run (a retry's *Register tenant*, a change's *Begin change*), so the entry is where `tessera tenants show` finds them
 * later. At most `max` UTF-8 bytes, as the error alone was (an item holds 50 entries, DynamoDB's limit is 400 KB): when the
 * whole is longer, `found` keeps at least half of `max` (clipReason) and the error the rest, each clip's marker naming the
 * length of what it cut (Record failure's output in the execution's history keeps the whole).
 * @param max the most UTF-8 bytes of the answer (at least 2 × 80 + 2) @default MAX_REASON_BYTES
 */
export function historyReason(reason: string, found: readonly string[], max: number = MAX_REASON_BYTES): string {
  const tail = found.filter((f) => f).join('; ');
  if (!tail) return clipReason(reason, max);
  const whole = `${reason}; ${tail}`;
  if (utf8Length(whole) <= max) return whole;
  const kept = clipReason(tail, Math.max(Math.floor(max / 2), max - utf8Length(reason) - 2));
  return `${clipReason(reason, max - utf8Length(kept) - 2)}; ${kept}`;
}

/** The errorType of a plain `new Error(…)`: it names no kind of failure, only that one happened. */
const GENERIC_ERROR = 'Error';

/**
 * catchReason's line unclipped: what historyReason is given, so that its clip's marker names the whole error's length (a
 * line catchReason already clipped, clipped again, named its own 2,000 characters, not the cause's up to 32,768).
 */
export function fullCatchReason(error: { Error: string; Cause?: string }): string {
  if (!error.Cause) return error.Error;
  const message = causeMessage(error.Cause);
  if (!message) return error.Error;
  return error.Error === GENERIC_ERROR ? message : `${error.Error}: ${message}`;
}

/**
 * The message of a Step Functions `Cause`: a Lambda runtime's JSON error gives its `errorMessage`
 * (the stack trace dropped), any other Cause is itself.
 * @returns '' for a JSON object without an `errorMessage`
 */
export function causeMessage(cause: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return cause;
  }
  if (typeof parsed !== 'object' || parsed === null) return cause;
  const message = (parsed as { errorMessage?: unknown }).errorMessage;
  return typeof message === 'string' ? message : '';
}
