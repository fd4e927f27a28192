import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand,
  ListPartsCommand, PutObjectCommand, S3Client, UploadPartCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { CloudFormationClient, DescribeStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { sdkStreamMixin } from '@smithy/util-stream';
import type { Context } from 'aws-lambda';
import { mockStrict } from '../../support/strict-mock.js';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { archiveKeyOf, compareExport, entriesOf, partSizeFor, type ManifestLine } from '../../../lambdas/lifecycle/export-manifest.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { credentials, setLifecycleEnv, state, tenant } from './support.js';
import { records, registryMock } from './registry-mock.js';

// The registry's functions stubbed in memory; anything else it exports (its step context) kept.
vi.mock('../../../lambdas/shared/registry.js', async (importOriginal) => ({ ...(await importOriginal<object>()), ...registryMock }));

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const MiB = 1024 * 1024;
const BUCKET = 'tenant-bucket';
const ARCHIVE = 'tessera-archive';

/**
 * A small S3 of two buckets behind the mock: the tenant bucket (versions and delete markers, in
 * S3's listing order) and the archive (latest object per key, multipart uploads). ListObjectVersions
 * returns at most `pageLimit` entries, fewer than MaxKeys, as S3 may: the pages are what is tested.
 */
class FakeS3 {
  /** Each version's `etag` is its body's MD5, computed once when it is put (a body is never changed after): the listings and IfMatch read it. */
  source: Array<{ key: string; versionId: string; isLatest: boolean; deleteMarker: boolean; body: Buffer; etag: string; lastModified: Date }> = [];
  archive = new Map<string, { body: Buffer; contentType?: string }>();
  uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  pageLimit = 4;
  uploadCount = 0;
  private n = 0;

  /** A new version of `key` (the previous one becomes noncurrent), or a delete marker. */
  put(key: string, body: Buffer | string | null): string {
    const versionId = `v${String(++this.n).padStart(4, '0')}`;
    for (const e of this.source) if (e.key === key) e.isLatest = false;
    const at = this.source.findIndex((e) => e.key === key);
    const stored = Buffer.from(body ?? '');
    const entry = { key, versionId, isLatest: true, deleteMarker: body === null, body: stored, etag: etag(stored), lastModified: new Date(Date.UTC(2026, 10, 1, 0, 0, this.n)) };
    // newest first within a key, keys in byte order
    if (at >= 0) this.source.splice(at, 0, entry);
    else {
      this.source.push(entry);
      this.source.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    }
    return versionId;
  }

  listVersions(input: { KeyMarker?: string; VersionIdMarker?: string; MaxKeys?: number }) {
    let start = 0;
    if (input.KeyMarker !== undefined) {
      const at = input.VersionIdMarker
        ? this.source.findIndex((e) => e.key === input.KeyMarker && e.versionId === input.VersionIdMarker)
        : this.source.findLastIndex((e) => e.key === input.KeyMarker);
      start = at + 1;
    }
    const slice = this.source.slice(start, start + Math.min(input.MaxKeys ?? 1000, this.pageLimit));
    const truncated = start + slice.length < this.source.length;
    const last = slice.at(-1);
    return {
      Versions: slice.filter((e) => !e.deleteMarker).map((e) => ({ Key: e.key, VersionId: e.versionId, IsLatest: e.isLatest, Size: e.body.length, ETag: `"${e.etag}"`, LastModified: e.lastModified })),
      DeleteMarkers: slice.filter((e) => e.deleteMarker).map((e) => ({ Key: e.key, VersionId: e.versionId, IsLatest: e.isLatest, LastModified: e.lastModified })),
      IsTruncated: truncated,
      NextKeyMarker: truncated ? last?.key : undefined,
      NextVersionIdMarker: truncated ? last?.versionId : undefined,
    };
  }

  install(): void {
    s3.on(ListObjectVersionsCommand).callsFake((input) => this.listVersions(input));
    s3.on(GetObjectCommand).callsFake((input) => {
      let body: Buffer;
      if (input.Bucket === BUCKET) {
        const e = this.source.find((v) => v.key === input.Key && v.versionId === input.VersionId && !v.deleteMarker);
        if (!e) throw Object.assign(new Error('The specified version does not exist.'), { name: 'NoSuchVersion' });
        if (input.IfMatch && input.IfMatch !== `"${e.etag}"`) throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed' });
        body = e.body;
      } else {
        const o = this.archive.get(input.Key!);
        if (!o) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
        body = o.body;
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
      if (range) body = body.subarray(Number(range[1]), Number(range[2]) + 1);
      return { Body: sdkStreamMixin(Readable.from([body])), ContentType: 'application/octet-stream', ContentLength: body.length };
    });
    s3.on(PutObjectCommand).callsFake((input) => {
      this.archive.set(input.Key!, { body: Buffer.from(input.Body as Uint8Array | string), contentType: input.ContentType });
      return {};
    });
    s3.on(ListObjectsV2Command).callsFake((input) => {
      const keys = [...this.archive.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
      const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const slice = keys.slice(start, start + 1000);
      const truncated = start + slice.length < keys.length;
      return { Contents: slice.map((k) => ({ Key: k, Size: this.archive.get(k)!.body.length })), IsTruncated: truncated, NextContinuationToken: truncated ? String(start + 1000) : undefined };
    });
    s3.on(CreateMultipartUploadCommand).callsFake((input) => {
      const uploadId = `upload-${++this.uploadCount}`;
      this.uploads.set(uploadId, { key: input.Key!, parts: new Map() });
      return { UploadId: uploadId };
    });
    const upload = (id?: string) => {
      const u = this.uploads.get(id!);
      if (!u) throw Object.assign(new Error('The specified upload does not exist.'), { name: 'NoSuchUpload' });
      return u;
    };
    s3.on(UploadPartCommand).callsFake((input) => {
      upload(input.UploadId).parts.set(input.PartNumber!, Buffer.from(input.Body as Uint8Array));
      return { ETag: `"part-${input.PartNumber}"` };
    });
    s3.on(ListPartsCommand).callsFake((input) => {
      const parts = [...upload(input.UploadId).parts.entries()].sort(([a], [b]) => a - b)
        .map(([n, b]) => ({ PartNumber: n, ETag: `"part-${n}"`, Size: b.length, ChecksumCRC32: `crc-${n}` }));
      return { Parts: parts, IsTruncated: false };
    });
    s3.on(CompleteMultipartUploadCommand).callsFake((input) => {
      const u = upload(input.UploadId);
      const body = Buffer.concat(input.MultipartUpload!.Parts!.map((p: { PartNumber?: number }) => u.parts.get(p.PartNumber!)!));
      this.archive.set(u.key, { body });
      this.uploads.delete(input.UploadId!);
      return {};
    });
    s3.on(AbortMultipartUploadCommand).callsFake((input) => {
      this.uploads.delete(input.UploadId!);
      return {};
    });
  }

  /** The current archive objects as a string map (bodies as text), for small ones. */
  text(key: string): string {
    return this.archive.get(key)!.body.toString();
  }
}

const etag = (body: Buffer) => createHash('md5').update(body).digest('hex');
const bytes = (size: number, seed: number) => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) b[i] = (seed + i / 4096) % 251;
  return b;
};

let fake: FakeS3;

/** acme while `state()`'s execution offboards it: the execution holds the tenant's lease, which step writes need. */
const offboarding = (overrides: Partial<TenantRecord>) => ({
  ...tenant({ status: 'OFFBOARDING', ...overrides }),
  lease: { kind: 'offboard', executionArn: state().executionArn, requestId: 'req-acme-0001', acquiredAt: '2026-11-30T00:00:00.000Z', previousStatus: 'ACTIVE' },
}) as TenantRecord;

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  s3.reset();
  sts.reset();
  cfn.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  records.set('acme', offboarding({ stackOutputs: { BucketName: BUCKET } }));
  fake = new FakeS3();
  fake.install();
});

const { handler: exportData } = await import('../../../lambdas/lifecycle/export-tenant-data.js');
type Progress = Awaited<ReturnType<typeof exportData>>;

/** Runs the handler as the state machine's `Export done?` loop does, up to `max` calls. */
async function runExport(options: { context?: () => Partial<Context>; max?: number } = {}): Promise<Progress[]> {
  const outputs: Progress[] = [];
  let progress: Partial<Progress> = {};
  for (let i = 0; i < (options.max ?? 100); i++) {
    const out = await exportData({ ...state(), export: progress } as never, options.context?.() as Context);
    outputs.push(out);
    // what Step Functions keeps between the calls must stay small
    expect(JSON.stringify(out).length).toBeLessThan(4096);
    progress = JSON.parse(JSON.stringify(out));
    if (out.done) return outputs;
  }
  return outputs;
}

const manifestLines = (prefix: string): ManifestLine[] => [...fake.archive.keys()]
  .filter((k) => k.startsWith(`${prefix}manifest/part-`)).sort()
  .flatMap((k) => fake.text(k).trim().split('\n').map((l) => JSON.parse(l) as ManifestLine));

describe('Export tenant data', () => {
  it('archives every version and delete marker across listing pages, current versions browseable, and verifies before done', async () => {
    // GIVEN a.txt with two older versions, b.txt deleted (a delete marker over two versions), c.txt once, and d.txt deleted and written again
    const a1 = fake.put('a.txt', 'a one');
    const a2 = fake.put('a.txt', 'a two!');
    fake.put('a.txt', 'a three');
    const b1 = fake.put('b.txt', 'b one');
    const b2 = fake.put('b.txt', 'b two');
    const bDeleted = fake.put('b.txt', null);
    fake.put('c.txt', 'c');
    fake.put('d.txt', 'd one');
    const dDeleted = fake.put('d.txt', null);
    const dAgain = fake.put('d.txt', 'd again');

    // WHEN
    const outputs = await runExport();

    // THEN three pages of at most four entries, each call resuming where the last stopped
    expect(outputs.map((o) => o.done)).toEqual([false, false, true]);
    const listings = s3.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input);
    expect(listings.slice(0, 3).map((i) => [i.KeyMarker, i.VersionIdMarker])).toEqual([[undefined, undefined], ['b.txt', bDeleted], ['d.txt', dAgain]]);
    const last = outputs.at(-1)!;
    expect(last).toMatchObject({ versions: 8, currentObjects: 3, noncurrentVersions: 5, deleteMarkers: 2, bytes: 5 + 6 + 7 + 5 + 5 + 1 + 5 + 7, manifestParts: 3, done: true });
    expect(last.prefix).toMatch(/^acme\/\d{4}-\d{2}-\d{2}T\d{6}Z\/$/);
    const p = last.prefix;
    // the current version of each key at s3/<key>, every older one at noncurrent/<versionId>/<key>
    expect(fake.text(`${p}s3/a.txt`)).toBe('a three');
    expect(fake.text(`${p}noncurrent/${a1}/a.txt`)).toBe('a one');
    expect(fake.text(`${p}noncurrent/${a2}/a.txt`)).toBe('a two!');
    expect(fake.text(`${p}noncurrent/${b1}/b.txt`)).toBe('b one');
    expect(fake.text(`${p}noncurrent/${b2}/b.txt`)).toBe('b two');
    expect(fake.text(`${p}s3/d.txt`)).toBe('d again');
    expect(fake.archive.has(`${p}s3/b.txt`)).toBe(false); // deleted: its versions are all noncurrent
    // every GetObject names the version it reads
    const reads = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input).filter((i) => i.Bucket === BUCKET);
    expect(reads).toHaveLength(8);
    expect(reads.every((i) => i.VersionId?.startsWith('v'))).toBe(true);
    // the manifest: one line per version and delete marker
    const lines = manifestLines(p);
    expect(lines).toHaveLength(10);
    expect(lines.find((l) => l.versionId === bDeleted)).toEqual({ key: 'b.txt', versionId: bDeleted, isLatest: true, deleteMarker: true, size: 0, etag: null, lastModified: expect.any(String), archiveKey: null });
    expect(lines.find((l) => l.versionId === dDeleted)).toMatchObject({ key: 'd.txt', isLatest: false, deleteMarker: true, archiveKey: null });
    expect(lines.find((l) => l.versionId === a1)).toMatchObject({ key: 'a.txt', isLatest: false, deleteMarker: false, size: 5, archiveKey: `${p}noncurrent/${a1}/a.txt` });
    const manifest = JSON.parse(fake.text(`${p}manifest.json`));
    expect(manifest).toEqual({
      tenantId: 'acme', tier: 'starter', accountId: '333333333333', bucket: BUCKET,
      versions: 8, currentObjects: 3, noncurrentVersions: 5, deleteMarkers: 2, bytes: 41,
      parts: [0, 1, 2].map((i) => `${p}manifest/part-0000${i}.jsonl`), verifiedAt: expect.any(String),
    });
    // verification: the source listed again, the archive listed under the export prefix
    expect(listings.length).toBeGreaterThan(3);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ Bucket: ARCHIVE, Prefix: p })]);
    // read through the break-glass role, with the offboarding SourceIdentity
    const breakGlass = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input).find((i) => i.RoleArn!.endsWith('tessera-acme-break-glass'));
    expect(breakGlass).toMatchObject({ SourceIdentity: 'tessera-offboarding-acme' });
  });

  it('copies an object above the threshold by a multipart upload fed by ranged reads of its version', async () => {
    // GIVEN a 20 MiB object (above 16 MiB: three 8 MiB parts, the last 4 MiB)
    const big = bytes(20 * MiB, 7);
    const versionId = fake.put('models/big.bin', big);
    // WHEN
    const [out] = await runExport();
    // THEN
    expect(out.done).toBe(true);
    const ranges = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input).filter((i) => i.Bucket === BUCKET);
    expect(ranges.map((i) => [i.Range, i.VersionId])).toEqual([
      [`bytes=0-${8 * MiB - 1}`, versionId], [`bytes=${8 * MiB}-${16 * MiB - 1}`, versionId], [`bytes=${16 * MiB}-${20 * MiB - 1}`, versionId],
    ]);
    expect(ranges.every((i) => i.IfMatch === `"${etag(big)}"`)).toBe(true);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({ Bucket: ARCHIVE, Key: `${out.prefix}s3/models/big.bin`, ChecksumAlgorithm: 'CRC32' });
    expect(s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input.PartNumber)).toEqual([1, 2, 3]);
    // the ETags (and checksums) come from ListParts
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.MultipartUpload!.Parts).toEqual([1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"part-${n}"`, ChecksumCRC32: `crc-${n}` })));
    expect(fake.archive.get(`${out.prefix}s3/models/big.bin`)!.body.equals(big)).toBe(true);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key).filter((k) => k!.endsWith('big.bin'))).toEqual([]); // never whole
  });

  it('reads ListParts until IsTruncated is false, though S3 answers a NextPartNumberMarker on the last page too', async () => {
    // GIVEN ListParts as S3 (and moto) answer it: NextPartNumberMarker always, the last part's
    // number on the last page and (moto) 0 on an empty page; a paginator that goes on while the
    // marker is present asks last, 0, last, ... (this mock throws after 5 calls instead)
    let listed = 0;
    s3.on(ListPartsCommand).callsFake((input) => {
      if (++listed > 5) throw new Error(`ListParts asked ${listed} times`);
      const after = Number(input.PartNumberMarker ?? 0);
      const parts = [...fake.uploads.get(input.UploadId!)!.parts.entries()].filter(([n]) => n > after).sort(([a], [b]) => a - b)
        .map(([n, b]) => ({ PartNumber: n, ETag: `"part-${n}"`, Size: b.length, ChecksumCRC32: `crc-${n}` }));
      return { Parts: parts, IsTruncated: false, NextPartNumberMarker: String(parts.at(-1)?.PartNumber ?? 0) };
    });
    const big = bytes(20 * MiB, 5);
    fake.put('big.bin', big);
    // WHEN
    const [out] = await runExport();
    // THEN one ListParts call, and the object archived whole from its three parts
    expect(listed).toBe(1);
    expect(fake.archive.get(`${out.prefix}s3/big.bin`)!.body.equals(big)).toBe(true);
  });

  it('stops between parts near the time limit and continues the upload in the next invocation', async () => {
    // GIVEN a 20 MiB object, a small one after it, and an invocation that runs short of time after its first part
    const big = bytes(20 * MiB, 3);
    fake.put('big.bin', big);
    fake.put('small.txt', 'small');
    let remaining = 600_000;
    s3.on(UploadPartCommand).callsFake((input) => {
      remaining = 30_000; // below the reserve: no further part in this invocation
      const u = fake.uploads.get(input.UploadId!)!;
      u.parts.set(input.PartNumber!, Buffer.from(input.Body as Uint8Array));
      return { ETag: `"part-${input.PartNumber}"` };
    });
    const context = () => {
      remaining = 600_000;
      return { getRemainingTimeInMillis: () => remaining };
    };
    // WHEN
    const outputs = await runExport({ context });
    // THEN the first call uploaded part 1 and handed the upload on, small enough for Step Functions
    expect(outputs[0]).toMatchObject({ done: false, upload: { uploadId: 'upload-1', key: 'big.bin', nextPart: 2, partSize: 8 * MiB, size: 20 * MiB }, page: { handled: 0 } });
    expect(outputs[0].upload).not.toHaveProperty('parts');
    expect(outputs[1]).toMatchObject({ done: false, upload: { uploadId: 'upload-1', nextPart: 3 } });
    // the third finished the object (ETags from ListParts) and, short of time again, stopped before
    // small.txt; the fourth archived small.txt and verified
    expect(outputs[2]).toMatchObject({ done: false, page: { handled: 1 }, versions: 1 });
    expect(outputs[2]).not.toHaveProperty('upload');
    expect(outputs).toHaveLength(4);
    expect(outputs[3]).toMatchObject({ done: true, versions: 2, bytes: 20 * MiB + 5, manifestParts: 2 });
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(1);
    expect(s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input.PartNumber)).toEqual([1, 2, 3]);
    expect(s3.commandCalls(ListPartsCommand)).toHaveLength(1);
    expect(fake.archive.get(`${outputs[3].prefix}s3/big.bin`)!.body.equals(big)).toBe(true);
    expect(fake.text(`${outputs[3].prefix}s3/small.txt`)).toBe('small');
    expect(manifestLines(outputs[3].prefix).map((l) => l.key)).toEqual(['big.bin', 'small.txt']);
  });

  it('starts a carried upload over when S3 no longer has it', async () => {
    const big = bytes(20 * MiB, 5);
    const versionId = fake.put('big.bin', big);
    const first = await exportData({ ...state(), export: {} } as never, { getRemainingTimeInMillis: () => 1_000 } as never);
    expect(first.upload).toMatchObject({ uploadId: 'upload-1', nextPart: 2, versionId });
    fake.uploads.clear(); // aborted meanwhile (e.g. by a lifecycle rule)
    const second = await exportData({ ...state(), export: first } as never);
    expect(second.done).toBe(true);
    expect(s3.commandCalls(CreateMultipartUploadCommand).map((c) => c.args[0].input.Key)).toEqual([`${second.prefix}s3/big.bin`, `${second.prefix}s3/big.bin`]);
    expect(s3.commandCalls(UploadPartCommand).map((c) => `${c.args[0].input.UploadId}#${c.args[0].input.PartNumber}`)).toEqual(['upload-1#1', 'upload-1#2', 'upload-2#1', 'upload-2#2', 'upload-2#3']);
    expect(fake.archive.get(`${second.prefix}s3/big.bin`)!.body.equals(big)).toBe(true);
  });

  it('aborts the multipart upload on a failure it cannot continue from', async () => {
    fake.put('big.bin', bytes(20 * MiB, 9));
    s3.on(UploadPartCommand, { PartNumber: 2 }).rejects(Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' }));
    await expect(exportData({ ...state(), export: {} } as never)).rejects.toMatchObject({ name: 'InternalError' });
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ Bucket: ARCHIVE, UploadId: 'upload-1' })]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('leaves a carried upload to the state machine\'s retry on throttling', async () => {
    fake.put('big.bin', bytes(20 * MiB, 11));
    const first = await exportData({ ...state(), export: {} } as never, { getRemainingTimeInMillis: () => 1_000 } as never);
    s3.on(UploadPartCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(exportData({ ...state(), export: first } as never)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('fails with ExportIncomplete when a version appears in the source after it was listed, and writes no manifest.json', async () => {
    // GIVEN five objects; a new version of one is written just before the verification lists the source
    for (const k of ['a', 'b', 'c', 'd', 'e']) fake.put(`${k}.txt`, `content ${k}`);
    fake.pageLimit = 1000;
    let listings = 0;
    s3.on(ListObjectVersionsCommand).callsFake((input) => {
      listings += 1;
      if (listings === 2) fake.put('c.txt', 'written late');
      return fake.listVersions(input);
    });
    // WHEN / THEN
    const error = await exportData({ ...state(), export: {} } as never).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ExportIncomplete' });
    expect((error as Error).message).toMatch(/the source holds 6 versions, 0 delete markers, \d+ bytes; the manifest records 5 versions, 0 delete markers/);
    expect((error as Error).message).toMatch(/c\.txt@v0006: in the source bucket, not in the manifest/);
    expect([...fake.archive.keys()].some((k) => k.endsWith('manifest.json'))).toBe(false);
  });

  it('fails with ExportIncomplete when a copy is missing from the archive or has another size', async () => {
    for (const k of ['a', 'b', 'c']) fake.put(`${k}.txt`, `content ${k}`);
    fake.pageLimit = 1000;
    s3.on(PutObjectCommand).callsFake((input) => {
      if (input.Key!.endsWith('s3/b.txt')) return {}; // lost
      const body = Buffer.from(input.Body as Uint8Array | string);
      fake.archive.set(input.Key!, { body: input.Key!.endsWith('s3/c.txt') ? body.subarray(1) : body });
      return {};
    });
    const error = await exportData({ ...state(), export: {} } as never).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ExportIncomplete' });
    expect((error as Error).message).toMatch(/the archive holds 2 objects, \d+ bytes \(the manifest expects 3, \d+ bytes\)/);
    expect((error as Error).message).toMatch(/b\.txt@v0002: not in the archive/);
    expect((error as Error).message).toMatch(/c\.txt@v0003: 9 bytes in the manifest, 8 in the archive/);
  });

  // lc3 (s13): a resumed offboarding answered the recorded export as done without looking at the bucket, while the
  // tenant's workloads (running until the stacks are deleted) had written to it since.
  it('an offboarding resumed after a later step failed: the recorded export is done while the bucket still matches it; a bucket written to since is exported again under a new prefix', async () => {
    fake.put('a.txt', 'a one');
    fake.put('b.txt', 'b one');
    const first = (await runExport()).at(-1)!;
    const recorded = records.get('acme')!.offboarding?.export;
    expect(recorded).toMatchObject({ prefix: first.prefix, versions: 2 });
    // WHEN resumed with nothing written since: done, the same export, nothing copied again
    const copies = s3.commandCalls(PutObjectCommand).length;
    await expect(exportData({ ...state(), export: {} } as never)).resolves.toMatchObject({ done: true, prefix: first.prefix, versions: 2 });
    expect(s3.commandCalls(PutObjectCommand).length).toBe(copies);
    // WHEN the workloads wrote a new object before the offboarding was resumed (a second later: a new prefix)
    fake.put('late/results.json', 'written after the export was verified');
    vi.useFakeTimers({ now: Date.now() + 2_000, toFake: ['Date'] });
    try {
      const again = (await runExport()).at(-1)!;
      // THEN it is exported again, whole, under a new prefix, verified, and recorded
      expect(again).toMatchObject({ done: true, versions: 3 });
      expect(again.prefix).not.toBe(first.prefix);
      expect(fake.archive.has(`${again.prefix}s3/late/results.json`)).toBe(true);
      expect(records.get('acme')!.offboarding?.export).toMatchObject({ prefix: again.prefix, versions: 3 });
    } finally {
      vi.useRealTimers();
    }
    // AND resumed after the stacks were deleted (the break-glass role went with them, and the workloads): done as recorded
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }));
    await expect(exportData({ ...state(), export: {} } as never)).resolves.toMatchObject({ done: true, versions: 3 });
  });

  it('answers done at once for a tenant without a bucket (no outputs recorded, no tenant stack)', async () => {
    records.set('acme', offboarding({ stackOutputs: {} }));
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    await expect(exportData({ ...state(), export: {} } as never)).resolves.toMatchObject({ done: true });
    expect(s3.calls()).toHaveLength(0);
    expect(records.get('acme')!.stackOutputs).toEqual({});
  });

  it('records the outputs of a tenant stack the onboarding never recorded (it ended between CreateStack and Check blueprint), then exports its bucket', async () => {
    records.set('acme', offboarding({ stackOutputs: {} }));
    fake.put('a.txt', 'hello');
    const outputs = { BucketName: BUCKET, KeyArn: 'arn:aws:kms:us-east-1:111111111111:key/k-1', DatabaseInstanceId: 'tessera-acme' };
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{
      StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(),
      Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:request-id', Value: records.get('acme')!.requestId }],
      Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    }] });
    let progress = await exportData({ ...state(), export: {} } as never);
    for (let i = 0; !progress.done && i < 20; i++) progress = await exportData({ ...state(), export: progress } as never);
    expect(progress).toMatchObject({ done: true, versions: 1 });
    expect(records.get('acme')).toMatchObject({ stackName: 'tessera-acme', stackOutputs: outputs });
  });

  it('waits for a tenant stack still CREATE_IN_PROGRESS without outputs (the onboarding ended before its create did): StackBusy naming it, nothing exported nor recorded', async () => {
    records.set('acme', offboarding({ stackOutputs: {} }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{
      StackName: 'tessera-acme', StackStatus: 'CREATE_IN_PROGRESS', CreationTime: new Date(),
      Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:request-id', Value: records.get('acme')!.requestId }],
    }] });
    await expect(exportData({ ...state(), export: {} } as never)).rejects.toMatchObject({ name: 'StackBusy', message: expect.stringMatching(/^stack tessera-acme is CREATE_IN_PROGRESS and has no outputs yet/) });
    expect(records.get('acme')!.stackOutputs).toEqual({});
    expect(s3.calls()).toHaveLength(0);
  });

  it('leaves alone a stack with the tenant\'s name that Tessera did not create: nothing recorded from it', async () => {
    records.set('acme', offboarding({ stackOutputs: {} }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'KeyArn', OutputValue: 'arn:aws:kms:us-east-1:111111111111:key/other' }] }] });
    await expect(exportData({ ...state(), export: {} } as never)).resolves.toMatchObject({ done: true });
    expect(records.get('acme')!.stackOutputs).toEqual({});
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('export manifest logic', () => {
  it('sizes parts to stay within 10,000 and never below 8 MiB', () => {
    expect(partSizeFor(20 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(80_000 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(5 * 1024 * 1024 * MiB)).toBe(525 * MiB); // 5 TiB, S3's largest object
    expect(Math.ceil((5 * 1024 * 1024 * MiB) / partSizeFor(5 * 1024 * 1024 * MiB))).toBeLessThanOrEqual(10_000);
  });

  it('puts a key too long for the archive under long-keys/, and keeps the current version browseable', () => {
    expect(archiveKeyOf('t/x/', { key: 'a/b.txt', versionId: 'v1', isLatest: true })).toBe('t/x/s3/a/b.txt');
    expect(archiveKeyOf('t/x/', { key: 'a/b.txt', versionId: 'v1', isLatest: false })).toBe('t/x/noncurrent/v1/a/b.txt');
    expect(archiveKeyOf('t/x/', { key: 'k'.repeat(1020), versionId: 'v1', isLatest: false })).toMatch(/^t\/x\/long-keys\/[0-9a-f]{64}$/);
  });

  it('orders a page the same way every time: keys in byte order, versions before delete markers', () => {
    const at = new Date();
    const page = { Versions: [{ Key: 'b', VersionId: '2', Size: 1, LastModified: at }, { Key: 'a', VersionId: '1', Size: 1, LastModified: at }], DeleteMarkers: [{ Key: 'a', VersionId: '3', LastModified: at }] };
    expect(entriesOf(page).map((e) => `${e.key}@${e.versionId}`)).toEqual(['a@1', 'a@3', 'b@2']);
  });

  it('reports duplicates in the manifest and extra objects in the archive', () => {
    const line: ManifestLine = { key: 'a', versionId: '1', isLatest: true, deleteMarker: false, size: 3, etag: 'e', lastModified: null, archiveKey: 'p/s3/a' };
    const c = compareExport([{ ...line }], [line, line], [{ key: 'p/s3/a', size: 3 }, { key: 'p/s3/zz', size: 1 }]);
    expect(c.differences).toEqual(['a@1: recorded twice in the manifest', 'p/s3/zz: in the archive, not in the manifest']);
    expect(c.manifest.versions).toBe(2);
  });
});
