import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { bodyOf, decodeStoredBody, encodeWithinLimit, expired, type ResponseStore, type StoredResponse } from './response-store.js';
import { conditionFailed, versionedUpdate } from './versioned-update.js';

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
/** How many times update() reads and writes again when another writer changed the response in between. */
const UPDATE_ATTEMPTS = 5;

export class DynamoDbResponseStore implements ResponseStore {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  async put(item: StoredResponse): Promise<void> {
    const doc = await this.docFor(item.tenantId);
    await doc.send(new PutCommand({ TableName: this.table, Item: this.itemOf(item, 0) }));
  }

  async get(tenantId: string, responseId: string): Promise<StoredResponse | undefined> {
    return (await this.read(tenantId, responseId))?.item;
  }

  /**
   * Reads the response (strongly consistent), applies `change`, and writes the result on condition that the item's
   * `version` (a number attribute, 0 or absent on an item written by put) is still the one read; when another writer
   * came in between (a cancel during a background run's settle), reads and applies again, up to UPDATE_ATTEMPTS times.
   * @throws Error after UPDATE_ATTEMPTS lost races
   */
  async update(tenantId: string, responseId: string, change: (current: StoredResponse) => StoredResponse | undefined): Promise<StoredResponse | undefined> {
    return versionedUpdate(() => this.read(tenantId, responseId), change, async (next, version) => void (await (await this.docFor(tenantId)).send(new PutCommand({
      TableName: this.table, Item: this.itemOf(next, version + 1),
      ConditionExpression: version === 0 ? 'attribute_exists(responseId) AND attribute_not_exists(#v)' : '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' }, ...(version === 0 ? {} : { ExpressionAttributeValues: { ':v': version } }),
    }))), UPDATE_ATTEMPTS, `response ${responseId} of tenant ${tenantId}`);
  }

  /** The table item of a response (`version` only past 0: an item put once has none). */
  private itemOf(item: StoredResponse, version: number) {
    return {
      tenantId: item.tenantId, responseId: item.responseId, expiresAt: item.expiresAt, createdAt: Math.floor(Date.now() / 1000), body: encodeWithinLimit(bodyOf(item)),
      ...(version > 0 ? { version } : {}),
    };
  }

  private async read(tenantId: string, responseId: string): Promise<{ item: StoredResponse; version: number } | undefined> {
    if (!isTenantId(tenantId)) return undefined;
    const doc = await this.docFor(tenantId);
    const out = await doc.send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId }, ConsistentRead: true }));
    const item = out.Item;
    if (!item || typeof item.expiresAt !== 'number' || expired(item.expiresAt)) return undefined;
    return { item: { tenantId, responseId, expiresAt: item.expiresAt, ...decodeStoredBody(item.body as Uint8Array) }, version: typeof item.version === 'number' ? item.version : 0 };
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
      if (conditionFailed(e)) return false;
      throw e;
    }
  }
}
