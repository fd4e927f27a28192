import { constants } from 'node:fs';
import { access, appendFile, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import type { EventsChunk, EventsRead, StreamEvent } from '../responses/background-events.js';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import { isResponseId } from '../responses/ids.js';
import { bodyOf, decodeStoredBody, encodeStoredBody, encodeWithinLimit, expired, type ResponseStore, type RetryMarker, type StoredResponse } from './response-store.js';
import { readChangeWrite } from './versioned-update.js';
import { writeWhole } from '../../shared/write-whole.js';

/**
 * Stored responses of `tessera serve`, as files under its state directory:
 * `<dir>/<tenantId>/<responseId>.json.gz` (gzipped JSON of the body and `expiresAt`). Every worker
 * thread of `serve --workers N` shares the directory, so a response stored by one is found by the
 * next request whichever worker takes it, and stored responses outlive a restart until they expire.
 * The DynamoDB store's semantics: keyed by tenant (another tenant's id names another file, which is
 * never read), the same size limit, expired files never returned (and removed when read). Ids that
 * are not the gateway's (`resp_` and 48 hex characters) or not tenant ids name no file, so a path
 * from a request cannot leave the directory.
 */
export class FileResponseStore implements ResponseStore {
  constructor(private readonly dir: string) {}

  private file(tenantId: string, responseId: string): string | undefined {
    return isTenantId(tenantId) && isResponseId(responseId) ? join(this.dir, tenantId, `${responseId}.json.gz`) : undefined;
  }

  /** A background create's retry marker: `<dir>/<tenantId>/retry-<SHA-256 hex>.json` (putRetryMarker). */
  private markerFile(tenantId: string, requestHash: string): string | undefined {
    return isTenantId(tenantId) && /^[a-f0-9]{64}$/.test(requestHash) ? join(this.dir, tenantId, `retry-${requestHash}.json`) : undefined;
  }

  /** When this store last pruned each tenant's expired markers (epoch ms; pruneRetryMarkers). */
  private readonly prunedAt = new Map<string, number>();

  /**
   * Writes the marker, after removing the tenant's expired marker files (pruneRetryMarkers) when this store has not
   * done so for RETRY_MARKER_PRUNE_MS: a long-running `tessera serve` keeps the markers of about the last window, not
   * one file per distinct background body ever created (a marker is read only by its fingerprint, so nothing else
   * would ever remove it).
   */
  async putRetryMarker(tenantId: string, requestHash: string, marker: RetryMarker): Promise<void> {
    const file = this.markerFile(tenantId, requestHash);
    if (!file) return;
    const now = Date.now();
    if (now - (this.prunedAt.get(tenantId) ?? -Infinity) >= RETRY_MARKER_PRUNE_MS) {
      this.prunedAt.set(tenantId, now);
      await this.pruneRetryMarkers(tenantId, now).catch(() => undefined);
    }
    await mkdir(join(this.dir, tenantId), { recursive: true });
    await writeWhole(file, JSON.stringify(marker));
  }

  /**
   * Removes the tenant's `retry-*.json` files whose marker has expired (one unreadable or half-written is left to the
   * next pass). Another worker may rewrite a marker between the read and the unlink: that marker is lost, and a retry
   * of its create starts a second run, as without markers.
   */
  private async pruneRetryMarkers(tenantId: string, now: number): Promise<void> {
    const dir = join(this.dir, tenantId);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!/^retry-[a-f0-9]{64}\.json$/.test(name)) continue;
      const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
      let marker: RetryMarker | undefined;
      try {
        marker = text ? (JSON.parse(text) as RetryMarker) : undefined;
      } catch { /* half-written: left */ }
      if (marker && expired(marker.expiresAt, now)) await unlink(join(dir, name)).catch(() => undefined);
    }
  }

  async retryMarker(tenantId: string, requestHash: string): Promise<RetryMarker | undefined> {
    const file = this.markerFile(tenantId, requestHash);
    const text = file && (await readFile(file, 'utf8').catch(() => undefined));
    const marker = text ? (JSON.parse(text) as RetryMarker) : undefined;
    return marker && !expired(marker.expiresAt) ? marker : undefined;
  }

  /** A background response's stream events: `<dir>/<tenantId>/<responseId>.events.jsonl`, a line per chunk (EventsChunk as JSON). */
  private eventsFile(tenantId: string, responseId: string): string | undefined {
    return isTenantId(tenantId) && isResponseId(responseId) ? join(this.dir, tenantId, `${responseId}.events.jsonl`) : undefined;
  }

  /**
   * Appends the chunk as one line (the run is the only writer; readers take whole lines only). A chunk for a response
   * no longer stored is dropped: the first chunk creates the file only while the response's file exists (and removes it
   * again if a delete came in between), a later one is appended only to a file that still exists (opened without
   * O_CREAT), so a run that writes on after its response was deleted (it notices at its next poll; its last write
   * closes the log) leaves no events file behind, which nothing would ever read or remove.
   */
  async appendEvents(tenantId: string, responseId: string, chunk: EventsChunk): Promise<void> {
    const file = this.eventsFile(tenantId, responseId);
    if (!file) throw new Error(`cannot store events of response ${responseId} of tenant ${tenantId}: not ids the gateway makes`);
    const line = `${JSON.stringify(chunk)}\n`;
    const stored = this.file(tenantId, responseId)!;
    if (chunk.chunk === 0) {
      if (!(await exists(stored))) return;
      await mkdir(join(this.dir, tenantId), { recursive: true });
      await appendFile(file, line);
      if (!(await exists(stored))) await unlink(file).catch(() => undefined); // deleted meanwhile
      return;
    }
    let handle;
    try {
      handle = await open(file, constants.O_WRONLY | constants.O_APPEND);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // the response was deleted, its events with it
      throw e;
    }
    try {
      await handle.writeFile(line);
    } finally {
      await handle.close();
    }
  }

  /** `cursor`: the byte offset of the next line. */
  async readEvents(tenantId: string, responseId: string, cursor: number): Promise<EventsRead> {
    const file = this.eventsFile(tenantId, responseId);
    const none = { events: [], ended: false, cursor, exists: false };
    if (!file) return none;
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return none;
      throw e;
    }
    try {
      const size = (await handle.stat()).size;
      const bytes = Buffer.alloc(Math.max(0, size - cursor));
      if (bytes.length) await handle.read(bytes, 0, bytes.length, cursor);
      const whole = bytes.lastIndexOf(10) + 1; // a line still being written is read next time
      const events: StreamEvent[] = [];
      let ended = false;
      for (const line of bytes.subarray(0, whole).toString('utf8').split('\n')) {
        if (!line) continue;
        const chunk = JSON.parse(line) as EventsChunk;
        if (expired(chunk.expiresAt)) {
          await unlink(file).catch(() => undefined);
          return none;
        }
        events.push(...chunk.events);
        ended ||= chunk.ended;
      }
      return { events, ended, cursor: cursor + whole, exists: true };
    } finally {
      await handle.close();
    }
  }

  async put(item: StoredResponse): Promise<void> {
    const file = this.file(item.tenantId, item.responseId);
    if (!file) throw new Error(`cannot store response ${item.responseId} of tenant ${item.tenantId}: not ids the gateway makes`);
    const body = bodyOf(item);
    encodeWithinLimit(body); // one size limit for every store
    await mkdir(join(this.dir, item.tenantId), { recursive: true });
    await writeWhole(file, encodeStoredBody({ ...body, expiresAt: item.expiresAt } as never));
  }

  async get(tenantId: string, responseId: string): Promise<StoredResponse | undefined> {
    const file = this.file(tenantId, responseId);
    if (!file) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const { expiresAt, ...body } = decodeStoredBody(bytes) as ReturnType<typeof decodeStoredBody> & { expiresAt: number };
    if (expired(expiresAt)) {
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    return { tenantId, responseId, expiresAt, ...body };
  }

  async delete(tenantId: string, responseId: string): Promise<boolean> {
    if (!(await this.get(tenantId, responseId))) return false;
    try {
      await unlink(this.file(tenantId, responseId)!);
      await unlink(this.eventsFile(tenantId, responseId)!).catch(() => undefined);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // another worker deleted it first
      throw e;
    }
  }

  /**
   * Under a lock file beside the response's (`<file>.lock`, created exclusively), so that the worker threads of
   * `serve --workers N` (a background run in one, a cancel in another) never write over each other's change. A lock
   * older than LOCK_STALE_MS (a thread that died holding it) is taken over.
   * @throws Error when the lock could not be taken within LOCK_WAIT_MS
   */
  async update(tenantId: string, responseId: string, change: (current: StoredResponse) => StoredResponse | undefined): Promise<StoredResponse | undefined> {
    const file = this.file(tenantId, responseId);
    if (!file) return undefined;
    return await underLock(`${file}.lock`, () => readChangeWrite(() => this.get(tenantId, responseId), change, (next) => this.put(next)));
  }
}

/** How often a store removes a tenant's expired retry marker files, at most (FileResponseStore.putRetryMarker). */
export const RETRY_MARKER_PRUNE_MS = 60_000;

/** How long update() waits for another writer's lock. */
const LOCK_WAIT_MS = 10_000;
/** A lock older than this was left by a thread that died holding it. */
const LOCK_STALE_MS = 30_000;

/**
 * Takes the lock file `lock` (created exclusively), waiting for another writer (thread or process) to release it, up to
 * LOCK_WAIT_MS; a lock older than LOCK_STALE_MS is taken as left by a writer that died. The caller unlinks it.
 * @throws ENOENT when the lock's directory does not exist; an Error when another writer holds it past LOCK_WAIT_MS
 */
export async function takeLock(lock: string): Promise<void> {
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx')).close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = await stat(lock).catch(() => undefined);
    if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) await unlink(lock).catch(() => undefined);
    else if (Date.now() > until) throw new Error(`${lock}: held by another writer for over ${LOCK_WAIT_MS} ms`);
    else await new Promise((ok) => setTimeout(ok, 5));
  }
}

/**
 * `work` while holding the lock file `lock` (takeLock), which is removed after it, whatever `work` did.
 * @returns what `work` returns; undefined without running it when the lock's directory does not exist (no directory of
 *   the tenant's: nothing of theirs to change)
 * @throws what `work` throws; takeLock's Error when another writer holds the lock past LOCK_WAIT_MS
 */
export async function underLock<T>(lock: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    await takeLock(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return await work();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

/** Whether `file` exists (any error but ENOENT is thrown). */
async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
