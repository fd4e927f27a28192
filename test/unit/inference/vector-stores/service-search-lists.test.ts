import { QueryVectorsCommand, S3VectorsClient, type QueryVectorsCommandInput } from '@aws-sdk/client-s3vectors';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../../../lambdas/inference/audit.js';
import type { Caller } from '../../../../lambdas/inference/auth.js';
import type { TenantPolicy } from '../../../../lambdas/inference/policy.js';
import { LocalVectorIndex } from '../../../../lambdas/inference/vector-stores/local-index.js';
import { S3VectorsIndex, TEXT_METADATA_KEY } from '../../../../lambdas/inference/vector-stores/s3-vectors-index.js';
import type { VectorIndex } from '../../../../lambdas/inference/vector-stores/vector-index.js';
import { runTag, vectorKey, type EmbedTexts } from '../../../../lambdas/inference/vector-stores/processing.js';
import { newFileBatchId, newVectorStoreId, VectorStoreRecords, type StoredVectorStore, type StoredVectorStoreFile } from '../../../../lambdas/inference/vector-stores/records.js';
import { VectorStoreService, type VectorStoreServiceDeps } from '../../../../lambdas/inference/vector-stores/service.js';
import { tempDir } from '../../../support/temp-dirs.js';
import { mockRecordTables } from './record-tables.js';

/**
 * VectorStoreService's search and lists over the records of each table (DirRecordTable, DynamoDbRecordTable) and the
 * local index: what a search answers when the index also holds chunks that are not a completed file's (a superseded
 * run's, an unfinished file's), and the order and cursors of the files lists (OpenAI's: the vector store file's
 * `created_at`, when it was attached).
 */
const { tables } = mockRecordTables();
const owner = { tenantId: 'acme', userId: 'u-1', role: 'developer' as const };
const caller = { ...owner, tenant: {} } as unknown as Caller;
const fileId = (n: number) => `file-${String(n).padStart(24, '0')}`;

async function setUp<I extends VectorIndex = LocalVectorIndex>(table: () => import('../../../../lambdas/inference/vector-stores/records.js').RecordTable, indexOf?: () => I) {
  const records = new VectorStoreRecords(table());
  const index = indexOf ? indexOf() : new LocalVectorIndex(tempDir('tessera-vs-service-index-')) as VectorIndex as I;
  const store: StoredVectorStore = { tenantId: 'acme', id: newVectorStoreId(), name: 's', metadata: null, createdAt: 1, lastActiveAt: 1, embeddingModel: 'openai/text-embedding-3-small', dimension: 2, owner };
  await records.createStore(store);
  const embed = vi.fn<EmbedTexts>(async (_o, _m, texts) => ({ vectors: texts.map(() => [1, 0]) }));
  const deps = { config: {}, records, index, embed, files: {}, start: () => undefined } as unknown as VectorStoreServiceDeps;
  const service = new VectorStoreService(deps);
  const call = async (method: string, path: string, query: Record<string, string> = {}, body?: unknown) => {
    const answer = await service.handle({ method, path, query, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, caller, {} as TenantPolicy, { requestId: 'r', at: '' } as AuditRecord);
    return JSON.parse(answer.body) as Record<string, unknown> & { data: Array<Record<string, unknown>> };
  };
  const attach = (n: number, over: Partial<StoredVectorStoreFile> = {}) => records.putFile({
    tenantId: 'acme', storeId: store.id, fileId: fileId(n), filename: `f${n}.txt`, createdAt: 1, status: 'completed', lastError: null,
    usageBytes: 1, attributes: null, chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }, run: '00000000000a', chunks: 1, owner, ...over,
  });
  return { records, index, store, call, attach };
}

/** A unit vector at `degrees` from the query's [1, 0]: its search score is 1 - cosine distance = cos(degrees). */
const at = (degrees: number) => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];

describe.each(tables)('search on %s', (_name, table) => {
  it('refuses max_num_results out of 1-50 in OpenAI\'s words and code (it said "0 must be an integer from 1 to 50", invalid_value)', async () => {
    const { store, call } = await setUp(table);
    await expect(call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', max_num_results: 0 })).rejects.toMatchObject({
      status: 400, param: 'max_num_results', code: 'integer_below_min_value', message: 'Invalid \'max_num_results\': integer below minimum value. Expected a value >= 1, but got 0 instead.',
    });
    await expect(call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', max_num_results: 51 })).rejects.toMatchObject({ status: 400, param: 'max_num_results', code: 'integer_above_max_value' });
  });

  it('refuses expires_after.days out of 1-365 in OpenAI\'s words and code (it said "0 must be an integer from 1 to 365", invalid_value)', async () => {
    const { store, call } = await setUp(table);
    await expect(call('POST', `/v1/vector_stores/${store.id}`, {}, { expires_after: { anchor: 'last_active_at', days: 0 } })).rejects.toMatchObject({
      status: 400, param: 'expires_after.days', code: 'integer_below_min_value', message: 'Invalid \'expires_after.days\': integer below minimum value. Expected a value >= 1, but got 0 instead.',
    });
    await expect(call('POST', `/v1/vector_stores/${store.id}`, {}, { expires_after: { anchor: 'last_active_at', days: 366 } })).rejects.toMatchObject({
      status: 400, param: 'expires_after.days', code: 'integer_above_max_value', message: 'Invalid \'expires_after.days\': integer above maximum value. Expected a value <= 365, but got 366 instead.',
    });
    await expect(call('POST', `/v1/vector_stores/${store.id}`, {}, { expires_after: { anchor: 'last_active_at', days: 1.5 } })).rejects.toMatchObject({ status: 400, param: 'expires_after.days', code: 'invalid_value' });
  });

  it('refuses metadata past OpenAI\'s bounds in its words and codes (it said `metadata has 17 keys; at most 16`, invalid_value)', async () => {
    const { store, call } = await setUp(table);
    const update = (metadata: unknown) => call('POST', `/v1/vector_stores/${store.id}`, {}, { metadata });
    await expect(update(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])))).rejects.toMatchObject({
      status: 400, param: 'metadata', code: 'object_above_max_properties', message: 'Invalid \'metadata\': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.',
    });
    await expect(update({ ['k'.repeat(65)]: 'v' })).rejects.toMatchObject({ status: 400, param: 'metadata', code: 'property_name_above_max_length' });
    // An empty key is taken, as every other route's metadata takes it (a vector store refused it: `metadata key "" must be 1 to 64 characters`).
    await expect(update({ '': 'v' })).resolves.toMatchObject({ id: store.id, metadata: { '': 'v' } });
    await expect(update({ k: 'v'.repeat(513) })).rejects.toMatchObject({ status: 400, param: 'metadata.k', code: 'string_above_max_length' });
    // A value of another kind: OpenAI's type words, as the schema-read routes answer (it was invalid_value, `must be a string(strings of …`).
    await expect(update({ k: 5 })).rejects.toMatchObject({ status: 400, param: 'metadata.k', code: 'invalid_type', message: 'Invalid type for \'metadata.k\': expected a string, but got an integer instead.' });
    await expect(call('POST', `/v1/vector_stores/${store.id}/files/${fileId(1)}`, {}, { attributes: { k: [1] } })).rejects.toMatchObject({
      status: 400, param: 'attributes.k', code: 'invalid_type', message: 'Invalid type for \'attributes.k\': expected one of a string, a number or a boolean, but got an array instead.',
    });
  });

  it('answers max_num_results of the completed files\' chunks above score_threshold when nearer chunks of other runs and unfinished files are in the index', async () => {
    const { index, store, call, attach } = await setUp(table);
    const run = '00000000000a';
    const stale = '00000000000b';
    // File 1 completed at run a; 60 chunks of its superseded run b left in the index, all nearer than its own.
    await attach(1, { run, chunks: 3 });
    // File 2 in progress (its chunks written, not yet completed), nearer still.
    await attach(2, { status: 'in_progress', run, chunks: 0 });
    await index.createIndex('acme', store.id, 2);
    await index.put('acme', store.id, [
      ...Array.from({ length: 60 }, (_, n) => ({ key: vectorKey(fileId(1), stale, n), data: at(5 + n / 100), filterable: {}, text: `stale ${n}` })),
      ...Array.from({ length: 20 }, (_, n) => ({ key: vectorKey(fileId(2), run, n), data: at(1 + n / 100), filterable: {}, text: `unfinished ${n}` })),
      ...[20, 30, 80].map((degrees, n) => ({ key: vectorKey(fileId(1), run, n), data: at(degrees), filterable: {}, text: `own ${n}` })),
    ]);
    const hits = await call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', max_num_results: 2 });
    expect(hits.data.map((d) => [d.file_id, d.content])).toEqual([[fileId(1), [{ type: 'text', text: 'own 0' }]], [fileId(1), [{ type: 'text', text: 'own 1' }]]]);
    // The threshold (cos 60° = 0.5) drops the third of the file's own chunks before the trim to max.
    const above = await call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', max_num_results: 3, ranking_options: { score_threshold: 0.5 } });
    expect(above.data.map((d) => d.content)).toEqual([[{ type: 'text', text: 'own 0' }], [{ type: 'text', text: 'own 1' }]]);
  });
});

describe.each(tables)('attributes updated on %s', (_name, table) => {
  it('a completed file\'s update rewrites its vectors\' metadata in place (same run, no embedding); a chunk whose metadata lags its record is not answered under the old attributes', async () => {
    const { records, index, store, call, attach } = await setUp(table);
    const run = '00000000000a';
    await attach(1, { run, chunks: 2, attributes: { team: 'old' } });
    await index.createIndex('acme', store.id, 2);
    await index.put('acme', store.id, [0, 1].map((n) => ({ key: vectorKey(fileId(1), run, n), data: at(10 * n), filterable: { team: 'old' }, text: `own ${n}`, run: runTag(fileId(1), run) })));
    const updated = await call('POST', `/v1/vector_stores/${store.id}/files/${fileId(1)}`, {}, { attributes: { team: 'new' } });
    expect(updated).toMatchObject({ status: 'completed', attributes: { team: 'new' } });
    expect(await records.getFile('acme', store.id, fileId(1))).toMatchObject({ run, chunks: 2, status: 'completed' });
    const byNew = await call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', filters: { key: 'team', type: 'eq', value: 'new' } });
    expect(byNew.data.map((d) => [d.file_id, d.attributes, d.content])).toEqual([[fileId(1), { team: 'new' }, [{ type: 'text', text: 'own 0' }]], [fileId(1), { team: 'new' }, [{ type: 'text', text: 'own 1' }]]]);
    // The record changed, its vectors not yet (an update between its two writes): the old value matches the index only.
    await records.updateFile('acme', store.id, fileId(1), (f) => ({ ...f, attributes: { team: 'later' } }));
    expect((await call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', filters: { key: 'team', type: 'eq', value: 'new' } })).data).toEqual([]);
  });
});

describe.each(tables)('search past the index\'s first 100 on %s', (_name, table) => {
  it('answers max_num_results of the files\' own chunks when more than 100 chunks of other runs are nearer: it asks again, those runs left out', async () => {
    const { index, store, call, attach } = await setUp(table);
    const run = '00000000000a';
    const stale = '00000000000b';
    await attach(1, { run, chunks: 3 });
    await attach(2, { status: 'in_progress', run, chunks: 0 });
    await index.createIndex('acme', store.id, 2);
    // 150 chunks of file 1's superseded run and 120 of file 2's run in progress, all nearer than file 1's own three.
    await index.put('acme', store.id, [
      ...Array.from({ length: 150 }, (_, n) => ({ key: vectorKey(fileId(1), stale, n), data: at(5 + n / 100), filterable: {}, text: `stale ${n}`, run: runTag(fileId(1), stale) })),
      ...Array.from({ length: 120 }, (_, n) => ({ key: vectorKey(fileId(2), run, n), data: at(1 + n / 100), filterable: {}, text: `unfinished ${n}`, run: runTag(fileId(2), run) })),
      ...[20, 30, 40].map((degrees, n) => ({ key: vectorKey(fileId(1), run, n), data: at(degrees), filterable: {}, text: `own ${n}`, run: runTag(fileId(1), run) })),
    ]);
    const query = vi.spyOn(index, 'query');
    const hits = await call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', max_num_results: 3 });
    expect(hits.data.map((d) => [d.file_id, d.content])).toEqual([0, 1, 2].map((n) => [fileId(1), [{ type: 'text', text: `own ${n}` }]]));
    // First all 100 were file 2's; then file 1's stale run's; then the own chunks, both runs left out.
    expect(query.mock.calls.map((c) => c[5]?.runs)).toEqual([undefined, [runTag(fileId(2), run)], [runTag(fileId(2), run), runTag(fileId(1), stale)]]);
  });

  it('does not ask again when the farthest of a full answer is below score_threshold: what a next ask adds is farther still', async () => {
    const { index, store, call, attach } = await setUp(table);
    const run = '00000000000a';
    await attach(1, { run, chunks: 3 });
    await attach(2, { status: 'in_progress', run, chunks: 0 });
    await index.createIndex('acme', store.id, 2);
    // 120 chunks of file 2's run in progress from 1° to 60°, file 1's own three at 70° to 80°: the 100th nearest is at ~50°.
    await index.put('acme', store.id, [
      ...Array.from({ length: 120 }, (_, n) => ({ key: vectorKey(fileId(2), run, n), data: at(1 + n / 2), filterable: {}, text: `unfinished ${n}`, run: runTag(fileId(2), run) })),
      ...[70, 75, 80].map((degrees, n) => ({ key: vectorKey(fileId(1), run, n), data: at(degrees), filterable: {}, text: `own ${n}`, run: runTag(fileId(1), run) })),
    ]);
    const query = vi.spyOn(index, 'query');
    // score_threshold 0.9 (cos 25.8°): the first ask's farthest (~50°, 0.64) is below it, so no chunk a second ask adds is answered.
    const hits = await call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', max_num_results: 3, ranking_options: { score_threshold: 0.9 } });
    expect(hits.data).toEqual([]);
    expect(query).toHaveBeenCalledTimes(1);
  });
});

describe.each(tables)('attributes on %s', (_name, table) => {
  it('refuses the names the index keeps a chunk\'s run and text under, and attributes that leave no room for the run in S3 Vectors\' 2 KB', async () => {
    const { store, call } = await setUp(table);
    const refused = (body: unknown) => call('POST', `/v1/vector_stores/${store.id}/files/${fileId(1)}`, {}, body).then(() => undefined, (e: { status: number; param: string; message: string }) => e);
    expect(await refused({ attributes: { _run: 'mine' } })).toMatchObject({ status: 400, param: 'attributes._run', message: expect.stringContaining('reserved') });
    expect(await refused({ attributes: { _text: 'mine' } })).toMatchObject({ status: 400, param: 'attributes._text' });
    // 2,040 bytes of attributes: under 2 KB alone, over it with the run's ~50.
    const near = { a: 'n'.repeat(500), b: 'n'.repeat(500), c: 'n'.repeat(500), d: '' };
    near.d = 'n'.repeat(2040 - JSON.stringify(near).length);
    expect(await refused({ attributes: near })).toMatchObject({ status: 400, param: 'attributes', message: expect.stringMatching(/take 2040 bytes as JSON; at most 19\d\d /) });
  });
});

describe.each(tables)('files lists on %s', (_name, table) => {
  it('orders a store\'s and a batch\'s files by when they were attached (created_at), not uploaded; cursors hold while files are attached and change status', async () => {
    const { records, store, call, attach } = await setUp(table);
    const batchId = newFileBatchId();
    await records.createBatch({ tenantId: 'acme', storeId: store.id, id: batchId, createdAt: 100, fileIds: [fileId(1), fileId(2), fileId(3)], cancelled: false });
    // Uploaded 1, 2, 3; attached 3 (t 100), 1 (t 200), 2 (t 300).
    await attach(3, { createdAt: 100, batchId });
    await attach(1, { createdAt: 200, batchId, status: 'in_progress' });
    await attach(2, { createdAt: 300, batchId });
    const ids = (list: { data: Array<Record<string, unknown>> }) => list.data.map((f) => f.id as string);
    const files = `/v1/vector_stores/${store.id}/files`;
    const batchFiles = `/v1/vector_stores/${store.id}/file_batches/${batchId}/files`;
    for (const path of [files, batchFiles]) {
      expect(ids(await call('GET', path))).toEqual([fileId(2), fileId(1), fileId(3)]);
      expect(ids(await call('GET', path, { order: 'asc' }))).toEqual([fileId(3), fileId(1), fileId(2)]);
      expect(await call('GET', path, { order: 'desc', after: fileId(2), limit: '1' })).toMatchObject({ data: [{ id: fileId(1), created_at: 200 }], first_id: fileId(1), last_id: fileId(1), has_more: true });
      expect(ids(await call('GET', path, { order: 'asc', before: fileId(2) }))).toEqual([fileId(3), fileId(1)]);
      // before: the previous page, the limit files just before the cursor (OpenAI's), not the list's first.
      expect(await call('GET', path, { order: 'asc', before: fileId(2), limit: '1' })).toMatchObject({ data: [{ id: fileId(1) }], first_id: fileId(1), last_id: fileId(1), has_more: true });
      expect(await call('GET', path, { order: 'asc', before: fileId(1), limit: '1' })).toMatchObject({ data: [{ id: fileId(3) }], has_more: false });
      expect(await call('GET', path, { order: 'desc', before: fileId(3), limit: '1' })).toMatchObject({ data: [{ id: fileId(1) }], has_more: true });
    }
    // Paging asc one at a time while file 0 (uploaded first) is attached: it comes last, no file is skipped or repeated.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 5; i++) {
      const p = await call('GET', files, { order: 'asc', limit: '1', ...(cursor ? { after: cursor } : {}) });
      seen.push(...ids(p));
      if (i === 0) await attach(0, { createdAt: 400 });
      if (!p.has_more) break;
      cursor = p.last_id as string;
    }
    expect(seen).toEqual([fileId(3), fileId(1), fileId(2), fileId(0)]);
    // A status filter pages from a cursor file whose status changed since (file 1 completed meanwhile).
    await records.updateFile('acme', store.id, fileId(1), (f) => ({ ...f, status: 'completed' }));
    expect(ids(await call('GET', files, { order: 'asc', filter: 'completed', after: fileId(3) }))).toEqual([fileId(1), fileId(2), fileId(0)]);
    // A cursor file detached meanwhile (a client detaching each page's files as it pages) bounds nothing: the files left, from the start.
    await records.deleteFile('acme', store.id, fileId(3));
    expect(ids(await call('GET', files, { order: 'asc', after: fileId(3) }))).toEqual([fileId(1), fileId(2), fileId(0)]);
  });
});

describe.each(tables)('search on S3 Vectors (QueryVectors mocked) on %s', (_name, table) => {
  const s3v = mockClient(S3VectorsClient);
  it('asks again after a short answer of other runs\' chunks: fewer than topK is no proof that nothing more matches (a CLASSIC index applies the filter during its search)', async () => {
    s3v.reset();
    const { store, call, attach } = await setUp(table, () => new S3VectorsIndex(async () => new S3VectorsClient({ region: 'us-east-1' }), async () => 'arn:aws:kms:us-east-1:111122223333:key/k'));
    const run = '00000000000a';
    await attach(1, { run, chunks: 3 });
    await attach(2, { status: 'in_progress', run, chunks: 0 });
    const chunk = (file: number, n: number, distance: number, text: string) => ({ key: vectorKey(fileId(file), run, n), distance, metadata: { _run: runTag(fileId(file), run), [TEXT_METADATA_KEY]: text } });
    // The first ask answers 30 chunks (of 100 asked), all of file 2's run in progress; the next, with that run left out, file 1's own three.
    s3v.on(QueryVectorsCommand).callsFake((input: QueryVectorsCommandInput) => ({
      $metadata: {}, distanceMetric: 'cosine',
      vectors: input.filter === undefined
        ? Array.from({ length: 30 }, (_, n) => chunk(2, n, 0.01 + n / 1000, `unfinished ${n}`))
        : [0, 1, 2].map((n) => chunk(1, n, 0.1 + n / 10, `own ${n}`)),
    }));
    const hits = await call('POST', `/v1/vector_stores/${store.id}/search`, {}, { query: 'q', max_num_results: 3 });
    expect(hits.data.map((d) => [d.file_id, d.content])).toEqual([0, 1, 2].map((n) => [fileId(1), [{ type: 'text', text: `own ${n}` }]]));
    const asks = s3v.commandCalls(QueryVectorsCommand).map((c) => c.args[0].input.filter);
    expect(asks).toEqual([undefined, { $or: [{ _run: { $exists: false } }, { _run: { $nin: [runTag(fileId(2), run)] } }] }]);
  });
});
