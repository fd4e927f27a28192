import type { ModelEntry } from '../../../lib/config/schema.js';
import type { ResponseCachePolicy } from '../../../lib/tenant-record.js';
import type { AuditRecord, CacheAudit } from '../audit.js';
import type { Caller } from '../auth.js';
import type { TenantPolicy } from '../policy.js';
import { CACHE_STATUS_HEADER, cacheStatusField, type CacheControl } from './cache-control.js';
import { cacheKeyOf } from './cache-key.js';
import { guardrailReference } from '../guardrail-reference.js';
import { invalid } from '../openai-errors.js';
import { AnswerTooLargeToCache, requestAuditOf, type CachedAnswer, type ResponseCache } from './cache-store.js';
import type { CacheFlights, Flight } from './single-flight.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/** What the cache did for a request: the `x-tessera-cache-status` header and the audit record's `responseCache.status`. */
export type CacheStatus = CacheAudit['status'];

/** A HIT: the answer's body (a whole answer's JSON, or a stream's events: stream-replay.ts CachedStream) and its age in seconds. */
export interface CacheHit { body: string; ageSeconds: number }

/**
 * The response cache as one request sees it (docs/gateway.md "Response cache"): made by the gateway for
 * `POST /v1/chat/completions`, `POST /v1/embeddings` and `POST /v1/responses` when the gateway has a cache and the
 * tenant's policy turns it on (`responseCache`). The endpoint calls `lookup` once the request is admitted
 * (rate-limited) and its body resolved, and `keep` with the answer it is about to send (a stream's events once it ended
 * whole: stream-replay.ts); `bypass` when the request is not cacheable (`store: true`, a Responses API create that
 * reads server state).
 * A failure of the store is logged and taken as a MISS (lookup) or as not kept (keep): the request is answered anyway.
 * With `flights` (single-flight.ts, `tessera serve`), a MISS while an identical request is already calling the model
 * waits for that request's answer and is answered with it as a HIT; the gateway calls `release` once the request ended.
 */
export class RequestCache {
  private key?: string;
  private status: CacheStatus = 'MISS';
  private ageSeconds?: number;
  /** A HIT's answer's expiry, epoch seconds (Cache-Status `ttl`). */
  private expiresAt?: number;
  /** Whether `keep` stored the answer (Cache-Status `stored`). */
  private stored = false;
  /** A follower's flight: true, answered with the leader's answer; false, the leader had none (Cache-Status `collapsed`). */
  private collapsed?: boolean;
  /** The flight this request leads (single-flight.ts), landed by `keep` or `release`. */
  private flight?: Flight;

  constructor(
    private readonly store: ResponseCache,
    private readonly settings: ResponseCachePolicy,
    private readonly control: CacheControl,
    private readonly caller: Pick<Caller, 'tenantId' | 'userId' | 'keyId'> & { tenant: { tier: string } },
    private readonly policy: Pick<TenantPolicy, 'gateway'>,
    private readonly audit: AuditRecord,
    private readonly endpointOf: (model: ModelEntry) => string | undefined = () => undefined,
    private readonly now: () => number = () => Date.now(),
    private readonly flights?: CacheFlights,
  ) {}

  /**
   * The request's cache, or undefined when the gateway keeps none or the tenant's policy has no `responseCache`.
   * @param control the request's headers read by cache-control.ts parseCacheControl
   * @param endpointOf the base URL the platform's config gives a model's provider (cache-key.ts `endpoint`) @default - none
   * @param flights the process's single flights (single-flight.ts) @default - none: identical requests at once each call the model
   * @throws GatewayError 400 `invalid_value` naming `x-tessera-cache-ttl` when it asks more than the tenant's
   *   `maxTtlSeconds` (default its `ttlSeconds`)
   */
  static of(store: ResponseCache | undefined, control: CacheControl, caller: RequestCache['caller'], policy: Pick<TenantPolicy, 'gateway'>, audit: AuditRecord, endpointOf?: (model: ModelEntry) => string | undefined, flights?: CacheFlights): RequestCache | undefined {
    const settings = policy.gateway.responseCache;
    if (!store || !settings) return undefined;
    const most = mostTtlSeconds(settings);
    if (control.ttlSeconds !== undefined && control.ttlSeconds > most) {
      throw ttlOverMost(control.ttlSeconds, most, caller.tenantId);
    }
    return new RequestCache(store, settings, control, caller, policy, audit, endpointOf, undefined, flights);
  }

  /** Not cacheable (`store: true`, a Responses API create with `previous_response_id`, …): neither read nor kept, answered `BYPASS`. */
  bypass(): void {
    this.status = 'BYPASS';
    this.audit.responseCache = { status: 'BYPASS' };
  }

  /**
   * The cached answer to this request, or undefined (a MISS, an answer older than the request's `x-tessera-cache-max-age`
   * or as old as the tenant's policy now keeps one, `maxTtlSeconds` default `ttlSeconds`, too; with `no-cache` a REFRESH, with `no-store`
   * or a tenant's Bedrock guardrail that is its working draft (no version pinned: it changes unseen) a BYPASS, neither read). A HIT's audit record has `responseCache: {status: 'HIT', ageSeconds}`, cost 0, and the prompt's hash (its text when audited), `piiRedacted` and `guardrailMasked` as the request that made the answer audited them.
   * With flights, a MISS while an identical request calls the model waits for it: its answer is this request's HIT
   * (`collapsed: true` in the record), or, when it had none to keep, a MISS (`collapsed: false`) that calls the model itself.
   * A streamed request (`stream: true`) neither leads nor waits: a follower would get nothing, not even its head, until
   * the leader's stream ended whole, while its client's read timeout ran (docs/gateway.md *Identical requests at once*).
   * @param route the request's path
   * @param model the catalog entry the request's model resolved to
   * @param body the body as the endpoint read it (keyed whole: cache-key.ts)
   * @param options.stream whether the request streams its answer @default false
   */
  async lookup(route: string, model: ModelEntry, body: unknown, options: { stream?: boolean } = {}): Promise<CacheHit | undefined> {
    // A Bedrock guardrail's working draft (no version pinned) changes whenever the guardrail is edited, and a HIT runs no
    // guardrail: an answer kept under yesterday's draft would be served past today's, to every caller with scope tenant.
    if (this.control.directive === 'no-store' || draftGuardrail(this.policy.gateway)) {
      this.bypass();
      return undefined;
    }
    const scope = this.settings.scope === 'tenant' ? 'tenant' : this.caller.keyId ? `key:${this.caller.keyId}` : `user:${this.caller.userId}`;
    this.key = cacheKeyOf({ tenantId: this.caller.tenantId, tier: this.caller.tenant.tier, scope, route, model, endpoint: this.endpointOf(model), policy: this.policy.gateway, body });
    if (this.control.directive === 'no-cache') {
      this.status = 'REFRESH';
      this.audit.responseCache = { status: 'REFRESH' };
      return undefined;
    }
    let found;
    try {
      found = await this.store.get(this.caller.tenantId, this.key);
    } catch (e) {
      logFailure('response cache read failed', this.audit, e);
    }
    const age = found ? Math.max(0, Math.floor(this.now() / 1000) - found.storedAt) : 0;
    // Older than the request's x-tessera-cache-max-age: not answered; the fresh answer replaces it. Likewise an answer
    // as old as the most the tenant's policy keeps one now (maxTtlSeconds, default ttlSeconds): kept under a longer TTL
    // before the policy lowered it, it expires as the policy now says, not as it said when the answer was kept.
    if (!found || age >= mostTtlSeconds(this.settings) || (this.control.maxAgeSeconds !== undefined && age > this.control.maxAgeSeconds)) {
      // Single flight (serve): the first MISS of a key leads (calls the model; keep or release lands its flight), a
      // MISS of the same key meanwhile follows: answered with the leader's answer, or calling the model itself. Not a
      // stream: its answer is whole only when the stream ended, and a follower's client would wait silent until then.
      const joined = options.stream ? undefined : this.flights?.join(this.caller.tenantId, this.key);
      if (!joined?.follow) {
        this.flight = joined?.leader;
        this.audit.responseCache = { status: 'MISS' };
        return undefined;
      }
      const led = await joined.follow;
      this.collapsed = led !== undefined;
      if (!led) {
        this.audit.responseCache = { status: 'MISS', collapsed: false };
        return undefined;
      }
      return this.hit(led, Math.max(0, Math.floor(this.now() / 1000) - led.storedAt));
    }
    return this.hit(found, age);
  }

  /** Answers from `found`, `age` seconds old: the HIT's status, age and audit record. */
  private hit(found: CachedAnswer, age: number): CacheHit {
    this.status = 'HIT';
    this.ageSeconds = age;
    this.expiresAt = found.expiresAt;
    // What was asked, as the MISS that made the answer audited it (the same body under the same policy): the prompt's
    // hash (and text, when the tenant audits it), the PII redacted, the texts masked; the guardrails are not run again.
    Object.assign(this.audit, requestAuditOf(found.audit));
    this.audit.responseCache = { status: 'HIT', ageSeconds: age, ...(this.collapsed ? { collapsed: true } : {}) };
    this.audit.costUsd = 0;
    return { body: found.body, ageSeconds: age };
  }

  /**
   * Keeps a MISS's or REFRESH's answer for the request's `x-tessera-cache-ttl` or the tenant's `ttlSeconds`, with its
   * audit record's prompt fields (cache-store.ts CachedRequestAudit) for the HITs' records; nothing for
   * a HIT or BYPASS, or for an answer of a fallback model (the next request may get the model asked for). Never throws:
   * an answer too large or a store failure is noted in the audit record (`responseCache.notStored`).
   * @param body the answer's JSON body, as it is answered; a stream's events (stream-replay.ts CachedStream)
   * @param notAfter when the answer stops being valid to replay, epoch seconds (a chat completion's audio
   *   `expires_at`: answer-expiry.ts): kept until then at most, and not at all when that is not after now
   *   (`notStored: expiring`) @default - the TTL alone
   */
  async keep(body: string, notAfter?: number): Promise<void> {
    if (this.key === undefined || (this.status !== 'MISS' && this.status !== 'REFRESH')) return;
    const cache = this.audit.responseCache ??= { status: this.status };
    if (this.audit.fallbackFrom !== undefined) {
      Object.assign(cache, { stored: false, notStored: 'fallback' });
      return this.release();
    }
    const storedAt = Math.floor(this.now() / 1000);
    // Whole seconds, as the responses table's TTL attribute takes them (an upstream's expiry may carry a fraction).
    const expiresAt = Math.min(storedAt + (this.control.ttlSeconds ?? this.settings.ttlSeconds), notAfter === undefined ? Infinity : Math.floor(notAfter));
    if (expiresAt <= storedAt) {
      Object.assign(cache, { stored: false, notStored: 'expiring' });
      return this.release();
    }
    const audit = requestAuditOf(this.audit);
    const answer: CachedAnswer = { body, storedAt, expiresAt, ...(audit ? { audit } : {}) };
    try {
      await this.store.put(this.caller.tenantId, this.key, answer);
      cache.stored = this.stored = true;
    } catch (e) {
      Object.assign(cache, { stored: false, notStored: e instanceof AnswerTooLargeToCache ? 'too_large' : 'store_failed' });
      if (!(e instanceof AnswerTooLargeToCache)) logFailure('response cache write failed', this.audit, e);
    }
    // The followers get the answer a HIT would have been, kept or not (too large, a failing store): it is valid to replay.
    this.flight?.land(answer);
  }

  /**
   * Ends the flight this request leads, if any, without an answer (single-flight.ts): its followers call the model
   * themselves. The gateway calls it once every request with a cache ended (a failure, a guardrail's block, a stream
   * not ended whole, a caller gone); after `keep` it does nothing.
   */
  release(): void {
    this.flight?.land(undefined);
  }

  /**
   * Whether `keep` would keep this request's answer: a MISS or REFRESH that was looked up (not a HIT, not a BYPASS). A
   * stream is recorded for the cache only then (stream-replay.ts StreamRecorder): a BYPASS's (`store: true`, the
   * Responses API's default; `no-store`) would be held in memory and serialized for nothing.
   */
  get keeping(): boolean {
    return this.key !== undefined && (this.status === 'MISS' || this.status === 'REFRESH');
  }

  /**
   * The answer's cache headers: `x-tessera-cache-status`, RFC 9211's `Cache-Status` (cache-control.ts cacheStatusField),
   * and a HIT's `Age` in seconds (RFC 9111 §5.1).
   */
  headers(): Record<string, string> {
    const ttlSeconds = this.expiresAt === undefined ? undefined : Math.max(0, this.expiresAt - Math.floor(this.now() / 1000));
    const status = cacheStatusField({ status: this.status, stored: this.stored, ...(this.collapsed !== undefined ? { collapsed: this.collapsed } : {}), ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
    return { [CACHE_STATUS_HEADER]: this.status, 'cache-status': status, ...(this.status === 'HIT' ? { age: String(this.ageSeconds ?? 0) } : {}) };
  }
}

/** Whether the tenant's Bedrock guardrail is its working draft (`bedrockGuardrailId` without a version, or `:DRAFT`). */
const draftGuardrail = (gateway: TenantPolicy['gateway']) =>
  gateway.guardrails.bedrockGuardrailId !== undefined && guardrailReference(gateway.guardrails.bedrockGuardrailId).version === 'DRAFT';

/** The longest the tenant's policy keeps an answer, seconds: its `maxTtlSeconds`, default its `ttlSeconds`. */
const mostTtlSeconds = (settings: ResponseCachePolicy) => settings.maxTtlSeconds ?? settings.ttlSeconds;

/** The 400 of an `x-tessera-cache-ttl` over what the tenant's policy allows. */
function ttlOverMost(asked: number, most: number, tenantId: string) {
  return invalid(`x-tessera-cache-ttl = ${asked}: tenant ${tenantId}'s response cache keeps an answer at most ${most} seconds (its responseCache.maxTtlSeconds); send at most ${most}`, 'x-tessera-cache-ttl', 'invalid_value');
}

const logFailure = (message: string, audit: AuditRecord, e: unknown) =>
  logger.error(message, { requestId: audit.requestId, tenantId: audit.tenantId, error: (e as Error)?.message ?? String(e) });
