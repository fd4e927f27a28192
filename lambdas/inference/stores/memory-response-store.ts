import { bodyOf, decodeStoredBody, encodeWithinLimit, expired, type ResponseStore, type StoredResponse } from './response-store.js';
import { readChangeWrite } from './versioned-update.js';

/**
 * Stored responses of `tessera serve`, in memory, with the DynamoDB store's semantics: keyed by
 * tenant and id (another tenant's id is not found), the same size limit (the body is kept gzipped,
 * as DynamoDB keeps it), expired items never returned (and dropped when read).
 */
export class MemoryResponseStore implements ResponseStore {
  private readonly items = new Map<string, { tenantId: string; responseId: string; expiresAt: number; body: Buffer }>();

  private static key = (tenantId: string, responseId: string) => JSON.stringify([tenantId, responseId]);

  async put(item: StoredResponse): Promise<void> {
    const body = encodeWithinLimit(bodyOf(item));
    this.items.set(MemoryResponseStore.key(item.tenantId, item.responseId), { tenantId: item.tenantId, responseId: item.responseId, expiresAt: item.expiresAt, body });
  }

  async get(tenantId: string, responseId: string): Promise<StoredResponse | undefined> {
    const key = MemoryResponseStore.key(tenantId, responseId);
    const kept = this.items.get(key);
    if (!kept) return undefined;
    if (expired(kept.expiresAt)) {
      this.items.delete(key);
      return undefined;
    }
    return { tenantId, responseId, expiresAt: kept.expiresAt, ...decodeStoredBody(kept.body) };
  }

  async delete(tenantId: string, responseId: string): Promise<boolean> {
    const found = await this.get(tenantId, responseId);
    this.items.delete(MemoryResponseStore.key(tenantId, responseId));
    return found !== undefined;
  }

  /** In one process nothing runs between the read and the write. */
  async update(tenantId: string, responseId: string, change: (current: StoredResponse) => StoredResponse | undefined): Promise<StoredResponse | undefined> {
    return readChangeWrite(() => this.get(tenantId, responseId), change, (next) => this.put(next));
  }
}
