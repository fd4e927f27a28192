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
  /** Most answers kept. @default 10000 (TENANT_EXISTENCE_ENTRIES) */
  readonly maxEntries?: number;
  /** The clock, in epoch milliseconds (tests). @default Date.now */
  readonly now?: () => number;
}

/**
 * A TenantExistence whose answers (found and not found) are kept `cacheMs` in a bounded LRU;
 * concurrent first asks of one tenant share one read; a failed read is not kept (the next request
 * asks again). A Map in insertion order is the LRU (as auth.ts's verdict cache): a dependency for
 * a dozen lines would buy nothing.
 */
export class CachedTenantExistence implements TenantExistence {
  private readonly answers = new Map<string, { exists: boolean; until: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly cacheMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly inner: TenantExistence, options: CachedTenantExistenceOptions = {}) {
    this.cacheMs = options.cacheMs ?? TENANT_EXISTENCE_CACHE_MS;
    this.maxEntries = options.maxEntries ?? TENANT_EXISTENCE_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  /** The cached answer while it is younger than `cacheMs`, else the inner store's (then cached). */
  async exists(tenantId: string): Promise<boolean> {
    const hit = this.answers.get(tenantId);
    if (hit && hit.until > this.now()) {
      this.answers.delete(tenantId);
      this.answers.set(tenantId, hit);
      return hit.exists;
    }
    let pending = this.pending.get(tenantId);
    if (!pending) {
      pending = this.inner.exists(tenantId).then((exists) => {
        this.answers.delete(tenantId);
        this.answers.set(tenantId, { exists, until: this.now() + this.cacheMs });
        while (this.answers.size > this.maxEntries) this.answers.delete(this.answers.keys().next().value!);
        return exists;
      }).finally(() => this.pending.delete(tenantId));
      this.pending.set(tenantId, pending);
    }
    return await pending;
  }

  /** Answers kept now (tests: the bound holds). */
  get size(): number {
    return this.answers.size;
  }
}
