import type { GatewayError } from '../openai-errors.js';
import type { LimitScope, Subject } from '../stores/gateway-store.js';

/**
 * The share of the tenant's per-minute and per-hour request limits (its tier's `requestsPerMinute`,
 * `requestsPerHour`) and of the owner's user or key `requestsPerMinute` that a batch's lines may use: a line is
 * admitted only while the window holds fewer requests than this share of its limit, so interactive requests always
 * have the other half (a batch never fills a window on its own). A line refused there waits for the window's end and
 * runs again (runner.ts runLines): OpenAI's batches do not consume the per-minute rate limits and complete within
 * their `completion_window` (Batch API guide, "Rate limits"). The day window (`requestsPerDay`) is not shared: the
 * tenant's daily quota is spent by batch lines as by any call, and a line refused by it is a failed line.
 */
export const BATCH_RATE_SHARE = 0.5;

/** The number of requests of a window of `limit` that a batch's lines may use (BATCH_RATE_SHARE, at least one). */
export const batchShareOf = (limit: number): number => Math.max(1, Math.floor(limit * BATCH_RATE_SHARE));

/** The tier's request windows as a batch line is counted against them: its share of the minute and the hour, the whole day. */
export function batchRateLimits(rate: { minute: number; hour: number; day: number }): { minute: number; hour: number; day: number } {
  return { minute: batchShareOf(rate.minute), hour: batchShareOf(rate.hour), day: rate.day };
}

/**
 * The window a batch line may not use at `now`, because its limit is 1 request: one request cannot be halved
 * (batchShareOf gives the batch the whole window, and a waiting line, woken at the window's start, would take it every
 * time), so such a window is shared by turns: a batch's lines may use the even minutes (hours) since the epoch, UTC,
 * and interactive requests have the odd ones to themselves. Checked in the order countRequest counts: the tier's
 * minute, its hour, then the owner's user or key `requestsPerMinute`.
 * @returns the refusal as countRequest states one (`limit` 1), or undefined when the batch may use every window now
 */
export function batchTurnRefusal(rate: { minute: number; hour: number }, subject: Subject, now: Date): { ok: false; window: 'minute' | 'hour'; limit: number; scope: LimitScope } | undefined {
  const odd = (ms: number) => Math.floor(now.getTime() / ms) % 2 === 1;
  if (rate.minute === 1 && odd(60_000)) return { ok: false, window: 'minute', limit: 1, scope: 'tenant' };
  if (rate.hour === 1 && odd(3_600_000)) return { ok: false, window: 'hour', limit: 1, scope: 'tenant' };
  if (subject.limits?.requestsPerMinute === 1 && odd(60_000)) return { ok: false, window: 'minute', limit: 1, scope: subject.kind };
  return undefined;
}

/** The owner's user or key as a batch line counts for it: its `requestsPerMinute`, when it has one, at the batch's share. */
export function batchSubject(subject: Subject): Subject {
  const rpm = subject.limits?.requestsPerMinute;
  return rpm === undefined ? subject : { ...subject, limits: { ...subject.limits, requestsPerMinute: batchShareOf(rpm) } };
}

/**
 * The first wait of a line after an upstream's 429 throttle, in ms: each further attempt of the line (in the same run)
 * waits twice as long as the one before, up to BATCH_UPSTREAM_WAIT_CAP_MS, and never less than the upstream's own
 * `retry-after` (batchUpstreamWaitMs).
 */
export const BATCH_UPSTREAM_BACKOFF_BASE_MS = 1_000;

/**
 * The longest wait between two attempts of a line refused by an upstream's throttle, in ms: 5 minutes, the AWS worker's
 * longest message delay (worker.ts MAX_PENDING_DELAY_SECONDS). A longer `retry-after` is waited this long, then the
 * line runs again.
 */
export const BATCH_UPSTREAM_WAIT_CAP_MS = 300_000;

/**
 * How long a line waits after its `attempt`-th refusal (0-based, in this run) by an upstream's throttle: exponential
 * backoff from BATCH_UPSTREAM_BACKOFF_BASE_MS, at least the upstream's `retry-after` (`retryAfterMs`), at most
 * BATCH_UPSTREAM_WAIT_CAP_MS. @returns milliseconds
 */
export function batchUpstreamWaitMs(attempt: number, retryAfterMs: number): number {
  const backoff = BATCH_UPSTREAM_BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30);
  return Math.min(BATCH_UPSTREAM_WAIT_CAP_MS, Math.max(backoff, retryAfterMs));
}

/**
 * Why a line's answer is not its end, and how long to wait before running it again.
 * - `rate_limit`: the gateway's own minute or hour request window (RequestPipeline.admit, at the batch's share): waited
 *   for as long as the batch's `expires_at` allows, each attempt refused before any upstream call.
 * - `upstream`: an upstream's 429 throttle (not `insufficient_quota`), with or without `retry-after`: waited for as
 *   long as the batch's `expires_at` allows, as a window is (OpenAI's batches complete within their window or
 *   expire; they do not fail a request for the provider's capacity), each wait batchUpstreamWaitMs (exponential
 *   backoff, at least `retry-after`, at most BATCH_UPSTREAM_WAIT_CAP_MS). A line still throttled at `expires_at` is a
 *   `batch_expired` line.
 */
export interface LineRetry {
  cause: 'rate_limit' | 'upstream';
  /** Milliseconds to wait before the next attempt (`upstream`: the upstream's `retry-after`, 0 without one; runLines backs off from it). */
  afterMs: number;
}

/**
 * The retry of a refused batch line, or undefined when the refusal is the line's answer: a budget's 429
 * (`budget_exceeded`: the budget's period ends after the batch's window, or it is spent on purpose, and waiting would
 * hold the batch for nothing), the day's request quota, an upstream's `insufficient_quota`, and every other status.
 */
export function lineRetryOf(err: GatewayError): LineRetry | undefined {
  const limit = err.rateLimit;
  if (err.status !== 429 || !limit) return undefined;
  const ms = err.headers['retry-after-ms'] !== undefined ? Number(err.headers['retry-after-ms']) : err.headers['retry-after'] !== undefined ? Number(err.headers['retry-after']) * 1000 : Number.NaN;
  if (limit.source === 'gateway') return limit.window === 'day' ? undefined : { cause: 'rate_limit', afterMs: Number.isFinite(ms) && ms >= 0 ? ms : 1000 };
  return { cause: 'upstream', afterMs: Number.isFinite(ms) && ms >= 0 ? Math.min(ms, BATCH_UPSTREAM_WAIT_CAP_MS) : 0 };
}
