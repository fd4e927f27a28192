import { SendMessageCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handleBatchQueue } from '../../../lambdas/inference/batches/queue-handler.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/gateway-env.js';
import { lambdaBackgroundStarter } from '../../../lambdas/inference/lambda-deps.js';
import type { ExecuteBackground } from '../../../lambdas/inference/responses/background.js';
import { MemoryResponseStore } from '../../../lambdas/inference/stores/memory-response-store.js';
import type { StoredResponse } from '../../../lambdas/inference/stores/response-store.js';
import { BACKGROUND_RESPONSES_QUEUE_NAME, BATCH_QUEUE_NAME } from '../../../lambdas/inference/work-queues.js';
import { mockStrict } from '../../support/strict-mock.js';
import { logSpy } from '../../support/service-log.js';

/**
 * Background responses have their own work queue (tessera-background-responses), apart from the Batch API's: the
 * starter sends there, the router's consumer tells the queues apart by `eventSourceARN`, runs a response message from
 * either (one on the batch queue was sent by a router deployed before the change: an upgrade loses none) and refuses a
 * batch chunk's message on the background responses' queue (reported failed, logged, never run).
 */
const sqs = mockStrict(SQSClient, 'sqs', SQSServiceException);
const BACKGROUND_URL = `https://sqs.us-east-1.amazonaws.com/123456789012/${BACKGROUND_RESPONSES_QUEUE_NAME}`;
const BATCH_URL = `https://sqs.us-east-1.amazonaws.com/123456789012/${BATCH_QUEUE_NAME}`;
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv(GATEWAY_ENV.responsesTable, 'tessera-responses');
  vi.stubEnv(GATEWAY_ENV.batchQueueUrl, BATCH_URL);
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});
afterAll(() => sqs.restore());

const arnOf = (queue: string) => `arn:aws:sqs:us-east-1:123456789012:${queue}`;
const record = (messageId: string, queue: string, body: unknown): SQSRecord => ({
  messageId, receiptHandle: 'r', body: JSON.stringify(body), md5OfBody: '', messageAttributes: {}, eventSource: 'aws:sqs', eventSourceARN: arnOf(queue), awsRegion: 'us-east-1',
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' },
});
const idOf = (n: number) => `resp_${String(n).repeat(48)}`;
const queued = (responseId: string): StoredResponse => ({
  tenantId: 'acme', responseId, response: { id: responseId, object: 'response', status: 'queued', background: true, created_at: 1, output: [] }, inputItems: [], messages: [],
  expiresAt: Math.floor(Date.now() / 1000) + 3600, job: { owner: { tenantId: 'acme', userId: 'u1', role: 'member' }, request: '{"model":"m","input":"hi","background":true}' },
});
/** An execute that answers `completed` through settle, recording the responses it ran. */
const answering = (ran: string[]): ExecuteBackground => async (_owner, _request, responseId, settle) => {
  ran.push(responseId);
  await settle({ ...queued(responseId), job: undefined, response: { id: responseId, object: 'response', status: 'completed', background: true, created_at: 9, output: [] } });
  return undefined;
};
const context = { getRemainingTimeInMillis: () => 900_000 };

describe('the background responses\' own work queue', () => {
  it('the starter sends {kind: response} to TESSERA_BACKGROUND_RESPONSES_QUEUE_URL in the tenant\'s message group (SQS fair queues), never to the Batch API\'s queue; without that variable background responses are not served', async () => {
    expect(lambdaBackgroundStarter()).toBeUndefined();
    vi.stubEnv(GATEWAY_ENV.backgroundResponsesQueueUrl, BACKGROUND_URL);
    await lambdaBackgroundStarter()!.start('acme', idOf(1));
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: BACKGROUND_URL, MessageBody: JSON.stringify({ kind: 'response', tenantId: 'acme', responseId: idOf(1) }), MessageGroupId: 'acme' },
    ]);
  });

  it('runs a response message from its own queue, and one an older router left on the batch queue (an upgrade loses none); a batch chunk on the responses\' queue is reported failed, never run', async () => {
    const store = new MemoryResponseStore();
    await store.put(queued(idOf(1)));
    await store.put(queued(idOf(2)));
    const ran: string[] = [];
    const worker = vi.fn(async () => { throw new Error('the batch worker is not built for these messages'); });
    const errors = logSpy('tessera-gateway', 'error');
    const answer = await handleBatchQueue({
      Records: [
        record('new', BACKGROUND_RESPONSES_QUEUE_NAME, { kind: 'response', tenantId: 'acme', responseId: idOf(1) }),
        record('legacy', BATCH_QUEUE_NAME, { kind: 'response', tenantId: 'acme', responseId: idOf(2) }),
        record('misplaced', BACKGROUND_RESPONSES_QUEUE_NAME, { tenantId: 'acme', batchId: 'batch_1' }),
      ],
    }, context, worker, { responses: async () => ({ responses: store, execute: answering(ran) }) });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'misplaced' }] });
    expect(ran.sort()).toEqual([idOf(1), idOf(2)]);
    expect((await store.get('acme', idOf(1)))?.response.status).toBe('completed');
    expect((await store.get('acme', idOf(2)))?.response.status).toBe('completed');
    // The chunk's message ran nothing: the batch worker was never even built.
    expect(worker).not.toHaveBeenCalled();
    const logged = errors.lines();
    expect(logged).toEqual([expect.objectContaining({ level: 'ERROR', queue: BACKGROUND_RESPONSES_QUEUE_NAME, messageId: 'misplaced', message: expect.stringContaining('not a background response') })]);
  });
});
