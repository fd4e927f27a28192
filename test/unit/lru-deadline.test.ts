import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { lruOptions, staleFrom } from '../../lambdas/shared/lru-deadline.js';

const T0 = Date.parse('2026-12-03T12:00:00Z');

/** A cache as the gateway's are built (max 2, the test's clock), its entry `k` stored at T0 until `deadline`. */
function cacheWith(deadline: number) {
  let clock = T0;
  const cache = new LRUCache<string, string>(lruOptions(2, () => clock));
  cache.set('k', 'v', staleFrom(deadline, clock));
  return { cache, at: (t: number) => { clock = t; return cache.get('k'); } };
}

describe('lru-cache entries stale from a deadline (lambdas/shared/lru-deadline.ts)', () => {
  it('serves an entry until the millisecond before its deadline, not at it (lru-cache alone keeps it while age <= ttl)', () => {
    const { at } = cacheWith(T0 + 30_000);
    expect(at(T0 + 29_999)).toBe('v');
    expect(at(T0 + 30_000)).toBeUndefined();
  });

  it('reads the clock on every check: a test clock moved within the same real millisecond is seen', () => {
    const { at } = cacheWith(T0 + 1);
    expect(at(T0)).toBe('v');
    expect(at(T0 + 1)).toBeUndefined(); // ttlResolution 1 (lru-cache's default) would answer with the clock it read just before
  });

  it('never serves an entry whose deadline has passed when it is stored (a ttl of 0 would mean "never stale")', () => {
    expect(staleFrom(T0, T0).ttl).toBeGreaterThan(0);
    expect(cacheWith(T0).at(T0)).toBeUndefined();
    expect(cacheWith(T0 - 5_000).at(T0)).toBeUndefined();
  });

  it('forgets the least recently used entry first', () => {
    const cache = new LRUCache<string, number>(lruOptions(2, () => T0));
    cache.set('a', 1, staleFrom(T0 + 1_000, T0));
    cache.set('b', 2, staleFrom(T0 + 1_000, T0));
    cache.get('a');
    cache.set('c', 3, staleFrom(T0 + 1_000, T0));
    expect([...cache.keys()]).toEqual(['c', 'a']);
  });

  it('refuses a bound that is not a positive integer, naming the option', () => {
    for (const max of [0, -3, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => lruOptions(max, Date.now, 'maxSessions')).toThrow(new RangeError(`maxSessions must be a positive integer, got ${max}`));
    expect(lruOptions(1, Date.now)).toMatchObject({ max: 1, ttlResolution: 0, ttlAutopurge: false });
  });
});
