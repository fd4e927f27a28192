import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { expired } from './response-store.js';
import { decodeChatCompletionBody, encodeChatCompletionBody, isChatCompletionId, type ChatCompletionStore, type ChatCompletionSummary, type StoredChatCompletion } from './chat-completion-store.js';
import { conditionFailed } from './versioned-update.js';

/** The sort-key prefix of stored chat completions: their ids' (`chatcmpl-`), which no `resp_`, `conv_`, `batch_` or `file-` id has. */
export const CHAT_COMPLETION_KEY_PREFIX = 'chatcmpl-';

const nowS = () => Math.floor(Date.now() / 1000);
/** An item's `storedAt`, when it has one (items stored before it was kept have none). */
const storedAtOf = (i: Record<string, unknown>) => (typeof i.storedAt === 'number' ? { storedAt: i.storedAt } : {});

/**
 * Stored chat completions in the platform's responses table (partition key `tenantId`, sort key `responseId` =
 * the completion id `chatcmpl-…`, TTL `expiresAt`): `created`, `storedAt`, `model` and `metadata` (a map) as attributes the list
 * reads and filters on, the completion, its messages and its caller as one gzipped JSON attribute `body` (under
 * 390 KiB). Every call uses the tenant's client (`docFor(tenantId)`: in the Lambdas a session of the tenant-data
 * role, whose `dynamodb:LeadingKeys` reaches only that tenant's partition), so another tenant's id is out of reach.
 * The list is a Query of the tenant's partition on the `chatcmpl-` prefix (every page, the summaries only; the
 * endpoint sorts by `storedAt`, filters and pages by `after`); DynamoDB deletes expired items lazily, reads refuse them.
 */
export class DynamoDbChatCompletionStore implements ChatCompletionStore {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  async put(item: StoredChatCompletion): Promise<void> {
    if (!isChatCompletionId(item.id)) throw new Error(`cannot store chat completion ${item.id}: not an id the gateway makes`);
    const doc = await this.docFor(item.tenantId);
    await doc.send(new PutCommand({
      TableName: this.table,
      Item: { tenantId: item.tenantId, responseId: item.id, created: item.created, ...(item.storedAt !== undefined ? { storedAt: item.storedAt } : {}), model: item.model, metadata: item.metadata, expiresAt: item.expiresAt, body: encodeChatCompletionBody(item) },
    }));
  }

  async get(tenantId: string, id: string): Promise<StoredChatCompletion | undefined> {
    if (!isTenantId(tenantId) || !isChatCompletionId(id)) return undefined;
    const out = await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId: id }, ConsistentRead: true }));
    return out.Item ? this.itemOf(tenantId, out.Item) : undefined;
  }

  private itemOf(tenantId: string, item: Record<string, unknown>): StoredChatCompletion | undefined {
    if (typeof item.expiresAt !== 'number' || expired(item.expiresAt) || !(item.body instanceof Uint8Array)) return undefined;
    return {
      tenantId, id: item.responseId as string, created: item.created as number, ...storedAtOf(item), model: item.model as string,
      metadata: (item.metadata as Record<string, string>) ?? {}, expiresAt: item.expiresAt, ...decodeChatCompletionBody(item.body),
    };
  }

  async list(tenantId: string): Promise<ChatCompletionSummary[]> {
    if (!isTenantId(tenantId)) return [];
    const doc = await this.docFor(tenantId);
    const out: ChatCompletionSummary[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :p)',
        FilterExpression: 'expiresAt > :now', ProjectionExpression: 'responseId, #c, storedAt, #m, #md, expiresAt',
        ExpressionAttributeNames: { '#c': 'created', '#m': 'model', '#md': 'metadata' },
        ExpressionAttributeValues: { ':t': tenantId, ':p': CHAT_COMPLETION_KEY_PREFIX, ':now': nowS() },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      for (const i of page.Items ?? []) {
        if (typeof i.expiresAt === 'number' && expired(i.expiresAt)) continue;
        out.push({ id: i.responseId as string, created: i.created as number, ...storedAtOf(i), model: i.model as string, metadata: (i.metadata as Record<string, string>) ?? {} });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async setMetadata(tenantId: string, id: string, metadata: Record<string, string>): Promise<StoredChatCompletion | undefined> {
    if (!isTenantId(tenantId) || !isChatCompletionId(id)) return undefined;
    try {
      const out = await (await this.docFor(tenantId)).send(new UpdateCommand({
        TableName: this.table, Key: { tenantId, responseId: id }, UpdateExpression: 'SET #md = :m',
        ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now',
        ExpressionAttributeNames: { '#md': 'metadata' }, ExpressionAttributeValues: { ':m': metadata, ':now': nowS() }, ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes ? this.itemOf(tenantId, out.Attributes) : undefined;
    } catch (e) {
      if (conditionFailed(e)) return undefined;
      throw e;
    }
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    if (!isTenantId(tenantId) || !isChatCompletionId(id)) return false;
    try {
      await (await this.docFor(tenantId)).send(new DeleteCommand({
        TableName: this.table, Key: { tenantId, responseId: id },
        ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now', ExpressionAttributeValues: { ':now': nowS() },
      }));
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }
}
