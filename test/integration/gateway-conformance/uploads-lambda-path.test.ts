import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { apiRefusal } from '../../support/vector-store-gateway.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { openAiAnswer } from './matrix.js';
import { nodeClient } from './official-clients.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 90_000 });

/**
 * OpenAI's Uploads API for the gateway's files on the deployed path, in moto: the fine-tuning Lambda's API handler
 * takes `/v1/uploads` (records and parts in the batch files bucket under tenants/<tenant>/batch-files/uploads/, as the
 * tenant), `complete` stores a `batch` or `assistants` file as POST /v1/files does; the router runs the batch from
 * the work queue (the test plays its event source mapping). A batch file over 4 MiB (more than POST /v1/files takes
 * through API Gateway and Lambda) goes in 4 MiB parts. Before, /v1/uploads took purpose `fine-tune` only.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let queueUrl: string;
const tokens: Record<string, string> = {};
const router = async () => (await import('../../../lambdas/inference/router-handler.js')).handler as unknown as (event: SQSEvent, stream: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex')], { fineTuning: true });
  await createResponsesTable('tessera-responses');
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'tessera-batch-files' }));
  queueUrl = (await new SQSClient({}).send(new CreateQueueCommand({ QueueName: 'tessera-batches', Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  Object.assign(process.env, { [GATEWAY_ENV.responsesTable]: 'tessera-responses', [GATEWAY_ENV.batchFilesBucket]: 'tessera-batch-files', [GATEWAY_ENV.batchQueueUrl]: queueUrl });
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
});
afterAll(async () => {
  for (const v of [GATEWAY_ENV.responsesTable, GATEWAY_ENV.batchFilesBucket, GATEWAY_ENV.batchQueueUrl]) delete process.env[v];
  await apigw?.stop();
  await upstream?.stop();
});

const MiB = 1024 * 1024;
/** A batch input file of `n` chat requests, each line padded with JSON whitespace to ~`pad` bytes. */
const batchFile = (n: number, pad: number, tag: string) => Buffer.from(Array.from({ length: n }, (_, i) =>
  `{${' '.repeat(pad)}"custom_id": "${tag}-${i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "openai-compatible/default", "messages": [{"role": "user", "content": "${tag} ${i}"}]}}\n`).join(''));
const keys = async (prefix: string) => ((await new S3Client({ forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: 'tessera-batch-files', Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

/** Runs the work queue's messages through the router until none is left. */
async function drain() {
  for (let round = 0; round < 20; round++) {
    const messages = (await new SQSClient({}).send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages ?? [];
    if (!messages.length) return;
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, md5OfBody: m.MD5OfBody!, messageAttributes: {},
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' },
        eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:tessera-batches', awsRegion: 'us-east-1',
      })),
    };
    const endsAt = Date.now() + 900_000;
    await (await router())(event, new Writable({ write(_c, _e, cb) { cb(); } }), { getRemainingTimeInMillis: () => endsAt - Date.now() });
    for (const m of messages) await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
  }
  throw new Error('the work queue still had messages after 20 rounds');
}

describe('the Uploads API for the gateway\'s files through the Lambda adapters, on moto', () => {
  it('Node: a 5 MB batch file in 4 MiB parts becomes a batch file that a batch runs to completed; parts gone; globex gets 404s', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const content = batchFile(3, 1_800_000, 'node');
    expect(content.byteLength).toBeGreaterThan(4 * MiB);
    const upload = await acme.uploads.create({ bytes: content.byteLength, filename: 'large.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const partIds: string[] = [];
    for (let at = 0; at < content.byteLength; at += 4 * MiB) partIds.push((await acme.uploads.parts.create(upload.id, { data: await toFile(content.subarray(at, at + 4 * MiB), 'part') })).id);
    expect(await keys(`tenants/acme/batch-files/uploads/${upload.id}/`)).toEqual(expect.arrayContaining([`tenants/acme/batch-files/uploads/${upload.id}/upload.json`, ...partIds.map((p) => `tenants/acme/batch-files/uploads/${upload.id}/parts/${p}`)]));
    // Another tenant does not reach acme's upload.
    // A developer of globex (fine-tuning permissions too): an upload id the gateway's store does not hold goes on to the fine-tuning API, which does not know it either.
    const globex = nodeClient(apigw.url, await apigw.token('globex', { role: 'developer' }));
    expect(await apiRefusal(globex.uploads.complete(upload.id, { part_ids: partIds }))).toMatchObject({ status: 404, code: 'upload_not_found' });
    expect(await apiRefusal(globex.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('{}\n'), 'p') }))).toMatchObject({ status: 404, code: 'upload_not_found' });
    // A member of globex (no fine-tuning permission): the same 404, not the fine-tuning API's 403.
    expect(await apiRefusal(nodeClient(apigw.url, tokens.globex!).uploads.cancel(upload.id))).toMatchObject({ status: 404, code: 'upload_not_found' });

    const done = await acme.uploads.complete(upload.id, { part_ids: partIds, md5: createHash('md5').update(content).digest('hex') });
    expect(done).toMatchObject({ status: 'completed', file: { purpose: 'batch', filename: 'large.jsonl', bytes: content.byteLength } });
    expect(await keys(`tenants/acme/batch-files/uploads/${upload.id}/parts/`)).toEqual([]);
    expect(await keys(`tenants/acme/batch-files/${done.file!.id}`)).toEqual([`tenants/acme/batch-files/${done.file!.id}`]);
    expect(Buffer.from(await (await acme.files.content(done.file!.id)).arrayBuffer()).equals(content)).toBe(true);

    upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const created = await acme.batches.create({ input_file_id: done.file!.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await drain();
    expect(await acme.batches.retrieve(created.id)).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 3, failed: 0 } });
    expect(await apiRefusal(globex.files.retrieve(done.file!.id))).toMatchObject({ status: 404 });
  });

  it('a part that would take the upload past its bytes is a 400 naming data and both figures, not stored in the bucket', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const content = batchFile(1, 10, 'bound');
    const upload = await acme.uploads.create({ bytes: content.byteLength, filename: 'bound.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const first = await acme.uploads.parts.create(upload.id, { data: await toFile(content.subarray(0, -2), 'p') });
    // 1 MiB more on an upload of a few hundred bytes (before, taken: up to 256 parts of 4 MiB, 1 GiB, in the bucket).
    const over = await apiRefusal(acme.uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(MiB, 0x20), 'p') }));
    expect(over).toMatchObject({ status: 400, param: 'data', code: 'upload_bytes_exceeded' });
    expect(over.message).toContain(`that is ${content.byteLength - 2 + MiB} bytes, over the ${content.byteLength} bytes it was created with (bytes)`);
    expect(await keys(`tenants/acme/batch-files/uploads/${upload.id}/parts/`)).toEqual([`tenants/acme/batch-files/uploads/${upload.id}/parts/${first.id}`]);
    const last = await acme.uploads.parts.create(upload.id, { data: await toFile(content.subarray(-2), 'p') });
    expect((await acme.uploads.complete(upload.id, { part_ids: [first.id, last.id] })).file).toMatchObject({ purpose: 'batch', bytes: content.byteLength });
  });

  it('OpenAI\'s limits on AWS (the file composed by S3, never held): an assistants upload of 300 MiB is taken at create, one over 512 MiB a 413 naming bytes, a batch over 200 MiB a 400 naming bytes; a bad line is a 400 naming file, no file, no open multipart upload', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    // Before: 64 MiB on AWS, the file read whole in the Lambda's 512 MB.
    expect(await acme.uploads.create({ bytes: 300 * MiB, filename: 'manual.txt', mime_type: 'text/plain', purpose: 'assistants' })).toMatchObject({ status: 'pending', bytes: 300 * MiB });
    expect(await apiRefusal(acme.uploads.create({ bytes: 512 * MiB + 1, filename: 'manual.txt', mime_type: 'text/plain', purpose: 'assistants' }))).toMatchObject({ status: 413, param: 'bytes' });
    expect(await apiRefusal(acme.uploads.create({ bytes: 200 * MiB + 1, filename: 'big.jsonl', mime_type: 'application/jsonl', purpose: 'batch' }))).toMatchObject({ status: 400, param: 'bytes' });

    const good = batchFile(3, 1_800_000, 'bad-line');
    const content = Buffer.concat([good, Buffer.from('{"custom_id": oops}\n')]);
    const upload = await acme.uploads.create({ bytes: content.byteLength, filename: 'bad.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const partIds: string[] = [];
    for (let at = 0; at < content.byteLength; at += 4 * MiB) partIds.push((await acme.uploads.parts.create(upload.id, { data: await toFile(content.subarray(at, at + 4 * MiB), 'part') })).id);
    const before = await keys('tenants/acme/batch-files/file-');
    const refused = await apiRefusal(acme.uploads.complete(upload.id, { part_ids: partIds }));
    expect(refused).toMatchObject({ status: 400, param: 'file', code: 'invalid_file_format' });
    expect(refused.message).toContain('line 4 is not valid JSON');
    expect(await keys('tenants/acme/batch-files/file-')).toEqual(before);
    expect((await new S3Client({ forcePathStyle: true }).send(new ListMultipartUploadsCommand({ Bucket: 'tessera-batch-files' }))).Uploads ?? []).toEqual([]);
  });

  it('Python: upload_file_chunked of a 5 MB batch file in 4 MiB parts, and an assistants file; a part over 4 MiB is a 413 naming data', async () => {
    const script = `
import json, sys
from openai import OpenAI, APIStatusError
url, token = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=url, api_key=token, max_retries=0)
pad = " " * 1800000
data = "".join('{%s"custom_id": "py-%d", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "openai-compatible/default", "messages": [{"role": "user", "content": "py %d"}]}}\\n' % (pad, i, i) for i in range(3)).encode()
batch = client.uploads.upload_file_chunked(file=data, filename="chunked.jsonl", bytes=len(data), mime_type="application/jsonl", purpose="batch", part_size=4 * 1024 * 1024)
doc = b"# Returns\\nParcels returned within thirty days are refunded in full.\\n"
notes = client.uploads.upload_file_chunked(file=doc, filename="returns.md", bytes=len(doc), mime_type="text/markdown", purpose="assistants", part_size=32)
try:
    # 4 MiB + 64 KiB: over the part limit, yet its event (the part base64, 4/3 of it) within Lambda's 6,291,456 bytes;
    # a 5 MiB part's event is past it, and API Gateway answers its own 413 before the router runs.
    client.uploads.upload_file_chunked(file=data, filename="big-parts.jsonl", bytes=len(data), mime_type="application/jsonl", purpose="batch", part_size=4 * 1024 * 1024 + 65536)
    too_big = None
except APIStatusError as e:
    too_big = {"status": e.status_code, "param": e.body.get("param") if isinstance(e.body, dict) else None}
try:
    client.files.content(notes.file.id)
    download = None
except APIStatusError as e:
    download = {"status": e.status_code, "message": e.body.get("message") if isinstance(e.body, dict) else None}
print(json.dumps({"bytes": len(data), "batch": batch.file.model_dump(), "notes": notes.file.model_dump(), "download": download, "too_big": too_big}))
`;
    const out = JSON.parse((await runPythonCode(script, [apigw.url, tokens.acme!])).stdout);
    expect(out.bytes).toBeGreaterThan(4 * MiB);
    expect(out.batch).toMatchObject({ purpose: 'batch', filename: 'chunked.jsonl', bytes: out.bytes });
    expect(out.notes).toMatchObject({ purpose: 'assistants', filename: 'returns.md', expires_at: null });
    // As OpenAI's, an assistants file is not downloadable; it is still kept (its object, below).
    expect(out.download).toMatchObject({ status: 400, message: expect.stringMatching(/^Not allowed to download files of purpose: assistants\./) });
    expect(out.too_big).toEqual({ status: 413, param: 'data' });
    // An assistants file is kept until deleted: kept-files/, outside the expiring prefix.
    expect(await keys(`kept-files/acme/${out.notes.id}`)).toEqual([`kept-files/acme/${out.notes.id}`]);
  });
});
