import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbRecordTable } from '../../../../lambdas/inference/vector-stores/dynamodb-record-table.js';
import { LocalVectorIndex, VectorIndexLimitError } from '../../../../lambdas/inference/vector-stores/local-index.js';
import { newFileBatchId, newVectorStoreId, VectorStoreRecords, VersionConflict, type StoredVectorStore, type StoredVectorStoreFile } from '../../../../lambdas/inference/vector-stores/records.js';
import { tempDir } from '../../../support/temp-dirs.js';
import { mockRecordTables } from './record-tables.js';

/** DynamoDB as the table is read and written, with the conditions the table makes (record-tables.ts). */
const { ddb, doc, state, tables } = mockRecordTables();

const owner = (tenantId: string) => ({ tenantId, userId: 'u-1', role: 'developer' as const });
const storeOf = (tenantId: string, name = 's'): StoredVectorStore => ({ tenantId, id: newVectorStoreId(), name, metadata: null, createdAt: 1, lastActiveAt: 1, embeddingModel: 'openai/text-embedding-3-small', owner: owner(tenantId) });
const fileOf = (s: StoredVectorStore, n: number): StoredVectorStoreFile => ({
  tenantId: s.tenantId, storeId: s.id, fileId: `file-${String(n).padStart(24, '0')}`, filename: `f${n}.txt`, createdAt: 1, status: 'in_progress', lastError: null,
  usageBytes: 0, attributes: null, chunking: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 }, run: '000000000001', chunks: 0, owner: owner(s.tenantId),
});

describe.each(tables)('vector store records on %s', (_name, table) => {
  it('keeps stores, files and batches by tenant: another tenant\'s ids are not found, listed, updated or deleted', async () => {
    const records = new VectorStoreRecords(table());
    const a = storeOf('acme', 'a');
    await records.createStore(a);
    await records.putFile(fileOf(a, 1));
    await records.putFile(fileOf(a, 2));
    const batch = { tenantId: 'acme', storeId: a.id, id: newFileBatchId(), createdAt: 1, fileIds: [], cancelled: false };
    await records.createBatch(batch);
    expect((await records.listStores('acme')).map((s) => s.id)).toEqual([a.id]);
    expect((await records.listFiles('acme', a.id)).map((f) => f.fileId)).toEqual([fileOf(a, 1).fileId, fileOf(a, 2).fileId]);
    expect(await records.getBatch('acme', a.id, batch.id)).toEqual(batch);

    expect(await records.getStore('globex', a.id)).toBeUndefined();
    expect(await records.listStores('globex')).toEqual([]);
    expect(await records.listFiles('globex', a.id)).toEqual([]);
    expect(await records.getFile('globex', a.id, fileOf(a, 1).fileId)).toBeUndefined();
    expect(await records.updateStore('globex', a.id, (s) => ({ ...s, name: 'stolen' }))).toBeUndefined();
    expect(await records.deleteStore('globex', a.id)).toBe(false);
    expect(await records.deleteFile('globex', a.id, fileOf(a, 1).fileId)).toBe(false);
    expect(await records.getBatch('globex', a.id, batch.id)).toBeUndefined();
    expect(await records.getStore('acme', a.id)).toMatchObject({ name: 'a' });
    // An id that is not the gateway's names no record (never reaches the table).
    expect(await records.getStore('acme', `${a.id}#file#x`)).toBeUndefined();
  });

  it('updates by version: a change applies to what is stored now; deleting a store deletes its files and batches', async () => {
    const records = new VectorStoreRecords(table());
    const a = storeOf('acme');
    await records.createStore(a);
    await expect(records.createStore(a)).rejects.toBeInstanceOf(VersionConflict);
    await Promise.all([
      records.updateStore('acme', a.id, (s) => ({ ...s, metadata: { ...s.metadata, x: '1' } })),
      records.updateStore('acme', a.id, (s) => ({ ...s, metadata: { ...s.metadata, y: '2' } })),
    ]);
    expect((await records.getStore('acme', a.id))!.metadata).toEqual({ x: '1', y: '2' });
    await records.putFile(fileOf(a, 1));
    expect(await records.updateFile('acme', a.id, fileOf(a, 1).fileId, (f) => ({ ...f, status: 'completed' }))).toMatchObject({ status: 'completed' });
    await records.createBatch({ tenantId: 'acme', storeId: a.id, id: newFileBatchId(), createdAt: 1, fileIds: [], cancelled: false });
    const b = storeOf('acme');
    await records.createStore(b);
    await records.putFile(fileOf(b, 9));
    expect(await records.deleteStore('acme', a.id)).toBe(true);
    expect(await records.getStore('acme', a.id)).toBeUndefined();
    expect(await records.listFiles('acme', a.id)).toEqual([]);
    expect((await records.listStores('acme')).map((s) => s.id)).toEqual([b.id]);
    expect(await records.listFiles('acme', b.id)).toHaveLength(1);
  });
});

describe('DynamoDbRecordTable', () => {
  it('reads and writes only the partition of the tenant whose client it uses; a write over another writer\'s version is refused', async () => {
    const t = new DynamoDbRecordTable('responses', async (tenantId) => { state.clientOf = tenantId; return doc; });
    await t.put('acme', 'vs_1', '{}', 0);
    await t.get('acme', 'vs_1');
    await t.query('globex', 'vs_');
    await t.delete('globex', ['vs_1']);
    expect(state.sent.every((s) => s.client === s.partition)).toBe(true);
    expect(await t.get('acme', 'vs_1')).toEqual({ body: '{}', version: 1 });
    await expect(t.put('acme', 'vs_1', '{"a":1}', 0)).rejects.toBeInstanceOf(VersionConflict);
    await t.put('acme', 'vs_1', '{"a":1}', 1);
    await expect(t.put('acme', 'vs_1', '{"a":2}', 1)).rejects.toBeInstanceOf(VersionConflict);
    expect(ddb.commandCalls(UpdateCommand).at(-1)!.args[0].input).toMatchObject({ TableName: 'responses', ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': 1 } });
  });

  it('a record written again keeps the TTL the offboarding gave it (a Put of the whole item dropped it)', async () => {
    const t = new DynamoDbRecordTable('responses', async (tenantId) => { state.clientOf = tenantId; return doc; });
    await t.put('acme', 'vs_1', '{}', 0);
    state.items.get('acme\u0000vs_1')!.expiresAt = 1_800_000_000;
    await t.put('acme', 'vs_1', '{"status":"failed"}', 1);
    expect(state.items.get('acme\u0000vs_1')).toEqual({ tenantId: 'acme', responseId: 'vs_1', body: '{"status":"failed"}', version: 2, expiresAt: 1_800_000_000 });
  });
});

describe('LocalVectorIndex (tessera serve): exact cosine, OpenAI filters, S3 Vectors\' limits', () => {
  const store = newVectorStoreId();
  const rec = (key: string, data: number[], filterable: Record<string, string | number | boolean> = {}) => ({ key, data, filterable, text: key });

  it('ranks by cosine distance, filters, deletes by key, keeps tenants apart, and deletes the index', async () => {
    const index = new LocalVectorIndex(tempDir('tessera-vs-index-'));
    await index.createIndex('acme', store, 3);
    await index.createIndex('acme', store, 3); // idempotent
    await expect(index.createIndex('acme', store, 4)).rejects.toThrow(/dimension 3, not 4/);
    await index.put('acme', store, [rec('file-a#0', [1, 0, 0], { lang: 'en' }), rec('file-a#1', [0.9, 0.1, 0], { lang: 'de' }), rec('file-b#0', [0, 1, 0], { lang: 'en' })]);
    const hits = await index.query('acme', store, [1, 0, 0], 3);
    expect(hits.map((h) => h.key)).toEqual(['file-a#0', 'file-a#1', 'file-b#0']);
    expect(hits[0]!.distance).toBeCloseTo(0);
    expect(hits[2]!.distance).toBeCloseTo(1);
    expect((await index.query('acme', store, [1, 0, 0], 3, { key: 'lang', type: 'eq', value: 'en' })).map((h) => h.key)).toEqual(['file-a#0', 'file-b#0']);
    expect(await index.query('globex', store, [1, 0, 0], 3)).toEqual([]);
    await index.delete('acme', store, ['file-a#0', 'file-a#1', 'file-z#7']);
    expect((await index.query('acme', store, [1, 0, 0], 3)).map((h) => h.key)).toEqual(['file-b#0']);
    await index.deleteIndex('acme', store);
    await index.deleteIndex('acme', store);
    expect(await index.query('acme', store, [1, 0, 0], 3)).toEqual([]);
  });

  it('refuses what S3 Vectors refuses: dimension, topK, filterable metadata over 2 KB, a vector of the wrong width', async () => {
    const index = new LocalVectorIndex(tempDir('tessera-vs-index-'));
    await expect(index.createIndex('acme', store, 4097)).rejects.toBeInstanceOf(VectorIndexLimitError);
    await expect(index.createIndex('acme', store, 0)).rejects.toBeInstanceOf(VectorIndexLimitError);
    await index.createIndex('acme', store, 2);
    await expect(index.query('acme', store, [1, 0], 101)).rejects.toThrow(/topK 101/);
    await expect(index.query('acme', store, [1, 0], 0)).rejects.toThrow(/topK 0/);
    await expect(index.put('acme', store, [rec('file-a#0', [1, 0], { note: 'x'.repeat(2100) })])).rejects.toThrow(/filterable metadata; S3 Vectors takes at most 2048/);
    await expect(index.put('acme', store, [rec('file-a#0', [1, 0, 0])])).rejects.toThrow(/dimension is 2/);
    expect(await index.query('acme', store, [1, 0], 100)).toEqual([]);
  });
});
