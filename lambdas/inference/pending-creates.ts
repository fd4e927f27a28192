import { randomBytes } from 'node:crypto';
import { GatewayError } from './openai-errors.js';
import { RETRY_WINDOW_SECONDS } from './sdk-retry.js';

/**
 * A create attempt's note, written before its work starts (PendingCreates.begin) and removed when the work ends, however
 * it ended (PendingCreates.end): an official client's retry that arrives while its first attempt still runs (the
 * client's `timeout` cut the first, e.g. `timeout: 1000` over a slow S3 put) finds it and waits for that attempt
 * (awaitFirstAttempt) instead of making a second object.
 */
export interface PendingNote {
  /** The attempt that wrote it (random hex: newAttempt): only that attempt ends it. */
  attempt: string;
  /** When the attempt began, epoch ms. */
  since: number;
  /** Epoch seconds after which the note is no answer (RETRY_WINDOW_SECONDS after `since`; DynamoDB's TTL attribute). */
  expiresAt: number;
}

/**
 * The notes of the create attempts still running, per tenant and fingerprint (`<route>#<SHA-256 hex>`: pendingKey).
 * Implementations: DirPendingCreates (`tessera serve`, shared by its worker threads), DynamoDbPendingCreates (the
 * responses table, AWS). Every method acts on one tenant's notes only.
 */
export interface PendingCreates {
  /** Writes the attempt's note (over an earlier attempt's: the latest attempt of a fingerprint is the one waited for). */
  begin(tenantId: string, key: string, attempt: string): Promise<void>;
  /** The note of the fingerprint, unless it expired, or undefined. */
  read(tenantId: string, key: string): Promise<PendingNote | undefined>;
  /** Removes the note, on condition that it is still `attempt`'s (a later attempt's note is left as it is). */
  end(tenantId: string, key: string, attempt: string): Promise<void>;
}

/**
 * The routes whose creates take notes: `files.create` (its upload's fingerprint), background `responses.create`,
 * `fine_tuning.jobs.create` (`jobs`) and `batches.create` (`batches`), the last three by createRequestHash.
 */
export type PendingRoute = 'files' | 'responses' | 'jobs' | 'batches';

/** A note's key: the route and the create's fingerprint (sdk-retry.ts uploadRequestHash / createRequestHash). */
export const pendingKey = (route: PendingRoute, requestHash: string) => `${route}#${requestHash}`;

/** Whether `key` is one pendingKey makes (the stores refuse any other: it names a file or a sort key). */
export const isPendingKey = (key: string) => /^(files|responses|jobs|batches)#[0-9a-f]{64}$/.test(key);

/** A new attempt's id: 16 random bytes, hex. */
export const newAttempt = () => randomBytes(16).toString('hex');

/** A new note, begun now. */
export const pendingNoteOf = (attempt: string, nowMs = Date.now()): PendingNote => ({ attempt, since: nowMs, expiresAt: Math.floor(nowMs / 1000) + RETRY_WINDOW_SECONDS });

/**
 * The longest a retry waits for its first attempt to end, in ms, before it answers 409 `create_in_progress`: well
 * inside API Gateway's 29 s integration timeout, and the retry answers as soon as the first attempt ends.
 */
export const PENDING_WAIT_MAX_MS = 5_000;

/** How often a waiting retry reads the note again, in ms. */
export const PENDING_POLL_MS = 100;

/**
 * The `retry-after` of a 409 `create_in_progress`, in seconds: as long as the first attempt has run so far, at least
 * 2 and at most 30 (openai-node honours up to 60 s, openai-python up to 120 s and retries none past it). The official
 * clients sleep it before their next retry, which no client timeout cuts short.
 * @param since when the first attempt began, epoch ms
 */
export const pendingRetryAfterS = (since: number, nowMs = Date.now()) => Math.min(30, Math.max(2, Math.ceil((nowMs - since) / 1000)));

/**
 * How long a retry may wait for its first attempt, in ms: half the timeout its client says it keeps, at most
 * PENDING_WAIT_MAX_MS (openai-python's `x-stainless-read-timeout`, seconds, on every request; openai-node's
 * `x-stainless-timeout`, whole seconds, only for a timeout given to the call, not the client's); 0 when it says none. A
 * wait the client's timeout cuts costs the client a retry and answers nobody, where a 409's `retry-after` is slept
 * whatever the timeout.
 * @param headers the request's headers (lower-case names)
 */
export function retryWaitMsOf(headers: Record<string, string | undefined>): number {
  const stated = [headers['x-stainless-timeout'], headers['x-stainless-read-timeout']].map((v) => (v === undefined || !/^\d+(\.\d+)?$/.test(v) ? NaN : Number(v) * 1000)).filter((v) => Number.isFinite(v));
  return stated.length ? Math.min(PENDING_WAIT_MAX_MS, ...stated.map((ms) => ms / 2)) : 0;
}

/**
 * 409 `create_in_progress`: the retry's first attempt, begun at `since`, still runs after the retry waited for it.
 * Retryable, unlike the gateway's other 409s (openai-errors.ts noSdkRetry): `x-should-retry: true` and `retry-after`
 * (pendingRetryAfterS), so the client's next retry is answered the first attempt's object once it is made. A client
 * out of retries gets this 409 (openai-node `ConflictError`, openai-python `ConflictError`): the object may still be
 * made, by the attempt named running.
 */
export function createInProgress(what: string, since: number): GatewayError {
  const after = pendingRetryAfterS(since);
  return new GatewayError(409, `the first attempt of this ${what} (begun ${new Date(since).toISOString()}) is still running: this retry (x-stainless-retry-count) would make a second one; retry in ${after} s to be answered its object`, 'invalid_request_error', 'create_in_progress', null, { 'retry-after': String(after), 'x-should-retry': 'true' });
}

/**
 * A retry's wait for its first attempt: returns when there is no note for `key` (none, expired, or removed: its attempt ended), or
 * when `landed` says the first attempt's object is there already; reads again every PENDING_POLL_MS for `waitMs`.
 * @param landed whether the object the note's attempt makes is stored @default - only the note is read
 * @throws GatewayError 409 `create_in_progress` (createInProgress) when the note still runs after `waitMs`
 */
export async function awaitFirstAttempt(notes: PendingCreates, tenantId: string, key: string, what: string, waitMs: number, landed?: () => Promise<boolean>): Promise<void> {
  const start = Date.now();
  for (;;) {
    const note = await notes.read(tenantId, key);
    if (!note || (landed && (await landed()))) return;
    if (Date.now() - start >= waitMs) throw createInProgress(what, note.since);
    await new Promise((ok) => setTimeout(ok, PENDING_POLL_MS));
  }
}

/**
 * Runs a create attempt's work under its note: begun before, removed after (whether `work` resolved or threw; a failed
 * removal is dropped, and the note then stands until it expires: the attempt's retries wait, then are answered 409).
 */
export async function underNote<T>(notes: PendingCreates | undefined, tenantId: string, key: string, work: () => Promise<T>): Promise<T> {
  if (!notes) return work();
  const attempt = newAttempt();
  await notes.begin(tenantId, key, attempt);
  try {
    return await work();
  } finally {
    await notes.end(tenantId, key, attempt).catch(() => undefined);
  }
}
