import { CreateVectorBucketCommand, GetIndexCommand, GetVectorsCommand, ListIndexesCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3VectorsIndex, TEXT_METADATA_KEY } from '../../lambdas/inference/vector-stores/s3-vectors-index.js';
import type { VectorRecord } from '../../lambdas/inference/vector-stores/vector-index.js';
import { tenantVectorBucketName } from '../../lib/tenant-naming.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * S3VectorsIndex against moto 5.2.5's S3 Vectors (CreateVectorBucket, CreateIndex, GetIndex, PutVectors, GetVectors,
 * DeleteVectors, DeleteIndex). moto has no QueryVectors: the query and its filter translation are covered with
 * aws-sdk-client-mock only (test/unit/inference/vector-stores/). moto accepts what AWS refuses (any index name, any
 * dimension, any metadata size): the index refuses those itself, before moto sees them (checked here through the
 * index list staying empty).
 */
let moto: MotoServer;
let client: S3VectorsClient;
let index: S3VectorsIndex;
const STORE = 'vs_00c0ffee';
/** The tenant key CreateIndex names (moto 5.2.5 accepts the encryption configuration, asks no KMS and returns none from GetIndex). */
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const record = (i: number, dims = 4): VectorRecord => ({ key: `file-1#${i}`, data: Array.from({ length: dims }, (_, d) => (i + d) / 10), filterable: { file_id: 'file-1', part: i }, text: `chunk ${i}` });

beforeAll(async () => {
  moto = await startMoto();
  client = new S3VectorsClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(new CreateVectorBucketCommand({ vectorBucketName: tenantVectorBucketName('acme') }));
  index = new S3VectorsIndex(async () => client, async () => KEY_ARN);
});
afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('S3VectorsIndex on moto', () => {
  const bucket = { vectorBucketName: 'tessera-acme-vectors' };
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `file-1#${i}`);
  const stored = async (n: number) => (await client.send(new GetVectorsCommand({ ...bucket, indexName: 'vs-00c0ffee', keys: keys(n), returnMetadata: true, returnData: true }))).vectors ?? [];

  it('creates the store\'s index (float32, cosine, its dimension) and keeps it on a second create', async () => {
    await index.createIndex('acme', STORE, 4);
    await index.put('acme', STORE, [record(0)]);
    await index.createIndex('acme', STORE, 4);
    const got = await client.send(new GetIndexCommand({ ...bucket, indexName: 'vs-00c0ffee' }));
    expect(got.index).toMatchObject({ indexName: 'vs-00c0ffee', dataType: 'float32', dimension: 4, distanceMetric: 'cosine' });
    expect(await stored(1)).toHaveLength(1);
    await expect(index.createIndex('acme', STORE, 8)).rejects.toThrow('vector index vs-00c0ffee exists with dimension 4, not 8');
  });

  it('writes 1,203 vectors in batches moto stores, with their metadata, and deletes them by key', async () => {
    await index.put('acme', STORE, Array.from({ length: 1203 }, (_, i) => record(i)));
    const all = await stored(1203);
    expect(all).toHaveLength(1203);
    const last = all.find((v) => v.key === 'file-1#1202');
    expect(last?.metadata).toEqual({ file_id: 'file-1', part: 1202, [TEXT_METADATA_KEY]: 'chunk 1202' });
    expect(last?.data?.float32).toEqual([120.2, 120.3, 120.4, 120.5].map(Math.fround));
    await index.delete('acme', STORE, [...keys(1000), 'file-9#absent']);
    expect((await stored(1203)).map((v) => v.key).sort()).toEqual(keys(1203).slice(1000).sort());
  });

  it('refuses what AWS refuses and moto would take: dimension 4,097, a 3 KB attribute, a store id that makes no index name', async () => {
    await expect(index.createIndex('acme', 'vs_0ddba11', 4097)).rejects.toThrow(/dimension 4097 is not an integer from 1 to 4096/);
    await expect(index.put('acme', STORE, [{ ...record(0), filterable: { note: 'n'.repeat(3000) } }])).rejects.toThrow(/more than S3 Vectors' 2048/);
    await expect(index.createIndex('acme', 'vs_NOT_HEX', 4)).rejects.toThrow(/is not a vector store id/);
    const names = (await client.send(new ListIndexesCommand(bucket))).indexes?.map((i) => i.indexName);
    expect(names).toEqual(['vs-00c0ffee']);
    // The refused put wrote nothing: file-1#0 (deleted by the test before) is still absent.
    expect(await stored(1)).toEqual([]);
  });

  it('a vector of the wrong dimension is moto\'s ValidationException, answered as a 400', async () => {
    await expect(index.put('acme', STORE, [record(0, 3)])).rejects.toThrow(expect.objectContaining({ status: 400, code: 'invalid_request' }));
  });

  it('deletes the index, and a second delete is not an error; a put into it then is a 404', async () => {
    await index.deleteIndex('acme', STORE);
    await index.deleteIndex('acme', STORE);
    expect((await client.send(new ListIndexesCommand(bucket))).indexes).toEqual([]);
    await expect(index.put('acme', STORE, [record(0)])).rejects.toThrow(expect.objectContaining({ status: 404, code: 'not_found' }));
  });
});
