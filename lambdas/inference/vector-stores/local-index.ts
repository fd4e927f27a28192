import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTenantId } from '../../../lib/tenant-record.js';
import { matchesFilter } from './filters.js';
import { isVectorStoreId } from './records.js';
import { MAX_EXCLUDED_RUNS, RUN_METADATA_KEY, TEXT_METADATA_KEY, type VectorFilter, type VectorIndex, type VectorMatch, type VectorRecord } from './vector-index.js';

/** S3 Vectors' limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html), refused here as AWS refuses them. */
export const S3_VECTORS_LIMITS = {
  /** Vector index dimension: 1 to 4,096. */
  maxDimension: 4096,
  /** Filterable metadata per vector, bytes (as JSON). */
  maxFilterableBytes: 2048,
  /** All metadata per vector (filterable and not), bytes (as JSON). */
  maxMetadataBytes: 40 * 1024,
  /** QueryVectors' topK. */
  maxTopK: 100,
  /** A vector key: 1 to 1,024 characters. */
  maxKeyChars: 1024,
} as const;

/** A refusal the index makes where S3 Vectors would (a ValidationException there). */
export class VectorIndexLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorIndexLimitError';
  }
}

interface StoredRecord { data: number[]; filterable: VectorRecord['filterable']; text: string; run?: string }

/**
 * `tessera serve`'s VectorIndex: exact cosine ranking over the vectors kept on disk,
 * `<dir>/<tenantId>/<storeId>/index.json` (`{dimension}`) and one `<group>.json` per key group (the key before its
 * `#`: a vector store file's chunks `<file id>#<n>` are one group), with OpenAI's filter semantics (filters.ts).
 * Refuses what S3 Vectors refuses (S3_VECTORS_LIMITS: dimension, metadata sizes, topK, key length), so that what
 * serve takes, AWS takes too. Writes to one index are serialized within the process.
 */
export class LocalVectorIndex implements VectorIndex {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly dir: string) {}

  private indexDir(tenantId: string, storeId: string): string {
    if (!isTenantId(tenantId) || !isVectorStoreId(storeId)) throw new VectorIndexLimitError(`index ${JSON.stringify(storeId.slice(0, 100))} of tenant ${JSON.stringify(tenantId)} is not one the gateway makes`);
    return join(this.dir, tenantId, storeId);
  }

  private serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.chains.set(key, run);
    return run.finally(() => { if (this.chains.get(key) === run) this.chains.delete(key); });
  }

  private async dimension(tenantId: string, storeId: string): Promise<number | undefined> {
    const text = await readFile(join(this.indexDir(tenantId, storeId), 'index.json'), 'utf8').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e; });
    return text === undefined ? undefined : (JSON.parse(text) as { dimension: number }).dimension;
  }

  async createIndex(tenantId: string, storeId: string, dimension: number): Promise<void> {
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > S3_VECTORS_LIMITS.maxDimension) throw new VectorIndexLimitError(`dimension ${dimension} is out of range: a vector index takes 1 to ${S3_VECTORS_LIMITS.maxDimension} (S3 Vectors)`);
    const dir = this.indexDir(tenantId, storeId);
    await this.serial(dir, async () => {
      const existing = await this.dimension(tenantId, storeId);
      if (existing === dimension) return;
      if (existing !== undefined) throw new Error(`the index of ${storeId} has dimension ${existing}, not ${dimension}`);
      await mkdir(dir, { recursive: true });
      await writeWhole(join(dir, 'index.json'), JSON.stringify({ dimension }));
    });
  }

  async deleteIndex(tenantId: string, storeId: string): Promise<void> {
    const dir = this.indexDir(tenantId, storeId);
    await this.serial(dir, () => rm(dir, { recursive: true, force: true }));
  }

  async put(tenantId: string, storeId: string, records: VectorRecord[]): Promise<void> {
    const dir = this.indexDir(tenantId, storeId);
    await this.serial(dir, async () => {
      const dimension = await this.dimension(tenantId, storeId);
      if (dimension === undefined) throw new VectorIndexLimitError(`no index for ${storeId}: create it first`);
      for (const r of records) checkRecord(r, dimension);
      const groups = groupBy(records.map((r) => r.key));
      for (const [group, keys] of groups) {
        const stored = await readGroup(dir, group);
        for (const r of records) if (keys.has(r.key)) stored[r.key] = { data: r.data, filterable: r.filterable, text: r.text, ...(r.run === undefined ? {} : { run: r.run }) };
        await writeWhole(join(dir, `${group}.json`), JSON.stringify(stored));
      }
    });
  }

  /** VectorIndex.setFilterable: each existing vector of `keys` keeps its data, text and run, with `filterable` checked as put checks it. */
  async setFilterable(tenantId: string, storeId: string, keys: string[], filterable: VectorRecord['filterable']): Promise<void> {
    const dir = this.indexDir(tenantId, storeId);
    await this.serial(dir, async () => {
      const dimension = await this.dimension(tenantId, storeId);
      if (dimension === undefined) return;
      for (const [group, inGroup] of groupBy(keys)) {
        const stored = await readGroup(dir, group);
        const present = [...inGroup].filter((key) => key in stored);
        if (!present.length) continue;
        for (const key of present) {
          const r = stored[key]!;
          checkRecord({ key, data: r.data, filterable, text: r.text, ...(r.run === undefined ? {} : { run: r.run }) }, dimension);
          stored[key] = { ...r, filterable: { ...filterable } };
        }
        await writeWhole(join(dir, `${group}.json`), JSON.stringify(stored));
      }
    });
  }

  async delete(tenantId: string, storeId: string, keys: string[]): Promise<void> {
    const dir = this.indexDir(tenantId, storeId);
    await this.serial(dir, async () => {
      for (const [group, inGroup] of groupBy(keys)) {
        const stored = await readGroup(dir, group);
        for (const key of inGroup) delete stored[key];
        if (Object.keys(stored).length) await writeWhole(join(dir, `${group}.json`), JSON.stringify(stored));
        else await unlink(join(dir, `${group}.json`)).catch(() => undefined);
      }
    });
  }

  /** The nearest `topK` (exact cosine) of the vectors matching `filter`, those of `exclude.runs` left out (a vector written without a run never is), as S3VectorsIndex.query. */
  async query(tenantId: string, storeId: string, vector: number[], topK: number, filter?: VectorFilter, exclude?: { runs: readonly string[] }): Promise<VectorMatch[]> {
    if (!Number.isInteger(topK) || topK < 1 || topK > S3_VECTORS_LIMITS.maxTopK) throw new VectorIndexLimitError(`topK ${topK} is out of range: 1 to ${S3_VECTORS_LIMITS.maxTopK} (S3 Vectors QueryVectors)`);
    const excluded = new Set(exclude?.runs ?? []);
    if (excluded.size > MAX_EXCLUDED_RUNS) throw new Error(`a query leaves out at most ${MAX_EXCLUDED_RUNS} runs, not ${excluded.size}`);
    const dir = this.indexDir(tenantId, storeId);
    const dimension = await this.dimension(tenantId, storeId);
    if (dimension === undefined) return [];
    if (vector.length !== dimension) throw new VectorIndexLimitError(`the query vector has ${vector.length} values; the index's dimension is ${dimension}`);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json') && n !== 'index.json');
    const matches: VectorMatch[] = [];
    for (const name of names) {
      for (const [key, r] of Object.entries(await readGroup(dir, name.slice(0, -5)))) {
        if (filter && !matchesFilter(r.filterable, filter)) continue;
        if (r.run !== undefined && excluded.has(r.run)) continue;
        matches.push({ key, distance: 1 - cosine(vector, r.data), filterable: r.filterable, text: r.text });
      }
    }
    return matches.sort((a, b) => a.distance - b.distance || a.key.localeCompare(b.key)).slice(0, topK);
  }
}

/** Refuses a record S3 Vectors' PutVectors would refuse. */
function checkRecord(r: VectorRecord, dimension: number): void {
  if (!r.key || r.key.length > S3_VECTORS_LIMITS.maxKeyChars || !/^[^/\\]+$/.test(r.key)) throw new VectorIndexLimitError(`vector key ${JSON.stringify(r.key.slice(0, 100))} must be 1 to ${S3_VECTORS_LIMITS.maxKeyChars} characters`);
  if (r.data.length !== dimension || !r.data.every(Number.isFinite)) throw new VectorIndexLimitError(`vector ${r.key} has ${r.data.length} values (or a value that is not finite); the index's dimension is ${dimension}`);
  for (const reserved of [TEXT_METADATA_KEY, RUN_METADATA_KEY]) if (reserved in r.filterable) throw new VectorIndexLimitError(`vector ${r.key}: attribute "${reserved}" is reserved`);
  // The run is filterable metadata on S3 Vectors (RUN_METADATA_KEY): its bytes count in the 2 KB there, so here too.
  const filterable = Buffer.byteLength(JSON.stringify(r.run === undefined ? r.filterable : { ...r.filterable, [RUN_METADATA_KEY]: r.run }));
  if (filterable > S3_VECTORS_LIMITS.maxFilterableBytes) throw new VectorIndexLimitError(`vector ${r.key} has ${filterable} bytes of filterable metadata; S3 Vectors takes at most ${S3_VECTORS_LIMITS.maxFilterableBytes}`);
  const all = filterable + Buffer.byteLength(JSON.stringify(r.text));
  if (all > S3_VECTORS_LIMITS.maxMetadataBytes) throw new VectorIndexLimitError(`vector ${r.key} has ${all} bytes of metadata; S3 Vectors takes at most ${S3_VECTORS_LIMITS.maxMetadataBytes}`);
}

/** Keys by their group (the part before the first `#`, file-name safe). */
function groupBy(keys: string[]): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>();
  for (const key of keys) {
    const group = Buffer.from(key.split('#')[0]!).toString('base64url') || '_';
    if (!groups.has(group)) groups.set(group, new Set());
    groups.get(group)!.add(key);
  }
  return groups;
}

async function readGroup(dir: string, group: string): Promise<Record<string, StoredRecord>> {
  const text = await readFile(join(dir, `${group}.json`), 'utf8').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return '{}'; throw e; });
  return JSON.parse(text) as Record<string, StoredRecord>;
}

async function writeWhole(file: string, data: string): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, data);
  await rename(temp, file);
}

/** Cosine similarity; 0 when either vector is all zeros. */
function cosine(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
