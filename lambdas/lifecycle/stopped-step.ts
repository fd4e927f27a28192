import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { platformClient } from '../shared/aws-clients.js';
import { logger } from '../shared/handler.js';

/**
 * The step an execution that ended without its Catch (StopExecution, a timeout) was in, for the registry's failure record
 * (end-stopped-execution.ts). The registry's `currentStep` is written when a step's Lambda starts (handler.ts markStep), so
 * an execution stopped between two Lambda steps (in a Wait state, or a Task state whose Lambda had not been invoked yet)
 * was recorded as failed in the step before, which had completed. Step Functions' history says where it was.
 */

/** How many of the execution's last events are read (one GetExecutionHistory page, newest first): the stop and the states before it. */
export const STOPPED_HISTORY_EVENTS = 20;

/**
 * The failure path's states (constructs/lifecycle-workflows.ts failure(), notRecorded(), tookEffect()): an execution stopped
 * while recording a step's failure failed in that step, which `currentStep` names, not in its recorder.
 */
const FAILURE_PATH = /^(Record (status )?failure|Failure not recorded|Took effect\?|.* failed(, not recorded)?)$/;

/** Where a stopped execution was: the step its failure names, and a note the failure's reason carries when it says more. */
export interface StoppedStep {
  /** The state the execution was in when it ended, else (history not read, or silent) the registry's `currentStep`. */
  step: string;
  /**
   * What the reason adds: `stopped in "<state>" after "<currentStep>" completed` when the history names another step than
   * `currentStep`; `"<currentStep>" is the last step the execution recorded …` when the history could not be read.
   */
  note?: string;
}

/** The state a history event entered (`…StateEntered`, its `stateEnteredEventDetails.name`), else undefined. */
const enteredState = (e: HistoryEvent): string | undefined => (e.type?.endsWith('StateEntered') ? e.stateEnteredEventDetails?.name : undefined);

/**
 * The step execution `executionArn` ended in: the state of its last `…StateEntered` event among its last
 * STOPPED_HISTORY_EVENTS (GetExecutionHistory, `reverseOrder`, one page: the API reference's "reverseOrder: Lists events in
 * descending order of their timeStamp"), unless that state is on the failure path (FAILURE_PATH: `recorded` is then the
 * step that failed). When the history cannot be read (an error of the call: logged) or holds no entered state in that page,
 * `recorded` with a note that it is the last step the execution recorded, which had started and may have completed.
 * @param executionArn the ended execution (the status-change event's, or the lease's)
 * @param recorded the registry's `currentStep` ('unknown' when it has none)
 */
export async function stoppedStep(executionArn: string, recorded: string): Promise<StoppedStep> {
  let events: HistoryEvent[];
  try {
    const out = await platformClient(SFNClient).send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: STOPPED_HISTORY_EVENTS, includeExecutionData: false }));
    events = out.events ?? [];
  } catch (e) {
    logger.warn('could not read the stopped execution\'s history; its failure names the last step it recorded', { executionArn, error: e as Error });
    const error = e as Error;
    return { step: recorded, note: `"${recorded}" is the last step the execution recorded (it started; it may have completed, the execution stopping in the state after it): its history could not be read (GetExecutionHistory: ${error.name}: ${String(error.message).split('\n')[0]!.slice(0, 200)})` };
  }
  const state = events.map(enteredState).find((name) => name !== undefined);
  if (state === undefined) {
    return { step: recorded, note: `"${recorded}" is the last step the execution recorded (it started; it may have completed): the last ${STOPPED_HISTORY_EVENTS} events of its history enter no state` };
  }
  if (state === recorded || FAILURE_PATH.test(state)) return { step: recorded };
  if (recorded === 'unknown') return { step: state, note: `stopped in "${state}" (Step Functions' history; the registry recorded no step)` };
  return { step: state, note: `stopped in "${state}" after "${recorded}" completed (Step Functions' history; the registry's currentStep said "${recorded}")` };
}
