import { createHash } from 'node:crypto';
import { CreateTrainingJobCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TRAINING_FILES_PREFIX } from '../../lib/fine-tuning.js';
import { MAX_UPLOAD_PARTS } from '../../lambdas/fine-tuning/uploads-service.js';
import { MemoryFileStore, type FileLocation, type StoredFile } from '../../lambdas/fine-tuning/stores/file-store.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { runPythonCode } from '../support/python-zygote.js';
import { mockStrict } from '../support/strict-mock.js';
import { lostAnswerFetch } from '../support/lost-answer-fetch.js';

/**
 * OpenAI's Uploads API (a fine-tuning file larger than one request, in parts) through the official clients against
 * `tessera serve` (files in memory; the S3 store and the deployed path on moto are in
 * fine-tuning-uploads-lambda-path.test.ts): create, parts, complete into a file that a job then trains on, cancel, and
 * every refusal in OpenAI's shape naming the field.
 */
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';

const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const ACME = '444444444444';
const GLOBEX = '555555555555';
const MiB = 1024 * 1024;
const example = (i: number) => `${JSON.stringify({ messages: [{ role: 'user', content: `Question ${i}: où est ma commande ? ${'x'.repeat(200)}` }, { role: 'assistant', content: `Réponse ${i} ☕` }] })}\n`;
/** JSON Lines of a little over `bytes` bytes. */
function jsonl(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    lines.push(example(i));
    size += Buffer.byteLength(lines.at(-1)!);
  }
  return Buffer.from(lines.join(''));
}
/** `bytes` cut into parts of `size` (the last smaller). */
const split = (bytes: Buffer, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

/**
 * The memory store, with gates a test opens to order two requests: a write of a part or of a completed file waits at
 * its gate (when one is set) until the test opens it; `reads` counts the upload records read.
 */
class GatedStore extends MemoryFileStore {
  gates: { part?: Promise<void>; file?: Promise<void> } = {};
  entered = { part: 0, file: 0 };
  reads = 0;
  override async getUpload(...args: Parameters<MemoryFileStore['getUpload']>) {
    this.reads++;
    return super.getUpload(...args);
  }
  override async putPart(...args: Parameters<MemoryFileStore['putPart']>) {
    this.entered.part++;
    await this.gates.part;
    return super.putPart(...args);
  }
  override async putFromPieces(at: FileLocation, file: { id: string; filename: string }, pieces: AsyncIterable<Uint8Array>): Promise<StoredFile> {
    this.entered.file++;
    await this.gates.file;
    return super.putFromPieces(at, file, pieces);
  }
}
/** A gate: its promise, and the function that opens it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  return { wait: new Promise<void>((ok) => { open = ok; }), open };
}
/** Resolves once `ready()` holds (checked every 5 ms). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((ok) => setTimeout(ok, 5));
}

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const store = new GatedStore(TRAINING_FILES_PREFIX);
const tokens: Record<string, string> = {};
const client = (who = 'acme') => new OpenAI({ baseURL: gw.url, apiKey: tokens[who], maxRetries: 0, timeout: 60_000 });
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
const acmeAt = { tenantId: 'acme', accountId: ACME, bucket: `tessera-acme-data-${ACME}` };

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [trainedTenant('acme', 'enterprise', ACME), trainedTenant('globex', 'enterprise', GLOBEX)],
    { fineTuning: { sageMaker: async () => new SageMakerClient({}), files: store } });
  for (const t of ['acme', 'globex']) tokens[t] = await gw.token(t, { role: 'developer' });
  tokens.viewer = await gw.token('acme', { role: 'viewer' });
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  store.gates = {};
  sageMaker.reset();
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:444444444444:training-job/x' });
});

/** A pending upload of `data` with its parts (of `size`) sent, as the Node client does. */
async function uploadParts(data: Buffer, size: number, c = client()) {
  const upload = await c.uploads.create({ bytes: data.length, filename: 'support.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
  const parts = [];
  for (const piece of split(data, size)) parts.push(await c.uploads.parts.create(upload.id, { data: await toFile(piece, 'part') }));
  return { upload, parts };
}

describe('the Uploads API with the official clients on tessera serve', () => {
  it('Node: a file of 6 MiB in three parts becomes a fine-tuning file that a job trains on', async () => {
    const data = jsonl(6 * MiB);
    const { upload, parts } = await uploadParts(data, 2 * MiB + 17); // parts cut inside lines and characters
    expect(upload).toMatchObject({ object: 'upload', status: 'pending', bytes: data.length, filename: 'support.jsonl', purpose: 'fine-tune' });
    expect(upload.expires_at - upload.created_at).toBe(3600);
    expect(parts.map((p) => [p.object, p.upload_id])).toEqual(parts.map(() => ['upload.part', upload.id]));
    const done = await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: md5(data) });
    expect(done).toMatchObject({ id: upload.id, status: 'completed', file: { object: 'file', bytes: data.length, filename: 'support.jsonl', purpose: 'fine-tune', status: 'processed' } });
    const fileId = done.file!.id;
    expect(Buffer.from(await (await client().files.content(fileId)).arrayBuffer()).equals(data)).toBe(true);
    // The parts go with the upload.
    expect((await store.partSizes(acmeAt, upload.id)).size).toBe(0);
    const job = await client().fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: fileId });
    expect(job.training_file).toBe(fileId);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input.InputDataConfig![0]!.DataSource!.S3DataSource!.S3Uri).toBe(`s3://tessera-acme-data-${ACME}/training-data/files/${fileId}/`);
  });

  it('Python: client.uploads.upload_file_chunked(..., part_size=...) of 5 MiB, then fine_tuning.jobs.create on its file', async () => {
    const script = `
import hashlib, json, sys
from openai import OpenAI
url, token = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=url, api_key=token, max_retries=0)
line = json.dumps({"messages": [{"role": "user", "content": "Bonjour ? " + "y" * 300}, {"role": "assistant", "content": "Salut ☕"}]}, ensure_ascii=False) + "\\n"
data = (line * (5 * 1024 * 1024 // len(line.encode()) + 1)).encode()
upload = client.uploads.upload_file_chunked(file=data, filename="python.jsonl", bytes=len(data), mime_type="text/jsonl", purpose="fine-tune", part_size=2 * 1024 * 1024, md5=hashlib.md5(data).hexdigest())
job = client.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file=upload.file.id)
content = client.files.content(upload.file.id).read()
print(json.dumps({"status": upload.status, "file": upload.file.model_dump(), "bytes": len(data), "job_file": job.training_file, "same": content == data}))
`;
    const out = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!], { timeout: 60_000 })).stdout);
    expect(out).toMatchObject({ status: 'completed', file: { object: 'file', purpose: 'fine-tune', status: 'processed', bytes: out.bytes }, same: true });
    expect(out.bytes).toBeGreaterThan(5 * MiB);
    expect(out.job_file).toBe(out.file.id);
  });
});

describe('refusals', () => {
  const small = jsonl(3000);

  it('a total other than bytes, a wrong md5, an unknown, repeated or other upload\'s part id: 400 naming the field, nothing stored', async () => {
    const { upload, parts } = await uploadParts(small, 1000);
    const ids = parts.map((p) => p.id);
    const other = await uploadParts(small, 1000);
    const before = (await client().files.list()).data.length;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ part_ids: ids.slice(1) }, 'part_ids', `hold ${small.length - 1000} bytes, not the ${small.length} bytes`],
      [{ part_ids: ids, md5: md5(Buffer.from('other')) }, 'md5', 'is not the MD5 of the parts'],
      [{ part_ids: [...ids.slice(0, 2), 'part_000000000000000000000000'] }, 'part_ids', 'which is not a part of upload'],
      [{ part_ids: [...ids, ids[0]] }, 'part_ids', 'twice'],
      [{ part_ids: [...ids.slice(0, 2), other.parts[2]!.id] }, 'part_ids', `which is not a part of upload ${upload.id}`],
    ];
    for (const [body, param, message] of cases) {
      const e = await refusal(client().uploads.complete(upload.id, body as never));
      expect([e.status, e.param, e.message]).toEqual([400, param, expect.stringContaining(message)]);
    }
    // The same parts in another order make another file: part_ids order the file (OpenAI), checked by its md5.
    const [a, b] = [example(1), example(2)].map((l) => Buffer.from(l));
    const pair = await uploadParts(Buffer.concat([a!, b!]), a!.length);
    const reordered = await refusal(client().uploads.complete(pair.upload.id, { part_ids: [pair.parts[1]!.id, pair.parts[0]!.id], md5: md5(Buffer.concat([a!, b!])) }));
    expect([reordered.status, reordered.param]).toEqual([400, 'md5']);
    expect((await client().files.list()).data.length).toBe(before);
    // Still pending: the right request completes it.
    expect((await client().uploads.complete(upload.id, { part_ids: ids, md5: md5(small) })).status).toBe('completed');
  });

  it('a job on the Uploads API\'s own records and parts (a key in training-data/files/uploads/, or a prefix of it): 400 naming the field, no training job', async () => {
    const { upload, parts } = await uploadParts(small, 1000);
    const inside = `${TRAINING_FILES_PREFIX}uploads/${upload.id}/parts/${parts[1]!.id}`;
    // Each was a job whose S3Prefix channel read upload.json records and parts cut mid-line, failing (or training on fragments) once started.
    const cases: Array<[{ training_file: string; validation_file?: string }, string, string]> = [
      [{ training_file: inside }, 'training_file', 'is inside training-data/files/uploads/, where the Uploads API keeps its uploads\' records and parts'],
      [{ training_file: `s3://${acmeAt.bucket}/${TRAINING_FILES_PREFIX}uploads/${upload.id}/upload.json` }, 'training_file', 'is inside training-data/files/uploads/'],
      [{ training_file: 'training-data/files' }, 'training_file', 'is a prefix of training-data/files/uploads/: a training channel reads every object whose key starts with it'],
      [{ training_file: 'training-data/a.jsonl', validation_file: `${TRAINING_FILES_PREFIX}uploads` }, 'validation_file', 'is a prefix of training-data/files/uploads/'],
    ];
    for (const [fields, param, message] of cases) {
      const e = await refusal(client().fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', ...fields }));
      expect([e.status, e.code, e.param, e.message]).toEqual([400, 'invalid_training_file', param, expect.stringContaining(message)]);
    }
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    // The upload completes, and a job trains on its file.
    const done = await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    const job = await client().fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: done.file!.id });
    expect(job.training_file).toBe(done.file!.id);
    await client().fineTuning.jobs.cancel(job.id).catch(() => undefined);
  });

  it('a part or a cancel after complete, a part or a complete after cancel, an expired upload: 400 naming upload_id', async () => {
    const { upload, parts } = await uploadParts(small, 2000);
    await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    const late = await refusal(client().uploads.parts.create(upload.id, { data: await toFile(small, 'p') }));
    expect([late.status, late.param, late.code]).toEqual([400, 'upload_id', 'upload_completed']);
    const cancelDone = await refusal(client().uploads.cancel(upload.id));
    expect([cancelDone.status, cancelDone.param, cancelDone.code]).toEqual([400, 'upload_id', 'upload_completed']);

    const second = await uploadParts(small, 2000);
    expect(await client().uploads.cancel(second.upload.id)).toMatchObject({ status: 'cancelled', file: null });
    expect((await store.partSizes(acmeAt, second.upload.id)).size).toBe(0);
    const afterCancel = await refusal(client().uploads.parts.create(second.upload.id, { data: await toFile(small, 'p') }));
    expect([afterCancel.status, afterCancel.code]).toEqual([400, 'upload_cancelled']);
    const completeCancelled = await refusal(client().uploads.complete(second.upload.id, { part_ids: second.parts.map((p) => p.id) }));
    expect([completeCancelled.status, completeCancelled.code]).toEqual([400, 'upload_cancelled']);

    const third = await uploadParts(small, 2000);
    const { upload: record, version } = (await store.getUpload(acmeAt, third.upload.id))!;
    await store.putUpload(acmeAt, { ...record, createdAt: record.createdAt - 3600, expiresAt: record.expiresAt - 3600 }, version);
    const expired = await refusal(client().uploads.parts.create(third.upload.id, { data: await toFile(small, 'p') }));
    expect([expired.status, expired.param, expired.code]).toEqual([400, 'upload_id', 'upload_expired']);
    const completeExpired = await refusal(client().uploads.complete(third.upload.id, { part_ids: third.parts.map((p) => p.id) }));
    expect([completeExpired.status, completeExpired.code]).toEqual([400, 'upload_expired']);
  });

  it('a malformed line spanning two parts: the error names the line, and no file is made', async () => {
    const good = jsonl(1500).toString();
    const lines = good.split('\n').length - 1;
    const data = Buffer.from(`${good}{"messages": [{"role": "user", "content": "cut here"}, {"role": "assistant" "content": "no comma"}]}\n`);
    // The bad line starts in the first part and ends in the second.
    const { upload, parts } = await uploadParts(data, good.length + 30);
    expect(parts).toHaveLength(2);
    const before = (await client().files.list()).data.length;
    const e = await refusal(client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) }));
    expect([e.status, e.param, e.code]).toEqual([400, 'file', 'invalid_file_format']);
    expect(e.message).toContain(`file "support.jsonl" is not a fine-tuning file: line ${lines + 1} is not JSON`);
    expect((await client().files.list()).data.length).toBe(before);
  });

  it('another tenant\'s upload id reads as an unknown one (404), for parts, complete and cancel', async () => {
    const { upload, parts } = await uploadParts(small, 2000);
    const unknown = await refusal(client('globex').uploads.cancel('upload_000000000000000000000000'));
    for (const call of [
      async () => client('globex').uploads.parts.create(upload.id, { data: await toFile(small, 'p') }),
      () => client('globex').uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) }),
      () => client('globex').uploads.cancel(upload.id),
    ]) {
      const e = await refusal(call());
      expect([e.status, e.param, e.code]).toEqual([unknown.status, unknown.param, unknown.code]);
      expect([e.status, e.code]).toEqual([404, 'upload_not_found']);
    }
    expect((await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) })).status).toBe('completed');
  });

  it('another purpose, a name that is not *.jsonl, a bytes over the limit, a viewer: refused naming the field or permission', async () => {
    // A batch upload is the gateway's own (gateway-conformance/uploads.test.ts); evals files are served by neither.
    const purpose = await refusal(client().uploads.create({ bytes: 10, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'evals' as never }));
    expect([purpose.status, purpose.param]).toEqual([400, 'purpose']);
    expect(purpose.message).toContain('is not one of batch, assistants, vision, user_data, fine-tune');
    const name = await refusal(client().uploads.create({ bytes: 10, filename: 'a.csv', mime_type: 'text/jsonl', purpose: 'fine-tune' }));
    expect([name.status, name.param]).toEqual([400, 'filename']);
    const big = await refusal(client().uploads.create({ bytes: 513 * MiB, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }));
    expect([big.status, big.param]).toEqual([413, 'bytes']);
    const viewer = await refusal(client('viewer').uploads.create({ bytes: 10, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }));
    expect([viewer.status, viewer.code]).toEqual([403, 'permission_denied']);
  });
});

describe('the bound on parts (MAX_UPLOAD_PARTS)', () => {
  it('the part past 256 is a 400 naming data and the bound, not stored; the 256 parts still complete into the file', async () => {
    const head = '{"messages":[{"role":"user","content":"';
    const tail = '"},{"role":"assistant","content":"ok"}]}\n';
    const data = Buffer.from(`${head}${'x'.repeat(MAX_UPLOAD_PARTS - head.length - tail.length)}${tail}`);
    expect(data.length).toBe(256);
    const { upload, parts } = await uploadParts(data, 1);
    expect(parts).toHaveLength(MAX_UPLOAD_PARTS);
    const past = await refusal(client().uploads.parts.create(upload.id, { data: await toFile(Buffer.from('\n'), 'part') }));
    expect([past.status, past.param, past.code]).toEqual([400, 'data', 'too_many_parts']);
    expect(past.message).toContain(`already holds ${MAX_UPLOAD_PARTS} parts, the most an upload takes here (${MAX_UPLOAD_PARTS})`);
    expect((await store.partSizes(acmeAt, upload.id)).size).toBe(MAX_UPLOAD_PARTS);
    const done = await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: md5(data) });
    expect([done.status, done.file?.bytes]).toEqual(['completed', 256]);
    expect(Buffer.from(await (await client().files.content(done.file!.id)).arrayBuffer()).equals(data)).toBe(true);
  }, 60_000);
});

describe('concurrent requests on one upload (its record written with a compare-and-set)', () => {
  const small = jsonl(3000);
  const fileCount = async () => (await client().files.list()).data.length;

  it('two completes at once make one file; the second waits for the first and gets what a completed upload answers', async () => {
    const { upload, parts } = await uploadParts(small, 1000);
    const before = await fileCount();
    const first = gate();
    store.gates.file = first.wait;
    const entered = store.entered.file;
    const one = client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    await until(() => store.entered.file > entered); // the first is writing its file
    const reads = store.reads;
    const two = refusal(client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) }));
    await until(() => store.reads > reads); // the second has read the upload
    first.open();
    const [done, e] = await Promise.all([one, two]);
    expect(done).toMatchObject({ status: 'completed', file: { bytes: small.length } });
    expect([e.status, e.param, e.code]).toEqual([400, 'upload_id', 'upload_completed']);
    expect(await fileCount()).toBe(before + 1);
    expect(store.entered.file).toBe(entered + 1);
  });

  it('the SDK\'s retry of a complete whose answer was lost gets the completed upload and its one file, not a 400 upload_completed', async () => {
    const { upload, parts } = await uploadParts(small, 1000);
    const before = await fileCount();
    // GIVEN the official client whose first complete's answer never arrives (API Gateway's 504, a reset connection)
    const lossy = lostAnswerFetch<{ file: { id: string } }>((url) => url.endsWith('/complete'));
    const { fetch } = lossy;
    const c = new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, fetch, timeout: 60_000 }); // maxRetries: the default 2
    // WHEN it completes the upload (its retry sends x-stainless-retry-count: 1)
    const done = await c.uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    // THEN the upload its first attempt completed, with that file, one file made (the old code: a 400 upload_completed)
    expect(done).toMatchObject({ id: upload.id, status: 'completed', file: { id: lossy.lost()!.file.id, bytes: small.length, filename: 'support.jsonl' } });
    expect(await fileCount()).toBe(before + 1);
  });

  it('the SDK\'s retry of a complete whose first attempt is still writing the file (the client\'s timeout, 1 s, cut it) gets a retryable 409 create_in_progress at once, and its next retry the completed upload and its one file', async () => {
    const { upload, parts } = await uploadParts(small, 1000);
    const before = await fileCount();
    // GIVEN a first complete held while it writes the file, opened only once its client's retry was answered
    const first = gate();
    store.gates.file = first.wait;
    const entered = store.entered.file;
    const answers: Array<{ status: number; shouldRetry: string | null; retryAfter: string | null }> = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await globalThis.fetch(url, init);
      if (!String(url).endsWith('/complete')) return res;
      answers.push({ status: res.status, shouldRetry: res.headers.get('x-should-retry'), retryAfter: res.headers.get('retry-after') });
      if (res.status === 409) {
        // The retry was refused: the first attempt goes on and ends before the client's next retry (after retry-after).
        first.open();
        await until(() => store.entered.file > entered);
        await vi.waitFor(async () => expect((await client().files.list()).data.length).toBe(before + 1));
      }
      return res;
    };
    // WHEN the Node client (timeout 1 s, its default 2 retries) completes the upload
    const done = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, fetch, timeout: 1000 }).uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    // THEN its first retry was a retryable 409 (the old code: each retry waited for the first attempt past the client's
    // timeout, and the call failed with APIConnectionTimeoutError), its second the upload with the one file made
    expect(answers).toEqual([{ status: 409, shouldRetry: 'true', retryAfter: expect.stringMatching(/^\d+$/) }, { status: 200, shouldRetry: null, retryAfter: null }]);
    expect(done).toMatchObject({ id: upload.id, status: 'completed', file: { bytes: small.length } });
    expect(await fileCount()).toBe(before + 1);
    expect(store.entered.file).toBe(entered + 1);
  });

  it('a "retry" of a complete with another body (other part_ids, another md5) is not the complete that made the file: 400 upload_completed, from the Node and Python clients', async () => {
    // GIVEN an upload completed from parts [a, b]
    const { upload, parts } = await uploadParts(small, 1000);
    const ids = parts.map((p) => p.id);
    const done = await client().uploads.complete(upload.id, { part_ids: ids });
    const before = await fileCount();
    // WHEN a request marked as an SDK's retry (x-stainless-retry-count: 1) sends another md5, or the parts in another order
    const retry = { headers: { 'x-stainless-retry-count': '1' } };
    const otherMd5 = await refusal(client().uploads.complete(upload.id, { part_ids: ids, md5: md5(Buffer.from('another file')) }, retry));
    const reordered = await refusal(client().uploads.complete(upload.id, { part_ids: [...ids].reverse() }, retry));
    const script = `
import json, sys
from openai import OpenAI, BadRequestError
url, token, upload_id, ids = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
client = OpenAI(base_url=url, api_key=token, max_retries=0)
try:
    client.uploads.complete(upload_id, part_ids=ids[1:] + ids[:1], extra_headers={"x-stainless-retry-count": "1"})
    print(json.dumps({"status": 200}))
except BadRequestError as e:
    print(json.dumps({"status": e.status_code, "code": e.code, "param": e.param}))
`;
    const python = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!, upload.id, JSON.stringify(ids)], { timeout: 60_000 })).stdout);
    // THEN each is refused as a complete that is no retry (the old code answered each the completed upload and its file)
    for (const e of [otherMd5, reordered]) expect([e.status, e.param, e.code]).toEqual([400, 'upload_id', 'upload_completed']);
    expect(python).toEqual({ status: 400, code: 'upload_completed', param: 'upload_id' });
    // and the same body, the official client's own retry, is still answered the upload and its one file
    expect(await client().uploads.complete(upload.id, { part_ids: ids }, retry)).toMatchObject({ status: 'completed', file: { id: done.file!.id } });
    expect(await fileCount()).toBe(before);
  });

  it('a cancel racing a complete: the complete that holds the upload decides; the cancel then answers as after it', async () => {
    const { upload, parts } = await uploadParts(small, 1000);
    const before = await fileCount();
    const held = gate();
    store.gates.file = held.wait;
    const entered = store.entered.file;
    const completing = client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    await until(() => store.entered.file > entered);
    const reads = store.reads;
    const cancel = refusal(client().uploads.cancel(upload.id));
    await until(() => store.reads > reads);
    held.open();
    const [done, e] = await Promise.all([completing, cancel]);
    expect(done.status).toBe('completed');
    expect([e.status, e.param, e.code]).toEqual([400, 'upload_id', 'upload_completed']);
    expect((await store.getUpload(acmeAt, upload.id))!.upload).toMatchObject({ status: 'completed', fileId: done.file!.id });
    expect(await fileCount()).toBe(before + 1);

    // A complete that is refused (a wrong md5) leaves the upload pending: the cancel waiting for it then cancels.
    const other = await uploadParts(small, 1000);
    const again = gate();
    store.gates.file = again.wait;
    const entered2 = store.entered.file;
    const refused = refusal(client().uploads.complete(other.upload.id, { part_ids: other.parts.map((p) => p.id), md5: md5(Buffer.from('not it')) }));
    await until(() => store.entered.file > entered2);
    const reads2 = store.reads;
    const cancelled = client().uploads.cancel(other.upload.id);
    await until(() => store.reads > reads2);
    again.open();
    expect([(await refused).status, (await refused).param]).toEqual([400, 'md5']);
    expect((await cancelled).status).toBe('cancelled');
    expect(await fileCount()).toBe(before + 1);
  });

  it('a part stored while a complete ran is refused and removed, never answered 200 and left out', async () => {
    // All parts but the last, so that the late part (one byte) still fits within bytes when it is checked before storing.
    const pieces = split(small, 1000);
    const upload = await client().uploads.create({ bytes: small.length, filename: 'support.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    const parts = [];
    for (const piece of pieces.slice(0, -1)) parts.push(await client().uploads.parts.create(upload.id, { data: await toFile(piece, 'part') }));
    const partGate = gate();
    store.gates.part = partGate.wait;
    const entered = store.entered.part;
    const late = refusal(client().uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'p') }));
    await until(() => store.entered.part > entered); // checked as pending, about to be stored
    store.gates.part = undefined;
    parts.push(await client().uploads.parts.create(upload.id, { data: await toFile(pieces.at(-1)!, 'part') }));
    const done = await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) });
    expect(done.status).toBe('completed');
    partGate.open();
    const e = await late;
    expect([e.status, e.param, e.code]).toEqual([400, 'upload_id', 'upload_completed']);
    expect((await store.partSizes(acmeAt, upload.id)).size).toBe(0);
  });

  it('two parts sent at once for the last place below the bound: the parts kept never pass it, and a part answered 200 is kept', async () => {
    const data = Buffer.alloc(MAX_UPLOAD_PARTS + 1, 'x');
    const upload = await client().uploads.create({ bytes: data.length, filename: 'support.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    for (let i = 0; i < MAX_UPLOAD_PARTS - 1; i++) await client().uploads.parts.create(upload.id, { data: await toFile(data.subarray(i, i + 1), 'p') });
    const partGate = gate();
    store.gates.part = partGate.wait;
    const entered = store.entered.part;
    const sent = [0, 1].map(async () => client().uploads.parts.create(upload.id, { data: await toFile(Buffer.from('y'), 'p') }).then((p) => p.id, (e: InstanceType<typeof OpenAI.APIError>) => e));
    await until(() => store.entered.part >= entered + 2); // both counted 255 parts before either was stored
    store.gates.part = undefined;
    partGate.open();
    const answers = await Promise.all(sent);
    const kept = await store.partSizes(acmeAt, upload.id);
    expect(kept.size).toBeLessThanOrEqual(MAX_UPLOAD_PARTS);
    for (const a of answers) {
      if (typeof a === 'string') expect(kept.has(a)).toBe(true);
      else expect([a.status, a.param, a.code]).toEqual([400, 'data', 'too_many_parts']);
    }
  }, 60_000);
});

describe('hostile and mistaken inputs: refusals name the field and the value, and store nothing', () => {
  it('bytes, part_ids and md5 that are not what they should be: the value is named (bounded), with the form to give', async () => {
    const long = await refusal(client().uploads.create({ bytes: 'x'.repeat(5000) as never, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }));
    expect([long.status, long.param]).toEqual([400, 'bytes']);
    expect(long.message).toContain('bytes "xxxx');
    expect(long.message.length).toBeLessThan(300);
    for (const bytes of [0, -5, 1.5, '10']) {
      const e = await refusal(client().uploads.create({ bytes: bytes as never, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }));
      expect([e.status, e.param, e.message]).toEqual([400, 'bytes', expect.stringContaining(`bytes ${JSON.stringify(bytes)} must be a positive integer`)]);
    }

    const data = Buffer.from(example(1) + example(2));
    const { upload, parts } = await uploadParts(data, 300);
    const before = (await client().files.list()).data.length;
    const notIds = await refusal(client().uploads.complete(upload.id, { part_ids: [parts[0]!.id, 42] as never }));
    expect([notIds.status, notIds.param, notIds.message]).toEqual([400, 'part_ids', expect.stringContaining('part_ids[1] 42 is not a part id')]);
    const notArray = await refusal(client().uploads.complete(upload.id, { part_ids: parts[0]!.id as never }));
    expect([notArray.status, notArray.param, notArray.message]).toEqual([400, 'part_ids', expect.stringContaining(`part_ids "${parts[0]!.id}" must be a non-empty array`)]);
    // 10,000 entries with one repeated: found at once (a set), named.
    const many = [...Array.from({ length: 9_999 }, (_, i) => `part_${i.toString(16).padStart(24, '0')}`), 'part_000000000000000000000000'];
    const repeated = await refusal(client().uploads.complete(upload.id, { part_ids: many }));
    expect([repeated.status, repeated.param, repeated.message]).toEqual([400, 'part_ids', expect.stringContaining('names part part_000000000000000000000000 twice')]);
    const digest = createHash('md5').update(data);
    const base64 = digest.copy().digest('base64');
    const b64 = await refusal(client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: base64 }));
    expect([b64.status, b64.param, b64.message]).toEqual([400, 'md5', expect.stringContaining(`it looks like the base64 form of ${digest.digest('hex')}`)]);
    expect((await client().files.list()).data.length).toBe(before);
    // Upper-case hex is the same digest: taken.
    expect((await client().uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: md5(data).toUpperCase() })).status).toBe('completed');
  });

  it('parts completed in another order than sent make the file in part_ids order; CRLF and a last line without newline are a file, a BOM is not', async () => {
    const [a, b] = [Buffer.from(example(1).replace('\n', '\r\n')), Buffer.from(example(2).trimEnd())];
    const upload = await client().uploads.create({ bytes: a.length + b.length, filename: 'order.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
    const pb = await client().uploads.parts.create(upload.id, { data: await toFile(b, 'b') });
    const pa = await client().uploads.parts.create(upload.id, { data: await toFile(a, 'a') });
    const done = await client().uploads.complete(upload.id, { part_ids: [pa.id, pb.id] });
    expect(Buffer.from(await (await client().files.content(done.file!.id)).arrayBuffer()).equals(Buffer.concat([a, b]))).toBe(true);

    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(example(3))]);
    const withBom = await uploadParts(bom, 100);
    const e = await refusal(client().uploads.complete(withBom.upload.id, { part_ids: withBom.parts.map((p) => p.id) }));
    expect([e.status, e.param, e.message]).toEqual([400, 'file', expect.stringContaining('byte order mark')]);
  });

  it('names, MIME types, part bodies and ids of another resource: each refused naming its field, no part stored (guards of what was right)', async () => {
    for (const filename of ['../../etc/x.jsonl', 'a\u202Egnp.jsonl', `${'é'.repeat(128)}.jsonl`]) {
      const e = await refusal(client().uploads.create({ bytes: 10, filename, mime_type: 'text/jsonl', purpose: 'fine-tune' }));
      expect([e.status, e.param, e.code]).toEqual([400, 'filename', 'invalid_filename']);
    }
    const mime = await refusal(client().uploads.create({ bytes: 10, filename: 'a.jsonl', mime_type: 'application/pdf', purpose: 'fine-tune' }));
    expect([mime.status, mime.param, mime.message]).toEqual([400, 'mime_type', expect.stringContaining('mime_type "application/pdf"')]);
    const purpose = await refusal(client().uploads.create({ bytes: 10, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'Fine-Tune' as never }));
    expect([purpose.status, purpose.param, purpose.message]).toEqual([400, 'purpose', expect.stringContaining('purpose "Fine-Tune" is not one of')]);

    const { upload } = await uploadParts(jsonl(100), 1000);
    const sizes = async () => (await store.partSizes(acmeAt, upload.id)).size;
    const before = await sizes();
    const post = (body: FormData | string, contentType?: string) => fetch(`${gw.url}/uploads/${upload.id}/parts`, { method: 'POST', body, headers: { authorization: `Bearer ${tokens.acme}`, ...(contentType ? { 'content-type': contentType } : {}) } })
      .then(async (r) => [r.status, ((await r.json()) as { error: { param: string | null } }).error.param]);
    const form = (fields: Array<[string, Blob | string]>) => { const f = new FormData(); for (const [k, v] of fields) f.append(k, v, ...(typeof v === 'string' ? [] : ['p'])); return f; };
    expect(await post(form([['data', new Blob([])]]))).toEqual([400, 'data']);
    expect(await post(form([['file', new Blob(['x'])]]))).toEqual([400, 'file']);
    expect(await post(form([['data', new Blob(['x'])], ['data', new Blob(['y'])]]))).toEqual([400, 'data']);
    expect(await post(form([['data', 'text, not a file part']]))).toEqual([400, 'data']);
    expect(await post('{"data": "x"}', 'application/json')).toEqual([400, null]);
    expect(await sizes()).toBe(before);
    for (const id of ['file-000000000000000000000000', 'part_000000000000000000000000', 'UPLOAD_000000000000000000000000']) {
      const e = await refusal(client().uploads.cancel(id));
      expect([e.status, e.param, e.code]).toEqual([404, 'upload_id', 'upload_not_found']);
    }
  });
});
