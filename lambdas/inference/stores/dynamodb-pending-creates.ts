import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { expired } from './response-store.js';
import { conditionFailed } from './versioned-update.js';
import { isPendingKey, pendingNoteOf, type PendingCreates, type PendingNote } from '../pending-creates.js';

/**
 * The running create attempts' notes on AWS (../pending-creates.ts), in the responses table beside the tenant's
 * responses, files and retry markers: sort key `pending#<route>#<SHA-256 hex>` (no response, file or batch id has `#`),
 * `attempt`, `since` (epoch ms) and the table's TTL attribute `expiresAt`, each call with the tenant's client
 * (`dynamodb:LeadingKeys`: only its own partition). `end` is a DeleteItem conditional on `attempt`, so an attempt that
 * ends after a later attempt of the same fingerprint began leaves that one's note standing.
 */
export class DynamoDbPendingCreates implements PendingCreates {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  private keyOf(tenantId: string, key: string) {
    return isTenantId(tenantId) && isPendingKey(key) ? { tenantId, responseId: `pending#${key}` } : undefined;
  }

  async begin(tenantId: string, key: string, attempt: string): Promise<void> {
    const itemKey = this.keyOf(tenantId, key);
    if (!itemKey) throw new Error(`cannot note the create ${key} of tenant ${tenantId}: not a key the gateway makes`);
    await (await this.docFor(tenantId)).send(new PutCommand({ TableName: this.table, Item: { ...itemKey, ...pendingNoteOf(attempt) } }));
  }

  async read(tenantId: string, key: string): Promise<PendingNote | undefined> {
    const itemKey = this.keyOf(tenantId, key);
    if (!itemKey) return undefined;
    const item = (await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.table, Key: itemKey, ConsistentRead: true }))).Item;
    return item && typeof item.attempt === 'string' && typeof item.since === 'number' && typeof item.expiresAt === 'number' && !expired(item.expiresAt)
      ? { attempt: item.attempt, since: item.since, expiresAt: item.expiresAt } : undefined;
  }

  async end(tenantId: string, key: string, attempt: string): Promise<void> {
    const itemKey = this.keyOf(tenantId, key);
    if (!itemKey) return;
    try {
      await (await this.docFor(tenantId)).send(new DeleteCommand({ TableName: this.table, Key: itemKey, ConditionExpression: 'attempt = :a', ExpressionAttributeValues: { ':a': attempt } }));
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }
}
