import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import { PART_ID, UPLOAD_ID } from '../../fine-tuning/uploads-service.js';
import { UploadChanged, type FileLocation, type StoredFile, type StoredUpload, type TrainingFileStore, type VersionedUpload } from '../../fine-tuning/stores/file-store.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/** How long a record's lock may be held before another writer takes it as left by a dead thread, in ms. */
const STALE_LOCK_MS = 5_000;
const LOCK_POLL_MS = 2;

const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
/**
 * How recently a `complete` must have read an upload's parts (its `reading` mark, touched at each readPart, which only
 * a complete calls; until its first read the complete's hold keeps the sweep away) for the sweep to leave them, in ms: 5 minutes, far more than reading and checking one part (64 MiB at most)
 * takes, so a complete still running is never swept from under it, and one that died is swept 5 minutes later.
 */
export const READING_MARK_MS = 5 * 60_000;

/**
 * `tessera serve`'s store of the gateway uploads' records and parts (uploads/gateway-uploads.ts), on disk so that the
 * threads of `serve --workers N` share them (a part may reach another thread than its create):
 * `<dir>/<tenantId>/<uploadId>/upload.json` (the record and its version) and `parts/<partId>`. A conditional write of a
 * record is one step across threads: under a lock directory beside it (mkdir is atomic), the version read, compared
 * and the record replaced (a temporary file renamed over it). Ids that are not the gateway's name no file, so a path
 * from a request cannot leave `dir`; another tenant's id is not found. Only the Uploads API's methods: the files an
 * upload becomes are the gateway's file store's.
 */
export class DirUploadStore implements TrainingFileStore {
  constructor(private readonly dir: string) {}

  private uploadDir(at: FileLocation, uploadId: string): string {
    if (!isTenantId(at.tenantId) || !UPLOAD_ID.test(uploadId)) throw new Error(`no upload ${uploadId} of tenant ${at.tenantId}: not ids the gateway makes`);
    return join(this.dir, at.tenantId, uploadId);
  }

  private partPath(at: FileLocation, uploadId: string, partId: string): string {
    if (!PART_ID.test(partId)) throw new Error(`no part ${partId}: not an id the gateway makes`);
    return join(this.uploadDir(at, uploadId), 'parts', partId);
  }

  async putUpload(at: FileLocation, upload: StoredUpload, expected: string | null): Promise<string> {
    const dir = this.uploadDir(at, upload.id);
    await mkdir(dir, { recursive: true });
    const lock = join(dir, 'lock');
    await this.lock(lock);
    try {
      const current = (await this.read(dir))?.version ?? null;
      if (current !== expected) throw new UploadChanged(`upload ${upload.id} is at version ${current}, not ${expected}`);
      const version = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
      const temp = join(dir, `upload.${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(temp, JSON.stringify({ version, upload }));
      await rename(temp, join(dir, 'upload.json'));
      return version;
    } finally {
      await rmdir(lock).catch(() => undefined);
    }
  }

  async getUpload(at: FileLocation, id: string): Promise<VersionedUpload | undefined> {
    if (!isTenantId(at.tenantId) || !UPLOAD_ID.test(id)) return undefined;
    return this.read(this.uploadDir(at, id));
  }

  async putPart(at: FileLocation, uploadId: string, partId: string, bytes: Uint8Array): Promise<void> {
    const path = this.partPath(at, uploadId, partId);
    await mkdir(join(this.uploadDir(at, uploadId), 'parts'), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, path);
  }

  async deletePart(at: FileLocation, uploadId: string, partId: string): Promise<void> {
    await unlink(this.partPath(at, uploadId, partId)).catch((e: unknown) => { if (!missing(e)) throw e; });
  }

  async partSizes(at: FileLocation, uploadId: string): Promise<Map<string, number>> {
    const dir = join(this.uploadDir(at, uploadId), 'parts');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (missing(e)) return new Map();
      throw e;
    }
    const sizes = new Map<string, number>();
    for (const name of names.filter((n) => PART_ID.test(n))) {
      try {
        sizes.set(name, (await stat(join(dir, name))).size);
      } catch (e) {
        if (!missing(e)) throw e; // removed since the listing
      }
    }
    return sizes;
  }

  async readPart(at: FileLocation, uploadId: string, partId: string): Promise<Uint8Array> {
    await this.markReading(this.uploadDir(at, uploadId));
    try {
      return new Uint8Array(await readFile(this.partPath(at, uploadId, partId)));
    } catch (e) {
      if (missing(e)) throw new Error(`part ${partId} of upload ${uploadId} is gone`);
      throw e;
    }
  }

  async deleteParts(at: FileLocation, uploadId: string): Promise<void> {
    await rm(join(this.uploadDir(at, uploadId), 'parts'), { recursive: true, force: true });
  }

  /**
   * Removes `parts/` of every upload under the store whose record `lapsed` says ended (uploads-service.ts partsLapsed),
   * of every tenant: abandoned uploads' parts, which nothing else removes on `tessera serve`; with `records`, the whole
   * upload (record and parts) once `records.lapsed` says so (uploads-service.ts recordLapsed: a day after its expiry),
   * read only for an upload directory last changed before `records.writtenBeforeMs`, so the records do not pile up for
   * ever. An upload whose parts a request read within READING_MARK_MS (its `reading` mark: a `complete` still reading
   * them, however long after its hold ran out) is left alone. Cost: one readdir a tenant, two stats an upload (its
   * directory and `parts/`; three where parts are left), a record read only where parts are left or the upload is old
   * (measured in docs/gateway.md, *Large files: the Uploads API*). Safe beside the `--workers`
   * threads: a part stored into a lapsed upload after its listing is refused and removed by its own request (addPart
   * checks the upload again once the part is stored), and the removal is `rm -rf`, which a second sweep repeats harmlessly.
   * An upload whose parts cannot be removed (or whose `lapsed` throws) is logged and passed; the sweep goes on.
   * @returns how many uploads' parts (or records and parts) were removed
   */
  async sweepUploads(lapsed: (upload: StoredUpload) => boolean, records?: { lapsed: (upload: StoredUpload) => boolean; writtenBeforeMs: number }): Promise<number> {
    let swept = 0;
    for (const tenantId of await readdir(this.dir).catch(() => [] as string[])) {
      if (!isTenantId(tenantId)) continue;
      for (const uploadId of await readdir(join(this.dir, tenantId)).catch(() => [] as string[])) {
        if (!UPLOAD_ID.test(uploadId)) continue;
        const dir = join(this.dir, tenantId, uploadId);
        const parts = join(dir, 'parts');
        // One upload that cannot be swept (a directory another user owns, an unreadable record) is logged and passed:
        // the uploads after it in the listing are swept all the same.
        try {
          // An upload last written (record, lock, parts/ made or removed) before writtenBeforeMs expired long ago: its record may go.
          const old = records && (await stat(dir).then((s) => s.mtimeMs < records.writtenBeforeMs, () => false));
          const hasParts = await stat(parts).then(() => true, () => false);
          // Most uploads are recent and have no parts left (completed, cancelled, swept): two stats, no record read.
          if (!old && !hasParts) continue;
          if (await this.beingRead(dir)) continue;
          const record = await this.read(dir).catch(() => undefined);
          if (!record) continue;
          if (old && records!.lapsed(record.upload)) {
            await rm(dir, { recursive: true, force: true });
            swept += 1;
            continue;
          }
          if (!hasParts || !lapsed(record.upload)) continue;
          await rm(parts, { recursive: true, force: true });
          swept += 1;
        } catch (e) {
          logger.error('uploads sweep: an upload\'s parts were not removed', { tenantId, uploadId, error: (e as Error).message });
        }
      }
    }
    return swept;
  }

  /** Marks the upload's parts as being read now (the `reading` file's mtime): the sweep leaves them for READING_MARK_MS. */
  private async markReading(dir: string): Promise<void> {
    const mark = join(dir, 'reading');
    const now = new Date();
    await utimes(mark, now, now).catch(async (e: unknown) => {
      if (!missing(e)) throw e;
      await writeFile(mark, '').catch((w: unknown) => { if (!missing(w)) throw w; }); // no upload directory: nothing to mark
    });
  }

  /** Whether a request read the upload's parts within READING_MARK_MS. */
  private async beingRead(dir: string): Promise<boolean> {
    return stat(join(dir, 'reading')).then((s) => Date.now() - s.mtimeMs < READING_MARK_MS, () => false);
  }

  /** The record and its version, or undefined. */
  private async read(dir: string): Promise<VersionedUpload | undefined> {
    try {
      return JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as VersionedUpload;
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
  }

  /** Takes the lock directory `lock`, waiting while another holds it; one older than STALE_LOCK_MS is taken over. */
  private async lock(lock: string): Promise<void> {
    for (;;) {
      try {
        await mkdir(lock);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const since = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > STALE_LOCK_MS) await rmdir(lock).catch(() => undefined);
      else await new Promise((ok) => setTimeout(ok, LOCK_POLL_MS));
    }
  }

  // The files an upload becomes are the gateway file store's (gateway-uploads.ts gatewayUploadFiles): not kept here.
  put(): Promise<StoredFile> { return notHere('put'); }
  requestHashOf(): Promise<string | undefined> { return notHere('requestHashOf'); }
  get(): Promise<StoredFile | undefined> { return notHere('get'); }
  list(): Promise<StoredFile[]> { return notHere('list'); }
  content(): Promise<Uint8Array | undefined> { return notHere('content'); }
  contentPieces(): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined> { return notHere('contentPieces'); }
  delete(): Promise<void> { return notHere('delete'); }
  putFromPieces(): Promise<StoredFile> { return notHere('putFromPieces'); }
}

const notHere = (method: string): Promise<never> => Promise.reject(new Error(`DirUploadStore.${method}: an upload's file is kept by the gateway's file store, not here`));
