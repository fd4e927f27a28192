/**
 * Time the router keeps, before its Lambda's timeout, for what must happen after the upstream call
 * is stopped: the settle (one round of UpdateItems on the tenant's and the user's or key's day and
 * month items, with the usage ledger's item, sent in parallel), the audit record (S3 PutObject,
 * awaited) and the budget alert check (2 to 4 GetItems, at most a marker UpdateItem and PutEvents),
 * each an AWS SDK call with the SDK's standard retries (3 attempts). Those are about 4 round trips
 * in sequence, tens of milliseconds each when nothing goes wrong. 15 s leaves room for the SDK's
 * backoff on a throttle (its 2 retries wait up to 1 s and 2 s: 3 s a call, 12 s for the 4 in
 * sequence) and a refresh of the tenant-data role's session (STS AssumeRole), and takes 1.7 % of a
 * 15-minute stream's time.
 */
export const SETTLE_MARGIN_MS = 15_000;

/** The part of the Lambda context the deadline reads (`aws-lambda`'s `Context`). */
export interface RemainingTime {
  /** Milliseconds until the Lambda runtime ends the invocation. */
  getRemainingTimeInMillis(): number;
}

/** A request's deadline signal and the timer behind it. */
export interface LambdaDeadline {
  /** Aborted `marginMs` before the invocation's timeout (at once when less than that is left). */
  readonly signal: AbortSignal;
  /** Stops the timer (the invocation ended first); idempotent. */
  dispose(): void;
}

/**
 * The deadline of one router invocation: its signal aborts `marginMs` before the Lambda runtime
 * would end the invocation, read from the context's remaining time when the invocation starts.
 * The gateway then stops the upstream call and settles the reservation with what was produced
 * (GatewayResponder.deadline), instead of the runtime cutting the invocation with the whole
 * reservation still counted against the budgets.
 * A cleared setTimeout rather than `AbortSignal.timeout`, which cannot be cleared: a frozen
 * execution environment would carry it into later invocations, and a test's fake timers drive this one.
 * @param marginMs @default SETTLE_MARGIN_MS
 */
export function lambdaDeadline(context: RemainingTime, marginMs = SETTLE_MARGIN_MS): LambdaDeadline {
  const controller = new AbortController();
  const left = context.getRemainingTimeInMillis() - marginMs;
  // Already past it: aborted before the request's first step, not one timer tick into it.
  if (left <= 0) controller.abort();
  const timer = left > 0 ? setTimeout(() => controller.abort(), left) : undefined;
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}

/**
 * API Gateway's idle timeout of a streamed integration response on a regional (or private) endpoint, in ms. API
 * Gateway developer guide, "Stream the integration response for your proxy integrations in API Gateway": "The stream
 * is subject to an idle timeout. For Regional or private endpoints, the timeout is 5 minutes." The inference API is
 * regional (constructs/inference-api.ts) and its router integration streams (`responseTransferMode: STREAM`).
 */
export const STREAM_IDLE_TIMEOUT_MS = 5 * 60_000;

/** A deadline that moves: LambdaDeadline whose timer starts again at each `touch()`. */
export interface IdleDeadline extends LambdaDeadline {
  /** A byte was written on the response stream: the idle time starts again (no-op once aborted or disposed). */
  touch(): void;
}

/**
 * The deadline of a response stream that sends nothing: its signal aborts `marginMs` before API Gateway's idle
 * timeout would end the stream, counted from the invocation's start and again from each write (`touch`). A whole
 * answer (chat without `stream`, embeddings, images, a file's processing) writes nothing until it is complete, so an
 * upstream first-byte wait of over 5 minutes (`gateway.upstreamTimeoutMs` takes up to 15), its retries and fallbacks
 * together, were cut by API Gateway: no status from the gateway, nothing settled until the Lambda's own end, the
 * caller's SDK retrying into the same wait. At this deadline the gateway stops the upstream call, settles and answers
 * 504 `request_deadline_exceeded`, as at the Lambda's deadline (lambdaDeadline), which the router combines with this
 * one. An open event stream does not reach it: the router's responder writes a keep-alive comment after each minute
 * without a write (router-handler.ts SSE_KEEP_ALIVE_MS), which touches it.
 * @param limitMs @default STREAM_IDLE_TIMEOUT_MS
 * @param marginMs the settle and the audit record's time, as lambdaDeadline's @default SETTLE_MARGIN_MS
 */
export function streamIdleDeadline(limitMs = STREAM_IDLE_TIMEOUT_MS, marginMs = SETTLE_MARGIN_MS): IdleDeadline {
  const controller = new AbortController();
  const window = Math.max(0, limitMs - marginMs);
  let disposed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), window);
  };
  arm();
  return {
    signal: controller.signal,
    touch: () => { if (!disposed && !controller.signal.aborted) arm(); },
    dispose: () => { disposed = true; clearTimeout(timer); },
  };
}
