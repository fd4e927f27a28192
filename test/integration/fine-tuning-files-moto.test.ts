import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketEncryptionCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TRAINING_FILES_PREFIX } from '../../lib/fine-tuning.js';
import { S3FileStore } from '../../lambdas/fine-tuning/stores/s3-file-store.js';
import { DirPendingCreates } from '../../lambdas/inference/stores/dir-pending-creates.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { runPythonCode } from '../support/python-zygote.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './support/moto-server.js';
import { lostAnswerFetch } from '../support/lost-answer-fetch.js';

/**
 * The Files API's S3 store against moto: files land in the tenant's own versioned bucket under
 * `training-data/files/<id>/<encoded filename>`, encrypted with the tenant's key (SSE-KMS, bucket
 * key), are listed and read back from the bucket alone, and a delete leaves a delete marker (the
 * bytes stay a noncurrent version until the bucket's noncurrent expiry). moto enforces no IAM: the
 * training-files role's limits are checked in test/isolation and test/infra.
 */
const ACCOUNT = '123456789012'; // moto's account
let moto: MotoServer;
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let s3: S3Client;
let keyArn: string;
const bucket = `tessera-acme-data-${ACCOUNT}`;
const JSONL = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n';
const locations: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  s3 = new S3Client({ forcePathStyle: true });
  keyArn = (await new KMSClient({}).send(new CreateKeyCommand({ Description: 'acme tenant key' }))).KeyMetadata!.Arn!;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }] } }));
  const acme = trainedTenant('acme', 'enterprise', ACCOUNT);
  acme.stackOutputs.KeyArn = keyArn;
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [acme], {
    fineTuning: {
      sageMaker: async () => new SageMakerClient({}),
      files: new S3FileStore(TRAINING_FILES_PREFIX, async (at) => {
        locations.push(`${at.tenantId} ${at.accountId} ${at.bucket}`);
        return s3;
      }),
    },
  });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  await moto?.stop();
});

const client = async () => new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme', { role: 'developer' }), maxRetries: 0 });

describe('fine-tuning files in the tenant bucket (moto S3)', () => {
  it('stores an upload encrypted with the tenant key, in its own folder, named as uploaded', async () => {
    const file = await (await client()).files.create({ file: await toFile(Buffer.from(JSONL), 'ventes été 2026.jsonl'), purpose: 'fine-tune' });
    const key = `training-data/files/${file.id}/ventes%20%C3%A9t%C3%A9%202026.jsonl`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn, BucketKeyEnabled: true, ContentType: 'application/jsonl', ContentLength: Buffer.byteLength(JSONL) });
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()).toBe(JSONL);
    expect(locations.every((l) => l === `acme ${ACCOUNT} ${bucket}`)).toBe(true);

    const c = await client();
    expect(await c.files.retrieve(file.id)).toMatchObject({ id: file.id, filename: 'ventes été 2026.jsonl', bytes: Buffer.byteLength(JSONL) });
    expect(await (await c.files.content(file.id)).text()).toBe(JSONL);
  });

  it('lists only the Files API\'s files: other training data and stray keys under the prefix are not files', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'training-data/by-hand.jsonl', Body: JSONL }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'training-data/files/not-an-id/x.jsonl', Body: JSONL }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'training-data/files/file-000000000000000000000001/a/b.jsonl', Body: JSONL }));
    const c = await client();
    const second = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'two.jsonl'), purpose: 'fine-tune' });
    const listed = (await c.files.list()).data;
    expect(listed.map((f) => f.filename)).toEqual(['two.jsonl', 'ventes été 2026.jsonl']);
    expect(listed[0]!.id).toBe(second.id);
  });

  it('lists past S3\'s 1,000 keys a page, and names each file once whatever else is put into its folder by hand', async () => {
    const c = await client();
    const mine = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'mine.jsonl'), purpose: 'fine-tune' });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `training-data/files/${mine.id}/zz-by-hand.jsonl`, Body: JSONL }));
    const before = (await c.files.list()).data.length;
    const byHand = Array.from({ length: 1_005 }, (_, i) => `file-0000000000aa${i.toString(16).padStart(12, '0')}`);
    for (let i = 0; i < byHand.length; i += 50) {
      await Promise.all(byHand.slice(i, i + 50).map((id) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `training-data/files/${id}/n.jsonl`, Body: JSONL }))));
    }
    const all = await c.files.list();
    const ids = all.data.map((f) => f.id);
    expect(ids).toHaveLength(before + byHand.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id === mine.id)).toEqual([mine.id]);
    expect(all.data.find((f) => f.id === mine.id)!.filename).toBe('mine.jsonl');
    expect(ids.slice(-byHand.length)).toEqual([...byHand].reverse()); // the oldest ids last
    const page = await c.files.list({ order: 'asc', limit: 1_000 });
    expect([page.data.length, page.has_more]).toEqual([1_000, true]);
    expect((await page.getNextPage()).data.map((f) => f.id)).toEqual(ids.slice(0, ids.length - 1_000).reverse());
  }, 120_000);

  it('the SDKs\' retry of a files.create whose answer was lost gets the file its first attempt stored (its fingerprint in the object\'s metadata), not a second one (Node and Python clients)', async () => {
    const token = await gw.token('acme', { role: 'developer' });
    const listed = async () => (await (await client()).files.list()).data.map((f) => f.id);
    const before = await listed();
    // GIVEN the Node client whose first upload's answer never arrives (a reset connection after the file was stored)
    const lossy = lostAnswerFetch((url, init) => init?.method === 'POST' && url.endsWith('/files'));
    const { fetch } = lossy;
    // WHEN it uploads (the retry: x-stainless-retry-count: 1, the same fields under another multipart boundary)
    const made = await new OpenAI({ baseURL: gw.url, apiKey: token, fetch, timeout: 20_000 }).files.create({ file: await toFile(Buffer.from(JSONL), 'lost.jsonl'), purpose: 'fine-tune' });
    // THEN the file its first attempt stored (the old code: a second file)
    expect(made.id).toBe(lossy.lost()?.id);
    // The Python client (httpx) whose first answer is lost on the way back, uploading another file, alike.
    const script = `
import json, sys, httpx2
from openai import OpenAI, DefaultHttpxClient
url, token, content = sys.argv[1], sys.argv[2], sys.argv[3]
seen = []
class LosesFirstUpload(httpx2.HTTPTransport):
    def handle_request(self, request):
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/files"):
            seen.append(json.loads(response.read()))
            if len(seen) == 1:
                raise httpx2.ReadError("connection reset by peer", request=request)
        return response
client = OpenAI(base_url=url, api_key=token, max_retries=2, http_client=DefaultHttpxClient(transport=LosesFirstUpload()))
made = client.files.create(file=("lost-python.jsonl", content.encode()), purpose="fine-tune")
print(json.dumps({"id": made.id, "first": seen[0]["id"], "attempts": len(seen)}))
`;
    const python = JSON.parse((await runPythonCode(script, [gw.url, token, JSONL])).stdout);
    expect(python).toMatchObject({ attempts: 2, id: python.first });
    expect(new Set(await listed())).toEqual(new Set([...before, lossy.lost()?.id, python.id]));
    // and a new upload of the same file (no retry header) is a second file, as asked
    const again = await (await client()).files.create({ file: await toFile(Buffer.from(JSONL), 'lost.jsonl'), purpose: 'fine-tune' });
    expect(again.id).not.toBe(lossy.lost()?.id);
  });

  it('the SDKs\' retry of a files.create whose first attempt is still putting the object (timeout 3 s, a slow S3 put) waits on the attempt\'s note and gets that file, not a second one (Node and Python clients)', async () => {
    const token = await gw.token('acme', { role: 'developer' });
    const listed = async () => (await (await client()).files.list()).data.map((f) => f.id);
    const before = await listed();
    // The first put of each upload waits until a retry has read the attempt's note (serve's DirPendingCreates).
    const put = S3FileStore.prototype.put;
    const read = DirPendingCreates.prototype.read;
    const puts: string[] = [];
    let opened: () => void = () => undefined;
    vi.spyOn(S3FileStore.prototype, 'put').mockImplementation(async function (this: S3FileStore, at, file) {
      puts.push(file.filename);
      await new Promise<void>((ok) => (opened = ok));
      return put.call(this, at, file);
    });
    vi.spyOn(DirPendingCreates.prototype, 'read').mockImplementation(async function (this: DirPendingCreates, tenantId, key) {
      opened();
      return read.call(this, tenantId, key);
    });
    try {
      const made = await new OpenAI({ baseURL: gw.url, apiKey: token, timeout: 3000 }).files.create({ file: await toFile(Buffer.from(JSONL), 'slow.jsonl'), purpose: 'fine-tune' });
      const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=3.0, max_retries=2)
made = client.files.create(file=("slow-python.jsonl", sys.argv[3].encode()), purpose="fine-tune")
print(json.dumps({"id": made.id}))
`;
      const python = JSON.parse((await runPythonCode(script, [gw.url, token, JSONL])).stdout) as { id: string };
      // The old code: each retry put an object of its own (held as the first was, so the call timed out)
      expect(puts).toEqual(['slow.jsonl', 'slow-python.jsonl']);
      expect((await listed()).filter((id) => !before.includes(id)).sort()).toEqual([made.id, python.id].sort());
    } finally {
      opened();
      vi.restoreAllMocks();
    }
  });

  it('deletes with a delete marker: gone from the API, the bytes kept as a noncurrent version', async () => {
    const c = await client();
    const file = await c.files.create({ file: await toFile(Buffer.from(JSONL), 'gone.jsonl'), purpose: 'fine-tune' });
    expect(await c.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    expect((await c.files.list()).data.map((f) => f.id)).not.toContain(file.id);
    const e = await c.files.retrieve(file.id).catch((x) => x);
    expect([e.status, e.code]).toEqual([404, 'file_not_found']);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `training-data/files/${file.id}/` }));
    expect(versions.DeleteMarkers?.map((m) => m.IsLatest)).toEqual([true]);
    expect(versions.Versions?.map((v) => v.IsLatest)).toEqual([false]);
  });

  it('counts a training file\'s examples from the object\'s GetObject stream at a job\'s create: 9 long examples fail the job with invalid_n_examples naming training_file, 10 train', async () => {
    // ~120 KB a line: the body arrives in many stream pieces, lines and characters (é) cut between them.
    const long = (i: number) => `${JSON.stringify({ messages: [{ role: 'user', content: `${i} ${'é'.repeat(60_000)}` }, { role: 'assistant', content: 'ok' }] })}\n`;
    const nine = Array.from({ length: 9 }, (_, i) => long(i)).join('');
    const c = await client();
    const short = await c.files.create({ file: await toFile(Buffer.from(nine), 'nine.jsonl'), purpose: 'fine-tune' });
    const failed = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: short.id });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'invalid_n_examples', param: 'training_file', message: 'Training file has 9 example(s), but must have at least 10 examples' } });
    const ten = await c.files.create({ file: await toFile(Buffer.from(nine + long(9)), 'ten.jsonl'), purpose: 'fine-tune' });
    const job = await c.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: ten.id });
    expect(job).toMatchObject({ status: 'queued', training_file: ten.id });
    await c.fineTuning.jobs.cancel(job.id).catch(() => undefined);
  });
});
