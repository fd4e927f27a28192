import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DirRecordTable } from '../../../../lambdas/inference/vector-stores/dir-record-table.js';
import { chunkDigest, DirEmbeddingProgress } from '../../../../lambdas/inference/vector-stores/embedding-progress.js';
import { LocalVectorIndex } from '../../../../lambdas/inference/vector-stores/local-index.js';
import { CHUNKS_PER_EMBEDDING_CALL, processVectorStoreFile, type EmbedTexts, type ProcessingDeps } from '../../../../lambdas/inference/vector-stores/processing.js';
import { newVectorStoreId, VectorStoreRecords, type StoredVectorStore, type StoredVectorStoreFile } from '../../../../lambdas/inference/vector-stores/records.js';
import { resumeVectorStoreFiles } from '../../../../lambdas/inference/vector-stores/serve-resume.js';
import { tempDir } from '../../../support/temp-dirs.js';

/**
 * `tessera serve` stopped while a vector store file is processed (s43k): its stop aborts the runs' `stopping` signal
 * (the batch runs' one), so no embeddings call is made after it and the file is left `in_progress`, nothing written;
 * the next serve gives each file a previous serve left `in_progress` a new run and processes it (resumeVectorStoreFiles).
 * Before, a stopping serve went on embedding (and billing) files while it settled, and a file left `in_progress` by a
 * stopped serve stayed so for ever (docs/gateway.md said: attach it again).
 */
const FILE = 'file-00000000000000000000000b';
const A = '00000000000a';
const owner = { tenantId: 'acme', userId: 'u-1', role: 'developer' as const };
/** Several embedding calls' worth of 100-token chunks. */
const LONG = Array.from({ length: 3 * CHUNKS_PER_EMBEDDING_CALL * 100 }, (_, i) => `w${i % 97}`).join(' ');
let recordsDir: string;
let table: DirRecordTable;
let records: VectorStoreRecords;
let index: LocalVectorIndex;
let store: StoredVectorStore;
let embed: ReturnType<typeof vi.fn<EmbedTexts>>;
let deps: ProcessingDeps;

beforeEach(async () => {
  recordsDir = tempDir('tessera-vs-stop-records-');
  table = new DirRecordTable(recordsDir);
  records = new VectorStoreRecords(table);
  index = new LocalVectorIndex(tempDir('tessera-vs-stop-index-'));
  embed = vi.fn<EmbedTexts>(async (_o, _m, texts) => ({ vectors: texts.map(() => [1, 0, 0, 0]) }));
  deps = { records, index, embed, files: { get: async () => undefined, content: async () => Buffer.from(LONG) } as unknown as ProcessingDeps['files'] };
  store = { tenantId: 'acme', id: newVectorStoreId(), name: 's', metadata: null, createdAt: 1, lastActiveAt: 1, embeddingModel: 'openai/text-embedding-3-small', owner };
  await records.createStore(store);
  await records.putFile(fileRecord(A));
});

const fileRecord = (run: string): StoredVectorStoreFile => ({
  tenantId: 'acme', storeId: store.id, fileId: FILE, filename: 'long.txt', createdAt: 1, status: 'in_progress', lastError: null,
  usageBytes: 0, attributes: null, chunking: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 }, run, chunks: 0, owner,
});
const file = () => records.getFile('acme', store.id, FILE);
/** The store's vectors a search finds (at most 100: a query's topK bound). */
const vectors = async () => (await index.query('acme', store.id, [1, 0, 0, 0], 100).catch(() => [])).length;
/** Dates the file's record back to before `ms` (as one written by a serve that ran before this one started). */
const writtenBefore = (ms: number) => utimes(join(recordsDir, 'acme', `${store.id}~file~${FILE}.json`), (ms - 60_000) / 1000, (ms - 60_000) / 1000);

describe('tessera serve stopped while a vector store file is processed', () => {
  it('no embeddings call is made after the stop: the file stays in_progress at its run, no vector written', async () => {
    const stopping = new AbortController();
    // The stop comes during the first of the file's embeddings calls.
    embed.mockImplementationOnce(async (_o, _m, texts) => {
      stopping.abort();
      return { vectors: texts.map(() => [1, 0, 0, 0]) };
    });
    await processVectorStoreFile({ ...deps, stopping: stopping.signal }, 'acme', store.id, FILE, A);
    expect(embed).toHaveBeenCalledTimes(1);
    expect(await file()).toMatchObject({ status: 'in_progress', run: A, chunks: 0, lastError: null });
    expect(await vectors()).toBe(0);
  });

  it('the next serve gives a file a previous serve left in_progress a new run and processes it: completed, each chunk once', async () => {
    const startedAtMs = Date.now();
    await writtenBefore(startedAtMs);
    const started: string[] = [];
    await resumeVectorStoreFiles(table, records, startedAtMs, (tenantId, storeId, fileId, run) => void started.push(`${tenantId}/${storeId}/${fileId}/${run}`));
    expect(started).toHaveLength(1);
    const resumed = (await file())!;
    expect(resumed.status).toBe('in_progress');
    expect(resumed.run).not.toBe(A);
    expect(started[0]).toBe(`acme/${store.id}/${FILE}/${resumed.run}`);

    await processVectorStoreFile(deps, 'acme', store.id, FILE, resumed.run);
    const done = (await file())!;
    expect(done).toMatchObject({ status: 'completed', run: resumed.run });
    const calls = embed.mock.calls.length;
    expect(calls).toBe(Math.ceil(done.chunks / CHUNKS_PER_EMBEDDING_CALL));
    expect(calls).toBeGreaterThan(1);
    expect(await vectors()).toBe(Math.min(done.chunks, 100));
    expect(done.chunks).toBeGreaterThan(0);
    // The stopped serve's run, if it settles later, finds itself superseded and changes nothing.
    await processVectorStoreFile(deps, 'acme', store.id, FILE, A);
    expect(embed).toHaveBeenCalledTimes(calls);
    expect(await file()).toMatchObject({ status: 'completed', run: resumed.run });
  });

  // Before session 44, the resumed run embedded the file from its first chunk, billing again every chunk the stopped run had embedded.
  it('the embeddings a stopped run made are kept, and the next run embeds only the chunks after them; kept ones of another text or model are not reused', async () => {
    const progress = new DirEmbeddingProgress(tempDir('tessera-vs-stop-progress-'));
    const stopping = new AbortController();
    let call = 0;
    // Each call's vectors say which call made them; the stop comes during the second call.
    embed.mockImplementation(async (_o, _m, texts) => {
      call += 1;
      if (call === 2) stopping.abort();
      return { vectors: texts.map((_, j) => [call, j + 0.5, 1 / 3, 0]) };
    });
    await processVectorStoreFile({ ...deps, progress, stopping: stopping.signal }, 'acme', store.id, FILE, A);
    expect(embed).toHaveBeenCalledTimes(2);
    expect(await file()).toMatchObject({ status: 'in_progress', run: A, chunks: 0 });

    const startedAtMs = Date.now();
    await writtenBefore(startedAtMs);
    let resumed = '';
    await resumeVectorStoreFiles(table, records, startedAtMs, (_t, _s, _f, run) => void (resumed = run));
    await processVectorStoreFile({ ...deps, progress }, 'acme', store.id, FILE, resumed);
    const done = (await file())!;
    expect(done).toMatchObject({ status: 'completed', run: resumed });
    // The two calls' chunks kept; only the rest embedded, from the chunk after them.
    const calls = Math.ceil(done.chunks / CHUNKS_PER_EMBEDDING_CALL);
    expect(calls).toBeGreaterThan(2);
    expect(embed).toHaveBeenCalledTimes(calls);
    expect(embed.mock.calls.slice(2).flatMap((c) => c[2])).toHaveLength(done.chunks - 2 * CHUNKS_PER_EMBEDDING_CALL);
    // The kept vectors are the file's, exactly as embedded (chunk 33: the second call's second).
    const first = await index.query('acme', store.id, [2, 1.5, 1 / 3, 0], 1);
    expect(first[0]).toMatchObject({ key: `${FILE}#${resumed}#${CHUNKS_PER_EMBEDDING_CALL + 1}`, distance: expect.closeTo(0, 9) });
    const firstChunk = (await index.query('acme', store.id, [1, 0.5, 1 / 3, 0], 1))[0]!.text;
    // Taken once: nothing left for another run.
    expect(await progress.take('acme', store.id, FILE)).toBeUndefined();

    // Kept for another model, or another text (the file attached again with another chunking): embedded afresh.
    for (const kept of [{ model: 'openai/text-embedding-3-large', sha256: undefined }, { model: store.embeddingModel, sha256: '0'.repeat(64) }]) {
      await progress.save('acme', store.id, FILE, { model: kept.model, chunks: [{ sha256: kept.sha256 ?? chunkDigest(firstChunk), vector: [9, 9, 9, 9] }] });
      await records.updateFile('acme', store.id, FILE, (f) => ({ ...f, status: 'in_progress', run: 'bbbbbbbbbbbb' }));
      embed.mockClear();
      await processVectorStoreFile({ ...deps, progress }, 'acme', store.id, FILE, 'bbbbbbbbbbbb');
      expect(embed).toHaveBeenCalledTimes(calls);
    }
  });

  it('a file written since this serve started (a live run of one of its --workers threads) and a settled one are left alone', async () => {
    const started: string[] = [];
    await resumeVectorStoreFiles(table, records, Date.now() - 60_000, (_t, _s, fileId) => void started.push(fileId));
    expect(started).toEqual([]);
    expect(await file()).toMatchObject({ status: 'in_progress', run: A });
    await records.updateFile('acme', store.id, FILE, (f) => ({ ...f, status: 'completed' }));
    await writtenBefore(Date.now());
    await resumeVectorStoreFiles(table, records, Date.now(), (_t, _s, fileId) => void started.push(fileId));
    expect(started).toEqual([]);
  });
});
