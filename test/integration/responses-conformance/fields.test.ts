import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';
import { tenantEndUserId } from '../../../lambdas/inference/providers/tenant-end-user.js';
import { CLIENTS, type ClientName } from '../gateway-conformance/clients.js';
import { openAiAnswer, openAiChunks } from '../gateway-conformance/matrix.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { useConformanceGateway } from '../gateway-conformance/setup.js';
import { CHAT_WEATHER_TOOL, WEATHER_FUNCTION } from './cases.js';
import { PythonResponsesClient, runResponses, type ResponsesCall } from './clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * No field of a Responses request is dropped silently, through the official clients against
 * `tessera serve`: a key inside the request's objects that the chat mapping would not carry is a
 * 400 naming its path before any upstream call; what the clients send back of their own earlier
 * output still passes; the upstream's url citations reach the Response (whole and streamed).
 */
const suite = useConformanceGateway(PythonResponsesClient.start);
const run = (client: ClientName, call: ResponsesCall) => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);
const MODEL = 'openai-compatible/default';

const REFUSED: Array<[string, Record<string, unknown>]> = [
  ['text.foo', { input: 'Hi', text: { foo: 'bar' } }],
  ['reasoning.foo', { input: 'Hi', reasoning: { effort: 'low', foo: 'bar' } }],
  ['text.format.foo', { input: 'Hi', text: { format: { type: 'json_object', foo: 'bar' } } }],
  ['tools[0].foo', { input: 'Hi', tools: [{ ...WEATHER_FUNCTION, foo: 'bar' }] }],
  ['input[0].foo', { input: [{ role: 'user', content: 'Hi', foo: 'bar' }] }],
  ['input[0].content[0].foo', { input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hi', foo: 'bar' }] }] }],
  ['reasoning.context', { input: 'Hi', reasoning: { context: 'all_turns' } }],
  ['input[0].phase', { input: [{ role: 'assistant', content: 'Hi', phase: 'commentary' }, { role: 'user', content: 'Go on' }] }],
  ['tool_choice.mode', { input: 'Hi', tools: [WEATHER_FUNCTION], tool_choice: { type: 'allowed_tools', mode: 'x', tools: [{ type: 'function', name: 'get_weather' }] } }],
];

/** The keys of REFUSED that OpenAI's types do not define (the others are defined and not served: unsupported_parameter). */
const UNKNOWN = new Set(['text.foo', 'reasoning.foo', 'text.format.foo', 'tools[0].foo', 'input[0].foo', 'input[0].content[0].foo']);

describe('a key the chat mapping would drop is a 400 naming its path', () => {
  const cells = REFUSED.flatMap(([param, fields]) => CLIENTS.map((client) => ({ param, fields, client })));
  it.each(cells)('$param ($client client)', async ({ param, fields, client }) => {
    const out = await run(client, { op: 'create', params: { model: MODEL, ...fields } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param } });
    expect(out.error!.body.message).toContain(param);
    // A key OpenAI does not define: its words and code for one ("Unknown parameter: 'input[4].action.query'.":
    // pydantic/pydantic-ai#3653); until 2026-12-07 unsupported_parameter, "<path> is not a field of …".
    if (UNKNOWN.has(param)) {
      expect(out.error!.body.code).toBe('unknown_parameter');
      expect(out.error!.body.message.startsWith(`Unknown parameter: '${param}'. `)).toBe(true);
    } else expect(out.error!.body.code).not.toBe('unknown_parameter');
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});

const CITATION = { type: 'url_citation', url_citation: { start_index: 0, end_index: 4, title: 'Hei', url: 'https://example.org/hei' } };
const FLAT = { type: 'url_citation', start_index: 0, end_index: 4, title: 'Hei', url: 'https://example.org/hei' };

describe('tool_choice none or auto without tools (LlamaIndex\'s OpenAIResponses sends none with structured_predict)', () => {
  // Chat refuses a tool_choice without tools (OpenAI and vLLM: 400 "'tool_choice' is only allowed when 'tools' are
  // specified."), as this upstream does: the choice asks for nothing, so it is echoed and not sent.
  const refusesLoneChoice = (call: { body: Record<string, unknown> }) => 'tool_choice' in call.body && !('tools' in call.body)
    ? { status: 400, body: { error: { message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", type: 'invalid_request_error', param: 'tool_choice', code: null } } }
    : { body: openAiAnswer('text') };
  const cells = CLIENTS.flatMap((client) => (['none', 'auto'] as const).map((choice) => ({ client, choice })));
  it.each(cells)('tool_choice $choice: the call succeeds, the upstream gets no tool_choice, the Response echoes it ($client client)', async ({ client, choice }) => {
    suite.env.upstream.script(refusesLoneChoice);
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Ann is 31', tool_choice: choice } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('tool_choice');
    expect(out.result).toMatchObject({ status: 'completed', tool_choice: choice, tools: [] });
  });

  it.each(CLIENTS)('with tools, tool_choice none goes on as sent (%s client)', async (client) => {
    suite.env.upstream.script(refusesLoneChoice);
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', tools: [WEATHER_FUNCTION], tool_choice: 'none' } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).toMatchObject({ tool_choice: 'none', tools: [{ type: 'function', function: { name: 'get_weather' } }] });
  });
});

describe('the upstream\'s url citations reach the Response', () => {
  it.each(CLIENTS)('whole: output_text annotations; the client sends the output back next turn and it passes (%s client)', async (client) => {
    const answer = openAiAnswer('text');
    answer.choices[0].message.annotations = [CITATION];
    suite.env.upstream.script({ body: answer }, { body: openAiAnswer('text') });
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Say hello in Norwegian.', store: false } });
    expect(out.error).toBeUndefined();
    expect(out.result.output[0].content[0].annotations).toEqual([FLAT]);

    // The next turn replays the output as input (as the Agents SDK does with store: false)
    const next = await run(client, { op: 'create', params: { model: MODEL, store: false, input: [{ role: 'user', content: 'Say hello in Norwegian.' }, ...out.result.output, { role: 'user', content: 'Again' }] } });
    expect(next.error, JSON.stringify(next.error)).toBeUndefined();
    expect(suite.env.upstream.calls[1].body.messages).toEqual([
      { role: 'user', content: 'Say hello in Norwegian.' }, { role: 'assistant', content: 'Hei! Hyggelig å møte deg.' }, { role: 'user', content: 'Again' },
    ]);
  });

  it.each(CLIENTS)('streamed: response.output_text.annotation.added after the text; the done part and the final Response carry it (%s client)', async (client) => {
    const chunks = openAiChunks('text');
    const finish = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    chunks.splice(finish, 0, { ...chunks[finish], choices: [{ index: 0, delta: { annotations: [CITATION] }, logprobs: null, finish_reason: null }] });
    suite.env.upstream.script({ events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Say hello in Norwegian.' } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    const types = out.events!.map((e) => e.type);
    const added = out.events!.find((e) => e.type === 'response.output_text.annotation.added');
    expect(added).toMatchObject({ output_index: 0, content_index: 0, annotation_index: 0, annotation: FLAT });
    expect(types.indexOf('response.output_text.annotation.added')).toBeGreaterThan(types.lastIndexOf('response.output_text.delta'));
    expect(types.indexOf('response.output_text.annotation.added')).toBeLessThan(types.indexOf('response.output_text.done'));
    expect(out.events!.find((e) => e.type === 'response.content_part.done').part.annotations).toEqual([FLAT]);
    expect(out.events!.at(-1).response.output[0].content[0].annotations).toEqual([FLAT]);
    expect(out.result.output[0].content[0].annotations).toEqual([FLAT]);
  });
});

describe('the prompt-cache and end-user fields sent upstream (key and ids scoped to the tenant) are echoed on the Response as the caller sent them, as OpenAI\'s Response carries them', () => {
  it.each(CLIENTS)('prompt_cache_key, prompt_cache_retention, user and safety_identifier: created, streamed and retrieved (%s client)', async (client) => {
    const fields = { prompt_cache_key: 'tenant-cache-1', prompt_cache_retention: '24h', user: 'end-user-9', safety_identifier: 'sid-9' };
    suite.env.upstream.script({ body: openAiAnswer('text') }, { events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
    const created = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', ...fields } });
    expect(created.result).toMatchObject(fields);
    expect(suite.env.upstream.calls[0].body).toMatchObject({ ...fields, prompt_cache_key: tenantPromptCacheKey('acme', fields.prompt_cache_key), user: tenantEndUserId('acme', fields.user), safety_identifier: tenantEndUserId('acme', fields.safety_identifier) });
    const streamed = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hi', ...fields } });
    expect(suite.env.upstream.calls[1].body).toMatchObject({ user: tenantEndUserId('acme', fields.user), safety_identifier: tenantEndUserId('acme', fields.safety_identifier) });
    expect(streamed.events![0].response).toMatchObject(fields);
    expect(streamed.events!.at(-1).response).toMatchObject(fields);
    const got = await run(client, { op: 'retrieve', responseId: created.result.id });
    expect(got.result).toMatchObject(fields);
    const plain = await run(client, { op: 'retrieve', responseId: streamed.events!.at(-1).response.id });
    expect(plain.result.prompt_cache_retention).toBe('24h');
  });
});

describe('FunctionTool.async (openai 7.55): false asks for nothing and is taken, true is a 400 saying it is not served', () => {
  // Before session 47 either value was a 400 calling it "not a field of FunctionTool".
  it.each(CLIENTS)('async false: the tool reaches the upstream as a chat function tool and is echoed as sent; async true: 400 naming tools[0].async (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', tools: [{ ...WEATHER_FUNCTION, async: false }] } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(suite.env.upstream.calls[0].body.tools).toEqual([CHAT_WEATHER_TOOL]);
    // The Python client's `FunctionTool` model names the field `async_` (`async` is a Python keyword): read the wire's in Node.
    if (client === 'node') expect(out.result.tools[0]).toMatchObject({ name: 'get_weather', async: false });
    const refused = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', tools: [{ ...WEATHER_FUNCTION, async: true }] } });
    expect(refused.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'tools[0].async', code: 'unsupported_parameter' } });
    expect(refused.error!.body.message).toContain('tools[0].async is not served');
    expect(suite.env.upstream.calls).toHaveLength(1);
  });
});

describe('the SDKs\' fields the gateway serves no tools for, and echoes (hostile fxresp items 7, 8)', () => {
  it.each(CLIENTS)('max_tool_calls is accepted and echoed, not sent upstream; a function tool sent without strict is echoed with strict: null and sent without it; image is refused as not served (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const { strict: _, ...loose } = WEATHER_FUNCTION;
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', max_tool_calls: 2, tools: [loose] } });
    expect(out.error).toBeUndefined();
    expect(out.result.max_tool_calls).toBe(2);
    expect(out.result.tools[0]).toMatchObject({ name: 'get_weather', strict: null });
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('max_tool_calls');
    expect(suite.env.upstream.calls[0].body.tools[0].function).not.toHaveProperty('strict');
    const image = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', image: { context_compression: 'enabled' } } });
    expect(image.error).toMatchObject({ status: 400, body: { param: 'image', code: 'unsupported_parameter', message: expect.stringMatching(/^image: .*not served by this gateway/) } });
    expect(suite.env.upstream.calls).toHaveLength(1);
  });

  it.each(CLIENTS)('openai 7.x\'s new values pass: service_tier fast and an input_image\'s detail original reach the upstream as sent (chat has both), a chat image\'s detail original too; ultrafast (no chat tier) is a 400 naming service_tier (%s client)', async (client) => {
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    suite.env.upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const input = [{ role: 'user', content: [{ type: 'input_text', text: 'What is it?' }, { type: 'input_image', image_url: png, detail: 'original' }] }];
    const out = await run(client, { op: 'create', params: { model: MODEL, input, service_tier: 'fast' } });
    expect(out.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).toMatchObject({ service_tier: 'fast', messages: [{ role: 'user', content: [{ type: 'text' }, { type: 'image_url', image_url: { url: png, detail: 'original' } }] }] });
    const ultra = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', service_tier: 'ultrafast' } });
    expect(ultra.error).toMatchObject({ status: 400, body: { param: 'service_tier', code: 'unsupported_parameter' } });
    expect(suite.env.upstream.calls).toHaveLength(1);
    if (client !== 'node') return;
    await nodeClient(suite.env.gw.url, suite.env.tokens.acme).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: png, detail: 'original' } }] }] });
    expect(suite.env.upstream.calls[1].body.messages[0].content[0]).toEqual({ type: 'image_url', image_url: { url: png, detail: 'original' } });
  });

  it('GET /v1/responses/{id} with an include the gateway does not honour, or whose data the create did not keep, is a 400 naming include[i] (node client)', async () => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const created = await run('node', { op: 'create', params: { model: MODEL, input: 'Hi' } });
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    const refused = await client.responses.retrieve(created.result.id, { include: ['code_interpreter_call.outputs'] }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.error).toMatchObject({ param: 'include[0]', code: 'unsupported_parameter', message: expect.stringContaining('message.output_text.logprobs') });
    const typo = await client.responses.retrieve(created.result.id, { include: ['message.input_image.image_url', 'bogus' as never] }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(typo.error).toMatchObject({ param: 'include[1]', code: 'invalid_value', message: expect.stringContaining("Invalid value: 'bogus' (include[1]). Supported values are:") });
    // Logprobs the create did not ask for were never produced: a 400 saying to ask at create, not the answer without them.
    const notKept = await client.responses.retrieve(created.result.id, { include: ['message.output_text.logprobs'] }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(notKept.error).toMatchObject({ param: 'include[0]', code: 'unsupported_parameter', message: expect.stringContaining('ask for it at create time') });
    const served = await client.responses.retrieve(created.result.id, { include: ['message.input_image.image_url'] });
    expect(served.id).toBe(created.result.id);
  });
});

/**
 * What `@ai-sdk/openai` 4.0.118 (`ai` 7.0.173) sent for `generateText({ model: openai('openai/gpt-4o-mini'), system:
 * 'be brief', prompt: 'hi', maxOutputTokens: 40, providerOptions: { openai: { forceReasoning: true, reasoningEffort:
 * 'low' } } })`, captured against `tessera serve` on 2026-12-03: it adds `summary: 'detailed'` to the effort, and with
 * `store: false` asks for encrypted reasoning. The 400 names the field and the SDK's setting that leaves it out.
 */
const AI_SDK_INPUT = [{ role: 'developer', content: 'be brief' }, { role: 'user', content: [{ type: 'input_text', text: 'hi' }] }];

describe('what the Vercel AI SDK sends for a reasoning model: the 400 names the SDK\'s setting', () => {
  it.each(CLIENTS)('reasoning.summary it added is a 400 naming reasoningSummary: null; with that setting (effort alone) the call goes through (%s client)', async (client) => {
    const out = await run(client, { op: 'create', params: { model: MODEL, input: AI_SDK_INPUT, max_output_tokens: 40, reasoning: { effort: 'low', summary: 'detailed' } } });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'reasoning.summary', code: 'unsupported_parameter' } });
    expect(out.error!.body.message).toContain('providerOptions.openai.reasoningSummary: null');
    expect(suite.env.upstream.calls).toHaveLength(0);
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const ok = await run(client, { op: 'create', params: { model: MODEL, input: AI_SDK_INPUT, max_output_tokens: 40, reasoning: { effort: 'low' } } });
    expect(ok.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).toMatchObject({ reasoning_effort: 'low', max_completion_tokens: 40, messages: [{ role: 'developer', content: 'be brief' }, { role: 'user' }] });
  });

  it.each(CLIENTS)('include reasoning.encrypted_content it adds with store: false is served: the call goes through, not stored (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const out = await run(client, { op: 'create', params: { model: MODEL, input: AI_SDK_INPUT, max_output_tokens: 40, store: false, include: ['reasoning.encrypted_content'], reasoning: { effort: 'low' } } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.store).toBe(false);
    expect(suite.env.upstream.calls[0].body).toMatchObject({ reasoning_effort: 'low', max_completion_tokens: 40 });
  });
});
