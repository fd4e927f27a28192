import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, ListObjectVersionsCommand,
  ListPartsCommand, paginateListObjectsV2, PutObjectCommand, S3Client, UploadPartCommand, type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { pages, pagesOf } from '../../lib/aws-pages.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { ExportIncompleteError, RETRYABLE_ERRORS } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantBreakGlassCredentials } from '../shared/sessions.js';
import {
  compareExport, DATA_AREAS, describeMismatch, entriesOf, manifestLineOf, manifestPartKey, MULTIPART_THRESHOLD, partCount, partRange, partSizeFor,
  type ManifestLine, type SourceEntry,
} from './export-manifest.js';
import { recordRetiredFineTuning } from './retired-fine-tuning.js';
import { unrecordedStackOutputs } from './stack-standing.js';
import type { LifecycleState } from './state.js';

export { MULTIPART_THRESHOLD, PART_SIZE } from './export-manifest.js';

/** Entries (versions and delete markers) per ListObjectVersions page; one page per invocation. */
export const PAGE_SIZE = 500;
/** Small objects copied at once within a page, and the most bytes such a run holds in memory. */
const COPY_CONCURRENCY = 8;
const RUN_BYTES = 32 * 1024 * 1024;
/**
 * Time kept in hand before another object or part is started: enough for one 8 MiB part (read
 * and upload), the manifest part and the return, well inside the function's 10 minutes.
 */
export const TIME_RESERVE_MS = 60_000;
/** Time the verification pass wants; with less left, it runs in the next invocation. */
export const VERIFY_RESERVE_MS = 5 * 60_000;

/** A multipart copy that an invocation stopped between parts; the next one continues it. */
export interface UploadProgress {
  uploadId: string;
  /** The source version. */
  key: string;
  versionId: string;
  isLatest: boolean;
  size: number;
  etag: string | null;
  lastModified: string | null;
  archiveKey: string;
  partSize: number;
  /** The first part not yet uploaded; part ETags come back from ListParts at completion. */
  nextPart: number;
}

export interface ExportProgress {
  /** `<tenant>/<UTC time of the export's start>/`: the export's own prefix in the archive. */
  prefix: string;
  /** Object versions archived (current and noncurrent) and their bytes; delete markers recorded. */
  versions: number;
  currentObjects: number;
  noncurrentVersions: number;
  deleteMarkers: number;
  bytes: number;
  /** Manifest parts written (`<prefix>manifest/part-00000.jsonl` …). */
  manifestParts: number;
  /** The ListObjectVersions page being archived: where it starts, and how many of its entries are done. */
  page?: { keyMarker?: string; versionIdMarker?: string; handled: number };
  /** Every version is archived; the verification pass is what is left. */
  listed?: boolean;
  /** A large object copied in parts, stopped between parts. */
  upload?: UploadProgress;
  done: boolean;
}

/** `fineTuning`: what *Retire fine-tuned models* reported (recorded by this step: retired-fine-tuning.ts). */
type ExportState = LifecycleState & { export?: Partial<ExportProgress>; fineTuning?: unknown };

/** Key-safe UTC time: 2026-11-23T142507Z. */
const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '');

/**
 * Copies every version of the tenant bucket into the admin archive (Object Lock, platform key),
 * verifies the copy against a manifest, and only then answers `done`. The state machine calls it
 * in a loop (`Export done?`), passing back the progress it returned; the progress stays a few KB
 * (markers, counters, at most one in-flight upload) whatever the bucket's size.
 *
 * - **Every version.** ListObjectVersions, one page per invocation, resumed by KeyMarker and
 *   VersionIdMarker and by the count of entries of the page already done. The current version
 *   of a key goes to `<prefix>s3/<key>` (browseable as the bucket was), each noncurrent version
 *   to `<prefix>noncurrent/<versionId>/<key>`; a delete marker has no content and is recorded in
 *   the manifest only. Reads are GetObject with VersionId, through the tenant's break-glass role
 *   (SourceIdentity tessera-offboarding-<tenant>), the only non-tenant principal the bucket
 *   admits; writes are the platform role's.
 * - **Large objects in parts.** Above MULTIPART_THRESHOLD (16 MiB) an object is copied by a
 *   multipart upload into the archive fed by ranged GetObject calls (`Range` with VersionId and
 *   If-Match), so memory is bounded by one part (PART_SIZE, 8 MiB; more for objects above 80 GB,
 *   which would otherwise exceed S3's 10,000 parts: about 100 MiB for a 1 TB object, which the
 *   function's 256 MB still holds; S3's largest, 5 TiB, would need 525 MiB parts and more memory).
 *   Smaller objects are copied whole, up to 8 (and 32 MiB) at a time. Not UploadPartCopy: that call needs one
 *   principal that may both read the tenant bucket and write the archive, and no such principal
 *   exists by design: the tenant bucket's policy admits only the tenant's roles and its
 *   break-glass role, and the archive is written only by the platform account. The bytes pass
 *   through this function, a part at a time, between two sessions that each hold half the access.
 *   When the invocation nears its time limit (Lambda context's getRemainingTimeInMillis), it stops
 *   between parts and returns the upload (`uploadId`, `nextPart`…) in the progress; the next
 *   invocation continues it and recovers the part ETags with ListParts at completion. An upload
 *   that cannot be continued is aborted (see `copyInParts`).
 * - **Manifest.** Each invocation writes the lines of what it archived as one JSON Lines part,
 *   `<prefix>manifest/part-<nnnnn>.jsonl`: `{ key, versionId, isLatest, deleteMarker, size, etag,
 *   lastModified, archiveKey }` per version or delete marker.
 * - **Verification before done.** Once the listing is exhausted, the source is listed again
 *   (ListObjectVersions) and compared with the manifest parts (versions, delete markers, bytes,
 *   each version's size, ETag and whether it is current), and the archive is listed under the prefix (ListObjectsV2) and
 *   compared with the manifest (number of objects, each one's size). Any difference throws
 *   ExportIncomplete, naming the counts and the first differing keys: the workflow's Catch stops
 *   the offboarding before the snapshot and the stack deletion. Only a verified export gets its
 *   `<prefix>manifest.json` and `done: true`. The pass runs in one invocation (given
 *   VERIFY_RESERVE_MS, else in the next) and holds the manifest in memory: fine for buckets of up
 *   to a few million versions; beyond that it would have to be split across invocations too.
 *
 * The prefix carries the export's start time to the second, so that an offboarding run again
 * after a failed export writes beside the failed one's immutable objects rather than over them.
 * A verified export is recorded in the registry (`offboarding.export`); an offboarding resumed
 * after a later step failed verifies it again against the bucket and answers it as done when it
 * still matches, else exports the bucket again under a new prefix.
 */
export const handler = lifecycleHandler('Export tenant data', async (state: ExportState, context?: Context): Promise<ExportProgress> => {
  // What *Retire fine-tuned models* reported, recorded first (retired-fine-tuning.ts).
  const retired = await recordRetiredFineTuning(await requireTenant(state.request.tenantId), state.fineTuning, { requestId: state.request.requestId, executionArn: state.executionArn });
  // A tenant stack whose outputs the onboarding never recorded (it ended between CreateStack and Check blueprint): they
  // are recorded first, for this step and the ones after it (snapshot, inventory, key deletion) — stack-standing.ts.
  const found = await unrecordedStackOutputs(retired, 'export');
  if (found) logger.info('tenant stack outputs recorded before the export: the onboarding ended before recording them', { tenantId: retired.tenantId, stack: found.stackName });
  const record = found ? await updateTenant(retired.tenantId, found) : retired;
  const bucket = record.stackOutputs.BucketName;
  const archive = requireEnv(ENV.archiveBucket);
  // An offboarding resumed after a later step failed: the bucket was exported and verified already. The tenant's
  // workloads run until its stacks are deleted and may have written since: the recorded export is verified again
  // against the bucket as it is now, and only a match answers done; a bucket that changed is exported again under
  // a new prefix (the earlier export stays, immutable, beside it).
  const exported = record.offboarding?.export;
  if (exported && !state.export?.prefix) {
    if (!bucket) return { ...exported, listed: true, done: true };
    // The break-glass role goes with the tenant stack, and the workloads with it: refused, the stacks are gone
    // (a run resumed after Delete tenant stacks) and nothing can have been written since.
    const source = await tenantBreakGlassCredentials(record.accountId!, record.tenantId).catch((e: Error) => {
      if (e.name === 'AccessDenied' || e.name === 'AccessDeniedException') return undefined;
      throw e;
    });
    if (!source) return { ...exported, listed: true, done: true };
    try {
      const again: Io = { source: clientWith(S3Client, source), target: platformClient(S3Client), bucket, archive, prefix: exported.prefix };
      await verify(again, Array.from({ length: exported.manifestParts ?? 0 }, (_, i) => manifestPartKey(exported.prefix, i)));
      return { ...exported, listed: true, done: true };
    } catch (e) {
      if (!(e instanceof ExportIncompleteError)) throw e;
      logger.warn('the bucket changed since its verified export: exported again under a new prefix', { tenantId: record.tenantId, earlier: exported.prefix, difference: (e as Error).message.slice(0, 500) });
    }
  }
  // A progress without manifestParts is from the previous export (current versions only) of an
  // execution that ran across a deployment: start over under its prefix, whose copies it rewrites.
  const progress: ExportProgress = state.export?.prefix && typeof state.export.manifestParts === 'number'
    ? structuredClone(state.export as ExportProgress)
    : { prefix: state.export?.prefix ?? `${record.tenantId}/${stamp(new Date())}/`, versions: 0, currentObjects: 0, noncurrentVersions: 0, deleteMarkers: 0, bytes: 0, manifestParts: 0, done: false };
  if (!bucket) return { ...progress, done: true };

  const remaining = () => (typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Number.POSITIVE_INFINITY);
  const io: Io = {
    source: clientWith(S3Client, await tenantBreakGlassCredentials(record.accountId!, record.tenantId)),
    target: platformClient(S3Client),
    bucket, archive, prefix: progress.prefix,
  };

  if (!progress.listed) {
    const stopped = await archivePage(io, progress, remaining);
    if (stopped || !progress.listed || remaining() < VERIFY_RESERVE_MS) return progress;
  }

  const parts = Array.from({ length: progress.manifestParts }, (_, i) => manifestPartKey(progress.prefix, i));
  await verify(io, parts);
  const manifest = {
    tenantId: record.tenantId, tier: record.tier, accountId: record.accountId, bucket,
    versions: progress.versions, currentObjects: progress.currentObjects, noncurrentVersions: progress.noncurrentVersions,
    deleteMarkers: progress.deleteMarkers, bytes: progress.bytes, parts, verifiedAt: new Date().toISOString(),
  };
  await io.target.send(new PutObjectCommand({ Bucket: archive, Key: `${progress.prefix}manifest.json`, Body: JSON.stringify(manifest, null, 2), ContentType: 'application/json' }));
  const { page: _page, upload: _upload, listed: _listed, done: _done, ...summary } = progress;
  await updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, export: { ...summary, verifiedAt: manifest.verifiedAt } } });
  return { ...summary, listed: true, done: true };
});

interface Io {
  source: S3Client;
  target: S3Client;
  bucket: string;
  archive: string;
  prefix: string;
}

/**
 * Archives what is left of the current page (the upload in flight first), then writes the
 * manifest part of what it archived. Updates `progress` in place. Returns true when it stopped for
 * time before the page was done. Each invocation archives at least one object or part, however
 * little time it is given, so the loop always moves on.
 */
async function archivePage(io: Io, progress: ExportProgress, remaining: () => number): Promise<boolean> {
  const lines: ManifestLine[] = [];
  const page = progress.page ?? { handled: 0 };
  const enoughTime = () => remaining() >= TIME_RESERVE_MS;
  let worked = false;
  const record = (entry: SourceEntry) => {
    lines.push(manifestLineOf(io.prefix, entry));
    page.handled += 1;
    if (entry.deleteMarker) progress.deleteMarkers += 1;
    else {
      progress.versions += 1;
      progress.bytes += entry.size;
      if (entry.isLatest) progress.currentObjects += 1;
      else progress.noncurrentVersions += 1;
    }
  };
  let stopped = false;

  if (progress.upload) {
    const u = progress.upload;
    const paused = await copyInParts(io, u, true, enoughTime);
    worked = true;
    if (paused) {
      progress.upload = paused;
      return true;
    }
    delete progress.upload;
    record({ key: u.key, versionId: u.versionId, isLatest: u.isLatest, deleteMarker: false, size: u.size, etag: u.etag, lastModified: u.lastModified });
  }

  const listing = await io.source.send(new ListObjectVersionsCommand({
    Bucket: io.bucket, MaxKeys: PAGE_SIZE, KeyMarker: page.keyMarker, VersionIdMarker: page.versionIdMarker,
  }));
  const entries = entriesOf(listing);
  while (page.handled < entries.length) {
    if (worked && !enoughTime()) {
      stopped = true;
      break;
    }
    const entry = entries[page.handled];
    if (entry.deleteMarker) {
      record(entry);
      continue;
    }
    if (entry.size > MULTIPART_THRESHOLD) {
      const paused = await copyInParts(io, newUpload(io.prefix, entry), false, enoughTime);
      worked = true;
      if (paused) {
        progress.upload = paused;
        stopped = true;
        break;
      }
      record(entry);
      continue;
    }
    // A run of small objects, copied at once (up to RUN_BYTES in memory); a delete marker or a
    // large object ends the run.
    const run: SourceEntry[] = [];
    let runBytes = 0;
    for (let i = page.handled; i < entries.length && run.length < COPY_CONCURRENCY; i++) {
      if (entries[i].deleteMarker || entries[i].size > MULTIPART_THRESHOLD) break;
      if (run.length > 0 && runBytes + entries[i].size > RUN_BYTES) break;
      run.push(entries[i]);
      runBytes += entries[i].size;
    }
    await Promise.all(run.map((e) => copyWhole(io, e)));
    run.forEach(record);
    worked = true;
  }

  if (!stopped && listing.IsTruncated) progress.page = { keyMarker: listing.NextKeyMarker, versionIdMarker: listing.NextVersionIdMarker, handled: 0 };
  else if (!stopped) {
    delete progress.page;
    progress.listed = true;
  } else progress.page = page;

  if (lines.length > 0) {
    await io.target.send(new PutObjectCommand({
      Bucket: io.archive, Key: manifestPartKey(io.prefix, progress.manifestParts), ContentType: 'application/x-ndjson',
      Body: `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
    }));
    progress.manifestParts += 1;
  }
  return stopped;
}

function newUpload(prefix: string, entry: SourceEntry): UploadProgress {
  return {
    uploadId: '', key: entry.key, versionId: entry.versionId, isLatest: entry.isLatest, size: entry.size, etag: entry.etag,
    lastModified: entry.lastModified, archiveKey: manifestLineOf(prefix, entry).archiveKey!, partSize: partSizeFor(entry.size), nextPart: 1,
  };
}

/** A version up to MULTIPART_THRESHOLD: one GetObject (VersionId), one PutObject. */
async function copyWhole(io: Io, entry: SourceEntry): Promise<void> {
  const got = await io.source.send(new GetObjectCommand({ Bucket: io.bucket, Key: entry.key, VersionId: entry.versionId }));
  const data = await got.Body!.transformToByteArray();
  if (data.byteLength !== entry.size) {
    throw new ExportIncompleteError(`s3://${io.bucket}/${entry.key}@${entry.versionId} was listed with ${entry.size} bytes and read with ${data.byteLength}`);
  }
  await io.target.send(new PutObjectCommand({
    Bucket: io.archive, Key: manifestLineOf(io.prefix, entry).archiveKey!, Body: data, ContentType: got.ContentType, Metadata: got.Metadata,
  }));
}

/** One part of the source version, read by range (If-Match: the version must not change under us). */
async function readPart(io: Io, upload: UploadProgress, n: number): Promise<{ data: Uint8Array; contentType?: string; metadata?: Record<string, string> }> {
  const { start, end, range } = partRange(n, upload.partSize, upload.size);
  const got = await io.source.send(new GetObjectCommand({
    Bucket: io.bucket, Key: upload.key, VersionId: upload.versionId, Range: range, IfMatch: upload.etag ? `"${upload.etag}"` : undefined,
  }));
  const data = await got.Body!.transformToByteArray();
  if (data.byteLength !== end - start + 1) {
    throw new ExportIncompleteError(`s3://${io.bucket}/${upload.key}@${upload.versionId}: ${range} returned ${data.byteLength} bytes`);
  }
  return { data, contentType: got.ContentType, metadata: got.Metadata };
}

/**
 * Copies a large version by a multipart upload into the archive, from `upload.nextPart` on.
 * Returns the upload to carry over when `enoughTime` says to stop between parts (never before the
 * first part of this invocation), or undefined once the object is complete (ETags recovered with
 * ListParts, every part's size checked).
 *
 * On failure: a continued upload that S3 no longer has (NoSuchUpload: aborted, or expired) starts
 * over; a throttling error on an upload the incoming progress already names is left for the
 * state machine's retry to continue; any other failure aborts the upload (no retry could know an
 * upload begun in this invocation, and a failed one would otherwise keep its parts).
 */
async function copyInParts(io: Io, start: UploadProgress, carried: boolean, enoughTime: () => boolean): Promise<UploadProgress | undefined> {
  const upload = { ...start };
  try {
    return await uploadParts(io, upload, enoughTime);
  } catch (e) {
    const name = (e as Error).name;
    if (carried && name === 'NoSuchUpload') {
      logger.warn('multipart upload gone; copying the object again', { key: upload.key, versionId: upload.versionId, uploadId: upload.uploadId });
      return copyInParts(io, { ...upload, uploadId: '', nextPart: 1 }, false, enoughTime);
    }
    if (carried && upload.uploadId === start.uploadId && (RETRYABLE_ERRORS as readonly string[]).includes(name)) throw e;
    if (upload.uploadId) {
      try {
        await io.target.send(new AbortMultipartUploadCommand({ Bucket: io.archive, Key: upload.archiveKey, UploadId: upload.uploadId }));
      } catch (abortError) {
        logger.error('could not abort the multipart upload', { uploadId: upload.uploadId, error: abortError as Error });
      }
    }
    if (name === 'PreconditionFailed') {
      throw new ExportIncompleteError(`s3://${io.bucket}/${upload.key}@${upload.versionId} changed while it was being archived (ETag no longer ${upload.etag})`);
    }
    throw e;
  }
}

async function uploadParts(io: Io, upload: UploadProgress, enoughTime: () => boolean): Promise<UploadProgress | undefined> {
  const total = partCount(upload.size, upload.partSize);
  let uploaded = 0;
  while (upload.nextPart <= total) {
    if (uploaded > 0 && !enoughTime()) return upload;
    const n = upload.nextPart;
    const part = await readPart(io, upload, n);
    if (!upload.uploadId) {
      // Created once the first part is in hand, with the source's content type and metadata.
      const created = await io.target.send(new CreateMultipartUploadCommand({
        Bucket: io.archive, Key: upload.archiveKey, ContentType: part.contentType, Metadata: part.metadata, ChecksumAlgorithm: 'CRC32',
      }));
      upload.uploadId = created.UploadId!;
    }
    // A checksum on every part: the archive has Object Lock, which requires one.
    await io.target.send(new UploadPartCommand({
      Bucket: io.archive, Key: upload.archiveKey, UploadId: upload.uploadId, PartNumber: n, Body: part.data, ChecksumAlgorithm: 'CRC32',
    }));
    upload.nextPart = n + 1;
    uploaded += 1;
  }
  const parts = await listParts(io, upload);
  const missing: string[] = [];
  for (let n = 1; n <= total; n++) {
    const { start, end } = partRange(n, upload.partSize, upload.size);
    const p = parts.get(n);
    if (!p || p.Size !== end - start + 1) missing.push(`${n} (${p ? `${p.Size} bytes` : 'missing'})`);
  }
  if (missing.length > 0) {
    throw new ExportIncompleteError(`multipart copy of s3://${io.bucket}/${upload.key}@${upload.versionId}: parts ${missing.slice(0, 5).join(', ')} do not match the source`);
  }
  await io.target.send(new CompleteMultipartUploadCommand({
    Bucket: io.archive, Key: upload.archiveKey, UploadId: upload.uploadId,
    MultipartUpload: {
      Parts: [...parts.values()].sort((a, b) => a.PartNumber! - b.PartNumber!)
        .map((p): CompletedPart => ({ PartNumber: p.PartNumber, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32 })),
    },
  }));
  return undefined;
}

async function listParts(io: Io, upload: UploadProgress) {
  const parts = new Map<number, { PartNumber?: number; ETag?: string; Size?: number; ChecksumCRC32?: string }>();
  // Not paginateListParts: it goes on while NextPartNumberMarker is present, and S3 answers one on
  // the last page too (IsTruncated false; moto then 0 on the empty page after it: last, 0, last...
  // a cycle stopOnSameToken does not see). IsTruncated ends the listing, as the API reference says.
  const listing = pagesOf(
    (marker: string | undefined) => io.target.send(new ListPartsCommand({ Bucket: io.archive, Key: upload.archiveKey, UploadId: upload.uploadId, PartNumberMarker: marker })),
    (page) => (page.IsTruncated ? page.NextPartNumberMarker : undefined),
  );
  for await (const page of listing) {
    for (const p of page.Parts ?? []) parts.set(p.PartNumber!, p);
  }
  return parts;
}

/** Lists every version and delete marker of the source bucket again. */
async function listSource(io: Io): Promise<SourceEntry[]> {
  const entries: SourceEntry[] = [];
  // S3 publishes no paginator for ListObjectVersions (two markers): pagesOf, which stops on a repeated pair.
  const listing = pagesOf(
    (at: { keyMarker?: string; versionIdMarker?: string } | undefined) => io.source.send(new ListObjectVersionsCommand({ Bucket: io.bucket, KeyMarker: at?.keyMarker, VersionIdMarker: at?.versionIdMarker })),
    (page) => (page.IsTruncated ? { keyMarker: page.NextKeyMarker, versionIdMarker: page.NextVersionIdMarker } : undefined),
  );
  for await (const page of listing) entries.push(...entriesOf(page));
  return entries;
}

async function readManifest(io: Io, parts: string[]): Promise<ManifestLine[]> {
  const lines: ManifestLine[] = [];
  for (const key of parts) {
    const got = await io.target.send(new GetObjectCommand({ Bucket: io.archive, Key: key }));
    const text = await got.Body!.transformToString();
    for (const line of text.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as ManifestLine);
  }
  return lines;
}

/** The copies under the export prefix (its data areas: not the manifest, nor records other steps add). */
async function listArchive(io: Io): Promise<Array<{ key: string; size: number }>> {
  const objects: Array<{ key: string; size: number }> = [];
  for await (const page of paginateListObjectsV2(pages(io.target), { Bucket: io.archive, Prefix: io.prefix })) {
    for (const o of page.Contents ?? []) {
      const rest = o.Key!.slice(io.prefix.length);
      if (DATA_AREAS.some((area) => rest.startsWith(area))) objects.push({ key: o.Key!, size: o.Size ?? 0 });
    }
  }
  return objects;
}

/** Source, manifest and archive must agree; otherwise ExportIncomplete (nothing is destroyed after it). */
async function verify(io: Io, parts: string[]): Promise<void> {
  const [source, manifest, archived] = await Promise.all([listSource(io), readManifest(io, parts), listArchive(io)]);
  const comparison = compareExport(source, manifest, archived);
  if (comparison.differences.length > 0) {
    throw new ExportIncompleteError(describeMismatch(io.bucket, `s3://${io.archive}/${io.prefix}`, comparison));
  }
  logger.info('export verified', { source: comparison.source, archive: comparison.archive });
}
