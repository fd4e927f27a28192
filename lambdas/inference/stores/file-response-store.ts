import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import { isResponseId } from '../responses/ids.js';
import { decodeStoredBody, encodeStoredBody, encodeWithinLimit, expired, type ResponseStore, type StoredResponse } from './response-store.js';

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

  async put(item: StoredResponse): Promise<void> {
    const file = this.file(item.tenantId, item.responseId);
    if (!file) throw new Error(`cannot store response ${item.responseId} of tenant ${item.tenantId}: not ids the gateway makes`);
    const body = { response: item.response, inputItems: item.inputItems, messages: item.messages };
    encodeWithinLimit(body); // one size limit for every store
    await mkdir(join(this.dir, item.tenantId), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, encodeStoredBody({ ...body, expiresAt: item.expiresAt } as never));
    await rename(temp, file); // readers see the whole file or none
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
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // another worker deleted it first
      throw e;
    }
  }
}
