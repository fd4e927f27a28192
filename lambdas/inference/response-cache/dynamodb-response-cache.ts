import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { expired } from '../stores/response-store.js';
import { decodeCachedAudit, decodeCachedBody, encodeCachedAnswer, isCacheKey, type CachedAnswer, type ResponseCache } from './cache-store.js';

/** The sort key of a cached answer in the responses table: no response, conversation, batch or file id has `#`. */
export const cacheItemKey = (key: string) => `cache#${key}`;

/**
 * Cached answers in the platform's responses table (constructs/responses-table.ts, encrypted as the table is), beside
 * the tenant's stored responses: partition key `tenantId`, sort key `cache#<SHA-256 hex>`, `expiresAt` the table's TTL
 * attribute (DynamoDB deletes an expired item within days: reads refuse it first), `storedAt` epoch seconds, the answer
 * gzipped in `body` (binary), and what its request audited of its input gzipped JSON in `audit` (binary, absent for none:
 * cache-store.ts CachedRequestAudit). Every call uses the tenant's client (`docFor(tenantId)`): the tenant-data role's session
 * tagged with the tenant, whose `dynamodb:LeadingKeys` condition reaches only that tenant's partition. No list or
 * Query reads `cache#` items: the stores' Queries name their own prefixes, and `GET /v1/responses/{id}` refuses an id
 * with `#`. Offboarding erases them with the rest of the partition (lambdas/lifecycle/erase-pooled-gateway-data.ts).
 */
export class DynamoDbResponseCache implements ResponseCache {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  /** GetItem, eventually consistent (half the read cost; a HIT a second late is no harm). */
  async get(tenantId: string, key: string): Promise<CachedAnswer | undefined> {
    if (!isTenantId(tenantId) || !isCacheKey(key)) return undefined;
    const out = await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId: cacheItemKey(key) } }));
    const item = out.Item;
    if (!item || typeof item.expiresAt !== 'number' || typeof item.storedAt !== 'number' || !(item.body instanceof Uint8Array) || expired(item.expiresAt)) return undefined;
    const audit = item.audit instanceof Uint8Array ? decodeCachedAudit(item.audit) : undefined;
    return { body: decodeCachedBody(item.body), storedAt: item.storedAt, expiresAt: item.expiresAt, ...(audit ? { audit } : {}) };
  }

  async put(tenantId: string, key: string, answer: CachedAnswer): Promise<void> {
    if (!isTenantId(tenantId) || !isCacheKey(key)) return;
    const encoded = encodeCachedAnswer(answer);
    await (await this.docFor(tenantId)).send(new PutCommand({
      TableName: this.table, Item: { tenantId, responseId: cacheItemKey(key), storedAt: answer.storedAt, expiresAt: answer.expiresAt, ...encoded },
    }));
  }
}
