import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import { VersionConflict, type RecordTable } from './records.js';

/** Characters a record key may hold (the gateway's ids and `#`): a key names no path outside the tenant's directory. */
const KEY = /^[A-Za-z0-9_#-]{1,200}$/;

/**
 * `tessera serve`'s vector store records: `<dir>/<tenantId>/<key, # as ~>.json`, each `{version, body}`, written whole
 * (a rename). Versioned writes are checked within this process (one chain per key); the worker threads of
 * `serve --workers N` each check their own, so two threads writing one record at the same instant may both succeed
 * (the later wins), as the Dir stores of batches.
 */
export class DirRecordTable implements RecordTable {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly dir: string) {}

  private path(tenantId: string, key: string): string {
    if (!isTenantId(tenantId) || !KEY.test(key)) throw new Error(`record key ${JSON.stringify(key.slice(0, 100))} of tenant ${JSON.stringify(tenantId)} is not one the gateway makes`);
    return join(this.dir, tenantId, `${key.replaceAll('#', '~')}.json`);
  }

  async get(tenantId: string, key: string): Promise<{ body: string; version: number } | undefined> {
    try {
      return JSON.parse(await readFile(this.path(tenantId, key), 'utf8')) as { body: string; version: number };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async query(tenantId: string, prefix: string): Promise<Array<{ key: string; body: string }>> {
    if (!isTenantId(tenantId)) return [];
    const names = await readdir(join(this.dir, tenantId)).catch(() => [] as string[]);
    const keys = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5).replaceAll('~', '#')).filter((k) => k.startsWith(prefix)).sort();
    const read = await Promise.all(keys.map(async (key) => ({ key, got: await this.get(tenantId, key) })));
    return read.filter((r) => r.got).map((r) => ({ key: r.key, body: r.got!.body }));
  }

  async put(tenantId: string, key: string, body: string, version: number): Promise<void> {
    const file = this.path(tenantId, key);
    const chainKey = `${tenantId}/${key}`;
    const run = (this.chains.get(chainKey) ?? Promise.resolve()).catch(() => undefined).then(async () => {
      const current = (await this.get(tenantId, key))?.version ?? 0;
      if (current !== version) throw new VersionConflict(key);
      await mkdir(join(this.dir, tenantId), { recursive: true });
      const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify({ version: version + 1, body }));
      await rename(temp, file);
    });
    this.chains.set(chainKey, run);
    try {
      await run;
    } finally {
      if (this.chains.get(chainKey) === run) this.chains.delete(chainKey);
    }
  }

  async delete(tenantId: string, keys: string[]): Promise<void> {
    for (const key of keys) await unlink(this.path(tenantId, key)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
  }

  /** The tenants with records (the directories under `dir` named as tenant ids). */
  async tenantIds(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => isTenantId(n)).sort();
  }

  /** When the record was last written (its file's mtime, epoch ms), or undefined when there is none. */
  async writtenAtMs(tenantId: string, key: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(tenantId, key))).mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}
