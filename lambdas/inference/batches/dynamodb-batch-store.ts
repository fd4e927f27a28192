import { versionedUpdate } from '../stores/versioned-update.js';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { isBatchId, type BatchStore, type StoredBatch } from './stores.js';

/** How many times update() reads and writes again when another writer changed the batch in between. */
export const UPDATE_ATTEMPTS = 20;

/**
 * The Batch API's batches on AWS, in the responses table (GATEWAY_ENV.responsesTable: partition key `tenantId`, sort
 * key `responseId`): one item per batch whose sort key is the batch id (`batch_` and 24 hex digits, which no response
 * id `resp_…`, conversation key `conv_…` or batch file id `file-…` begins with), holding the StoredBatch as JSON
 * (`body`), a `version` number that every write raises by one and is conditional on (so that a cancel, a chunk's
 * claim and its progress never overwrite each other), and the table's TTL attribute `expiresAt` (epoch seconds):
 * the batch's `expires_at` (24 h after creation) plus its output files' lifetime, so the batch outlives its files.
 * Every call uses the tenant's client (`docFor(tenantId)`): in the Lambdas a session of the tenant-data role, whose
 * policy reaches only items whose partition key is that tenant (constructs/tenant-data-access-role.ts ResponsesOwnItems).
 */
export class DynamoDbBatchStore implements BatchStore {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  /**
   * Creates the batch's item.
   * @throws Error when the ids are not the gateway's, or a batch of that id exists (ConditionalCheckFailedException)
   */
  async put(item: StoredBatch): Promise<void> {
    const { tenantId } = item.owner;
    if (!isTenantId(tenantId) || !isBatchId(item.batch.id)) throw new Error(`cannot store batch ${item.batch.id} of tenant ${tenantId}: not ids the gateway makes`);
    await (await this.docFor(tenantId)).send(new PutCommand({
      TableName: this.table, Item: this.itemOf(item, 1), ConditionExpression: 'attribute_not_exists(responseId)',
    }));
  }

  async get(tenantId: string, id: string): Promise<StoredBatch | undefined> {
    return (await this.read(tenantId, id))?.item;
  }

  /** The tenant's batches, newest first (a Query of its partition's `batch_` sort keys, every page). */
  async list(tenantId: string): Promise<StoredBatch[]> {
    if (!isTenantId(tenantId)) return [];
    const doc = await this.docFor(tenantId);
    const out: StoredBatch[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :p)',
        ExpressionAttributeValues: { ':t': tenantId, ':p': 'batch_' }, ScanIndexForward: false, ConsistentRead: true, ExclusiveStartKey: start,
      }));
      for (const i of page.Items ?? []) if (typeof i.body === 'string') out.push(JSON.parse(i.body) as StoredBatch);
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * Reads the batch (strongly consistent), applies `change`, and writes the result on condition that `version` is
   * still the one read; when another writer came in between, reads and applies again (up to UPDATE_ATTEMPTS times).
   * @throws Error after UPDATE_ATTEMPTS lost races (a batch written that often at once)
   */
  async update(tenantId: string, id: string, change: (current: StoredBatch) => StoredBatch | undefined): Promise<StoredBatch | undefined> {
    return versionedUpdate(() => this.read(tenantId, id), change, async (next, version) => void (await (await this.docFor(tenantId)).send(new PutCommand({
      TableName: this.table, Item: this.itemOf(next, version + 1),
      ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': version },
    }))), UPDATE_ATTEMPTS, `batch ${id} of tenant ${tenantId}`);
  }

  private itemOf(item: StoredBatch, version: number) {
    return {
      tenantId: item.owner.tenantId, responseId: item.batch.id, version, body: JSON.stringify(item),
      expiresAt: (item.batch.expires_at ?? item.batch.created_at) + item.outputTtlSeconds,
    };
  }

  private async read(tenantId: string, id: string): Promise<{ item: StoredBatch; version: number } | undefined> {
    if (!isTenantId(tenantId) || !isBatchId(id)) return undefined;
    const out = await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId: id }, ConsistentRead: true }));
    const i = out.Item;
    if (!i || typeof i.body !== 'string' || typeof i.version !== 'number') return undefined;
    return { item: JSON.parse(i.body) as StoredBatch, version: i.version };
  }
}
