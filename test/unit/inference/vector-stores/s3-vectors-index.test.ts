import {
  ConflictException, CreateIndexCommand, DeleteIndexCommand, DeleteVectorsCommand, GetIndexCommand, GetVectorsCommand, NotFoundException, PutVectorsCommand,
  QueryVectorsCommand, S3VectorsClient, ServiceQuotaExceededException, TooManyRequestsException, ValidationException,
} from '@aws-sdk/client-s3vectors';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { S3VectorsIndex, TEXT_METADATA_KEY, vectorIndexName } from '../../../../lambdas/inference/vector-stores/s3-vectors-index.js';
import { MAX_EXCLUDED_RUNS, RUN_METADATA_KEY, type VectorRecord } from '../../../../lambdas/inference/vector-stores/vector-index.js';

const s3v = mockClient(S3VectorsClient);
const clients: string[] = [];
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const keysAsked: string[] = [];
const index = new S3VectorsIndex(async (tenantId) => {
  clients.push(tenantId);
  return new S3VectorsClient({ region: 'us-east-1' });
}, async (tenantId) => (keysAsked.push(tenantId), KEY_ARN));
const STORE = 'vs_0af3c2';
const AT = { vectorBucketName: 'tessera-acme-vectors', indexName: 'vs-0af3c2' };
const meta = { $metadata: {} };
const record = (i: number, extra: Partial<VectorRecord> = {}): VectorRecord => ({ key: `file-1#${i}`, data: [0.1, 0.2, 0.3], filterable: { file_id: 'file-1' }, text: `chunk ${i}`, ...extra });

beforeEach(() => {
  s3v.reset();
  clients.length = 0;
  keysAsked.length = 0;
});
afterEach(() => s3v.reset());

describe('vectorIndexName', () => {
  it('maps vs_<hex> to vs-<hex>, an S3 Vectors index name (3-63 lower-case letters, digits, hyphens, dots)', () => {
    expect(vectorIndexName('vs_0af3c2')).toBe('vs-0af3c2');
    expect(vectorIndexName(`vs_${'f'.repeat(60)}`)).toHaveLength(63);
  });

  it.each(['vs_', 'vs_ABC', `vs_${'a'.repeat(61)}`, 'file-abc', 'vs_0a/../x', 'VS_0a'])('refuses %j with a 400 naming vector_store_id', (id) => {
    expect(() => vectorIndexName(id)).toThrow(expect.objectContaining({ status: 400, param: 'vector_store_id' }));
  });
});

describe('S3VectorsIndex.createIndex', () => {
  it('creates float32, cosine, with the chunk text non-filterable, under the tenant key (SSE-KMS), in the tenant\'s bucket, as the tenant', async () => {
    s3v.on(GetIndexCommand).rejects(new NotFoundException({ message: 'no such index', $metadata: {} }));
    s3v.on(CreateIndexCommand).resolves(meta);
    await index.createIndex('acme', STORE, 1536);
    expect(s3v.commandCalls(GetIndexCommand)[0].args[0].input).toEqual(AT);
    // The encryption named in the request: the vector-store role may create an index only with sseType aws:kms and its tenant's key.
    expect(s3v.commandCalls(CreateIndexCommand).map((c) => c.args[0].input)).toEqual([{
      ...AT, dataType: 'float32', dimension: 1536, distanceMetric: 'cosine', metadataConfiguration: { nonFilterableMetadataKeys: [TEXT_METADATA_KEY] },
      encryptionConfiguration: { sseType: 'aws:kms', kmsKeyArn: KEY_ARN },
    }]);
    expect(clients).toEqual(['acme']);
    expect(keysAsked).toEqual(['acme']);
  });

  it.each(['', 'alias/tessera/acme', 'arn:aws:kms:us-east-1:111122223333:alias/tessera/acme'])('creates no index when the tenant key is %j, not a key ARN', async (keyArn) => {
    s3v.on(GetIndexCommand).rejects(new NotFoundException({ message: 'no such index', $metadata: {} }));
    const withoutKey = new S3VectorsIndex(async () => new S3VectorsClient({ region: 'us-east-1' }), async () => keyArn);
    await expect(withoutKey.createIndex('acme', STORE, 8)).rejects.toThrow(/is not a KMS key ARN: vector index vs-0af3c2 is created only under the tenant key/);
    expect(s3v.commandCalls(CreateIndexCommand)).toHaveLength(0);
  });

  it('keeps an index of the same dimension (no CreateIndex: moto would replace it)', async () => {
    s3v.on(GetIndexCommand).resolves({ ...meta, index: { ...AT, indexArn: 'arn', creationTime: new Date(), dataType: 'float32', dimension: 8, distanceMetric: 'cosine' } });
    await index.createIndex('acme', STORE, 8);
    expect(s3v.commandCalls(CreateIndexCommand)).toHaveLength(0);
  });

  it('refuses an index that exists with another dimension', async () => {
    s3v.on(GetIndexCommand).resolves({ ...meta, index: { ...AT, indexArn: 'arn', creationTime: new Date(), dataType: 'float32', dimension: 8, distanceMetric: 'cosine' } });
    await expect(index.createIndex('acme', STORE, 16)).rejects.toThrow('vector index vs-0af3c2 exists with dimension 8, not 16');
  });

  it('reads the index again on a ConflictException (a concurrent create) and compares the dimension', async () => {
    s3v.on(GetIndexCommand)
      .rejectsOnce(new NotFoundException({ message: 'no such index', $metadata: {} }))
      .resolves({ ...meta, index: { ...AT, indexArn: 'arn', creationTime: new Date(), dataType: 'float32', dimension: 4, distanceMetric: 'cosine' } });
    s3v.on(CreateIndexCommand).rejects(new ConflictException({ message: 'exists', $metadata: {} }));
    await expect(index.createIndex('acme', STORE, 4)).resolves.toBeUndefined();
    await expect(index.createIndex('acme', STORE, 5)).rejects.toThrow(/exists with dimension 4, not 5/);
  });

  it.each([0, 4097, 1.5])('refuses dimension %s before any call (S3 Vectors: 1-4,096)', async (dimension) => {
    await expect(index.createIndex('acme', STORE, dimension)).rejects.toThrow(expect.objectContaining({ status: 400, param: 'dimension' }));
    expect(s3v.calls()).toHaveLength(0);
  });

  it('refuses a string that is not a tenant id before any call', async () => {
    await expect(index.createIndex('Acme/../x', STORE, 4)).rejects.toThrow(/not a tenant id/);
    expect(clients).toEqual([]);
  });
});

describe('S3VectorsIndex.deleteIndex', () => {
  it('deletes the store\'s index; an absent one is not an error', async () => {
    s3v.on(DeleteIndexCommand).resolvesOnce(meta).rejects(new NotFoundException({ message: 'no such index', $metadata: {} }));
    await index.deleteIndex('acme', STORE);
    await index.deleteIndex('acme', STORE);
    expect(s3v.commandCalls(DeleteIndexCommand).map((c) => c.args[0].input)).toEqual([AT, AT]);
  });
});

describe('S3VectorsIndex.put', () => {
  it('sends float32 data and the metadata (attributes filterable, text under _text) in batches of at most 500', async () => {
    s3v.on(PutVectorsCommand).resolves(meta);
    await index.put('acme', STORE, Array.from({ length: 1201 }, (_, i) => record(i)));
    const calls = s3v.commandCalls(PutVectorsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.vectors!.length)).toEqual([500, 500, 201]);
    expect(calls[0]).toMatchObject(AT);
    expect(calls[2].vectors!.at(-1)).toEqual({
      key: 'file-1#1200', data: { float32: [Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)] }, metadata: { file_id: 'file-1', [TEXT_METADATA_KEY]: 'chunk 1200' },
    });
  });

  it('keeps a vector\'s run as filterable metadata _run beside the attributes, counted in their 2 KB', async () => {
    s3v.on(PutVectorsCommand).resolves(meta);
    await index.put('acme', STORE, [record(0, { run: 'file-1#0000000000aa' })]);
    expect(s3v.commandCalls(PutVectorsCommand)[0].args[0].input.vectors![0]!.metadata).toEqual({ file_id: 'file-1', _run: 'file-1#0000000000aa', [TEXT_METADATA_KEY]: 'chunk 0' });
    // 2,040 bytes of attributes fit alone, not with the run.
    const near = { file_id: 'file-1', note: 'n'.repeat(2040 - JSON.stringify({ file_id: 'file-1', note: '' }).length) };
    await index.put('acme', STORE, [record(1, { filterable: near })]);
    await expect(index.put('acme', STORE, [record(1, { filterable: near, run: 'file-1#0000000000aa' })])).rejects.toThrow(/bytes of filterable metadata, more than S3 Vectors' 2048/);
  });

  it('cuts a batch before PutVectors\' 20 MiB payload', async () => {
    s3v.on(PutVectorsCommand).resolves(meta);
    // 300 vectors of about 70 KB of JSON each (4,096 values and 30 KB of text): 21 MB in all.
    const big = (i: number) => record(i, { data: Array.from({ length: 4096 }, () => 0.123456789), text: 'x'.repeat(30_000) });
    await index.put('acme', STORE, Array.from({ length: 300 }, (_, i) => big(i)));
    const sizes = s3v.commandCalls(PutVectorsCommand).map((c) => Buffer.byteLength(JSON.stringify(c.args[0].input)));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(20 * 1024 * 1024);
  });

  it.each([
    ['a key over 1,024 characters', record(0, { key: 'k'.repeat(1025) }), /1-1024 characters/],
    ['an empty key', record(0, { key: '' }), /1-1024 characters/],
    ['a NaN value', record(0, { data: [0.1, Number.NaN] }), /value 1 \(NaN\) is not a finite float32/],
    ['a value beyond float32', record(0, { data: [1e39] }), /is not a finite float32/],
    ['more than 4,096 values', record(0, { data: new Array(4097).fill(0) }), /4097 values/],
    ['over 2 KB of filterable metadata', record(0, { filterable: { file_id: 'file-1', note: 'n'.repeat(2100) } }), /bytes of filterable metadata, more than S3 Vectors' 2048/],
    ['over 40 KB of metadata', record(0, { text: 't'.repeat(41_000) }), /bytes of metadata .* more than S3 Vectors' 40960/],
    ['over 50 metadata keys', record(0, { filterable: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])) }), /51 metadata keys/],
    ['an attribute named _text', record(0, { filterable: { _text: 'mine' } }), /"_text" is reserved/],
    ['an attribute named _run', record(0, { filterable: { _run: 'mine' } }), /"_run" is reserved/],
  ])('refuses %s with a 400 before anything is written', async (_what, bad, message) => {
    s3v.on(PutVectorsCommand).resolves(meta);
    await expect(index.put('acme', STORE, [record(1), bad])).rejects.toThrow(message);
    await expect(index.put('acme', STORE, [record(1), bad])).rejects.toBeInstanceOf(GatewayError);
    expect(s3v.commandCalls(PutVectorsCommand)).toHaveLength(0);
  });
});

describe('S3VectorsIndex.setFilterable', () => {
  it('reads the vectors (GetVectors, at most 100 keys a call, data and metadata) and puts each back with its data, text and run, and the new attributes', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `file-1#r1#${i}`);
    s3v.on(GetVectorsCommand).callsFake((input: { keys: string[] }) => ({
      ...meta,
      // One key is not answered: its vector was deleted (the file attached again meanwhile); it is not written back.
      vectors: input.keys.filter((k) => k !== 'file-1#r1#7').map((k) => ({ key: k, data: { float32: [0.5, -0.25] }, metadata: { team: 'old', [RUN_METADATA_KEY]: 'file-1#r1', [TEXT_METADATA_KEY]: `text of ${k}` } })),
    }));
    s3v.on(PutVectorsCommand).resolves(meta);
    await index.setFilterable('acme', STORE, keys, { team: 'new', year: 2026 });
    const gets = s3v.commandCalls(GetVectorsCommand).map((c) => c.args[0].input);
    expect(gets.map((g) => g.keys!.length)).toEqual([100, 50]);
    expect(gets[0]).toMatchObject({ ...AT, returnData: true, returnMetadata: true });
    const put = s3v.commandCalls(PutVectorsCommand).flatMap((c) => c.args[0].input.vectors!);
    expect(put).toHaveLength(149);
    expect(put.map((v) => v.key)).not.toContain('file-1#r1#7');
    expect(put[0]).toEqual({ key: 'file-1#r1#0', data: { float32: [0.5, -0.25] }, metadata: { team: 'new', year: 2026, [RUN_METADATA_KEY]: 'file-1#r1', [TEXT_METADATA_KEY]: 'text of file-1#r1#0' } });
  });

  it('writes nothing when the new attributes would take the vector past 2 KB of filterable metadata (a 400 naming attributes)', async () => {
    s3v.on(GetVectorsCommand).resolves({ ...meta, vectors: [{ key: 'file-1#r1#0', data: { float32: [1] }, metadata: { [RUN_METADATA_KEY]: 'file-1#r1', [TEXT_METADATA_KEY]: 't' } }] });
    await expect(index.setFilterable('acme', STORE, ['file-1#r1#0'], { big: 'x'.repeat(2100) })).rejects.toMatchObject({ status: 400, param: 'attributes' });
    expect(s3v.commandCalls(PutVectorsCommand)).toHaveLength(0);
  });
});

describe('S3VectorsIndex.delete', () => {
  it('deletes keys in batches of at most 500', async () => {
    s3v.on(DeleteVectorsCommand).resolves(meta);
    const keys = Array.from({ length: 1001 }, (_, i) => `file-1#${i}`);
    await index.delete('acme', STORE, keys);
    const calls = s3v.commandCalls(DeleteVectorsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.keys!.length)).toEqual([500, 500, 1]);
    expect(calls.flatMap((c) => c.keys)).toEqual(keys);
    expect(calls[0]).toMatchObject(AT);
  });
});

describe('S3VectorsIndex.query', () => {
  it('asks for topK with metadata and distance, float32, and answers key, distance, attributes and text', async () => {
    s3v.on(QueryVectorsCommand).resolves({
      ...meta, distanceMetric: 'cosine',
      vectors: [{ key: 'file-1#0', distance: 0.125, metadata: { file_id: 'file-1', year: 2024, [TEXT_METADATA_KEY]: 'hello' } }],
    });
    const out = await index.query('acme', STORE, [0.1, 0.2], 100, { type: 'eq', key: 'file_id', value: 'file-1' });
    expect(s3v.commandCalls(QueryVectorsCommand)[0].args[0].input).toEqual({
      ...AT, topK: 100, queryVector: { float32: [Math.fround(0.1), Math.fround(0.2)] }, filter: { file_id: { $eq: 'file-1' } }, returnMetadata: true, returnDistance: true,
    });
    expect(out).toEqual([{ key: 'file-1#0', distance: 0.125, filterable: { file_id: 'file-1', year: 2024 }, text: 'hello' }]);
  });

  it('leaves out runs with $nin on the _run metadata beside the attributes\' filter, keeping vectors written without a run; answers no _run', async () => {
    s3v.on(QueryVectorsCommand).resolves({ ...meta, distanceMetric: 'cosine', vectors: [{ key: 'file-1#r1#0', distance: 0.5, metadata: { year: 2024, [RUN_METADATA_KEY]: 'file-1#r1', [TEXT_METADATA_KEY]: 't' } }] });
    const out = await index.query('acme', STORE, [1], 100, { type: 'eq', key: 'year', value: 2024 }, { runs: ['file-2#r2', 'file-3#r3'] });
    const notRuns = { $or: [{ _run: { $exists: false } }, { _run: { $nin: ['file-2#r2', 'file-3#r3'] } }] };
    expect(s3v.commandCalls(QueryVectorsCommand)[0].args[0].input.filter).toEqual({ $and: [{ year: { $eq: 2024 } }, notRuns] });
    expect(out).toEqual([{ key: 'file-1#r1#0', distance: 0.5, filterable: { year: 2024 }, text: 't' }]);
    await index.query('acme', STORE, [1], 100, undefined, { runs: ['file-2#r2', 'file-3#r3'] });
    expect(s3v.commandCalls(QueryVectorsCommand)[1].args[0].input.filter).toEqual(notRuns);
    await index.query('acme', STORE, [1], 100, undefined, { runs: [] });
    expect(s3v.commandCalls(QueryVectorsCommand)[2].args[0].input).not.toHaveProperty('filter');
    await expect(index.query('acme', STORE, [1], 100, undefined, { runs: Array.from({ length: MAX_EXCLUDED_RUNS + 1 }, (_, i) => `file-1#${i}`) })).rejects.toThrow(/at most 50 runs/);
    expect(s3v.commandCalls(QueryVectorsCommand)).toHaveLength(3);
  });

  it('follows nextToken with the same topK, vector and filter until no page is left (results of a topK above the page size)', async () => {
    const vector = (n: number) => ({ key: `file-1#${n}`, distance: n / 10, metadata: { [TEXT_METADATA_KEY]: `t${n}` } });
    s3v.on(QueryVectorsCommand)
      .resolvesOnce({ ...meta, distanceMetric: 'cosine', vectors: [vector(0), vector(1)], nextToken: 'page-2' })
      .resolvesOnce({ ...meta, distanceMetric: 'cosine', vectors: [vector(2)] });
    const out = await index.query('acme', STORE, [1], 100, { type: 'eq', key: 'year', value: 2024 }, { runs: ['file-2#r2'] });
    expect(out.map((m) => m.key)).toEqual(['file-1#0', 'file-1#1', 'file-1#2']);
    const [first, second] = s3v.commandCalls(QueryVectorsCommand).map((c) => c.args[0].input);
    expect(first).not.toHaveProperty('nextToken');
    expect(second).toEqual({ ...first, nextToken: 'page-2' });
    expect(s3v.commandCalls(QueryVectorsCommand)).toHaveLength(2);
  });

  it('sends no filter when none is given', async () => {
    s3v.on(QueryVectorsCommand).resolves({ ...meta, distanceMetric: 'cosine', vectors: [] });
    await index.query('acme', STORE, [1], 1);
    expect(s3v.commandCalls(QueryVectorsCommand)[0].args[0].input).not.toHaveProperty('filter');
  });

  it.each([0, 101, 2.5])('refuses topK %s before any call (QueryVectors: 1-100)', async (topK) => {
    await expect(index.query('acme', STORE, [1], topK)).rejects.toThrow(expect.objectContaining({ status: 400, param: 'max_num_results' }));
    expect(s3v.calls()).toHaveLength(0);
  });
});

describe('S3 Vectors errors as gateway errors', () => {
  it.each([
    [new NotFoundException({ message: 'The specified index could not be found', $metadata: {} }), 404, 'not_found'],
    [new ValidationException({ message: 'bad', $metadata: {}, fieldList: [] }), 400, 'invalid_request'],
    [new ServiceQuotaExceededException({ message: 'too many indexes', $metadata: {} }), 429, 'insufficient_quota'],
    [new TooManyRequestsException({ message: 'slow down', $metadata: {} }), 429, 'rate_limit_exceeded'],
    [Object.assign(new Error('unavailable'), { name: 'ServiceUnavailableException' }), 503, 'service_unavailable'],
  ])('%s → %i %s', async (error, status, code) => {
    s3v.on(QueryVectorsCommand).rejects(error);
    await expect(index.query('acme', STORE, [1], 1)).rejects.toThrow(expect.objectContaining({ status, code }));
  });

  it('a used-up quota (ServiceQuotaExceededException) says x-should-retry: false: the SDKs would send it twice more; a throttle does not', async () => {
    s3v.on(QueryVectorsCommand).rejectsOnce(new ServiceQuotaExceededException({ message: 'too many vectors', $metadata: {} })).rejectsOnce(new TooManyRequestsException({ message: 'slow down', $metadata: {} }));
    await expect(index.query('acme', STORE, [1], 1)).rejects.toThrow(expect.objectContaining({ status: 429, code: 'insufficient_quota', headers: { 'x-should-retry': 'false' } }));
    await expect(index.query('acme', STORE, [1], 1)).rejects.toThrow(expect.objectContaining({ status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '1' } }));
  });

  it('passes anything else on as it was (AccessDenied: a deployment fault, a 500)', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    s3v.on(PutVectorsCommand).rejects(denied);
    await expect(index.put('acme', STORE, [record(0)])).rejects.toBe(denied);
  });
});
