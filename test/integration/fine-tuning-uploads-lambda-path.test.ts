import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAINING_FILES_PREFIX } from '../../lib/fine-tuning.js';
import { UploadChanged } from '../../lambdas/fine-tuning/stores/file-store.js';
import { S3FileStore } from '../../lambdas/fine-tuning/stores/s3-file-store.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { startApiGatewayEmulator } from './support/api-gateway-emulator.js';
import { runPythonCode } from '../support/python-zygote.js';

/**
 * OpenAI's Uploads API on the deployed path: API Gateway (multipart parts base64-encoded), the authorizer, then the
 * fine-tuning API Lambda's handler with the real S3 client on moto, as the tenant's training-files role (moto's STS).
 * Parts of up to 4 MiB (a Lambda invocation takes 6 MB), assembled at complete by an S3 multipart upload of 8 MiB
 * parts (moto refuses parts under 5 MiB but the last, EntityTooSmall, as S3 does) into `training-data/files/<id>/`,
 * encrypted with the tenant key, byte for byte the parts in order.
 */
const ACCOUNT = '123456789012';
const bucket = `tessera-acme-data-${ACCOUNT}`;
const globexBucket = `tessera-globex-data-${ACCOUNT}`;
const MiB = 1024 * 1024;
const acme = trainedTenant('acme', 'enterprise', ACCOUNT);
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let client: OpenAI;
let token: string;
const s3 = () => new S3Client({ forcePathStyle: true });
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

function jsonl(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    lines.push(`${JSON.stringify({ messages: [{ role: 'user', content: `Grüße ${i} ${'z'.repeat(400)}` }, { role: 'assistant', content: `日本語 ${i}` }] })}\n`);
    size += Buffer.byteLength(lines.at(-1)!);
  }
  return Buffer.from(lines.join(''));
}

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(gatewayConfig(), upstream.url, [acme, trainedTenant('globex', 'enterprise', ACCOUNT)], { fineTuning: true });
  for (const b of [bucket, globexBucket]) await s3().send(new CreateBucketCommand({ Bucket: b }));
  token = await apigw.token('acme', { role: 'developer' });
  client = new OpenAI({ baseURL: apigw.url, apiKey: token, maxRetries: 0, timeout: 60_000 });
}, 120_000);
afterAll(async () => {
  await apigw?.stop();
  await upstream?.stop();
});

describe('the Uploads API through API Gateway and the fine-tuning Lambda (moto S3)', () => {
  it('parts of 4 MiB complete into the tenant\'s file, encrypted with its key, byte for byte in part order; a job trains on it', async () => {
    const data = jsonl(10 * MiB);
    const upload = await client.uploads.create({ bytes: data.length, filename: 'large.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    const parts = [];
    for (let at = 0; at < data.length; at += 4 * MiB) parts.push(await client.uploads.parts.create(upload.id, { data: await toFile(data.subarray(at, at + 4 * MiB), 'part') }));
    expect(parts).toHaveLength(3);
    const done = await client.uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: createHash('md5').update(data).digest('hex') });
    expect(done).toMatchObject({ status: 'completed', file: { bytes: data.length, filename: 'large.jsonl', purpose: 'fine-tune', status: 'processed' } });
    const key = `training-data/files/${done.file!.id}/large.jsonl`;
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: acme.stackOutputs.KeyArn, ContentLength: data.length });
    const stored = Buffer.from(await (await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
    expect(stored.equals(data)).toBe(true);
    // The parts went with the upload; its record stays (completed) until the uploads' lifecycle rule.
    const left = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `training-data/files/uploads/${upload.id}/` }));
    expect((left.Contents ?? []).map((o) => o.Key)).toEqual([`training-data/files/uploads/${upload.id}/upload.json`]);

    const job = await client.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: done.file!.id });
    const described = await new SageMakerClient({}).send(new DescribeTrainingJobCommand({ TrainingJobName: `acme-ft-${job.id.slice(6)}` }));
    expect(described.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri).toBe(`s3://${bucket}/training-data/files/${done.file!.id}/`);
  });

  it('a part over 4 MiB is a 413 naming the limit and the part_size to use (Python\'s default 64 MB part, then part_size=4 MiB)', async () => {
    const upload = await client.uploads.create({ bytes: 4 * MiB + 1, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    const e = await refusal(client.uploads.parts.create(upload.id, { data: await toFile(jsonl(4 * MiB).subarray(0, 4 * MiB + 1), 'part') }));
    expect([e.status, e.param, e.code]).toEqual([413, 'data', 'request_too_large']);
    expect(e.message).toContain('part_size=4194304');
    const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0, timeout=60)
line = json.dumps({"prompt": "p " + "q" * 500, "completion": "c"}) + "\\n"
# Just over 4 MiB: Python's one default part (64 MB) of it reaches the Lambda (base64 in the event, under Lambda's
# 6,291,456 bytes); a part of 5 MB would not, and API Gateway would answer its own 413 before the Lambda runs.
data = (line * ((4 * 1024 * 1024 + 65536) // len(line) + 1)).encode()
try:
    client.uploads.upload_file_chunked(file=data, filename="py.jsonl", bytes=len(data), mime_type="text/jsonl", purpose="fine-tune")
    refused = None
except Exception as e:
    refused = [e.status_code, e.body["param"], e.body["message"]]
upload = client.uploads.upload_file_chunked(file=data, filename="py.jsonl", bytes=len(data), mime_type="text/jsonl", purpose="fine-tune", part_size=4 * 1024 * 1024)
print(json.dumps({"refused": refused, "status": upload.status, "bytes": upload.file.bytes, "size": len(data)}))
`;
    const out = JSON.parse((await runPythonCode(script, [apigw.url, token], { timeout: 90_000 })).stdout);
    expect(out.refused.slice(0, 2)).toEqual([413, 'data']);
    expect(out.refused[2]).toContain('upload_file_chunked(..., part_size=4194304)');
    expect(out).toMatchObject({ status: 'completed', bytes: out.size });
  }, 120_000);

  it('a part that would take the upload past its bytes is a 400 naming data and both figures, not stored in the tenant\'s bucket', async () => {
    const data = jsonl(2000);
    const upload = await client.uploads.create({ bytes: data.length, filename: 'bound.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    const first = await client.uploads.parts.create(upload.id, { data: await toFile(data.subarray(0, 1000), 'part') });
    const e = await refusal(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(MiB, 0x20), 'part') }));
    expect([e.status, e.param, e.code]).toEqual([400, 'data', 'upload_bytes_exceeded']);
    expect(e.message).toContain(`that is ${1000 + MiB} bytes, over the ${data.length} bytes it was created with (bytes)`);
    const listed = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `training-data/files/uploads/${upload.id}/parts/` }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([`training-data/files/uploads/${upload.id}/parts/${first.id}`]);
    expect((await client.uploads.cancel(upload.id)).status).toBe('cancelled');
  });

  it('another tenant\'s upload id is a 404 as an unknown one: its session looks in its own bucket', async () => {
    const upload = await client.uploads.create({ bytes: 10, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    const globex = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('globex', { role: 'developer' }), maxRetries: 0 });
    const theirs = await refusal(globex.uploads.cancel(upload.id));
    const unknown = await refusal(globex.uploads.cancel('upload_000000000000000000000000'));
    expect([theirs.status, theirs.code, theirs.param]).toEqual([404, 'upload_not_found', 'upload_id']);
    expect([unknown.status, unknown.code, unknown.param]).toEqual([404, 'upload_not_found', 'upload_id']);
    expect((await client.uploads.cancel(upload.id)).status).toBe('cancelled');
  });

  it('two completes at once (moto S3, its record written with IfMatch): one file, the other 400 upload_completed', async () => {
    const data = jsonl(6 * MiB);
    const upload = await client.uploads.create({ bytes: data.length, filename: 'twice.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    const parts: Array<{ id: string }> = [];
    for (let at = 0; at < data.length; at += 4 * MiB) parts.push(await client.uploads.parts.create(upload.id, { data: await toFile(data.subarray(at, at + 4 * MiB), 'part') }));
    const files = async () => ((await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'training-data/files/file-' }))).Contents ?? []).length;
    const before = await files();
    const answers = await Promise.allSettled([0, 1].map(() => client.uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) })));
    const done = answers.filter((a) => a.status === 'fulfilled');
    const refused = answers.flatMap((a) => (a.status === 'rejected' ? [a.reason as InstanceType<typeof OpenAI.APIError>] : []));
    expect(done).toHaveLength(1);
    expect(refused.map((e) => [e.status, e.param, e.code])).toEqual([[400, 'upload_id', 'upload_completed']]);
    expect(await files()).toBe(before + 1);
  }, 120_000);

  it('the record\'s conditions hold on moto as on S3: a stale ETag or a second create is UploadChanged', async () => {
    const at = { tenantId: 'acme', accountId: ACCOUNT, bucket };
    const store = new S3FileStore(TRAINING_FILES_PREFIX, async () => s3());
    const upload = { id: 'upload_0000000000000000000000bb', bytes: 1, filename: 'a.jsonl', mimeType: 'text/jsonl', purpose: 'fine-tune', createdAt: 1, expiresAt: 3601, status: 'pending' as const };
    const first = await store.putUpload(at, upload, null);
    await expect(store.putUpload(at, upload, null)).rejects.toBeInstanceOf(UploadChanged);
    const second = await store.putUpload(at, { ...upload, status: 'cancelled' }, first);
    expect((await store.getUpload(at, upload.id))).toEqual({ upload: { ...upload, status: 'cancelled' }, version: second });
    await expect(store.putUpload(at, upload, first)).rejects.toBeInstanceOf(UploadChanged);
    await expect(store.putUpload(at, { ...upload, id: 'upload_0000000000000000000000cc' }, first)).rejects.toBeInstanceOf(UploadChanged);
  });
});
