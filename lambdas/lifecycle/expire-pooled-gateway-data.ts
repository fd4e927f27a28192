import { ConditionalCheckFailedException, QueryCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { batchFileKey, keptFileKey } from '../inference/batches/s3-batch-file-store.js';
import { isBatchFileId, type BatchFile } from '../inference/batches/stores.js';
import { platformConfig } from '../shared/environment.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { addErasedCounts, CONCURRENCY, ERASE_ENV, kindOf, MAX_ITEMS_PER_RUN, noErasedCounts, PAGE_SIZE, pooledDataDeps, TIME_MARGIN_MS, withExecution, type EraseDeps, type ErasedCounts } from './erase-pooled-gateway-data.js';
import type { LifecycleState } from './state.js';

/** The environment of *Expire pooled gateway data*: the same names as *Erase pooled gateway data*'s (ERASE_ENV). */
export const EXPIRE_ENV = ERASE_ENV;

/** The responses table's TTL attribute (constructs/responses-table.ts `timeToLiveAttribute`): epoch seconds. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** The TTL the step gives, in days after its first run, when the config has no `gateway.responsesTtlDays`. */
export const DEFAULT_TTL_DAYS = 30;

/** What the step returns into the state machine (kept at `$.pooledData`, given back to the next run). */
export interface PooledDataExpiry {
  tenantId: string;
  /** `COMPLETE`: a Query found the end of the tenant's partition; `EXPIRING`: run again from `cursor`. */
  state: 'EXPIRING' | 'COMPLETE';
  /** The key of the last item this run handled, to go on after (`EXPIRING` only). */
  cursor?: Record<string, AttributeValue>;
  /** The TTL given, epoch seconds: the first run's now + `gateway.responsesTtlDays`; later runs keep it. */
  expiresAt: number;
  /** Items given the TTL by this run, by kind. */
  bounded: ErasedCounts;
  /** Kept files whose content this run copied to the expiring key (`tenants/<t>/batch-files/<id>`). */
  keptFilesMoved: number;
}

/** The clients and names expirePooledData works with: erasePooledData's (EraseDeps). */
export type ExpireDeps = EraseDeps;

/** An item whose TTL (`#e`) is absent, not a number (`:n` = 'N'), or later than `:d`: what the step bounds. */
const UNBOUNDED = 'attribute_not_exists(#e) OR NOT attribute_type(#e, :n) OR #e > :d';

const conditionFailed = (e: unknown) => e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException';
const noSuchKey = (e: unknown) => e instanceof NoSuchKey || (e as Error).name === 'NoSuchKey';

/**
 * Bounds one run of `tenantId`'s items of the responses table: Query of the tenant's partition (consistent, PAGE_SIZE a
 * page) from `cursor` for the items without the TTL `expiresAt` at or before `expiresAt` (the kept files' records and the
 * vector store records have none; any item with a later or non-numeric one) and every gateway file record `file-…`;
 * for each, CONCURRENCY at a time, an UpdateItem that sets the TTL to `expiresAt`, on the condition that the item still
 * exists and is still unbounded (an item deleted meanwhile is not made again). A file record kept until deleted
 * (`expiresAt` null in its `file`) first has its content copied from `kept-files/<t>/<id>` to `tenants/<t>/batch-files/<id>`
 * (CopyObject, server-side: the bucket's rule `expire-batch-files` removes it BATCH_FILES_EXPIRATION_DAYS after the
 * copy), and its record's `file` gets the same `expiresAt`, so that it names where its bytes now are; then every file
 * record's kept key is deleted (DeleteObject: 204 whether or not it is there), so that a run stopped after the update
 * and before the delete leaves nothing behind the next run would not find. A kept file whose content is missing
 * (NoSuchKey) has nothing to move. Stops after `maxItems` items read or when less than TIME_MARGIN_MS is left, with the
 * key of the last item handled as the cursor; `COMPLETE` when a Query reports no LastEvaluatedKey.
 * Idempotent: a second run finds the partition bounded and changes nothing (it deletes the absent kept keys again).
 * @throws the SDK's errors (throttling is retried by the state machine from the same cursor)
 */
export async function expirePooledData(tenantId: string, cursor: Record<string, AttributeValue> | undefined, expiresAt: number, deps: ExpireDeps): Promise<PooledDataExpiry> {
  const bounded = noErasedCounts();
  let keptFilesMoved = 0;
  const max = deps.maxItems ?? MAX_ITEMS_PER_RUN;
  const deadline = { N: String(expiresAt) };
  const bound = async (item: Record<string, AttributeValue>) => {
    const responseId = item.responseId.S!;
    const kind = kindOf(responseId);
    const key = { tenantId: { S: tenantId }, responseId: { S: responseId } };
    const ttl = item[TTL_ATTRIBUTE]?.N;
    const unbounded = ttl === undefined || !(Number(ttl) <= expiresAt);
    const fileRecord = kind === 'batchFiles' && isBatchFileId(responseId);
    const file = fileRecord && item.file?.S ? (JSON.parse(item.file.S) as BatchFile) : undefined;
    if (unbounded) {
      if (file && typeof file.expiresAt !== 'number') {
        try {
          await deps.s3.send(new CopyObjectCommand({ Bucket: deps.bucket, Key: batchFileKey(tenantId, responseId), CopySource: `${deps.bucket}/${keptFileKey(tenantId, responseId)}` }));
          keptFilesMoved++;
        } catch (e) {
          if (!noSuchKey(e)) throw e;
        }
      }
      try {
        await deps.dynamodb.send(new UpdateItemCommand({
          TableName: deps.table, Key: key,
          UpdateExpression: file ? 'SET #e = :d, #f = :f' : 'SET #e = :d',
          ConditionExpression: `attribute_exists(responseId) AND (${UNBOUNDED})`,
          ExpressionAttributeNames: { '#e': TTL_ATTRIBUTE, ...(file ? { '#f': 'file' } : {}) },
          ExpressionAttributeValues: { ':d': deadline, ':n': { S: 'N' }, ...(file ? { ':f': { S: JSON.stringify({ ...file, expiresAt }) } } : {}) },
        }));
        bounded[kind]++;
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
    }
    if (fileRecord) await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: keptFileKey(tenantId, responseId) }));
  };
  let start = cursor;
  let read = 0;
  for (;;) {
    const page = await deps.dynamodb.send(new QueryCommand({
      TableName: deps.table, KeyConditionExpression: 'tenantId = :t', FilterExpression: `${UNBOUNDED} OR begins_with(responseId, :file)`,
      ExpressionAttributeNames: { '#e': TTL_ATTRIBUTE, '#f': 'file' }, ExpressionAttributeValues: { ':t': { S: tenantId }, ':d': deadline, ':n': { S: 'N' }, ':file': { S: 'file-' } },
      ProjectionExpression: 'tenantId, responseId, #e, #f', ConsistentRead: true, Limit: Math.max(1, Math.min(PAGE_SIZE, max - read)), ExclusiveStartKey: start,
    }));
    read += page.ScannedCount ?? 0;
    const items = (page.Items ?? []).filter((i) => typeof i.responseId?.S === 'string');
    for (let i = 0; i < items.length; i += CONCURRENCY) {
      const group = items.slice(i, i + CONCURRENCY);
      const failed = (await Promise.allSettled(group.map(bound))).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      // The key of the last item handled: a valid ExclusiveStartKey (the table has no index a Query here could use).
      const last = group[group.length - 1];
      const handled = { tenantId: { S: tenantId }, responseId: { S: last.responseId.S! } };
      const more = i + CONCURRENCY < items.length || page.LastEvaluatedKey;
      if (more && deps.remainingMs && deps.remainingMs() < TIME_MARGIN_MS) return { tenantId, state: 'EXPIRING', cursor: handled, expiresAt, bounded, keptFilesMoved };
    }
    start = page.LastEvaluatedKey;
    if (!start) return { tenantId, state: 'COMPLETE', expiresAt, bounded, keptFilesMoved };
    if (read >= max || (deps.remainingMs && deps.remainingMs() < TIME_MARGIN_MS)) return { tenantId, state: 'EXPIRING', cursor: start, expiresAt, bounded, keptFilesMoved };
  }
}

/**
 * Offboarding with `offboarding.erasePooledGatewayData` off (the default), in the place of *Erase pooled gateway data*
 * (after *Retire account*, before *Finish offboarding*): *Expire pooled gateway data*. As the tenant-data role's
 * session of the tenant (its policy reaches only that tenant's partition of the responses table and its own prefixes of
 * the batch files bucket, constructs/tenant-data-access-role.ts), gives every item of the tenant's partition without a
 * TTL (or with a later one) the TTL `gateway.responsesTtlDays` (default 30) days from the first run, and moves the kept
 * files' content to the expiring prefix (expirePooledData): so that what the offboarding leaves in the pooled stores
 * goes, as the config's docstring promises, instead of staying forever. MAX_ITEMS_PER_RUN items a run: `EXPIRING` with a
 * cursor makes the state machine run it again with its answer (`pooledData`), until `COMPLETE`. Records each run in the
 * registry (`offboarding.pooledDataExpiry`: recordExpiry).
 * Input: LifecycleState and `pooledData` (the previous run's answer, `{}` before the first). Output: PooledDataExpiry.
 * @throws Error naming TESSERA_TENANT_DATA_ROLE_ARN, TESSERA_RESPONSES_TABLE or TESSERA_BATCH_FILES_BUCKET when unset;
 *   the SDK's errors for the state machine's Retry (throttling) and Catch
 */
export const handler = lifecycleHandler('Expire pooled gateway data', async (state: LifecycleState & { pooledData?: Partial<PooledDataExpiry> }, context?: Context): Promise<PooledDataExpiry> => {
  const tenantId = state.request.tenantId;
  const deps = await pooledDataDeps(tenantId, context);
  const previous = state.pooledData;
  const resumed = previous?.state === 'EXPIRING' && typeof previous.expiresAt === 'number';
  const days = platformConfig().gateway.responsesTtlDays ?? DEFAULT_TTL_DAYS;
  // A later execution of the same offboarding (a retry after a failed step) keeps the first run's deadline, recorded in
  // the registry: the items it bounded already carry it, and the record must not say another.
  const recorded = (await requireTenant(tenantId)).offboarding?.pooledDataExpiry?.expiresAt;
  const first = recorded ? Math.floor(Date.parse(recorded) / 1000) : undefined;
  const expiresAt = resumed ? previous.expiresAt! : first && Number.isFinite(first) ? first : Math.floor(Date.now() / 1000) + days * 86_400;
  const out = await expirePooledData(tenantId, resumed ? previous.cursor : undefined, expiresAt, deps);
  await recordExpiry(tenantId, state.executionArn, out);
  logger.info('pooled gateway data bounded', { tenantId, state: out.state, bounded: out.bounded, keptFilesMoved: out.keptFilesMoved, expiresAt: new Date(expiresAt * 1000).toISOString() });
  return out;
});

/**
 * Records one run of the expiry in the registry (`offboarding.pooledDataExpiry`, OffboardingRecord) on the record read
 * again: the items bounded by kind and the kept files moved added to the totals over every run, `expiresAt` (ISO 8601),
 * `complete` and `checkedAt` (now), the execution added to `executionArns` once. Under the execution's lease.
 * @returns the record as written
 * @throws what requireTenant and updateTenant throw (TenantNotFound, TenantBusy when the lease is not this execution's)
 */
export async function recordExpiry(tenantId: string, executionArn: string | undefined, run: Pick<PooledDataExpiry, 'bounded' | 'keptFilesMoved' | 'expiresAt' | 'state'>): Promise<TenantRecord> {
  const record = await requireTenant(tenantId);
  const offboarding = record.offboarding ?? { liftedProtections: [] };
  const before = offboarding.pooledDataExpiry;
  const pooledDataExpiry = {
    bounded: addErasedCounts(before?.bounded, run.bounded), keptFilesMoved: (before?.keptFilesMoved ?? 0) + run.keptFilesMoved, expiresAt: new Date(run.expiresAt * 1000).toISOString(),
    complete: run.state === 'COMPLETE', checkedAt: new Date().toISOString(), executionArns: withExecution(before?.executionArns, executionArn),
  };
  return updateTenant(tenantId, { offboarding: { ...offboarding, pooledDataExpiry } });
}
