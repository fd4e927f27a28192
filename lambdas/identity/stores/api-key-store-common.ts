import { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import type { KeyPageRequest } from '../key-list-query.js';
import { createdAtKeyId } from '../../../lib/identity/api-key.js';
import { SERVING_STATUSES, type TenantStatus } from '../../../lib/tenant-record.js';

/** What every ApiKeyStore shares: the refusal of a second record with one hash, ordering, and checks of ids. */

/** `put` found a record with this hash already (a second put of one key; never two minted keys: 256 random bits). */
export class ApiKeyExistsError extends Error {
  constructor(readonly tenantId: string, readonly keyHash: string) {
    super(`a key record with hash ${keyHash.slice(0, 16)}… already exists for tenant ${tenantId}; records are never overwritten`);
  }
}

/**
 * `put` found the tenant, at the write itself, in a status that may not get keys (not one of
 * SERVING_STATUSES: ACTIVE, UPDATING), or without a registry record (`status` undefined). The
 * record was not stored (DynamoDB: the transaction was cancelled) or was removed again before
 * this was thrown (file and memory stores). ApiKeyService answers it as 409 `invalid_status`.
 */
export class TenantNotServedError extends Error {
  constructor(readonly tenantId: string, readonly status: TenantStatus | undefined) {
    super(`tenant ${tenantId} is ${status ?? 'not in the registry'}: keys are stored only for a tenant that is served (${SERVING_STATUSES.join(' or ')})`);
  }
}

/**
 * The live-key cap a create's put enforces at the write (ApiKeyService's MAX_LIVE_KEYS): the store refuses the record
 * with TooManyKeysError when the tenant already has `max` live keys at `now` (neither revoked nor past `expiresAt`).
 */
export interface LiveKeyCap {
  /** The most live keys a tenant may hold; a put that would make one more is refused. */
  readonly max: number;
  /** The instant keys are live at (an `expiresAt` at or before it is expired). */
  readonly now: Date;
}

/** `put` with a LiveKeyCap found the tenant at the cap: nothing was stored. ApiKeyService answers it as 409 `too_many_keys`. */
export class TooManyKeysError extends Error {
  constructor(readonly tenantId: string, readonly live: number) {
    super(`tenant ${tenantId} has ${live} live API keys`);
  }
}

/** Whether a record is live at `now`: not revoked, not past its `expiresAt` (api-keys.ts keyUsable, without the reason). */
export const isLive = (r: Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'>, now: Date): boolean =>
  r.revokedAt === undefined && (r.expiresAt === undefined || Date.parse(r.expiresAt) > now.getTime());

/** Whether a tenant in `status` (undefined: no registry record) may have a key stored. */
export const mayHoldKeys = (status: TenantStatus | undefined): boolean => status !== undefined && SERVING_STATUSES.includes(status);

/**
 * Where the file and memory stores read a tenant's status at a key write (the gateway store's
 * registry, uncached): undefined for a tenant with no record. A put writes the record first, then
 * reads the status and removes its record when the tenant may not hold keys: an offboarding moves
 * the tenant to OFFBOARDING before it deletes its keys, so a put either reads a served status
 * before that move (and its record is there for the deletion to find) or reads the move and
 * removes its own record. A read that fails removes the record too (its error is thrown).
 */
export type TenantStatusReader = (tenantId: string) => Promise<TenantStatus | undefined>;

const KEY_HASH = /^[0-9a-f]{64}$/;
const KEY_ID = /^key_([0-9a-f]{16})$/;

/** Whether `value` is a key hash (64 lower-case hex characters): anything else names no record (nor a file). */
export const isKeyHash = (value: string): boolean => KEY_HASH.test(value);

/** The 16 hex characters a key id (`key_<16 hex>`) shares with the start of its hash, or undefined for anything else. */
export const hashPrefixOf = (keyId: string): string | undefined => KEY_ID.exec(keyId)?.[1];

/** Newest first (`createdAt` descending; the id breaks ties so the order is stable). */
export const newestFirst = (records: ApiKeyRecord[]): ApiKeyRecord[] =>
  records.sort((a, b) => (a.createdAt === b.createdAt ? a.keyId.localeCompare(b.keyId) : a.createdAt < b.createdAt ? 1 : -1));

/**
 * A stored item as an ApiKeyRecord.
 * @throws Error naming the tenant, the key id and the bad fields when the stored item is not a record (a corrupt or hand-edited item)
 */
export function parseStoredKey(item: unknown, where: string): ApiKeyRecord {
  const parsed = ApiKeyRecord.safeParse(item);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
  throw new Error(`the stored API key record ${where} is not a valid record (fields: ${fields}); fix or delete it`);
}

/** The record without undefined fields (what JSON and DynamoDB keep). */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** One page of a tenant's keys (ApiKeyStore.listPage): the records in the order asked, and whether more follow. */
export interface KeyPage {
  readonly records: ApiKeyRecord[];
  /** Whether a key follows the last one in that order (ask again with `after` = its id). */
  readonly hasMore: boolean;
}

/**
 * Sort keys below this one are key hashes (64 hex digits, all below `g`); the partition's other items sort above it
 * (users' token revocations, `user#<sub>`: user-token-revocations.ts; the live-key index, `live#keys`; the mark that
 * the tenant's keys are all in the creation index, `order#keys`: dynamodb-key-order.ts).
 */
export const KEY_HASH_CEILING = 'g';

/**
 * `listPage` was given an `after` that is no key of the tenant (a key id it never had, or another tenant's). OpenAI
 * refuses a cursor its list does not hold ("Given after argument was not found in items": openai/openai-python#938)
 * rather than answer a page from a guessed position; ApiKeyService answers it as 400 `invalid_value`, param `after`.
 * Keys are never deleted but by offboarding, so every `last_id` a list answered stays a key of the tenant.
 */
export class UnknownAfterKeyError extends Error {
  constructor(readonly tenantId: string, readonly after: string) {
    super(`after ${after} is not a key of tenant ${tenantId}`);
  }
}

/** Oldest first by creation (createdAtKeyId: `createdAt`, then the key id for keys made in the same millisecond). */
export const byCreation = (a: ApiKeyRecord, b: ApiKeyRecord): number => {
  const [x, y] = [createdAtKeyId(a), createdAtKeyId(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * The page `page` asks of `records` (a tenant's records, any order), in creation order (`asc` oldest first, `desc`
 * newest first; byCreation): after the key `page.after`, at most `page.limit` records. For the file and memory stores;
 * DynamoDbApiKeyStore pages with a Query of KEYS_BY_CREATION_INDEX.
 * @throws UnknownAfterKeyError when `page.after` names none of `records`
 */
export function pageOf(tenantId: string, records: ApiKeyRecord[], page: KeyPageRequest): KeyPage {
  const sorted = records.sort(byCreation);
  if (page.order === 'desc') sorted.reverse();
  let rest = sorted;
  if (page.after !== undefined) {
    const at = sorted.findIndex((r) => r.keyId === page.after);
    if (at < 0) throw new UnknownAfterKeyError(tenantId, page.after);
    rest = sorted.slice(at + 1);
  }
  return { records: rest.slice(0, page.limit), hasMore: rest.length > page.limit };
}
