import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import { writeWhole } from '../../shared/write-whole.js';
import { expired } from './response-store.js';
import { isPendingKey, pendingNoteOf, type PendingCreates, type PendingNote } from '../pending-creates.js';

/**
 * The running create attempts' notes of `tessera serve` (../pending-creates.ts), one JSON file each:
 * `<dir>/<tenantId>/<route>-<SHA-256 hex>.json`, written whole (a temporary file renamed), so the worker threads of
 * `serve --workers N` see one another's. `end` reads the note and removes it when it is still the attempt's: an attempt
 * of the same fingerprint begun between the read and the removal loses its note (its retries then make their own
 * object, as before notes), where DynamoDbPendingCreates's removal is conditional. A note whose attempt died with the
 * process stands until it expires (RETRY_WINDOW_SECONDS), and is removed when read then.
 */
export class DirPendingCreates implements PendingCreates {
  constructor(private readonly dir: string) {}

  private path(tenantId: string, key: string): string | undefined {
    return isTenantId(tenantId) && isPendingKey(key) ? join(this.dir, tenantId, `${key.replace('#', '-')}.json`) : undefined;
  }

  async begin(tenantId: string, key: string, attempt: string): Promise<void> {
    const path = this.path(tenantId, key);
    if (!path) throw new Error(`cannot note the create ${key} of tenant ${tenantId}: not a key the gateway makes`);
    await mkdir(join(this.dir, tenantId), { recursive: true });
    await writeWhole(path, JSON.stringify(pendingNoteOf(attempt)));
  }

  async read(tenantId: string, key: string): Promise<PendingNote | undefined> {
    const path = this.path(tenantId, key);
    const text = path && (await readFile(path, 'utf8').catch(() => undefined));
    const note = text ? (JSON.parse(text) as PendingNote) : undefined;
    if (note && expired(note.expiresAt)) {
      await unlink(path!).catch(() => undefined);
      return undefined;
    }
    return note;
  }

  async end(tenantId: string, key: string, attempt: string): Promise<void> {
    const path = this.path(tenantId, key);
    if (path && (await this.read(tenantId, key))?.attempt === attempt) await unlink(path).catch(() => undefined);
  }
}
