import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { decodeStoredBody, encodeWithinLimit, expired, type ResponseStore, type StoredResponse } from './response-store.js';

/**
 * Stored responses in the platform's responses table: partition key `tenantId`, sort key
 * `responseId`, TTL attribute `expiresAt` (epoch seconds), the Response, its input items and its
 * conversation as one gzipped JSON attribute `body` (binary; under 390 KiB, so the item stays
 * under DynamoDB's 400 KB). Every call uses the tenant's client (`docFor(tenantId)`): in the
 * Lambdas a session of the tenant-data role tagged with the tenant, whose policy
 * (`dynamodb:LeadingKeys`) reaches only items whose partition key is that tenant, so another
 * tenant's response is out of reach whatever id is asked for. DynamoDB deletes expired items
 * lazily (within days): reads refuse them too.
 */
export class DynamoDbResponseStore implements ResponseStore {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  async put(item: StoredResponse): Promise<void> {
    const body = encodeWithinLimit({ response: item.response, inputItems: item.inputItems, messages: item.messages });
    const doc = await this.docFor(item.tenantId);
    await doc.send(new PutCommand({
      TableName: this.table,
      Item: { tenantId: item.tenantId, responseId: item.responseId, expiresAt: item.expiresAt, createdAt: Math.floor(Date.now() / 1000), body },
    }));
  }

  async get(tenantId: string, responseId: string): Promise<StoredResponse | undefined> {
    if (!isTenantId(tenantId)) return undefined;
    const doc = await this.docFor(tenantId);
    const out = await doc.send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId }, ConsistentRead: true }));
    const item = out.Item;
    if (!item || typeof item.expiresAt !== 'number' || expired(item.expiresAt)) return undefined;
    return { tenantId, responseId, expiresAt: item.expiresAt, ...decodeStoredBody(item.body as Uint8Array) };
  }

  async delete(tenantId: string, responseId: string): Promise<boolean> {
    if (!isTenantId(tenantId)) return false;
    const doc = await this.docFor(tenantId);
    try {
      // Only an item that exists and has not expired counts as deleted; an expired one is left to TTL.
      await doc.send(new DeleteCommand({
        TableName: this.table, Key: { tenantId, responseId },
        ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now',
        ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }
}
