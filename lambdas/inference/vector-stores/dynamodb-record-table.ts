import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { conditionFailed } from '../stores/versioned-update.js';
import { VersionConflict, type RecordTable } from './records.js';

/**
 * The vector store records on AWS, in the platform's responses table (partition key `tenantId`, sort key
 * `responseId`), under sort keys no response or conversation has: `vs_<hex>` (a store), `vs_<hex>#file#<file id>`,
 * `vs_<hex>#batch#<batch id>`; each item `{body (JSON), version}` (and, once its tenant is offboarded, the TTL
 * `expiresAt`). A write is conditional on the version read (a Put with `attribute_not_exists(responseId)` for a new
 * record, an UpdateItem of `body` and `version` with `version = :v` for an existing one, which keeps its other
 * attributes): two writers of one record cannot both succeed. Every call
 * uses the tenant's client (`docFor(tenantId)`): in the Lambdas a session of the tenant-data role, whose
 * `dynamodb:LeadingKeys` condition reaches only the session tenant's partition.
 */
export class DynamoDbRecordTable implements RecordTable {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  async get(tenantId: string, key: string): Promise<{ body: string; version: number } | undefined> {
    if (!isTenantId(tenantId)) return undefined;
    const doc = await this.docFor(tenantId);
    const item = (await doc.send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId: key }, ConsistentRead: true }))).Item;
    return item && typeof item.body === 'string' ? { body: item.body, version: Number(item.version ?? 0) } : undefined;
  }

  async query(tenantId: string, prefix: string): Promise<Array<{ key: string; body: string }>> {
    if (!isTenantId(tenantId)) return [];
    const doc = await this.docFor(tenantId);
    const out: Array<{ key: string; body: string }> = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await doc.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :p)',
        ExpressionAttributeValues: { ':t': tenantId, ':p': prefix }, ConsistentRead: true, ExclusiveStartKey: start,
      }));
      for (const item of page.Items ?? []) if (typeof item.body === 'string') out.push({ key: item.responseId as string, body: item.body });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async put(tenantId: string, key: string, body: string, version: number): Promise<void> {
    if (!isTenantId(tenantId)) throw new Error(`tenant ${JSON.stringify(tenantId)} is not a tenant id`);
    const doc = await this.docFor(tenantId);
    try {
      // A new record is Put; a record written again is updated in place (body and version only), so that the item keeps
      // what else it holds: the TTL `expiresAt` the offboarding gives it (lambdas/lifecycle/expire-pooled-gateway-data.ts),
      // which a Put of the whole item would drop when a file's processing finished after the offboarding.
      if (version === 0) {
        await doc.send(new PutCommand({ TableName: this.table, Item: { tenantId, responseId: key, body, version: 1 }, ConditionExpression: 'attribute_not_exists(responseId)' }));
      } else {
        await doc.send(new UpdateCommand({
          TableName: this.table, Key: { tenantId, responseId: key }, UpdateExpression: 'SET body = :b, version = :n',
          ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':b': body, ':n': version + 1, ':v': version },
        }));
      }
    } catch (e) {
      if (conditionFailed(e)) throw new VersionConflict(key);
      throw e;
    }
  }

  async delete(tenantId: string, keys: string[]): Promise<void> {
    if (!isTenantId(tenantId)) return;
    const doc = await this.docFor(tenantId);
    for (const key of keys) await doc.send(new DeleteCommand({ TableName: this.table, Key: { tenantId, responseId: key } }));
  }
}
