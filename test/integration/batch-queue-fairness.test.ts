import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_MAX_CONCURRENCY } from '../../constructs/batch-work.js';
import { GATEWAY_ENV } from '../../lambdas/inference/gateway-env.js';
import { enqueueBatch } from '../../lambdas/inference/lambda-deps.js';
import type { BatchMessage } from '../../lambdas/inference/batches/worker.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

/**
 * One tenant's many batches and another tenant's one, on the Batch API's work queue in moto, whose standard queues
 * deliver as SQS fair queues do (support/moto-python/tessera_moto_patches.py deliver_fair_queues_as_aws, tested
 * against moto's own order in moto-aws-answers.test.ts). The messages are sent by the router's own enqueueBatch (a
 * create's first chunk, a chunk's next); the test plays the event source mapping: batch size 1, at most
 * BATCH_MAX_CONCURRENCY in flight (ScalingConfig.MaximumConcurrency: it polls no more while that many run).
 * What this proves: each chunk's message carries its tenant's group and, under the fair-queue rule AWS documents,
 * the quiet tenant's chunks are delivered at the next free consumer, not after the noisy tenant's backlog. Not proven:
 * AWS's own detection thresholds and timing (approximate, by AWS's account), nor the mapping's real polling.
 */
let moto: MotoServer;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  sqs = new SQSClient({});
  // Standard, as routerWorkQueue makes it.
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'tessera-batches', Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  process.env[GATEWAY_ENV.batchQueueUrl] = queueUrl;
});
afterAll(async () => {
  delete process.env[GATEWAY_ENV.batchQueueUrl];
  await moto?.stop();
});

/** The mapping's poll of one message (batch size 1), with its group. */
async function poll(): Promise<{ message: BatchMessage; group: string | undefined; receipt: string } | undefined> {
  const m: Message | undefined = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId'] }))).Messages?.[0];
  return m && { message: JSON.parse(m.Body!) as BatchMessage, group: m.Attributes?.MessageGroupId, receipt: m.ReceiptHandle! };
}

describe('the Batch API\'s work queue is fair between tenants (SQS fair queues, MessageGroupId = tenant id)', () => {
  it('a quiet tenant\'s chunk, and its next chunk, run at the next free consumer while a noisy tenant\'s backlog waits', async () => {
    // GIVEN acme's 30 batches (one message each: a batch's chunks are a chain, one message at a time), of which the
    // mapping runs BATCH_MAX_CONCURRENCY, all the consumers it has
    for (let i = 0; i < 30; i++) await enqueueBatch({ tenantId: 'acme', batchId: `batch_acme_${i}` });
    const running = [];
    for (let i = 0; i < BATCH_MAX_CONCURRENCY; i++) running.push((await poll())!);
    expect(running.map((r) => r.message.tenantId)).toEqual(Array(BATCH_MAX_CONCURRENCY).fill('acme'));
    // AND then globex creates one batch: its first chunk's message is behind acme's 10 older ones
    await enqueueBatch({ tenantId: 'globex', batchId: 'batch_globex_0' });

    // WHEN one of acme's chunks ends: it sends its batch's next chunk (enqueueBatch, as runBatchChunk does) and is deleted
    const ended = running.shift()!;
    await enqueueBatch({ ...ended.message, cursor: 100, chunk: 1 });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: ended.receipt }));
    // THEN the free consumer gets globex's chunk, not acme's older backlog
    const next = (await poll())!;
    expect(next.message).toMatchObject({ tenantId: 'globex', batchId: 'batch_globex_0' });
    // (each message in its tenant's group: what the queue tells tenants apart by)
    expect([...running, next].map((r) => [r.message.tenantId, r.group])).toEqual([...running, next].map((r) => [r.message.tenantId, r.message.tenantId]));

    // AND when globex's chunk ends with more to run, its next chunk is again the next delivered, though sent after acme's
    await enqueueBatch({ tenantId: 'globex', batchId: 'batch_globex_0', cursor: 50, chunk: 1 });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: next.receipt }));
    expect(await poll()).toMatchObject({ group: 'globex', message: { batchId: 'batch_globex_0', cursor: 50, chunk: 1 } });

    // AND acme's backlog is not held back: with no other tenant's message waiting it runs, oldest first
    expect(await poll()).toMatchObject({ group: 'acme', message: { batchId: `batch_acme_${BATCH_MAX_CONCURRENCY}` } });
  }, 60_000);
});
