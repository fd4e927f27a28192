import type { z } from 'zod';
import { mintApiKey } from '../../lib/identity/api-key.js';
import { ApiKeyRecord, CreateApiKeyRequest, RotateApiKeyRequest } from '../../lib/identity/api-key-record.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { SERVING_STATUSES, type TenantRecord } from '../../lib/tenant-record.js';
import { requestErrorMap } from '../../lib/request-issues.js';
import { describeIssues, formatPath, leafIssues } from '../../lib/zod-issues.js';
import { resolvePolicy } from '../inference/policy.js';
import { IdentityError } from './identity-error.js';
import { parseKeyListQuery } from './key-list-query.js';
import type { ApiKeyStore } from './stores/api-key-store.js';
import { TenantNotServedError, TooManyKeysError, UnknownAfterKeyError, type KeyPage, type LiveKeyCap } from './stores/api-key-store-common.js';

/**
 * At most this many live keys (not revoked, not expired) per tenant. A tenant needs a key per
 * application and environment, not per request; the cap keeps a tenant's live keys few,
 * bounds what a leaked admin credential can mint before someone notices, and keeps the
 * authorizer's cache small. Revoked and expired keys do not count. Rotation is never refused by
 * the cap (it must always be possible to replace a leaked key): during its grace period the
 * tenant may hold 101. The store checks the cap at the write (ApiKeyStore.put's LiveKeyCap):
 * DynamoDB in one transaction with the tenant's index of live keys (dynamodb-live-keys.ts), so of
 * creates racing at the cap exactly as many succeed as fit, and no create reads the tenant's
 * revoked and expired keys.
 */
export const MAX_LIVE_KEYS = 100;

/** How a tenant admin revokes a key through the gateway (`too_many_keys`'s message on POST /v1/tenant/keys). */
export const GATEWAY_REVOKE_HOW = (): string => 'DELETE /v1/tenant/keys/{keyId}; GET /v1/tenant/keys shows when each was last used';

/** A page of a tenant's keys in OpenAI's cursor-list shape (ApiKeyService.listPage); the routes show each record with publicKey. */
export interface KeyList { object: 'list'; data: ApiKeyRecord[]; first_id: string | null; last_id: string | null; has_more: boolean }

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** What bounds the keys a key creates, rotates or revokes (the calling key's record). */
export type CreatorKey = Pick<ApiKeyRecord, 'keyId' | 'models' | 'limits' | 'expiresAt' | 'usageKeyId'>;

const LIMIT_FIELDS = ['requestsPerMinute', 'tokensPerMinute', 'tokensPerDay', 'monthlyCostUsd'] as const;

/** A key's own limits as prose (`requestsPerMinute 5, monthlyCostUsd 2`), or undefined when it has none. */
function ownLimits(key: CreatorKey): string | undefined {
  const limited = LIMIT_FIELDS.filter((f) => key.limits?.[f] !== undefined);
  return limited.length ? limited.map((f) => `${f} ${key.limits![f]}`).join(', ') : undefined;
}

/**
 * A key's bounds as prose (`models a, b`, `limits tokensPerDay 1000`, `expiry 2027-01-01T00:00:00.000Z`),
 * empty for an unbounded key: a key is bounded when it has a `models` subset, any limit of its own or
 * an expiry. A bounded admin key creates, rotates and revokes only keys within its bounds and invites
 * or promotes no users (lambdas/inference/endpoints/tenant-users.ts).
 */
export function keyBounds(key: Pick<ApiKeyRecord, 'models' | 'limits' | 'expiresAt'>): string[] {
  const limits = Object.entries(key.limits ?? {}).filter(([, v]) => v !== undefined);
  return [
    key.models && `models ${key.models.join(', ')}`,
    limits.length > 0 && `limits ${limits.map(([k, v]) => `${k} ${v}`).join(', ')}`,
    key.expiresAt && `expiry ${key.expiresAt}`,
  ].filter((b): b is string => typeof b === 'string');
}

/** The rotation chain a key's usage counts under (lib/identity/api-key-record.ts `usageKeyId`): its first key's id. */
const chainOf = (key: Pick<ApiKeyRecord, 'keyId' | 'usageKeyId'>) => key.usageKeyId ?? key.keyId;

/**
 * A key made by a key stays within the creating key's bounds: its models among the creator's
 * (when the creator has a subset, `models` must be given) and (when the creator expires) an expiry
 * no later than the creator's. A key with limits creates no keys: limits are counted per key, so
 * keys it made, each within its limits, would together spend past them. Without this, an admin key
 * made for one model and a small budget could mint itself a successor with every model, no budget
 * and no expiry, or 99 keys of its own budget.
 * @throws IdentityError 403 `creating_key_has_limits` (no param) when the creator has any limit
 * @throws IdentityError 403 `exceeds_creating_key` naming the field (`models`, `models[i]`, `expiresInDays`)
 */
function checkWithinCreator(creator: CreatorKey, body: z.infer<typeof CreateApiKeyRequest>, now: Date): void {
  // Limits are counted per key: each key it created, however small its own limits, would spend on
  // counters of its own beside the creator's (99 keys within a $2 budget are $198 more), so a key
  // with limits creates none. It rotates itself only (rotate): its successor counts on its own chain's counters.
  const own = ownLimits(creator);
  if (own) {
    throw new IdentityError(403, `API key ${creator.keyId} has limits of its own (${own}), so it creates no keys: each key it created would count on counters of its own and together spend past them. A tenant admin signed in as a user, or an admin key without limits, creates keys`, 'creating_key_has_limits');
  }
  const refuse = (param: string, what: string) => {
    throw new IdentityError(403, `${what}: a key created with API key ${creator.keyId} stays within that key's own models and expiry (a tenant admin signed in as a user, or the platform admin, can create wider keys)`, 'exceeds_creating_key', param);
  };
  if (creator.models) {
    const own = creator.models.join(', ');
    if (!body.models) refuse('models', `models: not given, which means all of the tenant's models, but key ${creator.keyId} may call only ${own}`);
    body.models!.forEach((model, i) => {
      if (!creator.models!.includes(model)) refuse(`models[${i}]`, `models[${i}] = "${model.slice(0, 120)}": not one of key ${creator.keyId}'s models (${own})`);
    });
  }
  if (creator.expiresAt !== undefined) {
    const days = Math.floor((Date.parse(creator.expiresAt) - now.getTime()) / DAY_MS);
    const most = days >= 1 ? `give expiresInDays at most ${days}` : 'it expires in less than a day, so it can create no key';
    if (body.expiresInDays === undefined) refuse('expiresInDays', `expiresInDays: not given, which means never, but key ${creator.keyId} expires at ${creator.expiresAt}; ${most}`);
    if (body.expiresInDays! > days) refuse('expiresInDays', `expiresInDays = ${body.expiresInDays}: past key ${creator.keyId}'s own expiry at ${creator.expiresAt}; ${most}`);
  }
}

/**
 * Why `key` (a stored record) is wider than `creator`, or undefined when it is within: a model
 * subset it lacks or exceeds, a limit of the creator's it lacks or exceeds, an expiry it lacks or
 * passes. For rotations by a key: the successor is as wide as the rotated key and goes to the caller.
 */
function widerThan(creator: CreatorKey, key: Pick<ApiKeyRecord, 'keyId' | 'models' | 'limits' | 'expiresAt'>): string | undefined {
  if (creator.models && (!key.models || key.models.some((m) => !creator.models!.includes(m)))) {
    return `models: key ${key.keyId} may call ${key.models?.join(', ') ?? 'all of the tenant\'s models'}, key ${creator.keyId} only ${creator.models.join(', ')}`;
  }
  for (const field of LIMIT_FIELDS) {
    const ceiling = creator.limits?.[field];
    const value = key.limits?.[field];
    if (ceiling !== undefined && (value === undefined || value > ceiling)) return `limits.${field}: key ${key.keyId} has ${value ?? 'none of its own'}, key ${creator.keyId} ${ceiling}`;
  }
  if (creator.expiresAt !== undefined && (key.expiresAt === undefined || Date.parse(key.expiresAt) > Date.parse(creator.expiresAt))) {
    return `expiresAt: key ${key.keyId} expires ${key.expiresAt ?? 'never'}, key ${creator.keyId} at ${creator.expiresAt}`;
  }
  return undefined;
}

/** 409 `invalid_status`, param `status`: the tenant is not in a status that may get keys. */
function notServed(tenantId: string, status: string, what: string): IdentityError {
  return new IdentityError(409, `tenant ${tenantId} is ${status}: cannot ${what}; keys are created and rotated only for a tenant that is served (${SERVING_STATUSES.join(' or ')})`, 'invalid_status', 'status');
}

/** Whether a key may be used at `now`: not revoked, not past `expiresAt`. For the authorizer. */
export function keyUsable(record: Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'>, now: Date = new Date()): { ok: true } | { ok: false; reason: 'revoked' | 'expired' } {
  if (record.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true };
}

/**
 * A request body parsed with `schema`, or the IdentityError (400) of its first problem: `message`
 * lists every problem as `path = value: what is wrong`; `param` is the first one's path (an
 * unknown key's own path, e.g. `limits.tokensPerHour`); `code` is `unknown_parameter` for an
 * unknown key, `invalid_request` otherwise.
 */
export function parseRequest<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  // zod's generic messages said as what the field takes, as the admin API's other routes say them (lib/request-issues.ts).
  const result = schema.safeParse(raw, { error: requestErrorMap });
  if (result.success) return result.data;
  const first = leafIssues(result.error)[0]!;
  const unknown = first.code === 'unrecognized_keys';
  const param = formatPath(unknown ? [...first.path, first.keys[0]!] : first.path) || undefined;
  throw new IdentityError(400, describeIssues(result.error, raw).join('; '), unknown ? 'unknown_parameter' : 'invalid_request', param);
}

/**
 * Tenant API keys: create, list, revoke and rotate, on any ApiKeyStore (DynamoDB in the Lambdas,
 * files in `tessera serve`, memory in tests). The admin API (lambdas/admin/keys-routes.ts) and the
 * gateway's `/v1/tenant/keys` both call it; it refuses with IdentityError (status, code, param),
 * which each answers in its own shape. The key itself is returned once, by create and rotate, and
 * never stored: the store keeps its SHA-256 (lib/identity/api-key.ts).
 */
export class ApiKeyService {
  /**
   * @param store where the records live
   * @param config the platform config: the tenant's tier gives its models and limits (resolvePolicy)
   * @param revokeHow how the caller of this service revokes a key, for `too_many_keys`'s message (the admin API names its own route and the CLI)
   *   @default GATEWAY_REVOKE_HOW: `DELETE /v1/tenant/keys/{keyId}` (a tenant admin through the gateway)
   */
  constructor(private readonly store: ApiKeyStore, private readonly config: PlatformConfig, private readonly revokeHow: (tenantId: string) => string = GATEWAY_REVOKE_HOW) {}

  /**
   * Mints a key for `tenant`. Checks, in order:
   * - `request` is a CreateApiKeyRequest (400 `unknown_parameter` / `invalid_request`, naming the field and value);
   * - the tenant is served (ACTIVE, UPDATING: SERVING_STATUSES), else 409 `invalid_status` naming its status; checked on
   *   `tenant` as read, and again by a store given the registry at the write itself (ApiKeyStore.put), which refuses
   *   the same way when the tenant left those statuses since (an offboarding or suspension that began meanwhile);
   * - each of `models` is one of the tenant's (its tier's and its fine-tuned models, as GET /v1/models lists them), else 400 `unknown_model`, param `models[i]`;
   * - `limits` are within the tenant's own: requestsPerMinute, tokensPerDay and tokensPerMinute within the tier's (tokensPerMinute
   *   also within the tier's tokensPerDay when the tier has no tokensPerMinute),
   *   monthlyCostUsd within the gateway policy's monthlyCostBudgetUsd when it has one, else 400 `limit_above_tenant`, param `limits.<field>`;
   * - with `creatorKey` (a tenant admin calling with a key): none when that key has limits (403 `creating_key_has_limits`), else the new key within that key's models and expiry, else 403 `exceeds_creating_key` (checkWithinCreator);
   * - fewer than MAX_LIVE_KEYS live keys, else 409 `too_many_keys`.
   * @param createdBy `admin:<principal>`, `user:<sub>` or `key:<keyId>`
   * @param creatorKey the record of the key making the request, when a key makes it. @default - none: a user or the platform admin, bounded by the tenant only
   * @returns the key (show it once) and the stored record
   */
  async create(tenant: TenantRecord, request: unknown, createdBy: string, now: Date = new Date(), creatorKey?: CreatorKey): Promise<{ key: string; record: ApiKeyRecord }> {
    const body = parseRequest(CreateApiKeyRequest, request);
    this.requireServed(tenant, 'create a key');
    const models = body.models && this.checkModels(tenant, [...new Set(body.models)]);
    if (body.limits) this.checkLimits(tenant, body.limits);
    if (creatorKey) checkWithinCreator(creatorKey, body, now);
    const minted = mintApiKey(tenant.tenantId);
    const record = ApiKeyRecord.parse({
      tenantId: tenant.tenantId, keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name: body.name, role: body.role,
      models, limits: body.limits, createdBy, createdAt: now.toISOString(),
      expiresAt: body.expiresInDays === undefined ? undefined : new Date(now.getTime() + body.expiresInDays * DAY_MS).toISOString(),
    });
    // The cap is checked by the store at the write (ApiKeyStore.put's LiveKeyCap), not by a list of every key first.
    await this.putServed(record, 'create a key', { max: MAX_LIVE_KEYS, now });
    return { key: minted.key, record };
  }

  /** 409 `too_many_keys`: the tenant has `live` live keys, MAX_LIVE_KEYS. */
  private tooMany(tenantId: string, live: number): IdentityError {
    return new IdentityError(409, `tenant ${tenantId} has ${live} live API keys, the most a tenant may have (${MAX_LIVE_KEYS}); revoke keys it no longer uses (${this.revokeHow(tenantId)})`, 'too_many_keys');
  }

  /** Every key of the tenant, revoked and expired ones included, newest first (reads them all: a route pages with listPage). */
  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.store.list(tenantId);
  }

  /**
   * One page of the tenant's keys, revoked and expired ones included, in OpenAI's cursor-list shape (its admin API
   * keys list: `{ object: 'list', data, first_id, last_id, has_more }`; ids null on an empty page), in creation order
   * (`createdAt`, then key id: key-list-query.ts KeyPageRequest). Reads about `limit` records, however many keys the tenant has had.
   * @param query the request's query string: `limit` (1-100, @default 20), `after` (a key id), `order` (`asc` oldest first | `desc`, @default 'asc')
   * @throws IdentityError 400 naming the parameter (parseKeyListQuery)
   * @throws IdentityError 400 `invalid_value`, param `after`, when `after` is no key of the tenant (as OpenAI refuses a cursor its list does not hold)
   */
  async listPage(tenantId: string, query: Record<string, string | undefined> | null | undefined): Promise<KeyList> {
    const request = parseKeyListQuery(query);
    let page: KeyPage;
    try {
      page = await this.store.listPage(tenantId, request);
    } catch (e) {
      if (!(e instanceof UnknownAfterKeyError)) throw e;
      throw new IdentityError(400, `after "${e.after}" is not a key of tenant ${tenantId}: give the last_id of the page before, or leave after out for the first page`, 'invalid_value', 'after');
    }
    const { records, hasMore } = page;
    return { object: 'list', data: records, first_id: records[0]?.keyId ?? null, last_id: records.at(-1)?.keyId ?? null, has_more: hasMore };
  }

  /**
   * One key of the tenant (revoked and expired ones included).
   * @throws IdentityError 404 `key_not_found`, param `keyId`, for an id the tenant has no key with (another tenant's too), as revoke and rotate
   */
  async get(tenantId: string, keyId: string): Promise<ApiKeyRecord> {
    return this.find(tenantId, keyId);
  }

  /**
   * Revokes a key at once (`revokedAt` = now). Idempotent: an already revoked key is returned unchanged.
   * A bounded `revokerKey` (keyBounds: a `models` subset, limits or an expiry) revokes only itself,
   * its own rotation chain and keys it could have made: within its models, limits and expiry
   * (widerThan, as for rotate). Without that, a leaked key made for one CI job could revoke every
   * admin key and every other team's key of the tenant. The check comes before the idempotent
   * answer: a key it may not revoke is refused even when someone else revoked it already (a 200
   * would put that revocation in its audit record).
   * @param revokerKey the record of the key making the request, when a key makes it. @default - none: a user or the platform admin, who revoke any key of the tenant
   * @throws IdentityError 404 `key_not_found` for an id the tenant has no key with (another tenant's too)
   * @throws IdentityError 403 `key_is_bounded`, param `keyId`, naming the revoker's bounds and the field the key is wider in
   */
  async revoke(tenantId: string, keyId: string, now: Date = new Date(), revokerKey?: CreatorKey): Promise<ApiKeyRecord> {
    const record = await this.find(tenantId, keyId);
    const wider = revokerKey && chainOf(record) !== chainOf(revokerKey) ? widerThan(revokerKey, record) : undefined;
    if (wider) {
      throw new IdentityError(403, `API key ${revokerKey!.keyId} is bounded (${keyBounds(revokerKey!).join('; ')}), so it revokes only itself, its rotation chain and keys within its bounds, not key ${keyId} (${wider}): otherwise a leaked narrow key could revoke every wider key of the tenant. A tenant admin signed in as a user, an admin key without a models subset, limits or expiry, or the platform admin (tessera keys revoke), can revoke it`, 'key_is_bounded', 'keyId');
    }
    if (record.revokedAt !== undefined) return record;
    const revokedAt = now.toISOString();
    await this.store.update(tenantId, record.keyHash, { revokedAt });
    return { ...record, revokedAt };
  }

  /**
   * Replaces a key with a new one of the same name, role, models, limits and expiry instant
   * (`rotatedFrom` = the old id). The old key keeps working for `gracePeriodHours` (0-168, default
   * 24; its `expiresAt` becomes now + grace, never later than it was) or is revoked at once when
   * the grace is 0. The new key is stored before the old one is cut short, so a failure between
   * the two leaves both working, never neither. A key is rotated once (`rotatedTo` names its
   * successor): the old key is claimed with one atomic check-and-set (ApiKeyStore.claimRotation), so
   * of rotations racing on one key exactly one returns a key; each other one's new key is revoked
   * before it is shown and the caller gets 409 `key_rotated` (or `key_revoked` when a revocation won).
   * @param creatorKey the record of the key making the request, when a key makes it: the rotated key must be within its bounds. @default - none
   * @throws IdentityError 400 for a bad request, 404 `key_not_found`, 403 `creating_key_has_limits` (param `keyId`: `creatorKey` has limits and
   *   the key is not of its own rotation chain), 403 `exceeds_creating_key` (a key wider than `creatorKey`), 409 `invalid_status` for a
   *   tenant not served, 409 `key_revoked` / `key_expired` for a key that no longer works,
   *   409 `key_rotated` for a key rotated already
   */
  async rotate(tenant: TenantRecord, keyId: string, request: unknown, createdBy: string, now: Date = new Date(), creatorKey?: CreatorKey): Promise<{ key: string; record: ApiKeyRecord; previous: ApiKeyRecord }> {
    const { gracePeriodHours } = parseRequest(RotateApiKeyRequest, request);
    this.requireServed(tenant, 'rotate a key');
    const old = await this.find(tenant.tenantId, keyId);
    // A key with limits rotates only its own chain: another key's successor, however small its limits, would spend on
    // that key's counters beside the caller's own (as a key it created would: checkWithinCreator).
    const own = creatorKey && chainOf(old) !== chainOf(creatorKey) ? ownLimits(creatorKey) : undefined;
    if (own) {
      throw new IdentityError(403, `API key ${creatorKey!.keyId} has limits of its own (${own}), so it rotates only itself (its rotation chain), not key ${keyId}: the rotation would hand it ${keyId}'s successor, which counts on counters of its own beside them. A tenant admin signed in as a user, or an admin key without limits, can rotate it`, 'creating_key_has_limits', 'keyId');
    }
    const wider = creatorKey && widerThan(creatorKey, old);
    if (wider) {
      throw new IdentityError(403, `key ${keyId} is wider than API key ${creatorKey!.keyId}, which asks to rotate it (${wider}): a key rotates only keys within its own models, limits and expiry, since the rotation hands it the successor; a tenant admin signed in as a user, or the platform admin, can rotate it`, 'exceeds_creating_key', 'keyId');
    }
    const usable = keyUsable(old, now);
    if (!usable.ok) {
      const when = usable.reason === 'revoked' ? old.revokedAt : old.expiresAt;
      // A key rotated before it ended has a successor, which is the key to rotate: a new key would be one more live key
      // (at the cap, 409 too_many_keys), and not of the chain its usage and budgets count under.
      const next = old.rotatedTo
        ? `it was rotated into ${old.rotatedTo}: rotate ${old.rotatedTo} instead`
        : 'create a new key instead (POST /v1/tenant/keys, or tessera keys create)';
      throw new IdentityError(409, `key ${keyId} was ${usable.reason} at ${when}: only a working key can be rotated; ${next}`, `key_${usable.reason}`, 'keyId');
    }
    // Once only: a second rotation would mint another live key past the 100-key cap each time, and
    // its successor would inherit the grace end as its expiry. Rotate the successor instead.
    if (old.rotatedTo) {
      throw new IdentityError(409, `key ${keyId} was rotated already, into ${old.rotatedTo} (it works until ${old.expiresAt ?? 'its grace period ends'}): rotate ${old.rotatedTo} instead, or revoke ${keyId} now`, 'key_rotated', 'keyId');
    }
    const minted = mintApiKey(tenant.tenantId);
    const record = ApiKeyRecord.parse({
      tenantId: tenant.tenantId, keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name: old.name, role: old.role,
      models: old.models, limits: old.limits, expiresAt: old.expiresAt, createdBy, createdAt: now.toISOString(), rotatedFrom: old.keyId,
      usageKeyId: old.usageKeyId ?? old.keyId,
    });
    await this.putServed(record, 'rotate a key'); // refused: the old key is left as it was
    let changes: Pick<ApiKeyRecord, 'revokedAt' | 'rotatedTo'> | Pick<ApiKeyRecord, 'expiresAt' | 'rotatedTo'>;
    if (gracePeriodHours === 0) changes = { revokedAt: now.toISOString(), rotatedTo: record.keyId };
    else {
      const graceEnd = now.getTime() + gracePeriodHours * HOUR_MS;
      changes = { expiresAt: new Date(old.expiresAt === undefined ? graceEnd : Math.min(graceEnd, Date.parse(old.expiresAt))).toISOString(), rotatedTo: record.keyId };
    }
    // Atomic: of rotations (or a revocation) racing on the old key, one wins. A loser's new key, never
    // shown to anyone, is revoked at once and the caller told who won, as a later rotation would be.
    if (!(await this.store.claimRotation(tenant.tenantId, old.keyHash, changes))) {
      await this.store.update(tenant.tenantId, record.keyHash, { revokedAt: now.toISOString() });
      const current = await this.find(tenant.tenantId, keyId);
      if (current.rotatedTo) {
        throw new IdentityError(409, `key ${keyId} was rotated already, into ${current.rotatedTo}, by a rotation made at the same time: rotate ${current.rotatedTo} instead, or revoke ${keyId} now`, 'key_rotated', 'keyId');
      }
      throw new IdentityError(409, `key ${keyId} was revoked at ${current.revokedAt} while it was being rotated: create a new key instead (POST /v1/tenant/keys, or tessera keys create)`, 'key_revoked', 'keyId');
    }
    return { key: minted.key, record, previous: { ...old, ...changes } };
  }

  private async find(tenantId: string, keyId: string): Promise<ApiKeyRecord> {
    const record = await this.store.findById(tenantId, keyId);
    if (!record) throw new IdentityError(404, `key "${keyId.slice(0, 40)}" does not exist in tenant ${tenantId} (GET /v1/tenant/keys, or tessera keys list --tenant ${tenantId}, lists its keys)`, 'key_not_found', 'keyId');
    return record;
  }

  private requireServed(tenant: TenantRecord, what: string): void {
    if (!SERVING_STATUSES.includes(tenant.status)) throw notServed(tenant.tenantId, tenant.status, what);
  }

  /** store.put, its TenantNotServedError (the status at the write) answered as requireServed answers, its TooManyKeysError as 409 `too_many_keys`. */
  private async putServed(record: ApiKeyRecord, what: string, cap?: LiveKeyCap): Promise<void> {
    try {
      await this.store.put(record, cap);
    } catch (e) {
      if (e instanceof TenantNotServedError) throw notServed(e.tenantId, e.status ?? 'not in the registry', what);
      if (e instanceof TooManyKeysError) throw this.tooMany(e.tenantId, e.live);
      throw e;
    }
  }

  /**
   * A new key's `models`: each one of the tenant's catalog ids (its tier's and fine-tuned models).
   * @throws IdentityError 400 `unknown_model`, param `models[i]`: for a name the tenant has no model by; for an alias
   *   (`gateway.modelAliases`, or `default` for the tenant's default model) of one of its models, naming the catalog id
   *   to write. GET /v1/models lists aliases beside the models, but a key's list holds ids: the gateway checks a call by
   *   alias against the model it names (as a tier's `models.allowed`, lib/config/model-aliases.ts), so an alias there
   *   matched no call, and the key could call nothing.
   */
  private checkModels(tenant: TenantRecord, models: string[]): string[] {
    const policy = resolvePolicy(this.config, tenant);
    const own = policy.models;
    models.forEach((model, i) => {
      const target = own.has(model) ? undefined : policy.aliases?.get(model);
      if (target !== undefined && own.has(target)) {
        const what = model === 'default' && tenant.gateway?.defaultModel && tenant.gateway.defaultModel !== 'default' ? `the tenant's default model (its gateway policy's defaultModel), ${target}` : `an alias of ${target} (gateway.modelAliases)`;
        throw new IdentityError(400, `models[${i}] = "${model}": ${what}, and a key's models are catalog ids (a call by an alias is checked against the model it names, so a key with "${target}" calls it by both names): write "${target}"`, 'unknown_model', `models[${i}]`);
      }
      if (!own.has(model)) {
        const known = [...own.keys()];
        const shown = known.length > 10 ? `${known.slice(0, 10).join(', ')} and ${known.length - 10} more` : known.join(', ') || 'none';
        throw new IdentityError(400, `models[${i}] = "${model.slice(0, 120)}": not a model of tenant ${tenant.tenantId} (its models: ${shown}; GET /v1/models lists them)`, 'unknown_model', `models[${i}]`);
      }
    });
    return models;
  }

  private checkLimits(tenant: TenantRecord, limits: NonNullable<z.infer<typeof CreateApiKeyRequest>['limits']>): void {
    const policy = resolvePolicy(this.config, tenant);
    const ceilings: Array<[keyof typeof limits, number | undefined, string]> = [
      ['requestsPerMinute', policy.tier.limits.requestsPerMinute, `requests a minute (tier ${tenant.tier})`],
      ['tokensPerDay', policy.tier.limits.tokensPerDay, `tokens a day (tier ${tenant.tier})`],
      ['tokensPerMinute', policy.tier.limits.tokensPerMinute ?? policy.tier.limits.tokensPerDay, policy.tier.limits.tokensPerMinute !== undefined ? `tokens a minute (tier ${tenant.tier})` : `tokens a day (tier ${tenant.tier}, which has no tokensPerMinute)`],
      ['monthlyCostUsd', policy.gateway.monthlyCostBudgetUsd, 'USD a month (its gateway policy\'s monthlyCostBudgetUsd)'],
    ];
    for (const [field, ceiling, what] of ceilings) {
      const value = limits[field];
      if (value !== undefined && ceiling !== undefined && value > ceiling) {
        throw new IdentityError(400, `limits.${field} = ${value}: above tenant ${tenant.tenantId}'s own limit of ${ceiling} ${what}; a key's limit applies on top of the tenant's, so give at most ${ceiling}`, 'limit_above_tenant', `limits.${field}`);
      }
    }
  }
}
