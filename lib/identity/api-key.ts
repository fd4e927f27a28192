import baseX from 'base-x';
import { hash, randomBytes } from 'node:crypto';
import { TENANT_ID_PATTERN } from '../tenant-naming.js';
import { isTenantId } from '../tenant-record.js';

const BASE62 = baseX('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
/** 256 random bits in base62: 43 characters (62^43 > 2^256), left-padded with `0`. */
const SECRET_LENGTH = 43;
const TENANT = TENANT_ID_PATTERN.slice(1, -1);

/** The platform's keys table (constructs/api-keys-table.ts): key records and users' token revocations. */
export const API_KEYS_TABLE_NAME = 'tessera-gateway-api-keys';

/**
 * The keys table's index of key records by creation (a sparse GSI: only key records carry `createdAtKeyId`, so users'
 * token revocations and the tenant's `live#keys` and `order#keys` items are not in it): partition key `tenantId`,
 * sort key `createdAtKeyId` = the key's `createdAt` as `Date.toISOString` (24 characters, UTC, milliseconds) then `#`
 * and its key id, so keys sort by creation time and keys made in the same millisecond by id (OpenAI orders its admin
 * API keys list by `created_at`). Every attribute is projected: a page is one Query of it.
 */
export const KEYS_BY_CREATION_INDEX = { name: 'tenantId-createdAtKeyId', sortKey: 'createdAtKeyId' } as const;

/**
 * A key's `createdAtKeyId` (KEYS_BY_CREATION_INDEX's sort key): `<createdAt as toISOString>#<keyId>`. The time is
 * normalized, so `2026-12-07T12:00:00Z` and `2026-12-07T12:00:00.000Z` sort as the one instant they are.
 * @throws RangeError when `createdAt` is not a date
 */
export const createdAtKeyId = (record: { createdAt: string; keyId: string }): string => `${new Date(record.createdAt).toISOString()}#${record.keyId}`;

/** `tsk_<tenant id>_<43 base62 characters>`; the tenant id holds no `_` (TENANT_ID_PATTERN). */
export const API_KEY_PATTERN = new RegExp(`^tsk_(${TENANT})_([0-9A-Za-z]{${SECRET_LENGTH}})$`);

/** A new key, as shown once to its creator, and what the platform keeps of it. */
export interface MintedApiKey {
  /** The key itself: shown once, never stored. */
  key: string;
  /** Hex SHA-256 of the key: the keys table's sort key. */
  keyHash: string;
  /** `key_<first 16 hex characters of the hash>`: the public id that lists, revokes and audits name. */
  keyId: string;
  /** `tsk_<tenant>_…<last 4>`: enough to recognise a key in a list, not to use it. */
  hint: string;
}

/** Hex SHA-256 of a key (UTF-8). */
export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');

/** The public id of a key: `key_` and the first 16 hex characters of its hash. */
export const keyIdOf = (keyHash: string): string => `key_${keyHash.slice(0, 16)}`;

/** Whether a bearer token has the shape of a tenant API key (`tsk_…`), valid or not. */
export const looksLikeApiKey = (token: string): boolean => token.startsWith('tsk_');

/**
 * Mints a key for `tenantId`: 256 bits from the CSPRNG in base62 behind the tenant-safe prefix.
 * @throws Error when `tenantId` does not match TENANT_ID_PATTERN
 */
export function mintApiKey(tenantId: string): MintedApiKey {
  if (!isTenantId(tenantId)) throw new Error(`"${tenantId}" is not a tenant id`);
  const secret = BASE62.encode(randomBytes(32)).padStart(SECRET_LENGTH, '0');
  const key = `tsk_${tenantId}_${secret}`;
  const keyHash = hashApiKey(key);
  return { key, keyHash, keyId: keyIdOf(keyHash), hint: `tsk_${tenantId}_…${secret.slice(-4)}` };
}

/**
 * The tenant a key names and its hash, or undefined when `key` is not shaped like one. The shape
 * says nothing of validity: only the keys table's record (found by the hash) does.
 */
export function parseApiKey(key: string): { tenantId: string; keyHash: string } | undefined {
  const match = API_KEY_PATTERN.exec(key);
  return match ? { tenantId: match[1]!, keyHash: hashApiKey(key) } : undefined;
}
