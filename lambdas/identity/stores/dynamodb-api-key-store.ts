import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, paginateQuery, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type BatchWriteCommandInput, type QueryCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { pages, untilKeyRepeats } from '../../../lib/aws-pages.js';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import { isTenantId, SERVING_STATUSES, TenantStatus } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import type { ApiKeyStore } from './api-key-store.js';
import type { KeyPageRequest } from '../key-list-query.js';
import { createdAtKeyId, KEYS_BY_CREATION_INDEX } from '../../../lib/identity/api-key.js';
import { ApiKeyExistsError, hashPrefixOf, isKeyHash, isLive, KEY_HASH_CEILING, newestFirst, pageOf, parseStoredKey, TenantNotServedError, TooManyKeysError, UnknownAfterKeyError, withoutUndefined, type KeyPage, type LiveKeyCap } from './api-key-store-common.js';
import { ensureKeyOrder, KEY_ORDER_MARK } from './dynamodb-key-order.js';
import { changeLiveEntry, LIVE_INDEX_KEY, liveEntry, putLiveIndex, readLiveIndex, unexpired } from './dynamodb-live-keys.js';

/** DynamoDB's BatchWriteItem limit: 25 requests a call. */
const BATCH_SIZE = 25;
/** Attempts of a batch whose UnprocessedItems keep coming back (throttling), with exponential backoff from BACKOFF_MS. */
const BATCH_ATTEMPTS = 8;
const BACKOFF_MS = 50;
/** Attempts of a put whose transaction meets a concurrent write of the tenant's registry item or live-key index. */
const WRITE_ATTEMPTS = 8;
/** The longest wait between two of them (before jitter). */
const MAX_BACKOFF_MS = 800;
/** Query-and-delete passes of deleteAll before it gives up on a partition that keeps getting items. */
const DELETE_PASSES = 5;

const conditionFailed = (e: unknown) => e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException';

/** Options of DynamoDbApiKeyStore. */
export interface DynamoDbApiKeyStoreOptions {
  /** Waits between retries of unprocessed batch items and of conflicting transactions (tests make it instant). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The tenant registry table (TESSERA_REGISTRY_TABLE, partition key `tenantId`), in the keys
   * table's account and Region: `put` becomes a TransactWriteItems of a ConditionCheck that the
   * tenant's registry item is ACTIVE or UPDATING and the conditional Put, so no key is stored for
   * a tenant that left those statuses, however stale the caller's copy of its record.
   * @default - none: put checks no status (a store used only to delete, as the offboarding's)
   */
  readonly registryTable?: string;
}

/**
 * Key records in the platform's keys table: partition key `tenantId` (S), sort key `keyHash` (S),
 * one item per key, the ApiKeyRecord's fields as attributes. Every call uses the tenant's client
 * (`await docFor(tenantId)`): in the Lambdas a session of the tenant-data role tagged with the
 * tenant, whose `dynamodb:LeadingKeys` condition reaches only that tenant's partition; the admin
 * API (the platform operator) passes the platform's own client. Items are parsed with
 * ApiKeyRecord on the way out (a bad item throws, naming it).
 *
 * Reads are strongly consistent (`ConsistentRead: true`): a script creates a key and uses it in
 * the next second, and a revocation must take effect within the authorizer's documented cache TTL,
 * not that TTL plus replication lag. It costs 1 read unit instead of 0.5 per lookup, and the
 * authorizer reads a key once per cache TTL, not once a request.
 */
export class DynamoDbApiKeyStore implements ApiKeyStore {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly registryTable?: string;

  /**
   * @param table the keys table's name (TESSERA_API_KEYS_TABLE)
   * @param docFor the document client for a tenant (tenant-scoped in the Lambdas)
   */
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient, options: DynamoDbApiKeyStoreOptions = {}) {
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.registryTable = options.registryTable;
  }

  /** GetItem {tenantId, keyHash}; an id or hash that is not one asks for no session and finds nothing. */
  async get(tenantId: string, keyHash: string): Promise<ApiKeyRecord | undefined> {
    if (!isTenantId(tenantId) || !isKeyHash(keyHash)) return undefined;
    const doc = await this.docFor(tenantId);
    const out = await doc.send(new GetCommand({ TableName: this.table, Key: { tenantId, keyHash }, ConsistentRead: true }));
    return out.Item ? parseStoredKey(out.Item, `${tenantId}/${keyHash.slice(0, 16)}`) : undefined;
  }

  /** Query of the tenant's partition with `begins_with(keyHash, <the id's 16 hex>)`. */
  async findById(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const prefix = hashPrefixOf(keyId);
    if (!isTenantId(tenantId) || !prefix) return undefined;
    const found = await this.query(tenantId, {
      KeyConditionExpression: 'tenantId = :t AND begins_with(keyHash, :p)', ExpressionAttributeValues: { ':t': tenantId, ':p': prefix },
    });
    return found.map((item) => parseStoredKey(item, `${tenantId}/${keyId}`)).find((r) => r.keyId === keyId);
  }

  /** Query of the tenant's key records (`keyHash < "g"`), every page; newest first. */
  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    if (!isTenantId(tenantId)) return [];
    // The partition also holds users' token revocations (user-token-revocations.ts) and the live-key index: not keys, sorted above them.
    const items = await this.query(tenantId, { KeyConditionExpression: 'tenantId = :t AND keyHash < :g', ExpressionAttributeValues: { ':t': tenantId, ':g': KEY_HASH_CEILING } });
    return newestFirst(items.map((item) => parseStoredKey(item, `${tenantId}/${String(item.keyHash).slice(0, 16)}`)));
  }

  /**
   * A page in creation order: the tenant's keys made to be all in the creation index first (ensureKeyOrder: one
   * GetItem of its `order#keys` mark, and once per tenant a fill of the records written before the index; a list that
   * found records to fill answers from the records, read whole, as the index may not have them yet), then the
   * key `after` names read (findById) for its position, then one Query of KEYS_BY_CREATION_INDEX with `Limit` limit + 1
   * (the one past the page says whether more follow), `ScanIndexForward` false for `desc`, and `ExclusiveStartKey`
   * that key's table and index keys. A Query whose answer stops at DynamoDB's 1 MB (LastEvaluatedKey) before limit + 1
   * records is continued from there. A global secondary index is read eventually consistent (it takes no
   * ConsistentRead): a key made a moment before can be missing from a page for about a second.
   * @throws UnknownAfterKeyError when `after` is no key of the tenant
   */
  async listPage(tenantId: string, page: KeyPageRequest): Promise<KeyPage> {
    if (!isTenantId(tenantId)) {
      if (page.after !== undefined) throw new UnknownAfterKeyError(tenantId, page.after);
      return { records: [], hasMore: false };
    }
    const doc = await this.docFor(tenantId);
    const { found } = await ensureKeyOrder(doc, this.table, tenantId);
    // Records just filled in may not have reached the index yet (it is updated asynchronously): this once, the page is
    // read from the records themselves (every key of the tenant, strongly consistent), in the same order.
    if (found > 0) return pageOf(tenantId, await this.list(tenantId), page);
    let start: Record<string, unknown> | undefined;
    if (page.after !== undefined) {
      const after = await this.findById(tenantId, page.after);
      if (!after) throw new UnknownAfterKeyError(tenantId, page.after);
      start = { tenantId, keyHash: after.keyHash, [KEYS_BY_CREATION_INDEX.sortKey]: createdAtKeyId(after) };
    }
    const items: Array<Record<string, unknown>> = [];
    do {
      const out = await doc.send(new QueryCommand({
        TableName: this.table, IndexName: KEYS_BY_CREATION_INDEX.name, KeyConditionExpression: 'tenantId = :t',
        ExpressionAttributeValues: { ':t': tenantId }, ScanIndexForward: page.order === 'asc',
        Limit: page.limit + 1 - items.length, ExclusiveStartKey: start,
      }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start && items.length <= page.limit);
    const records = items.slice(0, page.limit).map((item) => parseStoredKey(item, `${tenantId}/${String(item.keyHash).slice(0, 16)}`));
    return { records, hasMore: items.length > page.limit };
  }

  /**
   * PutItem conditioned on `attribute_not_exists(keyHash)`, the item the record's fields and `createdAtKeyId` (its
   * place in the creation index, KEYS_BY_CREATION_INDEX). With `registryTable`: one
   * TransactWriteItems of
   * 1. ConditionCheck on the registry item `{tenantId}`: `#status IN (ACTIVE, UPDATING)`
   *    (ReturnValuesOnConditionCheckFailure ALL_OLD, to name the status it found), and
   * 2. that Put,
   * both or neither. DynamoDB isolates a transaction serializably from single-item writes of the
   * same items (Developer Guide, "Isolation levels for DynamoDB transactions"), so the lease write
   * that moves the tenant to OFFBOARDING or SUSPENDED comes wholly before the key write (which
   * then exists for the offboarding's deletion, a later step, to find) or wholly after it (and the
   * key write is refused). Both tables are the platform stack's, in one account and Region, as a
   * transaction requires (TransactWriteItems: no two actions on one item, none in another account or
   * Region). A transaction consumes more write capacity than a plain PutItem (DynamoDB prepares and
   * commits each of its items); keys are created one at a time by admins.
   *
   * The tenant's live-key index (dynamodb-live-keys.ts) is read first and written in the same transaction: with `cap`
   * (a create) the whole index, conditioned on the version read, after counting its unexpired entries (TooManyKeysError
   * at `cap.max`; at the cap by the index, counted again from the records); without `cap` (a rotation's successor) the
   * key's entry is added when the tenant has an index, and a successor (`rotatedFrom`) of a tenant without one builds it
   * from the records (conditioned on there being none), so it cannot land unseen while a create builds the index. An
   * uncapped put of a key that is no successor (none in the service) leaves a tenant without an index without one. An index changed meanwhile (a concurrent create or revocation)
   * or a TransactionConflict is read and tried again, WRITE_ATTEMPTS in all, with jittered backoff.
   * @throws ApiKeyExistsError when the item exists
   * @throws TenantNotServedError when the registry item is not ACTIVE or UPDATING, or missing
   * @throws TooManyKeysError when `cap` is given and the tenant has `cap.max` live keys
   */
  async put(record: ApiKeyRecord, cap?: LiveKeyCap): Promise<void> {
    const doc = await this.docFor(record.tenantId);
    // As JSON keeps it: no undefined attribute at any depth (the document client refuses one unless told to drop it).
    const item = { ...JSON.parse(JSON.stringify(record)), [KEYS_BY_CREATION_INDEX.sortKey]: createdAtKeyId(record) } as Record<string, unknown>;
    const put = { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(keyHash)' };
    const served = Object.fromEntries(SERVING_STATUSES.map((s, i) => [`:s${i}`, s]));
    const fence = this.registryTable && {
      TableName: this.registryTable, Key: { tenantId: record.tenantId },
      ConditionExpression: `#status IN (${Object.keys(served).join(', ')})`,
      ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: served,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    for (let attempt = 1; ; attempt++) {
      const index = await readLiveIndex(doc, this.table, record.tenantId);
      let indexWrite: ReturnType<typeof putLiveIndex> | { Update: ReturnType<typeof changeLiveEntry> } | undefined;
      if (cap) {
        let live = index ? unexpired(index.live, cap.now) : await this.liveFromRecords(record.tenantId, cap.now);
        // At the cap by the index: counted again from the records, since the index may still hold a key revoked or cut short since (dynamodb-live-keys.ts).
        if (index && Object.keys(live).length >= cap.max) live = await this.liveFromRecords(record.tenantId, cap.now);
        const count = Object.keys(live).length;
        if (count >= cap.max) throw new TooManyKeysError(record.tenantId, count);
        indexWrite = putLiveIndex(this.table, record.tenantId, { ...live, [record.keyId]: liveEntry(record) }, index);
      } else if (index) {
        indexWrite = { Update: changeLiveEntry(this.table, record.tenantId, record.keyId, liveEntry(record)) };
      } else if (record.rotatedFrom !== undefined) {
        // A rotation's successor on a tenant with no index builds it from the records, as a create does: the two then
        // race on creating the one index item (attribute_not_exists) and the loser reads the winner's, so a create that
        // counted the records just before this key was written cannot leave an index without it (one under the count).
        const live = await this.liveFromRecords(record.tenantId, new Date(record.createdAt));
        indexWrite = putLiveIndex(this.table, record.tenantId, { ...live, [record.keyId]: liveEntry(record) }, undefined);
      }
      if (!fence && !indexWrite) {
        try {
          await doc.send(new PutCommand(put));
          return;
        } catch (e) {
          if (conditionFailed(e)) throw new ApiKeyExistsError(record.tenantId, record.keyHash);
          throw e;
        }
      }
      const transactItems = [...(fence ? [{ ConditionCheck: fence }] : []), { Put: put }, ...(indexWrite ? [indexWrite] : [])];
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: transactItems as never }));
        return;
      } catch (e) {
        const reasons = e instanceof TransactionCanceledException || (e as Error).name === 'TransactionCanceledException' ? (e as TransactionCanceledException).CancellationReasons ?? [] : undefined;
        if (!reasons) throw e;
        const keyAt = fence ? 1 : 0;
        const registry = fence ? reasons[0] : undefined;
        if (registry?.Code === 'ConditionalCheckFailed') {
          const status = TenantStatus.safeParse(registry.Item?.status?.S);
          throw new TenantNotServedError(record.tenantId, status.success ? status.data : undefined);
        }
        if (reasons[keyAt]?.Code === 'ConditionalCheckFailed') throw new ApiKeyExistsError(record.tenantId, record.keyHash);
        // The index changed since it was read (another create, a revocation), or was deleted (offboarding): read it again.
        const indexMoved = indexWrite !== undefined && reasons[keyAt + 1]?.Code === 'ConditionalCheckFailed';
        if (!(indexMoved || reasons.some((r) => r.Code === 'TransactionConflict')) || attempt >= WRITE_ATTEMPTS) throw e;
        await this.sleep(Math.min(BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS) * (0.5 + Math.random() / 2));
      }
    }
  }

  /** The tenant's live keys at `now` from its records (a full read: a tenant with no index yet, or one at the cap by it). */
  private async liveFromRecords(tenantId: string, now: Date): Promise<Record<string, string>> {
    return Object.fromEntries((await this.list(tenantId)).filter((r) => isLive(r, now)).map((r) => [r.keyId, liveEntry(r)]));
  }

  /**
   * A key record's UpdateItem (`input`, conditioned); when `changes` set `revokedAt` or `expiresAt` and the tenant has a
   * live-key index (read first, strongly consistent), one TransactWriteItems of it and the change of the key's entry in
   * the index (changeLiveEntry: removed for `revokedAt`, else set to `expiresAt`), both or neither: a revoked key leaves
   * the index in the write that revokes it, so a create at the cap right after counts it no more (no recount of the
   * records). An index deleted meanwhile (offboarding) or a TransactionConflict is read and tried again, WRITE_ATTEMPTS
   * in all. A tenant without an index gets a plain UpdateItem (a create builds its index from the records).
   * @returns whether the record was changed (false: `input`'s condition failed)
   */
  private async changeRecord(tenantId: string, keyHash: string, input: UpdateCommandInput, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'>>): Promise<boolean> {
    const doc = await this.docFor(tenantId);
    const touchesIndex = changes.revokedAt !== undefined || changes.expiresAt !== undefined;
    for (let attempt = 1; ; attempt++) {
      const index = touchesIndex ? await readLiveIndex(doc, this.table, tenantId) : undefined;
      if (!index) {
        try {
          await doc.send(new UpdateCommand(input));
          return true;
        } catch (e) {
          if (conditionFailed(e)) return false;
          throw e;
        }
      }
      const entry = changeLiveEntry(this.table, tenantId, `key_${keyHash.slice(0, 16)}`, changes.revokedAt === undefined ? changes.expiresAt : undefined);
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: [{ Update: input }, { Update: entry }] as never }));
        return true;
      } catch (e) {
        const reasons = e instanceof TransactionCanceledException || (e as Error).name === 'TransactionCanceledException' ? (e as TransactionCanceledException).CancellationReasons ?? [] : undefined;
        if (!reasons) throw e;
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
        const again = reasons[1]?.Code === 'ConditionalCheckFailed' || reasons.some((r) => r.Code === 'TransactionConflict');
        if (!again || attempt >= WRITE_ATTEMPTS) throw e;
        await this.sleep(Math.min(BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS) * (0.5 + Math.random() / 2));
      }
    }
  }

  /** UpdateItem SET of the given fields, conditioned on the item existing (a missing one is not created); a `revokedAt` or `expiresAt` changes the live-key index in the same transaction (changeRecord). */
  async update(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'lastUsedAt' | 'rotatedTo'>>): Promise<void> {
    const update = this.setUpdate(tenantId, keyHash, changes, 'attribute_exists(keyHash)');
    if (update) await this.changeRecord(tenantId, keyHash, update, changes);
  }

  /** UpdateItem SET of the given fields, conditioned on the item existing with neither `rotatedTo` nor `revokedAt`; the old key's `expiresAt` or `revokedAt` changes the live-key index in the same transaction (changeRecord). */
  async claimRotation(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'rotatedTo'>>): Promise<boolean> {
    const update = this.setUpdate(tenantId, keyHash, changes, 'attribute_exists(keyHash) AND attribute_not_exists(rotatedTo) AND attribute_not_exists(revokedAt)');
    return update ? this.changeRecord(tenantId, keyHash, update, changes) : false;
  }

  /** The UpdateItem input that SETs `changes`' defined fields under `condition`; undefined when there is none to set or the key is not one this store writes. */
  private setUpdate(tenantId: string, keyHash: string, changes: Partial<ApiKeyRecord>, condition: string) {
    const set = Object.entries(withoutUndefined(changes));
    if (!set.length || !isTenantId(tenantId) || !isKeyHash(keyHash)) return undefined;
    return {
      TableName: this.table, Key: { tenantId, keyHash },
      UpdateExpression: `SET ${set.map(([k]) => `#${k} = :${k}`).join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: Object.fromEntries(set.map(([k]) => [`#${k}`, k])),
      ExpressionAttributeValues: Object.fromEntries(set.map(([k, v]) => [`:${k}`, v])),
    };
  }

  /**
   * Query of the tenant's items (key records and users' token revocations; key attributes only), then BatchWriteItem deletes, 25 a call;
   * UnprocessedItems are sent again with exponential backoff (50 ms doubling, 8 attempts). Repeated until a Query finds
   * nothing (at most DELETE_PASSES passes; 2 calls of Query when there was anything to delete): a Query is not
   * isolated from transactions (read-committed only), so a fenced put whose transaction passed its
   * status check before the tenant left ACTIVE can become visible after the first Query; no put
   * passes the check after it (put), so the partition stays empty once a pass finds nothing.
   * @returns how many items were deleted (key records and token revocations; the live-key index and the `order#keys` mark are not counted), every pass together
   * @throws Error naming how many deletes were left unprocessed after the last attempt
   * @throws Error naming how many items were still found after DELETE_PASSES passes (something writes the partition unfenced)
   */
  async deleteAll(tenantId: string): Promise<number> {
    if (!isTenantId(tenantId)) return 0;
    let deleted = 0;
    for (let pass = 1; ; pass++) {
      const items = await this.query(tenantId, {
        KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': tenantId }, ProjectionExpression: 'tenantId, keyHash',
      });
      if (!items.length) return deleted;
      if (pass > DELETE_PASSES) throw new Error(`${this.table} still held ${items.length} items of tenant ${tenantId} after ${DELETE_PASSES} passes of deletes (${deleted} deleted): something keeps writing the tenant's partition without the registry check; run the deletion again`);
      await this.deleteItems(tenantId, items);
      deleted += items.filter((item) => item.keyHash !== LIVE_INDEX_KEY && item.keyHash !== KEY_ORDER_MARK).length; // the index and the mark are no records of their own
    }
  }

  /** BatchWriteItem deletes of `items` (key attributes), 25 a call, unprocessed ones sent again. */
  private async deleteItems(tenantId: string, items: Array<Record<string, unknown>>): Promise<void> {
    const doc = await this.docFor(tenantId);
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      let requests: NonNullable<BatchWriteCommandInput['RequestItems']> = {
        [this.table]: items.slice(i, i + BATCH_SIZE).map((item) => ({ DeleteRequest: { Key: { tenantId, keyHash: item.keyHash } } })),
      };
      for (let attempt = 1; ; attempt++) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: requests }));
        const left = out.UnprocessedItems?.[this.table]?.length ?? 0;
        if (!left) break;
        if (attempt >= BATCH_ATTEMPTS) throw new Error(`BatchWriteItem on ${this.table} left ${left} of tenant ${tenantId}'s key records undeleted after ${BATCH_ATTEMPTS} attempts (throttled); run the deletion again`);
        requests = out.UnprocessedItems!;
        await this.sleep(BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
  }

  private async query(tenantId: string, input: Omit<QueryCommandInput, 'TableName'>): Promise<Array<Record<string, unknown>>> {
    const doc = await this.docFor(tenantId);
    const items: Array<Record<string, unknown>> = [];
    const calls = paginateQuery(pages(doc), { TableName: this.table, ConsistentRead: true, ...input, ExclusiveStartKey: undefined });
    for await (const out of untilKeyRepeats(calls, (page) => page.LastEvaluatedKey)) items.push(...(out.Items ?? []));
    return items;
  }
}
