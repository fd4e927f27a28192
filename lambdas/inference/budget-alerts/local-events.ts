import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { EventBridgeEvent } from 'aws-lambda';
import { LIFECYCLE_EVENT_SOURCE } from '../../../lib/lifecycle-constants.js';
import type { PutRequestEvents, RequestEventEntry } from '../request-events.js';
import type { EmitEvent } from './budget-alerts.js';

/**
 * An event as EventBridge delivers it to a rule's target (the fields `tessera serve` writes):
 * `version`, `id`, `detail-type`, `source`, `account`, `time`, `region`, `resources`, `detail`
 * (the fields that "appear in all events delivered to an event bus":
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html).
 */
export type LocalEvent = EventBridgeEvent<string, Record<string, unknown>>;

/**
 * Where an event was put: in AWS the gateway puts it from the platform account in the home Region,
 * so `tessera serve` stamps the config's `platformAccountId` and `homeRegion`.
 */
export interface EventOrigin {
  readonly account: string;
  readonly region: string;
}

/**
 * The event a `PutEvents` of `detailType`/`detail` becomes (no `Resources`: the gateway names none).
 * @param source the entry's `Source` @default the lifecycle source `tessera.lifecycle`
 */
export const localEvent = (detailType: string, detail: Record<string, unknown>, origin: EventOrigin, at = new Date(), source: string = LIFECYCLE_EVENT_SOURCE): LocalEvent =>
  ({ version: '0', id: randomUUID(), 'detail-type': detailType, source, account: origin.account, time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), region: origin.region, resources: [], detail });

/** The events one PutEvents call's entries become, as localEvent makes them. */
const localEventsOf = (entries: RequestEventEntry[], origin: EventOrigin): LocalEvent[] =>
  entries.map((e) => localEvent(e.DetailType, JSON.parse(e.Detail) as Record<string, unknown>, origin, new Date(), e.Source));

/**
 * `tessera serve`'s PutEvents of request events (request-events.ts): each call's entries appended to `file` as event lines,
 * in one `appendFile` (a call's lines stay together beside other worker threads'). Nothing is refused.
 */
export function filePutEvents(file: string, origin: EventOrigin): PutRequestEvents {
  return async (entries) => {
    await appendFile(file, localEventsOf(entries, origin).map((e) => `${JSON.stringify(e)}\n`).join(''));
    return { failed: 0 };
  };
}

/**
 * `tessera serve`'s bus: each event appended as one JSON line (EventBridge's event shape) to
 * `file` (`<state-dir>/events.jsonl`, beside the audit log). One `appendFile` per event: lines of
 * concurrent worker threads do not interleave (O_APPEND, one write each).
 */
export function fileEvents(file: string, origin: EventOrigin): EmitEvent {
  return async (detailType, detail) => appendFile(file, `${JSON.stringify(localEvent(detailType, detail, origin))}\n`);
}

/**
 * Events kept in memory (tests): `emit` to give BudgetAlerts, `events` to read.
 * @param origin @default AWS's documentation example account 123456789012 in us-east-1
 */
export function memoryEvents(origin: EventOrigin = { account: '123456789012', region: 'us-east-1' }): { emit: EmitEvent; put: PutRequestEvents; events: LocalEvent[] } {
  const events: LocalEvent[] = [];
  return {
    events,
    emit: async (detailType, detail) => void events.push(localEvent(detailType, detail, origin)),
    put: async (entries) => {
      events.push(...localEventsOf(entries, origin));
      return { failed: 0 };
    },
  };
}
