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

/**
 * The fingerprint of a `files.create` (RETRY_WINDOW_SECONDS): SHA-256 of the user and the upload's fields, hex. Not of
 * the body as sent: a multipart body's boundary is drawn anew for each attempt (openai-node's FormData through fetch,
 * openai-python's httpx), so a retry's bytes differ from its first attempt's while every field is the same.
 * @param userId the caller's user (a key's id for an API key)
 * @param upload the form's `purpose`, the file's name and bytes, and `expires_after[anchor]` / `expires_after[seconds]` as sent (absent: null)
 */
export function uploadRequestHash(userId: string, upload: { purpose: string; filename: string; content: Uint8Array; anchor: unknown; seconds: unknown }): string {
  const content = createHash('sha256').update(upload.content).digest('hex');
  const fields = JSON.stringify([upload.purpose, upload.filename, content, upload.anchor ?? null, upload.seconds ?? null]);
  return createHash('sha256').update(userId).update('\0').update(fields).digest('hex');
}
