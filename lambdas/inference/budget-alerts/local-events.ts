import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { LIFECYCLE_EVENT_SOURCE } from '../../../lib/lifecycle-constants.js';
import type { EmitEvent } from './budget-alerts.js';

/** An event as EventBridge delivers it to a rule's target (the fields `tessera serve` writes). */
export interface LocalEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  time: string;
  detail: Record<string, unknown>;
}

/** The event a `PutEvents` of `detailType`/`detail` with the lifecycle source becomes. */
export const localEvent = (detailType: string, detail: Record<string, unknown>, at = new Date()): LocalEvent =>
  ({ version: '0', id: randomUUID(), 'detail-type': detailType, source: LIFECYCLE_EVENT_SOURCE, time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), detail });

/**
 * `tessera serve`'s bus: each event appended as one JSON line (EventBridge's event shape) to
 * `file` (`<state-dir>/events.jsonl`, beside the audit log). One `appendFile` per event: lines of
 * concurrent worker threads do not interleave (O_APPEND, one write each).
 */
export function fileEvents(file: string): EmitEvent {
  return async (detailType, detail) => appendFile(file, `${JSON.stringify(localEvent(detailType, detail))}\n`);
}

/** Events kept in memory (tests): `emit` to give BudgetAlerts, `events` to read. */
export function memoryEvents(): { emit: EmitEvent; events: LocalEvent[] } {
  const events: LocalEvent[] = [];
  return { events, emit: async (detailType, detail) => void events.push(localEvent(detailType, detail)) };
}
