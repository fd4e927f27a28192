import { createHash } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAINING_FILES_PREFIX } from '../../lib/fine-tuning.js';
import { S3FileStore } from '../../lambdas/fine-tuning/stores/s3-file-store.js';
import { TrainingUploadsService } from '../../lambdas/fine-tuning/uploads-service.js';
import type { AuditRecord } from '../../lambdas/inference/audit.js';
import type { Caller } from '../../lambdas/inference/auth.js';
import { GatewayError } from '../../lambdas/inference/openai-errors.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './support/moto-server.js';

/**
 * An upload's complete on S3 for real (moto): the parts' objects composed into the file by a multipart upload
 * (lambdas/shared/s3-compose.ts), as `tessera serve` with the S3 store takes parts of 5 MiB and more: each part copied
 * inside S3 (UploadPartCopy), none of its bytes sent back up, the file encrypted with the tenant key, byte for byte the
 * parts in order; a refused file leaves no object and no multipart upload. moto refuses parts under 5 MiB but the last
 * (EntityTooSmall), as S3 does.
 */
const ACCOUNT = '123456789012'; // moto's account
const bucket = `tessera-acme-data-${ACCOUNT}`;
const MiB = 1024 * 1024;
let moto: MotoServer;
let s3: S3Client;
let keyArn: string;
/** The S3 commands sent through `s3`, by name, since the test's last reset. */
let sent: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  s3 = new S3Client({ forcePathStyle: true });
  s3.middlewareStack.add((next, context) => async (args) => {
    sent.push(context.commandName!);
    return next(args);
  }, { step: 'initialize' });
  keyArn = (await new KMSClient({}).send(new CreateKeyCommand({ Description: 'acme tenant key' }))).KeyMetadata!.Arn!;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

const at = () => ({ tenantId: 'acme', accountId: ACCOUNT, bucket, keyArn });
const caller = { tenantId: 'acme', userId: 'u-1', role: 'developer' } as unknown as Caller;
const service = () => new TrainingUploadsService({ files: new S3FileStore(TRAINING_FILES_PREFIX, async () => s3), location: at, toOpenAiFile: (_c, f) => ({ id: f.id, bytes: f.bytes }) });

/** JSON Lines of exactly `bytes` bytes (the last line padded with spaces). */
function jsonl(bytes: number, tag: string): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size + 600 < bytes; i++) {
    lines.push(`${JSON.stringify({ messages: [{ role: 'user', content: `${tag} ${i} ${'é'.repeat(200)}` }, { role: 'assistant', content: '☕' }] })}\n`);
    size += Buffer.byteLength(lines.at(-1)!);
  }
  return Buffer.from(`${lines.join('')}${' '.repeat(bytes - size - 1)}\n`);
}

/** A fine-tune upload of `parts` through the service, completed; the answer or the refusal. */
async function upload(parts: Buffer[], md5?: string) {
  const uploads = service();
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const created = JSON.parse((await uploads.handle('POST', '/v1/uploads', {}, undefined, JSON.stringify({ bytes: total, filename: 'big.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }), undefined, undefined, caller, {} as AuditRecord)).body) as { id: string };
  const ids: string[] = [];
  for (const part of parts) {
    const form = new FormData();
    form.append('data', new File([part], 'part'));
    const request = new Request('http://x', { method: 'POST', body: form });
    const answer = await uploads.handle('POST', `/v1/uploads/${created.id}/parts`, {}, undefined, undefined, new Uint8Array(await request.arrayBuffer()), request.headers.get('content-type')!, caller, {} as AuditRecord);
    ids.push((JSON.parse(answer.body) as { id: string }).id);
  }
  sent = [];
  const body = JSON.stringify({ part_ids: ids, ...(md5 ? { md5 } : {}) });
  return uploads.handle('POST', `/v1/uploads/${created.id}/complete`, {}, undefined, body, undefined, undefined, caller, {} as AuditRecord)
    .then((a) => JSON.parse(a.body) as { status: string; file: { id: string; bytes: number } }, (e: unknown) => e as GatewayError);
}

const openMultipartUploads = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
const fileObjects = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: TRAINING_FILES_PREFIX }))).Contents ?? []).map((o) => o.Key!).filter((k) => !k.includes('/uploads/'));

describe('complete on moto S3: the parts composed into the file (UploadPartCopy), checked as they are read', () => {
  it('3 parts of 5 MiB and a small last one: the tenant-key file, byte for byte, each part copied inside S3 and none uploaded back', async () => {
    const data = jsonl(15 * MiB + 4321, 'ok');
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB, 15 * MiB), data.subarray(15 * MiB)];
    const done = await upload(parts, createHash('md5').update(data).digest('hex'));
    expect(done).toMatchObject({ status: 'completed', file: { bytes: data.length } });
    const key = `${TRAINING_FILES_PREFIX}${(done as { file: { id: string } }).file.id}/big.jsonl`;
    expect(sent.filter((c) => c === 'UploadPartCopyCommand')).toHaveLength(4);
    expect(sent).not.toContain('UploadPartCommand');
    expect(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn, ContentLength: data.length });
    expect(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(await openMultipartUploads()).toEqual([]);
  });

  it('a bad line in the third of those parts: 400 naming file and the line; no file, no open multipart upload, and no byte was uploaded back', async () => {
    const before = await fileObjects();
    const good = jsonl(5 * MiB, 'ok');
    const bad = Buffer.concat([jsonl(5 * MiB - 24, 'ok'), Buffer.from('{"messages": oops}\n'.padEnd(24, ' '))]);
    const refused = await upload([good, good, bad, Buffer.from('\n')]);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format' });
    expect((refused as GatewayError).message).toMatch(/line \d+ is not JSON/);
    expect(sent).toContain('AbortMultipartUploadCommand');
    expect(sent).not.toContain('UploadPartCommand');
    expect(sent).not.toContain('CompleteMultipartUploadCommand');
    expect(await fileObjects()).toEqual(before);
    expect(await openMultipartUploads()).toEqual([]);
  });
});
