import type { LRUCache } from 'lru-cache';

/**
 * Constructor options the gateway's caches share (lru-cache, isaacs): at most `max` entries, the
 * least recently used forgotten first; every entry's TTL set where it is stored (staleFrom), read
 * against `now` on every check (`ttlResolution` 0: no timer-held clock, so a test's clock is read
 * as it is); no purge timers (`ttlAutopurge` off: a stale entry is dropped when it is next read,
 * or evicted). `now` is the cache's clock (`perf`): epoch milliseconds, as the deadlines are (a
 * key's `expiresAt`, a token's `exp`, STS `Expiration`).
 * @param max most entries kept; a positive integer
 * @param now epoch milliseconds (Date.now, or a test's clock)
 * @param name the option that gave `max`, for the error @default 'max'
 * @throws RangeError when `max` is not a positive integer (lru-cache would refuse it without naming the option)
 */
export function lruOptions(max: number, now: () => number, name = 'max') {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`${name} must be a positive integer, got ${max}`);
  return { max, perf: { now }, ttlResolution: 0, ttlAutopurge: false } as const;
}

/**
 * lru-cache set options (`ttl` and `start`, milliseconds) under which an entry is stale from the
 * epoch-millisecond `deadline` on: fresh while `now() < deadline`, as the hand-written caches had
 * it (a key that expires at X is refused at X). lru-cache counts an entry fresh while its age is at
 * most `ttl` (stale only when `now - start > ttl`), so `start` is one millisecond before the store
 * (integer clocks, as Date.now's; a fractional clock goes stale up to 1 ms early, never late). A
 * deadline already reached still gets `ttl` 1 (stale at once, dropped when next read): lru-cache
 * reads a `ttl` of 0 as "never stale" (and a `start` of 0 as "no TTL": clocks are epoch ms, far from 0).
 * @param deadline epoch ms from which the entry is not served
 * @param now epoch ms now, by the cache's clock
 */
export function staleFrom(deadline: number, now: number): Required<Pick<LRUCache.SetOptions<unknown, unknown, unknown>, 'ttl' | 'start'>> {
  const ttl = Math.max(deadline - now, 1);
  return { ttl, start: deadline - ttl - 1 };
}
