import type { ModelEntry } from '../../lib/config/schema.js';
import { entryLogger, serviceLogger, type LogEntry } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * How a model that keeps failing is rested (`gateway.cooldown`): after `failures` requests whose attempts at
 * the model all failed in a way that says the upstream is unhealthy, within `windowMs`, the model cools for
 * `coolMs` (LiteLLM Router's `allowed_fails` / `cooldown_time`, Portkey's circuit breaker).
 */
export interface CooldownPolicy {
  /** Failing requests within the window that start a cooldown. @default 3 */
  failures: number;
  /** The window they are counted in, ms. @default 60_000 */
  windowMs: number;
  /** How long the model cools, ms (longer when the upstream's 429 asked for longer, up to MAX_RETRY_AFTER_COOL_MS). @default 30_000 */
  coolMs: number;
}

/**
 * The cooldown policy of `gateway.cooldown` (seconds in the config): absent (`false`, or `null` removing the
 * embedded default's `{ failures: 3, windowSeconds: 60, seconds: 30 }`) is off (undefined).
 */
export function cooldownPolicyOf(cooldown: { failures: number; windowSeconds: number; seconds: number } | undefined): CooldownPolicy | undefined {
  if (!cooldown) return undefined;
  return { failures: cooldown.failures, windowMs: cooldown.windowSeconds * 1000, coolMs: cooldown.seconds * 1000 };
}

/** Why a model is cooling, as the audit record and the log line say it. */
export interface Cooling {
  /** The health record's key: the catalog id, with `#tenant:<id>` when the tenant's own provider key calls it. */
  key: string;
  /** Epoch ms the cooldown ends (then one request probes the model). */
  until: number;
  /** Why it cools: `3 failing requests within 60 s`, or `a failed probe` (it failed again while cooling). */
  cause: string;
  /** The last failure, classified (`timeout`, `unreachable`, `upstream 503`, `upstream 429`): never the upstream's own words. */
  last: string;
}

/** What `admit` decided for one model of a request's chain. */
export type Admission =
  | { skip: Cooling }
  /** Try it; `probe`: this request holds the one half-open probe (report its outcome, or `release`). */
  | { skip?: undefined; probe: boolean };

interface State {
  /** Epoch ms of the counted failures inside the window (closed state). */
  failures: number[];
  /** Set while open or half-open: epoch ms the cooldown ends. */
  until?: number;
  cause?: string;
  last?: string;
  /** The latest end of a long `Retry-After` among the counted failures (a 429 asking for more than the cooldown). */
  retryUntil?: number;
  /** A half-open probe is in flight. */
  probing: boolean;
}

/**
 * The longest an upstream's `Retry-After` lengthens a cooldown, ms: 5 minutes, or the policy's own `coolMs` when longer
 * (gateway.cooldown.seconds, at most 3600). An upstream's 429 is trusted to say "not before", not to take a deployment out
 * of every chain for as long as it likes: `Retry-After: 86400` (a day's quota, or a misbehaving relay) cooled the
 * deployment for a day, and `retry-after-ms: 1e16` set a cooldown end past the largest Date, whose log line (and every
 * later skip's audit note) threw RangeError: requests were answered 500 instead of by the chain's next place. After this
 * much, one request probes (half-open): a deployment that is still limited answers its quick 429 and cools again.
 */
export const MAX_RETRY_AFTER_COOL_MS = 300_000;

/** Health records kept at most (least recently touched dropped first): tenants' own keys multiply the keys. */
const MAX_RECORDS = 10_000;

/**
 * Per-process health records of catalog models (one per Lambda execution environment, one per `tessera
 * serve` worker): memory only, so a cooling model costs the hot path no DynamoDB call, and each environment
 * learns on its own (a new environment tries a failing model `failures` times before it skips it).
 *
 * States: closed (counting failures in the window) → open (cooling until `until`: a request with another
 * model left in its chain skips it) → half-open after `until` (the first request probes it; others with
 * another model skip it meanwhile) → a success closes it, an unhealthy failure re-opens it. A model that is
 * the last of a request's chain is always tried, cooling or not: a cooldown never refuses a request.
 */
export class ModelHealth {
  private readonly states = new Map<string, State>();

  constructor(
    readonly policy: CooldownPolicy,
    private readonly now: () => number = Date.now,
    /** Where the start and end of a cooldown are logged (one line each). @default the gateway's Powertools logger (shared/service-logger.ts) */
    private readonly log: (entry: LogEntry) => void = entryLogger(logger),
  ) {}

  /**
   * The health record's key of a model: the catalog id, alone when the platform's credentials call it, with the
   * tenant when the tenant's own provider key does (that key's throttle or failure is the tenant's, not everyone's).
   * A model spread over deployments (`gateway.models[].deployments`) has one record per deployment
   * (`<id>#deployment:<name>`): one organisation's rate limit or one region's outage cools that deployment only.
   * @param ownKeyTenant the tenant whose own provider key calls the model; undefined for the platform's credentials
   * @param deployment the deployment's name; undefined for a model called without deployments
   */
  static keyOf(model: ModelEntry, ownKeyTenant: string | undefined, deployment?: string): string {
    const id = deployment === undefined ? model.id : `${model.id}#deployment:${deployment}`;
    return ownKeyTenant === undefined ? id : `${id}#tenant:${ownKeyTenant}`;
  }

  /**
   * Whether a request tries the model now.
   * @param canSkip the request has another model after this one in its chain (the last one is always tried)
   */
  admit(key: string, canSkip: boolean): Admission {
    const s = this.states.get(key);
    if (s?.until === undefined) return { probe: false };
    const cooling = { key, until: s.until, cause: s.cause ?? 'failing requests', last: s.last ?? 'unknown' };
    if (this.now() < s.until || s.probing) return canSkip ? { skip: cooling } : { probe: false };
    s.probing = true;
    return { probe: true };
  }

  /** The model answered: a cooling (or half-open) model closes, the failure count starts again. */
  succeeded(key: string): void {
    const s = this.states.get(key);
    if (!s) return;
    this.states.delete(key);
    if (s.until !== undefined) this.log({ level: 'INFO', message: 'model stopped cooling: it answered again', modelHealthKey: key });
  }

  /**
   * A request's attempts at the model ended in an unhealthy failure (upstream-calls.ts `unhealthy`): counted; at the
   * threshold within the window (or for a failed probe) the model cools for the policy's time, or until the end of the
   * longest `Retry-After` a counted 429 asked for (`retryAfterMs`, from this failure's time) when that is later, a
   * `Retry-After` counting for at most MAX_RETRY_AFTER_COOL_MS (or the policy's `coolMs` when longer).
   * @param last the failure's kind (`timeout`, `unreachable`, `upstream 503`): logged and audited, never upstream text
   */
  failed(key: string, last: string, retryAfterMs?: number): void {
    const now = this.now();
    let s = this.states.get(key);
    if (s) this.states.delete(key); // re-inserted: the map's order is least recently touched first
    s ??= { failures: [], probing: false };
    this.states.set(key, s);
    if (this.states.size > MAX_RECORDS) this.states.delete(this.states.keys().next().value!);
    s.last = last;
    const longest = Math.max(this.policy.coolMs, MAX_RETRY_AFTER_COOL_MS);
    if (retryAfterMs !== undefined && retryAfterMs >= 0) s.retryUntil = Math.max(s.retryUntil ?? 0, now + Math.min(retryAfterMs, longest));
    const until = Math.max(now + this.policy.coolMs, s.retryUntil ?? 0);
    if (s.until !== undefined) {
      s.probing = false;
      s.until = Math.max(s.until, until);
      s.cause = 'a failed probe';
      this.log({ level: 'WARN', message: 'model cooling again: it failed while cooling', modelHealthKey: key, until: new Date(s.until).toISOString(), last });
      return;
    }
    const windowStart = now - this.policy.windowMs;
    s.failures = s.failures.filter((t) => t > windowStart);
    s.failures.push(now);
    if (s.failures.length < this.policy.failures) return;
    s.until = until;
    s.cause = `${s.failures.length} failing requests within ${this.policy.windowMs / 1000} s`;
    s.failures = [];
    this.log({ level: 'WARN', message: 'model cooling down: requests skip it while another model of their chain is left', modelHealthKey: key, cause: s.cause, until: new Date(s.until).toISOString(), last });
  }

  /** A probe ended without saying anything about the model (the caller left, the deadline came, the caller's 400): the next request probes. */
  release(key: string): void {
    const s = this.states.get(key);
    if (s) s.probing = false;
  }
}
