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

  it('is exact on a fractional clock: served until just before its deadline (the 1 ms early start went stale up to 1 ms early)', () => {
    let clock = T0 + 0.5;
    const cache = new LRUCache<string, string>(lruOptions(2, () => clock));
    cache.set('k', 'v', staleFrom(T0 + 100.25, clock));
    for (const t of [T0 + 99.5, T0 + 100, T0 + 100.25 - 2 ** -12]) {
      clock = t;
      expect(cache.get('k'), `at T0 + ${t - T0}`).toBe('v');
    }
    clock = T0 + 100.25;
    expect(cache.get('k')).toBeUndefined();
  });

  it('never serves an entry whose deadline is not a number (NaN: a malformed STS Expiration or record), even with the clock going back', () => {
    let clock = T0;
    const cache = new LRUCache<string, string>(lruOptions(2, () => clock));
    cache.set('k', 'v', staleFrom(Number.NaN, clock));
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', 'v', staleFrom(T0 - 1, clock));
    clock = T0 - 10_000; // an NTP step back
    expect(cache.get('k')).toBeUndefined();
  });

  it('keeps an entry of an infinite deadline, and goes stale on a clock that starts at 1 ms (a start of 0 is lru-cache\'s "no TTL")', () => {
    let clock = T0;
    const cache = new LRUCache<string, string>(lruOptions(2, () => clock));
    cache.set('forever', 'v', staleFrom(Number.POSITIVE_INFINITY, clock));
    clock = T0 + 1e12;
    expect(cache.get('forever')).toBe('v');
    clock = 1;
    cache.set('k', 'v', staleFrom(31, clock));
    clock = 30;
    expect(cache.get('k')).toBe('v');
    clock = 31;
    expect(cache.get('k')).toBeUndefined();
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
