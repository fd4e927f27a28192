import { EventBridgeClient, PutEventsCommand, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { LIFECYCLE_EVENT_SOURCE } from '../../lib/lifecycle-constants.js';
import { platformClient } from './aws-clients.js';
import { ENV, requireEnv } from './environment.js';

/**
 * Puts one lifecycle event on the platform bus; fails when EventBridge rejects it. PutEvents answers 200 with the entry
 * failed (FailedEntryCount) for an entry it throttled or could not process, and the SDK does not retry a 200: the error
 * thrown is named after the entry's ErrorCode (PutEventsResultEntry: `ThrottlingException` and `InternalFailure` are
 * retryable, in RETRYABLE_ERRORS, so the state machines retry the step; `AccessDeniedException`, `MalformedDetail`, … are
 * not). Before, every rejected entry threw an `Error`, which no Retry matched: a throttled announcement failed its step.
 * @throws Error named after the entry's ErrorCode (`EventBridgeRejected` when it gave none)
 */
export async function emitLifecycleEvent(detailType: string, detail: Record<string, unknown>): Promise<void> {
  const out = await platformClient(EventBridgeClient).send(
    new PutEventsCommand({
      Entries: [{ EventBusName: requireEnv(ENV.eventBus), Source: LIFECYCLE_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }],
    }),
  );
  if (out.FailedEntryCount) {
    const entry = out.Entries?.[0];
    throw rejectedEntryError(`EventBridge rejected "${detailType}": ${entry?.ErrorCode} ${entry?.ErrorMessage}`, entry);
  }
}

/**
 * The error for a PutEvents entry EventBridge rejected (the call answered 200, FailedEntryCount > 0, which the SDK does
 * not retry): `message`, named after the entry's ErrorCode (PutEventsResultEntry), so that a retrier that matches names
 * (the state machines' Retry, isTransientError) retries `ThrottlingException` and `InternalFailure` and not a refusal
 * (`AccessDeniedException`, `MalformedDetail`, …).
 * @returns an Error named `entry.ErrorCode`, `EventBridgeRejected` when the entry gave none
 */
export function rejectedEntryError(message: string, entry: PutEventsResultEntry | undefined): Error {
  return Object.assign(new Error(message), { name: entry?.ErrorCode || 'EventBridgeRejected' });
}
