/**
 * The most characters one step's error may take inside the cause of a `… failed, not recorded` Fail state
 * (constructs/lifecycle-workflows.ts notRecorded): that cause is `States.JsonToString` of the failed step's Catch error with
 * the failure recorder's beside it, `{"Error","Cause","recordFailure":{"Error","Cause"}}`, and Step Functions' execution
 * `cause` is at most 32,768 characters (API reference, ExecutionFailedEventDetails: "Maximum length of 32768"). Each error
 * is a Lambda's (a lifecycle step's or *Record failure*'s): its Catch `Cause` is the function's error as JSON
 * (`{"errorType","errorMessage","trace"}`), escaped once more in that cause. Two of 16,000, their names (at most 256 each,
 * Step Functions' `error` limit) and the keys stay under 32,768.
 */
export const ERROR_CAUSE_BUDGET = 16_000;

/** The frames of a stack kept in the error's `trace` (the first lines of `stack` after its message). */
const KEPT_FRAMES = 10;

/** How long `error` takes, as a Lambda error's JSON escaped once more (as JsonToString nests it in the Fail state's cause). */
function nestedLength(name: string, message: string, frames: readonly string[]): number {
  const cause = JSON.stringify({ errorType: name, errorMessage: message, trace: [`${name}: ${message}`, ...frames] });
  return JSON.stringify(cause).length;
}

/**
 * Cuts `error`'s message, and its stack, so that the error, as Lambda's runtime reports it (`errorMessage`, and `trace`:
 * its stack's lines, the message first) and nested once more in a JSON string, takes at most ERROR_CAUSE_BUDGET
 * characters. The message keeps its beginning and ends with a marker saying how much was cut:
 * `… [40123 of 44000 characters cut]`. The stack keeps the message's line and its first 10 frames. The error itself is
 * returned, changed in place: its class and `name`, which the state machines' Retry and Catch match on, are kept. An
 * error within the budget is returned unchanged.
 * @param budget - the characters allowed @default ERROR_CAUSE_BUDGET
 */
export function boundedError<E extends Error>(error: E, budget = ERROR_CAUSE_BUDGET): E {
  const name = String(error.name);
  const message = String(error.message ?? '');
  const frames = String(error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, KEPT_FRAMES);
  if (nestedLength(name, message, frames) <= budget) return error;
  const cutTo = (n: number) => `${message.slice(0, n)}… [${message.length - n} of ${message.length} characters cut]`;
  // The longest beginning that fits (nested length grows with the characters kept).
  let low = 0;
  let high = message.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (nestedLength(name, cutTo(mid), frames) <= budget) low = mid;
    else high = mid - 1;
  }
  const cut = cutTo(low);
  error.message = cut;
  error.stack = [`${name}: ${cut}`, ...frames].join('\n');
  return error;
}
