import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it, vi } from 'vitest';
import type { ScriptedJson, UpstreamCall } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { PythonDriver, type ClientError } from './official-clients.js';
import { converseEvents, converseOutput, type ConverseAnswer } from './matrix.js';
import { mockProviderSdks, plainTenant, useConformanceGateway } from './setup.js';
import { SCRIPTED_USAGE, scriptedChat } from './scripted-chat.js';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * LlamaIndex (llama-index-core 0.14.25, llama-index-llms-openai-like 0.8.1, llama-index-llms-openai 0.8.3,
 * llama-index-embeddings-openai 0.7.0) and instructor 1.12.0, on the official Python client 1.109.1
 * (`.venv-legacy-clients`, requirements-legacy-clients.txt), against `tessera serve`:
 * test/conformance/python/legacy_frameworks_driver.py runs each call, the fake upstream (scripted, strict)
 * answers (or the mocked Bedrock Runtime, for `bedrock/amazon.nova-lite`). Each test asserts what the application
 * saw and what reached the upstream. Every test passed against the gateway as first written (2026-12-05): they stand as
 * the proof that these apps work unchanged, and as the record of what the libraries send (LlamaIndex's
 * `temperature: 0.1`, instructor's forced `tool_choice`...; the upstream's `stream_options.include_usage` is the gateway's own).
 */
const { bedrock } = mockProviderSdks();
const EMBEDDING = { id: 'openai/text-embedding-3-small', upstream: 'text-embedding-3-small', kind: 'embedding' as const, inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096 };
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDING] } };
};

type Out = { ok: boolean; result?: any; error?: ClientError };
class Frameworks {
  private constructor(private readonly driver: PythonDriver<Out>) {}
  static async start(): Promise<Frameworks> {
    return new Frameworks(await PythonDriver.start<Out>('legacy_frameworks_driver.py', 'the LlamaIndex/instructor driver', '.venv-legacy-clients'));
  }
  call(baseURL: string, apiKey: string, call: Record<string, unknown>): Promise<Out> {
    return this.driver.send({ ...call, base_url: baseURL, api_key: apiKey });
  }
  stop(): Promise<void> {
    return this.driver.stop();
  }
}

/** The driver process of this file; `call` sends one op of legacy_frameworks_driver.py with the gateway's URL and key. */
const suite = useConformanceGateway(Frameworks.start, { config: config(), tenants: [plainTenant('acme')] });
/** What OpenAI on the platform's key gets when the caller sends no prompt_cache_key: the tenant's own (tenant-cache-key.ts). */
const TENANT_KEY = { prompt_cache_key: tenantPromptCacheKey('acme', '') };
const run = (call: Record<string, unknown>) => suite.python.call(suite.env.gw.url, suite.env.tokens.acme, call);
const sent = () => suite.env.upstream.calls.map((c) => c.body);

const MODEL = 'openai/gpt-4o-mini';
const USAGE = SCRIPTED_USAGE;
const { answer, streamed } = scriptedChat('fp_li', 9);
const OSLO = { id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };
/** An embeddings answer: per input, [mentions Oslo, mentions Paris, mentions Tokyo, 1]. */
const embeddingsAnswer = (call: UpstreamCall): ScriptedJson => {
  const inputs: string[] = typeof call.body.input === 'string' ? [call.body.input] : call.body.input;
  const vec = (t: string) => [/oslo/i.test(t) ? 1 : 0, /paris/i.test(t) ? 1 : 0, /tokyo/i.test(t) ? 1 : 0, 0.1];
  return { body: { object: 'list', model: 'text-embedding-3-small', data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: vec(t) })), usage: { prompt_tokens: 3, total_tokens: 3 } } };
};
const ADA = (call?: string) => ({ id: call ?? 'call_p', type: 'function', function: { name: 'Person', arguments: '{"name":"Ada","age":36}' } });

const PERSON_PARAMS = { properties: { name: { description: "The person's name", title: 'Name', type: 'string' }, age: { description: "The person's age in years", minimum: 0, title: 'Age', type: 'integer' } }, type: 'object' };
const ASK_ADA = [{ role: 'user', content: 'Ada is 36.' }];

describe('LlamaIndex OpenAILike (is_chat_model, is_function_calling_model)', () => {
  it('complete and chat: the prompt / the messages reach the upstream as chat, the text comes back', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }), answer({ content: 'Hallo!' }));
    const c = await run({ op: 'li_complete', model: MODEL, prompt: 'Say hi' });
    const m = await run({ op: 'li_chat', model: MODEL, messages: [['system', 'Be brief.'], ['user', 'Hi']] });
    expect([c.error, m.error]).toEqual([undefined, undefined]);
    expect([c.result.text, m.result.content]).toEqual(['Hei!', 'Hallo!']);
    expect(sent()).toEqual([
      { model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Say hi' }], stream: false, temperature: 0.1 },
      { model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], stream: false, temperature: 0.1 },
    ]);
  });

  // LlamaIndex does not ask `stream_options.include_usage` (the gateway asks its upstream for the usage chunk itself,
  // to count the tokens, and relays it only to a caller that asked, as OpenAI sends it only then): the stream shows no
  // usage. Asked through `additional_kwargs`, the usage chunk (`choices: []`) comes as the stream's last ChatResponse,
  // its `raw.usage` and its additional_kwargs' token counts.
  it.each(['li_stream_chat', 'li_astream_chat'])('%s: the deltas and the whole text; usage only when additional_kwargs asks include_usage', async (op) => {
    suite.env.upstream.script(streamed(['He', 'i!']), streamed(['He', 'i!']));
    const out = await run({ op, model: MODEL, messages: [['user', 'Hi']] });
    expect(out.error).toBeUndefined();
    expect(out.result.deltas.join('')).toBe('Hei!');
    expect(out.result.content).toBe('Hei!');
    expect(out.result.usage).toBeNull();
    const asked = await run({ op, model: MODEL, messages: [['user', 'Hi']], options: { additional_kwargs: { stream_options: { include_usage: true } } } });
    expect(asked.error).toBeUndefined();
    expect(asked.result.content).toBe('Hei!');
    expect(asked.result.usage).toMatchObject({ prompt_tokens: USAGE.prompt_tokens, completion_tokens: USAGE.completion_tokens, total_tokens: USAGE.total_tokens });
    expect(sent()).toEqual([
      { model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: true, temperature: 0.1, stream_options: { include_usage: true } },
      { model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: true, temperature: 0.1, stream_options: { include_usage: true } },
    ]);
  });

  it('structured_predict: a forced tool call of the pydantic schema, parsed', async () => {
    suite.env.upstream.script(answer({ tool_calls: [ADA()] }, 'tool_calls'));
    const out = await run({ op: 'li_structured', model: MODEL, prompt: 'Ada is 36.' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0]).toMatchObject({ tool_choice: 'required', parallel_tool_calls: false, tools: [{ type: 'function', function: { name: 'Person', description: 'A person mentioned in the text.', parameters: { ...PERSON_PARAMS, required: ['name', 'age'], additionalProperties: false }, strict: false } }] });
  });

  it('predict_and_call: the tool called with the model\'s arguments, its output the response', async () => {
    suite.env.upstream.script(answer({ tool_calls: [OSLO] }, 'tool_calls'));
    const out = await run({ op: 'li_predict_and_call', model: MODEL, user_msg: 'Weather in Oslo?' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ response: '{"city": "Oslo", "temp_c": 3, "sky": "sunny"}', tool_calls: ['Oslo'] });
    expect(sent()[0]).toMatchObject({ tool_choice: 'auto', tools: [{ function: { name: 'get_weather', parameters: { properties: { city: { type: 'string' } }, required: ['city'] } } }] });
  });

  it('FunctionAgent: a streamed tool call, the tool result back by its id, the final answer', async () => {
    suite.env.upstream.script(streamed([], OSLO), streamed(['It is 3 °C.']));
    const out = await run({ op: 'li_agent', model: MODEL, user_msg: 'Weather in Oslo?' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ response: 'It is 3 °C.', tool_calls: ['Oslo'] });
    expect(sent()[1].messages.slice(1)).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [OSLO] },
      { role: 'tool', content: '{"city": "Oslo", "temp_c": 3, "sky": "sunny"}', tool_call_id: 'call_oslo' },
    ]);
  });

  it('OpenAIEmbedding(model_name=...).get_text_embedding_batch: the texts in one request (base64 asked, decoded), the vectors in order', async () => {
    suite.env.upstream.script(embeddingsAnswer);
    const out = await run({ op: 'li_embed', model: EMBEDDING.id, texts: ['Oslo', 'Paris', 'Tokyo'] });
    expect(out.error).toBeUndefined();
    expect(out.result.map((v: number[]) => v.slice(0, 3))).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(sent()).toEqual([{ model: 'text-embedding-3-small', input: ['Oslo', 'Paris', 'Tokyo'], encoding_format: 'base64' }]);
  });

  it('a RAG query engine over 3 documents: the documents and the query embedded, the retrieved text in the chat the upstream saw', async () => {
    suite.env.upstream.script(embeddingsAnswer, embeddingsAnswer, answer({ content: 'Cold.' }));
    const texts = ['Oslo is cold in winter.', 'Paris has the Louvre.', 'Tokyo is big.'];
    const out = await run({ op: 'li_rag', model: MODEL, embed_model: EMBEDDING.id, texts, query: 'How is Oslo in winter?' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ response: 'Cold.', sources: ['Oslo is cold in winter.'] });
    expect(sent().map((b) => b.input)).toEqual([texts, ['How is Oslo in winter?'], undefined]);
    const user = sent()[2].messages.at(-1);
    expect(user.content).toContain('Oslo is cold in winter.');
    expect(user.content).toContain('Query: How is Oslo in winter?');
    expect(user.content).not.toContain('Paris');
  });
});

describe('LlamaIndex OpenAIResponses (llama_index.llms.openai, context_window given)', () => {
  it.each([false, true])('chat (stream %s): the Responses API call reaches the upstream as chat, the text comes back', async (stream) => {
    suite.env.upstream.script(stream ? streamed(['He', 'i!']) : answer({ content: 'Hei!' }));
    const out = await run({ op: 'li_responses', stream, model: MODEL, messages: [['user', 'Hi']] });
    expect(out.error).toBeUndefined();
    expect(out.result.content).toBe('Hei!');
    expect(sent()[0]).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.1, top_p: 1, ...(stream ? { stream: true } : {}) });
  });

  it('without context_window it refuses the gateway\'s model id before any request (its context-window table)', async () => {
    const out = await run({ op: 'li_responses', model: MODEL, messages: [['user', 'Hi']], options: { context_window: null } });
    expect(out.error).toMatchObject({ type: 'ValueError', message: expect.stringContaining("Unknown model 'openai/gpt-4o-mini'") });
    expect(sent()).toHaveLength(0);
  });
});

describe('instructor.from_openai', () => {
  it.each(['TOOLS', 'TOOLS_STRICT', 'RESPONSES_TOOLS'])('mode %s: create with a pydantic response_model, a forced tool call of its schema', async (mode) => {
    suite.env.upstream.script(answer({ tool_calls: [ADA()] }, 'tool_calls'));
    const out = await run({ op: 'in_create', mode, model: MODEL, messages: ASK_ADA });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0]).toMatchObject({ model: 'gpt-4o-mini', messages: ASK_ADA, tool_choice: { type: 'function', function: { name: 'Person' } }, tools: [{ type: 'function', function: { name: 'Person', parameters: PERSON_PARAMS } }] });
    if (mode === 'TOOLS_STRICT') expect(sent()[0].tools[0].function).toMatchObject({ strict: true, parameters: { additionalProperties: false } });
  });

  it('mode JSON_SCHEMA: response_format json_schema, the content parsed', async () => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await run({ op: 'in_create', mode: 'JSON_SCHEMA', model: MODEL, messages: ASK_ADA });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Person', schema: { ...PERSON_PARAMS, required: ['name', 'age'] } } });
  });

  it('mode PARALLEL_TOOLS: Iterable[Person], two tool calls, two objects', async () => {
    suite.env.upstream.script(answer({ tool_calls: [ADA('call_1'), { ...ADA('call_2'), function: { name: 'Person', arguments: '{"name":"Bob","age":7}' } }] }, 'tool_calls'));
    const out = await run({ op: 'in_iterable', mode: 'PARALLEL_TOOLS', model: MODEL, messages: ASK_ADA });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual([{ name: 'Ada', age: 36 }, { name: 'Bob', age: 7 }]);
    expect(sent()[0]).toMatchObject({ tool_choice: 'auto', tools: [{ type: 'function', function: { name: 'Person' } }] });
  });

  it('max_retries=2: an invalid object first, instructor re-asks with the validation error, the valid one comes back', async () => {
    suite.env.upstream.script(answer({ tool_calls: [{ ...ADA(), function: { name: 'Person', arguments: '{"name":"Ada","age":-1}' } }] }, 'tool_calls'), answer({ tool_calls: [ADA('call_2')] }, 'tool_calls'));
    const out = await run({ op: 'in_create', mode: 'TOOLS', retries: 2, model: MODEL, messages: ASK_ADA });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ name: 'Ada', age: 36 });
    expect(sent()).toHaveLength(2);
    const [assistant, tool] = sent()[1].messages.slice(1);
    expect(assistant).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_p', function: { name: 'Person', arguments: '{"name":"Ada","age":-1}' } }] });
    expect(tool).toMatchObject({ role: 'tool', tool_call_id: 'call_p', content: expect.stringContaining('greater than or equal to 0') });
  });

  it('create_partial (TOOLS, streamed): growing partial objects, the last the whole one', async () => {
    suite.env.upstream.script(streamed([], ADA()));
    const out = await run({ op: 'in_partial', mode: 'TOOLS', model: MODEL, messages: ASK_ADA });
    expect(out.error).toBeUndefined();
    expect(out.result.at(-1)).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true }, tool_choice: { type: 'function', function: { name: 'PartialPerson' } } });
  });

  it('create_iterable (JSON_SCHEMA, streamed): each object as its JSON completes', async () => {
    suite.env.upstream.script(streamed(['{"tasks":[{"name":"Ada","age":36},', '{"name":"Bob","age":7}]}']));
    const out = await run({ op: 'in_iterable', mode: 'JSON_SCHEMA', model: MODEL, messages: ASK_ADA, kwargs: { stream: true } });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual([{ name: 'Ada', age: 36 }, { name: 'Bob', age: 7 }]);
    expect(sent()[0]).toMatchObject({ stream: true, response_format: { type: 'json_schema', json_schema: { name: 'IterablePerson' } } });
  });
});

describe('on Bedrock (bedrock/amazon.nova-lite, Converse mocked)', () => {
  const BEDROCK = 'bedrock/amazon.nova-lite';
  async function* events(a: ConverseAnswer) {
    for (const e of converseEvents(a)) yield e;
  }
  const inputs = () => bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input as any);

  it('LlamaIndex chat and stream_chat: Converse gets the system text and temperature; the text comes back', async () => {
    bedrock.on(ConverseCommand).resolves(converseOutput({ text: ['Hei!'], stopReason: 'end_turn' }) as never);
    bedrock.on(ConverseStreamCommand).callsFake(() => ({ $metadata: { httpStatusCode: 200 }, stream: events({ text: ['Hei ', 'på deg!'], stopReason: 'end_turn' }) }));
    const chat = await run({ op: 'li_chat', model: BEDROCK, messages: [['system', 'Be brief.'], ['user', 'Hi']] });
    const stream = await run({ op: 'li_stream_chat', model: BEDROCK, messages: [['user', 'Hi']] });
    expect([chat.error, stream.error]).toEqual([undefined, undefined]);
    expect(chat.result.content).toBe('Hei!');
    expect(inputs()[0]).toMatchObject({ system: [{ text: 'Be brief.' }], messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { temperature: 0.1 } });
    expect(stream.result.content).toBe('Hei på deg!');
    expect(bedrock.commandCalls(ConverseStreamCommand)[0].args[0].input).toMatchObject({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { temperature: 0.1 } });
  });

  it('LlamaIndex FunctionAgent: toolUse in, toolResult back by its id, the final text', async () => {
    bedrock.on(ConverseStreamCommand)
      .callsFakeOnce(() => ({ $metadata: { httpStatusCode: 200 }, stream: events({ tools: [{ id: 'tooluse_w', name: 'get_weather', input: { city: 'Oslo' }, fragments: ['{"city":', '"Oslo"}'] }], stopReason: 'tool_use' }) }))
      .callsFakeOnce(() => ({ $metadata: { httpStatusCode: 200 }, stream: events({ text: ['It is 3 °C.'], stopReason: 'end_turn' }) }));
    const out = await run({ op: 'li_agent', model: BEDROCK, user_msg: 'Weather in Oslo?' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ response: 'It is 3 °C.', tool_calls: ['Oslo'] });
    const second = bedrock.commandCalls(ConverseStreamCommand)[1].args[0].input as any;
    expect(second.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_w', name: 'get_weather', input: { city: 'Oslo' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_w', content: [{ text: '{"city": "Oslo", "temp_c": 3, "sky": "sunny"}' }] } }] },
    ]);
  });

  it('instructor TOOLS and JSON_SCHEMA: a forced tool, then Converse\'s json_schema textFormat', async () => {
    bedrock.on(ConverseCommand)
      .resolvesOnce(converseOutput({ tools: [{ id: 'tooluse_p', name: 'Person', input: { name: 'Ada', age: 36 }, fragments: [] }], stopReason: 'tool_use' }) as never)
      .resolvesOnce(converseOutput({ text: ['{"name":"Ada","age":36}'], stopReason: 'end_turn' }) as never);
    const tools = await run({ op: 'in_create', mode: 'TOOLS', model: BEDROCK, messages: ASK_ADA });
    const schema = await run({ op: 'in_create', mode: 'JSON_SCHEMA', model: BEDROCK, messages: ASK_ADA });
    expect([tools.error, schema.error]).toEqual([undefined, undefined]);
    expect([tools.result, schema.result]).toEqual([{ name: 'Ada', age: 36 }, { name: 'Ada', age: 36 }]);
    expect(inputs()[0].toolConfig).toMatchObject({ tools: [{ toolSpec: { name: 'Person' } }], toolChoice: { tool: { name: 'Person' } } });
    expect(inputs()[1].outputConfig).toMatchObject({ textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'Person' } } } });
  });
});
