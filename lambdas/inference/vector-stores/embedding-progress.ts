import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeWhole } from '../../shared/write-whole.js';

/**
 * The embeddings a vector store file's run had made when `tessera serve` stopped it (processing.ts `stopping`), kept
 * beside the file's record so that the next serve's run of the file (resumeVectorStoreFiles) embeds only the chunks
 * after them instead of paying for every chunk again. Each embedding is kept with the SHA-256 of its chunk's text and
 * the model that made it: a later run reuses one only for the same text embedded by the same model (the file attached
 * again with another chunking, or a store's other model, embeds afresh).
 */
export interface EmbeddedChunks {
  /** The catalog id of the embedding model (StoredVectorStore.embeddingModel). */
  model: string;
  /** The chunks embedded, from the file's first, in order: the SHA-256 (hex) of each chunk's text and its vector. */
  chunks: Array<{ sha256: string; vector: number[] }>;
}

/** Where the embeddings of a stopped run are kept until the file's next run takes them. */
export interface EmbeddingProgress {
  /** Keeps `kept` for the file, replacing what was kept for it. @throws what the store throws */
  save(tenantId: string, storeId: string, fileId: string, kept: EmbeddedChunks): Promise<void>;
  /** What was kept for the file, removed as it is read (one run takes it); undefined when nothing (or nothing readable) was. */
  take(tenantId: string, storeId: string, fileId: string): Promise<EmbeddedChunks | undefined>;
}

/** The SHA-256 (hex) of a chunk's text, as EmbeddedChunks keeps it. */
export const chunkDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * `tessera serve`'s EmbeddingProgress: a JSON file per file, `<dir>/<tenant>/<store id>/<file id>.json`, written whole
 * (a rename), each vector as the base64 of its float64 values (exact: 12 KiB a chunk at 1,536 values). Written once, at
 * the stop, by the stopped run; removed when the next run of the file reads it.
 */
export class DirEmbeddingProgress implements EmbeddingProgress {
  constructor(private readonly dir: string) {}

  private file(tenantId: string, storeId: string, fileId: string): string {
    return join(this.dir, tenantId, storeId, `${fileId}.json`);
  }

  async save(tenantId: string, storeId: string, fileId: string, kept: EmbeddedChunks): Promise<void> {
    await mkdir(join(this.dir, tenantId, storeId), { recursive: true });
    const chunks = kept.chunks.map((c) => ({ sha256: c.sha256, vector: Buffer.from(new Float64Array(c.vector).buffer).toString('base64') }));
    await writeWhole(this.file(tenantId, storeId, fileId), JSON.stringify({ model: kept.model, chunks }));
  }

  async take(tenantId: string, storeId: string, fileId: string): Promise<EmbeddedChunks | undefined> {
    const path = this.file(tenantId, storeId, fileId);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
    await rm(path, { force: true });
    try {
      const read = JSON.parse(text) as { model: string; chunks: Array<{ sha256: string; vector: string }> };
      return {
        model: read.model,
        chunks: read.chunks.map((c) => {
          // Copied into a buffer of its own: a Float64Array needs an offset that is a multiple of 8.
          return { sha256: c.sha256, vector: [...new Float64Array(Uint8Array.from(Buffer.from(c.vector, 'base64')).buffer)] };
        }),
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Removes what was kept for files no run will take: each kept file last written before `beforeMs` (a previous
   * serve's) whose file is not `in_progress` any more (`inProgress`: detached, deleted, cancelled, or its store deleted
   * while serve was stopped). `tessera serve`'s first thread calls it at start, after its resume. Never throws.
   */
  async sweep(beforeMs: number, inProgress: (tenantId: string, storeId: string, fileId: string) => Promise<boolean>): Promise<void> {
    const names = async (dir: string) => readdir(dir).catch(() => [] as string[]);
    for (const tenantId of await names(this.dir)) {
      for (const storeId of await names(join(this.dir, tenantId))) {
        for (const name of await names(join(this.dir, tenantId, storeId))) {
          const path = join(this.dir, tenantId, storeId, name);
          const written = await stat(path).then((s) => s.mtimeMs, () => undefined);
          if (written === undefined || written >= beforeMs) continue;
          if (!name.endsWith('.json') || !(await inProgress(tenantId, storeId, name.slice(0, -'.json'.length)).catch(() => true))) await rm(path, { force: true }).catch(() => undefined);
        }
      }
    }
  }
}
