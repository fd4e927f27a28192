import { ContextOverflowError } from '@langchain/core/errors';
import { HumanMessage, SystemMessage, ToolMessage, type AIMessageChunk } from '@langchain/core/messages';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { wordVector, type ScriptedJson, type UpstreamCall } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { plainTenant, useConformanceGateway } from './setup.js';
import { scriptedChat } from './scripted-chat.js';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * LangChain.js (`@langchain/openai` 1.6.0 on `@langchain/core` 1.4.0, in this process) against
 * `tessera serve`, as Node RAG pipelines and agents call the gateway: `ChatOpenAI({ model, apiKey,
 * configuration: { baseURL } })` (invoke, stream with `streamUsage`, batch, `bindTools` and the
 * ToolMessage round trip, `withStructuredOutput` by jsonSchema, functionCalling and jsonMode,
 * `useResponsesApi: true`), `OpenAIEmbeddings` (embedDocuments, embedQuery, `dimensions`), a small RAG
 * (embed, rank by cosine, answer with the retrieved text), and errors as LangChain throws them, with
 * `maxRetries`. The fake upstream is scripted and strict (what OpenAI refuses is OpenAI's 400). Each test
 * asserts what the application saw and what reached the upstream; nothing leaves 127.0.0.1 (LangSmith
 * tracing off). docs/gateway.md: LangChain.js. The Python package's cases: langchain.test.ts.
 */
const EMBEDDING = { id: 'openai/text-embedding-3-small', upstream: 'text-embedding-3-small', kind: 'embedding' as const, inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096 };
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDING] } };
};
const suite = useConformanceGateway(async () => ({ stop: async () => {} }), { config: config(), tenants: [plainTenant('acme')] });
/** What OpenAI on the platform's key gets when the caller sends no prompt_cache_key: the tenant's own (tenant-cache-key.ts). */
const TENANT_KEY = { prompt_cache_key: tenantPromptCacheKey('acme', '') };
const sent = () => suite.env.upstream.calls.map((c) => c.body);

/** Every URL fetched during this file (the `openai` client LangChain makes, and LangSmith's client, both use fetch). */
const fetched: string[] = [];
const realFetch = globalThis.fetch;
beforeAll(() => {
  // LangSmith tracing off, whatever the environment says
  for (const name of ['LANGSMITH_TRACING', 'LANGCHAIN_TRACING_V2', 'LANGCHAIN_TRACING']) process.env[name] = 'false';
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    fetched.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    return realFetch(input, init);
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
  expect(fetched.length).toBeGreaterThan(0);
  expect(fetched.filter((u) => !u.startsWith('http://127.0.0.1:'))).toEqual([]);
});

/** OpenAI's own model behind the gateway: the fake upstream applies OpenAI's request rules to it. */
const MODEL = 'openai/gpt-4o-mini';
const chat = (fields: Record<string, unknown> = {}) => new ChatOpenAI({ model: MODEL, apiKey: suite.env.tokens.acme, configuration: { baseURL: suite.env.gw.url }, maxRetries: 0, ...fields });
const embeddings = (fields: Record<string, unknown> = {}) => new OpenAIEmbeddings({ model: EMBEDDING.id, apiKey: suite.env.tokens.acme, configuration: { baseURL: suite.env.gw.url }, maxRetries: 0, ...fields });

const { answer, streamed } = scriptedChat('fp_lcjs');
/** LangChain's usage_metadata for USAGE. */
const USAGE_METADATA = { input_tokens: 12, output_tokens: 5, total_tokens: 17 };
const OSLO = { id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };


/** Concatenates a stream's chunks as LangChain apps do. */
async function collect(stream: AsyncIterable<AIMessageChunk>) {
  const chunks: AIMessageChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return { chunks, whole: chunks.reduce((a, b) => a.concat(b)) };
}

const getWeather = tool(async ({ city }: { city: string }) => JSON.stringify({ city, temp_c: 3 }), {
  name: 'get_weather', description: 'Current weather in a city', schema: z.object({ city: z.string().describe('The city, e.g. Oslo') }),
});
const Person = z.object({ name: z.string().describe("The person's name"), age: z.number().int().describe("The person's age in years") }).describe('A person mentioned in the text.');

describe('ChatOpenAI on chat completions', () => {
  it('invoke: the AIMessage with content, usage and the catalog model; the upstream gets the messages and the settings', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await chat({ temperature: 0.2, maxTokens: 64, stop: ['\n\n'] }).invoke([new SystemMessage('Be brief.'), new HumanMessage('Hi')]);
    expect(out.content).toBe('Hei!');
    expect(out.usage_metadata).toMatchObject(USAGE_METADATA);
    expect(out.response_metadata).toMatchObject({ model_name: MODEL, finish_reason: 'stop', system_fingerprint: 'fp_lcjs' });
    expect(out.id).toMatch(/^chatcmpl-/);
    // LangChain.js sends `max_tokens` (for a model id it does not know as a reasoning model); the gateway's openai provider sends it on as `max_completion_tokens`
    expect(sent()).toEqual([{ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], stream: false, temperature: 0.2, max_completion_tokens: 64, stop: ['\n\n'] }]);
  });

  it.each([true, false])('stream (streamUsage %s): the text in chunks; usage on one chunk only when asked', async (streamUsage) => {
    suite.env.upstream.script(streamed(['Hei ', 'på ', 'deg!']));
    const { chunks, whole } = await collect(await chat({ streamUsage }).stream('Hi'));
    expect(whole.content).toBe('Hei på deg!');
    const withUsage = chunks.filter((c) => c.usage_metadata);
    if (streamUsage) {
      expect(withUsage).toHaveLength(1);
      expect(whole.usage_metadata).toMatchObject(USAGE_METADATA);
      expect(sent()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    } else {
      expect(withUsage).toEqual([]);
      expect(sent()[0]).toEqual({ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } });
    }
  });

  it('batch: one upstream call per input, each answer to its own input', async () => {
    suite.env.upstream.script(...[0, 1, 2].map(() => (call: UpstreamCall) => answer({ content: `echo ${call.body.messages.at(-1).content}` })));
    const out = await chat().batch(['one', 'two', 'three']);
    expect(out.map((m) => m.content)).toEqual(['echo one', 'echo two', 'echo three']);
    expect(sent().map((b) => b.messages[0].content).sort()).toEqual(['one', 'three', 'two']);
  });

  it.each(['whole', 'streamed'] as const)('bindTools (strict): the tool call, a ToolMessage back, the final answer (%s)', async (mode) => {
    if (mode === 'whole') suite.env.upstream.script(answer({ tool_calls: [OSLO] }, 'tool_calls'), answer({ content: 'It is 3 °C in Oslo.' }));
    else suite.env.upstream.script(streamed([], OSLO), streamed(['It is 3 °C ', 'in Oslo.']));
    const model = chat().bindTools([getWeather], { strict: true, parallel_tool_calls: false, tool_choice: 'auto' });
    const question = new HumanMessage('Weather in Oslo?');
    const first = mode === 'whole' ? await model.invoke([question]) : (await collect(await model.stream([question]))).whole;
    expect(first.tool_calls).toEqual([{ name: 'get_weather', args: { city: 'Oslo' }, id: 'call_oslo', type: 'tool_call' }]);
    const result: ToolMessage = await getWeather.invoke(first.tool_calls![0]);
    const final = mode === 'whole' ? await model.invoke([question, first, result]) : (await collect(await model.stream([question, first, result]))).whole;
    expect(final.content).toBe('It is 3 °C in Oslo.');

    const tool = { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', strict: true, parameters: expect.objectContaining({ type: 'object', properties: { city: { type: 'string', description: 'The city, e.g. Oslo' } }, required: ['city'], additionalProperties: false }) } };
    expect(sent()[0]).toMatchObject({ model: 'gpt-4o-mini', tools: [tool], parallel_tool_calls: false, tool_choice: 'auto' });
    expect(sent()[1].messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      // LangChain.js sends the call's message with content "" and the tool message with the tool's name (OpenAI takes both)
      { role: 'assistant', content: '', tool_calls: [OSLO] },
      { role: 'tool', content: '{"city":"Oslo","temp_c":3}', tool_call_id: 'call_oslo', name: 'get_weather' },
    ]);
  });
});

describe('ChatOpenAI.withStructuredOutput (zod schema)', () => {
  it('jsonSchema: response_format json_schema, strict; the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await chat().withStructuredOutput(Person, { name: 'Person', method: 'jsonSchema' }).invoke('Ada is 36.');
    expect(out).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Person', strict: true, schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false } } });
  });

  it('functionCalling: the schema as a forced tool; the parsed object', async () => {
    suite.env.upstream.script(answer({ tool_calls: [{ id: 'call_p', type: 'function', function: { name: 'Person', arguments: '{"name":"Ada","age":36}' } }] }, 'tool_calls'));
    const out = await chat().withStructuredOutput(Person, { name: 'Person', method: 'functionCalling' }).invoke('Ada is 36.');
    expect(out).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0]).toMatchObject({ tool_choice: { type: 'function', function: { name: 'Person' } }, tools: [{ type: 'function', function: { name: 'Person', parameters: { properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] } } }] });
  });

  it('jsonMode: response_format json_object; the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name": "Ada", "age": 36}' }));
    const out = await chat().withStructuredOutput(Person, { name: 'Person', method: 'jsonMode' }).invoke([new SystemMessage('Answer in JSON with keys name and age.'), new HumanMessage('Ada is 36.')]);
    expect(out).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toEqual({ type: 'json_object' });
  });
});

describe('ChatOpenAI with useResponsesApi: true', () => {
  const RESPONSES_USAGE = { input_tokens: 12, output_tokens: 5, total_tokens: 17 };

  it('invoke: POST /v1/responses, the Response as the AIMessage; the upstream gets chat messages', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await chat({ useResponsesApi: true }).invoke([new SystemMessage('Be brief.'), new HumanMessage('Hi')]);
    expect(out.text).toBe('Hei!');
    expect(out.usage_metadata).toMatchObject(RESPONSES_USAGE);
    expect(out.response_metadata).toMatchObject({ model_name: MODEL, status: 'completed', id: expect.stringMatching(/^resp_/) });
    expect(suite.env.upstream.calls[0].path).toBe('/v1/chat/completions');
    expect(sent()[0]).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] });
  });

  it('stream: the text and the usage from the typed events', async () => {
    suite.env.upstream.script(streamed(['Hei ', 'på ', 'deg!']));
    const { whole } = await collect(await chat({ useResponsesApi: true }).stream('Hi'));
    expect(whole.text).toBe('Hei på deg!');
    expect(whole.usage_metadata).toMatchObject(RESPONSES_USAGE);
    expect(sent()[0]).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true });
  });

  it('bindTools round trip: the function_call item as tool_calls, the ToolMessage back as function_call_output', async () => {
    suite.env.upstream.script(answer({ tool_calls: [OSLO] }, 'tool_calls'), answer({ content: 'It is 3 °C in Oslo.' }));
    const model = chat({ useResponsesApi: true }).bindTools([getWeather], { strict: true });
    const question = new HumanMessage('Weather in Oslo?');
    const first = await model.invoke([question]);
    expect(first.tool_calls).toEqual([{ name: 'get_weather', args: { city: 'Oslo' }, id: 'call_oslo', type: 'tool_call' }]);
    const final = await model.invoke([question, first, await getWeather.invoke(first.tool_calls![0])]);
    expect(final.text).toBe('It is 3 °C in Oslo.');
    expect(sent()[1].messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [OSLO] },
      { role: 'tool', tool_call_id: 'call_oslo', content: '{"city":"Oslo","temp_c":3}' },
    ]);
  });

  it('withStructuredOutput (jsonSchema): text.format mapped to response_format, the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await chat({ useResponsesApi: true }).withStructuredOutput(Person, { name: 'Person', method: 'jsonSchema' }).invoke('Ada is 36.');
    expect(out).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Person', strict: true, schema: { required: ['name', 'age'], additionalProperties: false } } });
  });

  it('a conversation (previous_response_id): the stored history reaches the upstream whole', async () => {
    suite.env.upstream.script(answer({ content: 'Hei, Ada!' }), answer({ content: 'Ada.' }));
    const model = chat({ useResponsesApi: true });
    const first = await model.invoke('Hi, I am Ada.');
    const second = await model.invoke('What is my name?', { previous_response_id: first.response_metadata.id } as never);
    expect(second.text).toBe('Ada.');
    expect(sent()[1].messages).toEqual([{ role: 'user', content: 'Hi, I am Ada.' }, { role: 'assistant', content: 'Hei, Ada!' }, { role: 'user', content: 'What is my name?' }]);
  });
});

/** The embeddings answer of a request: a vector of each input's words (texts sharing words are near), `dimensions` wide (default 64). */
const embeddingsAnswer = (call: UpstreamCall): ScriptedJson => {
  const inputs: unknown[] = Array.isArray(call.body.input) && typeof call.body.input[0] !== 'number' ? call.body.input : [call.body.input];
  const width = call.body.dimensions ?? 64;
  return { body: { object: 'list', model: 'text-embedding-3-small', data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: wordVector(input, width) })), usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length } } };
};
/** What the client decodes of a float32 base64 vector: the value as float32. */
const f32 = (v: number[]) => [...new Float32Array(v)];

describe('OpenAIEmbeddings', () => {
  it('embedDocuments: the strings as sent (not token ids), batchSize a request, the vectors in order; embedQuery: one string', async () => {
    suite.env.upstream.script(embeddingsAnswer, embeddingsAnswer, embeddingsAnswer);
    const texts = ['alpha beta', 'gamma\ndelta', 'epsilon'];
    const docs = await embeddings({ batchSize: 2 }).embedDocuments(texts);
    const query = await embeddings().embedQuery('alpha');
    // LangChain.js sends strings (newlines made spaces); the openai client asks base64 and decodes it
    expect(sent().map((b) => b.input)).toEqual([['alpha beta', 'gamma delta'], ['epsilon'], 'alpha']);
    expect(sent().every((b) => b.model === 'text-embedding-3-small' && b.encoding_format === 'base64')).toBe(true);
    expect(docs).toEqual(['alpha beta', 'gamma delta', 'epsilon'].map((t) => f32(wordVector(t, 64))));
    expect(query).toEqual(f32(wordVector('alpha', 64)));
  });

  it('dimensions and encodingFormat "float": passed on, the vectors that wide', async () => {
    suite.env.upstream.script(embeddingsAnswer);
    const out = await embeddings({ dimensions: 4, encodingFormat: 'float' }).embedDocuments(['alpha']);
    expect(sent()[0]).toEqual({ model: 'text-embedding-3-small', input: ['alpha'], dimensions: 4, encoding_format: 'float' });
    expect(out).toEqual([wordVector('alpha', 4)]);
  });
});

describe('a small RAG pipeline: embed, retrieve by cosine, answer with the context', () => {
  it('the closest document reaches the upstream in the prompt; the answer is the model\'s', async () => {
    const docs = ['Cats sleep sixteen hours a day.', 'Paris is the capital of France.', 'Tessera runs tenants in tiles.'];
    suite.env.upstream.script(embeddingsAnswer, embeddingsAnswer, answer({ content: 'About sixteen hours a day.' }));
    const emb = embeddings();
    const vectors = await emb.embedDocuments(docs);
    const question = 'How many hours a day do cats sleep?';
    const q = await emb.embedQuery(question);
    const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));
    const best = docs[vectors.map((v) => cosine(v, q)).reduce((bi, s, i, all) => (s > all[bi]! ? i : bi), 0)]!;
    expect(best).toBe(docs[0]);

    const prompt = ChatPromptTemplate.fromMessages([['system', 'Answer from this context only:\n{context}'], ['human', '{question}']]);
    const out = await prompt.pipe(chat()).invoke({ context: best, question });
    expect(out.content).toBe('About sixteen hours a day.');
    expect(sent()[2].messages).toEqual([{ role: 'system', content: `Answer from this context only:\n${docs[0]}` }, { role: 'user', content: question }]);
  });
});

describe('errors as LangChain throws them', () => {
  it('401: the openai AuthenticationError, LangChain\'s MODEL_AUTHENTICATION code; nothing upstream', async () => {
    const e: any = await chat({ apiKey: 'not-a-token' }).invoke('Hi').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e).toMatchObject({ status: 401, lc_error_code: 'MODEL_AUTHENTICATION', error: { type: 'invalid_request_error', code: 'invalid_api_key', message: expect.stringMatching(/^Incorrect API key provided: not-a-token\. /) } });
    expect(sent()).toHaveLength(0);
  });

  it('400 context_length_exceeded from the upstream: LangChain\'s ContextOverflowError, the openai error its cause', async () => {
    suite.env.upstream.script({ status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
    const e: any = await chat().invoke('Hi').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ContextOverflowError);
    expect(e.message).toContain("This model's maximum context length is 128000 tokens.");
    expect(sent()).toHaveLength(1);
  });

  it('400: the gateway\'s own refusal (top_logprobs over OpenAI\'s 20) names the field and the value; nothing upstream', async () => {
    const e: any = await chat({ logprobs: true, topLogprobs: 25 }).invoke('Hi').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e).toMatchObject({ status: 400, param: 'top_logprobs', type: 'invalid_request_error' });
    expect(e.message).toContain('25');
    expect(sent()).toHaveLength(0);
  });

  const throttled = { status: 429, headers: { 'retry-after-ms': '20', 'retry-after': '0' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
  it('429: the openai RateLimitError (MODEL_RATE_LIMIT); with maxRetries 1 LangChain calls again and gets the answer', async () => {
    suite.env.upstream.script(throttled, throttled);
    const e: any = await chat().invoke('Hi').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e).toMatchObject({ status: 429, lc_error_code: 'MODEL_RATE_LIMIT', code: 'rate_limit_exceeded' });
    expect(sent()).toHaveLength(2); // the gateway's two attempts
    suite.env.upstream.reset();
    suite.env.upstream.script(throttled, throttled, answer({ content: 'Hei!' }));
    const retried = await chat({ maxRetries: 1 }).invoke('Hi');
    expect(retried.content).toBe('Hei!');
    expect(sent()).toHaveLength(3); // the gateway's two attempts, then LangChain's retry
  });

  it('502 after an upstream 5xx: the openai InternalServerError; LangChain.js retries it all the same (x-should-retry: false is not read)', async () => {
    const failure = { status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } };
    suite.env.upstream.script(failure, failure, failure, failure);
    const e: any = await chat({ maxRetries: 1 }).invoke('Hi').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(e.headers.get('x-should-retry')).toBe('false');
    expect(sent()).toHaveLength(4); // two gateway requests (LangChain's retry), each with the gateway's two upstream attempts
  });

  it.each([false, true])('an upstream failure mid-stream (useResponsesApi %s): the words so far, then the error thrown with the upstream\'s message', async (useResponsesApi) => {
    const head = streamed(['Hei ', 'på ']).events.slice(0, 3);
    suite.env.upstream.script({ events: [...head, { data: { error: { message: 'CUDA out of memory', type: 'server_error', code: 'engine_error' } } }] });
    const chunks: AIMessageChunk[] = [];
    const e: any = await (async () => {
      for await (const c of await chat({ useResponsesApi }).stream('Hi')) chunks.push(c);
    })().catch((x: unknown) => x);
    expect(chunks.map((c) => c.text).join('')).toBe('Hei på ');
    expect(e, 'the stream ended without an error').toBeInstanceOf(Error);
    expect(String(e.message)).toContain('CUDA out of memory');
  });

  it('an embeddings 400 (an empty string, as OpenAI refuses it): the openai BadRequestError naming input', async () => {
    const e: any = await embeddings().embedDocuments(['alpha', '']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e).toMatchObject({ status: 400, param: 'input[1]', type: 'invalid_request_error' });
    expect(sent()).toHaveLength(0);
  });
});
