import {
  ConflictException, CreateIndexCommand, DeleteIndexCommand, DeleteVectorsCommand, GetIndexCommand, GetVectorsCommand, NotFoundException, PutVectorsCommand,
  QueryVectorsCommand, type PutInputVector, type QueryOutputVector, type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import type { DocumentType } from '@smithy/types';
import { tenantVectorBucketName } from '../../../lib/tenant-naming.js';
import { isTenantId } from '../../../lib/tenant-record.js';
import { GatewayError, invalid } from '../openai-errors.js';
import { s3VectorsFilter } from './s3-vectors-filter.js';
import { MAX_EXCLUDED_RUNS, RUN_METADATA_KEY, TEXT_METADATA_KEY, type VectorFilter, type VectorIndex, type VectorMatch, type VectorMetadataValue, type VectorRecord } from './vector-index.js';

/**
 * S3 Vectors' limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html and the API
 * reference of CreateIndex, PutVectors, DeleteVectors, QueryVectors), checked here before a call: moto accepts much of
 * what AWS refuses (index names, dimensions, metadata sizes), and a refusal should name the field, not be AWS's 400.
 */
export const S3_VECTORS_LIMITS = {
  /** CreateIndex `dimension`: 1-4,096. */
  maxDimension: 4096,
  /** PutVectors `vectors` and DeleteVectors `keys`: 1-500 per call. */
  batchSize: 500,
  /** PutVectors' request payload: at most 20 MiB (batches are cut below it too). */
  maxPutPayloadBytes: 20 * 1024 * 1024,
  /** GetVectors `keys`: 1-100 per call. */
  maxGetKeys: 100,
  /** QueryVectors `topK`: 1-100. */
  maxTopK: 100,
  /** A vector key: 1-1,024 characters. */
  maxKeyLength: 1024,
  /** Filterable metadata per vector: 2 KB. */
  maxFilterableBytes: 2048,
  /** All metadata per vector (filterable and not): 40 KB. */
  maxMetadataBytes: 40 * 1024,
  /** Metadata keys per vector: 50 (the chunk text's included). */
  maxMetadataKeys: 50,
} as const;

/** The non-filterable metadata key the chunk's text is kept under (CreateIndex `metadataConfiguration.nonFilterableMetadataKeys`). */
export { TEXT_METADATA_KEY };

/** What the gateway makes vector store ids of: `vs_` and lower-case hex (up to 60 digits, so that the index name fits 63). */
const STORE_ID = /^vs_[0-9a-f]{1,60}$/;
/** S3 Vectors index names: 3-63 lower-case letters, digits, hyphens and dots, a letter or digit first and last (CreateIndex `indexName`). */
export const INDEX_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The S3 Vectors index of vector store `storeId`: the id with its `_` made `-` (`vs_0af3…` → `vs-0af3…`), one to one,
 * in the tenant's own vector bucket (lib/tenant-naming.ts tenantVectorBucketName), so no tenant prefix is needed.
 * @throws GatewayError 400 naming `vector_store_id` for an id the gateway does not make
 */
export function vectorIndexName(storeId: string): string {
  if (!STORE_ID.test(storeId)) throw invalid(`vector_store_id ${JSON.stringify(storeId.slice(0, 80))} is not a vector store id (vs_ and lower-case hex digits)`, 'vector_store_id');
  const name = storeId.replace('_', '-');
  if (!INDEX_NAME.test(name)) throw invalid(`vector_store_id ${JSON.stringify(storeId)} makes no S3 Vectors index name`, 'vector_store_id');
  return name;
}

/** An S3 Vectors client acting in the tenant's account as that tenant (see s3VectorsIndexFor). */
export type TenantS3VectorsClient = (tenantId: string) => Promise<S3VectorsClient>;

/** The ARN of the tenant's key (`arn:<partition>:kms:<region>:<account>:key/<id>`: its stack's `KeyArn` output), which encrypts its vector bucket. */
export type TenantKeyArn = (tenantId: string) => Promise<string>;

/** A KMS key ARN as CreateIndex's `encryptionConfiguration.kmsKeyArn` takes it (S3 Vectors API reference, EncryptionConfiguration: a key ARN, no alias). */
const KMS_KEY_ARN = /^arn:aws[-a-z0-9]*:kms:[-a-z0-9]*:[0-9]{12}:key\/.+$/;

/**
 * VectorIndex on Amazon S3 Vectors: each tenant's vector bucket (`tessera-<tenant>-vectors` in the tenant's account, SSE-KMS
 * with the tenant key: constructs/tenant-vector-bucket.ts), one index per vector store (vectorIndexName), float32, cosine,
 * the chunk's text as non-filterable metadata (TEXT_METADATA_KEY) beside the filterable attributes, each index SSE-KMS
 * under the tenant key, named in the request (`keyArnOf`), as the role's CreateIndex grant requires
 * (constructs/tenant-vector-bucket.ts vectorStoreCreateIndexConditions). Every call goes through `clientFor(tenantId)`: in
 * the Lambdas a session of the tenant's `vector-store` role (its grant: that bucket's indexes only, created under its own
 * key only), so another tenant's store cannot be reached whatever the code asks.
 *
 * AWS's errors become gateway errors (s3VectorsError): not found 404, validation 400, a service quota 429
 * `insufficient_quota`, throttling 429 `rate_limit_exceeded`, unavailable 503; others are rethrown (a 500).
 */
export class S3VectorsIndex implements VectorIndex {
  constructor(
    private readonly clientFor: TenantS3VectorsClient,
    /** The tenant key's ARN, asked on each CreateIndex only (its `encryptionConfiguration`). */
    private readonly keyArnOf: TenantKeyArn,
    /** @default tenantVectorBucketName */
    private readonly bucketOf: (tenantId: string) => string = tenantVectorBucketName,
  ) {}

  /**
   * GetIndex first (moto's CreateIndex replaces an index that exists; AWS answers ConflictException), CreateIndex when
   * there is none, with `encryptionConfiguration` {sseType `aws:kms`, kmsKeyArn the tenant key}, and on a
   * ConflictException (a concurrent create) GetIndex again: the same dimension is success.
   * @throws GatewayError 400 for a dimension outside 1-4,096; Error when the index exists with another dimension, or
   * when `keyArnOf` gives no KMS key ARN (nothing is created)
   */
  async createIndex(tenantId: string, storeId: string, dimension: number): Promise<void> {
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > S3_VECTORS_LIMITS.maxDimension) {
      throw invalid(`dimension ${dimension} is not an integer from 1 to ${S3_VECTORS_LIMITS.maxDimension} (S3 Vectors' limit)`, 'dimension');
    }
    const at = this.at(tenantId, storeId);
    const client = await this.clientFor(tenantId);
    const existing = await this.dimensionOf(client, at);
    if (existing !== undefined) return sameDimension(at, existing, dimension);
    const kmsKeyArn = await this.keyArnOf(tenantId);
    if (!KMS_KEY_ARN.test(kmsKeyArn)) throw new Error(`tenant ${tenantId}'s key ${JSON.stringify(String(kmsKeyArn).slice(0, 120))} is not a KMS key ARN: vector index ${at.indexName} is created only under the tenant key`);
    try {
      await client.send(new CreateIndexCommand({
        ...at, dataType: 'float32', dimension, distanceMetric: 'cosine',
        metadataConfiguration: { nonFilterableMetadataKeys: [TEXT_METADATA_KEY] },
        encryptionConfiguration: { sseType: 'aws:kms', kmsKeyArn },
      }));
    } catch (e) {
      if (!(e instanceof ConflictException || (e as Error).name === 'ConflictException')) throw s3VectorsError(e, at);
      const raced = await this.dimensionOf(client, at);
      if (raced === undefined) throw s3VectorsError(e, at);
      sameDimension(at, raced, dimension);
    }
  }

  async deleteIndex(tenantId: string, storeId: string): Promise<void> {
    const at = this.at(tenantId, storeId);
    try {
      await (await this.clientFor(tenantId)).send(new DeleteIndexCommand(at));
    } catch (e) {
      if (!isNotFound(e)) throw s3VectorsError(e, at);
    }
  }

  /**
   * PutVectors in batches of at most 500 vectors and under 20 MiB each, in order. Every record is checked first (key,
   * dimension-free values: finite float32, metadata sizes): a bad record fails the call before anything is written.
   * @throws GatewayError 400 naming the record's key and the limit
   */
  async put(tenantId: string, storeId: string, records: VectorRecord[]): Promise<void> {
    const at = this.at(tenantId, storeId);
    const vectors = records.map(putVector);
    if (vectors.length === 0) return;
    const client = await this.clientFor(tenantId);
    for (const batch of batches(vectors)) {
      try {
        await client.send(new PutVectorsCommand({ ...at, vectors: batch }));
      } catch (e) {
        throw s3VectorsError(e, at);
      }
    }
  }

  /**
   * VectorIndex.setFilterable: GetVectors (`returnData`, `returnMetadata`; at most 100 keys a call, its API reference's
   * limit) and PutVectors of the vectors it answers, each with its own data, its text (TEXT_METADATA_KEY) and run
   * (RUN_METADATA_KEY) and `filterable` as the rest of its metadata. S3 Vectors has no metadata-only update: "If you put a
   * vector with a key that already exists in the index, it will overwrite the existing vector completely" (Amazon S3 User
   * Guide, Inserting vectors into a vector index), so the data read is written back with it. A key GetVectors does not
   * answer (the vector deleted) is not written. Every vector is checked (putVector) before the first PutVectors.
   * @throws GatewayError 400 naming `attributes` for metadata over S3 Vectors' limits; s3VectorsError for AWS's errors
   */
  async setFilterable(tenantId: string, storeId: string, keys: string[], filterable: Record<string, VectorMetadataValue>): Promise<void> {
    const at = this.at(tenantId, storeId);
    keys.forEach(checkKey);
    if (keys.length === 0) return;
    const client = await this.clientFor(tenantId);
    const records: VectorRecord[] = [];
    for (let i = 0; i < keys.length; i += S3_VECTORS_LIMITS.maxGetKeys) {
      let out;
      try {
        out = await client.send(new GetVectorsCommand({ ...at, keys: keys.slice(i, i + S3_VECTORS_LIMITS.maxGetKeys), returnData: true, returnMetadata: true }));
      } catch (e) {
        throw s3VectorsError(e, at);
      }
      for (const v of out.vectors ?? []) {
        const { [TEXT_METADATA_KEY]: text, [RUN_METADATA_KEY]: run } = (v.metadata ?? {}) as Record<string, unknown>;
        records.push({ key: v.key ?? '', data: v.data?.float32 ?? [], filterable, text: typeof text === 'string' ? text : '', ...(typeof run === 'string' ? { run } : {}) });
      }
    }
    const vectors = records.map(putVector);
    for (const batch of batches(vectors)) {
      try {
        await client.send(new PutVectorsCommand({ ...at, vectors: batch }));
      } catch (e) {
        throw s3VectorsError(e, at);
      }
    }
  }

  async delete(tenantId: string, storeId: string, keys: string[]): Promise<void> {
    const at = this.at(tenantId, storeId);
    keys.forEach(checkKey);
    const client = await this.clientFor(tenantId);
    for (let i = 0; i < keys.length; i += S3_VECTORS_LIMITS.batchSize) {
      try {
        await client.send(new DeleteVectorsCommand({ ...at, keys: keys.slice(i, i + S3_VECTORS_LIMITS.batchSize) }));
      } catch (e) {
        throw s3VectorsError(e, at);
      }
    }
  }

  /**
   * QueryVectors with `returnMetadata` and `returnDistance`, the filter translated (s3-vectors-filter.ts); runs left out
   * with `{$or: [{_run: {$exists: false}}, {_run: {$nin: runs}}]}` beside it (`$and`): a vector without a run (written
   * before runs were kept) is never left out. Every page: "When topK exceeds the page size, results are returned across
   * multiple pages" with a `nextToken`, asked again with the same topK, vector and filter until none is answered (Amazon
   * S3 User Guide, Querying vectors: https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-query.html); at most
   * topK asks (a page holds at least one vector).
   */
  async query(tenantId: string, storeId: string, vector: number[], topK: number, filter?: VectorFilter, exclude?: { runs: readonly string[] }): Promise<VectorMatch[]> {
    const at = this.at(tenantId, storeId);
    if (!Number.isInteger(topK) || topK < 1 || topK > S3_VECTORS_LIMITS.maxTopK) throw invalid(`max_num_results ${topK} is not an integer from 1 to ${S3_VECTORS_LIMITS.maxTopK}`, 'max_num_results');
    const runs = exclude?.runs ?? [];
    if (runs.length > MAX_EXCLUDED_RUNS) throw new Error(`a query leaves out at most ${MAX_EXCLUDED_RUNS} runs, not ${runs.length}`);
    const queryVector = { float32: float32s(vector, 'query vector') };
    const attributes = filter === undefined ? undefined : s3VectorsFilter(filter);
    const notRuns = runs.length ? { $or: [{ [RUN_METADATA_KEY]: { $exists: false } }, { [RUN_METADATA_KEY]: { $nin: [...runs] } }] } : undefined;
    const translated = attributes && notRuns ? { $and: [attributes, notRuns] } : (attributes ?? notRuns);
    const client = await this.clientFor(tenantId);
    const vectors: QueryOutputVector[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < topK && vectors.length < topK; page++) {
      let out;
      try {
        out = await client.send(new QueryVectorsCommand({
          ...at, topK, queryVector, ...(translated ? { filter: translated as DocumentType } : {}), returnMetadata: true, returnDistance: true,
          ...(nextToken ? { nextToken } : {}),
        }));
      } catch (e) {
        throw s3VectorsError(e, at);
      }
      vectors.push(...(out.vectors ?? []));
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    return vectors.slice(0, topK).map((v) => {
      const { [TEXT_METADATA_KEY]: text, [RUN_METADATA_KEY]: _run, ...filterable } = (v.metadata ?? {}) as Record<string, unknown>;
      return { key: v.key ?? '', distance: v.distance ?? 0, filterable: filterable as Record<string, VectorMetadataValue>, text: typeof text === 'string' ? text : '' };
    });
  }

  private at(tenantId: string, storeId: string): { vectorBucketName: string; indexName: string } {
    if (!isTenantId(tenantId)) throw new Error(`"${tenantId.slice(0, 40)}" is not a tenant id`);
    return { vectorBucketName: this.bucketOf(tenantId), indexName: vectorIndexName(storeId) };
  }

  private async dimensionOf(client: S3VectorsClient, at: { vectorBucketName: string; indexName: string }): Promise<number | undefined> {
    try {
      return (await client.send(new GetIndexCommand(at))).index?.dimension;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw s3VectorsError(e, at);
    }
  }
}

function sameDimension(at: { indexName: string }, existing: number, wanted: number): void {
  if (existing !== wanted) throw new Error(`vector index ${at.indexName} exists with dimension ${existing}, not ${wanted}`);
}

const isNotFound = (e: unknown) => e instanceof NotFoundException || (e as Error)?.name === 'NotFoundException';

const utf8Bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length < 1 || key.length > S3_VECTORS_LIMITS.maxKeyLength) {
    throw invalid(`vector key ${JSON.stringify(String(key).slice(0, 80))} must be 1-${S3_VECTORS_LIMITS.maxKeyLength} characters (S3 Vectors' limit)`, 'key');
  }
}

/** `values` as float32 (Math.fround): finite numbers only (JSON has no NaN or Infinity, S3 Vectors no such float32 in an index). */
function float32s(values: number[], what: string): number[] {
  if (!Array.isArray(values) || values.length === 0 || values.length > S3_VECTORS_LIMITS.maxDimension) throw invalid(`${what} has ${Array.isArray(values) ? values.length : 'no'} values (1-${S3_VECTORS_LIMITS.maxDimension})`, 'vector');
  return values.map((v, i) => {
    const f = Math.fround(v);
    if (typeof v !== 'number' || !Number.isFinite(f)) throw invalid(`${what}: value ${i} (${String(v)}) is not a finite float32`, 'vector');
    return f;
  });
}

/** A record as PutVectors' vector, checked against S3 Vectors' limits. */
function putVector(record: VectorRecord): PutInputVector {
  checkKey(record.key);
  const where = `vector ${JSON.stringify(record.key.slice(0, 80))}`;
  for (const reserved of [TEXT_METADATA_KEY, RUN_METADATA_KEY]) if (reserved in record.filterable) throw invalid(`${where}: attribute "${reserved}" is reserved (the chunk's ${reserved === TEXT_METADATA_KEY ? 'text' : 'run'})`, 'attributes');
  const filterable = record.run === undefined ? record.filterable : { ...record.filterable, [RUN_METADATA_KEY]: record.run };
  const keys = Object.keys(filterable).length + 1;
  if (keys > S3_VECTORS_LIMITS.maxMetadataKeys) throw invalid(`${where} has ${keys} metadata keys, more than S3 Vectors' ${S3_VECTORS_LIMITS.maxMetadataKeys}`, 'attributes');
  const filterableBytes = utf8Bytes(filterable);
  if (filterableBytes > S3_VECTORS_LIMITS.maxFilterableBytes) throw invalid(`${where} has ${filterableBytes} bytes of filterable metadata, more than S3 Vectors' ${S3_VECTORS_LIMITS.maxFilterableBytes}`, 'attributes');
  const metadata = { ...filterable, [TEXT_METADATA_KEY]: record.text };
  const metadataBytes = utf8Bytes(metadata);
  if (metadataBytes > S3_VECTORS_LIMITS.maxMetadataBytes) throw invalid(`${where} has ${metadataBytes} bytes of metadata (attributes and chunk text), more than S3 Vectors' ${S3_VECTORS_LIMITS.maxMetadataBytes}`, 'chunking_strategy');
  return { key: record.key, data: { float32: float32s(record.data, where) }, metadata };
}

/** Consecutive runs of at most 500 vectors whose JSON stays under PutVectors' 20 MiB payload (less 64 KiB for the envelope). */
function* batches(vectors: PutInputVector[]): Generator<PutInputVector[]> {
  const budget = S3_VECTORS_LIMITS.maxPutPayloadBytes - 64 * 1024;
  let batch: PutInputVector[] = [];
  let bytes = 0;
  for (const v of vectors) {
    const size = utf8Bytes(v) + 1;
    if (batch.length && (batch.length === S3_VECTORS_LIMITS.batchSize || bytes + size > budget)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(v);
    bytes += size;
  }
  if (batch.length) yield batch;
}

/**
 * S3 Vectors' error as the gateway answers it (OpenAI's error shape): NotFoundException 404 (`not_found`: the store's
 * index or the tenant's bucket is missing), ValidationException 400, ServiceQuotaExceededException 429
 * `insufficient_quota` (an index or vector quota of the bucket: retrying does not help), TooManyRequestsException /
 * ThrottlingException 429 `rate_limit_exceeded`, ServiceUnavailableException / InternalServerException /
 * RequestTimeoutException 503. Anything else (AccessDenied, KMS errors: a deployment fault) is returned as it was (a 500).
 */
export function s3VectorsError(e: unknown, at: { indexName: string }): unknown {
  const name = (e as Error)?.name;
  const message = (e as Error)?.message ?? '';
  switch (name) {
    case 'NotFoundException':
      return new GatewayError(404, `vector index ${at.indexName} not found: ${message}`, 'invalid_request_error', 'not_found');
    case 'ValidationException':
      return new GatewayError(400, `S3 Vectors refused the request on vector index ${at.indexName}: ${message}`, 'invalid_request_error', 'invalid_request');
    case 'ServiceQuotaExceededException':
      return new GatewayError(429, `a vector storage quota is reached (vector index ${at.indexName}): ${message}`, 'insufficient_quota', 'insufficient_quota');
    case 'TooManyRequestsException':
    case 'ThrottlingException':
      return new GatewayError(429, `vector storage is throttling requests (vector index ${at.indexName}); retry shortly`, 'rate_limit_error', 'rate_limit_exceeded', null, { 'retry-after': '1' });
    case 'ServiceUnavailableException':
    case 'InternalServerException':
    case 'RequestTimeoutException':
      return new GatewayError(503, `vector storage is unavailable (vector index ${at.indexName}); retry shortly`, 'server_error', 'service_unavailable');
    default:
      return e;
  }
}
