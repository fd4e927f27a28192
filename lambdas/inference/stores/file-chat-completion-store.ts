import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import { expired } from './response-store.js';
import { underLock } from './file-response-store.js';
import { encodeChatCompletionBody, isChatCompletionId, type ChatCompletionStore, type ChatCompletionSummary, type StoredChatCompletion } from './chat-completion-store.js';
import { readChangeWrite } from './versioned-update.js';
import { writeWhole } from '../../shared/write-whole.js';

/** A file's content: the summary and `expiresAt` as JSON, the body as base64 of its gzipped JSON (the size limit's measure). */
interface FileItem extends ChatCompletionSummary {
  expiresAt: number;
  body: string;
}

/**
 * Stored chat completions of `tessera serve`, as files under its state directory: `<dir>/<tenantId>/<id>.json.gz`,
 * shared by the worker threads of `serve --workers N` and kept across restarts until they expire. The DynamoDB
 * store's semantics: keyed by tenant (another tenant's id names another file, never read), the same size limit,
 * expired files never returned (and removed when read). Ids that are not the gateway's (`chatcmpl-` and 24 hex)
 * or not tenant ids name no file, so a path from a request cannot leave the directory. Writes are whole-file
 * renames (a reader sees the old or the new file). A metadata update and a delete hold the item's lock file
 * (`<id>.json.gz.lock`, as FileResponseStore.update) from their read to their write: two concurrent updates, the last
 * one wins; an update racing a delete never brings the deleted completion back.
 */
export class FileChatCompletionStore implements ChatCompletionStore {
  constructor(private readonly dir: string) {}

  private file(tenantId: string, id: string): string | undefined {
    return isTenantId(tenantId) && isChatCompletionId(id) ? join(this.dir, tenantId, `${id}.json.gz`) : undefined;
  }

  async put(item: StoredChatCompletion): Promise<void> {
    const file = this.file(item.tenantId, item.id);
    if (!file) throw new Error(`cannot store chat completion ${item.id} of tenant ${item.tenantId}: not ids the gateway makes`);
    const body = encodeChatCompletionBody(item).toString('base64');
    const kept: FileItem = { id: item.id, created: item.created, ...(item.storedAt !== undefined ? { storedAt: item.storedAt } : {}), model: item.model, metadata: item.metadata, expiresAt: item.expiresAt, body };
    await mkdir(join(this.dir, item.tenantId), { recursive: true });
    await writeWhole(file, gzipSync(JSON.stringify(kept)));
  }

  private async read(file: string): Promise<FileItem | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const kept = JSON.parse(gunzipSync(bytes).toString('utf8')) as FileItem;
    if (expired(kept.expiresAt)) {
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    return kept;
  }

  async get(tenantId: string, id: string): Promise<StoredChatCompletion | undefined> {
    const file = this.file(tenantId, id);
    const kept = file && (await this.read(file));
    if (!kept) return undefined;
    const { body, ...summary } = kept;
    const decoded = JSON.parse(gunzipSync(Buffer.from(body, 'base64')).toString('utf8')) as Pick<StoredChatCompletion, 'completion' | 'messages' | 'caller'>;
    return { tenantId, ...summary, ...decoded };
  }

  async list(tenantId: string): Promise<ChatCompletionSummary[]> {
    if (!isTenantId(tenantId)) return [];
    let names: string[];
    try {
      names = await readdir(join(this.dir, tenantId));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: ChatCompletionSummary[] = [];
    for (const name of names) {
      const id = name.endsWith('.json.gz') ? name.slice(0, -'.json.gz'.length) : '';
      if (!isChatCompletionId(id)) continue;
      const kept = await this.read(join(this.dir, tenantId, name));
      if (kept) out.push({ id: kept.id, created: kept.created, ...(kept.storedAt !== undefined ? { storedAt: kept.storedAt } : {}), model: kept.model, metadata: kept.metadata });
    }
    return out;
  }

  async setMetadata(tenantId: string, id: string, metadata: Record<string, string>): Promise<StoredChatCompletion | undefined> {
    return this.locked(tenantId, id, () => readChangeWrite(() => this.get(tenantId, id), (current) => ({ ...current, metadata }), (next) => this.put(next)));
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    return (await this.locked(tenantId, id, async (file) => {
      if (!(await this.read(file))) return false;
      try {
        await unlink(file);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw e;
      }
    })) ?? false;
  }

  /** `work` under the item's lock file; undefined without running it when the ids name no file or the tenant has none. */
  private async locked<T>(tenantId: string, id: string, work: (file: string) => Promise<T>): Promise<T | undefined> {
    const file = this.file(tenantId, id);
    return file ? await underLock(`${file}.lock`, () => work(file)) : undefined;
  }
}
