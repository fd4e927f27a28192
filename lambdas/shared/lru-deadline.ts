import { LRUCache } from 'lru-cache';

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
 * it (a key that expires at X is refused at X), to the clock's last bit, fractional clocks
 * included. lru-cache counts an entry fresh while its age is at most `ttl` (stale only when
 * `now - start > ttl`), so `ttl` is the double just below `deadline - start`: for doubles,
 * `a > nextDown(b)` exactly when `a >= b`, and both differences are exact for clocks of one
 * magnitude (Sterbenz). `start` is one millisecond before the store, never 0 (lru-cache reads a
 * `start` of 0 as "no TTL"). A deadline that is not in the future, or not a number (NaN: a
 * malformed STS `Expiration` or record), gives an entry that is stale at once, whatever the clock
 * does next (`start` -Infinity; dropped when next read): lru-cache reads a `ttl` of 0, or of NaN,
 * as "never stale". An infinite deadline is never stale.
 * @param deadline epoch ms from which the entry is not served
 * @param now epoch ms now, by the cache's clock
 */
export function staleFrom(deadline: number, now: number): Required<Pick<LRUCache.SetOptions<unknown, unknown, unknown>, 'ttl' | 'start'>> {
  if (!(deadline > now)) return { ttl: 1, start: Number.NEGATIVE_INFINITY };
  const start = now - 1 === 0 ? -1 : now - 1;
  return { ttl: nextDown(deadline - start), start };
}

/** The largest double below `x` (a positive number; Infinity stays Infinity: never stale). */
function nextDown(x: number): number {
  if (x === Number.POSITIVE_INFINITY) return x;
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] -= 1n; // a positive double's bit pattern, less one, is the next double down
  return new Float64Array(bits.buffer)[0];
}

/** What answerCache needs: the read to cache, and how long and how many of its answers to keep. */
export interface AnswerCacheOptions<V extends {}> {
  /** The read whose answers are kept; a rejection is not kept. */
  readonly read: (key: string) => Promise<V>;
  /** Milliseconds an answer is reused, from the read's end. */
  readonly ttlMs: number;
  /** Most answers kept, a positive integer (reads in flight included). */
  readonly max: number;
  /** The clock, epoch milliseconds. */
  readonly now: () => number;
  /** The option that gave `max`, for lruOptions' RangeError. @default 'max' */
  readonly maxName?: string;
}

/** A read's answers by key (answerCache). */
export interface AnswerCache<V> {
  /** The kept answer, or the read's (then kept). @throws what the read throws (not kept) */
  fetch(key: string): Promise<V>;
  /** Entries now: answers, reads in flight, and stale answers not yet read or evicted. */
  readonly size: number;
}

/**
 * A cache of a read's answers by key: `fetch(key)` answers from the cache while the answer is
 * younger than `ttlMs`, else reads (then keeps the answer, stale from `ttlMs` after the read ended:
 * staleFrom). Concurrent first asks of one key share one read (LRUCache.fetch); a rejected read is
 * not kept (its rejection removes the entry and reaches every caller that shares it). A read in
 * flight holds one of the `max` places; evicted before it ends, it still answers its callers
 * (`ignoreFetchAbort`), uncached. Used by the gateway's tenant-existence and CORS-origin caches.
 * @throws RangeError when `max` is not a positive integer (naming `maxName`)
 */
export function answerCache<V extends {}>(options: AnswerCacheOptions<V>): AnswerCache<V> {
  const cache = new LRUCache<string, V>({
    ...lruOptions(options.max, options.now, options.maxName),
    ignoreFetchAbort: true,
    fetchMethod: async (key, _stale, { options: stored }) => {
      const answer = await options.read(key);
      const at = options.now();
      // FetcherFetchOptions are the set options of the answer ("any of these may be modified"); `start` is one of SetOptions.
      Object.assign(stored as LRUCache.SetOptions<string, V, unknown>, staleFrom(at + options.ttlMs, at));
      return answer;
    },
  });
  return {
    // Never undefined: `read` returns a value, and an eviction in flight is ignored (ignoreFetchAbort).
    fetch: (key) => cache.fetch(key) as Promise<V>,
    get size() {
      return cache.size;
    },
  };
}
