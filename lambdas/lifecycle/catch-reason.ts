/**
 * The error a state machine's Catch hands on (`ResultPath`), as one line for the registry and the CLI.
 *
 * For a Lambda task, Step Functions sets `Error` to the function's `errorType` and `Cause` to the
 * Lambda runtime's JSON error, `{"errorType","errorMessage","trace":[…]}` (Lambda API reference,
 * ErrorObject; Step Functions Developer Guide, "Handling errors"): the line keeps `errorMessage` and
 * drops the stack trace. Any other Cause (a plain string, as a Fail state or a local runner gives
 * it) is kept as it is.
 * @param error `{ Error, Cause? }` of the Catch
 * @returns `<Error>: <errorMessage>` for a Lambda's JSON error, `<Error>: <Cause>` for a plain Cause,
 *   `<Error>` alone when there is no Cause or the JSON carries no message
 */
export function catchReason(error: { Error: string; Cause?: string }): string {
  if (!error.Cause) return error.Error;
  let cause: unknown;
  try {
    cause = JSON.parse(error.Cause);
  } catch {
    return `${error.Error}: ${error.Cause}`;
  }
  if (typeof cause !== 'object' || cause === null) return `${error.Error}: ${error.Cause}`;
  const message = (cause as { errorMessage?: unknown }).errorMessage;
  return typeof message === 'string' && message ? `${error.Error}: ${message}` : error.Error;
}
