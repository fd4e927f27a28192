import { Writable } from 'node:stream';
import { SendMessageCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/gateway-env.js';
import type { BatchWorkerDeps } from '../../../lambdas/inference/batches/worker.js';
import { batchFixture } from '../../support/batch-memory.js';
import { mockStrict } from '../../support/strict-mock.js';

// The router's batch worker dependencies: the stores in memory, the queue (enqueueBatch, SQS) the real one, mocked strictly.
const worker = vi.hoisted(() => ({ deps: undefined as BatchWorkerDeps | undefined }));
vi.mock('../../../lambdas/inference/lambda-deps.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../lambdas/inference/lambda-deps.js')>();
  return { ...real, lambdaBatchWorker: async () => ({ ...worker.deps!, enqueue: real.enqueueBatch }) };
});
vi.stubGlobal('awslambda', { streamifyResponse: (f: unknown) => f, HttpResponseStream: { from: () => { throw new Error('an SQS invocation has no HTTP prelude'); } } });
const { handler } = await import('../../../lambdas/inference/router-handler.js');
const invoke = handler as unknown as (event: SQSEvent, stream: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;

const sqs = mockStrict(SQSClient, 'sqs', SQSServiceException);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/tessera-batches';
vi.stubEnv(GATEWAY_ENV.batchQueueUrl, QUEUE);
vi.stubEnv('AWS_REGION', 'us-east-1');
afterAll(() => {
  sqs.restore();
  vi.unstubAllEnvs();
});
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm2' });
});

const record = (messageId: string, body: string): SQSRecord => ({ messageId, receiptHandle: 'r', body, attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:tessera-batches', awsRegion: 'us-east-1' });

/** Invokes the router with an SQS event; @returns the invocation's payload, parsed. */
async function run(event: SQSEvent, remaining: () => number) {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  await invoke(event, stream, { getRemainingTimeInMillis: remaining });
  expect(stream.writableEnded).toBe(true);
  return JSON.parse(chunks.join(''));
}

describe('the router\'s work queues are fair queues: every send names its tenant as the message group (SQS MessageGroupId)', () => {
  it('each chunk\'s message (delayed or not) and each vector store file\'s message carries MessageGroupId = its tenant id, whichever tenant', async () => {
    const { enqueueBatch, enqueueVectorStoreFile } = await import('../../../lambdas/inference/lambda-deps.js');
    const FILES = 'https://sqs.us-east-1.amazonaws.com/123456789012/tessera-vector-store-files';
    vi.stubEnv(GATEWAY_ENV.vectorStoreFilesQueueUrl, FILES);
    await enqueueBatch({ tenantId: 'acme', batchId: 'batch_a' });
    await enqueueBatch({ tenantId: 'globex', batchId: 'batch_b', cursor: 7, chunk: 3 }, { delaySeconds: 300 });
    await enqueueVectorStoreFile('initech', 'vs_1', 'file-1', '0123456789ab');
    const sent = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => [i.QueueUrl, i.MessageGroupId, i.DelaySeconds])).toEqual([[QUEUE, 'acme', undefined], [QUEUE, 'globex', 300], [FILES, 'initech', undefined]]);
    // The group is the tenant the message body names (the consumer's tenant), never another.
    for (const i of sent) expect(JSON.parse(i.MessageBody!).tenantId).toBe(i.MessageGroupId);
    // A standard queue's fair queue, not FIFO: no deduplication id (SQS refuses one on a standard queue).
    expect(sent.every((i) => i.MessageDeduplicationId === undefined)).toBe(true);
  });
});

describe('the router Lambda takes the Batch API work queue (SQS, ReportBatchItemFailures)', () => {
  it('runs the chunk of each record, sends SQS a message for the rest in the tenant\'s message group (SQS fair queues), and answers no failure', async () => {
    const f = await batchFixture();
    worker.deps = f.deps;
    // Enough time for two requests past the chunk margin, then not.
    const remaining = () => (f.ran.length < 2 ? 900_000 : 1_000);
    const answer = await run({ Records: [record('m1', JSON.stringify({ tenantId: 'acme', batchId: f.id }))] }, remaining);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(f.ran).toEqual(['a', 'b']);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: QUEUE, MessageBody: JSON.stringify({ tenantId: 'acme', batchId: f.id, cursor: 2, chunk: 1 }), MessageGroupId: 'acme' }]);
  });

  it('reports a record whose chunk failed (SQS refused the next message; a body that is no batch message) as a batch item failure, the others not', async () => {
    const f = await batchFixture();
    worker.deps = f.deps;
    sqs.on(SendMessageCommand).rejects(new Error('SQS unreachable'));
    const answer = await run({
      Records: [record('m1', JSON.stringify({ tenantId: 'acme', batchId: f.id })), record('m2', '{"tenant":"acme"}'), record('m3', JSON.stringify({ tenantId: 'acme', batchId: 'batch_000000000000000000000000' }))],
    }, () => (f.ran.length < 1 ? 900_000 : 1_000));
    // m3 names no batch: nothing to run, success.
    expect(answer.batchItemFailures.map((x: { itemIdentifier: string }) => x.itemIdentifier).sort()).toEqual(['m1', 'm2']);
    expect(f.ran).toEqual(['a']);
    // m1 delivered again (its chunk was recorded, the message for the rest not sent): it carries the batch on from line 1.
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm4' });
    expect(await run({ Records: [record('m1', JSON.stringify({ tenantId: 'acme', batchId: f.id }))] }, () => (f.ran.length < 2 ? 900_000 : 1_000))).toEqual({ batchItemFailures: [] });
    expect(f.ran).toEqual(['a', 'b']);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody!))).toEqual([{ tenantId: 'acme', batchId: f.id, cursor: 2, chunk: 2 }]);
    // Sent: a third delivery of m1 runs nothing.
    expect(await run({ Records: [record('m1', JSON.stringify({ tenantId: 'acme', batchId: f.id }))] }, () => 900_000)).toEqual({ batchItemFailures: [] });
    expect(f.ran).toEqual(['a', 'b']);
  });
});
