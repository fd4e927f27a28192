import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { conditionFailed } from '../stores/versioned-update.js';
import type { AlertMarkers } from './markers.js';
/**
 * Markers as items of the gateway's usage table (partition key `id`, TTL attribute `expiresAt`),
 * written with the tenant's document client (in the Lambdas: a session of the tenant-data role,
 * whose `UsageOwnCounters` statement admits GetItem and UpdateItem of `usage#<tenant>#…` items, so
 * markers need no new grant).
 *
 * `claim` is one UpdateItem `SET claimedAt, expiresAt` under the condition
 * `attribute_not_exists(claimedAt)`: DynamoDB applies conditional writes to one item one at a
 * time, so of any number of concurrent claims exactly one succeeds (the others get
 * ConditionalCheckFailedException; a failed conditional write costs one write unit).
 * `release` is an UpdateItem `REMOVE claimedAt` (conditioned on the claim being this one), which
 * makes the marker claimable again; UpdateItem rather than PutItem/DeleteItem because that is what
 * the tenant-data role grants on the usage table.
 */
export class DynamoDbAlertMarkers implements AlertMarkers {
  private readonly mine = new Map<string, string>();

  constructor(private readonly usageTable: string, private readonly docFor: TenantDocumentClient) {}

  async claim(tenantId: string, id: string, expiresAt: Date): Promise<boolean> {
    const claimedAt = new Date().toISOString();
    const doc = await this.docFor(tenantId);
    try {
      await doc.send(new UpdateCommand({
        TableName: this.usageTable, Key: { id },
        UpdateExpression: 'SET claimedAt = :at, expiresAt = :ttl',
        ConditionExpression: 'attribute_not_exists(claimedAt)',
        ExpressionAttributeValues: { ':at': claimedAt, ':ttl': Math.floor(expiresAt.getTime() / 1000) },
      }));
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
    // Kept for `release` (right after a failed send); bounded, the oldest forgotten first.
    if (this.mine.size >= 1000) this.mine.delete(this.mine.keys().next().value!);
    this.mine.set(id, claimedAt);
    return true;
  }

  async release(tenantId: string, id: string): Promise<void> {
    const claimedAt = this.mine.get(id);
    this.mine.delete(id);
    if (claimedAt === undefined) return;
    const doc = await this.docFor(tenantId);
    try {
      await doc.send(new UpdateCommand({
        TableName: this.usageTable, Key: { id }, UpdateExpression: 'REMOVE claimedAt',
        ConditionExpression: 'claimedAt = :at', ExpressionAttributeValues: { ':at': claimedAt },
      }));
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }
}
