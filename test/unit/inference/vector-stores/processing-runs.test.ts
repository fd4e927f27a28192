import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DirRecordTable } from '../../../../lambdas/inference/vector-stores/dir-record-table.js';
import { runVectorStoreFileMessage, vectorStoreFileMessage } from '../../../../lambdas/inference/vector-stores/file-queue.js';
import { LocalVectorIndex } from '../../../../lambdas/inference/vector-stores/local-index.js';
import { CHUNKS_PER_EMBEDDING_CALL, processVectorStoreFile, type EmbedTexts, type ProcessingDeps } from '../../../../lambdas/inference/vector-stores/processing.js';
import { newVectorStoreId, VectorStoreRecords, type StoredVectorStore, type StoredVectorStoreFile } from '../../../../lambdas/inference/vector-stores/records.js';
import { VECTOR_STORE_FILES_DLQ_NAME } from '../../../../lambdas/inference/work-queues.js';
import { tempDir } from '../../../support/temp-dirs.js';

/**
 * Runs of one vector store file (StoredVectorStoreFile.run): a file attached again, or its attributes updated, while a
 * run of it is in progress. The older run stops without marking the file and leaves none of its vectors; the newest
 * run's vectors, attributes and chunk count are what the index and the record keep; an old run's queue message
 * changes nothing.
 */
const FILE = 'file-00000000000000000000000b';
const A = '00000000000a';
const B = '00000000000b';
let deps: ProcessingDeps;
let records: VectorStoreRecords;
let index: LocalVectorIndex;
let store: StoredVectorStore;
let embed: ReturnType<typeof vi.fn<EmbedTexts>>;
const owner = { tenantId: 'acme', userId: 'u-1', role: 'developer' as const };
/** ~2 embedding calls' worth of 100-token chunks. */
const LONG = Array.from({ length: 2 * CHUNKS_PER_EMBEDDING_CALL * 100 }, (_, i) => `w${i % 97}`).join(' ');

beforeEach(async () => {
  records = new VectorStoreRecords(new DirRecordTable(tempDir('tessera-vs-runs-records-')));
  index = new LocalVectorIndex(tempDir('tessera-vs-runs-index-'));
  embed = vi.fn<EmbedTexts>(async (_o, _m, texts) => ({ vectors: texts.map(() => [1, 0, 0, 0]) }));
  deps = { records, index, embed, files: { get: async () => undefined, content: async () => Buffer.from(LONG) } as unknown as ProcessingDeps['files'] };
  store = { tenantId: 'acme', id: newVectorStoreId(), name: 's', metadata: null, createdAt: 1, lastActiveAt: 1, embeddingModel: 'openai/text-embedding-3-small', owner };
  await records.createStore(store);
});
afterEach(() => vi.restoreAllMocks());

const fileRecord = (run: string, over: Partial<StoredVectorStoreFile> = {}): StoredVectorStoreFile => ({
  tenantId: 'acme', storeId: store.id, fileId: FILE, filename: 'long.txt', createdAt: 1, status: 'in_progress', lastError: null,
  usageBytes: 0, attributes: { v: run }, chunking: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 }, run, chunks: 0, owner, ...over,
});
const file = () => records.getFile('acme', store.id, FILE);
/** Every vector of the store: key and the attributes it is filtered by. */
const stored = async () => (await index.query('acme', store.id, [1, 0, 0, 0], 100)).map((m) => ({ key: m.key, v: m.filterable.v })).sort((x, y) => x.key.localeCompare(y.key, 'en', { numeric: true }));

describe('a file attached again while a run of it is in progress', () => {
  it('the superseded run stops before its next embedding call (not billed twice), marks nothing; the newer run completes with its own attributes', async () => {
    await records.putFile(fileRecord(A));
    // During run A's first embedding call the file is attached again (as the service does: a new record, run B).
    embed.mockImplementationOnce(async (_o, _m, texts) => {
      await records.putFile(fileRecord(B, { chunking: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 } }));
      return { vectors: texts.map(() => [1, 0, 0, 0]) };
    });
    await processVectorStoreFile(deps, 'acme', store.id, FILE, A);
    expect(embed).toHaveBeenCalledTimes(1);
    expect(await file()).toMatchObject({ run: B, status: 'in_progress', chunks: 0 });
    expect(await stored()).toEqual([]);

    await processVectorStoreFile(deps, 'acme', store.id, FILE, B);
    const done = await file();
    expect(done).toMatchObject({ run: B, status: 'completed' });
    expect(done!.chunks).toBeGreaterThan(CHUNKS_PER_EMBEDDING_CALL / 2);
    const vectors = await stored();
    expect(vectors).toHaveLength(done!.chunks);
    expect(vectors.every((x) => x.key.startsWith(`${FILE}#${B}#`) && x.v === B)).toBe(true);
  });

  it('a run superseded after its vectors were written removes its own (never the newer run\'s), and the newer run\'s chunk count is the file\'s', async () => {
    await records.putFile(fileRecord(A));
    const put = index.put.bind(index);
    let superseded = false;
    vi.spyOn(index, 'put').mockImplementation(async (tenantId, storeId, recs) => {
      await put(tenantId, storeId, recs);
      if (superseded) return;
      superseded = true;
      // Run A's vectors are in; now the attributes are updated (run B, fewer, larger chunks) and B completes first.
      await records.updateFile('acme', store.id, FILE, (f) => ({ ...f, run: B, attributes: { v: B }, chunking: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0 } }));
      await processVectorStoreFile(deps, 'acme', store.id, FILE, B);
    });
    await processVectorStoreFile(deps, 'acme', store.id, FILE, A);
    const done = await file();
    expect(done).toMatchObject({ run: B, status: 'completed', attributes: { v: B } });
    const vectors = await stored();
    expect(vectors.map((x) => x.key)).toEqual(Array.from({ length: done!.chunks }, (_, i) => `${FILE}#${B}#${i}`));
    expect(vectors.every((x) => x.v === B)).toBe(true);
  });
});

describe('the work queue: a message of an older run', () => {
  const DLQ = `tessera-dlq-${VECTOR_STORE_FILES_DLQ_NAME}`;
  const deliver = (run: string, lastAttempt = false) => runVectorStoreFileMessage(deps, vectorStoreFileMessage('acme', store.id, FILE, run), { lastAttempt, deadLetterQueue: DLQ });

  it('is skipped while the newer run is in progress, even on its last receive (the newer run is not failed), and after it completed', async () => {
    await records.putFile(fileRecord(B));
    expect(await deliver(A)).toEqual({ skipped: `the file is at a newer run than the message's (${A})` });
    expect(await deliver(A, true)).toEqual({ skipped: `the file is at a newer run than the message's (${A})` });
    expect(embed).not.toHaveBeenCalled();
    expect(await file()).toMatchObject({ run: B, status: 'in_progress', lastError: null });
    expect(await deliver(B)).toEqual({ processed: 'completed' });
    const calls = embed.mock.calls.length;
    expect(await deliver(A)).toMatchObject({ skipped: expect.any(String) });
    expect(embed).toHaveBeenCalledTimes(calls);
  });

  it('a redriven message of a dead-lettered older run does not start the file again over a newer run', async () => {
    await records.putFile(fileRecord(B, { status: 'failed', lastError: { code: 'server_error', message: 'x' }, deadLettered: true }));
    expect(await deliver(A)).toMatchObject({ skipped: expect.any(String) });
    expect(await file()).toMatchObject({ run: B, status: 'failed', deadLettered: true });
    expect(embed).not.toHaveBeenCalled();
  });
});

describe('an embeddings answer that is not one vector per chunk of the store\'s width', () => {
  const answers: Array<[string, (texts: string[]) => number[][], RegExp]> = [
    ['fewer vectors than chunks', (texts) => texts.slice(1).map(() => [1, 0, 0, 0]), new RegExp(`answered ${CHUNKS_PER_EMBEDDING_CALL - 1} vectors for ${CHUNKS_PER_EMBEDDING_CALL} chunks`)],
    ['a vector of another width', (texts) => texts.map((_, j) => (j === 3 ? [1, 0, 0] : [1, 0, 0, 0])), /answered a vector of 3 values \(answer item 3\); the store's embeddings have 4/],
    ['a vector holding a non-number', (texts) => texts.map((_, j) => (j === 2 ? [1, null, 0, 0] as unknown as number[] : [1, 0, 0, 0])), /answered a vector that is not a list of finite numbers \(answer item 2\)/],
  ];
  it.each(answers)('%s: the file fails with server_error naming it and keeps no vector; on the work queue the run is retried instead', async (_name, answer, message) => {
    await records.putFile(fileRecord(A));
    // The second embedding call answers wrong: the first call's vectors must not be kept either.
    embed.mockImplementation(async (_o, _m, texts) => ({ vectors: embed.mock.calls.length === 2 ? answer(texts) : texts.map(() => [1, 0, 0, 0]) }));
    await processVectorStoreFile(deps, 'acme', store.id, FILE, A);
    const failed = await file();
    expect(failed).toMatchObject({ status: 'failed', chunks: 0, lastError: { code: 'server_error' } });
    expect(failed!.lastError!.message).toMatch(message);
    expect(await stored()).toEqual([]);

    await records.putFile(fileRecord(B));
    embed.mockClear();
    await expect(processVectorStoreFile(deps, 'acme', store.id, FILE, B, { transient: 'throw' })).rejects.toThrow(message);
    expect(await file()).toMatchObject({ run: B, status: 'in_progress', lastError: null });
    expect(await stored()).toEqual([]);
  });
});
