import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LIFECYCLE_EVENT_SOURCE } from '../../lib/lifecycle-constants.js';
import { platformClient } from './aws-clients.js';
import { ENV, requireEnv } from './environment.js';

/** Puts one lifecycle event on the platform bus; fails when EventBridge rejects it. */
export async function emitLifecycleEvent(detailType: string, detail: Record<string, unknown>): Promise<void> {
  const out = await platformClient(EventBridgeClient).send(
    new PutEventsCommand({
      Entries: [{ EventBusName: requireEnv(ENV.eventBus), Source: LIFECYCLE_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }],
    }),
  );
  if (out.FailedEntryCount) {
    const entry = out.Entries?.[0];
    throw new Error(`EventBridge rejected "${detailType}": ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
  }
}
