import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { openAiAnswer } from '../gateway-conformance/matrix.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { CountTokensCommand, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { mockProviderSdks, plainTenant, useConformanceGateway } from '../gateway-conformance/setup.js';
import { runPythonCode } from '../../support/python-zygote.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * `POST /v1/responses/input_tokens` (client.responses.inputTokens.count) on `tessera serve`: the gateway's own count for
 * an openai-compatible model, OpenAI's own count relayed for an `openai` model (the chained history inline), the
 * create's refusals and its previous_response_id lookup; `POST /v1/responses/compact` and other POSTs beside the
 * response ids are 404s saying what is served.
 */
/** The default model of tenant `defaulted` (acme and globex have none). */
const COMPAT_DEFAULT = 'openai-compatible/default';
const suite = useConformanceGateway(async () => ({ stop: async () => undefined }), { tenants: [plainTenant('acme'), plainTenant('globex'), plainTenant('defaulted', { defaultModel: COMPAT_DEFAULT })] });

const { bedrock } = mockProviderSdks();
const COMPAT = 'openai-compatible/default';
const TOOLS: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false }];
const client = (tenant = 'acme') => nodeClient(suite.env.gw.url, suite.env.tokens[tenant]!);

/** A stored response of `tenant` (the fake upstream answers it), its id. */
async function storedResponse(tenant = 'acme'): Promise<string> {
  suite.env.upstream.script({ body: openAiAnswer('text') });
  const created = await client(tenant).responses.create({ model: COMPAT, input: 'What is the capital of Norway? Tell me about it in some detail.' });
  return created.id;
}

describe('POST /v1/responses/input_tokens', () => {
  it('counts with the gateway\'s o200k count for an openai-compatible model (official Node client): instructions, tools and the chained history add up; nothing upstream, no budget', async () => {
    const previous = await storedResponse();
    const calls = suite.env.upstream.calls.length;
    const c = client();
    const bare = await c.responses.inputTokens.count({ model: COMPAT, input: 'And its population?' });
    const full = await c.responses.inputTokens.count({ model: COMPAT, input: 'And its population?', instructions: 'Answer in one sentence.', tools: TOOLS, previous_response_id: previous });
    const noHistory = await c.responses.inputTokens.count({ model: COMPAT, input: 'And its population?', instructions: 'Answer in one sentence.', tools: TOOLS });
    expect(bare).toEqual({ object: 'response.input_tokens', input_tokens: expect.any(Number) });
    expect(bare.input_tokens).toBeGreaterThan(3);
    expect(noHistory.input_tokens).toBeGreaterThan(bare.input_tokens);
    expect(full.input_tokens).toBeGreaterThan(noHistory.input_tokens + 10); // the stored question and answer
    expect(suite.env.upstream.calls).toHaveLength(calls);
    expect(suite.env.gw.audit.records.at(-2)).toMatchObject({ path: '/v1/responses/input_tokens', status: 200, action: 'response.input_tokens', model: COMPAT, detail: { previousResponseId: previous, inputTokens: full.input_tokens, counter: 'estimate' } });
  });

  it('relays an openai model\'s count to OpenAI\'s own /responses/input_tokens, the chained history inline as items and its model the upstream\'s', async () => {
    const previous = await storedResponse();
    suite.env.upstream.script({ body: { object: 'response.input_tokens', input_tokens: 4242 } });
    const out = await client().responses.inputTokens.count({ model: 'openai/gpt-4o-mini', input: 'And its population?', instructions: 'Answer in one sentence.', tools: TOOLS, tool_choice: 'auto', previous_response_id: previous });
    expect(out).toEqual({ object: 'response.input_tokens', input_tokens: 4242 });
    const call = suite.env.upstream.calls.at(-1)!;
    expect(call.path).toMatch(/\/responses\/input_tokens$/);
    const body = call.body as Record<string, any>;
    expect(body).toMatchObject({ model: 'gpt-4o-mini', instructions: 'Answer in one sentence.', tools: TOOLS, tool_choice: 'auto' });
    expect(body.previous_response_id).toBeUndefined(); // OpenAI cannot read this gateway's response ids
    expect(body.input).toEqual([
      { type: 'message', role: 'user', content: 'What is the capital of Norway? Tell me about it in some detail.' },
      { type: 'message', role: 'assistant', content: expect.any(String) },
      { type: 'message', role: 'user', content: 'And its population?' },
    ]);
    expect(suite.env.gw.audit.records.at(-1)).toMatchObject({ action: 'response.input_tokens', detail: { inputTokens: 4242, counter: 'openai' } });
  });

  it('counts a Bedrock model with Bedrock\'s CountTokens (the Converse mapping), and estimates where Bedrock counts none for the model', async () => {
    bedrock.on(CountTokensCommand).resolvesOnce({ inputTokens: 321 }).rejectsOnce(new ValidationException({ message: "The provided model doesn't support counting tokens.", $metadata: {} }));
    const c = client();
    const counted = await c.responses.inputTokens.count({ model: 'bedrock/amazon.nova-lite', input: 'Hello there', instructions: 'Be brief.', tools: TOOLS });
    expect(counted.input_tokens).toBe(321);
    const sent = bedrock.commandCalls(CountTokensCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ modelId: 'amazon.nova-lite-v1:0', input: { converse: { system: [{ text: 'Be brief.' }], messages: [{ role: 'user', content: [{ text: 'Hello there' }] }], toolConfig: { tools: [{ toolSpec: { name: 'get_weather' } }] } } } });
    expect(suite.env.gw.audit.records.at(-1)).toMatchObject({ action: 'response.input_tokens', detail: { inputTokens: 321, counter: 'bedrock' } });
    const estimated = await c.responses.inputTokens.count({ model: 'bedrock/amazon.nova-lite', input: 'Hello there', instructions: 'Be brief.', tools: TOOLS });
    expect(estimated.input_tokens).toBeGreaterThan(10);
    expect(suite.env.gw.audit.records.at(-1)).toMatchObject({ detail: { inputTokens: estimated.input_tokens, counter: 'estimate' } });
  });

  it('counts with the official Python client', async () => {
    const code = `
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0, timeout=20)
r = c.responses.input_tokens.count(model="${COMPAT}", input="Hello there", instructions="Be brief.")
print(json.dumps({"object": r.object, "input_tokens": r.input_tokens}))
`;
    const out = JSON.parse((await runPythonCode(code, [suite.env.gw.url, suite.env.tokens.acme!])).stdout);
    const node = await client().responses.inputTokens.count({ model: COMPAT, input: 'Hello there', instructions: 'Be brief.' });
    expect(out).toEqual({ object: 'response.input_tokens', input_tokens: node.input_tokens });
  });

  it('refuses as the create refuses: another tenant\'s previous_response_id (400 previous_response_not_found), a field the create refuses, a field no count takes, an unknown model', async () => {
    const theirs = await storedResponse('globex');
    const c = client();
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    const chained = await failure(c.responses.inputTokens.count({ model: COMPAT, input: 'Hi', previous_response_id: theirs }));
    expect(chained).toMatchObject({ status: 400, error: { param: 'previous_response_id', code: 'previous_response_not_found' } });
    const truncation = await failure(c.responses.inputTokens.count({ model: COMPAT, input: 'Hi', truncation: 'auto' }));
    expect(truncation).toMatchObject({ status: 400, error: { param: 'truncation', code: 'unsupported_parameter' } });
    const stream = await failure(c.post('/responses/input_tokens', { body: { model: COMPAT, input: 'Hi', stream: true } }));
    expect(stream).toMatchObject({ status: 400, error: { param: 'stream', code: 'unknown_parameter' } });
    const model = await failure(c.responses.inputTokens.count({ model: 'openai-compatible/nope', input: 'Hi' }));
    expect(model).toMatchObject({ status: 404, error: { param: 'model', code: 'model_not_found' } });
  });

  it('without model: the tenant\'s default model counts; a tenant with none gets the create\'s 400 naming model (saying no model was named and there is no default), not a 404 for a model called default', async () => {
    const c = client();
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    const created = await failure(c.responses.create({ input: 'Hi' } as never));
    const counted = await failure(c.responses.inputTokens.count({ input: 'Hi' }));
    expect(created).toMatchObject({ status: 400, error: { param: 'model' } });
    expect(counted).toMatchObject({ status: 400, error: { param: 'model', code: (created as InstanceType<typeof OpenAI.APIError>).code } });
    expect(counted!.message).toMatch(/names no model and tenant acme has no default model/);
    expect(counted!.message).not.toMatch(/'default'/);
    expect(await client('defaulted').responses.inputTokens.count({ input: 'Hi' })).toEqual({ object: 'response.input_tokens', input_tokens: expect.any(Number) });
  });
});

describe('POST /v1/responses/input_tokens with sealed reasoning sent back', () => {
  it('counts with the tenant\'s own encrypted_content; a forged one or another tenant\'s is the create\'s 400 invalid_encrypted_content', async () => {
    const thinking = openAiAnswer('text');
    thinking.choices[0].message.reasoning_content = 'Answer in kind.';
    suite.env.upstream.script({ body: thinking });
    const created = await client().responses.create({ model: COMPAT, input: 'Hei!', store: false, include: ['reasoning.encrypted_content'] });
    const input = [{ role: 'user' as const, content: 'Hei!' }, ...created.output, { role: 'user' as const, content: 'Igjen' }] as OpenAI.Responses.ResponseInput;
    expect((await client().responses.inputTokens.count({ model: COMPAT, input })).input_tokens).toBeGreaterThan(3);
    const e = await client('globex').responses.inputTokens.count({ model: COMPAT, input }).then(() => undefined, (x: unknown) => x as InstanceType<typeof OpenAI.APIError>);
    expect(e).toMatchObject({ status: 400, code: 'invalid_encrypted_content', param: 'input[1].encrypted_content' });
  });
});

describe('POST /v1/responses/compact and other POSTs beside the response ids', () => {
  it('responses.compact is a 404 route_not_found naming client.responses.compact and what to do instead; POST /v1/responses/{not an id} a 404, not a 405 offering GET and DELETE', async () => {
    const calls = suite.env.upstream.calls.length;
    const c = client();
    const compacted = await c.responses.compact({ model: COMPAT, input: 'Hi' }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.NotFoundError>;
    expect(compacted).toBeInstanceOf(OpenAI.NotFoundError);
    expect(compacted.error).toMatchObject({ type: 'invalid_request_error', code: 'route_not_found', message: expect.stringMatching(/client\.responses\.compact .* is not served by this gateway; instead chain turns with previous_response_id/) });
    expect(compacted.headers.get('allow')).toBeNull();
    const other = await c.post('/responses/summarize', { body: {} }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.NotFoundError>;
    expect(other).toMatchObject({ status: 404, error: { code: 'route_not_found' } });
    expect(other.headers.get('allow')).toBeNull();
    // A response id's path takes GET and DELETE: there a POST is the 405 naming them.
    const onId = await c.post(`/responses/resp_${'a'.repeat(48)}`, { body: {} }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.APIError>;
    expect(onId).toMatchObject({ status: 405 });
    expect(onId.headers!.get('allow')).toBe('GET, DELETE, OPTIONS');
    expect(suite.env.upstream.calls).toHaveLength(calls);
  });
});
