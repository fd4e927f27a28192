import { answerCache, type AnswerCache } from '../shared/lru-deadline.js';
import type { TenantExistence } from './stores/tenant-existence.js';

/**
 * How long an answer of the registry existence check is reused, positive or negative. A tenant
 * registered after a negative answer is found at most this long later; its record is written at
 * its onboarding request, minutes before it is ACTIVE and can have keys, so in practice never.
 */
export const TENANT_EXISTENCE_CACHE_MS = 30_000;
/** Most answers remembered at once; the least recently used is forgotten first (random prefixes cannot grow memory). */
export const TENANT_EXISTENCE_ENTRIES = 10_000;

export interface CachedTenantExistenceOptions {
  /** Milliseconds an answer is reused. @default 30000 (TENANT_EXISTENCE_CACHE_MS) */
  readonly cacheMs?: number;
  /** Most answers kept (a positive integer; RangeError otherwise). @default 10000 (TENANT_EXISTENCE_ENTRIES) */
  readonly maxEntries?: number;
  /** The clock, in epoch milliseconds (tests). @default Date.now */
  readonly now?: () => number;
}

/**
 * A TenantExistence whose answers (found and not found) are kept `cacheMs` (from the read's end)
 * in an lru-cache LRUCache of at most `maxEntries`, the least recently used forgotten first.
 * Concurrent first asks of one tenant share one read (LRUCache.fetch); a failed read is not kept:
 * the fetch's rejection removes its entry and reaches every caller that shares it, and the next
 * ask reads again. A read in flight holds one of the `maxEntries` places; evicted before it ends,
 * it still answers its callers (`ignoreFetchAbort`), uncached.
 */
export class CachedTenantExistence implements TenantExistence {
  private readonly answers: AnswerCache<boolean>;

  constructor(inner: TenantExistence, options: CachedTenantExistenceOptions = {}) {
    this.answers = answerCache({
      read: (tenantId) => inner.exists(tenantId),
      ttlMs: options.cacheMs ?? TENANT_EXISTENCE_CACHE_MS,
      max: options.maxEntries ?? TENANT_EXISTENCE_ENTRIES,
      maxName: 'maxEntries',
      now: options.now ?? Date.now,
    });
  }

  /**
   * The cached answer while it is younger than `cacheMs`, else the inner store's (then cached).
   * @throws what the inner store's read throws (not cached)
   */
  exists(tenantId: string): Promise<boolean> {
    return this.answers.fetch(tenantId);
  }

  /** Answers kept now, reads in flight and expired answers not yet read or evicted included (tests: the bound holds). */
  get size(): number {
    return this.answers.size;
  }
}
