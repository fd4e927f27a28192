import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, UploadPartCommand, UploadPartCopyCommand,
  type CreateMultipartUploadCommandInput, type S3Client,
} from '@aws-sdk/client-s3';

/** The smallest S3 part but the last: 5 MiB (S3 User Guide, "Amazon S3 multipart upload limits"; CompleteMultipartUpload answers EntityTooSmall otherwise). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** The most parts of one S3 multipart upload: 10,000 (same limits). */
export const S3_MAX_PARTS = 10_000;
/** The largest S3 part: 5 GiB (same limits). */
export const S3_MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** How many UploadPartCopy requests of one compose run at once (each is S3's work; the caller only waits). */
const COPIES_IN_FLIGHT = 4;
/** How many UploadPart requests of one compose run at once: each holds its S3_MIN_PART_BYTES until sent. */
const UPLOADS_IN_FLIGHT = 2;

/** Bytes `first` to `last` (inclusive) of source object `source` (an index into the sources). */
export interface SourceRange {
  source: number;
  first: number;
  last: number;
}

/**
 * One part of the composed object: `copy`, a range of one source copied inside S3 (UploadPartCopy, the bytes never
 * pass through the caller); `upload`, ranges of one or more sources gathered by the caller (the bytes it reads anyway
 * to check them) and sent with UploadPart.
 */
export type ComposedPart = { kind: 'copy'; range: SourceRange } | { kind: 'upload'; ranges: SourceRange[]; bytes: number };

/**
 * The S3 parts that make one object of `sizes` (the sources' sizes in bytes, in order), every part but the last at
 * least S3_MIN_PART_BYTES. A source of S3_MIN_PART_BYTES or more is copied inside S3 (UploadPartCopy); smaller sources
 * (an upload's parts on the deployed path are at most 4 MiB: a Lambda invocation takes 6 MB) are gathered into
 * uploaded parts of exactly S3_MIN_PART_BYTES, topped up from the head of the next source when that one is large, the
 * rest of which is still copied (CopySourceRange); a small last source with nothing gathered before it is copied (the
 * last part may be of any size). So the caller holds at most S3_MIN_PART_BYTES of the file at a time,
 * whatever the sizes.
 * @throws Error when a size is not a positive integer, a part would pass S3_MAX_PART_BYTES or the parts S3_MAX_PARTS
 */
export function planParts(sizes: readonly number[]): ComposedPart[] {
  const parts: ComposedPart[] = [];
  let gathering: SourceRange[] = [];
  let gathered = 0;
  sizes.forEach((size, source) => {
    if (!Number.isSafeInteger(size) || size < 1) throw new Error(`source ${source} has ${size} bytes: a source holds at least one byte`);
    let first = 0;
    if (gathered > 0 || (size < S3_MIN_PART_BYTES && source < sizes.length - 1)) {
      const take = Math.min(size, S3_MIN_PART_BYTES - gathered);
      gathering.push({ source, first: 0, last: take - 1 });
      gathered += take;
      first = take;
      if (gathered === S3_MIN_PART_BYTES) {
        parts.push({ kind: 'upload', ranges: gathering, bytes: gathered });
        gathering = [];
        gathered = 0;
      }
    }
    const rest = size - first;
    if (rest === 0) return;
    if (rest >= S3_MIN_PART_BYTES || source === sizes.length - 1) {
      for (let at = first; at < size; at += S3_MAX_PART_BYTES) parts.push({ kind: 'copy', range: { source, first: at, last: Math.min(size, at + S3_MAX_PART_BYTES) - 1 } });
    } else {
      gathering.push({ source, first, last: size - 1 });
      gathered += rest;
    }
  });
  if (gathered > 0) parts.push({ kind: 'upload', ranges: gathering, bytes: gathered });
  if (parts.length > S3_MAX_PARTS) throw new Error(`${parts.length} parts: over S3's ${S3_MAX_PARTS} parts of a multipart upload`);
  return parts;
}

/** What a compose checks the bytes with, as they are read in order (uploads-service.ts: the purpose's check and the md5). */
export interface ContentCheck {
  /** Checks the next bytes. @throws to refuse the content (nothing is written) */
  push(bytes: Uint8Array): void;
  /** Called once every byte was pushed, before the object is completed. @throws to refuse the content */
  end(): void;
}

/** The object a compose writes, and what every request of it names. */
export interface ComposeTarget {
  bucket: string;
  key: string;
  /**
   * CreateMultipartUpload's other fields: ContentType, the encryption (ServerSideEncryption `aws:kms` and the key:
   * an object's encryption is set here, never by its parts or copies), ExpectedBucketOwner.
   */
  create: Omit<CreateMultipartUploadCommandInput, 'Bucket' | 'Key'>;
  /** The bucket's owner, sent on every request. @default - none */
  expectedBucketOwner?: string;
}

/**
 * Writes the objects `sources` (keys in `target.bucket`, with their sizes), one after the other, as the one object
 * `target`, with an S3 multipart upload (planParts: large sources copied inside S3, small ones gathered), while every
 * byte is read once, in order, through `check` (streamed from GetObject, a chunk at a time; the next source's read is
 * begun while this one is checked). Nothing is visible at `target.key` until every byte was checked and `check.end()`
 * passed: CompleteMultipartUpload comes last, and on any error (a refusal of `check`, an S3 error) the multipart upload
 * is aborted (AbortMultipartUpload; the bucket's abort-incomplete-multipart-uploads rule is the fallback when the abort
 * fails too) and the error goes on.
 * @returns the object's size in bytes
 * @throws Error when a source's size is not what `sources` says (changed since it was listed)
 */
export async function composeObject(s3: S3Client, target: ComposeTarget, sources: ReadonlyArray<{ key: string; bytes: number }>, check: ContentCheck): Promise<number> {
  const plan = planParts(sources.map((s) => s.bytes));
  const owner = target.expectedBucketOwner ? { ExpectedBucketOwner: target.expectedBucketOwner } : {};
  const where = { Bucket: target.bucket, Key: target.key, ...owner };
  const uploadId = (await s3.send(new CreateMultipartUploadCommand({ ...target.create, ...where }))).UploadId!;
  const etags: Array<{ PartNumber: number; ETag: string }> = plan.map((_, i) => ({ PartNumber: i + 1, ETag: '' }));
  const running = new Set<Promise<void>>();
  let failed: unknown;
  /** Sends a gathered part, once fewer than UPLOADS_IN_FLIGHT are in flight (its bytes are held until sent). */
  const upload = async (i: number, body: Buffer) => {
    while (running.size >= UPLOADS_IN_FLIGHT) await Promise.race(running);
    const p: Promise<void> = s3.send(new UploadPartCommand({ ...where, UploadId: uploadId, PartNumber: i + 1, Body: body }))
      .then((a) => { etags[i]!.ETag = a.ETag!; }, (e: unknown) => { failed ??= e; }).finally(() => running.delete(p));
    running.add(p);
  };
  const copySource = (key: string) => `${target.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  let next: Promise<{ Body?: unknown }> | undefined;
  let copying: Promise<void> = Promise.resolve();
  try {
    // The copies, COPIES_IN_FLIGHT at a time: S3 does them while the bytes are read and checked.
    const copies = plan.flatMap((part, i) => (part.kind === 'copy' ? [{ range: part.range, i }] : []));
    let taken = 0;
    copying = Promise.all(Array.from({ length: Math.min(COPIES_IN_FLIGHT, copies.length) }, async () => {
      while (taken < copies.length && failed === undefined) {
        const { range: { source, first, last }, i } = copies[taken++]!;
        const whole = first === 0 && last === sources[source]!.bytes - 1;
        const answer = await s3.send(new UploadPartCopyCommand({
          ...where, UploadId: uploadId, PartNumber: i + 1, CopySource: copySource(sources[source]!.key), ...(whole ? {} : { CopySourceRange: `bytes=${first}-${last}` }),
          ...(target.expectedBucketOwner ? { ExpectedSourceBucketOwner: target.expectedBucketOwner } : {}),
        }));
        etags[i]!.ETag = answer.CopyPartResult!.ETag!;
      }
    })).then(() => undefined, (e: unknown) => { failed ??= e; });
    // The gathered parts, from the bytes as they are read: each source's ranges, and whether a range ends its part.
    const gatheredOf = sources.map(() => [] as Array<SourceRange & { part: number; closes: boolean }>);
    for (const [i, part] of plan.entries()) {
      if (part.kind === 'upload') part.ranges.forEach((r, j) => gatheredOf[r.source]!.push({ ...r, part: i, closes: j === part.ranges.length - 1 }));
    }
    const read = (source: number) => s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: sources[source]!.key, ...owner }));
    next = sources.length ? read(0) : undefined;
    let gathered: Uint8Array[] = [];
    let total = 0;
    for (let source = 0; source < sources.length; source++) {
      const answer = await next!;
      next = source + 1 < sources.length ? read(source + 1) : undefined;
      let offset = 0;
      for await (const chunk of answer.Body as Readable as AsyncIterable<Uint8Array>) {
        check.push(chunk);
        const end = offset + chunk.byteLength;
        for (const r of gatheredOf[source]!) {
          if (r.first >= end || r.last < offset) continue;
          gathered.push(chunk.subarray(Math.max(r.first, offset) - offset, Math.min(r.last + 1, end) - offset));
          if (r.closes && r.last < end) {
            const body = Buffer.concat(gathered);
            gathered = [];
            await upload(r.part, body);
          }
        }
        offset = end;
        if (failed) throw failed;
      }
      if (offset !== sources[source]!.bytes) throw new Error(`${sources[source]!.key} holds ${offset} bytes, not the ${sources[source]!.bytes} listed: it changed during the compose`);
      total += offset;
    }
    check.end();
    await Promise.all([...running, copying]);
    if (failed) throw failed;
    await s3.send(new CompleteMultipartUploadCommand({ ...where, UploadId: uploadId, MultipartUpload: { Parts: etags } }));
    return total;
  } catch (e) {
    // The next source's read, begun ahead: its stream closed, its error dropped for the one that goes on.
    await next?.then((a) => (a.Body as Readable | undefined)?.destroy?.(), () => undefined);
    failed ??= e; // no further copy begins
    await Promise.allSettled([...running, copying]);
    await s3.send(new AbortMultipartUploadCommand({ ...where, UploadId: uploadId })).catch(() => undefined);
    throw e;
  }
}
