import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * OpenAI's Conversations API state (`/v1/conversations`, `conversation` on `/v1/responses`): a
 * conversation's head (id, creation time, metadata) and its items, kept per tenant and read and
 * written only as that tenant. Items are kept one by one, each under its own key (in DynamoDB one
 * item each), so a conversation can grow past DynamoDB's 400 KB item limit however long it gets;
 * only a single item is limited (MAX_ITEM_BYTES compressed).
 *
 * Expiry: `expiresAt`, fixed when the conversation is created (`gateway.responsesTtlDays` after,
 * as stored responses), shared by its items. OpenAI keeps conversations without its 30-day TTL; the
 * gateway keeps its one retention promise for stored conversation state instead (docs/gateway.md).
 *
 * Deleting a conversation removes its head: every read goes through the head, so its items answer
 * as an unknown conversation's at once; what is left of them goes at `expiresAt` (OpenAI: "Items in
 * the conversation will not be deleted").
 */
export interface StoredConversation {
  tenantId: string;
  /** `conv_` and 48 hex characters. */
  conversationId: string;
  /** Epoch seconds. */
  createdAt: number;
  /** OpenAI's `Metadata`: up to 16 string pairs. */
  metadata: Record<string, string>;
  /** Epoch seconds after which the conversation and its items are gone. */
  expiresAt: number;
}

/** One item of a conversation as the API answers it (OpenAI's `ConversationItem`): always with an `id`. */
export type ConversationItem = Record<string, unknown> & { id: string };

/** A page of a conversation's items, in the order asked for. */
export interface ItemPage {
  items: ConversationItem[];
  /** Whether more items follow the page in that order. */
  hasMore: boolean;
}

/** How a page of items is read. */
export interface ItemPageQuery {
  /** `asc`: oldest first; `desc`: newest first. */
  order: 'asc' | 'desc';
  /** 1 to 100. */
  limit: number;
  /** An item id of this conversation: the page starts after it. @default - the first page */
  after?: string;
}

export interface ConversationStore {
  /**
   * Creates the conversation with its first items (in order).
   * @throws ConversationItemTooLargeError when an item is over MAX_ITEM_BYTES compressed
   */
  create(conversation: StoredConversation, items: ConversationItem[]): Promise<void>;
  /** The tenant's conversation, unless it has expired or was deleted, or undefined (never another tenant's). */
  get(tenantId: string, conversationId: string): Promise<StoredConversation | undefined>;
  /** Replaces the metadata. @returns the conversation updated, or undefined when the tenant has no such conversation */
  updateMetadata(tenantId: string, conversationId: string, metadata: Record<string, string>): Promise<StoredConversation | undefined>;
  /** @returns whether the tenant had such a conversation */
  delete(tenantId: string, conversationId: string): Promise<boolean>;
  /**
   * Appends items (in order) after the conversation's last.
   * @returns false when the tenant has no such conversation (nothing is added)
   * @throws ConversationItemTooLargeError when an item is over MAX_ITEM_BYTES compressed (nothing is added)
   * @throws DuplicateConversationItemError when an item's id is already in the conversation
   */
  append(tenantId: string, conversationId: string, items: ConversationItem[]): Promise<boolean>;
  /**
   * A page of the items.
   * @returns undefined when the tenant has no such conversation
   * @throws UnknownAfterItemError when `after` is not an item of the conversation
   */
  list(tenantId: string, conversationId: string, query: ItemPageQuery): Promise<ItemPage | undefined>;
  /** Every item, oldest first (the history a response with `conversation` continues), or undefined when the tenant has no such conversation. */
  all(tenantId: string, conversationId: string): Promise<ConversationItem[] | undefined>;
  /** One item, or undefined (no such conversation, or no such item in it). */
  getItem(tenantId: string, conversationId: string, itemId: string): Promise<ConversationItem | undefined>;
  /** @returns whether the conversation had such an item */
  deleteItem(tenantId: string, conversationId: string, itemId: string): Promise<boolean>;
}

/** The most one conversation item may take, gzipped: DynamoDB's item limit is 400 KB, the keys and attribute names fit in the rest. */
export const MAX_ITEM_BYTES = 390 * 1024;

/** An item as gzipped JSON. */
export const encodeItem = (item: ConversationItem): Buffer => gzipSync(JSON.stringify(item));
export const decodeItem = (bytes: Uint8Array): ConversationItem => JSON.parse(gunzipSync(bytes).toString('utf8')) as ConversationItem;

/** The items encoded, or ConversationItemTooLargeError for the first over MAX_ITEM_BYTES. */
export function encodeItemsWithinLimit(items: ConversationItem[]): Buffer[] {
  return items.map((item, i) => {
    const bytes = encodeItem(item);
    if (bytes.length > MAX_ITEM_BYTES) throw new ConversationItemTooLargeError(i, bytes.length);
    return bytes;
  });
}

/** An item is over MAX_ITEM_BYTES compressed. `index`: its place among the items given. */
export class ConversationItemTooLargeError extends Error {
  constructor(readonly index: number, readonly bytes: number) {
    super(`the item takes ${Math.ceil(bytes / 1024)} KiB compressed, over the ${MAX_ITEM_BYTES / 1024} KiB one conversation item may take (DynamoDB items are at most 400 KB)`);
  }
}

/** An item's id is already in the conversation. `index`: its place among the items given. */
export class DuplicateConversationItemError extends Error {
  constructor(readonly index: number, readonly itemId: string) {
    super(`Duplicate item found with id ${itemId}: the conversation already holds an item with that id`);
  }
}

/** `after` names no item of the conversation. */
export class UnknownAfterItemError extends Error {
  constructor(readonly itemId: string) {
    super(`after '${itemId}' is not an item of this conversation`);
  }
}

/** Whether `id` can be a conversation id the gateway made (`conv_` and 48 hex characters). */
export const isConversationId = (id: string) => /^conv_[0-9a-f]{48}$/.test(id);

/** The ids of `items` that repeat (within them, or of `existing`): the first such index and id, or undefined. */
export function firstDuplicate(items: ConversationItem[], existing: (id: string) => boolean): { index: number; id: string } | undefined {
  const seen = new Set<string>();
  for (const [index, item] of items.entries()) {
    if (seen.has(item.id) || existing(item.id)) return { index, id: item.id };
    seen.add(item.id);
  }
  return undefined;
}
