import { randomBytes } from 'node:crypto';
import { DLQ_RETENTION_DAYS } from '../../../lib/dead-letters.js';
import type { BackgroundOwner, ResponseStore, StoredResponse } from '../stores/response-store.js';
import type { OwnerRefused } from '../owner-refusal.js';
import { EVENTS_TTL_S, EventLogWriter, openingEvent, streamsRequest, type StreamEvent } from './background-events.js';

/**
 * Background responses (`background: true`, OpenAI's "Background mode"): the create is answered at once with the
 * Response `queued` (stored with its job: the creator and the request), and the response runs afterwards: on
 * `tessera serve` in the process that answered (local-gateway.ts), on AWS from the router's background responses
 * queue (an SQS message `{kind: 'response', tenantId, responseId}` on `tessera-background-responses`, apart from the
 * Batch API's queue: batches/queue-handler.ts). The run
 * (runBackgroundResponse) claims it, runs the request through the same endpoint as a foreground one as its creator
 * (Gateway.backgroundResponse), and settles it; `POST /v1/responses/{id}/cancel` sets `cancelled`, which nothing
 * overwrites. Status: `queued` → `in_progress` → `completed` | `incomplete` | `failed` | `cancelled`.
 */

/** The statuses a Response ends in (OpenAI's ResponseStatus less `queued` and `in_progress`). */
export const SETTLED = new Set(['completed', 'failed', 'incomplete', 'cancelled']);

/** How the gateway starts a background response once its create is answered. */
export interface BackgroundStarter {
  /**
   * Starts the run of the tenant's stored, `queued` response: `tessera serve` in this process, AWS by a queue message.
   * @throws when it cannot be started (the create then answers the error and the response is settled `failed`)
   */
  start(tenantId: string, responseId: string): Promise<void>;
  /** Told of a cancel, so that a run of this process stops at once. @default - the run notices it when it polls */
  cancelled?(tenantId: string, responseId: string): void;
  /** How often a reader of a streaming run's events (background-events.ts followEvents) reads them again while none came. @default 500 */
  followPollMs?: number;
}

/** OpenAI's `Response.error` of a failed response: a code of its `ResponseError` and a message. */
export interface ResponseFailure {
  code: 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';
  message: string;
}

/**
 * Runs a background response's request as its creator (Gateway.backgroundResponse): `settle` is given the finished
 * response to store (in place of the foreground's store.put); resolves with the failure when it was refused or failed,
 * undefined when it was answered (settled or not: runBackgroundResponse settles what was left). `events` is given each
 * stream event of a request with `stream: true` as it goes out (kept for its readers: background-events.ts). `requestId`
 * is the run's audit record's id (BackgroundJob.runRequestId, named by the create's record; @default - a new one).
 * `stopping` is BackgroundRunDeps.stopping: a run of several upstream calls (the `file_search` tool's rounds) makes no
 * further call after it and fails (server_error). @default - never stops
 */
export type ExecuteBackground = (owner: BackgroundOwner, request: string, responseId: string, settle: (item: StoredResponse) => Promise<void>, signal: AbortSignal, events?: (event: StreamEvent) => void, requestId?: string, stopping?: AbortSignal) => Promise<ResponseFailure | undefined>;

/** What runBackgroundResponse needs. */
export interface BackgroundRunDeps {
  responses: ResponseStore;
  execute: ExecuteBackground;
  /** Epoch ms. @default Date.now */
  nowMs?: () => number;
  /** How often a run reads its response to notice a cancel made elsewhere (another serve worker, another Lambda). @default 2000 */
  pollMs?: number;
  /** How often a streaming run writes its buffered events (EventLogWriter). @default EVENTS_FLUSH_MS */
  eventsFlushMs?: number;
  /**
   * Reads the response's creator again while it runs (Gateway.ownerRefusal: owner-refusal.ts checkOwner, as a batch
   * checks its owner before each line): its tenant suspended, offboarding, offboarded or gone, or its creating key
   * revoked, expired or deleted, is the refusal that stops the run. @default - the owner is checked at the run's start only
   */
  ownerRefused?: (owner: BackgroundOwner) => Promise<OwnerRefused | undefined>;
  /** How often a run checks its owner (`ownerRefused`): a registry read, and a key read for a key's response. @default OWNER_POLL_MS */
  ownerPollMs?: number;
  /**
   * Aborted when `tessera serve` stops (local-gateway.ts, the signal of its batch runs): a delivery that comes after it
   * claims nothing and runs nothing (`stopped`: the response stays `queued`, for the next serve to run). A run already
   * claimed goes on while serve settles, its upstream call under way included; a `file_search` run starts no further
   * round after it (no model call, no search: `execute`'s `stopping`) and is settled `failed` (server_error, saying
   * so): it is not run again, as its earlier rounds were billed. @default - never stops
   */
  stopping?: AbortSignal;
}

/** How often a background run reads its owner's tenant (and key) again by default (ms): a suspension stops it within this. */
export const OWNER_POLL_MS = 10_000;

/**
 * How a delivery of a background response ended: `ran` (claimed and settled), `skipped` (not claimable: nothing ran),
 * `lapsed` (a run's lease had ended unsettled: settled `failed`), `stopped` (`deps.stopping` aborted before the claim:
 * nothing read or ran, the response left as it was).
 */
export type BackgroundOutcome = 'ran' | 'skipped' | 'lapsed' | 'stopped';

/**
 * A background run's audit record id, minted at its create (BackgroundJob.runRequestId): `req_` and 24 hex digits, the
 * shape of the gateway's other request ids, so `GET /v1/tenant/requests/{request_id}` finds it.
 */
export const newRunRequestId = (): string => `req_${randomBytes(12).toString('hex')}`;

/** What a lapsed run is settled with: it is not run again, as its request may have been answered and billed. */
export const LAPSED_MESSAGE = 'the run of this background response ended before it was settled (the worker running it stopped: a Lambda timeout or crash, or a tessera serve restart); it is not run again, as its request may have been answered and billed: create it again';

/**
 * One delivery of a background response: claims it, runs it, settles it (none when `deps.stopping` is aborted: `stopped`).
 * 1. Claim: a conditional update (ResponseStore.update) `queued` → `in_progress` with a lease (a random claim token,
 *    until now + `leaseMs`). A response `in_progress` whose lease has passed is settled `failed` (LAPSED_MESSAGE):
 *    `lapsed`. Any other state (settled, cancelled, or held by a live lease: a duplicate delivery) runs nothing: `skipped`.
 * 2. Runs the request (`execute`), reading the response every `pollMs` meanwhile: a `cancelled` one aborts the run
 *    (the upstream call is cut, the budget reservation settled as for a caller that left); and its owner every
 *    `ownerPollMs` (`ownerRefused`): an owner refused meanwhile (the tenant suspended or offboarded, the creating key
 *    revoked) aborts the run the same way, with the refusal as the abort's reason (OwnerRefused), so it is settled
 *    `failed` with `error` naming the refusal (`tenant_not_active: …`) and its audit record has the refusal's status
 *    and code (Gateway.backgroundResponse); nothing more is billed.
 * 3. Settles: the finished response replaces the stored one only while it is still `in_progress` under this claim (a
 *    cancel is never overwritten); a failure makes it `failed` with `error`; one the run left unsettled (its answer
 *    could not be stored) is `failed` saying so.
 * @param leaseMs how long the claim holds (AWS: the invocation's remaining time; serve: its lifetime)
 * @throws what the store throws (the queue consumer reports the message as failed: it is delivered again)
 */
export async function runBackgroundResponse(deps: BackgroundRunDeps, tenantId: string, responseId: string, leaseMs: number, options: { signal?: AbortSignal } = {}): Promise<BackgroundOutcome> {
  // The serve is stopping: nothing claimed, so the response stays queued for the next serve (no upstream call started now).
  if (deps.stopping?.aborted) return 'stopped';
  const nowMs = deps.nowMs ?? Date.now;
  const token = randomBytes(12).toString('hex');
  let lapsed = false;
  const claimed = await deps.responses.update(tenantId, responseId, (c) => {
    if (!c.job) return undefined;
    const now = nowMs();
    if (c.response.status === 'queued') return { ...c, response: { ...c.response, status: 'in_progress' }, job: { ...c.job, lease: { claim: token, since: now, until: now + Math.max(0, leaseMs) } } };
    if (c.response.status === 'in_progress' && c.job.lease && c.job.lease.until <= now) {
      lapsed = true;
      return failedItem(c, { code: 'server_error', message: LAPSED_MESSAGE });
    }
    return undefined;
  });
  if (lapsed) return 'lapsed';
  const job = claimed?.job;
  if (!job || job.lease?.claim !== token) return 'skipped';
  const ours = (c: StoredResponse) => c.response.status === 'in_progress' && c.job?.lease?.claim === token;

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const poll = setInterval(() => {
    deps.responses.get(tenantId, responseId).then((c) => { if (!c || c.response.status === 'cancelled') stop.abort(); }, () => undefined);
  }, deps.pollMs ?? 2000);
  poll.unref?.();
  // The owner read again while it runs: a refusal stops the run as a cancel does, the refusal its reason.
  let checking = false;
  const ownerPoll = deps.ownerRefused && setInterval(() => {
    if (checking || stop.signal.aborted) return;
    checking = true;
    deps.ownerRefused!(job.owner).then((refused) => { if (refused && !stop.signal.aborted) stop.abort(refused); }, () => undefined).finally(() => { checking = false; });
  }, deps.ownerPollMs ?? OWNER_POLL_MS);
  ownerPoll?.unref?.();
  let failure: ResponseFailure | undefined;
  // A streaming request's events are kept for its readers (create's stream, GET ?stream=true): background-events.ts.
  const log = claimed.stream && deps.responses.appendEvents && streamsRequest(job.request)
    ? new EventLogWriter(deps.responses, tenantId, responseId, Math.min(claimed.expiresAt, Math.floor(nowMs() / 1000) + EVENTS_TTL_S), deps.eventsFlushMs)
    : undefined;
  try {
    const settle = async (item: StoredResponse) => void (await deps.responses.update(tenantId, responseId, (c) => (ours(c) ? { ...item, response: { ...item.response, created_at: c.response.created_at }, expiresAt: c.expiresAt, job: undefined, ...(c.stream ? { stream: true } : {}) } : undefined)));
    failure = await deps.execute(job.owner, job.request, responseId, settle, stop.signal, log && ((event) => log.push(event)), job.runRequestId, deps.stopping);
  } catch (e) {
    failure = { code: 'server_error', message: `the background response failed: ${(e as Error).message}` };
  } finally {
    clearInterval(poll);
    if (ownerPoll) clearInterval(ownerPoll);
    options.signal?.removeEventListener('abort', onAbort);
  }
  let failed: StoredResponse | undefined;
  await deps.responses.update(tenantId, responseId, (c) => (ours(c)
    ? (failed = failedItem(c, failure ?? { code: 'server_error', message: 'the background response was answered but could not be stored (its conversation is over the size a stored response may take, or the tenant\'s policy no longer allows stored responses)' }))
    : undefined));
  if (log) {
    // A run that failed before its stream ended (refused before it opened, or its answer not stored) ends it as OpenAI's stream of a failed response does;
    // one refused before it opened opens it first (openingEvent: the stream helpers need response.created before any other event).
    if (failed && !log.terminal) {
      if (log.next === 0) log.push(openingEvent(claimed.response, 'in_progress'));
      log.push({ type: 'response.failed', response: failed.response, sequence_number: log.next });
    }
    await log.close();
  }
  return 'ran';
}

/**
 * Starts the run of the tenant's stored `queued` response (BackgroundStarter.start); when it cannot be started, settles
 * it `failed` (server_error, the starter's words) and throws. Starting one already started runs nothing twice: the run
 * claims it (runBackgroundResponse: `queued` → `in_progress`), and every other delivery is `skipped`.
 * @throws what the starter throws (the failed settle's own failure is dropped: the response then stays `queued`, read
 *   as failed past QUEUED_DELIVERY_BOUND_S, and a retry of its create starts it again)
 */
export async function startRun(responses: ResponseStore, starter: BackgroundStarter, tenantId: string, responseId: string): Promise<void> {
  try {
    await starter.start(tenantId, responseId);
  } catch (e) {
    await responses.update(tenantId, responseId, (c) => (c.response.status === 'queued' ? failedItem(c, { code: 'server_error', message: `the background response could not be started: ${(e as Error).message}` }) : undefined)).catch(() => undefined);
    throw e;
  }
}

/**
 * How long a background response may stay `queued` before no start can reach it any more (seconds): its queue message
 * lives at most the dead-letter queue's retention from the create (SQS keeps a moved message's first enqueue time, and
 * the work queue's own retention is shorter: constructs/batch-work.ts routerWorkQueue), so a redrive runs nothing
 * older. `tessera serve` starts its runs at once, or at its next start (resumeBackgroundResponses): the same bound.
 */
export const QUEUED_DELIVERY_BOUND_S = DLQ_RETENTION_DAYS * 86_400;

/**
 * The response as it is read: one still `queued` past QUEUED_DELIVERY_BOUND_S after its `created_at` (its create's
 * start was lost: the queue send failed, and so did the write that would have settled it `failed`) is read `failed`
 * (server_error, saying so), not `queued` for ever; any other as stored. The store is not written.
 * @param nowS seconds since the epoch. @default now
 */
export function asRead(item: StoredResponse, nowS = Math.floor(Date.now() / 1000)): StoredResponse {
  const created = Number(item.response.created_at);
  if (item.response.status !== 'queued' || !(created + QUEUED_DELIVERY_BOUND_S <= nowS)) return item;
  return failedItem(item, { code: 'server_error', message: `the background response was never started: it has been queued since ${new Date(created * 1000).toISOString()}, past the ${DLQ_RETENTION_DAYS} days its start could still arrive in; create it again` });
}

/** The stored response settled `failed` with `error` (its job dropped). */
export function failedItem(c: StoredResponse, error: ResponseFailure): StoredResponse {
  return { ...c, response: { ...c.response, status: 'failed', error, incomplete_details: null }, job: undefined };
}

/**
 * `POST /v1/responses/{id}/cancel` on a stored response: a background one still `queued` or `in_progress` becomes
 * `cancelled` (its job dropped: no delivery runs it); one already settled is answered as it is (OpenAI: cancelling is
 * idempotent). The caller has checked that it is a background response.
 * @returns the response as it is after the cancel; undefined when it is gone (deleted meanwhile)
 */
export async function cancelBackground(responses: ResponseStore, tenantId: string, responseId: string): Promise<StoredResponse | undefined> {
  return responses.update(tenantId, responseId, (c) => (SETTLED.has(String(c.response.status)) ? undefined : { ...c, response: { ...c.response, status: 'cancelled' }, job: undefined }));
}

/** A failure's `Response.error` for a refusal's status and OpenAI-shaped body: 429 → `rate_limit_exceeded`, 5xx → `server_error`, else `invalid_prompt`. */
export function failureOf(status: number, body: string): ResponseFailure {
  let message = body;
  let code: string | undefined;
  try {
    const e = (JSON.parse(body) as { error?: { message?: string; code?: string } }).error;
    message = e?.message ?? body;
    code = e?.code;
  } catch { /* not JSON: the body is the message */ }
  const shown = `${code ? `${code}: ` : ''}${message}`.slice(0, 2000);
  return { code: status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_prompt', message: shown };
}
