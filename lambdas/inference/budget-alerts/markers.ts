import { hash } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Once-only markers, one per threshold per budget per period: `claim` succeeds for exactly one
 * caller across every process that shares the store, until `release` gives the marker back (its
 * event could not be sent) or it expires.
 */
export interface AlertMarkers {
  /**
   * Claims the marker `id` atomically.
   * @param expiresAt when the marker may be forgotten (after its period ended)
   * @returns true for the one caller that claimed it; false when it is already claimed
   */
  claim(tenantId: string, id: string, expiresAt: Date): Promise<boolean>;
  /** Gives the marker back, so that a later request claims it again (its event was not sent). */
  release(tenantId: string, id: string): Promise<void>;
}

/** Markers in this process's memory: `tessera serve` with one event loop (its counters are in memory too). Expired markers are dropped on the next claim. */
export class MemoryAlertMarkers implements AlertMarkers {
  private readonly claimed = new Map<string, number>();

  async claim(_tenantId: string, id: string, expiresAt: Date): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.claimed) if (until <= now) this.claimed.delete(k);
    if (this.claimed.has(id)) return false;
    this.claimed.set(id, expiresAt.getTime());
    return true;
  }

  async release(_tenantId: string, id: string): Promise<void> {
    this.claimed.delete(id);
  }
}

/**
 * Markers as files `<dir>/<id>` created with `O_CREAT | O_EXCL` (`wx`): the file system creates a
 * name once, so claims are exact across the worker threads of `tessera serve --workers N` (and
 * across processes sharing the directory). Names are the marker id made file-safe
 * (encodeURIComponent; over 200 characters, `~` + its SHA-256). Markers stay until the directory is removed (serve's state directory).
 */
export class FileAlertMarkers implements AlertMarkers {
  private ready?: Promise<unknown>;

  constructor(private readonly dir: string) {}

  private file(id: string) {
    const name = encodeURIComponent(id);
    // File names stop at 255 bytes: a long one (a long subject id) by its SHA-256.
    return join(this.dir, name.length <= 200 ? name : `~${hash('sha256', id, 'hex')}`);
  }

  async claim(_tenantId: string, id: string, expiresAt: Date): Promise<boolean> {
    await (this.ready ??= mkdir(this.dir, { recursive: true }));
    const file = this.file(id);
    let f;
    try {
      f = await open(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    // Closed whatever the write does (else its descriptor waits for garbage collection); a marker whose write failed
    // (a full disk) is removed, so that the claim can be made again rather than held by an empty file.
    try {
      await f.writeFile(JSON.stringify({ claimedAt: new Date().toISOString(), expiresAt: expiresAt.toISOString() }));
    } catch (e) {
      await f.close().catch(() => undefined);
      await rm(file, { force: true });
      throw e;
    }
    await f.close();
    return true;
  }

  async release(_tenantId: string, id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }
}
