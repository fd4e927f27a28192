import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ENV } from '../../lambdas/inference/gateway-env.js';
import { GATEWAY_EVENT_SOURCE, REQUEST_COMPLETED_EVENT } from '../../lambdas/inference/request-events.js';
import { PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { conformanceConfig } from '../support/gateway-config.js';
import { plainTenant } from './gateway-conformance/setup.js';
import { startApiGatewayEmulator } from './support/api-gateway-emulator.js';

/**
 * Gap review s32, gap 8 on the deployed path: API Gateway (emulated) → the authorizer → the streaming router Lambda's
 * handler, with moto's EventBridge as the platform bus and a rule copying `Gateway Request Completed` to an SQS queue
 * (what an API destination to Langfuse or Datadog would receive). `acme` opted in (`requestEvents: true`, and keeps its
 * prompt text in its audit records), `quiet` did not.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let queueUrl: string;
const SECRET = 'the launch code is 4417';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

interface Delivered { 'detail-type': string; source: string; detail: Record<string, unknown>; raw: string }

/** The events the rule delivered to the queue, read until `expected` arrived, then twice more (nothing beyond). */
async function delivered(expected: number): Promise<Delivered[]> {
  const sqs = new SQSClient({});
  const found: Delivered[] = [];
  const read = async () => found.push(...((await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages ?? []).map((m) => ({ ...JSON.parse(m.Body!), raw: m.Body! }) as Delivered));
  for (let i = 0; i < 40 && found.length < expected; i++) {
    await read();
    if (found.length < expected) await new Promise((r) => setTimeout(r, 50));
  }
  await read();
  await read();
  return found;
}

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  // The router's bus (constructs/inference-api.ts sets it), before its gateway is built.
  process.env[GATEWAY_ENV.eventBus] = PLATFORM_EVENT_BUS_NAME;
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme', { requestEvents: true, auditPromptText: true }), plainTenant('quiet')]);
  const events = new EventBridgeClient({});
  await events.send(new CreateEventBusCommand({ Name: PLATFORM_EVENT_BUS_NAME }));
  const sqs = new SQSClient({});
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'request-events-copy' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await events.send(new PutRuleCommand({ Name: 'request-events', EventBusName: PLATFORM_EVENT_BUS_NAME, EventPattern: JSON.stringify({ source: [GATEWAY_EVENT_SOURCE], 'detail-type': [REQUEST_COMPLETED_EVENT] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'request-events', EventBusName: PLATFORM_EVENT_BUS_NAME, Targets: [{ Id: 'queue', Arn: queueArn }] }));
}, 120_000);
afterAll(async () => {
  delete process.env[GATEWAY_ENV.eventBus];
  await apigw?.stop();
  await upstream?.stop();
});

describe('request events through the router Lambda (moto EventBridge)', () => {
  it('the opted-in tenant\'s chat completion arrives on the bus, without its prompt text, with its traceparent; the other tenant\'s does not', async () => {
    const model = 'openai-compatible/default';
    const client = async (tenantId: string) => new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token(tenantId), maxRetries: 0, defaultHeaders: { traceparent: TRACEPARENT } });
    const { data: answer, response } = await (await client('acme')).chat.completions.create({ model, messages: [{ role: 'user', content: SECRET }] }).withResponse();
    await (await client('quiet')).chat.completions.create({ model, messages: [{ role: 'user', content: SECRET }] });
    await apigw.settled();
    const events = await delivered(1);
    expect(events.map((e) => [e.source, e['detail-type'], e.detail.tenant])).toEqual([[GATEWAY_EVENT_SOURCE, REQUEST_COMPLETED_EVENT, 'acme']]);
    const detail = events[0]!.detail;
    expect(detail).toMatchObject({
      object: 'tenant.request', id: answer.id, method: 'POST', path: '/v1/chat/completions', tenant: 'acme', model, status: 200, outcome: 'ok',
      usage: { prompt_tokens: answer.usage!.prompt_tokens, completion_tokens: answer.usage!.completion_tokens }, traceparent: TRACEPARENT,
    });
    expect(response.headers.get('x-request-id')).toBe(answer.id);
    // Neither the prompt (kept in the S3 record: auditPromptText) nor its hash, nor the answer's text.
    expect(events[0]!.raw).not.toContain('4417');
    expect(Object.keys(detail)).not.toContain('prompt');
    expect(events[0]!.raw).not.toContain(JSON.stringify(answer.choices[0]!.message.content).slice(1, -1) || '\u0000');
  }, 60_000);
});
