import {
  decodeItem, DuplicateConversationItemError, encodeItemsWithinLimit, firstDuplicate, UnknownAfterItemError,
  type ConversationItem, type ConversationStore, type ItemPage, type ItemPageQuery, type StoredConversation,
} from './conversation-store.js';
import { expired } from './response-store.js';

interface Kept {
  conversation: StoredConversation;
  /** Oldest first, each gzipped as DynamoDB keeps it. */
  items: Array<{ id: string; bytes: Buffer }>;
}

/**
 * Conversations of `tessera serve` (and of tests), in this process's memory, with the DynamoDB
 * store's semantics: keyed by tenant and id (another tenant's id is not found), the same size limit
 * per item, expired conversations never returned (and dropped when read).
 */
export class MemoryConversationStore implements ConversationStore {
  private readonly kept = new Map<string, Kept>();

  private static key = (tenantId: string, conversationId: string) => JSON.stringify([tenantId, conversationId]);

  private find(tenantId: string, conversationId: string): Kept | undefined {
    const key = MemoryConversationStore.key(tenantId, conversationId);
    const kept = this.kept.get(key);
    if (kept && expired(kept.conversation.expiresAt)) {
      this.kept.delete(key);
      return undefined;
    }
    return kept;
  }

  async create(conversation: StoredConversation, items: ConversationItem[]): Promise<void> {
    const bytes = encodeItemsWithinLimit(items);
    const dup = firstDuplicate(items, () => false);
    if (dup) throw new DuplicateConversationItemError(dup.index, dup.id);
    this.kept.set(MemoryConversationStore.key(conversation.tenantId, conversation.conversationId), {
      conversation: { ...conversation, metadata: { ...conversation.metadata } },
      items: items.map((item, i) => ({ id: item.id, bytes: bytes[i]! })),
    });
  }

  async get(tenantId: string, conversationId: string): Promise<StoredConversation | undefined> {
    const kept = this.find(tenantId, conversationId);
    return kept && { ...kept.conversation, metadata: { ...kept.conversation.metadata } };
  }

  async updateMetadata(tenantId: string, conversationId: string, metadata: Record<string, string>): Promise<StoredConversation | undefined> {
    const kept = this.find(tenantId, conversationId);
    if (!kept) return undefined;
    kept.conversation.metadata = { ...metadata };
    return this.get(tenantId, conversationId);
  }

  async delete(tenantId: string, conversationId: string): Promise<boolean> {
    const found = this.find(tenantId, conversationId) !== undefined;
    this.kept.delete(MemoryConversationStore.key(tenantId, conversationId));
    return found;
  }

  async append(tenantId: string, conversationId: string, items: ConversationItem[]): Promise<boolean> {
    const kept = this.find(tenantId, conversationId);
    if (!kept) return false;
    const bytes = encodeItemsWithinLimit(items);
    const dup = firstDuplicate(items, (id) => kept.items.some((i) => i.id === id));
    if (dup) throw new DuplicateConversationItemError(dup.index, dup.id);
    kept.items.push(...items.map((item, i) => ({ id: item.id, bytes: bytes[i]! })));
    return true;
  }

  async list(tenantId: string, conversationId: string, query: ItemPageQuery): Promise<ItemPage | undefined> {
    const kept = this.find(tenantId, conversationId);
    if (!kept) return undefined;
    const ordered = query.order === 'asc' ? kept.items : [...kept.items].reverse();
    let start = 0;
    if (query.after !== undefined) {
      const at = ordered.findIndex((i) => i.id === query.after);
      if (at < 0) throw new UnknownAfterItemError(query.after);
      start = at + 1;
    }
    return { items: ordered.slice(start, start + query.limit).map((i) => decodeItem(i.bytes)), hasMore: start + query.limit < ordered.length };
  }

  async all(tenantId: string, conversationId: string): Promise<ConversationItem[] | undefined> {
    return this.find(tenantId, conversationId)?.items.map((i) => decodeItem(i.bytes));
  }

  async getItem(tenantId: string, conversationId: string, itemId: string): Promise<ConversationItem | undefined> {
    const found = this.find(tenantId, conversationId)?.items.find((i) => i.id === itemId);
    return found && decodeItem(found.bytes);
  }

  async deleteItem(tenantId: string, conversationId: string, itemId: string): Promise<boolean> {
    const kept = this.find(tenantId, conversationId);
    const at = kept?.items.findIndex((i) => i.id === itemId) ?? -1;
    if (at < 0) return false;
    kept!.items.splice(at, 1);
    return true;
  }
}
