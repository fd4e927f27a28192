import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readBatchFile } from '../../../lambdas/inference/batches/input-file.js';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { erasePooledData } from '../../../lambdas/lifecycle/erase-pooled-gateway-data.js';
import type { SQSEvent } from 'aws-lambda';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { Gateway } from '../../../lambdas/inference/gateway.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { S3BatchFileStore } from '../../../lambdas/inference/batches/s3-batch-file-store.js';
import { DynamoDbBatchStore } from '../../../lambdas/inference/batches/dynamodb-batch-store.js';
import { DynamoDbPendingCreates } from '../../../lambdas/inference/stores/dynamodb-pending-creates.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { openAiAnswer } from './matrix.js';
import { nodeClient } from './official-clients.js';
import { plainTenant } from './setup.js';
import { lostAnswerFetch } from '../../support/lost-answer-fetch.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * OpenAI's Batch API on the deployed path, in moto: the fine-tuning Lambda's API handler takes `/v1/files` (purpose
 * batch: records in the responses table, content in the batch files bucket, as the tenant), the streaming router
 * `/v1/batches` (create sends a message to the work queue); the test plays the queue's event source mapping,
 * receiving from moto's SQS and invoking the router's handler with SQS events (a small Lambda context makes a run
 * need several chunks). Every request runs through the gateway as the batch's creator (the fake upstream sees them).
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let queueUrl: string;
const tokens: Record<string, string> = {};
const router = async () => (await import('../../../lambdas/inference/router-handler.js')).handler as unknown as (event: SQSEvent, stream: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  // tinyco is on the tiny tier (2 requests a minute), for a batch larger than its per-minute limit.
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex'), { ...plainTenant('tinyco'), tier: 'tiny' }, plainTenant('leaver')], { fineTuning: true });
  await createResponsesTable('tessera-responses');
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'tessera-batch-files' }));
  queueUrl = (await new SQSClient({}).send(new CreateQueueCommand({ QueueName: 'tessera-batches', Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  // Before the Lambdas build their gateways (on their first invocation).
  Object.assign(process.env, { [GATEWAY_ENV.responsesTable]: 'tessera-responses', [GATEWAY_ENV.batchFilesBucket]: 'tessera-batch-files', [GATEWAY_ENV.batchQueueUrl]: queueUrl });
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
});
afterAll(async () => {
  for (const v of [GATEWAY_ENV.responsesTable, GATEWAY_ENV.batchFilesBucket, GATEWAY_ENV.batchQueueUrl]) delete process.env[v];
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const MODEL = 'openai-compatible/default';
const chatLine = (customId: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content: `say ${customId}` }] } });

/** Messages waiting in the work queue (received, not yet deleted). */
async function receive() {
  const out = await new SQSClient({}).send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return out.Messages ?? [];
}

/** Invokes the router with these messages as SQS's event source mapping does; deletes the ones it did not report failed. @returns the answer */
async function deliver(messages: Awaited<ReturnType<typeof receive>>, remainingMs: number, options: { keep?: boolean } = {}) {
  const event: SQSEvent = {
    Records: messages.map((m) => ({
      messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, md5OfBody: m.MD5OfBody!, messageAttributes: {},
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' },
      eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:tessera-batches', awsRegion: 'us-east-1',
    })),
  };
  const chunks: Buffer[] = [];
  const endsAt = Date.now() + remainingMs;
  await (await router())(event, new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }), { getRemainingTimeInMillis: () => endsAt - Date.now() });
  const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { batchItemFailures: Array<{ itemIdentifier: string }> };
  if (!options.keep) {
    for (const m of messages) if (!answer.batchItemFailures.some((f) => f.itemIdentifier === m.MessageId)) await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
  }
  return answer;
}

/** Delivers the queue's messages with plenty of time until none is left (at most `rounds` rounds). */
async function drain(rounds = 10) {
  for (let i = 0; i < rounds; i++) {
    const messages = await receive();
    if (!messages.length) return;
    expect(await deliver(messages, 900_000)).toEqual({ batchItemFailures: [] });
  }
  throw new Error(`the work queue still had messages after ${rounds} rounds`);
}

describe('the Batch API through the Lambda adapters, on moto (DynamoDB, S3, SQS)', () => {
  it('files.create → batches.create → the worker in chunks (a duplicate delivery runs nothing twice) → completed; the output has every custom_id once; another tenant gets 404s (Node client)', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    // A developer of globex: a file id the Batch API does not know goes on to the fine-tuning Files API, which a member may not read (403).
    const globex = nodeClient(apigw.url, await apigw.token('globex', { role: 'developer' }));
    upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const ids = ['one', 'two', 'three'];
    const file = await acme.files.create({ file: await toFile(Buffer.from(`${ids.map(chatLine).join('\n')}\n`), 'requests.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'requests.jsonl' });
    // The record in acme's partition of the responses table; the bytes at tenants/acme/batch-files/<id>.
    const doc = await unscopedDocumentClient()('');
    expect((await doc.send(new GetCommand({ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: file.id } }))).Item).toMatchObject({ expiresAt: file.expires_at });
    const keys = async () => ((await new S3Client({ forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: 'tessera-batch-files' }))).Contents ?? []).map((o) => o.Key);
    expect(await keys()).toContain(`tenants/acme/batch-files/${file.id}`);

    const created = await acme.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(created).toMatchObject({ status: 'validating', request_counts: { total: 3, completed: 0, failed: 0 } });
    expect(upstream.calls).toHaveLength(0);

    // The create's message, with 60 s left (under the chunk margin, over the settle margin): one request, then a message for the rest.
    const [first] = await receive();
    expect(JSON.parse(first!.Body!)).toEqual({ tenantId: 'acme', batchId: created.id });
    expect(await deliver([first!], 60_000, { keep: true })).toEqual({ batchItemFailures: [] });
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]!.headers.authorization).toBe('Bearer key-of-acme');
    expect(await acme.batches.retrieve(created.id)).toMatchObject({ status: 'in_progress', request_counts: { total: 3, completed: 1, failed: 0 } });
    // The same message delivered again (SQS: at least once): nothing runs twice.
    expect(await deliver([first!], 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.calls).toHaveLength(1);

    await drain();
    expect(upstream.calls).toHaveLength(3);
    const done = await acme.batches.retrieve(created.id);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 3, failed: 0 } });
    expect(done.error_file_id ?? null).toBeNull();
    const output = (await (await acme.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(output.map((l) => l.custom_id).sort()).toEqual([...ids].sort());
    expect(output[0]).toMatchObject({ response: { status_code: 200, body: { object: 'chat.completion' } }, error: null });
    // The worker's parts are gone; the output file is listed beside the input.
    expect((await keys()).filter((k) => k!.includes(created.id))).toEqual([]);
    const listed = [];
    for await (const f of acme.files.list()) listed.push(f.id);
    expect(listed).toEqual(expect.arrayContaining([file.id, done.output_file_id]));

    for (const call of [() => globex.batches.retrieve(created.id), () => globex.batches.cancel(created.id), () => globex.files.retrieve(file.id), () => globex.files.content(done.output_file_id!), () => globex.files.delete(file.id)]) {
      const e: any = await call().then(() => undefined, (x: unknown) => x);
      expect(e?.status, JSON.stringify([e?.code, e?.message])).toBe(404);
    }
    expect((await globex.batches.list()).data).toEqual([]);
  });

  it('a batch created with x-tessera-tags: its record in the responses table keeps them, and each line the worker runs in its chunks has them on its record (S3) and counts under them (GET /v1/usage?group_by=tag)', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const file = await acme.files.create({ file: await toFile(Buffer.from(`${['t1', 't2'].map(chatLine).join('\n')}\n`), 'tagged.jsonl'), purpose: 'batch' });
    const batch = await acme.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, { headers: { 'x-tessera-tags': 'nightly-s44k, team=search' } });
    const doc = await unscopedDocumentClient()('');
    const item = (await doc.send(new GetCommand({ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: batch.id }, ConsistentRead: true }))).Item!;
    expect(JSON.parse(item.body as string).tags).toEqual(['nightly-s44k', 'team=search']);
    // The create's message with 60 s left: one line, then a message for the rest (a second chunk, its own invocation).
    expect(await deliver(await receive(), 60_000)).toEqual({ batchItemFailures: [] });
    await drain();
    const done = await acme.batches.retrieve(batch.id);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } });
    await apigw.settled();
    const output = (await (await acme.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; response: { request_id: string } });
    for (const line of output) {
      expect(await acme.get(`/tenant/requests/${line.response.request_id}`)).toMatchObject({ status: 200, tags: ['nightly-s44k', 'team=search'] });
    }
    const developer = nodeClient(apigw.url, await apigw.token('acme', { role: 'developer' }));
    const listed = (await developer.get('/usage', { query: { group_by: 'tag' } })) as { data: Array<{ id: string; month: { tokens: number; requests: number } }> };
    const nightly = listed.data.find((t) => t.id === 'nightly-s44k');
    expect(nightly?.month.requests).toBe(2);
    expect(nightly!.month.tokens).toBeGreaterThan(0);
    expect(listed.data.find((t) => t.id === 'team=search')?.month).toEqual(nightly!.month);
  });

  it('a batch cancelled between chunks stops: the next chunk runs nothing and ends it cancelled with the answers so far', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    upstream.script({ body: openAiAnswer('text') });
    const file = await acme.files.create({ file: await toFile(Buffer.from(`${['x', 'y', 'z'].map(chatLine).join('\n')}\n`), 'c.jsonl'), purpose: 'batch' });
    const batch = await acme.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(await deliver(await receive(), 60_000)).toEqual({ batchItemFailures: [] });
    expect(await acme.batches.cancel(batch.id)).toMatchObject({ status: 'cancelling' });
    await drain();
    expect(upstream.calls).toHaveLength(1);
    expect(await acme.batches.retrieve(batch.id)).toMatchObject({ status: 'cancelled', request_counts: { total: 3, completed: 1, failed: 0 } });
  });

  it('a tenant offboarded while its batch runs: the next chunk is refused before any upstream call and fails the batch (tenant_not_active, the lines not run in the error file); the offboarding\'s erasure then leaves none of its items or objects, and a late message runs nothing', async () => {
    const leaver = nodeClient(apigw.url, await apigw.token('leaver'));
    upstream.script({ body: openAiAnswer('text') });
    const ids = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'];
    const file = await leaver.files.create({ file: await toFile(Buffer.from(`${ids.map(chatLine).join('\n')}\n`), 'leaver.jsonl'), purpose: 'batch' });
    const batch = await leaver.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    // The create's message with 60 s left: one request, then a message for the rest.
    const [first] = await receive();
    expect(await deliver([first!], 60_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.calls).toHaveLength(1);
    // The offboarding starts (the registry's status: the gateway refuses the tenant from now on).
    const doc = await unscopedDocumentClient()('');
    await doc.send(new UpdateCommand({ TableName: 'tessera-tenants', Key: { tenantId: 'leaver' }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'OFFBOARDING' } }));
    const [next] = await receive();
    expect(await deliver([next!], 900_000)).toEqual({ batchItemFailures: [] });
    expect(await receive()).toEqual([]);
    expect(upstream.calls).toHaveLength(1);
    const stored = async () => (await doc.send(new GetCommand({ TableName: 'tessera-responses', Key: { tenantId: 'leaver', responseId: batch.id }, ConsistentRead: true }))).Item;
    const ended = JSON.parse((await stored())!.body as string);
    expect(ended.batch).toMatchObject({ status: 'failed', request_counts: { total: 6, completed: 1 }, errors: { data: [{ code: 'tenant_not_active', line: null, param: null }] } });
    expect(ended.batch.errors.data[0].message).toContain('OFFBOARDING');
    const s3 = new S3Client({ forcePathStyle: true });
    const text = async (fileId: string) => (await (await s3.send(new GetObjectCommand({ Bucket: 'tessera-batch-files', Key: `tenants/leaver/batch-files/${fileId}` }))).Body!.transformToString()).trim().split('\n').map((l) => JSON.parse(l));
    // Every other line is in the error file: refused (403, the lines the chunk's 4 workers had started) or not run.
    const errorLines = await text(ended.batch.error_file_id);
    expect(errorLines.map((l: any) => l.custom_id).sort()).toEqual(ids.slice(1));
    const refused = errorLines.filter((l: any) => l.response?.status_code === 403 && l.response.body.error.code === 'tenant_not_active');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(4);
    expect(ended.batch.request_counts.failed).toBe(refused.length);
    expect(errorLines.filter((l: any) => l.response === null).map((l: any) => l.error.code)).toEqual(Array(errorLines.length - refused.length).fill('tenant_not_active'));
    const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: 'tessera-batch-files', Prefix: 'tenants/leaver/' }))).Contents ?? []).map((o) => o.Key);
    // No part is left (finish deleted them); the offboarding's erasure takes the batch, its input, output and error files.
    expect((await keys()).filter((k) => k!.includes(batch.id))).toEqual([]);
    const erased = await erasePooledData('leaver', undefined, { dynamodb: new DynamoDBClient({}), s3, table: 'tessera-responses', bucket: 'tessera-batch-files' });
    expect(erased).toMatchObject({ state: 'COMPLETE', deleted: { batches: 1, batchFiles: 3 } });
    expect(await keys()).toEqual([]);
    expect((await doc.send(new QueryCommand({ TableName: 'tessera-responses', KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': 'leaver' } }))).Items).toEqual([]);
    // A duplicate of the chunk's message delivered after the erasure finds no batch: nothing runs, nothing is sent.
    expect(await deliver([next!], 900_000)).toEqual({ batchItemFailures: [] });
    expect(await receive()).toEqual([]);
    expect(upstream.calls).toHaveLength(1);
  });

  it("a batch of more lines than the tenant's per-minute limit completes with every line answered once: the chunk waits inside its invocation for the next minute's window (DynamoDB counters), nothing is a failed line", async () => {
    // The tiny tier takes 2 requests a minute, a batch's lines 1. Only Date is faked; the test moves it to the next minute
    // each time a line has been refused (Gateway.batchRequest answered 429), as the minutes pass while the chunk waits.
    vi.useFakeTimers({ toFake: ['Date'], now: Math.floor(Date.now() / 60_000) * 60_000 + 61_000 });
    const answers = vi.spyOn(Gateway.prototype, 'batchRequest');
    try {
      const tiny = nodeClient(apigw.url, await apigw.token('tinyco'));
      const ids = ['t1', 't2', 't3'];
      const file = await tiny.files.create({ file: await toFile(Buffer.from(`${ids.map(chatLine).join('\n')}\n`), 'tiny.jsonl'), purpose: 'batch' });
      const created = await tiny.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const refused = () => answers.mock.settledResults.filter((r) => r.type === 'fulfilled' && r.value.status === 429).length;
      let done = false;
      const chunk = deliver(await receive(), 900_000).finally(() => { done = true; });
      let minutes = 0;
      while (!done) {
        if (refused() > minutes) {
          minutes++;
          vi.setSystemTime(Date.now() + 60_000);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await chunk).toEqual({ batchItemFailures: [] });
      // One chunk ran the whole batch: no message is left.
      expect(await receive()).toEqual([]);
      // Each line after the first waited for a minute of its own (the first too when the create's request took the batch's share of its minute).
      expect(minutes).toBeGreaterThanOrEqual(ids.length - 1);
      const batch = await tiny.batches.retrieve(created.id);
      expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 3, failed: 0 } });
      expect(batch.error_file_id ?? null).toBeNull();
      const output = (await (await tiny.files.content(batch.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
      expect(output.map((l) => l.custom_id).sort()).toEqual(ids);
      expect(output.every((l) => l.response.status_code === 200)).toBe(true);
      expect(upstream.requests).toHaveLength(3);
    } finally {
      answers.mockRestore();
      vi.useRealTimers();
    }
  });

  it('a create whose work-queue message cannot be sent: a 503 batch_not_started, and every batch the Node client\'s retries made is failed, none left validating for ever', async () => {
    const acme = nodeClient(apigw.url, await apigw.token('acme', { sub: 'queue-down' }), 2); // the official clients' default retries
    const file = await acme.files.create({ file: await toFile(Buffer.from(`${chatLine('q')}\n`), 'q.jsonl'), purpose: 'batch' });
    const before = new Set((await acme.batches.list()).data.map((b) => b.id));
    // SQS answers QueueDoesNotExist for a queue that is not there (AWS.SimpleQueueService.NonExistentQueue).
    process.env[GATEWAY_ENV.batchQueueUrl] = `${queueUrl}-missing`;
    const e = await acme.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).then(() => undefined, (x: unknown) => x as { status: number; code: string; message: string });
    process.env[GATEWAY_ENV.batchQueueUrl] = queueUrl;
    expect(e).toMatchObject({ status: 503, code: 'batch_not_started' });
    expect(e!.message).toMatch(/could not be started .*; it is marked failed and nothing ran: create it again$/);
    const made = (await acme.batches.list()).data.filter((b) => !before.has(b.id));
    expect(made).toHaveLength(3); // a 503 is the SDK's to retry (the queue may be back): each attempt a batch, each failed
    for (const b of made) expect(b).toMatchObject({ status: 'failed', errors: { data: [{ code: 'batch_not_started' }] } });
    expect(await receive()).toEqual([]);
    expect(upstream.calls).toHaveLength(0);
  });

  it('a deliberate second create of the same body whose first attempt was not started (503 batch_not_started): its retry makes a new batch, not the answer of the earlier create (Node client\'s own retry, Python client\'s retry request)', async () => {
    const token = await apigw.token('acme', { sub: 'same-body-twice' });
    const file = await nodeClient(apigw.url, token).files.create({ file: await toFile(Buffer.from(`${chatLine('twice')}\n`), 'twice.jsonl'), purpose: 'batch' });
    const params = { input_file_id: file.id, endpoint: '/v1/chat/completions' as const, completion_window: '24h' as const };
    // GIVEN a batch a create of that body made
    const earlier = await nodeClient(apigw.url, token).batches.create(params);
    const queueDown = () => { process.env[GATEWAY_ENV.batchQueueUrl] = `${queueUrl}-missing`; };
    const queueUp = () => { process.env[GATEWAY_ENV.batchQueueUrl] = queueUrl; };
    try {
      // WHEN the same user creates the same batch again, on purpose, and that call's first attempt finds the work queue
      // down (its batch marked failed, a 503 the SDK retries), the queue back for the retry (x-stainless-retry-count: 1)
      queueDown();
      let attempts = 0;
      const fetch = async (url: string | URL | Request, init?: RequestInit) => {
        const res = await globalThis.fetch(url, init);
        if (init?.method === 'POST' && String(url).endsWith('/batches') && ++attempts === 1) queueUp();
        return res;
      };
      const again = await new OpenAI({ baseURL: apigw.url, apiKey: token, fetch, timeout: 20_000 }).batches.create(params); // maxRetries: the default 2
      // THEN the retry made a batch of its own, started (the old code answered the earlier batch: two creates, one run)
      expect(attempts).toBe(2);
      expect(again.id).not.toBe(earlier.id);
      expect(again.status).toBe('validating');
      // The Python client's retry sends the same bytes with x-stainless-retry-count: 1 (sent here as that request, after its first attempt's 503).
      const script = `
import json, sys
from openai import OpenAI, APIStatusError
url, token, file_id, retry = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
client = OpenAI(base_url=url, api_key=token, max_retries=0)
headers = {"x-stainless-retry-count": "1"} if retry == "1" else {}
try:
    print(json.dumps({"id": client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h", extra_headers=headers).id}))
except APIStatusError as e:
    print(json.dumps({"status": e.status_code, "code": e.code}))
`;
      queueDown();
      const refused = JSON.parse((await runPythonCode(script, [apigw.url, token, file.id, '0'])).stdout);
      queueUp();
      const retried = JSON.parse((await runPythonCode(script, [apigw.url, token, file.id, '1'])).stdout);
      expect(refused).toEqual({ status: 503, code: 'batch_not_started' });
      expect([earlier.id, again.id]).not.toContain(retried.id);
      const mine = (await nodeClient(apigw.url, token).batches.list()).data.filter((b) => b.input_file_id === file.id);
      // three batches to run, one per create, and the two first attempts' batches failed, nothing of them run
      expect(mine.filter((b) => b.status !== 'failed').map((b) => [b.id, b.status]).sort()).toEqual([[earlier.id, 'validating'], [again.id, 'validating'], [retried.id, 'validating']].sort());
      expect(mine.filter((b) => b.status === 'failed')).toHaveLength(2);
    } finally {
      queueUp();
      for (const m of await receive()) await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  });

  it('the Node client\'s retry of a files.create whose answer was lost (the fine-tuning Lambda stored the file, the connection dropped) gets that file, no second one in the table', async () => {
    const token = await apigw.token('acme', { sub: 'lost-upload' });
    const before = new Set((await nodeClient(apigw.url, token).files.list({ limit: 100 })).data.map((f) => f.id));
    const lossy = lostAnswerFetch((url, init) => init?.method === 'POST' && url.endsWith('/files'));
    const { fetch } = lossy;
    const made = await new OpenAI({ baseURL: apigw.url, apiKey: token, fetch, timeout: 20_000 }).files.create({ file: await toFile(Buffer.from('%PDF-1.4\n%%EOF\n'), 'memo.pdf'), purpose: 'user_data' });
    expect(made).toMatchObject({ id: lossy.lost()?.id, purpose: 'user_data', filename: 'memo.pdf' });
    expect((await nodeClient(apigw.url, token).files.list({ limit: 100 })).data.filter((f) => !before.has(f.id)).map((f) => f.id)).toEqual([lossy.lost()?.id]);
  });

  it('a files.create whose first attempt is still storing the file when the client\'s retry comes (timeout 3 s, a slow S3 put): the retry waits on the attempt\'s note in the responses table and is answered that file; no second file (Node and Python clients)', async () => {
    // The first put of each upload waits until a retry has read the note of the attempt (DynamoDbPendingCreates).
    const put = S3BatchFileStore.prototype.put;
    const read = DynamoDbPendingCreates.prototype.read;
    const puts: string[] = [];
    let opened: () => void = () => undefined;
    vi.spyOn(S3BatchFileStore.prototype, 'put').mockImplementation(async function (this: S3BatchFileStore, tenantId, file, content) {
      puts.push(file.id);
      if (puts.length === 1 || puts.length === 2) await new Promise<void>((ok) => (opened = ok));
      return put.call(this, tenantId, file, content);
    });
    vi.spyOn(DynamoDbPendingCreates.prototype, 'read').mockImplementation(async function (this: DynamoDbPendingCreates, tenantId, key) {
      opened();
      return read.call(this, tenantId, key);
    });
    try {
      const token = await apigw.token('globex', { sub: 'slow-upload' });
      const before = new Set((await nodeClient(apigw.url, token).files.list({ limit: 100 })).data.map((f) => f.id));
      const made = await new OpenAI({ baseURL: apigw.url, apiKey: token, timeout: 3000 }).files.create({ file: await toFile(Buffer.from('%PDF-1.4\n%%EOF\n'), 'slow.pdf'), purpose: 'user_data' });
      // The old code: the retry stored a second file and was answered it.
      expect(puts).toEqual([made.id]);
      const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=3.0, max_retries=2)
made = client.files.create(file=("slow.jsonl", (json.dumps({"custom_id": "s-1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "${MODEL}", "messages": [{"role": "user", "content": "slow"}]}}) + "\\n").encode()), purpose="batch")
print(json.dumps({"id": made.id}))
`;
      const python = JSON.parse((await runPythonCode(script, [apigw.url, token])).stdout) as { id: string };
      expect(puts).toEqual([made.id, python.id]);
      expect((await nodeClient(apigw.url, token).files.list({ limit: 100 })).data.filter((f) => !before.has(f.id)).map((f) => f.id).sort()).toEqual([made.id, python.id].sort());
    } finally {
      opened();
      vi.restoreAllMocks();
    }
  });

  it('a batches.create whose first attempt is still recording its batch when the client\'s retry comes (timeout 3 s, a slow PutItem): the retry waits on the attempt\'s note in the responses table and is answered that batch; one batch, one work-queue message (Node and Python clients)', async () => {
    const token = await apigw.token('globex', { sub: 'slow-batch' });
    const files = nodeClient(apigw.url, token);
    const input = (await files.files.create({ file: await toFile(Buffer.from(`${chatLine('slow-batch')}\n`), 'slow-batch.jsonl'), purpose: 'batch' })).id;
    const before = new Set((await files.batches.list({ limit: 100 })).data.map((b) => b.id));
    // The first put of each create's batch waits until a retry has read the attempt's note (DynamoDbPendingCreates).
    const put = DynamoDbBatchStore.prototype.put;
    const read = DynamoDbPendingCreates.prototype.read;
    const puts: string[] = [];
    const received: Awaited<ReturnType<typeof receive>> = [];
    let opened: () => void = () => undefined;
    vi.spyOn(DynamoDbBatchStore.prototype, 'put').mockImplementation(async function (this: DynamoDbBatchStore, item) {
      puts.push(item.batch.id);
      if (puts.length === 1 || puts.length === 2) await new Promise<void>((ok) => (opened = ok));
      return put.call(this, item);
    });
    vi.spyOn(DynamoDbPendingCreates.prototype, 'read').mockImplementation(async function (this: DynamoDbPendingCreates, tenantId, key) {
      if (key.startsWith('batches#')) opened();
      return read.call(this, tenantId, key);
    });
    try {
      const made = await new OpenAI({ baseURL: apigw.url, apiKey: token, timeout: 3000 }).batches.create({ input_file_id: input, endpoint: '/v1/chat/completions', completion_window: '24h' });
      // The old code: the retry found no batch recorded yet, recorded a second one and sent its message (every line run twice).
      expect(puts).toEqual([made.id]);
      const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=3.0, max_retries=2)
made = client.batches.create(input_file_id=sys.argv[3], endpoint="/v1/chat/completions", completion_window="24h", metadata={"client": "python"}, output_expires_after={"anchor": "created_at", "seconds": 7200})
print(json.dumps({"id": made.id}))
`;
      const python = JSON.parse((await runPythonCode(script, [apigw.url, token, input])).stdout) as { id: string };
      expect(puts).toEqual([made.id, python.id]);
      expect((await files.batches.list({ limit: 100 })).data.filter((b) => !before.has(b.id)).map((b) => b.id).sort()).toEqual([made.id, python.id].sort());
      // One message to run each batch, none for a second.
      received.push(...(await receive()));
      expect(received.map((m) => JSON.parse(m.Body!).batchId).sort()).toEqual([made.id, python.id].sort());
    } finally {
      opened();
      vi.restoreAllMocks();
      received.push(...(await receive()));
      for (const m of received) await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  });

  it('batches.create reads the input file as a stream (GetObject Range bytes=0-, never whole) and records where each block of 1,000 requests starts; a bad file fails with readBatchFile\'s errors naming each line', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    const gets: Array<{ Key?: string; Range?: string }> = [];
    // Every S3 command goes on to moto; the GetObject requests are recorded on the way.
    const realSend = S3Client.prototype.send;
    const send = vi.spyOn(S3Client.prototype, 'send').mockImplementation(function (this: S3Client, ...args: Parameters<S3Client['send']>) {
      const [command] = args;
      if (command instanceof GetObjectCommand) gets.push({ Key: command.input.Key, Range: command.input.Range });
      return (realSend as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } as never);
    try {
      const text = `${Array.from({ length: 1_100 }, (_, i) => chatLine(`r${i}`)).join('\n')}\n`;
      const file = await acme.files.create({ file: await toFile(Buffer.from(text), 'big.jsonl'), purpose: 'batch' });
      const created = await acme.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      expect(created).toMatchObject({ status: 'validating', request_counts: { total: 1_100 } });
      const doc = await unscopedDocumentClient()('');
      const item = (await doc.send(new GetCommand({ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: created.id } }))).Item!;
      const thousandth = Buffer.byteLength(`${Array.from({ length: 1_000 }, (_, i) => chatLine(`r${i}`)).join('\n')}\n`);
      expect(JSON.parse(item.body as string).inputBlocks).toEqual([{ index: 0, line: 1, offset: 0 }, { index: 1_000, line: 1_001, offset: thousandth }]);
      const reads = gets.filter((g) => g.Key === `tenants/acme/batch-files/${file.id}`);
      expect(reads).toEqual([{ Key: `tenants/acme/batch-files/${file.id}`, Range: 'bytes=0-' }]);
      // Cancelled before its first chunk: that chunk runs nothing and ends it (the work queue left empty for the next tests).
      await acme.batches.cancel(created.id);
      await drain();
      expect(upstream.calls).toHaveLength(0);
      expect(await acme.batches.retrieve(created.id)).toMatchObject({ status: 'cancelled' });

      const lines = [chatLine('a'), '', JSON.stringify({ custom_id: 'b', method: 'POST', url: '/v1/embeddings', body: { model: MODEL } }), chatLine('a'), '{oops'];
      const badFile = await acme.files.create({ file: await toFile(Buffer.from(`${lines.join('\r\n')}\r\n`), 'bad.jsonl'), purpose: 'batch' }).catch((e) => e);
      // The upload's own check refuses a line that is not JSON (a 400 naming file); without it the create judges the rest.
      expect(badFile).toMatchObject({ status: 400, error: { param: 'file' } });
      const checked = await acme.files.create({ file: await toFile(Buffer.from(`${lines.slice(0, 4).join('\r\n')}\r\n`), 'bad.jsonl'), purpose: 'batch' });
      const failed = await acme.batches.create({ input_file_id: checked.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      expect(failed).toMatchObject({ status: 'failed', request_counts: { total: 0 } });
      expect(failed.errors!.data).toEqual(readBatchFile(Buffer.from(`${lines.slice(0, 4).join('\r\n')}\r\n`), '/v1/chat/completions').errors);
      expect(failed.errors!.data!.map((e) => [e.code, e.line, e.param])).toEqual([['url_mismatch', 3, 'url'], ['duplicate_custom_id', 4, 'custom_id']]);
    } finally {
      send.mockRestore();
    }
  });

  it('a user_data file: uploaded through the fine-tuning Lambda, named by file_id on the router, which reads it as the tenant and sends it inline', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    const globex = nodeClient(apigw.url, tokens.globex);
    // A binary PDF's comment line (bytes over 127, not UTF-8): files.content gives them back as they were.
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n%%EOF\n')]);
    const file = await acme.files.create({ file: await toFile(pdf, 'memo.pdf'), purpose: 'user_data' });
    // Kept until deleted, as OpenAI keeps a user_data file uploaded without expires_after: outside the lifecycle rule's tenants/.
    expect(file).toMatchObject({ object: 'file', purpose: 'user_data', filename: 'memo.pdf', bytes: pdf.length, expires_at: null });
    const keys = ((await new S3Client({ forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: 'tessera-batch-files' }))).Contents ?? []).map((o) => o.Key);
    expect(keys).toContain(`kept-files/acme/${file.id}`);
    expect(keys).not.toContain(`tenants/acme/batch-files/${file.id}`);
    expect(Buffer.from(await (await acme.files.content(file.id)).arrayBuffer())).toEqual(pdf);
    const ask = { model: MODEL, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'sum' }, { type: 'file' as const, file: { file_id: file.id } }] }] };
    upstream.script({ body: openAiAnswer('text') });
    await acme.chat.completions.create(ask);
    expect(upstream.calls).toHaveLength(1);
    expect((upstream.calls[0]!.body as { messages: Array<{ content: unknown[] }> }).messages[0]!.content[1]).toEqual({ type: 'file', file: { file_data: `data:application/pdf;base64,${pdf.toString('base64')}`, filename: 'memo.pdf' } });
    const e: any = await globex.chat.completions.create(ask).then(() => undefined, (x: unknown) => x);
    expect([e?.status, e?.param, e?.code]).toEqual([404, 'messages[0].content[1].file.file_id', 'file_not_found']);
    expect(upstream.calls).toHaveLength(1);
  });

  it('files.content of a 50 MiB batch output file: a 307 to a presigned S3 GET of the tenant\'s object (60 s), which the Node and Python clients follow; a 4 MiB file still comes inline; another tenant gets a 404 and no URL', async () => {
    // As the runner writes an output file (S3BatchFileStore.put: the bytes at tenants/acme/batch-files/<id>, then the record).
    const store = new S3BatchFileStore('tessera-batch-files', 'tessera-responses', async () => new S3Client({ forcePathStyle: true }), unscopedDocumentClient());
    const line = (i: number) => `${JSON.stringify({ id: `batch_req_${i}`, custom_id: `r${i}`, response: { status_code: 200, body: { pad: 'x'.repeat(1000) } }, error: null })}\n`;
    const lines = Math.ceil((50 * 1024 * 1024) / line(0).length);
    const big = Buffer.from(Array.from({ length: lines }, (_, i) => line(i)).join(''));
    const now = Math.floor(Date.now() / 1000);
    const output = { id: 'file-50b0000000000000000000aa', filename: 'batch_output.jsonl', purpose: 'batch_output' as const, bytes: big.length, createdAt: now, expiresAt: now + 86_400 };
    await store.put('acme', output, big);
    const small = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const inline = { ...output, id: 'file-4b00000000000000000000aa', bytes: small.length };
    await store.put('acme', inline, small);

    // What the API answers: the redirect, no body, to acme's own key, signed for 60 s with the S3 client's credentials.
    const raw = await fetch(`${apigw.url}/files/${output.id}/content`, { headers: { authorization: `Bearer ${tokens.acme}`, accept: 'application/binary' }, redirect: 'manual' });
    expect(raw.status).toBe(307);
    expect(await raw.text()).toBe('');
    const location = new URL(raw.headers.get('location')!);
    expect(location.pathname).toBe(`/tessera-batch-files/tenants/acme/batch-files/${output.id}`);
    expect(Object.fromEntries([...location.searchParams].filter(([k]) => ['X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Algorithm'].includes(k)))).toEqual({ 'X-Amz-Expires': '60', 'X-Amz-SignedHeaders': 'host', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' });
    expect(raw.headers.get('cache-control')).toBe('no-store');

    const acme = nodeClient(apigw.url, tokens.acme);
    const read = Buffer.from(await (await acme.files.content(output.id)).arrayBuffer());
    expect(read.length).toBe(big.length);
    expect(read.equals(big)).toBe(true);
    expect(Buffer.from(await (await acme.files.content(inline.id)).arrayBuffer())).toEqual(small);
    // A developer of globex (fine-tuning's files readable, as the first test's): acme's id is no file of globex's.
    const e: any = await nodeClient(apigw.url, await apigw.token('globex', { role: 'developer' })).files.content(output.id).then(() => undefined, (x: unknown) => x);
    expect([e?.status, e?.code]).toEqual([404, 'file_not_found']);

    const script = `
import hashlib, json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
data = c.files.content(sys.argv[3]).content
print(json.dumps({"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}))
`;
    const py = JSON.parse((await runPythonCode(script, [apigw.url, tokens.acme!, output.id])).stdout);
    expect(py).toEqual({ bytes: big.length, sha256: createHash('sha256').update(big).digest('hex') });
  });

  it('a work-queue message naming one tenant with another\'s batch id runs nothing: each tenant\'s batch is read only in its own partition', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    const globex = nodeClient(apigw.url, tokens.globex);
    const lines = `${chatLine('m1')}\n`;
    const acmeBatch = await acme.batches.create({ input_file_id: (await acme.files.create({ file: await toFile(Buffer.from(lines), 'a.jsonl'), purpose: 'batch' })).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const globexBatch = await globex.batches.create({ input_file_id: (await globex.files.create({ file: await toFile(Buffer.from(lines), 'g.jsonl'), purpose: 'batch' })).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const real = await receive();
    expect(real.map((m) => JSON.parse(m.Body!)).sort((x, y) => x.tenantId.localeCompare(y.tenantId))).toEqual([{ tenantId: 'acme', batchId: acmeBatch.id }, { tenantId: 'globex', batchId: globexBatch.id }]);
    // Forged deliveries (the queue's real messages left waiting): each tenant with the other's batch id, at the start and at a later cursor.
    const forged = [{ tenantId: 'globex', batchId: acmeBatch.id }, { tenantId: 'acme', batchId: globexBatch.id }, { tenantId: 'globex', batchId: acmeBatch.id, cursor: 1 }]
      .map((body, i) => ({ MessageId: `forged-${i}`, ReceiptHandle: `forged-${i}`, Body: JSON.stringify(body), MD5OfBody: '' }));
    expect(await deliver(forged, 900_000, { keep: true })).toEqual({ batchItemFailures: [] });
    expect(upstream.calls).toHaveLength(0);
    expect(await acme.batches.retrieve(acmeBatch.id)).toMatchObject({ status: 'validating', request_counts: { completed: 0, failed: 0 } });
    expect(await globex.batches.retrieve(globexBatch.id)).toMatchObject({ status: 'validating', request_counts: { completed: 0, failed: 0 } });
    const doc = await unscopedDocumentClient()('');
    for (const [tenantId, batchId] of [['globex', acmeBatch.id], ['acme', globexBatch.id]]) {
      expect((await doc.send(new GetCommand({ TableName: 'tessera-responses', Key: { tenantId, responseId: batchId } }))).Item, `${tenantId} ${batchId}`).toBeUndefined();
    }
    // The real messages then run each batch as its own tenant.
    upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    expect(await deliver(real, 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.calls.map((c) => c.headers.authorization).sort()).toEqual(['Bearer key-of-acme', 'Bearer key-of-globex']);
    expect(await acme.batches.retrieve(acmeBatch.id)).toMatchObject({ status: 'completed' });
  });

  it('the official Python client: files.create, batches.create, then (the worker having run) retrieve and files.content', async () => {
    upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const script = `
import io, json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
if sys.argv[3] == "create":
    f = c.files.create(file=("py.jsonl", io.BytesIO(sys.argv[4].encode())), purpose="batch")
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    print(json.dumps({"file": f.model_dump(), "batch": b.model_dump()}))
else:
    b = c.batches.retrieve(sys.argv[4])
    text = c.files.content(b.output_file_id).text
    print(json.dumps({"batch": b.model_dump(), "ids": sorted(json.loads(l)["custom_id"] for l in text.splitlines())}))
`;
    const made = JSON.parse((await runPythonCode(script, [apigw.url, tokens.acme!, 'create', `${chatLine('p1')}\n${chatLine('p2')}\n`])).stdout);
    expect(made.file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'py.jsonl' });
    expect(made.batch).toMatchObject({ status: 'validating', input_file_id: made.file.id });
    await drain();
    const read = JSON.parse((await runPythonCode(script, [apigw.url, tokens.acme!, 'read', made.batch.id])).stdout);
    expect(read.batch).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } });
    expect(read.ids).toEqual(['p1', 'p2']);
  });
});
