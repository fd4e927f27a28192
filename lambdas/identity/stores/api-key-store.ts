import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import type { KeyPageRequest } from '../key-list-query.js';
import type { KeyPage, LiveKeyCap } from './api-key-store-common.js';

/**
 * Where tenant API key records live: DynamoDB (`DynamoDbApiKeyStore`, the keys table, reached
 * with the tenant-scoped client: partition key `tenantId`, sort key `keyHash`), a directory of
 * files (`FileApiKeyStore`, `tessera serve`, shared by its worker threads) or memory (tests).
 * Every call names the tenant; no call reaches another tenant's records.
 */
export interface ApiKeyStore {
  /** The record of one key: a single read by hash. */
  get(tenantId: string, keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** The record with this public id (`key_…`), revoked or not. */
  findById(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined>;
  /** Every record of the tenant, newest first (reads them all: offboarding and tests; a list route pages with listPage). */
  list(tenantId: string): Promise<ApiKeyRecord[]>;
  /**
   * One page of the tenant's records in creation order (KeyPageRequest: `limit`, `after`, `order`; `createdAt`, then
   * key id), revoked and expired ones included. DynamoDB reads about `limit` records (a GetItem of the key `after`
   * names, one Query of the creation index with `Limit` limit + 1); the file and memory stores read every record.
   * @throws UnknownAfterKeyError when `after` is no key of the tenant
   */
  listPage(tenantId: string, page: KeyPageRequest): Promise<KeyPage>;
  /**
   * Stores a new record; refuses to overwrite one with the same hash. A store given the tenant's
   * registry (DynamoDB: `registryTable`; file and memory: `tenantStatus`) checks, at the write
   * itself, that the tenant may hold keys (ACTIVE or UPDATING), so a key written while an
   * offboarding deletes the tenant's keys cannot outlive the deletion.
   * With `cap` (a create: LiveKeyCap), the store refuses the record when the tenant already has `cap.max` live keys,
   * checked at the write: DynamoDB in one transaction with a counted index of the live keys (exact under concurrent
   * creates), memory atomically; the file store (`tessera serve`) counts, then writes.
   * @param cap the live-key cap of a create @default - none: a rotation's successor, never refused by the cap
   * @throws ApiKeyExistsError when a record with this hash exists
   * @throws TenantNotServedError when the tenant is not ACTIVE or UPDATING at the write (nothing is kept)
   * @throws TooManyKeysError when `cap` is given and the tenant has `cap.max` live keys (nothing is kept)
   */
  put(record: ApiKeyRecord, cap?: LiveKeyCap): Promise<void>;
  /** Sets these fields of an existing record (`revokedAt`, `expiresAt`, `lastUsedAt`, `rotatedTo`); a missing record is left missing. */
  update(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'lastUsedAt' | 'rotatedTo'>>): Promise<void>;
  /**
   * Sets `changes` (the rotated key's `rotatedTo` and its grace `expiresAt` or `revokedAt`) only when
   * the record is neither rotated (`rotatedTo`) nor revoked (`revokedAt`): one atomic check-and-set,
   * so of rotations racing on one key exactly one wins.
   * @returns whether the changes were set (false: the record is rotated or revoked already, or missing)
   */
  claimRotation(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'rotatedTo'>>): Promise<boolean>;
  /**
   * Deletes every record of the tenant (offboarding; the tenant is OFFBOARDING already, so fenced
   * puts are refused from then on). @returns how many were deleted
   */
  deleteAll(tenantId: string): Promise<number>;
}
