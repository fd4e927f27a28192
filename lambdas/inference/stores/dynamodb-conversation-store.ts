import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { sendTransaction } from '../../shared/transactions.js';
import {
  decodeItem, DuplicateConversationItemError, encodeItemsWithinLimit, firstDuplicate, isConversationId, UnknownAfterItemError,
  type ConversationItem, type ConversationStore, type ItemPage, type ItemPageQuery, type StoredConversation,
} from './conversation-store.js';
import { conditionFailed } from './versioned-update.js';

/** Digits of an item's position in its sort key: positions sort as strings. */
const POS_DIGITS = 12;
const pos = (n: number) => String(n).padStart(POS_DIGITS, '0');
const MAX_POS = 10 ** POS_DIGITS - 1;
/** DynamoDB's limits of one TransactWriteItems: 100 actions, 4 MB of items in all (API reference, TransactWriteItems). */
const TRANSACTION_ACTIONS = 100;
const TRANSACTION_BYTES = 4_000_000;
/** What an item takes in a transaction beyond its body (keys, attribute names, `itemId`, `expiresAt`) and its pointer, at most. */
const ITEM_OVERHEAD_BYTES = 2048;

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/**
 * Conversations in the platform's responses table (the table of stored responses: partition key
 * `tenantId`, sort key `responseId`, TTL `expiresAt`), under sort keys no response has (those are
 * `resp_…`):
 * - `conv_<hex>`: the head: `createdAt`, `metadata`, `nextPos` (the next item's position), `expiresAt`;
 * - `conv_<hex>#item#<position, 12 digits>`: one item each, gzipped JSON `body`, its `itemId`, `expiresAt`;
 * - `conv_<hex>#id#<item id>`: the item's position (`pos`), to find an item by id.
 * Items are their own DynamoDB items, so a conversation grows past the 400 KB item limit; a page is
 * one Query of the positions after `after`'s. Positions are reserved with one UpdateItem of the head
 * (`nextPos`), so concurrent turns never share one. Each item and its id's pointer are written in one
 * TransactWriteItems (with the head, for a new conversation), the pointer under
 * `attribute_not_exists`: two writers of one item id cannot both succeed, and an item never exists
 * without its pointer or the reverse (item deletes remove both in one transaction too). Up to 50 items
 * (and 4 MB) go in one transaction; a longer append takes several, and one refused or failed undoes the
 * ones before it. What a writer that stops between its writes leaves: after the reservation, positions
 * no item takes (a Query skips them: pages and `after` are unchanged); between the transactions of an
 * append of over 50 items, the items of the first ones, each whole and with its pointer (listed,
 * retrieved, deleted and refused as duplicates alike), the rest not added. Every call uses the tenant's client
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
    const head: TransactItem = {
      Put: { TableName: this.table, Item: { ...this.headKey(tenantId, conversationId), createdAt, metadata, expiresAt, nextPos: items.length }, ConditionExpression: 'attribute_not_exists(responseId)' },
    };
    await this.writeItems(tenantId, conversationId, items, bodies, 0, expiresAt, head);
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
    const dup = firstDuplicate(items, () => false);
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
    // An id already in the conversation is refused by the pointer's condition (the positions reserved stay unused).
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
    try {
      // Both or neither; the pointer's condition: a concurrent delete of the same item answers false.
      await sendTransaction(doc, new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.table, Key: this.idKey(tenantId, conversationId, itemId), ConditionExpression: 'pos = :pos', ExpressionAttributeValues: { ':pos': at } } },
          { Delete: { TableName: this.table, Key: this.itemKey(tenantId, conversationId, at) } },
        ],
      }));
      return true;
    } catch (e) {
      if (cancelledFor(e, 'ConditionalCheckFailed') !== undefined) return false;
      throw e;
    }
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

  /**
   * Each item at its position (from `first`) with its id's pointer, in transactions of up to
   * TRANSACTION_ACTIONS actions and TRANSACTION_BYTES (`head`, a new conversation's, in the first).
   * When one is refused or fails, the ones before it are undone (best effort: what a failed undo
   * leaves is whole items with their pointers).
   * @throws DuplicateConversationItemError when a pointer exists (an id the conversation holds), nothing of this call kept
   */
  private async writeItems(tenantId: string, conversationId: string, items: ConversationItem[], bodies: Buffer[], first: number, expiresAt: number, head?: TransactItem): Promise<void> {
    const doc = await this.docFor(tenantId);
    const chunks: Array<{ actions: TransactItem[]; from: number; to: number }> = [];
    let chunk = { actions: head ? [head] : [], from: 0, to: 0, bytes: 0 };
    items.forEach((item, i) => {
      const bytes = bodies[i]!.length + ITEM_OVERHEAD_BYTES;
      if (chunk.to > chunk.from && (chunk.actions.length + 2 > TRANSACTION_ACTIONS || chunk.bytes + bytes > TRANSACTION_BYTES)) {
        chunks.push(chunk);
        chunk = { actions: [], from: i, to: i, bytes: 0 };
      }
      chunk.actions.push(
        { Put: { TableName: this.table, Item: { ...this.itemKey(tenantId, conversationId, first + i), itemId: item.id, body: bodies[i], expiresAt } } },
        { Put: { TableName: this.table, Item: { ...this.idKey(tenantId, conversationId, item.id), pos: first + i, expiresAt }, ConditionExpression: 'attribute_not_exists(responseId)' } },
      );
      chunk.to = i + 1;
      chunk.bytes += bytes;
    });
    if (chunk.actions.length > 0) chunks.push(chunk);
    for (const [n, c] of chunks.entries()) {
      try {
        await sendTransaction(doc, new TransactWriteCommand({ TransactItems: c.actions }));
      } catch (e) {
        await this.undo(tenantId, conversationId, items, first, chunks.slice(0, n));
        const refused = cancelledFor(e, 'ConditionalCheckFailed');
        // The actions are [head?] then item, pointer per item: an odd offset (after the head) is a pointer.
        const offset = refused === undefined ? undefined : refused - (n === 0 && head ? 1 : 0);
        if (offset !== undefined && offset >= 0 && offset % 2 === 1) {
          const index = c.from + (offset - 1) / 2;
          throw new DuplicateConversationItemError(index, items[index]!.id);
        }
        throw e;
      }
    }
  }

  /** Deletes what these transactions of writeItems wrote (each pointer only while it is still this call's position). */
  private async undo(tenantId: string, conversationId: string, items: ConversationItem[], first: number, done: Array<{ from: number; to: number }>): Promise<void> {
    const doc = await this.docFor(tenantId);
    for (const c of done) {
      for (let i = c.from; i < c.to; i++) {
        await sendTransaction(doc, new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.table, Key: this.idKey(tenantId, conversationId, items[i]!.id), ConditionExpression: 'pos = :pos', ExpressionAttributeValues: { ':pos': first + i } } },
            { Delete: { TableName: this.table, Key: this.itemKey(tenantId, conversationId, first + i) } },
          ],
        })).catch(() => undefined);
      }
    }
  }
}

const nowS = () => Math.floor(Date.now() / 1000);

/** The index of the first action a cancelled transaction names with `code`, or undefined (another error, another reason). */
function cancelledFor(e: unknown, code: string): number | undefined {
  if (!(e instanceof TransactionCanceledException) && (e as Error).name !== 'TransactionCanceledException') return undefined;
  const at = ((e as TransactionCanceledException).CancellationReasons ?? []).findIndex((r) => r.Code === code);
  return at < 0 ? undefined : at;
}
