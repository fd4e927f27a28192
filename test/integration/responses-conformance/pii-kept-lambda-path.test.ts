import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/gateway-env.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { BACKGROUND_RESPONSES_QUEUE_NAME, BATCH_QUEUE_NAME } from '../../../lambdas/inference/work-queues.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * What the deployed gateway keeps under a tenant's `guardrails.redactPii` (docs/gateway.md, "What the gateway
 * keeps"), on the Lambda path in moto: the router Lambda behind the emulated API Gateway stores in the responses
 * table as the tenant. A stored Response's input items, a conversation's items, a background response's queued
 * request (read before the queue message is delivered) and a stored chat completion's messages hold `[EMAIL]`, in
 * the API's answers and in the DynamoDB items themselves (gzipped bodies unzipped); the chained turns send the model
 * the redacted history; the audit records in S3 (with `auditPromptText`) hold no raw PII and note it once.
 */
const EMAIL = 'ada.lovelace@example.com';
const PHONE = '(415) 555-0134';
const CARD = '4111 1111 1111 1111';
const RAW = [EMAIL, PHONE, CARD, '4111111111111111', 'lovelace'];
const MODEL = 'openai-compatible/default';
const TABLE = 'tessera-responses';

let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let queueUrl: string;
let token: string;
const router = async () => (await import('../../../lambdas/inference/router-handler.js')).handler as unknown as (event: SQSEvent, stream: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const tenant = plainTenant('acme', { guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: false }, auditPromptText: true });
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [tenant]);
  await createResponsesTable(TABLE);
  queueUrl = (await new SQSClient({}).send(new CreateQueueCommand({ QueueName: BACKGROUND_RESPONSES_QUEUE_NAME, Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  const batchQueueUrl = (await new SQSClient({}).send(new CreateQueueCommand({ QueueName: BATCH_QUEUE_NAME, Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  // Before the router builds its gateway (on its first invocation).
  Object.assign(process.env, { [GATEWAY_ENV.responsesTable]: TABLE, [GATEWAY_ENV.batchQueueUrl]: batchQueueUrl, [GATEWAY_ENV.backgroundResponsesQueueUrl]: queueUrl });
  token = await apigw.token('acme');
});
afterAll(async () => {
  for (const v of [GATEWAY_ENV.responsesTable, GATEWAY_ENV.batchQueueUrl, GATEWAY_ENV.backgroundResponsesQueueUrl]) delete process.env[v];
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const client = () => nodeClient(apigw.url, token);

/** Every DynamoDB item of acme whose sort key starts with `prefix`, as text: binary attributes (gzipped bodies) unzipped. */
async function tableText(prefix: string): Promise<string> {
  const doc = await unscopedDocumentClient()('');
  const items = (await doc.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :p)', ExpressionAttributeValues: { ':t': 'acme', ':p': prefix } }))).Items ?? [];
  expect(items.length).toBeGreaterThan(0);
  return items.map((item) => JSON.stringify(item, (_k, v) => (v instanceof Uint8Array ? (v[0] === 0x1f && v[1] === 0x8b ? gunzipSync(v).toString('utf8') : Buffer.from(v).toString('utf8')) : v))).join('\n');
}

/** acme's audit records in the audit bucket, once every router invocation has returned. */
async function auditRecords(): Promise<Array<Record<string, any>>> {
  await apigw.settled();
  const s3 = new S3Client({ forcePathStyle: true });
  const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'tessera-audit', Prefix: 'tessera-audit/inference/acme/' }))).Contents ?? []).map((o) => o.Key!);
  return Promise.all(keys.map(async (Key) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: 'tessera-audit', Key }))).Body!.transformToString())));
}

const expectNoRaw = (text: string) => {
  for (const raw of RAW) expect(text, `${raw} kept`).not.toContain(raw);
};
const textOf = (m: any): string => (typeof m.content === 'string' ? m.content : m.content.map((p: any) => p.text).join(''));
const userTexts = (body: Record<string, any>) => body.messages.filter((m: any) => m.role === 'user').map(textOf);

describe('PII redaction: what the Lambda path keeps in DynamoDB and the audit bucket', () => {
  it('a stored Response and its chained turn; a conversation and its next turn; a stored chat completion', async () => {
    const first = await client().responses.create({ model: MODEL, instructions: `Sign as ${EMAIL}.`, input: `Write to ${EMAIL} or call ${PHONE}; card ${CARD}.` });
    const sent = 'Write to [EMAIL] or call [PHONE]; card [CREDIT_CARD].';
    expect(userTexts(upstream.requests[0])).toEqual([sent]);
    expect(((await client().responses.inputItems.list(first.id)).data[0] as any).content[0].text).toBe(sent);
    expect((await client().responses.retrieve(first.id)).instructions).toBe('Sign as [EMAIL].');
    await client().responses.create({ model: MODEL, previous_response_id: first.id, input: 'And again?' });
    expect(userTexts(upstream.requests[1])).toEqual([sent, 'And again?']);
    const responses = await tableText('resp_');
    expect(responses).toContain(sent);
    expectNoRaw(responses);

    const conv = await client().conversations.create({ items: [{ type: 'message', role: 'user', content: `I am Ada, ${EMAIL}.` }] });
    await client().responses.create({ model: MODEL, conversation: conv.id, input: `My phone is ${PHONE}.` });
    await client().responses.create({ model: MODEL, conversation: conv.id, input: 'Thanks.' });
    expect(userTexts(upstream.requests[3])).toEqual(['I am Ada, [EMAIL].', 'My phone is [PHONE].', 'Thanks.']);
    const listed: string[] = [];
    for await (const item of client().conversations.items.list(conv.id, { order: 'asc' })) listed.push((item as any).content[0].text);
    expect(listed[0]).toBe('I am Ada, [EMAIL].');
    expect(listed[1]).toBe('My phone is [PHONE].');
    const conversation = await tableText(conv.id);
    expect(conversation).toContain('I am Ada, [EMAIL].');
    expectNoRaw(conversation);

    const chat = await client().chat.completions.create({ model: MODEL, store: true, messages: [{ role: 'user', content: `Card ${CARD}, mail ${EMAIL}.` }] });
    expect((await client().chat.completions.messages.list(chat.id)).data[0].content).toBe('Card [CREDIT_CARD], mail [EMAIL].');
    const completion = await tableText('chatcmpl-');
    expect(completion).toContain('Card [CREDIT_CARD], mail [EMAIL].');
    expectNoRaw(completion);

    // The audit records hold the prompt text as sent (auditPromptText), and note each PII once, where it was redacted.
    const records = await auditRecords();
    expectNoRaw(JSON.stringify(records));
    const creates = records.filter((r) => r.action === 'response.create' && r.detail?.conversationId === conv.id).sort((a, b) => a.at.localeCompare(b.at));
    expect(creates.map((r) => r.piiRedacted)).toEqual([['PHONE'], undefined]);
  });

  it('a background response keeps its queued request redacted in DynamoDB until it runs; the run sends what a foreground request would', async () => {
    const created = await client().responses.create({ model: MODEL, input: `Remind ${EMAIL} at ${PHONE}.`, background: true });
    const queued = await tableText(created.id);
    expect(queued).toContain('Remind [EMAIL] at [PHONE].');
    expectNoRaw(queued);

    const messages = (await new SQSClient({}).send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages ?? [];
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, md5OfBody: m.MD5OfBody!, messageAttributes: {},
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '0' },
        eventSource: 'aws:sqs', eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${BACKGROUND_RESPONSES_QUEUE_NAME}`, awsRegion: 'us-east-1',
      })),
    };
    const endsAt = Date.now() + 900_000;
    await (await router())(event, new Writable({ write(_c, _e, cb) { cb(); } }), { getRemainingTimeInMillis: () => endsAt - Date.now() });
    expect(await client().responses.retrieve(created.id)).toMatchObject({ status: 'completed' });
    expect(userTexts(upstream.requests[0])).toEqual(['Remind [EMAIL] at [PHONE].']);
    expectNoRaw(await tableText(created.id));
  });
});
