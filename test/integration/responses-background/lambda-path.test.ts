import { DeleteMessageCommand, CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/gateway-env.js';
import { BACKGROUND_RESPONSES_QUEUE_NAME, BATCH_QUEUE_NAME } from '../../../lambdas/inference/work-queues.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * Background responses on the deployed path, in moto: the streaming router answers the create `queued` (the response
 * stored as the tenant in the responses table) and sends `{kind: 'response', tenantId, responseId}` to its own work
 * queue (tessera-background-responses; the Batch API's queue gets nothing); the test plays the queue's event source mapping (receive from moto's SQS, invoke the router's handler with the SQS
 * event), the router runs the response as its creator and settles it; retrieve reads it completed. A duplicate
 * delivery runs nothing twice; another tenant's retrieve and cancel are 404s as an unknown id's.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let queueUrl: string;
let batchQueueUrl: string;
const tokens: Record<string, string> = {};
const router = async () => (await import('../../../lambdas/inference/router-handler.js')).handler as unknown as (event: SQSEvent, stream: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex')]);
  await createResponsesTable('tessera-responses');
  queueUrl = (await new SQSClient({}).send(new CreateQueueCommand({ QueueName: BACKGROUND_RESPONSES_QUEUE_NAME, Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  batchQueueUrl = (await new SQSClient({}).send(new CreateQueueCommand({ QueueName: BATCH_QUEUE_NAME, Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  // Before the Lambdas build their gateways (on their first invocation).
  Object.assign(process.env, { [GATEWAY_ENV.responsesTable]: 'tessera-responses', [GATEWAY_ENV.batchQueueUrl]: batchQueueUrl, [GATEWAY_ENV.backgroundResponsesQueueUrl]: queueUrl });
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
});
afterAll(async () => {
  for (const v of [GATEWAY_ENV.responsesTable, GATEWAY_ENV.batchQueueUrl, GATEWAY_ENV.backgroundResponsesQueueUrl]) delete process.env[v];
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const MODEL = 'openai-compatible/default';

async function receive(url = queueUrl) {
  const out = await new SQSClient({}).send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return out.Messages ?? [];
}

/** Invokes the router with these messages of `queue` as SQS's event source mapping does. @returns its answer */
async function deliver(messages: Awaited<ReturnType<typeof receive>>, remainingMs: number, queue = BACKGROUND_RESPONSES_QUEUE_NAME) {
  const event: SQSEvent = {
    Records: messages.map((m) => ({
      messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, md5OfBody: m.MD5OfBody!, messageAttributes: {},
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' },
      eventSource: 'aws:sqs', eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue}`, awsRegion: 'us-east-1',
    })),
  };
  const chunks: Buffer[] = [];
  const endsAt = Date.now() + remainingMs;
  await (await router())(event, new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }), { getRemainingTimeInMillis: () => endsAt - Date.now() });
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { batchItemFailures: Array<{ itemIdentifier: string }> };
}

describe('background responses through the Lambda adapters, on moto (DynamoDB, SQS)', () => {
  it('create → queued and a queue message → the router runs it once (a duplicate delivery runs nothing) → retrieve completed; another tenant gets 404s', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const created = await acme.responses.create({ model: MODEL, input: 'otters over SQS', background: true });
    expect(created).toMatchObject({ status: 'queued', background: true });
    expect(upstream.requests).toHaveLength(0);
    expect(await acme.responses.retrieve(created.id)).toMatchObject({ status: 'queued' });

    const [message] = await receive();
    expect(JSON.parse(message!.Body!)).toEqual({ kind: 'response', tenantId: 'acme', responseId: created.id });
    // Nothing on the Batch API's queue: a batch's backlog of chunks never stands before a background response.
    expect(await receive(batchQueueUrl)).toEqual([]);
    expect(await deliver([message!], 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    const done = await acme.responses.retrieve(created.id);
    expect(done).toMatchObject({ id: created.id, status: 'completed', background: true });
    expect(done.output_text).toContain('otters over SQS');

    // SQS delivers at least once: the same message again runs nothing.
    expect(await deliver([message!], 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message!.ReceiptHandle! }));

    const raw = async (id: string, method: string, suffix = '') => {
      const res = await fetch(`${apigw.url}/responses/${id}${suffix}`, { method, headers: { authorization: `Bearer ${tokens.globex}` } });
      const body = (await res.json()) as { error: Record<string, unknown> };
      return { status: res.status, error: { ...body.error, message: String(body.error.message).replace(id, '<id>') } };
    };
    const unknown = `resp_${'0'.repeat(48)}`;
    expect((await raw(created.id, 'GET')).status).toBe(404);
    expect(await raw(created.id, 'GET')).toEqual(await raw(unknown, 'GET'));
    expect(await raw(created.id, 'POST', '/cancel')).toEqual(await raw(unknown, 'POST', '/cancel'));
  });

  it('cancel while queued: cancelled, and its message then runs nothing', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const created = await acme.responses.create({ model: MODEL, input: 'never run', background: true });
    expect(await acme.responses.cancel(created.id)).toMatchObject({ status: 'cancelled' });
    const [message] = await receive();
    expect(await deliver([message!], 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(0);
    expect(await acme.responses.retrieve(created.id)).toMatchObject({ status: 'cancelled' });
  });

  it('a response message an older router left on the batch queue still runs (an upgrade loses none)', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const created = await acme.responses.create({ model: MODEL, input: 'sent before the upgrade', background: true });
    // Its message as a router deployed before the background responses' queue sent it: to the Batch API's queue.
    const [own] = await receive();
    await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: own!.ReceiptHandle! }));
    await new SQSClient({}).send(new SendMessageCommand({ QueueUrl: batchQueueUrl, MessageBody: own!.Body! }));
    const [old] = await receive(batchQueueUrl);
    expect(await deliver([old!], 900_000, BATCH_QUEUE_NAME)).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    expect(await acme.responses.retrieve(created.id)).toMatchObject({ status: 'completed' });
  });
});
