/**
 * OpenAI's rate-limit response headers (https://platform.openai.com/docs/guides/rate-limits,
 * "Rate limits in headers"): `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as
 * durations like `1s`, `6m0s`, `2h3m4s`, and `retry-after` in whole seconds (RFC 9110 §10.2.3), with
 * `retry-after-ms` (OpenAI's, which the SDKs read first) when the gateway's own limit ran out.
 */
export interface RateLimitState {
  requests: { limit: number; remaining: number; resetMs: number };
  tokens?: { limit: number; remaining: number; resetMs: number };
  /** How long the caller should wait; @default the sooner reset that is exhausted */
  retryAfterMs?: number;
  /** Whose limit ran out, sent as `x-tessera-limit-scope` (Tessera's own header). @default - no such header (an upstream's 429) */
  scope?: 'tenant' | 'user' | 'key';
  /** Tell the SDKs not to retry (`x-should-retry: false`) whatever the wait: a budget, or a request that can never fit. @default - only when the wait is over MAX_SDK_RETRY_WAIT_MS */
  noRetry?: boolean;
}

/**
 * The longest `retry-after` the official SDKs are left to retry on their own. Beyond it a 429 also
 * says `x-should-retry: false`: openai-node 6.x slept whatever `retry-after` says (hours for a daily
 * budget, and a wait past setTimeout's 2^31-1 ms fires at once, so a monthly budget's three attempts
 * came in 211 ms); openai-node 7.x and openai-python ignore a `retry-after` over 60 s and retry after
 * their own short backoff, into the same 429. `retry-after` is still sent: it says when the limit resets.
 */
export const MAX_SDK_RETRY_WAIT_MS = 60_000;

/** A duration as OpenAI writes it: `1s`, `20ms`, `6m0s`, `1h2m3s`. */
export function openAiDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}

/** One limit as the headers state it: its size, what is left of it, and the milliseconds until it resets. */
export interface LimitWindow { limit: number; remaining: number; resetMs: number }

/** `x-ratelimit-{limit,remaining,reset}-<kind>` of one limit, added to `headers`: the three together. */
function addGroup(headers: Record<string, string>, kind: 'requests' | 'tokens', w: LimitWindow): void {
  headers[`x-ratelimit-limit-${kind}`] = String(w.limit);
  headers[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, Math.floor(w.remaining)));
  headers[`x-ratelimit-reset-${kind}`] = openAiDuration(w.resetMs);
}

/**
 * The headers of a gateway 429: `retry-after`, OpenAI's `x-ratelimit-*`, `x-tessera-limit-scope` when the gateway's own
 * limit ran out, and `x-should-retry: false` when retrying soon cannot help (`noRetry`, or a wait over a minute).
 * The gateway's own limit (`scope`) also sends `retry-after-ms`, the wait to the millisecond (the end of its
 * window, which the gateway knows exactly): the SDKs read it before `retry-after` (openai-node, openai-python), so a
 * minute's window that ends in 200 ms is retried after 200 ms, not after the whole second `retry-after` rounds up to.
 * An upstream's 429 (no `scope`) gets none here: its wait is the upstream's, in whatever precision it gave
 * (RequestPipeline.withRateHeaders passes on the upstream's own `retry-after-ms`).
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const exhausted = [state.requests, state.tokens].filter((w): w is NonNullable<typeof w> => Boolean(w) && w!.remaining <= 0);
  const wait = state.retryAfterMs ?? Math.min(...(exhausted.length ? exhausted : [state.requests]).map((w) => w.resetMs));
  const headers: Record<string, string> = { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) };
  if (state.scope) headers['retry-after-ms'] = String(Math.max(0, Math.ceil(wait)));
  addGroup(headers, 'requests', state.requests);
  if (state.tokens) addGroup(headers, 'tokens', state.tokens);
  if (state.scope) headers['x-tessera-limit-scope'] = state.scope;
  if (state.noRetry || wait > MAX_SDK_RETRY_WAIT_MS) headers['x-should-retry'] = 'false';
  return headers;
}

/**
 * OpenAI's `x-ratelimit-*` headers of an answer the gateway served (OpenAI sends them on every
 * answer; no `retry-after`: there is nothing to wait for): the requests group and the tokens group,
 * each whole (limit, remaining, reset) or left out when its values are not known. Never a limit
 * without its remaining: a client that reads a missing header as 0 (go-openai's strconv.Atoi)
 * would take it for an exhausted limit.
 */
export function servedRateLimitHeaders(state: { requests?: LimitWindow; tokens?: LimitWindow }): Record<string, string> {
  const headers: Record<string, string> = {};
  if (state.requests) addGroup(headers, 'requests', state.requests);
  if (state.tokens) addGroup(headers, 'tokens', state.tokens);
  return headers;
}

/** Milliseconds from `now` to the end of its UTC minute, hour, day or month. */
export function msUntilWindowEnd(window: 'minute' | 'hour' | 'day' | 'month', now: Date): number {
  const end = new Date(now);
  if (window === 'minute') end.setUTCSeconds(60, 0);
  else if (window === 'hour') end.setUTCMinutes(60, 0, 0);
  else if (window === 'day') end.setUTCHours(24, 0, 0, 0);
  else end.setUTCMonth(end.getUTCMonth() + 1, 1), end.setUTCHours(0, 0, 0, 0);
  return end.getTime() - now.getTime();
}
