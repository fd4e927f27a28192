import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { parseApiKey, looksLikeApiKey } from '../../lib/identity/api-key.js';
import type { ApiKeyRecord } from '../../lib/identity/api-key-record.js';
import { ROLES, roleOfClaims, type Role } from '../../lib/identity/roles.js';
import { isTenantId, notServedMessage, SERVING_STATUSES, type TenantRecord } from '../../lib/tenant-record.js';
import { keyUsable } from '../identity/api-keys.js';
import type { UserTokenRevocations } from '../identity/stores/user-token-revocations.js';
import type { ApiKeyStore } from '../identity/stores/api-key-store.js';
import { forbidden, GatewayError, unauthorized, wellFormedPrefix } from './openai-errors.js';
import { incorrectApiKey } from './incorrect-api-key.js';
import { noApiKey } from './no-api-key.js';
import type { GatewayStore } from './stores/gateway-store.js';
import type { TenantExistence } from './stores/tenant-existence.js';
import { errorCause } from '../shared/error-cause.js';
import { PendingWork } from '../shared/pending-work.js';
import { lruOptions, staleFrom } from '../shared/lru-deadline.js';
import { KEY_SET_RETRY_MS } from './key-set-retry.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');


/** Where a tenant's identity comes from: only these verified claims, never the request body. */
export const TENANT_CLAIM = 'tessera:tenant-id';
export const ROLE_CLAIM = 'tessera:role';

/**
 * Who is calling, from verified claims or the key's record only. A key caller's `userId` is its
 * key id (`key_…`), so every audit record names the user or the key.
 */
export interface Caller {
  tenantId: string;
  userId: string;
  role: Role;
  tenant: TenantRecord;
  /** Set when the caller authenticated with a tenant API key (`tsk_…`): its id and record. */
  keyId?: string;
  key?: ApiKeyRecord;
}

export interface JwtSettings {
  issuer: string;
  audience: string;
  /** A remote JWKS URL, or a JWKS object (local dev keys). */
  jwks: string | { keys: unknown[] };
  /**
   * Said after the 401 `invalid_token` of a token that no key of `jwks` matches (its `kid` and
   * `alg`), or whose signature its kid's key does not verify: where the tokens this gateway accepts come from (e.g. `tessera serve`'s dev key and its state directory).
   * @default - none: the message says only that the key is not in the gateway's key set
   */
  keyHint?: string;
}

/**
 * How long an authorizer process trusts what it has read. In AWS the API Gateway authorizer cache
 * sits in front of the authorizer Lambda (constructs/inference-api.ts authorizerCacheTtlSeconds
 * gives it the rest of the 60 s window: 30 s), and the router Lambda checks again with its own
 * cache, so a revoked key, a disabled user or a suspended tenant is refused within 60 s, the
 * documented window (docs/identity.md "API keys"), while API Gateway answers most requests from its cache.
 */
export const AUTH_CACHE_MS = 30_000;
/** Most tokens and keys remembered at once; the least recently used is forgotten first (random keys cannot grow memory). */
export const AUTH_CACHE_ENTRIES = 10_000;
export { KEY_SET_RETRY_MS };

export interface AuthorizerOptions {
  /** Tenant API keys (`tsk_…`), read once per cache miss by hash. @default - none: a `tsk_` bearer is 401 `api_keys_not_enabled` */
  keys?: ApiKeyStore;
  /** Milliseconds a verdict (accepted or refused) is reused, never past a token's or key's expiry. @default 30000 (AUTH_CACHE_MS) */
  cacheMs?: number;
  /** Most verdicts cached (a positive integer; RangeError otherwise). @default 10000 (AUTH_CACHE_ENTRIES) */
  maxEntries?: number;
  /** The clock, in epoch milliseconds (tests). @default Date.now */
  now?: () => number;
  /**
   * Users' token revocations (disable, remove, role change), read once per cache miss of a JWT:
   * a token issued (`iat`) in a second before the revocation is 401 `token_revoked`.
   * @default - none: a JWT counts until it expires
   */
  userRevocations?: UserTokenRevocations;
  /**
   * Asked before a key is read as its prefix's tenant: a prefix no registered tenant has is 401
   * `invalid_api_key` (the same answer as a wrong key of a known tenant) without a tenant-scoped
   * read, so without an STS AssumeRole (lambdas/shared/tenant-credentials.ts). The authorizer
   * Lambda passes the registry's, cached (tenant-existence-cache.ts).
   * @default - none: the key is read as its prefix's tenant whatever the prefix (local stores, no STS)
   */
  tenants?: TenantExistence;
  /**
   * Said after the 403 `unknown_tenant` of a verified token or key whose tenant this gateway's
   * registry lacks: where this gateway's tenants come from (`tessera serve`: its --tenant and
   * --tenants-file, whose tokens and keys are minted by commands that cannot know them).
   * @default - none: the message says only that the tenant is not registered
   */
  unknownTenantHint?: (tenantId: string) => string;
}

/** A cached verdict: the caller (its tenant re-read on every use) or the refusal; its deadline is the entry's TTL. */
type Verdict = { caller: Caller } | { refusal: GatewayError };

/** What the authorizer answers for every key that names no key record: never whether the tenant exists. */
const noSuchKey = () => unauthorized('invalid API key: no such key (check that you copied the whole tsk_… key; keys are shown once, at creation)', 'invalid_api_key');
const KEY_SHAPE = 'tsk_<tenant id>_<43 letters and digits>';


/** The 403 `unknown_tenant` of a verified credential whose tenant the registry lacks, with `hint` (where the gateway's tenants come from) when given. */
const unknownTenant = (tenantId: string, hint?: (tenantId: string) => string) =>
  forbidden(`tenant "${tenantId}" is not registered${hint ? `: ${hint(tenantId)}` : ''}`, 'unknown_tenant');

/**
 * The tenant, when the gateway serves it.
 * @param hint said after the 403 `unknown_tenant` (AuthorizerOptions.unknownTenantHint) @default - none
 * @throws GatewayError 403 `unknown_tenant` (no record) / `tenant_not_active` (suspended, offboarding, ...)
 */
function servedStatus(tenant: TenantRecord | undefined, tenantId = tenant?.tenantId ?? '', hint?: (tenantId: string) => string): TenantRecord {
  if (!tenant) throw unknownTenant(tenantId, hint);
  if (!SERVING_STATUSES.includes(tenant.status)) throw forbidden(notServedMessage(tenantId, tenant.status), 'tenant_not_active');
  return tenant;
}

/**
 * Authenticates a request's `Authorization: Bearer …` (the scheme is case-insensitive, RFC 9110
 * §11.1) as one of:
 * - a JWT: signature against the JWKS, issuer, audience and expiry verified; tenant from
 *   `tessera:tenant-id` or Cognito's `custom:tenant_id`, role from `tessera:role` or
 *   `cognito:groups` (roleOfClaims). A token with no role claim at all is a `member` (users
 *   invited before roles existed keep inference); a role claim naming no role is 403 `unknown_role`.
 * - a tenant API key `tsk_<tenant>_<secret>`: the tenant from its prefix (with `tenants`, refused
 *   unless the registry has it), then ONE read by SHA-256 hash from the keys store (as that tenant). A key that names no record is 401
 *   `invalid_api_key` whatever its prefix (the message never says whether the tenant exists),
 *   revoked 401 `api_key_revoked`, expired 401 `api_key_expired`, mis-shaped 401 `malformed_api_key`.
 *   The role and model subset are the record's; the caller's `userId` is the key id.
 * Either way an unknown tenant (403 `unknown_tenant` for a JWT, and for a key whose record the store holds), a suspended or offboarded one
 * (403 `tenant_not_active`) is refused: a suspended tenant's keys stop with it.
 *
 * Verdicts, accepted and refused, are cached per token / key hash for at most `cacheMs` and never
 * past the token's or key's expiry, so a revoked key stops within `cacheMs` (30 s by default; 60 s is the documented bound in AWS); the tenant's
 * status is re-read on every request. The cache is an lru-cache LRUCache (at most `maxEntries`,
 * the least recently used forgotten first; each verdict's TTL is its deadline: ../shared/lru-deadline.ts).
 * A key's `lastUsedAt` is written on a cache miss only, off the request's path (a failure is logged, not answered).
 */
export class Authorizer {
  private readonly jwks: JWTVerifyGetKey;
  /** Verdicts by token / `key:<hash>`, each stale from its deadline on. */
  private readonly cache: LRUCache<string, Verdict>;
  /** The last Authorization header that held a JWT, and that JWT (what the header patterns gave). */
  private lastJwtHeader: string | undefined;
  private lastJwt: string | undefined;
  private readonly keys?: ApiKeyStore;
  private readonly userRevocations?: UserTokenRevocations;
  private readonly tenants?: TenantExistence;
  private readonly unknownTenantHint?: (tenantId: string) => string;
  private readonly cacheMs: number;
  private readonly now: () => number;
  /** `lastUsedAt` writes started and not yet ended (settled()). */
  private readonly writes = new PendingWork();
  /** The key set's last read failure, answered again until `until` (KEY_SET_RETRY_MS). */
  private keySetDown: { refusal: GatewayError; until: number } | undefined;

  constructor(private readonly settings: JwtSettings, private readonly store: GatewayStore, options: AuthorizerOptions | number = {}) {
    const o = typeof options === 'number' ? { cacheMs: options } : options;
    this.keys = o.keys;
    this.userRevocations = o.userRevocations;
    this.tenants = o.tenants;
    this.unknownTenantHint = o.unknownTenantHint;
    this.cacheMs = o.cacheMs ?? AUTH_CACHE_MS;
    this.now = o.now ?? Date.now;
    this.cache = new LRUCache<string, Verdict>(lruOptions(o.maxEntries ?? AUTH_CACHE_ENTRIES, this.now, 'maxEntries'));
    this.jwks = typeof settings.jwks === 'string' ? createRemoteJWKSet(new URL(settings.jwks)) : createLocalJWKSet(settings.jwks as never);
  }

  /**
   * The caller behind an `Authorization` header value.
   * @throws GatewayError 401 (`missing_token` / `malformed_token`: no header, or none with a `Bearer ` credential, answered in
   *   OpenAI's words with type `invalid_request_error` and code null on the wire: no-api-key.ts; `invalid_api_key` (a bearer that is no
   *   JWT nor key, in OpenAI's words: incorrectApiKey), `invalid_token`, `token_expired`,
   *   `missing_tenant_claim`, `missing_subject_claim`, `token_revoked`, `malformed_api_key`, `invalid_api_key`, `api_key_revoked`,
   *   `api_key_expired`, `api_keys_not_enabled`), 403 (`unknown_tenant`, `tenant_not_active`, `unknown_role`)
   *   or 503 `identity_provider_unavailable` (the issuer's JWKS could not be fetched or read: not the token's fault)
   */
  async authorize(header: string | undefined): Promise<Caller> {
    // No Bearer credential at all: OpenAI's 401 "You didn't provide an API key. …" (no-api-key.ts), code null on the wire.
    if (!header) throw noApiKey();
    // The same header as the last JWT's (a client's every request): the same token, without the patterns.
    if (header === this.lastJwtHeader) return await this.authorizeJwt(this.lastJwt!);
    const bearer = /^Bearer +(.*)$/is.exec(header.trim())?.[1];
    if (bearer !== undefined && looksLikeApiKey(bearer)) return await this.authorizeKey(bearer);
    const match = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(header.trim());
    if (!match) {
      // A bearer that is neither a JWT nor a key: OpenAI's 401 to a bearer it does not know (invalid_api_key, masked).
      if (bearer !== undefined && /\S/.test(bearer)) throw incorrectApiKey(bearer.trim());
      throw noApiKey(header);
    }
    this.lastJwtHeader = header;
    this.lastJwt = match[1]!;
    return await this.authorizeJwt(match[1]!);
  }

  private hint(): string {
    return this.settings.keyHint ? `: ${this.settings.keyHint}` : '';
  }

  private async authorizeJwt(token: string): Promise<Caller> {
    const cached = this.cached(token);
    if (cached) return await this.serve(cached.tenantId, cached);
    let payload: Record<string, unknown>;
    if (this.keySetDown && this.keySetDown.until > this.now()) throw untilReadAgain(this.keySetDown.refusal, this.keySetDown.until - this.now());
    try {
      ({ payload } = await jwtVerify(token, this.jwks, { issuer: this.settings.issuer, audience: this.settings.audience, clockTolerance: 5 }));
      this.keySetDown = undefined;
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'invalid_token';
      if (keySetUnavailable(e)) {
        const refusal = identityProviderUnavailable(e, this.settings.jwks);
        this.keySetDown = { refusal, until: this.now() + KEY_SET_RETRY_MS };
        throw untilReadAgain(refusal, KEY_SET_RETRY_MS);
      }
      const reason = code === 'ERR_JWT_EXPIRED' ? 'token expired'
        : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `token claim rejected: ${(e as Error).message}`
        : code === 'ERR_JWKS_NO_MATCHING_KEY' ? `no key in this gateway's key set matches the token's kid ${headerValue(token, 'kid')} and alg ${headerValue(token, 'alg')}${this.hint()}`
        : code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? `the token's signature does not verify with this gateway's key for kid ${headerValue(token, 'kid')}${this.hint()}`
        : 'token signature or format is invalid';
      throw unauthorized(reason, code === 'ERR_JWT_EXPIRED' ? 'token_expired' : 'invalid_token');
    }
    const tenantId = payload[TENANT_CLAIM] ?? payload['custom:tenant_id'];
    if (typeof tenantId !== 'string' || !tenantId) throw unauthorized(`token has no ${TENANT_CLAIM} claim`, 'missing_tenant_claim');
    // No registered tenant has another form (lib/tenant-record.ts); looking one up would fail inside
    // the tenant-scoped session (or DynamoDB's 2,048-byte key limit) as the gateway's error, not the token's.
    if (!isTenantId(tenantId)) throw forbidden(`tenant "${wellFormedPrefix(tenantId, 40)}" is not registered`, 'unknown_tenant');
    const role = roleOfClaims(payload);
    if (typeof role === 'object' && 'ambiguous' in role) {
      throw forbidden(`the token's role groups (${role.ambiguous.map((r) => `tenant-${r}`).join(', ')}) make no single role: neither holds all of the other's permissions; ask your tenant admin to set your role (it leaves one group)`, 'ambiguous_role');
    }
    if (typeof role === 'object') {
      throw forbidden(`the token's role claim "${wellFormedPrefix(role.unknown, 64)}" names no role; roles are ${ROLES.join(', ')} (ask your tenant admin to set yours)`, 'unknown_role');
    }
    // The user is its `sub` (RFC 9068 §2.2: required in a JWT access token; Cognito's always has it): per-user limits,
    // revocations and the response cache's `scope: caller` tell users apart by it. Without one, every such token was the
    // user "unknown": one user's cached answers were another's, and a revocation could not name it.
    if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthorized('token has no sub claim (a string naming the user): the gateway tells users apart by it', 'missing_subject_claim');
    const tenant = servedStatus(await this.store.getTenant(tenantId), tenantId, this.unknownTenantHint);
    const caller: Caller = { tenantId, tenant, userId: payload.sub, role: role ?? 'member' };
    await this.checkNotRevoked(caller, payload);
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : this.now();
    this.remember(token, { caller }, Math.min(exp, this.now() + this.cacheMs));
    return caller;
  }

  /**
   * A token issued before the user's revocation (disable, remove, role change) is refused. `iat`
   * counts whole seconds, so a token of the revocation's own second is refused too (fail closed:
   * a user who signs in within that second signs in again).
   */
  private async checkNotRevoked(caller: Caller, payload: Record<string, unknown>): Promise<void> {
    if (!this.userRevocations || typeof payload.sub !== 'string') return;
    const notBefore = await this.userRevocations.notBefore(caller.tenantId, payload.sub);
    if (notBefore === undefined) return;
    const issued = typeof payload.iat === 'number' ? payload.iat : 0;
    if (issued <= Math.floor(notBefore / 1000)) {
      throw unauthorized(`this token was issued before the user was disabled, removed or given another role (${new Date(notBefore).toISOString()}); sign in again`, 'token_revoked')
        .withAudit({ tenantId: caller.tenantId, userId: caller.userId });
    }
  }

  private async authorizeKey(key: string): Promise<Caller> {
    if (!this.keys) throw unauthorized('API keys are not enabled here: send a JWT ("Authorization: Bearer <JWT>") instead of a tsk_… key', 'api_keys_not_enabled');
    const parsed = parseApiKey(key);
    if (!parsed) throw unauthorized(`malformed API key: expected ${KEY_SHAPE}, sent as "Authorization: Bearer tsk_…" with nothing else`, 'malformed_api_key');
    const entry = `key:${parsed.keyHash}`;
    const hit = this.cacheHit(entry);
    if (hit && 'refusal' in hit) throw hit.refusal;
    if (hit) return await this.serve(parsed.tenantId, hit.caller);
    try {
      const caller = await this.readKey(parsed.tenantId, parsed.keyHash);
      const expires = caller.key?.expiresAt ? Date.parse(caller.key.expiresAt) : Infinity;
      this.remember(entry, { caller }, Math.min(expires, this.now() + this.cacheMs));
      return { ...caller, tenant: servedStatus(caller.tenant) };
    } catch (e) {
      if (e instanceof GatewayError && e.status === 401) this.remember(entry, { refusal: e }, this.now() + this.cacheMs);
      throw e;
    }
  }

  /**
   * The caller a batch's request runs as (Gateway.batchRequest): its owner's tenant read again (403
   * `unknown_tenant` / `tenant_not_active` as for a live call) and, for a batch created with an API key, that key
   * read again by id (401 `api_key_revoked` / `api_key_expired` / `invalid_api_key` when it is gone), so that a
   * batch stops being served when its creator would be. A JWT user's own revocation is not re-read (a batch
   * outlives the token that created it; its window is 24 hours).
   * @param owner who created the batch (batches/stores.ts BatchOwner) or the background response, or attached the vector store file
   * @param work what the owner created, as the refusal names it @default 'batch'
   */
  async callerOf(owner: { tenantId: string; userId: string; role: Caller['role']; keyId?: string }, work: 'batch' | 'background response' | 'vector store file' = 'batch'): Promise<Caller> {
    const tenant = servedStatus(await this.store.getTenant(owner.tenantId), owner.tenantId, this.unknownTenantHint);
    if (!owner.keyId) return { tenantId: owner.tenantId, tenant, userId: owner.userId, role: owner.role };
    const record = await this.keys?.findById(owner.tenantId, owner.keyId);
    if (!record || record.tenantId !== owner.tenantId) throw unauthorized(`API key ${owner.keyId}, which created this ${work}, no longer exists`, 'invalid_api_key');
    const usable = keyUsable(record, new Date(this.now()));
    if (!usable.ok) throw unauthorized(`API key ${record.keyId}, which created this ${work}, is ${usable.reason} (${usable.reason === 'revoked' ? record.revokedAt : record.expiresAt}); its remaining requests are refused`, `api_key_${usable.reason}`);
    return { tenantId: owner.tenantId, tenant, userId: record.keyId, role: record.role, keyId: record.keyId, key: record };
  }

  /**
   * The key's record as a caller (tenant as read now), or the 401 that refuses it (403 `unknown_tenant`
   * for a key on record whose tenant the registry lacks: `tessera dev-key` for a tenant serve lacks). With `tenants`,
   * a prefix naming no registered tenant is refused first, with the platform's own (cached) read:
   * it never reaches the tenant-scoped session, whose first use costs an STS AssumeRole. Its answer
   * is the same 401 `invalid_api_key` as a wrong key of a known tenant; only its time may differ
   * (a registry read instead of a key read: docs/identity.md "API keys", Lookup), and tenant ids are no
   * secret (every key's prefix holds one).
   */
  private async readKey(tenantId: string, keyHash: string): Promise<Caller> {
    if (this.tenants && !(await this.tenants.exists(tenantId))) throw noSuchKey();
    const record = await this.keys!.get(tenantId, keyHash);
    if (!record || record.tenantId !== tenantId || record.keyHash !== keyHash) throw noSuchKey();
    const who = { tenantId, keyId: record.keyId, userId: record.keyId };
    // The key is genuine (its record found by its hash): that its tenant is unknown here tells its holder
    // nothing a wrong key would hide, and a 401 "no such key" would send them looking for a typo. `tessera
    // dev-key` writes keys for any tenant id, as it cannot know the tenants of a serve started later.
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) throw unknownTenant(tenantId, this.unknownTenantHint).withAudit(who);
    const now = this.now();
    const usable = keyUsable(record, new Date(now));
    const refusal = usable.ok ? undefined : usable.reason;
    // A key rotated away names its successor (the key its clients should have moved to). An expired key is not told to
    // rotate: a rotation keeps the expiry instant (api-keys.ts rotate), so only a new key lives longer.
    const successor = record.rotatedTo ? `API key ${record.keyId} was rotated into ${record.rotatedTo}` : undefined;
    if (refusal === 'revoked') {
      const why = successor ? `${successor} and revoked at ${record.revokedAt}; use the new key` : `API key ${record.keyId} was revoked at ${record.revokedAt}; ask your tenant admin for a new key`;
      throw unauthorized(why, 'api_key_revoked').withAudit(who);
    }
    if (refusal === 'expired') {
      const why = successor ? `${successor}; its grace period ended at ${record.expiresAt}: use the new key` : `API key ${record.keyId} expired at ${record.expiresAt}; ask your tenant admin for a new key`;
      throw unauthorized(why, 'api_key_expired').withAudit(who);
    }
    void this.writes.track(this.keys!.update(tenantId, keyHash, { lastUsedAt: new Date(now).toISOString() })
      .then(() => undefined, (e) => logger.error('API key lastUsedAt not written', { tenantId, keyId: record.keyId, error: (e as Error).message })));
    return { tenantId, tenant, userId: record.keyId, role: record.role, keyId: record.keyId, key: record };
  }

  /**
   * Resolves when every `lastUsedAt` write started so far has ended (written, or its failure
   * logged). The authorizer Lambda awaits it before it answers: Lambda freezes the environment when
   * the handler returns, which would hold a write in flight, or lose it with the environment;
   * `tessera serve` awaits it before it exits. Never rejects.
   */
  settled(): Promise<void> {
    return this.writes.settled(); // each write logs its own failure: never rejects
  }

  /** The cached caller with its tenant re-read (a tenant suspended since is refused at once). */
  private async serve(tenantId: string, caller: Caller): Promise<Caller> {
    return { ...caller, tenant: servedStatus(await this.store.getTenant(tenantId), tenantId, this.unknownTenantHint) };
  }

  private cached(token: string): Caller | undefined {
    const hit = this.cacheHit(token);
    return hit && 'caller' in hit ? hit.caller : undefined;
  }

  /** A live cache entry, made the most recently used; an expired one is dropped (LRUCache.get). */
  private cacheHit(entry: string): Verdict | undefined {
    return this.cache.get(entry);
  }

  /** Caches `verdict` until `until` (epoch ms, exclusive); nothing when that is not in the future (`cacheMs` 0). */
  private remember(entry: string, verdict: Verdict, until: number): void {
    const now = this.now();
    if (until <= now) return;
    this.cache.set(entry, verdict, staleFrom(until, now));
  }

  /** Entries cached now, expired ones not yet read or evicted included (tests: the bound holds). */
  get cacheSize(): number {
    return this.cache.size;
  }
}

/**
 * Whether jwtVerify failed because the key set could not be had, not because of the token: the
 * remote JWKS timed out (ERR_JWKS_TIMEOUT), answered other than 200 or not JSON (jose's generic
 * JOSEError, which only the remote key set throws), answered no key set (ERR_JWKS_INVALID), or
 * the fetch itself failed (no jose code: DNS, connection, TLS).
 */
function keySetUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC' || code === 'ERR_JWKS_INVALID' || typeof code !== 'string' || !code.startsWith('ERR_J');
}

/** 503 `identity_provider_unavailable`: the SDKs retry it, where a 401 would call a good token bad. */
function identityProviderUnavailable(e: unknown, jwks: JwtSettings['jwks']): GatewayError {
  const cause = (e as { cause?: { code?: string } }).cause;
  const detail = `${errorCause(e)}${cause?.code ? ` (${cause.code})` : ''}`;
  const where = typeof jwks === 'string' ? ` ${jwks}` : '';
  return new GatewayError(503, `the identity provider's key set (JWKS${where}) could not be read to verify the token: ${detail}; retry`, 'server_error', 'identity_provider_unavailable');
}

/**
 * The key set's refusal with the wait until the key set is read again (`retry-after` in whole seconds, `retry-after-ms`,
 * which the official SDKs read first): without it they retried after their own 0.5 s and 1 s backoff, both inside
 * KEY_SET_RETRY_MS, so both got the same refusal without the key set being read again.
 * @param waitMs the time until the next read of the key set
 */
function untilReadAgain(refusal: GatewayError, waitMs: number): GatewayError {
  const ms = Math.max(1, Math.ceil(waitMs));
  return new GatewayError(refusal.status, refusal.message, refusal.type, refusal.code, refusal.param, { ...refusal.headers, 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) });
}

/** A member of a JWT's protected header for a message: JSON, at most 64 characters, or `none` when absent or unreadable. */
function headerValue(token: string, name: 'kid' | 'alg'): string {
  try {
    const value = (decodeProtectedHeader(token) as Record<string, unknown>)[name];
    if (value === undefined) return 'none';
    const shown = typeof value === 'string' ? value.slice(0, 64) : value;
    return (JSON.stringify(shown) ?? 'none').slice(0, 66);
  } catch {
    return 'none';
  }
}
