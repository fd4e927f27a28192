import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import {
  decodeItem, DuplicateConversationItemError, encodeItemsWithinLimit, firstDuplicate, isConversationId, UnknownAfterItemError,
  type ConversationItem, type ConversationStore, type ItemPage, type ItemPageQuery, type StoredConversation,
} from './conversation-store.js';

/** Digits of an item's position in its sort key: positions sort as strings. */
const POS_DIGITS = 12;
const pos = (n: number) => String(n).padStart(POS_DIGITS, '0');
const MAX_POS = 10 ** POS_DIGITS - 1;
/** Writes in flight at once for one call. */
const PARALLEL = 8;

/**
 * Conversations in the platform's responses table (the table of stored responses: partition key
 * `tenantId`, sort key `responseId`, TTL `expiresAt`), under sort keys no response has (those are
 * `resp_…`):
 * - `conv_<hex>`: the head: `createdAt`, `metadata`, `nextPos` (the next item's position), `expiresAt`;
 * - `conv_<hex>#item#<position, 12 digits>`: one item each, gzipped JSON `body`, its `itemId`, `expiresAt`;
 * - `conv_<hex>#id#<item id>`: the item's position (`pos`), to find an item by id.
 * Items are their own DynamoDB items, so a conversation grows past the 400 KB item limit; a page is
 * one Query of the positions after `after`'s. Positions are reserved with one UpdateItem of the head
 * (`nextPos`), so concurrent turns never share one. Every call uses the tenant's client
 * (`docFor(tenantId)`): in the Lambdas a session of the tenant-data role, whose `dynamodb:LeadingKeys`
 * condition reaches only the session tenant's partition. Expired heads are refused on read, as
 * DynamoDB's TTL deletes lazily; deleting a conversation deletes its head, after which its items are
 * unreachable (every read checks the head) and go at `expiresAt`.
 */
export class DynamoDbConversationStore implements ConversationStore {
  constructor(private readonly table: string, private readonly docFor: TenantDocumentClient) {}

  private headKey = (tenantId: string, conversationId: string) => ({ tenantId, responseId: conversationId });
  private itemKey = (tenantId: string, conversationId: string, n: number) => ({ tenantId, responseId: `${conversationId}#item#${pos(n)}` });
  private idKey = (tenantId: string, conversationId: string, itemId: string) => ({ tenantId, responseId: `${conversationId}#id#${itemId}` });

  async create(conversation: StoredConversation, items: ConversationItem[]): Promise<void> {
    const { tenantId, conversationId, createdAt, metadata, expiresAt } = conversation;
    const bodies = encodeItemsWithinLimit(items);
    const dup = firstDuplicate(items, () => false);
    if (dup) throw new DuplicateConversationItemError(dup.index, dup.id);
    const doc = await this.docFor(tenantId);
    await doc.send(new PutCommand({
      TableName: this.table, Item: { ...this.headKey(tenantId, conversationId), createdAt, metadata, expiresAt, nextPos: items.length },
      ConditionExpression: 'attribute_not_exists(responseId)',
    }));
    await this.writeItems(tenantId, conversationId, items, bodies, 0, expiresAt);
  }

  async get(tenantId: string, conversationId: string): Promise<StoredConversation | undefined> {
    if (!isTenantId(tenantId) || !isConversationId(conversationId)) return undefined;
    const doc = await this.docFor(tenantId);
    const item = (await doc.send(new GetCommand({ TableName: this.table, Key: this.headKey(tenantId, conversationId), ConsistentRead: true }))).Item;
    if (!item || typeof item.expiresAt !== 'number' || item.expiresAt * 1000 <= Date.now()) return undefined;
    return { tenantId, conversationId, createdAt: item.createdAt as number, metadata: (item.metadata ?? {}) as Record<string, string>, expiresAt: item.expiresAt };
  }

  async updateMetadata(tenantId: string, conversationId: string, metadata: Record<string, string>): Promise<StoredConversation | undefined> {
    if (!(await this.get(tenantId, conversationId))) return undefined;
    const doc = await this.docFor(tenantId);
    try {
      const out = await doc.send(new UpdateCommand({
        TableName: this.table, Key: this.headKey(tenantId, conversationId), UpdateExpression: 'SET metadata = :m',
        ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now', ExpressionAttributeValues: { ':m': metadata, ':now': nowS() }, ReturnValues: 'ALL_NEW',
      }));
      const a = out.Attributes!;
      return { tenantId, conversationId, createdAt: a.createdAt as number, metadata: a.metadata as Record<string, string>, expiresAt: a.expiresAt as number };
    } catch (e) {
      if (conditionFailed(e)) return undefined;
      throw e;
    }
  }

  async delete(tenantId: string, conversationId: string): Promise<boolean> {
    if (!isTenantId(tenantId) || !isConversationId(conversationId)) return false;
    const doc = await this.docFor(tenantId);
    try {
      await doc.send(new DeleteCommand({
        TableName: this.table, Key: this.headKey(tenantId, conversationId),
        ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now', ExpressionAttributeValues: { ':now': nowS() },
      }));
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  async append(tenantId: string, conversationId: string, items: ConversationItem[]): Promise<boolean> {
    const head = await this.get(tenantId, conversationId);
    if (!head) return false;
    const bodies = encodeItemsWithinLimit(items);
    const held = new Set<string>();
    await inBatches(items, async (item) => {
      if (await this.positionOf(tenantId, conversationId, item.id) !== undefined) held.add(item.id);
    });
    const dup = firstDuplicate(items, (id) => held.has(id));
    if (dup) throw new DuplicateConversationItemError(dup.index, dup.id);
    const doc = await this.docFor(tenantId);
    let end: number;
    try {
      const out = await doc.send(new UpdateCommand({
        TableName: this.table, Key: this.headKey(tenantId, conversationId), UpdateExpression: 'ADD nextPos :n',
        ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now', ExpressionAttributeValues: { ':n': items.length, ':now': nowS() }, ReturnValues: 'UPDATED_NEW',
      }));
      end = out.Attributes!.nextPos as number;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
    if (end > MAX_POS) throw new Error(`conversation ${conversationId} holds more than ${MAX_POS} item positions`);
    await this.writeItems(tenantId, conversationId, items, bodies, end - items.length, head.expiresAt);
    return true;
  }

  async list(tenantId: string, conversationId: string, query: ItemPageQuery): Promise<ItemPage | undefined> {
    if (!(await this.get(tenantId, conversationId))) return undefined;
    let lo = 0;
    let hi = MAX_POS;
    if (query.after !== undefined) {
      const at = await this.positionOf(tenantId, conversationId, query.after);
      if (at === undefined) throw new UnknownAfterItemError(query.after);
      if (query.order === 'asc') lo = at + 1;
      else hi = at - 1;
    }
    if (lo > hi) return { items: [], hasMore: false };
    const items = await this.range(tenantId, conversationId, lo, hi, query.order === 'asc', query.limit + 1);
    return { items: items.slice(0, query.limit), hasMore: items.length > query.limit };
  }

  async all(tenantId: string, conversationId: string): Promise<ConversationItem[] | undefined> {
    if (!(await this.get(tenantId, conversationId))) return undefined;
    return this.range(tenantId, conversationId, 0, MAX_POS, true, Infinity);
  }

  async getItem(tenantId: string, conversationId: string, itemId: string): Promise<ConversationItem | undefined> {
    if (!(await this.get(tenantId, conversationId))) return undefined;
    const at = await this.positionOf(tenantId, conversationId, itemId);
    if (at === undefined) return undefined;
    const doc = await this.docFor(tenantId);
    const item = (await doc.send(new GetCommand({ TableName: this.table, Key: this.itemKey(tenantId, conversationId, at), ConsistentRead: true }))).Item;
    return item && decodeItem(item.body as Uint8Array);
  }

  async deleteItem(tenantId: string, conversationId: string, itemId: string): Promise<boolean> {
    if (!(await this.get(tenantId, conversationId))) return false;
    const at = await this.positionOf(tenantId, conversationId, itemId);
    if (at === undefined) return false;
    const doc = await this.docFor(tenantId);
    await doc.send(new DeleteCommand({ TableName: this.table, Key: this.itemKey(tenantId, conversationId, at) }));
    await doc.send(new DeleteCommand({ TableName: this.table, Key: this.idKey(tenantId, conversationId, itemId) }));
    return true;
  }

  /** The item's position, or undefined when the conversation holds no item with that id. */
  private async positionOf(tenantId: string, conversationId: string, itemId: string): Promise<number | undefined> {
    const doc = await this.docFor(tenantId);
    const item = (await doc.send(new GetCommand({ TableName: this.table, Key: this.idKey(tenantId, conversationId, itemId), ConsistentRead: true }))).Item;
    return typeof item?.pos === 'number' ? item.pos : undefined;
  }

  /** The items at positions lo..hi (inclusive), in order, at most `max` (Query pages of up to 1 MB followed). */
  private async range(tenantId: string, conversationId: string, lo: number, hi: number, ascending: boolean, max: number): Promise<ConversationItem[]> {
    const doc = await this.docFor(tenantId);
    const out: ConversationItem[] = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await doc.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'tenantId = :t AND responseId BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':t': tenantId, ':lo': this.itemKey(tenantId, conversationId, lo).responseId, ':hi': this.itemKey(tenantId, conversationId, hi).responseId },
        ScanIndexForward: ascending, ConsistentRead: true, ExclusiveStartKey: start, ...(Number.isFinite(max) ? { Limit: max - out.length } : {}),
      }));
      for (const item of page.Items ?? []) out.push(decodeItem(item.body as Uint8Array));
      start = page.LastEvaluatedKey;
    } while (start && out.length < max);
    return out;
  }

  /** Each item at its position (from `first`), and its id's pointer. */
  private async writeItems(tenantId: string, conversationId: string, items: ConversationItem[], bodies: Buffer[], first: number, expiresAt: number): Promise<void> {
    const doc = await this.docFor(tenantId);
    await inBatches(items.map((item, i) => ({ item, i })), async ({ item, i }) => {
      await doc.send(new PutCommand({ TableName: this.table, Item: { ...this.itemKey(tenantId, conversationId, first + i), itemId: item.id, body: bodies[i], expiresAt } }));
      await doc.send(new PutCommand({ TableName: this.table, Item: { ...this.idKey(tenantId, conversationId, item.id), pos: first + i, expiresAt } }));
    });
  }
}

const nowS = () => Math.floor(Date.now() / 1000);
const conditionFailed = (e: unknown) => e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException';

/** `f` over `xs`, PARALLEL at a time. */
async function inBatches<T>(xs: T[], f: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < xs.length; i += PARALLEL) await Promise.all(xs.slice(i, i + PARALLEL).map(f));
}
