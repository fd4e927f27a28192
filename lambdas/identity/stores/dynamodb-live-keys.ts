import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';

/**
 * A tenant's index of its live keys in the keys table, beside its key records: one item, sort key `live#keys` (above
 * every key hash, KEY_HASH_CEILING, so no key Query reads it), attribute `live` a map of key id → the key's
 * `expiresAt` (`""`: never) for each key not revoked, and `version`, a number each change raises. A create reads this
 * one item (GetItem, strongly consistent) instead of every record of the tenant, and writes the map back in the
 * transaction that stores the key, conditioned on the version it read: of creates racing at the cap, one writes and
 * the others read again (DynamoDbApiKeyStore.put). Revocations and rotations change the map in the transaction that
 * changes the key record (DynamoDbApiKeyStore.changeRecord, since 2026-12-07: before, a second write after it, and an
 * entry stayed when that write failed), so the map holds the keys not revoked; one past its `expiresAt` is dropped at
 * the count (unexpired). It can still hold a key no longer live in one case: built from the records by a create while a
 * revocation of a tenant without an index ran (that revocation found no index to change). So a tenant it says is at
 * the cap is counted again from its records (the only full read, and only at the cap). A tenant with no index (keys
 * made before it existed) gets one from its records on its next create or rotation, whichever writes first (both
 * conditioned on there being no index: the other reads it and tries again). Offboarding deletes it with the records.
 */
export const LIVE_INDEX_KEY = 'live#keys';

/** The index item's map and version. */
export interface LiveIndex {
  /** Key id → `expiresAt` (ISO 8601) or `""` (never), for each key not revoked. */
  readonly live: Record<string, string>;
  readonly version: number;
}

/** The map's value for a key: its `expiresAt`, or `""` when it never expires. */
export const liveEntry = (record: Pick<ApiKeyRecord, 'expiresAt'>): string => record.expiresAt ?? '';

/** The entries of `live` still live at `now` (an entry past its expiry is dropped). */
export function unexpired(live: Record<string, string>, now: Date): Record<string, string> {
  return Object.fromEntries(Object.entries(live).filter(([, expiresAt]) => expiresAt === '' || Date.parse(expiresAt) > now.getTime()));
}

/** GetItem of the tenant's index (strongly consistent), or undefined when the tenant has none. */
export async function readLiveIndex(doc: DynamoDBDocumentClient, table: string, tenantId: string): Promise<LiveIndex | undefined> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: { tenantId, keyHash: LIVE_INDEX_KEY }, ConsistentRead: true }));
  if (!out.Item) return undefined;
  return { live: (out.Item.live ?? {}) as Record<string, string>, version: Number(out.Item.version ?? 0) };
}

/**
 * The transaction item that writes the whole index: `live` with `version` + 1, conditioned on the version read
 * (`#version = :read`), or on there being no index when none was read.
 */
export function putLiveIndex(table: string, tenantId: string, live: Record<string, string>, read: LiveIndex | undefined) {
  return {
    Put: {
      TableName: table, Item: { tenantId, keyHash: LIVE_INDEX_KEY, live, version: (read?.version ?? 0) + 1 },
      ...(read
        ? { ConditionExpression: '#version = :read', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':read': read.version } }
        : { ConditionExpression: 'attribute_not_exists(keyHash)' }),
    },
  };
}

/**
 * The UpdateItem input that sets one key's entry (`expiresAt`: its expiry, `""` never) or removes it (undefined: a
 * revoked key), raising `version`; conditioned on the index existing (`attribute_exists(live)`), so a tenant without
 * one gets none made here.
 */
export function changeLiveEntry(table: string, tenantId: string, keyId: string, expiresAt: string | undefined) {
  return {
    TableName: table, Key: { tenantId, keyHash: LIVE_INDEX_KEY },
    UpdateExpression: expiresAt === undefined ? 'REMOVE live.#key ADD #version :one' : 'SET live.#key = :expiresAt ADD #version :one',
    ConditionExpression: 'attribute_exists(live)',
    ExpressionAttributeNames: { '#key': keyId, '#version': 'version' },
    ExpressionAttributeValues: { ':one': 1, ...(expiresAt === undefined ? {} : { ':expiresAt': expiresAt }) },
  };
}
