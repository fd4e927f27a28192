import { createHash } from 'node:crypto';
import { boundaryOf, formParts, withFields } from '../audio/multipart.js';

/** Hex characters of the SHA-256 a tenant's end-user id keeps upstream (32: 128 bits). */
export const TENANT_END_USER_HASH_CHARS = 32;

/** The end-user fields of OpenAI's requests a shared upstream gets scoped to the tenant (tenantEndUserId). */
export const END_USER_FIELDS = ['user', 'safety_identifier'] as const;

/**
 * The `user` or `safety_identifier` an upstream the tenants share (the platform's provider key: one account, one prompt
 * cache and one abuse-detection namespace for every tenant) gets for a caller's end-user id: the tenant id, `-`, and
 * the first 32 hex characters of SHA-256 over the tenant id, a NUL and the id (UTF-8). A tenant computes its own users'
 * values as `printf '%s\0%s' <tenant> <id> | sha256sum | cut -c1-32`.
 *
 * OpenAI's `user` is "a stable identifier for your end-users. Used to boost cache hit rates by better bucketing similar
 * requests and to help OpenAI detect and prevent abuse"; its `safety_identifier` "a stable identifier used to help
 * detect users of your application that may be violating OpenAI's usage policies ... We recommend hashing their
 * username or email address" (the `openai` package 7.55, chat completions, the Responses API, images). Sent as it came,
 * tenant B could send tenant A's end-user ids to be bucketed with A's requests in the shared cache, or to get A's users
 * flagged and blocked on the platform's account. Scoped: the same id of one tenant is the same value on every request
 * (caching and abuse detection work per end user as before); the same id of two tenants is two values; the platform's
 * operator reads the tenant off an OpenAI abuse notice (the part before the last `-`), the tenant finds the user by
 * hashing its own ids; the id's text (often an email) never reaches the provider. At most 24 + 1 + 32 = 57
 * characters (tenant ids are 3-24: lib/tenant-naming.ts TENANT_ID_PATTERN), within the 128 the package documents for
 * `safety_identifier` (end-user.ts MAX_SAFETY_IDENTIFIER) and within 64; `user` has no documented limit and gets the
 * same form.
 * @param tenantId the caller's tenant (never a field of the request)
 * @param id the caller's `user` or `safety_identifier` as sent (any length)
 * @returns `<tenantId>-` + 32 characters of [0-9a-f]
 */
export function tenantEndUserId(tenantId: string, id: string): string {
  return `${tenantId}-${createHash('sha256').update(tenantId).update('\u0000').update(id).digest('hex').slice(0, TENANT_END_USER_HASH_CHARS)}`;
}

/**
 * `body` with each END_USER_FIELDS field that is a non-empty string scoped to the tenant (tenantEndUserId); a copy
 * when one is, else `body` itself. An empty string names no end user and goes on as it is; another type is the
 * upstream's to refuse, as before. The caller's body is never changed (the audit record and stored objects keep it).
 * @param body a JSON request body as the relay sends it (chat completions, text completions, embeddings, moderations, images)
 * @param tenantId the caller's tenant
 */
export function withTenantEndUsers<T extends object>(body: T, tenantId: string): T {
  let out: T | undefined;
  for (const field of END_USER_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value !== 'string' || !value) continue;
    out ??= { ...body };
    (out as Record<string, unknown>)[field] = tenantEndUserId(tenantId, value);
  }
  return out ?? body;
}

/**
 * A byte body the relay sends as an endpoint built it (endpoints/images.ts: an edit's or variation's form;
 * endpoints/audio.ts: a transcription's or translation's form, speech's JSON) with its END_USER_FIELDS scoped to the tenant as withTenantEndUsers does: in a multipart/form-data
 * body every part so named has its content replaced (every other byte as it came); in a JSON object body the fields
 * are replaced. A body with neither field, or that cannot be read (the upstream's to refuse), is returned as it is.
 * @param bytes the body; @param contentType its Content-Type; @param tenantId the caller's tenant
 */
export function withTenantEndUserBytes(bytes: Uint8Array, contentType: string, tenantId: string): Uint8Array {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!END_USER_FIELDS.some((field) => buffer.includes(field))) return bytes;
  const boundary = boundaryOf(contentType);
  if (boundary) {
    let parts;
    try {
      parts = formParts(buffer, boundary);
    } catch {
      return bytes; // the endpoint read it already; a body it could not read never gets here
    }
    const changes = parts.filter((p) => (END_USER_FIELDS as readonly string[]).includes(p.name) && p.end > p.start)
      .map((p) => [p, tenantEndUserId(tenantId, buffer.subarray(p.start, p.end).toString('utf8'))] as const);
    return changes.length ? withFields(buffer, changes) : bytes;
  }
  if (!/json/i.test(contentType)) return bytes;
  let body: unknown;
  try {
    body = JSON.parse(buffer.toString('utf8'));
  } catch {
    return bytes;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bytes;
  const scoped = withTenantEndUsers(body, tenantId);
  return scoped === body ? bytes : Buffer.from(JSON.stringify(scoped));
}
