import type { SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handleBatchQueue } from '../../../../lambdas/inference/batches/queue-handler.js';
import { DirRecordTable } from '../../../../lambdas/inference/vector-stores/dir-record-table.js';
import { parseVectorStoreFileMessage, runVectorStoreFileMessage, vectorStoreFileMessage } from '../../../../lambdas/inference/vector-stores/file-queue.js';
import { LocalVectorIndex } from '../../../../lambdas/inference/vector-stores/local-index.js';
import type { EmbedTexts, ProcessingDeps } from '../../../../lambdas/inference/vector-stores/processing.js';
import { newVectorStoreId, VectorStoreRecords, type StoredVectorStore, type StoredVectorStoreFile } from '../../../../lambdas/inference/vector-stores/records.js';
import { BATCH_QUEUE_NAME, VECTOR_STORE_FILES_DLQ_NAME, VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, VECTOR_STORE_FILES_QUEUE_NAME } from '../../../../lambdas/inference/work-queues.js';
import { tempDir } from '../../../support/temp-dirs.js';
import { logSpy } from '../../../support/service-log.js';

/**
 * The vector store files' worker (vector-stores/file-queue.ts) and its queue in the router's consumer
 * (batches/queue-handler.ts): idempotent runs, a failure not the file's own retried (thrown, the file left in progress),
 * the last receive leaving the file failed and marked for a redrive, a redrive processing it again.
 */
const FILE = 'file-00000000000000000000000a';
const RUN = '00000000000a';
const DLQ = `tessera-dlq-${VECTOR_STORE_FILES_DLQ_NAME}`;
let deps: ProcessingDeps;
let records: VectorStoreRecords;
let store: StoredVectorStore;
let embed: ReturnType<typeof vi.fn<EmbedTexts>>;
const owner = { tenantId: 'acme', userId: 'u-1', role: 'developer' as const };

beforeEach(async () => {
  records = new VectorStoreRecords(new DirRecordTable(tempDir('tessera-vs-queue-records-')));
  embed = vi.fn<EmbedTexts>(async (_o, _m, texts) => ({ vectors: texts.map(() => [1, 0, 0, 0]) }));
  deps = {
    records, index: new LocalVectorIndex(tempDir('tessera-vs-queue-index-')), embed,
    files: { get: async () => undefined, content: async () => Buffer.from('Refunds are paid within fourteen days.') } as unknown as ProcessingDeps['files'],
  };
  store = { tenantId: 'acme', id: newVectorStoreId(), name: 's', metadata: null, createdAt: 1, lastActiveAt: 1, embeddingModel: 'openai/text-embedding-3-small', owner };
  await records.createStore(store);
  await records.putFile(fileRecord());
});
afterEach(() => vi.restoreAllMocks());

const fileRecord = (over: Partial<StoredVectorStoreFile> = {}): StoredVectorStoreFile => ({
  tenantId: 'acme', storeId: store.id, fileId: FILE, filename: 'refunds.md', createdAt: 1, status: 'in_progress', lastError: null,
  usageBytes: 0, attributes: null, chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }, run: RUN, chunks: 0, owner, ...over,
});
const message = (run = RUN) => vectorStoreFileMessage('acme', store.id, FILE, run);
const file = () => records.getFile('acme', store.id, FILE);
const run = (lastAttempt = false, of = RUN) => runVectorStoreFileMessage(deps, message(of), { lastAttempt, deadLetterQueue: DLQ });

describe('the vector store file message', () => {
  it('is {kind, tenantId, storeId, fileId, run, batchId?}; another kind is not one; a vector store file message with ids that are not ids (or no run) is refused', () => {
    expect(vectorStoreFileMessage('acme', store.id, FILE, RUN, 'vsfb_000000000000000000000001')).toEqual({ kind: 'vector_store_file', tenantId: 'acme', storeId: store.id, fileId: FILE, run: RUN, batchId: 'vsfb_000000000000000000000001' });
    expect(() => parseVectorStoreFileMessage(JSON.stringify({ ...message(), run: undefined }))).toThrow(/not a vector store file message/);
    expect(() => parseVectorStoreFileMessage(JSON.stringify({ ...message(), run: '../x' }))).toThrow(/not a vector store file message/);
    expect(parseVectorStoreFileMessage(JSON.stringify(message()))).toEqual(message());
    expect(parseVectorStoreFileMessage(JSON.stringify({ tenantId: 'acme', batchId: 'batch_1' }))).toBeUndefined();
    expect(parseVectorStoreFileMessage('not json')).toBeUndefined();
    expect(() => parseVectorStoreFileMessage(JSON.stringify({ ...message(), storeId: '../x' }))).toThrow(/not a vector store file message/);
    expect(() => parseVectorStoreFileMessage(JSON.stringify({ ...message(), tenantId: 'ACME!' }))).toThrow(/not a vector store file message/);
  });
});

describe('runVectorStoreFileMessage', () => {
  it('processes an in-progress file to completed; the same message again changes nothing (no second embedding)', async () => {
    expect(await run()).toEqual({ processed: 'completed' });
    expect(await file()).toMatchObject({ status: 'completed', chunks: 1, usageBytes: 38 });
    expect(await run()).toEqual({ skipped: 'the file is completed' });
    expect(embed).toHaveBeenCalledTimes(1);
  });

  it('a file detached or a store deleted meanwhile ends quietly', async () => {
    await records.deleteFile('acme', store.id, FILE);
    expect(await run()).toEqual({ skipped: 'the file or its vector store is gone' });
    await records.putFile(fileRecord());
    await records.deleteStore('acme', store.id);
    expect(await run(true)).toEqual({ skipped: 'the file or its vector store is gone' });
    expect(embed).not.toHaveBeenCalled();
  });

  it('a failure not the file\'s own (an embedding refused 503, the index unreachable) is thrown, the file left in progress with no vector; on the last attempt it is failed with last_error naming the DLQ', async () => {
    embed.mockResolvedValue({ status: 503, message: 'upstream unavailable' });
    await expect(run()).rejects.toThrow(/refused \(503\): upstream unavailable/);
    expect(await file()).toMatchObject({ status: 'in_progress', lastError: null });
    vi.spyOn(deps.index, 'put').mockRejectedValue(new Error('S3 Vectors throttled'));
    embed.mockImplementation(async (_o, _m, texts) => ({ vectors: texts.map(() => [1, 0, 0, 0]) }));
    const del = vi.spyOn(deps.index, 'delete');
    await expect(run()).rejects.toThrow('S3 Vectors throttled');
    // What the failed put may have written is removed (the same keys the next run writes).
    expect(del).toHaveBeenCalledWith('acme', store.id, [`${FILE}#${RUN}#0`]);
    expect(await file()).toMatchObject({ status: 'in_progress' });
    await expect(run(true)).rejects.toThrow('S3 Vectors throttled');
    expect(await file()).toMatchObject({ status: 'failed', deadLettered: true, lastError: { code: 'server_error', message: expect.stringContaining(`S3 Vectors throttled (every attempt failed; its message is in ${DLQ})`) } });
  });

  it('a refusal that is the file\'s own (a 400 from the embedding model, an unsupported file) fails the file at once, and is not retried', async () => {
    embed.mockResolvedValue({ status: 400, message: 'input too long' });
    expect(await run()).toEqual({ processed: 'failed' });
    expect(await file()).toMatchObject({ status: 'failed', lastError: { code: 'server_error' } });
    expect((await file())!.deadLettered).toBeUndefined();
    // A redelivery leaves it failed (no deadLettered mark: not a redrive).
    expect(await run()).toEqual({ skipped: 'the file is failed' });
  });

  it('a redriven message of a dead-lettered file processes it again, to completed', async () => {
    await records.updateFile('acme', store.id, FILE, (f) => ({ ...f, status: 'failed', lastError: { code: 'server_error', message: 'x' }, deadLettered: true }));
    expect(await run()).toEqual({ processed: 'completed' });
    const done = await file();
    expect(done).toMatchObject({ status: 'completed', lastError: null });
    expect(done!.deadLettered).toBeUndefined();
  });
});

describe('the router\'s consumer on the vector store files\' queue', () => {
  const record = (messageId: string, queue: string, body: unknown, receiveCount = 1): SQSRecord => ({
    messageId, receiptHandle: 'r', body: JSON.stringify(body), md5OfBody: '', messageAttributes: {}, eventSource: 'aws:sqs', eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue}`, awsRegion: 'us-east-1',
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' },
  });
  const context = { getRemainingTimeInMillis: () => 900_000 };
  const noBatches = async () => { throw new Error('no batch worker here'); };

  it('processes a file message; reports a failed one; on the receive that is maxReceiveCount the file is left failed, the message still reported failed (to the DLQ)', async () => {
    embed.mockResolvedValue({ status: 500, message: 'boom' });
    const event = (n: number) => ({ Records: [record(`m${n}`, VECTOR_STORE_FILES_QUEUE_NAME, message(), n)] });
    expect(await handleBatchQueue(event(VECTOR_STORE_FILES_MAX_RECEIVE_COUNT - 1), context, noBatches, { vectorStoreFiles: async () => deps })).toEqual({ batchItemFailures: [{ itemIdentifier: `m${VECTOR_STORE_FILES_MAX_RECEIVE_COUNT - 1}` }] });
    expect(await file()).toMatchObject({ status: 'in_progress' });
    expect(await handleBatchQueue(event(VECTOR_STORE_FILES_MAX_RECEIVE_COUNT), context, noBatches, { vectorStoreFiles: async () => deps })).toEqual({ batchItemFailures: [{ itemIdentifier: `m${VECTOR_STORE_FILES_MAX_RECEIVE_COUNT}` }] });
    expect(await file()).toMatchObject({ status: 'failed', deadLettered: true });
    embed.mockImplementation(async (_o, _m, texts) => ({ vectors: texts.map(() => [1, 0, 0, 0]) }));
    expect(await handleBatchQueue(event(1), context, noBatches, { vectorStoreFiles: async () => deps })).toEqual({ batchItemFailures: [] });
    expect(await file()).toMatchObject({ status: 'completed' });
  });

  it('a message that is not a vector store file\'s on that queue is not run: reported failed and logged', async () => {
    const error = logSpy('tessera-gateway', 'error');
    const batches = vi.fn(noBatches);
    expect(await handleBatchQueue({ Records: [record('b1', VECTOR_STORE_FILES_QUEUE_NAME, { tenantId: 'acme', batchId: 'batch_1' })] }, context, batches, { vectorStoreFiles: async () => deps })).toEqual({ batchItemFailures: [{ itemIdentifier: 'b1' }] });
    expect(batches).not.toHaveBeenCalled();
    expect(error.lines().map((l) => l.message).join('\n')).toContain('not a vector store file');
    // And a vector store file message reaching a consumer without the worker (the batch queue, options unset) is reported failed too.
    expect(await handleBatchQueue({ Records: [record('v1', BATCH_QUEUE_NAME, message())] }, context, batches)).toEqual({ batchItemFailures: [{ itemIdentifier: 'v1' }] });
    expect(await file()).toMatchObject({ status: 'in_progress' });
  });
});
