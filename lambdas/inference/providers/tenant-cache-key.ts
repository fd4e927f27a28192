import { createHash } from 'node:crypto';

/** What a tenant's `prompt_cache_key` becomes upstream: this prefix, then 43 base64url characters (47 in all). */
const PREFIX = 'tpk_';

/**
 * The `prompt_cache_key` an upstream the tenants share gets for a caller's key (OpenAI's `prompt_cache_key`: "used by
 * OpenAI to cache responses for similar requests", the routing key of its prompt cache): `tpk_` and the first 43
 * base64url characters of SHA-256 over the tenant id, a NUL and the key. The same key of one tenant is the same key
 * upstream (its cache hits stay as they were); the same key of two tenants is two keys, so a tenant cannot route its
 * requests onto another tenant's cache entries by sending that tenant's key, nor learn from `cached_tokens` which
 * prompts another tenant sent under it. 47 characters, within OpenAI's limit of 64 ("string too long. Expected a
 * string with maximum length 64"), whatever the caller's key; the key's text never reaches the upstream.
 * @param tenantId the caller's tenant (never a field of the request)
 * @param key the caller's `prompt_cache_key` as sent (any length; the gateway keeps the caller's own on a Response)
 * @returns `tpk_` + 43 characters of [A-Za-z0-9_-]
 */
export function tenantPromptCacheKey(tenantId: string, key: string): string {
  return PREFIX + createHash('sha256').update(tenantId).update('\u0000').update(key).digest('base64url').slice(0, 43);
}
