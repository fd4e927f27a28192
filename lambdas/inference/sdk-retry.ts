import { createHash } from 'node:crypto';

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

/**
 * How long after a create made its object (a fine-tuning job, a batch) an official client's retry of the same create
 * (same user, same body) is answered that object, in seconds: the clients retry within their `timeout` (600 s by
 * default) plus their backoff (at most 8 s a retry, 2 retries), so 15 minutes covers a first attempt that hung for the
 * whole default timeout.
 */
export const RETRY_WINDOW_SECONDS = 15 * 60;

/**
 * The fingerprint of a create (RETRY_WINDOW_SECONDS): SHA-256 of the user and the body as sent, hex. The tenant is the
 * store's partition and the route the caller's own; the body is compared as bytes, as the clients send a retry's unchanged.
 * @param userId the caller's user (a key's id for an API key)
 * @param body the request body as received
 */
export const createRequestHash = (userId: string, body: string | undefined) => createHash('sha256').update(userId).update('\0').update(body ?? '').digest('hex');
