import { DeleteItemCommand, DynamoDBClient, GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { batchFileKey, batchPartKey, gatewayUploadsPrefix, keptFileKey } from '../inference/batches/s3-batch-file-store.js';
import { isBatchFileId, isBatchId, type StoredBatch } from '../inference/batches/stores.js';
import { clientWith } from '../shared/aws-clients.js';
import { requireEnv } from '../shared/environment.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { TenantCredentials } from '../shared/tenant-credentials.js';
import type { LifecycleState } from './state.js';

/** The environment of *Erase pooled gateway data*: the gateway's names (lambdas/inference/gateway-env.ts GATEWAY_ENV), spelled out: this file must not import the gateway's wiring. */
export const ERASE_ENV = {
  /** The tenant-data role (constructs/tenant-data-access-role.ts), assumed with the tenant's session tag. */
  tenantDataRole: 'TESSERA_TENANT_DATA_ROLE_ARN',
  /** The responses table (partition key `tenantId`, sort key `responseId`). */
  responsesTable: 'TESSERA_RESPONSES_TABLE',
  /** The gateway files bucket (`tenants/<tenant>/batch-files/…` and `kept-files/<tenant>/…`). */
  batchFilesBucket: 'TESSERA_BATCH_FILES_BUCKET',
} as const;

/**
 * Items deleted by one invocation at most: the step returns its cursor past this and the state machine invokes it again.
 * 1,000 DeleteItems, 16 at a time, take a few seconds; an offboarding's history (25,000 events) holds about 3,000 loops
 * of the step's 8 events: three million items, far more than a tenant keeps within the table's 30-day TTL.
 */
export const MAX_ITEMS_PER_RUN = 1_000;
/** Items of one Query page (its `Limit`); a page is also cut at 1 MB by DynamoDB. */
export const PAGE_SIZE = 200;
/** Items erased at once (DeleteItem, and each batch's or file's DeleteObjects before it). */
export const CONCURRENCY = 16;
/** A run stops paging when less than this is left of the Lambda's time (Context.getRemainingTimeInMillis). */
export const TIME_MARGIN_MS = 60_000;

/** The kinds of items of the responses table, by their sort key (responseId). */
export interface ErasedCounts {
  /** `resp_…`: stored Responses API answers (with their input items). */
  responses: number;
  /** `conv_…`: conversation heads. */
  conversations: number;
  /** `conv_…#item#…` and `conv_…#id#…`: a conversation's items and their id index. */
  conversationItems: number;
  /** `batch_…`: Batch API batches. */
  batches: number;
  /** `file-…`: gateway file records, of every purpose (their objects deleted with them: both keys, expiring and kept). */
  batchFiles: number;
  /** `vs_…`, `vs_…#file#…`, `vs_…#batch#…`: vector stores, their file records and file batches (lambdas/inference/vector-stores/dynamodb-record-table.ts; their vectors are in the tenant's own account). */
  vectorStores: number;
  /** Any other sort key of the tenant's partition (stored chat completions `chatcmpl-…`). */
  other: number;
}

export const noErasedCounts = (): ErasedCounts => ({ responses: 0, conversations: 0, conversationItems: 0, batches: 0, batchFiles: 0, vectorStores: 0, other: 0 });

/** What the step returns into the state machine (kept at `$.pooledData`, given back to the next run). */
export interface PooledDataErasure {
  tenantId: string;
  /** `COMPLETE`: a Query found the end of the tenant's partition; `ERASING`: run again from `cursor`. */
  state: 'ERASING' | 'COMPLETE';
  /** The Query's LastEvaluatedKey to go on from (`ERASING` only). */
  cursor?: Record<string, AttributeValue>;
  /** Items deleted by this run, by kind. */
  deleted: ErasedCounts;
  /** DeleteObject requests of this run (two per file, its expiring and kept keys, one per batch part, one per upload object; S3 answers 204 whether the key existed or not). */
  objectsDeleted: number;
}

/** The kind of an item of the responses table, by its sort key. */
export function kindOf(responseId: string): keyof ErasedCounts {
  if (responseId.startsWith('resp_')) return 'responses';
  if (responseId.startsWith('conv_')) return responseId.includes('#') ? 'conversationItems' : 'conversations';
  if (responseId.startsWith('batch_')) return 'batches';
  if (responseId.startsWith('file-')) return 'batchFiles';
  if (responseId.startsWith('vs_')) return 'vectorStores';
  return 'other';
}

/**
 * The clients and names erasePooledData and expirePooledData (expire-pooled-gateway-data.ts) work with: in the Lambda,
 * the tenant-data role's session of the tenant (pooledDataDeps).
 */
export interface EraseDeps {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  table: string;
  bucket: string;
  /** Milliseconds left of the invocation. @default unbounded */
  remainingMs?: () => number;
  /** @default MAX_ITEMS_PER_RUN */
  maxItems?: number;
}

/**
 * Erases one bounded run of `tenantId`'s items of the responses table: Query of the tenant's partition (keys only,
 * consistent, PAGE_SIZE a page) from `cursor`, and for each item, CONCURRENCY at a time: the S3 objects its record names
 * first (a gateway file `file-…`: both `tenants/<t>/batch-files/<file id>` and `kept-files/<t>/<file id>`, the keys of
 * an expiring and of a kept file's content; a batch `batch_…`: each part of its
 * `progress.parts`, read by GetItem of its body), then DeleteItem; so a run stopped in between finds the record again
 * with the keys of what is left. No ListBucket for these: the keys come from the records. Once the partition is empty, the
 * Uploads API's objects under `tenants/<t>/batch-files/uploads/` (which no record names) are listed and deleted, a page
 * a run (ERASING, no cursor, while the listing has more). Stops after `maxItems` items or when less
 * than TIME_MARGIN_MS is left, with the Query's LastEvaluatedKey as the cursor; `COMPLETE` when a Query reports no
 * LastEvaluatedKey. Idempotent: DeleteItem and DeleteObject of what is gone succeed, and a run over an empty partition
 * deletes nothing and is COMPLETE. `onProgress` is called with the counts of what was deleted before an error is thrown.
 * @throws the SDK's error (its name, ProvisionedThroughputExceededException, ThrottlingException, SlowDown…, is what the
 *   state machine's Retry matches: the retried run starts again from the same cursor and finds fewer)
 */
export async function erasePooledData(tenantId: string, cursor: Record<string, AttributeValue> | undefined, deps: EraseDeps, onProgress?: (partial: { deleted: ErasedCounts; objectsDeleted: number }) => Promise<void>): Promise<PooledDataErasure> {
  const deleted = noErasedCounts();
  let objectsDeleted = 0;
  const max = deps.maxItems ?? MAX_ITEMS_PER_RUN;
  const deleteObject = async (key: string) => {
    await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: key }));
    objectsDeleted++;
  };
  const erase = async (responseId: string) => {
    const kind = kindOf(responseId);
    const key = { tenantId: { S: tenantId }, responseId: { S: responseId } };
    // Both keys a file's content may have (an expiring file's under tenants/, a kept one's under kept-files/): the Query
    // projects keys only, and a kept file has no lifecycle rule to remove it if this step missed it.
    if (kind === 'batchFiles' && isBatchFileId(responseId)) for (const k of [batchFileKey(tenantId, responseId), keptFileKey(tenantId, responseId)]) await deleteObject(k);
    if (kind === 'batches' && isBatchId(responseId)) {
      const got = await deps.dynamodb.send(new GetItemCommand({ TableName: deps.table, Key: key, ConsistentRead: true, ProjectionExpression: 'body' }));
      const body = got.Item?.body?.S;
      const parts = body ? ((JSON.parse(body) as StoredBatch).progress?.parts ?? []) : [];
      for (const part of parts) if (Number.isSafeInteger(part) && part >= 0) await deleteObject(batchPartKey(tenantId, responseId, part));
    }
    await deps.dynamodb.send(new DeleteItemCommand({ TableName: deps.table, Key: key }));
    deleted[kind]++;
  };
  /**
   * Deletes one page (up to 1,000 keys) of the tenant's gateway uploads under `tenants/<t>/batch-files/uploads/`
   * (an abandoned upload's parts, every upload's record: lambdas/inference/uploads/gateway-uploads.ts), listed with
   * the tenant-data role's only listing grant. @returns whether the listing has more
   */
  const eraseUploads = async (): Promise<boolean> => {
    const page = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: `${gatewayUploadsPrefix(tenantId)}uploads/`, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => typeof k === 'string');
    for (let i = 0; i < keys.length; i += CONCURRENCY) {
      const failed = (await Promise.allSettled(keys.slice(i, i + CONCURRENCY).map(deleteObject))).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return page.IsTruncated === true;
  };
  let start = cursor;
  let done = 0;
  try {
    for (;;) {
      const page = await deps.dynamodb.send(new QueryCommand({
        TableName: deps.table, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': { S: tenantId } },
        ProjectionExpression: 'tenantId, responseId', ConsistentRead: true, Limit: Math.min(PAGE_SIZE, max - done), ExclusiveStartKey: start,
      }));
      const ids = (page.Items ?? []).map((i) => i.responseId?.S).filter((id): id is string => typeof id === 'string');
      for (let i = 0; i < ids.length; i += CONCURRENCY) {
        // Every erase of the group settles before an error is thrown: the counts recorded then are all it deleted.
        const failed = (await Promise.allSettled(ids.slice(i, i + CONCURRENCY).map(erase))).find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      done += ids.length;
      start = page.LastEvaluatedKey;
      if (!start) {
        // Then the Uploads API's records and parts (no item names them): a page of them a run, ERASING from the
        // partition's start (empty by now) while the listing has more.
        const more = await eraseUploads();
        return more ? { tenantId, state: 'ERASING', deleted, objectsDeleted } : { tenantId, state: 'COMPLETE', deleted, objectsDeleted };
      }
      if (done >= max || (deps.remainingMs && deps.remainingMs() < TIME_MARGIN_MS)) return { tenantId, state: 'ERASING', cursor: start, deleted, objectsDeleted };
    }
  } catch (e) {
    if (onProgress && (objectsDeleted || Object.values(deleted).some(Boolean))) {
      await onProgress({ deleted, objectsDeleted }).catch((recordError: unknown) => logger.warn('what was erased before the error is not recorded', { error: recordError as Error }));
    }
    throw e;
  }
}

/** The tenant's sessions of the tenant-data role (one per tenant, kept while the container lives). */
let sessions: TenantCredentials | undefined;

/**
 * What the offboarding's pooled-data steps (*Erase pooled gateway data*, *Expire pooled gateway data*) act with: the
 * tenant-data role's DynamoDB and S3 clients for `tenantId` (a session tagged with the tenant), the responses table and
 * the batch files bucket from ERASE_ENV, and the Lambda's remaining time when `context` gives it.
 * @throws Error naming TESSERA_TENANT_DATA_ROLE_ARN, TESSERA_RESPONSES_TABLE or TESSERA_BATCH_FILES_BUCKET when unset
 */
export async function pooledDataDeps(tenantId: string, context?: Context): Promise<Omit<EraseDeps, 'maxItems'>> {
  const roleArn = requireEnv(ERASE_ENV.tenantDataRole);
  const table = requireEnv(ERASE_ENV.responsesTable);
  const bucket = requireEnv(ERASE_ENV.batchFilesBucket);
  sessions ??= new TenantCredentials({ roleArn, sessionPrefix: 'offboarding' });
  const dynamodb = await sessions.clientFor(tenantId, 'dynamodb', (c) => clientWith(DynamoDBClient, c));
  const s3 = await sessions.clientFor(tenantId, 's3', (c) => clientWith(S3Client, c));
  const remainingMs = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
  return { dynamodb, s3, table, bucket, remainingMs };
}

/** `total` (the registry's counts over earlier runs, if any) plus one run's `counts`, kind by kind. */
export function addErasedCounts(total: ErasedCounts | undefined, counts: ErasedCounts): ErasedCounts {
  const sum = noErasedCounts();
  for (const k of Object.keys(sum) as Array<keyof ErasedCounts>) sum[k] = (total?.[k] ?? 0) + counts[k];
  return sum;
}

/** `executionArns` with `executionArn` added once (a step's runs in the registry name each execution once). */
export function withExecution(executionArns: readonly string[] | undefined, executionArn: string | undefined): string[] {
  const arns = [...(executionArns ?? [])];
  if (executionArn && !arns.includes(executionArn)) arns.push(executionArn);
  return arns;
}

/**
 * Offboarding, after the keys, users and usage key are revoked and before anything else moves (with
 * `offboarding.erasePooledGatewayData` on; without it the platform deploys no such step): *Erase pooled gateway data*.
 * As the tenant-data role's session of the tenant (AssumeRole with the session tag `tessera:tenant-id`: its policy
 * reaches only that tenant's partition of the responses table and its own prefix of the batch files bucket,
 * constructs/tenant-data-access-role.ts), deletes the tenant's stored responses, conversations and their items,
 * batches and batch file records of the responses table, the batch files' objects and the batches' parts
 * (erasePooledData), MAX_ITEMS_PER_RUN a run: `ERASING` with a cursor makes the state machine run it again with its
 * answer (`pooledData`), until `COMPLETE`. Records each run in the registry (`offboarding.pooledData`: recordErased).
 * The audit records and the usage and billing records are the platform's and are not erased.
 * Input: LifecycleState and `pooledData` (the previous run's answer, `{}` before the first). Output: PooledDataErasure.
 * @throws Error naming TESSERA_TENANT_DATA_ROLE_ARN, TESSERA_RESPONSES_TABLE or TESSERA_BATCH_FILES_BUCKET when unset;
 *   the SDK's errors for the state machine's Retry (throttling) and Catch
 */
export const handler = lifecycleHandler('Erase pooled gateway data', async (state: LifecycleState & { pooledData?: Partial<PooledDataErasure> }, context?: Context): Promise<PooledDataErasure> => {
  const tenantId = state.request.tenantId;
  const deps = await pooledDataDeps(tenantId, context);
  const previous = state.pooledData;
  const cursor = previous?.state === 'ERASING' ? previous.cursor : undefined;
  const out = await erasePooledData(tenantId, cursor, deps,
    (partial) => recordErased(tenantId, state.executionArn, { ...partial, complete: false }).then(() => undefined));
  await recordErased(tenantId, state.executionArn, { deleted: out.deleted, objectsDeleted: out.objectsDeleted, complete: out.state === 'COMPLETE' });
  return out;
});

/**
 * Records one run of the erasure in the registry (`offboarding.pooledData`, OffboardingRecord) on the record read again:
 * the items deleted by kind and the objects deleted added to the totals over every run, `complete` (a run found the end
 * of the tenant's partition) and `checkedAt` (now), the execution added to `executionArns` once. Under the execution's lease.
 * @returns the record as written
 * @throws what requireTenant and updateTenant throw (TenantNotFound, TenantBusy when the lease is not this execution's)
 */
export async function recordErased(tenantId: string, executionArn: string | undefined, run: { deleted: ErasedCounts; objectsDeleted: number; complete: boolean }): Promise<TenantRecord> {
  const record = await requireTenant(tenantId);
  const offboarding = record.offboarding ?? { liftedProtections: [] };
  const before = offboarding.pooledData;
  const pooledData = {
    erased: addErasedCounts(before?.erased, run.deleted), objectsDeleted: (before?.objectsDeleted ?? 0) + run.objectsDeleted, complete: run.complete,
    checkedAt: new Date().toISOString(), executionArns: withExecution(before?.executionArns, executionArn),
  };
  return updateTenant(tenantId, { offboarding: { ...offboarding, pooledData } });
}
