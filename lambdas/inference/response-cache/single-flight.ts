import type { CachedAnswer } from './cache-store.js';

/** A leader's hold on one cache key: `land` hands its answer (or none) to the requests that waited on it, once. */
export interface Flight {
  /**
   * Ends the flight: every follower gets `answer` (undefined: the leader has none to give, a failure, a guardrail's
   * block, an answer of a fallback model; each follower then calls the model itself). Only the
   * first call counts; the key is free for a new leader from then on.
   */
  land(answer: CachedAnswer | undefined): void;
}

/** What joining a key gave: the leader's Flight (call the model, then land), or a follower's wait for the leader's answer. */
export type Joined = { leader: Flight; follow?: never } | { follow: Promise<CachedAnswer | undefined>; leader?: never };

/**
 * Single flight per cache key, in this process (docs/gateway.md "Response cache", *Identical requests at once*): of
 * the identical requests that miss the cache at the same time, the first (the leader) calls the model; the others
 * (followers) wait for its answer and are answered with it as a HIT is, without an upstream call, a reservation or a
 * cost. A leader that ends without an answer to keep lands none, and its followers call the model themselves (no new
 * leader among them: a model that fails for one would otherwise be asked again by each in turn). For `tessera serve`,
 * whose one process answers many requests at once; a Lambda execution environment answers one request at a time, so the
 * Lambda gateway has none (its identical requests land in other environments). Streamed requests never join
 * (request-cache.ts lookup): a follower would send nothing until the leader's stream ended whole.
 */
export class CacheFlights {
  private readonly flying = new Map<string, Promise<CachedAnswer | undefined>>();
  private waitingNow = 0;

  /**
   * Joins the flight of `key` for `tenantId`: the leader when none flies (it must `land` once, whatever happens), else
   * a follower.
   * @param key the request's cache key (cache-key.ts: SHA-256 hex)
   */
  join(tenantId: string, key: string): Joined {
    const id = JSON.stringify([tenantId, key]);
    const flying = this.flying.get(id);
    if (flying) {
      this.waitingNow++;
      return { follow: flying.finally(() => void this.waitingNow--) };
    }
    let resolve!: (a: CachedAnswer | undefined) => void;
    this.flying.set(id, new Promise<CachedAnswer | undefined>((r) => (resolve = r)));
    let landed = false;
    return {
      leader: {
        land: (a) => {
          if (landed) return;
          landed = true;
          this.flying.delete(id);
          resolve(a);
        },
      },
    };
  }

  /** The followers waiting now, over every key (what `tessera serve`'s tests wait for before the leader's answer comes). */
  get waiting(): number {
    return this.waitingNow;
  }
}
