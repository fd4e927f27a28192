import { DeleteMessageCommand, CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/gateway-env.js';
import { DynamoDbResponseStore } from '../../../lambdas/inference/stores/dynamodb-response-store.js';
import { DynamoDbPendingCreates } from '../../../lambdas/inference/stores/dynamodb-pending-creates.js';
import { BACKGROUND_RESPONSES_QUEUE_NAME, BATCH_QUEUE_NAME } from '../../../lambdas/inference/work-queues.js';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { FakeUpstream, type ScriptedEvent } from '../../support/fake-upstream.js';
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

  it('the Node client\'s retry of a create whose queued answer was lost is answered that response (its note in the responses table): one run (the retry sends its start again, as the first attempt\'s may never have gone out; that second message runs nothing)', async () => {
    const token = await apigw.token('globex', { sub: 'lost-queued' });
    const seen: string[] = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await globalThis.fetch(url, init);
      if (init?.method === 'POST' && String(url).endsWith('/responses')) {
        seen.push(((await res.clone().json()) as { id: string }).id);
        if (seen.length === 1) throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return res;
    };
    const created = await new OpenAI({ baseURL: apigw.url, apiKey: token, fetch, timeout: 20_000 }).responses.create({ model: MODEL, input: 'lost on the way back', background: true });
    expect(seen).toEqual([created.id, created.id]);
    const messages = await receive();
    expect(messages.map((m) => JSON.parse(m.Body!).responseId)).toEqual([created.id, created.id]);
    for (const message of messages) expect(await deliver([message], 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    expect(await nodeClient(apigw.url, token).responses.retrieve(created.id)).toMatchObject({ status: 'completed' });
  });

  it('a create whose first attempt is still storing its queued response when the Node client\'s retry comes (timeout 3 s): the retry waits on the attempt\'s note in the responses table and is answered that response; one message, one run', async () => {
    const token = await apigw.token('globex', { sub: 'slow-queued' });
    // The first attempt's put of the queued response waits until a retry has read the attempt's note.
    const put = DynamoDbResponseStore.prototype.put;
    const read = DynamoDbPendingCreates.prototype.read;
    const queued: string[] = [];
    let opened: () => void = () => undefined;
    vi.spyOn(DynamoDbResponseStore.prototype, 'put').mockImplementation(async function (this: DynamoDbResponseStore, item) {
      if (item.response.status === 'queued' && queued.push(item.responseId) === 1) await new Promise<void>((ok) => (opened = ok));
      return put.call(this, item);
    });
    vi.spyOn(DynamoDbPendingCreates.prototype, 'read').mockImplementation(async function (this: DynamoDbPendingCreates, tenantId, key) {
      opened();
      return read.call(this, tenantId, key);
    });
    try {
      const created = await new OpenAI({ baseURL: apigw.url, apiKey: token, timeout: 3000 }).responses.create({ model: MODEL, input: 'slow to queue', background: true });
      // The old code: the retry found the note naming a response not stored yet, and queued a second one.
      expect(queued).toEqual([created.id]);
    } finally {
      opened();
      vi.restoreAllMocks();
    }
    const messages = await receive();
    for (const message of messages) expect(JSON.parse(message.Body!).responseId).toBe(queued[0]);
    for (const message of messages) expect(await deliver([message], 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    expect(await nodeClient(apigw.url, token).responses.retrieve(queued[0]!)).toMatchObject({ status: 'completed' });
  });

  it('a create whose queue send failed and whose failed settle failed too (stuck queued): the Node client\'s retry starts its run, which runs once', async () => {
    const token = await apigw.token('globex', { sub: 'stuck-queued' });
    // The first attempt's SendMessage is refused, and so is the write that would settle the response failed.
    const send = SQSClient.prototype.send;
    let refusedSends = 0;
    vi.spyOn(SQSClient.prototype, 'send').mockImplementation(function (this: SQSClient, command: unknown, ...rest: unknown[]) {
      if (command instanceof SendMessageCommand && refusedSends++ === 0) return Promise.reject(Object.assign(new Error('SQS is unavailable'), { name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } }));
      return (send as (...a: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    } as never);
    vi.spyOn(DynamoDbResponseStore.prototype, 'update').mockRejectedValueOnce(new Error('DynamoDB is unavailable'));
    const ids: string[] = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await globalThis.fetch(url, init);
      if (init?.method === 'POST' && String(url).endsWith('/responses')) ids.push(res.status === 200 ? ((await res.clone().json()) as { id: string }).id : String(res.status));
      return res;
    };
    const created = await new OpenAI({ baseURL: apigw.url, apiKey: token, fetch, timeout: 20_000 }).responses.create({ model: MODEL, input: 'never sent the first time', background: true });
    vi.restoreAllMocks();
    expect(ids).toEqual(['500', created.id]);
    // The old code: the retry was answered the stuck response, and no message ever named it.
    const messages = await receive();
    expect(messages.map((m) => JSON.parse(m.Body!).responseId)).toEqual([created.id]);
    expect(await deliver(messages, 900_000)).toEqual({ batchItemFailures: [] });
    expect(upstream.requests).toHaveLength(1);
    expect(await nodeClient(apigw.url, token).responses.retrieve(created.id)).toMatchObject({ status: 'completed' });
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

  it('query parameters on the deployed path: every value of a repeated include[] is checked (API Gateway\'s multiValueQueryStringParameters), before on input_items is a 400 naming it', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const created = await acme.responses.create({ model: MODEL, input: 'listed on the deployed path' });
    expect((await acme.responses.inputItems.list(created.id, { include: ['file_search_call.results', 'message.output_text.logprobs'] })).data).toHaveLength(1);
    await expect(acme.responses.inputItems.list(created.id, { include: ['web_search_call.results', 'message.output_text.logprobs'] })).rejects.toMatchObject({ status: 400, param: 'include[0]', code: 'unsupported_parameter' });
    await expect(acme.responses.inputItems.list(created.id, {}, { query: { before: 'msg_1' } })).rejects.toMatchObject({ status: 400, param: 'before', code: 'unknown_parameter' });
  });

  it('background + stream: the create answers the run\'s events as the queue consumer stores them in DynamoDB; dropped after a few, retrieve(id, {stream: true, starting_after}) gives the rest once, in order; a second reader the same; past the end a 400 naming starting_after', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const g = gate();
    upstream.script(gatedStream(PIECES, 2, g.promise));
    const created = await acme.responses.create({ model: MODEL, input: 'otters over SQS, streamed', background: true, stream: true });
    const [message] = await receive();
    const running = deliver([message!], 900_000);
    const first = await readUntil(created, (e) => e.type === 'response.output_text.delta');
    expect(first[0]).toMatchObject({ type: 'response.created', sequence_number: 0 });
    const id = (first[0] as { response: { id: string } }).response.id;
    g.open();
    expect(await running).toEqual({ batchItemFailures: [] });
    const rest = await readUntil(await acme.responses.retrieve(id, { stream: true, starting_after: first[first.length - 1]!.sequence_number }));
    const all = [...first, ...rest];
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i));
    expect(all[all.length - 1]).toMatchObject({ type: 'response.completed', response: { id, status: 'completed' } });
    expect(all.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('')).toBe(PIECES.join(''));
    expect(await readUntil(await acme.responses.retrieve(id, { stream: true }))).toEqual(all);
    await expect(acme.responses.retrieve(id, { stream: true, starting_after: all.length })).rejects.toMatchObject({ status: 400, param: 'starting_after' });
    const other = await fetch(`${apigw.url}/responses/${id}?stream=true`, { headers: { authorization: `Bearer ${tokens.globex}` } });
    expect(other.status).toBe(404);
    await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message!.ReceiptHandle! }));
  });

  it('background + stream, cancelled mid-run: the run (on the queue consumer) notices at its next read and every reader\'s stream ends after the last event it stored; retrieve says cancelled', async () => {
    const acme = nodeClient(apigw.url, tokens.acme!);
    const g = gate();
    upstream.script(gatedStream(PIECES, 2, g.promise));
    const created = await acme.responses.create({ model: MODEL, input: 'cancel me', background: true, stream: true });
    const [message] = await receive();
    const running = deliver([message!], 900_000);
    const seen: ResponseStreamEvent[] = [];
    let id = '';
    for await (const event of created) {
      seen.push(event);
      if (event.type === 'response.created') id = event.response.id;
      if (event.type === 'response.output_text.delta' && seen.filter((e) => e.type === 'response.output_text.delta').length === 2) expect(await acme.responses.cancel(id)).toMatchObject({ status: 'cancelled' });
    }
    expect(seen.map((e) => e.sequence_number)).toEqual(seen.map((_, i) => i));
    expect(seen.some((e) => ['response.completed', 'response.failed', 'response.incomplete'].includes(e.type))).toBe(false);
    g.open();
    expect(await running).toEqual({ batchItemFailures: [] });
    expect(await acme.responses.retrieve(id)).toMatchObject({ status: 'cancelled' });
    await new SQSClient({}).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message!.ReceiptHandle! }));
  });
});

/** A chat stream of `pieces` text deltas, held after the first `heldAfter` until `gate` resolves. */
function gatedStream(pieces: string[], heldAfter: number, held: Promise<unknown>): { events: ScriptedEvent[] } {
  const chunk = (delta: object, finish: string | null) => ({ data: { id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] } });
  return {
    events: [
      ...pieces.slice(0, heldAfter).map((p) => chunk({ content: p }, null)),
      { until: held },
      ...pieces.slice(heldAfter).map((p) => chunk({ content: p }, null)),
      chunk({}, 'stop'),
      { data: { id: 'up-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 } } },
      { data: '[DONE]' },
    ],
  };
}

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((ok) => (open = ok));
  return { promise, open };
}

const PIECES = ['Otters ', 'float ', 'on ', 'their ', 'backs ', 'in ', 'space.'];

/** Reads events until `stop` says so (then drops the stream) or the stream ends. */
async function readUntil(stream: AsyncIterable<ResponseStreamEvent> & { controller: AbortController }, stop: (e: ResponseStreamEvent) => boolean = () => false): Promise<ResponseStreamEvent[]> {
  const seen: ResponseStreamEvent[] = [];
  for await (const event of stream) {
    seen.push(event);
    if (stop(event)) {
      stream.controller.abort();
      break;
    }
  }
  return seen;
}
