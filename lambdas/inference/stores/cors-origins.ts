import type { TenantRecord } from '../../../lib/tenant-record.js';
import { canonicalOrigin } from '../cors.js';

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
 * `inner` with its answers kept for `ttlMs` (positive and negative; a failed lookup is not kept),
 * one lookup in flight per origin, at most `maxEntries` origins (the oldest go first: a caller can
 * send any `Origin` it likes, so the cache must not grow without bound).
 */
export class CachedCorsOrigins implements CorsOrigins {
  private readonly entries = new Map<string, { answer: Promise<boolean>; until: number }>();

  /**
   * @param ttlMs how long an answer is reused @default 60 000 ms
   * @param maxEntries origins kept @default 1000
   * @param now the clock (tests) @default Date.now
   */
  constructor(private readonly inner: CorsOrigins, private readonly ttlMs = 60_000, private readonly maxEntries = 1000, private readonly now: () => number = Date.now) {}

  allows(origin: string): Promise<boolean> {
    const hit = this.entries.get(origin);
    if (hit && hit.until > this.now()) return hit.answer;
    this.entries.delete(origin);
    const answer = this.inner.allows(origin);
    this.entries.set(origin, { answer, until: this.now() + this.ttlMs });
    answer.catch(() => { if (this.entries.get(origin)?.answer === answer) this.entries.delete(origin); });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return answer;
  }
}
