import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { CLIENTS, type ClientName } from '../gateway-conformance/clients.js';
import { openAiAnswer, openAiChunks } from '../gateway-conformance/matrix.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { PythonResponsesClient, runResponses, type ResponsesCall } from './clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The Responses API on the deployed path: API Gateway (emulated) runs the authorizer Lambda, then
 * the streaming router Lambda, whose gateway stores responses in the responses table
 * (`TESSERA_RESPONSES_TABLE`, in moto) with the tenant-scoped document client (sessions of the
 * tenant-data role from moto's STS). Stored, retrieved, chained, streamed; another tenant's id is a 404.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let python: PythonResponsesClient;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.scriptOnly = true;
  [apigw, python] = await Promise.all([startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex')]), PythonResponsesClient.start()]);
  // The router builds its gateway on its first invocation: the table is in place before that.
  await createResponsesTable('tessera-responses');
  process.env[GATEWAY_ENV.responsesTable] = 'tessera-responses';
  for (const t of ['acme', 'globex']) tokens[t] = await apigw.token(t);
});
afterAll(async () => {
  delete process.env[GATEWAY_ENV.responsesTable];
  await python?.stop();
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const run = (client: ClientName, tenant: string, call: ResponsesCall) => runResponses(client, python, apigw.url, tokens[tenant], call);
const MODEL = 'openai-compatible/default';

describe('the Responses API through the Lambda adapters, stored in DynamoDB as the tenant', () => {
  it.each(CLIENTS)('create, retrieve, chain, stream; another tenant gets 404s (%s client)', async (client) => {
    upstream.script({ body: openAiAnswer('text') });
    const first = await run(client, 'acme', { op: 'create', params: { model: MODEL, input: 'Say hello in Norwegian.' } });
    expect(first.error, JSON.stringify(first.error)).toBeUndefined();
    expect(first.result.output_text).toBe('Hei! Hyggelig å møte deg.');
    expect(upstream.calls[0].headers.authorization).toBe('Bearer key-of-acme');

    // The item is in the table under the tenant's partition, expiring after the default 30 days.
    const doc = await unscopedDocumentClient()('');
    const item = (await doc.send(new GetCommand({ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: first.result.id } }))).Item!;
    expect(item.expiresAt - Math.floor(Date.now() / 1000)).toBeGreaterThan(30 * 86_400 - 60);
    expect(item.body).toBeInstanceOf(Uint8Array);

    const got = await run(client, 'acme', { op: 'retrieve', responseId: first.result.id });
    expect(got.result).toEqual(first.result);

    upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
    const second = await run(client, 'acme', { op: 'stream', params: { model: MODEL, previous_response_id: first.result.id, input: 'And in Swedish?' } });
    expect(second.error, JSON.stringify(second.error)).toBeUndefined();
    expect(second.events!.at(-1).type).toBe('response.completed');
    expect(upstream.calls[1].body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);

    for (const call of [{ op: 'retrieve' as const, responseId: first.result.id }, { op: 'delete' as const, responseId: first.result.id }]) {
      expect((await run(client, 'globex', call)).error).toMatchObject({ status: 404, body: { code: 'response_not_found' } });
    }
    expect((await run(client, 'acme', { op: 'delete', responseId: first.result.id })).error).toBeUndefined();
    expect((await run(client, 'acme', { op: 'retrieve', responseId: first.result.id })).error).toMatchObject({ status: 404 });
  });
});

describe('reasoning.summary through the Lambda adapters (the endpoint code serve runs)', () => {
  it.each(CLIENTS)('summary auto is served, stored and read back echoed; detailed is a 400 naming reasoning.summary, nothing sent (%s client)', async (client) => {
    const answer = openAiAnswer('text');
    answer.choices[0].message.reasoning_content = 'A greeting.';
    upstream.script({ body: answer });
    const out = await run(client, 'acme', { op: 'create', params: { model: MODEL, input: 'Hei!', reasoning: { effort: 'medium', summary: 'auto' } } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.reasoning).toEqual({ effort: 'medium', summary: 'auto' });
    expect(out.result.output[0]).toMatchObject({ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'A greeting.' }] });
    expect((await run(client, 'acme', { op: 'retrieve', responseId: out.result.id })).result.reasoning).toEqual({ effort: 'medium', summary: 'auto' });
    const refused = await run(client, 'acme', { op: 'create', params: { model: MODEL, input: 'Hei!', reasoning: { effort: 'medium', summary: 'detailed' } } });
    expect(refused.error).toMatchObject({ status: 400, body: { param: 'reasoning.summary', code: 'unsupported_parameter' } });
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0].body.reasoning_effort).toBe('medium');
  });
});

describe("OpenAI's Conversations API through the Lambda adapters, kept in the responses table as the tenant", () => {
  it('create, a streamed and a whole turn in the conversation, items paged; items are their own DynamoDB items in the tenant\'s partition; another tenant gets 404s (Node client)', async () => {
    const acme = nodeClient(apigw.url, tokens.acme);
    const globex = nodeClient(apigw.url, tokens.globex);
    const conv = await acme.conversations.create({ metadata: { app: 'lambda' }, items: [{ type: 'message', role: 'user', content: 'I am Ada.' }] });
    expect(conv).toMatchObject({ object: 'conversation', metadata: { app: 'lambda' } });

    upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] }, { body: openAiAnswer('text') });
    const stream = acme.responses.stream({ model: MODEL, conversation: conv.id, input: 'Say hello in Norwegian.' });
    for await (const _ of stream) void _;
    const first = await stream.finalResponse();
    expect((first as any).conversation).toEqual({ id: conv.id });
    const second = await acme.responses.create({ model: MODEL, conversation: { id: conv.id }, input: 'Again?' });
    expect(second.output_text).toBe('Hei! Hyggelig å møte deg.');
    expect(upstream.calls[1].body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'user', 'assistant', 'user']);

    const texts: string[] = [];
    for await (const item of acme.conversations.items.list(conv.id, { order: 'asc', limit: 2 })) texts.push((item as any).content[0].text);
    expect(texts).toEqual(['I am Ada.', 'Say hello in Norwegian.', 'Hei! Hyggelig å møte deg.', 'Again?', 'Hei! Hyggelig å møte deg.']);

    // One DynamoDB item per conversation item (and its id's pointer), beside the head, all in acme's partition.
    const doc = await unscopedDocumentClient()('');
    const keys = ((await doc.send(new QueryCommand({ TableName: 'tessera-responses', KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :c)', ExpressionAttributeValues: { ':t': 'acme', ':c': conv.id } }))).Items ?? []).map((i) => i.responseId as string);
    expect(keys.filter((k) => k.includes('#item#'))).toHaveLength(5);
    expect(keys).toContain(conv.id);

    for (const call of [() => globex.conversations.retrieve(conv.id), () => globex.conversations.items.list(conv.id), () => globex.conversations.delete(conv.id),
      () => globex.responses.create({ model: MODEL, conversation: conv.id, input: 'Hi' })]) {
      const e: any = await call().then(() => undefined, (x: unknown) => x);
      expect(e).toMatchObject({ status: 404, error: { code: 'conversation_not_found' } });
    }
    expect(await acme.conversations.delete(conv.id)).toMatchObject({ deleted: true });
    expect(await acme.conversations.retrieve(conv.id).then(() => 200, (e: any) => e.status)).toBe(404);
  });
});
