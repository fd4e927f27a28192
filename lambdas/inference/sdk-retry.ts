/**
 * The official OpenAI SDKs' retry counter: openai-node and openai-python send `x-stainless-retry-count` on every
 * attempt, `0` on a call's first and `n` on its n-th retry (after a connection error or timeout, a 408, 409, 429 or
 * 5xx without `x-should-retry: false`). Each attempt is a request of its own for the gateway (its own upstream call,
 * charge and audit record), as for OpenAI; the count lets a record say it was an SDK's retry of an earlier one.
 * OpenAI's API honours no `Idempotency-Key` on these routes, and the official clients send none (their `OpenAI`
 * class sets no idempotency header), so the gateway does not either.
 * @param value the header as sent, if at all
 * @returns the retry's number (1-999), or undefined for a first attempt, no header, or anything that is not a count
 */
export function sdkRetryOf(value: string | undefined): number | undefined {
  return value !== undefined && /^[1-9]\d{0,2}$/.test(value) ? Number(value) : undefined;
}
