import { EventBridgeClient, PutEventsCommand, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { LIFECYCLE_EVENT_SOURCE } from '../../lib/lifecycle-constants.js';
import { platformClient } from './aws-clients.js';
import { ENV, requireEnv } from './environment.js';
import { boundDetail } from './event-entry-size.js';
import { serviceLogger } from './service-logger.js';

/** The lines of the bus's writer: an event not delivered is said here whatever function sent it. */
const logger = serviceLogger('tessera-events');

/**
 * Puts one lifecycle event on the platform bus; fails when EventBridge rejects it. The detail is first bounded to
 * EventBridge's 256 KB entry, counted by AWS's rule (event-entry-size.ts boundDetail: its largest fields cut, each cut
 * said in the field, a warning logged): a `Tenant Lifecycle Failed` whose reason and lists passed it was refused, and
 * the failure it announced reached no subscriber. PutEvents answers 200 with the entry failed (FailedEntryCount) for an
 * entry it throttled, refused or could not process, and the SDK does not retry a 200: the rejection is logged as an
 * error (the tenant, the detail type, the entry's ErrorCode and ErrorMessage, its size) and the error thrown is named after
 * the entry's ErrorCode (PutEventsResultEntry: `ThrottlingException` and `InternalFailure` are retryable, in
 * RETRYABLE_ERRORS, so the state machines retry the step; `AccessDeniedException`, `MalformedDetail`, … are not, and the
 * step fails with it: never a silent loss). Before, every rejected entry threw an `Error`, which no Retry matched: a
 * throttled announcement failed its step.
 * @throws Error named after the entry's ErrorCode (`EventBridgeRejected` when it gave none)
 */
export async function emitLifecycleEvent(detailType: string, detail: Record<string, unknown>): Promise<void> {
  const { detail: bounded, cut } = boundDetail(LIFECYCLE_EVENT_SOURCE, detailType, detail);
  const tenantId = detail.tenantId;
  if (cut.fields.length) logger.warn('event detail cut to fit EventBridge\'s 256 KB entry', { tenantId, detailType, fields: cut.fields, bytesBefore: cut.before, bytesAfter: cut.after });
  const out = await platformClient(EventBridgeClient).send(
    new PutEventsCommand({
      Entries: [{ EventBusName: requireEnv(ENV.eventBus), Source: LIFECYCLE_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(bounded) }],
    }),
  );
  if (out.FailedEntryCount) {
    const entry = out.Entries?.[0];
    logger.error('EventBridge did not accept a lifecycle event: it was not delivered', {
      tenantId, detailType, errorCode: entry?.ErrorCode, errorMessage: entry?.ErrorMessage, entryBytes: cut.after,
    });
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
