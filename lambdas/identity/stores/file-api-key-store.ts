import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { ApiKeyStore } from './api-key-store.js';
import type { KeyPageRequest } from '../key-list-query.js';
import { ApiKeyExistsError, hashPrefixOf, isKeyHash, isLive, mayHoldKeys, newestFirst, pageOf, parseStoredKey, TenantNotServedError, TooManyKeysError, withoutUndefined, type KeyPage, type LiveKeyCap, type TenantStatusReader } from './api-key-store-common.js';

const RECORD_FILE = /^[0-9a-f]{64}\.json$/;
/** How long `update` waits for another worker's lock on the same record before failing. */
const LOCK_WAIT_MS = 5_000;
/** A lock older than this was left by a worker that died holding it, and is broken. */
const STALE_LOCK_MS = 10_000;

/** Attempts of a put whose tenant folder a concurrent deleteAll removed under it. */
const FOLDER_ATTEMPTS = 5;

const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Key records of `tessera serve`, one JSON file per key: `<dir>/<tenantId>/<keyHash>.json`.
 * Every worker thread of `serve --workers N` opens its own store on the same directory and there
 * is no cache here (the authorizer caches), so a key created or revoked through one worker is
 * seen by the next read in any other.
 *
 * - `get` is one file read. A tenant id or hash that is not one names no file (a path from a
 *   request cannot leave the directory).
 * - Writes are atomic: a temp file beside the record, then `link` (put: fails when the record
 *   exists, so a put never overwrites) or `rename` (update): readers see the old file or the new
 *   one, never half of one.
 * - `update` is a read-modify-write under a per-record lock file (`<keyHash>.json.lock`, created
 *   exclusively), so a revocation and the authorizer's `lastUsedAt` write never undo each other.
 */
export class FileApiKeyStore implements ApiKeyStore {
  /**
   * @param dir the state directory's keys folder (created on the first put)
   * @param tenantStatus where put reads the tenant's status after linking the record (TenantStatusReader). @default - none: put checks no status (`tessera dev-key`)
   */
  constructor(private readonly dir: string, private readonly tenantStatus?: TenantStatusReader) {}

  private folder(tenantId: string): string | undefined {
    return isTenantId(tenantId) ? join(this.dir, tenantId) : undefined;
  }

  private file(tenantId: string, keyHash: string): string | undefined {
    const folder = this.folder(tenantId);
    return folder && isKeyHash(keyHash) ? join(folder, `${keyHash}.json`) : undefined;
  }

  private async read(file: string): Promise<ApiKeyRecord | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
    return parseStoredKey(JSON.parse(text), `in ${file}`);
  }

  private async names(tenantId: string): Promise<string[]> {
    const folder = this.folder(tenantId);
    if (!folder) return [];
    try {
      return (await readdir(folder)).filter((n) => RECORD_FILE.test(n));
    } catch (e) {
      if (missing(e)) return [];
      throw e;
    }
  }

  async get(tenantId: string, keyHash: string): Promise<ApiKeyRecord | undefined> {
    const file = this.file(tenantId, keyHash);
    return file ? this.read(file) : undefined;
  }

  async findById(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const prefix = hashPrefixOf(keyId);
    if (!prefix) return undefined;
    for (const name of await this.names(tenantId)) {
      if (!name.startsWith(prefix)) continue;
      const record = await this.read(join(this.folder(tenantId)!, name));
      if (record?.keyId === keyId) return record;
    }
    return undefined;
  }

  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const folder = this.folder(tenantId);
    const records = await Promise.all((await this.names(tenantId)).map((n) => this.read(join(folder!, n))));
    return newestFirst(records.filter((r): r is ApiKeyRecord => r !== undefined));
  }

  /**
   * The page of the tenant's records in creation order (pageOf): reads every record of its folder, since a file's name
   * (the key's hash) says nothing of when the key was made (`tessera serve` is local; a tenant holds a few hundred keys).
   * @throws UnknownAfterKeyError when `page.after` is no key of the tenant
   */
  async listPage(tenantId: string, page: KeyPageRequest): Promise<KeyPage> {
    return pageOf(tenantId, await this.list(tenantId), page);
  }

  /**
   * Links the record's file, then (with `tenantStatus`) reads the tenant's status and unlinks the
   * file again when the tenant may not hold keys.
   * With `cap`, the tenant's records are read and counted first: creates racing in two worker threads of
   * `tessera serve --workers N` can pass the cap by the number of them (a local server; the deployed stores are exact).
   * @throws ApiKeyExistsError when the record's file exists already
   * @throws TooManyKeysError when `cap` is given and the tenant has `cap.max` live keys
   * @throws TenantNotServedError when the status read after the write is not ACTIVE or UPDATING
   * @throws the status read's error, the file removed again
   * @throws Error when the tenant id or hash could not name a file
   */
  async put(record: ApiKeyRecord, cap?: LiveKeyCap): Promise<void> {
    const file = this.file(record.tenantId, record.keyHash);
    if (!file) throw new Error(`cannot store key ${record.keyId} of tenant ${record.tenantId}: not a tenant id and key hash`);
    if (cap) {
      const live = (await this.list(record.tenantId)).filter((r) => isLive(r, cap.now)).length;
      if (live >= cap.max) throw new TooManyKeysError(record.tenantId, live);
    }
    // The tenant's folder can go between mkdir and link (deleteAll removes it): make it again and retry.
    for (let attempt = 1; ; attempt++) {
      await mkdir(join(this.dir, record.tenantId), { recursive: true });
      let temp: string | undefined;
      try {
        temp = await this.writeTemp(file, record);
        await link(temp, file); // atomic and exclusive: EEXIST when the record exists
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ApiKeyExistsError(record.tenantId, record.keyHash);
        if (!missing(e) || attempt >= FOLDER_ATTEMPTS) throw e;
      } finally {
        if (temp) await unlink(temp).catch(() => undefined);
      }
    }
    if (!this.tenantStatus) return;
    const removeRecord = () => unlink(file).catch((e: unknown) => {
      if (!missing(e)) throw e; // a deletion (deleteAll) removed it first
    });
    // A read that fails leaves the status unknown: the record is removed too (not kept unfenced), and the read's error thrown.
    const status = await this.tenantStatus(record.tenantId).catch(async (e: unknown) => {
      await removeRecord();
      throw e;
    });
    if (mayHoldKeys(status)) return;
    await removeRecord();
    throw new TenantNotServedError(record.tenantId, status);
  }

  async update(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'lastUsedAt' | 'rotatedTo'>>): Promise<void> {
    await this.updateIf(tenantId, keyHash, changes, () => true);
  }

  /** Under the record's lock: sets `changes` when the record is neither rotated nor revoked. */
  async claimRotation(tenantId: string, keyHash: string, changes: Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'rotatedTo'>>): Promise<boolean> {
    return this.updateIf(tenantId, keyHash, changes, (r) => r.rotatedTo === undefined && r.revokedAt === undefined);
  }

  /** Read-modify-write under the record's lock when `when(record)` holds. @returns whether it wrote */
  private async updateIf(tenantId: string, keyHash: string, changes: Partial<ApiKeyRecord>, when: (record: ApiKeyRecord) => boolean): Promise<boolean> {
    const file = this.file(tenantId, keyHash);
    if (!file) return false;
    if (!(await stat(file).catch(() => undefined))) return false; // a missing record stays missing (and its folder may not exist)
    let wrote = false;
    await this.locked(file, async () => {
      const record = await this.read(file);
      if (!record || !when(record)) return; // a missing record stays missing
      const temp = await this.writeTemp(file, { ...record, ...withoutUndefined(changes) });
      await rename(temp, file);
      wrote = true;
    });
    return wrote;
  }

  /**
   * Unlinks every record file of the tenant, then removes its folder (temp and lock files too). A put racing it makes the
   * folder again (and, fenced, removes its own record when the tenant may not hold keys); rm retries a folder a put wrote into meanwhile.
   * @returns how many record files it unlinked
   */
  async deleteAll(tenantId: string): Promise<number> {
    const folder = this.folder(tenantId);
    if (!folder) return 0;
    let deleted = 0;
    for (const name of await this.names(tenantId)) {
      try {
        await unlink(join(folder, name));
        deleted++;
      } catch (e) {
        if (!missing(e)) throw e;
      }
    }
    // Temp and lock files left by a crash, or being written by a concurrent put (rm then retries on ENOTEMPTY).
    await rm(folder, { recursive: true, force: true, maxRetries: 5, retryDelay: 10 });
    return deleted;
  }

  private async writeTemp(file: string, record: ApiKeyRecord): Promise<string> {
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, `${JSON.stringify(withoutUndefined(record), null, 2)}\n`, { mode: 0o600 });
    return temp;
  }

  /** Runs `work` holding `<file>.lock` (exclusive create); waits up to LOCK_WAIT_MS, breaks a lock older than STALE_LOCK_MS. */
  private async locked(file: string, work: () => Promise<void>): Promise<void> {
    const lock = `${file}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, 'wx')).close();
        break;
      } catch (e) {
        if (missing(e)) return; // the tenant's folder is gone (deleteAll): nothing to update
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const held = await stat(lock).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the key record ${file} stayed locked by another worker for ${LOCK_WAIT_MS / 1000} s (${lock}); delete the lock file if no tessera serve is running`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    }
    try {
      await work();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
}
