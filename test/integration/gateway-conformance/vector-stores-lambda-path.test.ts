import { Writable } from 'node:stream';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateVectorBucketCommand, GetVectorsCommand, ListIndexesCommand, ListVectorsCommand, QueryVectorsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import {
  CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message,
} from '@aws-sdk/client-sqs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { redriveQueue } from '../../../lib/cli/dlq/redrive.js';
import { DLQ_NAME_PREFIX } from '../../../lib/dead-letters.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { TEXT_METADATA_KEY } from '../../../lambdas/inference/vector-stores/s3-vectors-index.js';
import { VECTOR_STORE_FILES_DLQ_NAME, VECTOR_STORE_FILES_MAX_RECEIVE_COUNT, VECTOR_STORE_FILES_QUEUE_NAME } from '../../../lambdas/inference/work-queues.js';
import { tenantVectorBucketName } from '../../../lib/tenant-naming.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { TEST_EMBEDDING_MODEL, vectorStoreConfig } from '../../support/vector-store-gateway.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { nodeClient } from './official-clients.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * OpenAI's Vector Stores API on the deployed path, in moto: the fine-tuning Lambda's handler takes `/v1/files`
 * (purpose assistants), the streaming router `/v1/vector_stores...` (records in the responses table as the tenant; a
 * file attached sends a message to the vector store files' queue); the test plays that queue's event source mapping
 * (receiving from moto's SQS, with its ApproximateReceiveCount, and invoking the router's handler with SQS events, as
 * batches-lambda-path.test.ts does). The worker embeds through the gateway (the fake upstream) and writes the vectors
 * to the tenant's vector bucket in moto's S3 Vectors, as the tenant's vector-store role (moto's STS).
 * moto 5.2.5 has no QueryVectors: search on this path is covered by the last test, with aws-sdk-client-mock for the
 * S3 Vectors client only (everything else still moto). moto has no StartMessageMoveTask either: the redrive's plan is
 * `tessera dlq redrive`'s own (redriveQueue, dry run, on moto), its move is done as SQS's move task does it.
 */
const ACCOUNT = '123456789012';
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let queueUrl: string;
let dlqUrl: string;
const tokens: Record<string, string> = {};
const router = async () => (await import('../../../lambdas/inference/router-handler.js')).handler as unknown as (event: SQSEvent, stream: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;
const vectors = () => new S3VectorsClient({});
const sqs = () => new SQSClient({});

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  // Each record with its tenant stack's KeyArn, which every CreateIndex names (moto evaluates no IAM condition).
  const deployed = (tenantId: string) => ({ ...plainTenant(tenantId), accountId: ACCOUNT, stackOutputs: { KeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${tenantId}-0f1e2d3c` } });
  apigw = await startApiGatewayEmulator(vectorStoreConfig(), upstream.url, [deployed('acme'), deployed('globex')], { fineTuning: true });
  await createResponsesTable('tessera-responses');
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'tessera-batch-files' }));
  // acme's vector bucket (its tenant stack's); globex's is made later (the dead-letter test).
  await vectors().send(new CreateVectorBucketCommand({ vectorBucketName: tenantVectorBucketName('acme') }));
  const dlq = await sqs().send(new CreateQueueCommand({ QueueName: `${DLQ_NAME_PREFIX}${VECTOR_STORE_FILES_DLQ_NAME}` }));
  dlqUrl = dlq.QueueUrl!;
  const dlqArn = (await sqs().send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  queueUrl = (await sqs().send(new CreateQueueCommand({
    QueueName: VECTOR_STORE_FILES_QUEUE_NAME,
    // As VectorStoreFileWork makes it: a redrive policy to its dead-letter queue after the worker's receive count.
    Attributes: { VisibilityTimeout: '900', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: VECTOR_STORE_FILES_MAX_RECEIVE_COUNT }) },
  }))).QueueUrl!;
  // Before the Lambdas build their gateways (on their first invocation).
  Object.assign(process.env, { [GATEWAY_ENV.responsesTable]: 'tessera-responses', [GATEWAY_ENV.batchFilesBucket]: 'tessera-batch-files', [GATEWAY_ENV.vectorStoreFilesQueueUrl]: queueUrl });
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
});
afterAll(async () => {
  for (const v of [GATEWAY_ENV.responsesTable, GATEWAY_ENV.batchFilesBucket, GATEWAY_ENV.vectorStoreFilesQueueUrl]) delete process.env[v];
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  upstream.followFormat = true;
  upstream.callTools = false;
});

/** Messages waiting in the queue, with their receive counts (each receive counts, as SQS's). */
async function receive(url = queueUrl): Promise<Message[]> {
  const out = await sqs().send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
  return out.Messages ?? [];
}

/** Invokes the router with these messages as the event source mapping does; deletes the ones it did not report failed. @returns the answer */
async function deliver(messages: Message[]) {
  const event: SQSEvent = {
    Records: messages.map((m) => ({
      messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, md5OfBody: m.MD5OfBody!, messageAttributes: {},
      attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1', SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' },
      eventSource: 'aws:sqs', eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:${VECTOR_STORE_FILES_QUEUE_NAME}`, awsRegion: 'us-east-1',
    })),
  };
  const chunks: Buffer[] = [];
  const endsAt = Date.now() + 900_000;
  await (await router())(event, new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }), { getRemainingTimeInMillis: () => endsAt - Date.now() });
  const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { batchItemFailures: Array<{ itemIdentifier: string }> };
  for (const m of messages) if (!answer.batchItemFailures.some((f) => f.itemIdentifier === m.MessageId)) await sqs().send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
  return answer;
}

/** A chunk's vector key: `<file id>#<run>#<n>` (processing.ts vectorKey; the run is the file record's, not in the answer). */
const chunkKey = (fileId: string, n: number) => expect.stringMatching(new RegExp(`^${fileId}#[a-f0-9]{12}#${n}$`));
const indexOf = (storeId: string) => `vs-${storeId.slice(3)}`;
const listed = async (tenantId: string, storeId: string) =>
  ((await vectors().send(new ListVectorsCommand({ vectorBucketName: tenantVectorBucketName(tenantId), indexName: indexOf(storeId) }))).vectors ?? []).map((v) => v.key!).sort();

describe('vector stores through the Lambda adapters, on moto (DynamoDB, S3, SQS, STS, S3 Vectors)', () => {
  it('create → upload (the router enqueues, nothing embedded in the request) → the worker → completed, vectors in the tenant\'s vector bucket, counts right; a redelivery changes nothing; deletes remove vectors and the index', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    const store = await acme.vectorStores.create({ name: 'handbook' });
    expect(store).toMatchObject({ object: 'vector_store', name: 'handbook', file_counts: { total: 0 } });
    const text = 'Refunds are paid within fourteen days of a returned parcel.';
    const file = await acme.vectorStores.files.upload(store.id, await toFile(Buffer.from(text), 'refunds.md'));
    expect(file).toMatchObject({ object: 'vector_store.file', vector_store_id: store.id, status: 'in_progress', last_error: null });
    expect(await acme.files.retrieve(file.id)).toMatchObject({ purpose: 'assistants', filename: 'refunds.md' });
    // Processing is off the request: no embedding yet, the store counts the file in progress.
    expect(upstream.requests).toHaveLength(0);
    expect(await acme.vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 1, in_progress: 1, completed: 0 } });

    const [message] = await receive();
    expect(JSON.parse(message!.Body!)).toEqual({ kind: 'vector_store_file', tenantId: 'acme', storeId: store.id, fileId: file.id, run: expect.stringMatching(/^[a-f0-9]{12}$/) });
    expect(await deliver([message!])).toEqual({ batchItemFailures: [] });
    // The chunk was embedded with the store's model, through the gateway as the file's owner (one /v1/embeddings call).
    expect(upstream.requests).toEqual([expect.objectContaining({ model: TEST_EMBEDDING_MODEL.upstream, input: [text] })]);

    const done = await acme.vectorStores.files.retrieve(file.id, { vector_store_id: store.id });
    expect(done).toMatchObject({ status: 'completed', last_error: null, usage_bytes: Buffer.byteLength(text) });
    expect(await acme.vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 1, in_progress: 0, completed: 1, failed: 0 }, usage_bytes: Buffer.byteLength(text) });
    // The vectors in moto's S3 Vectors: acme's bucket, the store's index, one chunk with its text and file id.
    expect(await listed('acme', store.id)).toEqual([chunkKey(file.id, 0)]);
    const got = await vectors().send(new GetVectorsCommand({ vectorBucketName: 'tessera-acme-vectors', indexName: indexOf(store.id), keys: await listed('acme', store.id), returnMetadata: true, returnData: true }));
    expect(got.vectors?.[0]?.metadata).toMatchObject({ [TEXT_METADATA_KEY]: text });
    // Its run as filterable metadata _run (`<file id>#<run>`, the key without its chunk number): what a search leaves out.
    expect(got.vectors?.[0]?.metadata).toMatchObject({ _run: got.vectors?.[0]?.key?.replace(/#0$/, '') });
    expect((got.vectors?.[0]?.metadata as Record<string, unknown>)._run).toMatch(new RegExp(`^${file.id}#[a-f0-9]{12}$`));
    expect(got.vectors?.[0]?.data?.float32?.length).toBeGreaterThan(0);

    // The same message delivered again (SQS: at least once): nothing is embedded again, the file and vectors stay.
    expect(await deliver([message!])).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    expect(await acme.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).toMatchObject({ status: 'completed', usage_bytes: Buffer.byteLength(text) });
    expect(await listed('acme', store.id)).toEqual([chunkKey(file.id, 0)]);

    // Its attributes updated: it stays completed, no message and no embedding; the same vector in moto's S3 Vectors (its
    // data, text and run kept: GetVectors then PutVectors by key) carries the new attributes as filterable metadata.
    expect(await acme.vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { team: 'billing', year: 2026 } })).toMatchObject({ status: 'completed', attributes: { team: 'billing', year: 2026 } });
    expect(await receive()).toEqual([]);
    expect(upstream.requests).toHaveLength(1);
    expect(await listed('acme', store.id)).toEqual([chunkKey(file.id, 0)]);
    const rewritten = await vectors().send(new GetVectorsCommand({ vectorBucketName: 'tessera-acme-vectors', indexName: indexOf(store.id), keys: await listed('acme', store.id), returnMetadata: true, returnData: true }));
    expect(rewritten.vectors?.[0]?.metadata).toEqual({ ...(got.vectors?.[0]?.metadata as Record<string, unknown>), team: 'billing', year: 2026 });
    expect(rewritten.vectors?.[0]?.data).toEqual(got.vectors?.[0]?.data);

    // A second file, detached before its message runs: the message ends quietly, nothing embedded or written.
    const gone = await acme.vectorStores.files.upload(store.id, await toFile(Buffer.from('Shipping takes three days.'), 'shipping.txt'));
    expect(await acme.vectorStores.files.delete(gone.id, { vector_store_id: store.id })).toMatchObject({ deleted: true });
    expect(await deliver(await receive())).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    expect(await listed('acme', store.id)).toEqual([chunkKey(file.id, 0)]);
    expect(await receive()).toEqual([]);

    // Detaching the completed file removes its vectors; deleting the store removes its index.
    await acme.vectorStores.files.delete(file.id, { vector_store_id: store.id });
    expect(await listed('acme', store.id)).toEqual([]);
    expect(await acme.vectorStores.delete(store.id)).toEqual({ id: store.id, object: 'vector_store.deleted', deleted: true });
    expect((await vectors().send(new ListIndexesCommand({ vectorBucketName: 'tessera-acme-vectors' }))).indexes?.map((i) => i.indexName)).not.toContain(indexOf(store.id));
  });

  it('another tenant cannot see, attach to or process into acme\'s store: 404s, and a forged message naming it with acme\'s store runs nothing', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    const globex = nodeClient(apigw.url, tokens.globex);
    const store = await acme.vectorStores.create({ name: 'private' });
    for (const call of [() => globex.vectorStores.retrieve(store.id), () => globex.vectorStores.files.list(store.id), () => globex.vectorStores.delete(store.id)]) {
      const e: any = await call().then(() => undefined, (x: unknown) => x);
      expect(e?.status).toBe(404);
    }
    const file = await acme.vectorStores.files.upload(store.id, await toFile(Buffer.from('secret plans'), 'plans.txt'));
    const [real] = await receive();
    const forged = { ...real!, MessageId: 'forged', Body: JSON.stringify({ ...JSON.parse(real!.Body!), tenantId: 'globex' }) };
    expect(await deliver([forged])).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(0);
    expect(await deliver([real!])).toEqual({ batchItemFailures: [] });
    expect(await acme.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).toMatchObject({ status: 'completed' });
    await acme.vectorStores.delete(store.id);
  });

  it('a message that fails on every receive goes to the dead-letter queue and leaves the file failed with last_error; tessera dlq redrive\'s plan sends it back, and it then completes', async () => {
    const globex = nodeClient(apigw.url, tokens.globex);
    // globex has no vector bucket yet (its tenant stack not updated): every run fails to create the store's index.
    const store = await globex.vectorStores.create({ name: 'early' });
    const file = await globex.vectorStores.files.upload(store.id, await toFile(Buffer.from('Warranty: two years.'), 'warranty.txt'));
    const seen: string[] = [];
    for (let receiveCount = 1; receiveCount <= VECTOR_STORE_FILES_MAX_RECEIVE_COUNT; receiveCount++) {
      const [m] = await receive();
      expect(m?.Attributes?.ApproximateReceiveCount).toBe(String(receiveCount));
      seen.push(m!.MessageId!);
      expect(await deliver([m!])).toEqual({ batchItemFailures: [{ itemIdentifier: m!.MessageId }] });
      const now = await globex.vectorStores.files.retrieve(file.id, { vector_store_id: store.id });
      // In progress until the last receive; then failed, naming the cause and the dead-letter queue.
      if (receiveCount < VECTOR_STORE_FILES_MAX_RECEIVE_COUNT) expect(now).toMatchObject({ status: 'in_progress', last_error: null });
      else expect(now).toMatchObject({ status: 'failed', last_error: { code: 'server_error', message: expect.stringContaining(`${DLQ_NAME_PREFIX}${VECTOR_STORE_FILES_DLQ_NAME}`) } });
    }
    expect(new Set(seen).size).toBe(1);
    expect(await globex.vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 1, failed: 1, in_progress: 0 } });
    // SQS moves it to the dead-letter queue on the next receive past maxReceiveCount.
    expect(await receive()).toEqual([]);
    const [dead] = await receive(dlqUrl);
    expect(JSON.parse(dead!.Body!)).toEqual({ kind: 'vector_store_file', tenantId: 'globex', storeId: store.id, fileId: file.id, run: expect.stringMatching(/^[a-f0-9]{12}$/) });

    // The operator's redrive: `tessera dlq redrive` finds the queue's source (ListDeadLetterSourceQueues) and would move
    // every message back to it (StartMessageMoveTask, which moto lacks: done here as SQS does it).
    const clients = { sqs: sqs(), events: new EventBridgeClient({}), lambda: new LambdaClient({}), sfn: new SFNClient({}) };
    const dlqArn = (await sqs().send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const plan = await redriveQueue(clients, { name: `${DLQ_NAME_PREFIX}${VECTOR_STORE_FILES_DLQ_NAME}`, url: dlqUrl, arn: dlqArn }, { dryRun: true, max: 100 });
    expect(plan.moveTask?.sources).toEqual([VECTOR_STORE_FILES_QUEUE_NAME]);
    await sqs().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: dead!.Body! }));
    await sqs().send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: dead!.ReceiptHandle! }));

    // The cause fixed (the bucket made), the redriven message processes the file again.
    await vectors().send(new CreateVectorBucketCommand({ vectorBucketName: tenantVectorBucketName('globex') }));
    const [again] = await receive();
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(await deliver([again!])).toEqual({ batchItemFailures: [] });
    expect(await globex.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).toMatchObject({ status: 'completed', last_error: null });
    expect(await globex.vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 1, completed: 1, failed: 0 } });
    expect(await listed('globex', store.id)).toEqual([chunkKey(file.id, 0)]);
    await globex.vectorStores.delete(store.id);
  });

  it('the router\'s preflight, 405 and 404 know the routes: another family\'s 404 names /v1/vector_stores among what is served', async () => {
    const token = tokens.acme!;
    const options = await fetch(`${apigw.url}/vector_stores/vs_x/files`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'GET, POST, OPTIONS']);
    const put = await fetch(`${apigw.url}/vector_stores`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, POST, OPTIONS']);
    const evals = await fetch(`${apigw.url}/evals`, { headers: { authorization: `Bearer ${token}` } });
    expect(evals.status).toBe(404);
    expect(((await evals.json()) as { error: { message: string } }).error.message).toMatch(/evals .* are not served by this gateway; it serves .*\/v1\/batches, \/v1\/files, \/v1\/uploads, \/v1\/vector_stores and \/v1\/fine_tuning\/jobs$/);
  });

  // moto has no QueryVectors: the S3 Vectors client alone is mocked here (aws-sdk-client-mock); DynamoDB, S3, SQS and
  // STS are still moto, and the query is embedded through the gateway.
  it('search and the Responses API\'s file_search tool: the query embedded as the caller, QueryVectors on the store\'s index in the tenant\'s vector bucket, hits answered in OpenAI\'s shape (S3 Vectors mocked)', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    const store = await acme.vectorStores.create({ name: 'searched' });
    const file = await acme.vectorStores.files.upload(store.id, await toFile(Buffer.from('Refunds are paid within fourteen days.'), 'refunds.md'));
    expect(await deliver(await receive())).toEqual({ batchItemFailures: [] });
    // The attributes the mocked index answers below are the file's (a search checks its record's too).
    await acme.vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { lang: 'en' } });
    const [key] = await listed('acme', store.id);
    const s3v = mockClient(S3VectorsClient);
    try {
      s3v.on(QueryVectorsCommand).resolves({ vectors: [{ key, distance: 0.2, metadata: { lang: 'en', [TEXT_METADATA_KEY]: 'Refunds are paid within fourteen days.' } }] });
      const hits = await acme.vectorStores.search(store.id, { query: 'when are refunds paid', max_num_results: 3, filters: { key: 'lang', type: 'eq', value: 'en' } });
      expect(hits.data).toEqual([expect.objectContaining({ file_id: file.id, filename: 'refunds.md', content: [{ type: 'text', text: 'Refunds are paid within fourteen days.' }] })]);
      const query = s3v.commandCalls(QueryVectorsCommand);
      expect(query).toHaveLength(1);
      // topK 100, not max_num_results: the chunks of files not completed and of other runs are dropped after the query (service.ts SEARCH_CANDIDATES).
      expect(query[0]!.args[0].input).toMatchObject({ vectorBucketName: 'tessera-acme-vectors', indexName: indexOf(store.id), topK: 100, filter: { lang: { $eq: 'en' } }, returnMetadata: true });
      // A store whose index answers 100 chunks of a run the file moved on from (left by a run that stopped before
      // removing them): the search asks again with that run left out, and answers the file's own chunk.
      const stale = `${file.id}#00000000dead`;
      s3v.reset();
      s3v.on(QueryVectorsCommand)
        .resolvesOnce({ vectors: Array.from({ length: 100 }, (_, n) => ({ key: `${stale}#${n}`, distance: 0.01, metadata: { lang: 'en', _run: stale, [TEXT_METADATA_KEY]: `stale ${n}` } })) })
        .resolves({ vectors: [{ key, distance: 0.2, metadata: { lang: 'en', _run: key!.replace(/#0$/, ''), [TEXT_METADATA_KEY]: 'Refunds are paid within fourteen days.' } }] });
      const past = await acme.vectorStores.search(store.id, { query: 'when are refunds paid', max_num_results: 1, filters: { key: 'lang', type: 'eq', value: 'en' } });
      expect(past.data.map((d) => [d.file_id, d.content])).toEqual([[file.id, [{ type: 'text', text: 'Refunds are paid within fourteen days.' }]]]);
      expect(s3v.commandCalls(QueryVectorsCommand).map((c) => c.args[0].input.filter)).toEqual([
        { lang: { $eq: 'en' } },
        { $and: [{ lang: { $eq: 'en' } }, { $or: [{ _run: { $exists: false } }, { _run: { $nin: [stale] } }] }] },
      ]);
      // rewrite_query and another ranker stay refused, as on tessera serve.
      const e: any = await acme.vectorStores.search(store.id, { query: 'x', rewrite_query: true }).then(() => undefined, (x: unknown) => x);
      expect([e?.status, e?.param]).toEqual([400, 'rewrite_query']);
      // The Responses API's file_search tool on the router: the same QueryVectors when the model calls the search
      // (the fake upstream in tool-calling mode calls it with the question), and a file_search_call item before the answer.
      upstream.callTools = true;
      const answer = await acme.responses.create({ model: 'openai-compatible/default', input: 'when are refunds paid', tools: [{ type: 'file_search', vector_store_ids: [store.id], max_num_results: 2 }], include: ['file_search_call.results'] });
      expect(answer.output.map((i) => i.type)).toEqual(['file_search_call', 'message']);
      expect(answer.output[0]).toMatchObject({ type: 'file_search_call', status: 'completed', results: [expect.objectContaining({ file_id: file.id, filename: 'refunds.md', text: 'Refunds are paid within fourteen days.' })] });
      expect(answer.output_text).toContain('Refunds are paid within fourteen days.');
      expect(s3v.commandCalls(QueryVectorsCommand).at(-1)!.args[0].input).toMatchObject({ vectorBucketName: 'tessera-acme-vectors', indexName: indexOf(store.id), topK: 100 });
    } finally {
      s3v.restore();
    }
    await acme.vectorStores.delete(store.id);
  });
});
