import { createHash } from 'node:crypto';

/** What a `cache_salt` becomes upstream: this prefix, then 43 base64url characters (47 in all). */
const PREFIX = 'tcs_';

/**
 * The `cache_salt` a vLLM server gets for a tenant: `tcs_` and the first 43 base64url characters (256 bits less 2) of
 * SHA-256 over `cache_salt`, a NUL, the tenant id, and — for a salt the caller sent — a NUL and that salt. vLLM's
 * `cache_salt` (a top-level field of its chat and text completion requests, 1-1024 characters) is hashed into the
 * first prefix-cache block of the request, so requests reuse each other's cached KV blocks only when their prefixes and
 * salts are equal: vLLM's own description, "the prefix cache will be salted with the provided string to prevent an
 * attacker to guess prompts in multi-user environments". One tenant's salt is the same on every request (its cache
 * hits stay), two tenants' are different (neither can read the other's prefixes off `cached_tokens` or latency). A
 * caller's own salt is scoped the same way (sub-isolation inside the tenant keeps working; another tenant's salt sent
 * by B is another salt upstream), and the tenant's default (no salt sent) is a value no caller's salt maps to.
 *
 * The tenant id is not written to the model server (whose request log may show the salt), but the salt is not secret
 * from whoever knows the tenant ids: it separates tenants because the gateway, not the caller, decides it.
 * @param tenantId the caller's tenant (never a field of the request)
 * @param salt the caller's `cache_salt` as sent (a non-empty string); undefined for the tenant's default
 * @returns `tcs_` + 43 characters of [A-Za-z0-9_-]
 */
export function tenantCacheSalt(tenantId: string, salt?: string): string {
  const hash = createHash('sha256').update('cache_salt').update('\u0000').update(tenantId);
  if (salt !== undefined) hash.update('\u0000').update(salt);
  return PREFIX + hash.digest('base64url').slice(0, 43);
}

/**
 * `body` with its `cache_salt` scoped to the tenant: a caller's non-empty string salt becomes tenantCacheSalt(tenant,
 * salt); with no salt sent (absent or null) and `salted` (the catalog entry's `prefixCacheSalt`), the tenant's default
 * salt is added. A copy when changed, else `body` itself (the caller's body, the audit record's, is never changed).
 * An empty string or another type goes on as it came, the upstream's to refuse (vLLM: 1-1024 characters). Applied on
 * the platform's key and a tenant's own key alike: a vLLM server's prefix cache is the server's, not the API key's.
 * @param body a chat or text completion body as the provider sends it
 * @param tenantId the caller's tenant
 * @param salted whether the model's catalog entry opts in to a per-tenant salt (`prefixCacheSalt: true`)
 */
export function withTenantCacheSalt<T extends object>(body: T, tenantId: string, salted: boolean | undefined): T {
  const sent = (body as Record<string, unknown>).cache_salt;
  if (typeof sent === 'string' && sent) return { ...body, cache_salt: tenantCacheSalt(tenantId, sent) };
  if (salted && sent == null) return { ...body, cache_salt: tenantCacheSalt(tenantId) };
  return body;
}
