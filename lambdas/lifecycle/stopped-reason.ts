import { catchReason, clipReason } from './catch-reason.js';

/** A Catch's error: `Error`, and `Cause` (a Lambda's JSON error, or a plain string). */
type CaughtError = { Error: string; Cause?: string };
const isCaught = (v: unknown): v is CaughtError => typeof v === 'object' && v !== null && typeof (v as CaughtError).Error === 'string'
  && ((v as CaughtError).Cause === undefined || typeof (v as CaughtError).Cause === 'string');

/**
 * The two errors of an execution whose failure recorder (*Record failure*, *Record status failure*) itself failed: the
 * workflow's `… failed, not recorded` Fail state (constructs/lifecycle-workflows.ts notRecorded) gives as the execution's
 * cause the failed step's Catch error as JSON, `{"Error","Cause","recordFailure":{"Error","Cause"}}`.
 * @returns the step's error (`failed`) and the recorder's (`recordFailure`); undefined for any other cause
 */
export function failedRecorderCause(cause: string | null | undefined): { failed: CaughtError; recordFailure: CaughtError } | undefined {
  if (!cause?.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return undefined;
  }
  if (!isCaught(parsed)) return undefined;
  const { recordFailure, Error: error, Cause: inner } = parsed as CaughtError & { recordFailure?: unknown };
  if (!isCaught(recordFailure)) return undefined;
  return { failed: { Error: error, ...(inner !== undefined ? { Cause: inner } : {}) }, recordFailure };
}

/**
 * Why an execution that ended without recording its outcome ended, for the registry's failure and `Tenant Lifecycle Failed`:
 * `execution <status>[: <error>][ (<cause>)] at "<step>" without recording its outcome` (the cause cut: errorAndCause), or, for an execution whose failure
 * recorder failed (failedRecorderCause), `execution FAILED at "<step>": <the step's error>; not recorded by the workflow,
 * whose failure recorder failed too (<the recorder's error>)` (catch-reason.ts catchReason for each).
 * @param execution the execution's status, error and cause (Step Functions' status-change event, or DescribeExecution)
 * @param step the step the execution was at (the registry's `currentStep`)
 */
export function stoppedReason(execution: { status?: string; error?: string | null; cause?: string | null }, step: string): string {
  const status = execution.status ?? 'ended';
  const unrecorded = failedRecorderCause(execution.cause);
  if (unrecorded) return `execution ${status} at "${step}": ${unrecordedFailure(unrecorded)}`;
  return `execution ${status}${errorAndCause(execution)} at "${step}" without recording its outcome`;
}

/**
 * The most UTF-8 bytes of an ended execution's own `cause` a reason keeps (stoppedReason, and lease.ts for a dead lease the
 * next request ends): Step Functions gives up to 32,768 (ExecutionFailedEventDetails, ExecutionAbortedEventDetails; an
 * operator's `stop-execution --cause`), and a `States.Runtime` cause quotes the state's whole input. The failure and the
 * history entry each keep the reason, 50 entries in one DynamoDB item of at most 400 KB.
 */
export const STOPPED_CAUSE_BYTES = 1_000;

/**
 * `: <error> (<cause>)` of an execution that ended without recording its outcome, the cause cut to STOPPED_CAUSE_BYTES
 * (clipReason: the marker names its whole length; the execution's history keeps it); '' when it has neither.
 */
export function errorAndCause(execution: { error?: string | null; cause?: string | null }): string {
  return `${execution.error ? `: ${execution.error}` : ''}${execution.cause ? ` (${clipReason(execution.cause, STOPPED_CAUSE_BYTES)})` : ''}`;
}

/** The step's error, then the recorder's, of an execution whose failure recorder failed (failedRecorderCause). */
export function unrecordedFailure(unrecorded: NonNullable<ReturnType<typeof failedRecorderCause>>): string {
  return `${catchReason(unrecorded.failed)}; not recorded by the workflow, whose failure recorder failed too (${catchReason(unrecorded.recordFailure)})`;
}
