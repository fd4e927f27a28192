import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, S3Client, UploadPartCommand, UploadPartCopyCommand,
  type GetObjectCommandInput, type UploadPartCommandInput,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { composeObject, planParts, S3_MIN_PART_BYTES, type ComposedPart } from '../../../lambdas/shared/s3-compose.js';
import { S3FileStore } from '../../../lambdas/fine-tuning/stores/s3-file-store.js';
import { TrainingUploadsService } from '../../../lambdas/fine-tuning/uploads-service.js';
import { MemoryFileStore } from '../../../lambdas/fine-tuning/stores/file-store.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';

const MiB = 1024 * 1024;
const KEY_ARN = 'arn:aws:kms:us-east-1:444444444444:key/1111aaaa-2222-3333-4444-555566667777';

/** Every range of `plan`, in part order, as [source, first, last]. */
const ranges = (plan: ComposedPart[]) => plan.flatMap((p) => (p.kind === 'copy' ? [p.range] : p.ranges)).map((r) => [r.source, r.first, r.last]);
const partBytes = (p: ComposedPart) => (p.kind === 'copy' ? p.range.last - p.range.first + 1 : p.bytes);

describe('planParts: the S3 parts that compose an upload\'s parts, every one but the last at least 5 MiB', () => {
  it('4 MiB parts (the deployed path\'s largest) are gathered into 5 MiB uploads, each source cut where a part fills; nothing is copied', () => {
    const plan = planParts([4 * MiB, 4 * MiB, 4 * MiB, 100]);
    expect(plan.map((p) => [p.kind, partBytes(p)])).toEqual([['upload', 5 * MiB], ['upload', 5 * MiB], ['upload', 2 * MiB + 100]]);
    expect(ranges(plan)).toEqual([[0, 0, 4 * MiB - 1], [1, 0, MiB - 1], [1, MiB, 4 * MiB - 1], [2, 0, 2 * MiB - 1], [2, 2 * MiB, 4 * MiB - 1], [3, 0, 99]]);
  });

  it('parts of 5 MiB or more are copied whole; a small last part too (the last part may be of any size)', () => {
    const plan = planParts([5 * MiB, 5 * MiB, 5 * MiB, 1000]);
    expect(plan).toEqual([
      { kind: 'copy', range: { source: 0, first: 0, last: 5 * MiB - 1 } },
      { kind: 'copy', range: { source: 1, first: 0, last: 5 * MiB - 1 } },
      { kind: 'copy', range: { source: 2, first: 0, last: 5 * MiB - 1 } },
      { kind: 'copy', range: { source: 3, first: 0, last: 999 } },
    ]);
  });

  it('a small part before a large one: the large one tops the gathered part up to 5 MiB and the rest of it is copied (a range)', () => {
    const plan = planParts([MiB, 12 * MiB, 3 * MiB]);
    expect(plan).toEqual([
      { kind: 'upload', ranges: [{ source: 0, first: 0, last: MiB - 1 }, { source: 1, first: 0, last: 4 * MiB - 1 }], bytes: 5 * MiB },
      { kind: 'copy', range: { source: 1, first: 4 * MiB, last: 12 * MiB - 1 } },
      { kind: 'copy', range: { source: 2, first: 0, last: 3 * MiB - 1 } }, // the last: any size
    ]);
  });

  it('for any sizes: the ranges cover every byte once, in order, and no part but the last is under 5 MiB', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const sizes = Array.from({ length: 1 + Math.floor(random() * 12) }, () => 1 + Math.floor(random() * (random() < 0.5 ? 5.5 * MiB : 12 * MiB)));
      const plan = planParts(sizes);
      const expected: number[][] = [];
      const got = ranges(plan);
      let at = 0;
      for (const [source, first, last] of got) {
        expect(first).toBe(at);
        at = last! + 1 === sizes[source!] ? 0 : last! + 1;
        expected.push([source!]);
      }
      expect(got.map(([s]) => s)).toEqual([...got.map(([s]) => s)].sort((a, b) => a! - b!));
      expect(new Set(got.map(([s]) => s)).size).toBe(sizes.length);
      expect(plan.reduce((sum, p) => sum + partBytes(p), 0)).toBe(sizes.reduce((a, b) => a + b, 0));
      plan.slice(0, -1).forEach((p) => expect(partBytes(p)).toBeGreaterThanOrEqual(S3_MIN_PART_BYTES));
    }
  });

  it('refuses an empty source, and a compose over S3\'s 10,000 parts', () => {
    expect(() => planParts([MiB, 0])).toThrow(/source 1 has 0 bytes/);
    expect(() => planParts(Array.from({ length: 10_001 }, () => 5 * MiB))).toThrow(/over S3's 10000 parts/);
  });
});

/** An S3 client whose objects are `objects` (GetObject streams them in 64 KiB chunks); every other call answered (a promise, as the SDK's send). */
function s3With(objects: Record<string, Buffer>) {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'unit', secretAccessKey: 'unit' } });
  const mock = mockClient(client);
  mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'mpu-1' });
  mock.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
    const bytes = objects[input.Key!];
    if (!bytes) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: sdkStreamMixin(Readable.from(Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536)))) };
  });
  mock.on(UploadPartCommand).callsFake(async (input: UploadPartCommandInput) => ({ ETag: `"up-${input.PartNumber}"` }));
  mock.on(UploadPartCopyCommand).callsFake(async (input: { PartNumber: number }) => ({ CopyPartResult: { ETag: `"copy-${input.PartNumber}"` } }));
  mock.on(CompleteMultipartUploadCommand).resolves({});
  mock.on(AbortMultipartUploadCommand).resolves({});
  return { client, mock };
}

/** JSON Lines of `bytes` bytes exactly (the last line padded). */
function jsonl(bytes: number, tag: string): Buffer {
  const line = (i: number) => `${JSON.stringify({ messages: [{ role: 'user', content: `${tag} ${i} ${'q'.repeat(300)}` }, { role: 'assistant', content: 'ok' }] })}\n`;
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size + 400 < bytes; i++) {
    lines.push(line(i));
    size += Buffer.byteLength(lines.at(-1)!);
  }
  return Buffer.from(`${lines.join('')}${' '.repeat(bytes - size - 1)}\n`);
}

const at = { tenantId: 'acme', accountId: '444444444444', bucket: 'tessera-acme-data-444444444444', keyArn: KEY_ARN };
const caller = { tenantId: 'acme', userId: 'u-1', role: 'developer' } as unknown as Caller;
const audit = () => ({}) as AuditRecord;

/** A fine-tune upload of `parts` (stored as objects of the mocked bucket) completed through the uploads service on S3FileStore. */
async function completeOnS3(parts: Buffer[], body: (ids: string[]) => object = (ids) => ({ part_ids: ids })) {
  const objects: Record<string, Buffer> = {};
  const { client, mock } = s3With(objects);
  const s3Store = new S3FileStore('training-data/files/', async () => client);
  // Records and parts in memory (their own requests are not the compose's), each part also an object of the mocked
  // bucket; the file by S3FileStore's compose.
  const store = new (class extends MemoryFileStore {
    override async putPart(where: typeof at, uploadId: string, partId: string, bytes: Uint8Array) {
      objects[`training-data/files/uploads/${uploadId}/parts/${partId}`] = Buffer.from(bytes);
      return super.putPart(where, uploadId, partId, bytes);
    }
    putFromParts = s3Store.putFromParts.bind(s3Store);
  })('training-data/files/');
  const service = new TrainingUploadsService({ files: store, location: () => at, toOpenAiFile: (_c, f) => ({ id: f.id, bytes: f.bytes }) });
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const created = JSON.parse((await service.handle('POST', '/v1/uploads', {}, undefined, JSON.stringify({ bytes: total, filename: 'big.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }), undefined, undefined, caller, audit())).body) as { id: string };
  const ids: string[] = [];
  for (const part of parts) {
    const form = new FormData();
    form.append('data', new File([part], 'part'));
    const request = new Request('http://x', { method: 'POST', body: form });
    const answer = await service.handle('POST', `/v1/uploads/${created.id}/parts`, {}, undefined, undefined, new Uint8Array(await request.arrayBuffer()), request.headers.get('content-type')!, caller, audit());
    ids.push((JSON.parse(answer.body) as { id: string }).id);
  }
  const result = await service.handle('POST', `/v1/uploads/${created.id}/complete`, {}, undefined, JSON.stringify(body(ids)), undefined, undefined, caller, audit()).then((a) => JSON.parse(a.body) as { status: string; file: { id: string; bytes: number } }, (e: unknown) => e as GatewayError);
  return { result, mock, ids, uploadId: created.id };
}

describe('a fine-tune upload\'s complete on S3 (aws-sdk-client-mock): the parts composed by a multipart upload, never held', () => {
  it('3 parts of 5 MiB and a small last one: CreateMultipartUpload with the tenant key, each part copied inside S3 (UploadPartCopy, none uploaded), then Complete in order', async () => {
    const data = jsonl(15 * MiB + 3000, 'ok');
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB, 15 * MiB), data.subarray(15 * MiB)];
    const { result, mock, ids, uploadId } = await completeOnS3(parts);
    expect(result).toMatchObject({ status: 'completed', file: { bytes: data.length } });
    const key = `training-data/files/${(result as { file: { id: string } }).file.id}/big.jsonl`;
    expect(mock.commandCalls(CreateMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([{
      Bucket: at.bucket, Key: key, ContentType: 'application/jsonl', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN, BucketKeyEnabled: true, ExpectedBucketOwner: at.accountId,
    }]);
    expect(mock.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input).sort((a, b) => a.PartNumber! - b.PartNumber!)).toEqual(ids.map((id, i) => ({
      Bucket: at.bucket, Key: key, ExpectedBucketOwner: at.accountId, ExpectedSourceBucketOwner: at.accountId, UploadId: 'mpu-1', PartNumber: i + 1,
      CopySource: `${at.bucket}/training-data/files/uploads/${uploadId}/parts/${id}`,
    })));
    expect(mock.commandCalls(UploadPartCommand)).toHaveLength(0);
    // Every byte was read once, in order, for the check.
    expect(mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual(ids.map((id) => `training-data/files/uploads/${uploadId}/parts/${id}`));
    expect(mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input.MultipartUpload).toEqual({ Parts: [
      { PartNumber: 1, ETag: '"copy-1"' }, { PartNumber: 2, ETag: '"copy-2"' }, { PartNumber: 3, ETag: '"copy-3"' }, { PartNumber: 4, ETag: '"copy-4"' },
    ] });
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('parts of 4 MiB (the deployed path\'s): gathered into 5 MiB UploadParts whose bytes are the file\'s, in order; nothing copied', async () => {
    const data = jsonl(12 * MiB + 500, 'ok');
    const parts = [0, 1, 2, 3].map((i) => data.subarray(i * 4 * MiB, (i + 1) * 4 * MiB));
    const { result, mock } = await completeOnS3(parts);
    expect(result).toMatchObject({ status: 'completed', file: { bytes: data.length } });
    expect(mock.commandCalls(UploadPartCopyCommand)).toHaveLength(0);
    const uploads = mock.commandCalls(UploadPartCommand).map((c) => c.args[0].input).sort((a, b) => a.PartNumber! - b.PartNumber!);
    expect(uploads.map((u) => (u.Body as Uint8Array).byteLength)).toEqual([5 * MiB, 5 * MiB, data.length - 10 * MiB]);
    expect(Buffer.concat(uploads.map((u) => u.Body as Uint8Array)).equals(data)).toBe(true);
  });

  it('a bad line in the third part: 400 naming file and the line, the multipart upload aborted, never completed', async () => {
    const good = jsonl(5 * MiB, 'ok');
    const bad = Buffer.concat([jsonl(5 * MiB - 20, 'ok'), Buffer.from('{"messages": oops}\n'.padEnd(20, ' '))]);
    const { result, mock } = await completeOnS3([good, good, bad, Buffer.from('\n')]);
    expect(result).toBeInstanceOf(GatewayError);
    expect(result).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format' });
    expect((result as GatewayError).message).toMatch(/line \d+ is not JSON/);
    expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(mock.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ Bucket: at.bucket, UploadId: 'mpu-1', ExpectedBucketOwner: at.accountId })]);
  });

  it('a wrong md5: 400 naming md5 once every byte was read, the multipart upload aborted', async () => {
    const data = jsonl(6 * MiB, 'ok');
    const { result, mock } = await completeOnS3([data.subarray(0, 4 * MiB), data.subarray(4 * MiB)], (ids) => ({ part_ids: ids, md5: '0'.repeat(32) }));
    expect(result).toMatchObject({ status: 400, param: 'md5', code: 'invalid_value' });
    expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });
});

describe('composeObject\'s failures: nothing completed, the multipart upload aborted, the error goes on', () => {
  const sources = [{ key: 'a', bytes: 6 * MiB }, { key: 'b', bytes: 100 }];
  const objects = { a: Buffer.alloc(6 * MiB, 0x61), b: Buffer.alloc(100, 0x62) };
  const target = { bucket: 'b1', key: 'out', create: { ContentType: 'text/plain' } };
  const none = { push: () => undefined, end: () => undefined };

  it('a copy S3 refuses (AccessDenied on the part)', async () => {
    const { client, mock } = s3With(objects);
    mock.on(UploadPartCopyCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(composeObject(client, target, sources, none)).rejects.toThrow('Access Denied');
    expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(mock.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'b1', Key: 'out', UploadId: 'mpu-1' }]);
  });

  it('a part whose object changed size since it was listed', async () => {
    const { client, mock } = s3With({ ...objects, b: Buffer.alloc(99, 0x62) });
    await expect(composeObject(client, target, sources, none)).rejects.toThrow('b holds 99 bytes, not the 100 listed');
    expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });
});
