import type { HistoryEvent } from '@aws-sdk/client-sfn';

/** A Task state's attempt begins (Step Functions' HistoryEvent types): a Retry schedules another within the same state entry. */
const ATTEMPT_SCHEDULED = /^(Task|LambdaFunction|Activity)Scheduled$/;
/** An attempt's failure: the Retry policy may schedule another attempt, so the step's outcome waits for its exit. */
const ATTEMPT_FAILED = /^(Task|LambdaFunction|Activity)(Failed|StartFailed|SubmitFailed|ScheduleFailed|TimedOut)$/;

/**
 * The execution's own ends that stop whatever state is running (HistoryEvent types): the step running then ended with
 * the execution, as ABORTED (StopExecution), TIMED_OUT (the state machine's TimeoutSeconds) or FAILED, with the
 * execution's error and cause (executionAbortedEventDetails, executionTimedOutEventDetails, executionFailedEventDetails).
 */
const EXECUTION_ENDS = { ExecutionAborted: 'ABORTED', ExecutionTimedOut: 'TIMED_OUT', ExecutionFailed: 'FAILED' } as const;

export interface ExecutionStep {
  name: string; startedAt: string; endedAt?: string; seconds?: number;
  /** ABORTED and TIMED_OUT: the execution was stopped or timed out while the step ran. */
  status: 'RUNNING' | 'DONE' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  attempts?: number;
  /** The execution's error and cause, on the step that was running when the execution ended with them. */
  error?: string; cause?: string;
}

/**
 * Folds an execution's history into its steps, one per state entry. A step's status is its last
 * attempt's outcome, known when the state exits: DONE if that attempt succeeded, FAILED if it failed
 * (a Catch moves on from the failed attempt; TaskStateExited still follows). A failed attempt that
 * the Retry policy retried is not the step's outcome: a step that failed and then succeeded showed
 * FAILED (and, still RUNNING in between, `tessera tenants watch` printed its ✗ at once and never
 * again). A step still running when the execution ends (ExecutionAborted, ExecutionTimedOut, ExecutionFailed) ends with
 * it: ABORTED, TIMED_OUT or FAILED, with the execution's error and cause (it stayed RUNNING, and watch never printed it).
 * `attempts` is set when the state ran more than one. Events are tied to their state entry
 * through previousEventId (branches of a Parallel or Map interleave), else to the last running step.
 */
export function stepsOfHistory(events: HistoryEvent[]): ExecutionStep[] {
  const steps: ExecutionStep[] = [];
  const byEvent = new Map<number, ExecutionStep>();
  const lastFailed = new Set<ExecutionStep>();
  for (const e of events) {
    const at = e.timestamp!.toISOString();
    const prior = (e.previousEventId !== undefined ? byEvent.get(e.previousEventId) : undefined) ?? steps.findLast((s) => s.status === 'RUNNING');
    let step = prior;
    if (e.stateEnteredEventDetails?.name) {
      step = { name: e.stateEnteredEventDetails.name, startedAt: at, status: 'RUNNING' };
      steps.push(step);
    } else if (e.stateExitedEventDetails?.name) {
      const name = e.stateExitedEventDetails.name;
      step = prior?.name === name && prior.status === 'RUNNING' ? prior : steps.findLast((s) => s.name === name && s.status === 'RUNNING');
      if (step) Object.assign(step, { endedAt: at, seconds: (Date.parse(at) - Date.parse(step.startedAt)) / 1000, status: lastFailed.has(step) ? 'FAILED' : 'DONE' });
    } else if (e.type && ATTEMPT_SCHEDULED.test(e.type)) {
      if (step) {
        step.attempts = (step.attempts ?? 0) + 1;
        lastFailed.delete(step);
      }
    } else if (e.type && ATTEMPT_FAILED.test(e.type)) {
      if (step) lastFailed.add(step);
    } else if (e.type && e.type in EXECUTION_ENDS) {
      // The execution ended while steps ran (stopped, timed out, or failed without a Catch, also with no failed attempt:
      // States.Runtime, a Fail state): each ended with it, with the execution's error and cause. They stayed RUNNING.
      const status = EXECUTION_ENDS[e.type as keyof typeof EXECUTION_ENDS];
      const details = e.executionAbortedEventDetails ?? e.executionTimedOutEventDetails ?? e.executionFailedEventDetails;
      const running = steps.filter((s) => s.status === 'RUNNING');
      // A failure with no state running (a failed transition after an exit) is the last step's, as before.
      if (!running.length && status === 'FAILED' && steps.length) running.push(steps.at(-1)!);
      for (const s of running) {
        Object.assign(s, { status, ...(details?.error ? { error: details.error } : {}), ...(details?.cause ? { cause: details.cause } : {}) });
        if (s.endedAt === undefined) Object.assign(s, { endedAt: at, seconds: (Date.parse(at) - Date.parse(s.startedAt)) / 1000 });
      }
    } else if (e.type?.endsWith('Failed') && steps.length) {
      // A Parallel, Map or iteration failed: the step it stopped in failed with it.
      Object.assign(steps.at(-1)!, { status: 'FAILED' });
    }
    if (step && e.id !== undefined) byEvent.set(e.id, step);
  }
  for (const s of steps) if ((s.attempts ?? 0) <= 1) delete s.attempts;
  return steps;
}
