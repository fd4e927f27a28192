import type { TenantRecord } from '../../../lib/tenant-record.js';
import { canonicalOrigin } from '../cors.js';
import { answerCache, type AnswerCache } from '../../shared/lru-deadline.js';

/**
 * The origin index: "does some tenant allow this browser origin?". A CORS preflight carries no
 * credentials, so it is answered before the tenant is known, from this index; the actual request
 * that follows gets `Access-Control-Allow-Origin` only if its own tenant allows the origin.
 * Origins are passed in ASCII serialization (cors.ts `canonicalOrigin`).
 */
export interface CorsOrigins {
  /**
   * @param origin scheme://host[:port], lower case, no default port
   * @throws when the index cannot be read (the preflight then answers 503)
   */
  allows(origin: string): Promise<boolean>;
}

/** No origin is allowed: browsers cannot call the gateway (the default). */
export const NO_ORIGINS: CorsOrigins = { allows: async () => false };

/**
 * The index of `tessera serve`'s embedded registry: every origin in the tenants'
 * `gateway.allowedOrigins`, tenants that are OFFBOARDED excepted (as the platform's index, which
 * the registry stream maintains, drops them). The tenants are read when this is made (serve's
 * tenants are fixed at start).
 */
export function tenantOrigins(tenants: Iterable<TenantRecord>): CorsOrigins {
  const origins = new Set<string>();
  for (const t of tenants) {
    if (t.status === 'OFFBOARDED') continue;
    for (const o of t.gateway?.allowedOrigins ?? []) {
      const c = canonicalOrigin(o);
      if (c) origins.add(c);
    }
  }
  return { allows: async (origin) => origins.has(origin) };
}

/**
 * `inner` with its answers kept for `ttlMs` from the lookup's end (positive and negative) in an
 * lru-cache LRUCache of at most `maxEntries` origins, the least recently used forgotten first (a
 * caller can send any `Origin` it likes, so the cache must not grow without bound). Concurrent
 * first asks of one origin share one lookup (LRUCache.fetch); a failed lookup is not kept: its
 * rejection removes the entry and reaches every caller that shares it, and the next ask looks
 * again. A lookup in flight holds one of the places; evicted before it ends, it still answers its
 * callers (`ignoreFetchAbort`), uncached.
 */
export class CachedCorsOrigins implements CorsOrigins {
  private readonly answers: AnswerCache<boolean>;

  /**
   * @param ttlMs how long an answer is reused @default 60 000 ms
   * @param maxEntries origins kept, a positive integer (RangeError otherwise) @default 1000
   * @param now the clock, epoch milliseconds (tests) @default Date.now
   */
  constructor(inner: CorsOrigins, ttlMs = 60_000, maxEntries = 1000, now: () => number = Date.now) {
    this.answers = answerCache({ read: (origin) => inner.allows(origin), ttlMs, max: maxEntries, maxName: 'maxEntries', now });
  }

  /**
   * The cached answer while it is younger than `ttlMs`, else the inner index's (then cached).
   * @throws what the inner index's lookup throws (not cached)
   */
  allows(origin: string): Promise<boolean> {
    return this.answers.fetch(origin);
  }
}
