import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EmitEvent } from '../../../lambdas/identity/cognito-tenant-users.js';
import { LIFECYCLE_EVENT_SOURCE, PLATFORM_EVENT_BUS_NAME } from '../../lifecycle-constants.js';
import { CliError } from '../cli-error.js';
import { awsCallError } from './cognito-errors.js';

/**
 * The platform bus the user events go to: `--event-bus`, else the platform stack's
 * `LifecycleEventBusName` output, else PLATFORM_EVENT_BUS_NAME (`tessera-lifecycle`, the name the
 * platform stack gives it). A stack that cannot be read falls back to the default.
 */
export async function resolveEventBus(explicit: string | undefined, outputs: () => Promise<Record<string, string>>): Promise<string> {
  if (explicit) return explicit;
  return (await outputs().catch(() => ({} as Record<string, string>))).LifecycleEventBusName ?? PLATFORM_EVENT_BUS_NAME;
}

/**
 * Puts each event on `bus` (PutEvents, source `tessera.lifecycle`) as the admin API's
 * emitLifecycleEvent does, so that the CLI's changes reach the same rules.
 * @throws CliError (exit 1) when EventBridge refuses: the change is made, the event is not sent.
 */
export function eventBridgeEmitter(eventBridge: EventBridgeClient, bus: string): EmitEvent {
  return async (detailType, detail) => {
    const notSent = `the change was made, but its "${detailType}" event did not reach bus ${bus}`;
    let out;
    try {
      out = await eventBridge.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: LIFECYCLE_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }] }));
    } catch (e) {
      throw awsCallError('EventBridge PutEvents', e, `${notSent}: check --event-bus (the LifecycleEventBusName output)`);
    }
    if (out.FailedEntryCount) {
      const entry = out.Entries?.[0];
      throw new CliError(`EventBridge PutEvents refused the event (${entry?.ErrorCode}: ${entry?.ErrorMessage}): ${notSent}; check --event-bus`, 1);
    }
  };
}
