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
