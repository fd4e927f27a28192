import { serviceLogger } from '../shared/service-logger.js';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, paginateQuery, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { pages, untilKeyRepeats } from '../../lib/aws-pages.js';
import { platformDocumentClient } from '../shared/document-clients.js';
import { requireEnv } from '../shared/environment.js';
import { CORS_ORIGINS_BY_TENANT_INDEX, CORS_ORIGINS_TABLE_ENV, indexChange, allowedOriginsOf, type IndexChange } from './cors-origin-index.js';

export const logger = serviceLogger('tessera-cors-origin-index');

const image = (i: Record<string, unknown> | undefined) => (i ? unmarshall(i as Record<string, AttributeValue>) : undefined);

/** Origins the index holds for `tenantId` now (the keys-only `by-tenant` index; all pages). */
async function indexedOrigins(doc: DynamoDBDocumentClient, table: string, tenantId: string): Promise<string[]> {
  const origins: string[] = [];
  const calls = paginateQuery(pages(doc), {
    TableName: table, IndexName: CORS_ORIGINS_BY_TENANT_INDEX, KeyConditionExpression: 'tenantId = :t',
    ExpressionAttributeValues: { ':t': tenantId },
  });
  for await (const out of untilKeyRepeats(calls, (page) => page.LastEvaluatedKey)) for (const item of out.Items ?? []) origins.push(String(item.origin));
  return origins;
}

async function apply(doc: DynamoDBDocumentClient, table: string, change: IndexChange): Promise<void> {
  // Distinct keys within one change: the writes may run together.
  await Promise.all([
    ...change.put.map((origin) => doc.send(new PutCommand({ TableName: table, Item: { origin, tenantId: change.tenantId } }))),
    ...change.delete.map((origin) => doc.send(new DeleteCommand({ TableName: table, Key: { origin, tenantId: change.tenantId } }))),
  ]);
}

/**
 * Applies one registry stream record: the tenant's index items become what its new image allows
 * (lambdas/inference/cors-origin-index.ts indexChange). Idempotent (Puts and Deletes of whole
 * keys), so a record delivered again changes nothing.
 *
 * @throws the DynamoDB error of a failed Query, Put or Delete (the caller reports the record)
 */
export async function applyRecord(record: DynamoDBRecord, doc: DynamoDBDocumentClient, table: string): Promise<IndexChange | undefined> {
  const tenantId = image(record.dynamodb?.Keys as Record<string, unknown> | undefined)?.tenantId;
  if (typeof tenantId !== 'string') {
    logger.warn('stream record without a tenantId key; skipped', { eventID: record.eventID, keys: record.dynamodb?.Keys });
    return undefined;
  }
  const oldImage = image(record.dynamodb?.OldImage as Record<string, unknown> | undefined);
  const newImage = image(record.dynamodb?.NewImage as Record<string, unknown> | undefined);
  const invalid = allowedOriginsOf(newImage).invalid;
  if (invalid.length) logger.warn('allowedOrigins entries that are not origins (scheme://host[:port], lower case) are not indexed', { tenantId, invalid });
  const change = indexChange(tenantId, oldImage, newImage, await indexedOrigins(doc, table, tenantId));
  await apply(doc, table, change);
  if (change.delete.length || allowedOriginsOf(oldImage).origins.join() !== change.put.join()) {
    logger.info('origin index updated', { tenantId, eventName: record.eventName, allowed: change.put, removed: change.delete });
  }
  return change;
}

/**
 * Processes a batch in stream order and reports the first record that fails, and every record
 * after it, as batch item failures (the event source mapping has ReportBatchItemFailures): Lambda
 * checkpoints at the lowest failed sequence number and delivers the batch again from there, so a
 * later record of the same tenant is never applied before an earlier one that failed.
 *
 * Why this is order-safe: DynamoDB Streams puts every change of one item (one tenant) in one shard,
 * in the order of the writes; Lambda reads a shard's batches one after another; and each record
 * sets the tenant's items to its new image's origins (not a relative add or remove), so the last
 * record applied, the newest image, decides. Replays repeat records in order, from the failed one.
 */
export async function processBatch(records: DynamoDBRecord[], doc: DynamoDBDocumentClient, table: string): Promise<DynamoDBBatchResponse> {
  for (let i = 0; i < records.length; i++) {
    try {
      await applyRecord(records[i], doc, table);
    } catch (e) {
      logger.error('origin index update failed; the record and those after it are retried', { error: e as Error, eventID: records[i].eventID, sequenceNumber: records[i].dynamodb?.SequenceNumber });
      return { batchItemFailures: records.slice(i).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })) };
    }
  }
  return { batchItemFailures: [] };
}

/** The Lambda: the tenant registry's DynamoDB stream (NEW_AND_OLD_IMAGES) → the CORS origin index. */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  return processBatch(event.Records, platformDocumentClient(), requireEnv(CORS_ORIGINS_TABLE_ENV));
}
