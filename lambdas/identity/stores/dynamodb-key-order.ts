import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, paginateQuery, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pages, untilKeyRepeats } from '../../../lib/aws-pages.js';
import { retryConflicts } from '../../shared/transactions.js';
import { createdAtKeyId, KEYS_BY_CREATION_INDEX } from '../../../lib/identity/api-key.js';
import { KEY_HASH_CEILING } from './api-key-store-common.js';

/**
 * The keys table's creation index (KEYS_BY_CREATION_INDEX) is sparse: a key record is in it only with its
 * `createdAtKeyId`, which DynamoDbApiKeyStore.put writes with every key since 2026-12-07 (session 48). Keys written
 * before carry none, so a tenant's first list fills it in (ensureKeyOrder) and then marks the tenant done: one item
 * beside its keys, sort key `order#keys` (above every key hash, KEY_HASH_CEILING, and without `createdAtKeyId`, so
 * neither a key Query nor the index reads it), attribute `orderedAt`. From then on a list costs one GetItem of the mark
 * more than the Query of its page. Backfilled lazily, not by a migration at deploy: nothing to run, no Lambda that
 * scans every tenant's partition, and a tenant that never lists pays nothing. Offboarding deletes the mark with the keys;
 * a tenant without key records gets no mark (its list costs one Query of its empty key range instead).
 */
export const KEY_ORDER_MARK = 'order#keys';

/** How many backfill writes run at once (a tenant may have ~10,000 old keys: one at a time would pass API Gateway's 29 s). */
const BACKFILL_CONCURRENCY = 16;

const conditionFailed = (e: unknown) => e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException';

/**
 * Makes sure every key record of the tenant is in the creation index before a page of it is read:
 * 1. GetItem of the tenant's `order#keys` mark (strongly consistent); present: nothing more to do;
 * 2. else Query of its key records (`keyHash < "g"`) without `createdAtKeyId` (FilterExpression; every page), and an
 *    UpdateItem of each that sets it from the record's `createdAt` and `keyId`, conditioned on the record existing
 *    without one (a record deleted or filled meanwhile is left as it is), BACKFILL_CONCURRENCY at a time; one refused with
 *    TransactionConflictException (a revocation's or rotation's transaction of that record in flight) is made again (retryConflicts);
 * 3. PutItem of the mark, only when the Query read any key record: a tenant with none (never had keys, or offboarded:
 *    its partition emptied) gets no item written, so a list of an offboarded tenant leaves nothing behind its deletion.
 *    A run cut short (a timeout, a throttle) leaves no mark: the next list goes on from where it stopped (the filter
 *    skips what was filled). Two lists at once fill the same records; the second write of one is refused and skipped.
 * A global secondary index is updated asynchronously (DynamoDB Developer Guide, "Global secondary indexes": a write
 * reaches the index in a fraction of a second, typically), so records just filled may not be in it yet: the caller
 * answers the page from the records when `found` > 0.
 * @param doc the tenant's document client (the tenant-data role reaches only its partition)
 * @returns `found`: how many records lacked `createdAtKeyId` at this list's Query (0 when the tenant was marked or had
 *   none), and `filled`: how many of them this call's writes filled (another list at once may fill the rest)
 * @throws Error naming the record when a record's `createdAt` is not a date (a corrupt or hand-edited item; no mark is written)
 * @throws the DynamoDB error of a read or write (no mark is written)
 */
export async function ensureKeyOrder(doc: DynamoDBDocumentClient, table: string, tenantId: string): Promise<{ found: number; filled: number }> {
  const mark = await doc.send(new GetCommand({ TableName: table, Key: { tenantId, keyHash: KEY_ORDER_MARK }, ConsistentRead: true }));
  if (mark.Item) return { found: 0, filled: 0 };
  const missing: Array<{ keyHash: string; keyId: string; createdAt: string }> = [];
  const calls = paginateQuery(pages(doc), {
    TableName: table, ConsistentRead: true, KeyConditionExpression: 'tenantId = :t AND keyHash < :g',
    FilterExpression: 'attribute_not_exists(#order)', ProjectionExpression: 'keyHash, keyId, createdAt',
    ExpressionAttributeNames: { '#order': KEYS_BY_CREATION_INDEX.sortKey }, ExpressionAttributeValues: { ':t': tenantId, ':g': KEY_HASH_CEILING },
  });
  let scanned = 0;
  for await (const out of untilKeyRepeats(calls, (page) => page.LastEvaluatedKey)) {
    scanned += out.ScannedCount ?? out.Items?.length ?? 0;
    missing.push(...((out.Items ?? []) as typeof missing));
  }
  for (const record of missing) {
    if (typeof record.createdAt !== 'string' || Number.isNaN(Date.parse(record.createdAt))) {
      throw new Error(`the stored API key record ${tenantId}/${String(record.keyId ?? record.keyHash.slice(0, 16))} is not a valid record (fields: createdAt); fix or delete it`);
    }
  }
  let filled = 0;
  for (let i = 0; i < missing.length; i += BACKFILL_CONCURRENCY) {
    await Promise.all(missing.slice(i, i + BACKFILL_CONCURRENCY).map(async (record) => {
      try {
        // retryConflicts: a revocation or rotation of the key is a TransactWriteItems of its record (changeRecord), and a
        // single-item write meeting it in flight is refused with TransactionConflictException (not applied): made again.
        await retryConflicts(() => doc.send(new UpdateCommand({
          TableName: table, Key: { tenantId, keyHash: record.keyHash }, UpdateExpression: 'SET #order = :order',
          ConditionExpression: 'attribute_exists(keyHash) AND attribute_not_exists(#order)',
          ExpressionAttributeNames: { '#order': KEYS_BY_CREATION_INDEX.sortKey }, ExpressionAttributeValues: { ':order': createdAtKeyId(record) },
        })));
        filled++;
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
    }));
  }
  if (scanned > 0) await doc.send(new PutCommand({ TableName: table, Item: { tenantId, keyHash: KEY_ORDER_MARK, orderedAt: new Date().toISOString() } }));
  return { found: missing.length, filled };
}
