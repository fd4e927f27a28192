import type { ComparisonFilter, CompoundFilter } from 'openai/resources/shared';

/**
 * Where a tenant's vector stores keep their chunk embeddings, and how they are searched
 * (OpenAI's Vector Stores API, `/v1/vector_stores/{id}/search`). One index per vector store.
 *
 * Implementations:
 * - the gateway's local index for `tessera serve` (exact cosine ranking over the vectors kept on disk);
 * - Amazon S3 Vectors on AWS (the tenant's vector bucket, encrypted with the tenant's KMS key; one
 *   vector index per vector store).
 *
 * Limits follow S3 Vectors (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html)
 * so that what works on `tessera serve` works on AWS: dimension 1-4,096; ≤ 2 KB of filterable metadata
 * per vector; `topK` ≤ 100; ≤ 500 vectors per PutVectors/DeleteVectors call (implementations batch).
 * Every method acts on one tenant's indexes only: another tenant's store is not found.
 */
export interface VectorIndex {
  /**
   * Creates the index of vector store `storeId`: `dimension` float32 values per vector, cosine distance.
   * Idempotent: an index that exists with the same dimension is kept.
   * @throws Error when an index of that store exists with another dimension
   */
  createIndex(tenantId: string, storeId: string, dimension: number): Promise<void>;
  /** Removes the index and every vector in it. Idempotent: an absent index is not an error. */
  deleteIndex(tenantId: string, storeId: string): Promise<void>;
  /** Writes (or overwrites, by key) vectors; any number, batched by the implementation. */
  put(tenantId: string, storeId: string, records: VectorRecord[]): Promise<void>;
  /**
   * Sets the filterable metadata of the vectors `keys` to `filterable`, keeping each one's data, text and run: a vector
   * store file's `attributes` updated (OpenAI's "Update vector store file attributes" changes what filters match; the
   * file stays searchable, its chunks are not embedded again). A key with no vector is skipped, not written (a file
   * detached or attached again meanwhile: its vectors are gone). Any number, batched by the implementation.
   * @param filterable the file's new attributes (`{}` when cleared), as VectorRecord.filterable
   */
  setFilterable(tenantId: string, storeId: string, keys: string[], filterable: Record<string, VectorMetadataValue>): Promise<void>;
  /** Removes vectors by key; absent keys are not an error. Any number, batched by the implementation. */
  delete(tenantId: string, storeId: string, keys: string[]): Promise<void>;
  /**
   * The `topK` vectors nearest to `vector` that match `filter`, nearest first.
   * @param topK 1-100 (S3 Vectors QueryVectors' limit)
   * @param filter OpenAI's attribute filter over VectorRecord.filterable @default - no filter
   * @param exclude.runs VectorRecord.run values whose vectors are left out (at most MAX_EXCLUDED_RUNS); a vector written
   *   without a run is never left out @default - none
   */
  query(tenantId: string, storeId: string, vector: number[], topK: number, filter?: VectorFilter, exclude?: { runs: readonly string[] }): Promise<VectorMatch[]>;
}

/** A metadata value both OpenAI's file attributes and S3 Vectors metadata can hold. */
export type VectorMetadataValue = string | number | boolean;

/** One chunk of one vector store file. */
export interface VectorRecord {
  /** Unique in its index: `<file id>#<chunk index>` (S3 Vectors keys are 1-1,024 characters). */
  key: string;
  /** The chunk's embedding: `dimension` values, sent as float32. */
  data: number[];
  /**
   * What search filters read: the file's attributes, and nothing else (OpenAI's `filters`, of the search endpoint and
   * the file_search tool, are "a filter to apply based on file attributes": a filter's `key` names an attribute, so
   * `file_id` matches only an attribute of that name, never the file's own id). OpenAI: ≤ 16 keys, strings ≤ 512
   * characters. S3 Vectors: ≤ 2 KB of filterable metadata per vector.
   */
  filterable: Record<string, VectorMetadataValue>;
  /** The chunk's text (S3 Vectors: non-filterable metadata, ≤ 40 KB with the rest). */
  text: string;
  /**
   * The processing run that wrote it, `<file id>#<run>` (the key without its chunk number: processing.ts runTag), so that
   * a query can leave a run's vectors out (`exclude.runs`). S3 Vectors: filterable metadata RUN_METADATA_KEY beside the
   * attributes (its bytes count in their 2 KB). @default - none (vectors written before runs were kept: never left out)
   */
  run?: string;
}

/** The metadata key a vector's run (VectorRecord.run) is kept under; reserved: no attribute and no filter may name it. */
export const RUN_METADATA_KEY = '_run';
/** The non-filterable metadata key the chunk's text is kept under on S3 Vectors; reserved as RUN_METADATA_KEY. */
export const TEXT_METADATA_KEY = '_text';
/**
 * Runs one query leaves out at most: each a `$nin` value of up to ~45 bytes of JSON (S3 Vectors QueryVectors' filter
 * is a document of the request, whose payload is at most 20 MiB; 50 keep it near 2 KB, as a vector's filterable metadata).
 */
export const MAX_EXCLUDED_RUNS = 50;

/** A search hit: the record's key and metadata, and its cosine distance to the query (0 same direction, 2 opposite). */
export interface VectorMatch {
  key: string;
  distance: number;
  filterable: Record<string, VectorMetadataValue>;
  text: string;
}

/** OpenAI's search filter (`filters` of `/v1/vector_stores/{id}/search` and of the file_search tool). */
export type VectorFilter = ComparisonFilter | CompoundFilter;
