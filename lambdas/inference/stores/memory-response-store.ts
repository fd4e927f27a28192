import type { EventsChunk, EventsRead, StreamEvent } from '../responses/background-events.js';
import { bodyOf, decodeStoredBody, encodeWithinLimit, expired, type ResponseStore, type RetryMarker, type StoredResponse } from './response-store.js';
import { readChangeWrite } from './versioned-update.js';

/**
 * Stored responses of `tessera serve`, in memory, with the DynamoDB store's semantics: keyed by
 * tenant and id (another tenant's id is not found), the same size limit (the body is kept gzipped,
 * as DynamoDB keeps it), expired items never returned (and dropped when read).
 */
export class MemoryResponseStore implements ResponseStore {
  private readonly items = new Map<string, { tenantId: string; responseId: string; expiresAt: number; body: Buffer }>();

  /** Background responses' stream events by response (appendEvents): in order, whether closed, when they expire. */
  private readonly events = new Map<string, { events: StreamEvent[]; ended: boolean; expiresAt: number }>();

  private static key = (tenantId: string, responseId: string) => JSON.stringify([tenantId, responseId]);

  /**
   * Background creates' retry markers by tenant and fingerprint (putRetryMarker), oldest write first: a marker
   * written again moves to the end, so the expired ones (every marker gets the same window) lead the map.
   */
  private readonly markers = new Map<string, RetryMarker>();

  /**
   * Notes the marker, after dropping the expired ones at the head of the map (pruneRetryMarkers): a long-running
   * `tessera serve` keeps only the markers of the last window, not one per distinct background body ever created.
   */
  async putRetryMarker(tenantId: string, requestHash: string, marker: RetryMarker): Promise<void> {
    this.pruneRetryMarkers();
    const key = MemoryResponseStore.key(tenantId, requestHash);
    this.markers.delete(key);
    this.markers.set(key, { ...marker });
  }

  /** Drops the expired markers in write order, up to the first that has not expired (amortized O(1) per write). */
  private pruneRetryMarkers(now = Date.now()): void {
    for (const [key, marker] of this.markers) {
      if (!expired(marker.expiresAt, now)) return;
      this.markers.delete(key);
    }
  }

  async retryMarker(tenantId: string, requestHash: string): Promise<RetryMarker | undefined> {
    const marker = this.markers.get(MemoryResponseStore.key(tenantId, requestHash));
    return marker && !expired(marker.expiresAt) ? { ...marker } : undefined;
  }

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
    this.events.delete(MemoryResponseStore.key(tenantId, responseId));
    return found !== undefined;
  }

  /**
   * Appends the chunk to the response's log. A chunk for a response no longer stored is dropped: the first one creates
   * the log only while the response exists, a later one is added only to a log that still exists, so a run that writes on
   * after its response was deleted (it notices at its next poll) leaves no events behind.
   */
  async appendEvents(tenantId: string, responseId: string, chunk: EventsChunk): Promise<void> {
    const key = MemoryResponseStore.key(tenantId, responseId);
    const existing = this.events.get(key);
    if (existing ? !this.items.has(key) : chunk.chunk > 0 || !this.items.has(key)) return;
    const log = existing ?? { events: [], ended: false, expiresAt: chunk.expiresAt };
    this.events.set(key, { events: [...log.events, ...structuredClone(chunk.events)], ended: log.ended || chunk.ended, expiresAt: chunk.expiresAt });
  }

  /** `cursor`: the index of the next event. */
  async readEvents(tenantId: string, responseId: string, cursor: number): Promise<EventsRead> {
    const log = this.events.get(MemoryResponseStore.key(tenantId, responseId));
    if (!log || expired(log.expiresAt)) return { events: [], ended: false, cursor, exists: false };
    return { events: structuredClone(log.events.slice(cursor)), ended: log.ended, cursor: log.events.length, exists: true };
  }

  /** In one process nothing runs between the read and the write. */
  async update(tenantId: string, responseId: string, change: (current: StoredResponse) => StoredResponse | undefined): Promise<StoredResponse | undefined> {
    return readChangeWrite(() => this.get(tenantId, responseId), change, (next) => this.put(next));
  }
}
