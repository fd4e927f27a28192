import { abortableWait } from '../../shared/abortable-wait.js';
import type { GatewayResponder } from '../gateway.js';
import { invalid } from '../openai-errors.js';
import { asRead, SETTLED } from './background.js';
import type { ResponseStore, StoredResponse } from '../stores/response-store.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * The stream events of a background response created with `stream: true` (OpenAI's Background mode, "Streaming a
 * background response"): the run writes each event it streams (what went out: a redacting guardrail's events are
 * kept redacted) to the response store beside the stored response, in order, each with its `sequence_number`
 * (0, 1, 2, …); the create's own stream and every `GET /v1/responses/{id}?stream=true&starting_after=N` follow that
 * log (followEvents), so every reader sees the same events in the same order with the same numbers, whichever process
 * or Lambda runs the response.
 */

/** The events a stream ends with (OpenAI's terminal Response events). A cancel has none: the log just ends. */
export const TERMINAL_EVENTS = new Set(['response.completed', 'response.failed', 'response.incomplete']);

/** One stream event as it went out (OpenAI's ResponseStreamEvent: `type`, `sequence_number`, …). */
export type StreamEvent = Record<string, unknown> & { type: string; sequence_number: number };

/** A read of a response's event log: the events after the cursor, whether the log is closed, and the next cursor. */
export interface EventsRead {
  events: StreamEvent[];
  /** The run closed the log: no event comes after these. */
  ended: boolean;
  /** Opaque: where the next read starts (a byte offset, a chunk number, an index). */
  cursor: number;
  /** The log exists (its first write happened, or it was opened). */
  exists: boolean;
}

/** One write of a run's buffered events (a DynamoDB item each on AWS). */
export interface EventsChunk {
  /** 0, 1, 2, … in the order written. */
  chunk: number;
  events: StreamEvent[];
  /** The last write: the log is closed. */
  ended: boolean;
  /** Epoch seconds after which the log is gone (DynamoDB TTL). */
  expiresAt: number;
}

/**
 * How long a response's stream events are kept after its run started, unless the stored response expires sooner:
 * 1 day. They are for resuming a dropped stream, not an archive (the settled Response stays retrievable whole for the
 * response's own `gateway.responsesTtlDays`), and they take several times the answer's size (every delta, and the
 * Response in `response.created`, `response.in_progress` and the terminal event). OpenAI keeps background response
 * data "roughly 10 minutes" for polling (the Background mode guide): a day is more than that, never less.
 */
export const EVENTS_TTL_S = 86_400;

/**
 * How often the run writes its buffered events (at most; the first write is at once): AWS one PutItem per write, so a
 * 15-minute run makes at most 1,800 and a 20-second one about 40. @default 500 ms
 */
export const EVENTS_FLUSH_MS = 500;

/** What a run writes its events with: buffered, written in order, closed once. */
export class EventLogWriter {
  private buffer: StreamEvent[] = [];
  private chunk = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  /** The next event's sequence_number. */
  next = 0;
  /** The type of the terminal event written, if one was. */
  terminal: string | undefined;

  /**
   * @param flushMs the longest an event waits before it is written @default EVENTS_FLUSH_MS
   */
  constructor(private readonly store: ResponseStore, private readonly tenantId: string, private readonly responseId: string, private readonly expiresAt: number, private readonly flushMs = EVENTS_FLUSH_MS) {}

  /** Adds the next event (its sequence_number is the writer's next). */
  push(event: StreamEvent): void {
    this.next = event.sequence_number + 1;
    if (TERMINAL_EVENTS.has(event.type)) this.terminal = event.type;
    this.buffer.push(event);
    this.timer ??= setTimeout(() => void this.flush(false), this.chunk === 0 ? 0 : this.flushMs);
  }

  private flush(ended: boolean): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.buffer.splice(0);
    if (!events.length && !ended) return this.writing;
    const chunk = this.chunk++;
    this.writing = this.writing.then(() => this.store.appendEvents!(this.tenantId, this.responseId, { chunk, events, ended, expiresAt: this.expiresAt })).catch((e: unknown) => {
      this.failed ??= e as Error;
      logger.error('background response stream events not stored', { responseId: this.responseId, chunk, error: (e as Error).message });
    });
    return this.writing;
  }

  /** Writes what is buffered and closes the log (readers end after its last event). @returns the first write error, if any */
  async close(): Promise<Error | undefined> {
    await this.flush(true);
    return this.failed;
  }
}

/**
 * The `response.created` event a background response's stream opens with when its run wrote no event (a run refused
 * before its stream opened: the upstream's 400, a budget's 429, serve stopping before the first search; a response
 * settled with an empty log: a lapsed run, a start that was lost). Every Responses stream opens with `response.created`
 * (OpenAI's streaming events; a background one's too), and the official clients' stream helpers take their snapshot from
 * it and refuse any other first event: `client.responses.stream()` of openai-node 7.55 rejected with `When snapshot
 * hasn't been set yet, expected 'response.created' event, got response.failed`, openai-python 3.57 raised
 * `RuntimeError: Expected to have received response.created before response.failed` (its words without their
 * backticks), and the app never saw the failure's `error`. With it, Node's `finalResponse()` resolves to the failed
 * Response and Python's helper yields both events.
 * @param response the stored Response (its id, echoed request fields and created_at are kept)
 * @param status its status when the stream would have opened: `in_progress` for a run that claimed it (what a run's own
 *   `response.created` says), `queued` when no run is known to have claimed it (a background response is created queued)
 * @returns the event, sequence number 0, its Response with no output, error, usage or completion time
 */
export function openingEvent(response: Record<string, unknown>, status: 'queued' | 'in_progress'): StreamEvent {
  const opening: Record<string, unknown> = { ...response, status, error: null, incomplete_details: null, output: [] };
  delete opening.usage;
  delete opening.completed_at;
  return { type: 'response.created', sequence_number: 0, response: opening };
}

/** Whether a background job's request (JSON as sent) asked for `stream: true`. */
export function streamsRequest(request: string): boolean {
  try {
    return (JSON.parse(request) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

/**
 * `starting_after` of `GET /v1/responses/{id}?stream=true`: a sequence number, an integer ≥ 0 (OpenAI's
 * ResponseRetrieveParams `starting_after: number`, "the sequence number of the event after which to start streaming").
 * @returns the number, or -1 when it is not given (the stream starts at the first event)
 * @throws GatewayError 400 naming `starting_after` for anything else (negative, not an integer)
 */
export function startingAfterOf(value: string | undefined): number {
  if (value === undefined) return -1;
  if (!/^\d{1,15}$/.test(value)) throw invalid(`starting_after: '${value.slice(0, 40)}' is not a sequence number (an integer of 0 or more: the sequence_number of the last event received)`, 'starting_after', 'invalid_value');
  return Number(value);
}

/** What followEvents needs. */
export interface FollowOptions {
  /** How often the log and the response are read while nothing new came. @default 500 (serve: 50) */
  pollMs?: number;
  /** The answer's headers (x-request-id, rate limit headers). */
  headers?: Record<string, string>;
  /**
   * Each event as this reader is shown it (a retrieve's `include`: included-fields.ts eventWithIncluded), the terminal
   * event endFromStored makes among them; never the stored log itself. @default - as stored (the create's own stream)
   */
  shape?: (event: StreamEvent) => StreamEvent;
}

/**
 * Answers the response's stream events after `after` (a sequence number; -1 for all) as SSE, then follows the run:
 * reads the log every `pollMs` while nothing new came, and ends after a terminal event (`response.completed`,
 * `response.failed`, `response.incomplete`), when the run closed the log (a cancelled run's stream ends after its last
 * event: OpenAI's stream events have no cancel event), when the stored response is `cancelled` or gone, when the caller
 * leaves (`res.signal`) or at the transport's deadline (`res.deadline`: the router Lambda's; the stream ends without a
 * terminal event, as a dropped connection does, and the client resumes with `starting_after`). A `starting_after` at
 * or past the log's terminal event answers an empty stream (nothing follows a terminal event; the log's end is not
 * taken for one missing, endFromStored).
 * @throws GatewayError 400 naming `starting_after` when it is past the last event stored (before the stream opens)
 */
export async function followEvents(store: ResponseStore, tenantId: string, responseId: string, after: number, res: GatewayResponder, options: FollowOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? 500;
  const shape = options.shape ?? ((event: StreamEvent) => event);
  let read = await store.readEvents!(tenantId, responseId, 0);
  const last = read.events.length ? read.events[read.events.length - 1]!.sequence_number : -1;
  if (after > last) throw invalid(`starting_after: ${after} is past the last event of response ${responseId}'s stream (${last < 0 ? 'it has none yet' : `sequence_number ${last}`}); send the sequence_number of the last event received`, 'starting_after', 'invalid_value');
  const out = res.stream(options.headers);
  // An SSE comment (clients skip it) at once: the status and headers go out before the run's first event is stored
  // (the router's response stream sends its prelude with the first write), and again while none come (API Gateway ends
  // a stream idle for 5 minutes).
  let wrote = Date.now();
  await out.write(': the run\'s stream events follow\n\n');
  let settledSince: number | undefined;
  const stopped = () => res.signal?.aborted === true || res.deadline?.aborted === true;
  /** Writes the events after `after`; true when a terminal event was reached (the stream ends). */
  const relay = async (events: StreamEvent[]): Promise<boolean> => {
    for (const event of events) {
      // A terminal event the caller already has (`starting_after` is its number) ends the stream with nothing more.
      if (event.sequence_number <= after) {
        if (TERMINAL_EVENTS.has(event.type)) return true;
        continue;
      }
      await out.write(`event: ${event.type}\ndata: ${JSON.stringify(shape(event))}\n\n`);
      wrote = Date.now();
      after = event.sequence_number;
      if (TERMINAL_EVENTS.has(event.type)) return true;
    }
    return false;
  };
  try {
    for (;;) {
      if (await relay(read.events)) return;
      if (stopped()) return;
      if (read.ended) return await endFromStored(store, tenantId, responseId, after, out, shape);
      if (!read.events.length) {
        // Read as retrieve reads it (asRead): one queued past the bound its start could arrive in is failed, not waited on.
        const stored = await readStored(store, tenantId, responseId);
        // Settled by something other than the run's stream (a lapsed run, a serve restart, a start that was lost): its log is never closed.
        if (stored && SETTLED.has(String(stored.response.status)) && !stored.job) settledSince ??= Date.now();
        const abandoned = settledSince !== undefined && (!read.exists || Date.now() - settledSince > SETTLED_GRACE_MS);
        if (!stored || stored.response.status === 'cancelled' || abandoned) {
          if (await relay((await store.readEvents!(tenantId, responseId, read.cursor)).events)) return;
          if (stored && stored.response.status !== 'cancelled') await endFromStored(store, tenantId, responseId, after, out, shape);
          return;
        }
        await abortableWait(pollMs, res.signal, res.deadline); // less when the caller leaves or the deadline comes
        if (stopped()) return;
        if (Date.now() - wrote >= KEEPALIVE_MS) {
          await out.write(': keep-alive\n\n');
          wrote = Date.now();
        }
      }
      read = await store.readEvents!(tenantId, responseId, read.cursor);
    }
  } finally {
    await out.end();
  }
}

/**
 * Ends a stream whose log holds no terminal event although the run settled it (a chunk of events that could not be
 * stored: one event over DynamoDB's item size, a failed write; a run settled by a later delivery or a serve restart; a
 * response whose start was lost, queued past the bound its start could arrive in and so read `failed`: asRead): the
 * terminal event of the stored Response's status (`response.completed`, `response.failed`, `response.incomplete`)
 * with the stored Response and the next sequence number, so that every reader ends on the state `retrieve` answers
 * (the official clients' stream helpers take the final Response from it), after the stream's opening `response.created`
 * (openingEvent, sequence number 0, status `queued`; the terminal event is then 1) for a reader that has no event yet.
 * A cancelled or still running response gets none (a cancel has no event; a running one is resumed with `starting_after`).
 */
async function endFromStored(store: ResponseStore, tenantId: string, responseId: string, after: number, out: ReturnType<GatewayResponder['stream']>, shape: (event: StreamEvent) => StreamEvent): Promise<void> {
  const stored = await readStored(store, tenantId, responseId);
  const status = String(stored?.response.status);
  const type = `response.${status}`;
  if (!stored || !TERMINAL_EVENTS.has(type)) return;
  // A reader that has no event yet (the log is empty) gets the stream's opening first, as every Responses stream has it.
  if (after < 0) {
    await out.write(`event: response.created\ndata: ${JSON.stringify(shape(openingEvent(stored.response, 'queued')))}\n\n`);
    after = 0;
  }
  await out.write(`event: ${type}\ndata: ${JSON.stringify(shape({ type, sequence_number: after + 1, response: stored.response }))}\n\n`);
}

/** The stored response as every read sees it (background.ts asRead: queued past QUEUED_DELIVERY_BOUND_S reads failed), or undefined. */
const readStored = async (store: ResponseStore, tenantId: string, responseId: string) => {
  const stored = await store.get(tenantId, responseId);
  return stored && asRead(stored);
};

/** How long a reader's stream may go without a byte before it writes an SSE comment: well under API Gateway's 5-minute idle limit. */
const KEEPALIVE_MS = 60_000;

/**
 * How long a reader waits for the rest of the log of a response already settled (its terminal event is written after
 * the settle, up to EVENTS_FLUSH_MS later) before it takes the log as abandoned (a run settled `failed` by a later
 * delivery or a serve restart, which closes no log).
 */
const SETTLED_GRACE_MS = 5_000 + 2 * EVENTS_FLUSH_MS;

/** A stored response's events may be streamed: it was created with `background: true` and `stream: true`. @throws GatewayError 400 naming `stream` (OpenAI's words for a foreground one) */
export function checkStreamable(stored: StoredResponse, store: ResponseStore): void {
  if (stored.response.background !== true) throw invalid('This response cannot be streamed because it was not created with background=true.', 'stream', 'invalid_request_error');
  if (!stored.stream) throw invalid(`response ${stored.responseId} cannot be streamed: it was created with background: true but without stream: true, so no stream events were kept (OpenAI streams a background response only when it was created streaming); retrieve it without stream`, 'stream', 'invalid_value');
  if (!store.readEvents) throw invalid('stream=true is not served by this gateway: its response store keeps no stream events; retrieve without stream', 'stream', 'unsupported_parameter');
}
