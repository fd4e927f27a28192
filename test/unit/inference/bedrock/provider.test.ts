import { mockBedrockRuntime } from '../../../support/bedrock-strict.js';
import { ConverseCommand, ConverseStreamCommand, ThrottlingException, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BedrockProvider } from '../../../../lambdas/inference/providers/bedrock.js';
import { UnsupportedFieldError, type ProviderRequest } from '../../../../lambdas/inference/providers/provider.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { UpstreamCalls } from '../../../../lambdas/inference/upstream-calls.js';
import { logSpy } from '../../../support/service-log.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockBedrockRuntime();
beforeEach(() => {
  bedrock.reset();
  vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});
const CREATED = Date.parse('2026-01-01T00:00:00Z') / 1000;

const request = (body: Partial<ChatCompletionCreateParams>, upstream = 'us.anthropic.claude-sonnet-4-5-v1:0'): ProviderRequest => ({
  model: { id: 'bedrock/claude', upstream, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 },
  body: { model: 'bedrock/claude', messages: [{ role: 'user', content: 'hi' }], ...body } as ChatCompletionCreateParams,
  tenantId: 'acme',
  signal: new AbortController().signal,
});

/** The first chunk of a stream (what the gateway waits for before answering). */
const first = (stream: AsyncIterable<ChatCompletionChunk>) => stream[Symbol.asyncIterator]().next();

const weatherTool = { type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('BedrockProvider.complete', () => {
  it('sends the mapped multi-turn tool conversation and returns OpenAI’s answer', async () => {
    bedrock.on(ConverseCommand).resolves({
      $metadata: { requestId: 'req-1' },
      output: { message: { role: 'assistant', content: [{ text: 'Oslo 3°C, Rome 18°C; tomorrow is similar.' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 40, outputTokens: 12, totalTokens: 152, cacheReadInputTokens: 100 },
      metrics: { latencyMs: 300 },
    });
    const out = await new BedrockProvider().complete(request({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Oslo and Rome?' },
        { role: 'assistant', content: null, tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ] },
        { role: 'tool', tool_call_id: 'call_a', content: '3°C' },
        { role: 'tool', tool_call_id: 'call_b', content: '18°C' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [weatherTool],
      max_tokens: 50,
    }));
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
    expect(bedrock.commandCalls(ConverseCommand)[0].args[0].input).toEqual({
      modelId: 'us.anthropic.claude-sonnet-4-5-v1:0',
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: 'Weather in Oslo and Rome?' }] },
        { role: 'assistant', content: [
          { toolUse: { toolUseId: 'call_a', name: 'weather', input: { city: 'Oslo' } } },
          { toolUse: { toolUseId: 'call_b', name: 'weather', input: { city: 'Rome' } } },
        ] },
        { role: 'user', content: [
          { toolResult: { toolUseId: 'call_a', content: [{ text: '3°C' }] } },
          { toolResult: { toolUseId: 'call_b', content: [{ text: '18°C' }] } },
          { text: 'And tomorrow?' },
        ] },
      ],
      toolConfig: { tools: [{ toolSpec: { name: 'weather', inputSchema: { json: weatherTool.function.parameters } } }] },
      inferenceConfig: { maxTokens: 50 },
    });
    expect(out).toEqual({
      id: 'chatcmpl-req-1', object: 'chat.completion', created: CREATED, model: 'us.anthropic.claude-sonnet-4-5-v1:0',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Oslo 3°C, Rome 18°C; tomorrow is similar.', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 140, completion_tokens: 12, total_tokens: 152, prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 0 } },
    });
  });

  it('maps a data URL image to bytes and json_schema to outputConfig', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: '{"animal":"cat"}' }] } }, stopReason: 'end_turn', usage: undefined, metrics: undefined });
    const schema = { type: 'object', properties: { animal: { type: 'string' } }, required: ['animal'], additionalProperties: false };
    const out = await new BedrockProvider().complete(request({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What animal?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4A==' } }] }],
      response_format: { type: 'json_schema', json_schema: { name: 'animal', schema, strict: true } },
    }));
    expect(bedrock.commandCalls(ConverseCommand)[0].args[0].input).toEqual({
      modelId: 'us.anthropic.claude-sonnet-4-5-v1:0',
      messages: [{ role: 'user', content: [{ text: 'What animal?' }, { image: { format: 'jpeg', source: { bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0]) } } }] }],
      outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'animal' } } } },
    });
    expect(out.choices[0].message.content).toBe('{"animal":"cat"}');
    expect(out.id).toBe('chatcmpl-bedrock');
  });

  it('refuses an https image and unsupported fields before calling Bedrock', async () => {
    const provider = new BedrockProvider();
    await expect(provider.complete(request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] })))
      .rejects.toMatchObject({ field: 'messages[0].content[0].image_url', status: 400, retryable: false });
    for (const [field, value] of [['n', 2], ['logprobs', true], ['seed', 1], ['top_k', 5]] as const) {
      const e = await provider.complete(request({ [field]: value } as never)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UnsupportedFieldError);
      expect(e).toMatchObject({ field, status: 400 });
    }
    await expect(first(provider.stream(request({ logprobs: true })))).rejects.toMatchObject({ field: 'logprobs' });
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('passes the abort signal to the SDK', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'x' }] } }, stopReason: 'end_turn', usage: undefined, metrics: undefined });
    const r = request({});
    await new BedrockProvider().complete(r);
    expect((bedrock.commandCalls(ConverseCommand)[0].args as unknown[])[1]).toMatchObject({ abortSignal: r.signal });
  });

  it('keeps Bedrock’s message and status, retryable for throttling only', async () => {
    bedrock.on(ConverseCommand)
      .rejectsOnce(Object.assign(new Error('Too many requests'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } }))
      .rejectsOnce(Object.assign(new Error('messages.0: blank text'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }));
    await expect(new BedrockProvider().complete(request({}))).rejects.toMatchObject({ message: 'Bedrock ThrottlingException: Too many requests', status: 429, retryable: true, details: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
    await expect(new BedrockProvider().complete(request({}))).rejects.toMatchObject({ message: 'messages.0: blank text', status: 400, retryable: false, details: { type: 'invalid_request_error', code: 'ValidationException' } });
  });
});

describe('Bedrock throttling as an OpenAI client expects it (aws-sdk-client-mock; sdk-attempts.test.ts counts the SDK\'s own attempts)', () => {
  const model = { id: 'bedrock/claude', upstream: 'us.anthropic.claude-sonnet-4-5-v1:0', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 };
  const throttled = () => new ThrottlingException({ message: 'Too many tokens, please wait before trying again.', $metadata: { httpStatusCode: 429 } });
  const gateway = () => {
    const provider = new BedrockProvider();
    return new UpstreamCalls(async () => provider, { firstByteMs: 5_000, idleMs: 5_000, retries: 2 });
  };
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GatewayError);
  const OPENAI_429 = { error: { message: expect.stringMatching(/rate limited: Bedrock ThrottlingException: Too many tokens, please wait before trying again\.$/), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } };

  it('Converse: a ThrottlingException is a 429 rate_limit_exceeded, after one call per gateway attempt (retries 2: 3 calls)', async () => {
    bedrock.on(ConverseCommand).rejects(throttled());
    const e = await failure(gateway().complete([model], { body: request({}).body, tenantId: 'acme' }, new AbortController().signal));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e!.status).toBe(429);
    expect(JSON.parse(e!.body())).toEqual(OPENAI_429);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(3);
  });

  it('ConverseStream: the same before the first chunk, and Bedrock\'s Retry-After reaches the caller', async () => {
    bedrock.on(ConverseStreamCommand).rejects(Object.assign(throttled(), { $response: { statusCode: 429, headers: { 'retry-after': '1' } } }));
    const e = await failure(gateway().stream([model], { body: request({ stream: true }).body, tenantId: 'acme' }, new AbortController().signal));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e!.status).toBe(429);
    expect(JSON.parse(e!.body())).toEqual(OPENAI_429);
    expect(e!.headers['retry-after']).toBe('1');
    expect(e!.headers['x-should-retry']).toBeUndefined(); // the SDK waits the second and retries
    // The Retry-After is waited out once (it fits the first-byte timeout), then the model is still limited: 2 calls.
    expect(bedrock.commandCalls(ConverseStreamCommand)).toHaveLength(2);
  });
});

describe('BedrockProvider: parallel_tool_calls false (LlamaIndex structured_predict, LangChain with_structured_output, the Agents SDK, the AI SDK send it)', () => {
  async function* events(list: unknown[]): AsyncIterable<ConverseStreamOutput> {
    for (const e of list) yield e as ConverseStreamOutput;
  }
  const ask = { tools: [weatherTool], tool_choice: 'required' as const, parallel_tool_calls: false };
  const toolConfig = { tools: [{ toolSpec: { name: 'weather', inputSchema: { json: weatherTool.function.parameters } } }], toolChoice: { any: {} } };
  beforeEach(() => {
    logSpy('tessera-gateway', 'info');
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is sent to Converse (nothing in the request for it) and the whole answer keeps the first of Bedrock\'s tool calls', async () => {
    bedrock.on(ConverseCommand).resolves({
      $metadata: { requestId: 'req-p' },
      output: { message: { role: 'assistant', content: [
        { toolUse: { toolUseId: 'tooluse_A', name: 'weather', input: { city: 'Oslo' } } },
        { toolUse: { toolUseId: 'tooluse_B', name: 'weather', input: { city: 'Rome' } } },
      ] } },
      stopReason: 'tool_use',
      usage: { inputTokens: 9, outputTokens: 8, totalTokens: 17 },
      metrics: { latencyMs: 1 },
    });
    const out = await new BedrockProvider().complete(request(ask));
    expect(bedrock.commandCalls(ConverseCommand)[0].args[0].input).toEqual({ modelId: 'us.anthropic.claude-sonnet-4-5-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }], toolConfig });
    expect(out.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ id: 'tooluse_A', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] } });
    expect(out.choices[0].message.tool_calls).toHaveLength(1);
    expect(out.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 });
  });

  it('a stream relays tool call 0 only', async () => {
    bedrock.on(ConverseStreamCommand).resolves({
      $metadata: { requestId: 'req-q' },
      stream: events([
        { messageStart: { role: 'assistant' } },
        { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_A', name: 'weather' } } } },
        { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_B', name: 'weather' } } } },
        { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":"Rome"}' } } } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":"Oslo"}' } } } },
        { messageStop: { stopReason: 'tool_use' } },
        { metadata: { usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 }, metrics: { latencyMs: 1 } } },
      ]) as never,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of new BedrockProvider().stream(request({ ...ask, stream: true }))) chunks.push(c);
    expect(bedrock.commandCalls(ConverseStreamCommand)[0].args[0].input).toMatchObject({ toolConfig });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: 'tooluse_A', type: 'function', function: { name: 'weather', arguments: '' } },
      { index: 0, function: { arguments: '{"city":"Oslo"}' } },
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  });
});

describe('BedrockProvider.stream', () => {
  async function* events(list: unknown[]): AsyncIterable<ConverseStreamOutput> {
    for (const e of list) yield e as ConverseStreamOutput;
  }

  it('keeps a reasoning model\'s stream open while it thinks longer than the idle timeout: every Bedrock event is a sign of life', async () => {
    // Thinking deltas are not relayed (OpenAI's chat stream has no reasoning), so they make no chunk;
    // 1,000 ms of them under a 400 ms idle timeout (a gateway's upstreamIdleTimeoutMs) must not cut the stream.
    // As the SDK's event stream does, reading fails once the call's abortSignal fires (the gateway's timeout aborts it).
    const signal = () => (bedrock.commandCalls(ConverseStreamCommand)[0].args as unknown[])[1] as { abortSignal: AbortSignal };
    async function* thinking(): AsyncIterable<ConverseStreamOutput> {
      yield { messageStart: { role: 'assistant' } } as ConverseStreamOutput;
      for (let i = 0; i < 10; i++) {
        const { abortSignal } = signal();
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 100);
          abortSignal.addEventListener('abort', () => (clearTimeout(t), reject(abortSignal.reason as Error)), { once: true });
        });
        yield { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: `step ${i} ` } } } } as ConverseStreamOutput;
      }
      yield { contentBlockDelta: { contentBlockIndex: 1, delta: { text: 'Oslo.' } } } as ConverseStreamOutput;
      yield { messageStop: { stopReason: 'end_turn' } } as ConverseStreamOutput;
    }
    bedrock.on(ConverseStreamCommand).resolves({ $metadata: { requestId: 'req-t' }, stream: thinking() as never });
    const provider = new BedrockProvider();
    const calls = new UpstreamCalls(async () => provider, { firstByteMs: 400, idleMs: 400, retries: 0 });
    const model = { id: 'bedrock/claude', upstream: 'us.anthropic.claude-sonnet-4-5-v1:0', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100 };
    const open = await calls.stream([model], { body: request({ stream: true }).body, tenantId: 'acme' }, new AbortController().signal);
    const seen = [open.first?.choices[0]?.delta.content];
    for await (const c of open.rest) seen.push(c.choices[0]?.delta.content);
    expect(seen).toEqual(['', 'Oslo.', undefined]);
  });

  it('sends the mapped request to ConverseStream and streams OpenAI chunks, parallel tool calls included', async () => {
    bedrock.on(ConverseStreamCommand).resolves({
      $metadata: { requestId: 'req-9' },
      stream: events([
        { messageStart: { role: 'assistant' } },
        { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_A', name: 'weather' } } } },
        { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_B', name: 'weather' } } } },
        { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":"Rome"}' } } } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":"Oslo"}' } } } },
        { messageStop: { stopReason: 'tool_use' } },
        { metadata: { usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 }, metrics: { latencyMs: 1 } } },
      ]) as never,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of new BedrockProvider().stream(request({ tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'weather' } }, stream: true }))) chunks.push(c);
    expect(bedrock.commandCalls(ConverseStreamCommand)[0].args[0].input).toEqual({
      modelId: 'us.anthropic.claude-sonnet-4-5-v1:0',
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      toolConfig: { tools: [{ toolSpec: { name: 'weather', inputSchema: { json: weatherTool.function.parameters } } }], toolChoice: { tool: { name: 'weather' } } },
    });
    const base = { id: 'chatcmpl-req-9', object: 'chat.completion.chunk', created: CREATED, model: 'us.anthropic.claude-sonnet-4-5-v1:0' };
    const d = (delta: object, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
    expect(chunks).toEqual([
      d({ role: 'assistant', content: null }),
      d({ tool_calls: [{ index: 0, id: 'tooluse_A', type: 'function', function: { name: 'weather', arguments: '' } }] }),
      d({ tool_calls: [{ index: 1, id: 'tooluse_B', type: 'function', function: { name: 'weather', arguments: '' } }] }),
      d({ tool_calls: [{ index: 1, function: { arguments: '{"city":"Rome"}' } }] }),
      d({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] }),
      d({}, 'tool_calls'),
      { ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } } },
    ]);
  });

  it('throws a stream exception event as a ProviderError', async () => {
    bedrock.on(ConverseStreamCommand).resolves({ stream: events([{ messageStart: { role: 'assistant' } }, { modelStreamErrorException: { message: 'model crashed', originalStatusCode: 500 } }]) as never });
    const chunks: ChatCompletionChunk[] = [];
    await expect((async () => { for await (const c of new BedrockProvider().stream(request({}))) chunks.push(c); })())
      .rejects.toMatchObject({ message: 'model crashed', status: 424, retryable: false, details: { code: 'bedrock_model_stream_error' } });
    expect(chunks).toEqual([]); // the exception came before any block: no chunk was sent (the gateway may still retry or fall back)
  });

  it('a stream exception event names the ConverseStream call\'s request id (for its log line), as an error starting the stream does', async () => {
    bedrock.on(ConverseStreamCommand).resolves({ $metadata: { requestId: 'cs-req-1' }, stream: events([{ messageStart: { role: 'assistant' } }, { throttlingException: { message: 'slow down' } }]) as never });
    await expect(first(new BedrockProvider().stream(request({})))).rejects.toMatchObject({ status: 429, details: { errorName: 'ThrottlingException', upstreamRequestId: 'cs-req-1' } });
    bedrock.on(ConverseStreamCommand).rejects(Object.assign(new Error('unavailable'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503, requestId: 'cs-req-2' } }));
    await expect(first(new BedrockProvider().stream(request({})))).rejects.toMatchObject({ details: { errorName: 'ServiceUnavailableException', upstreamRequestId: 'cs-req-2' } });
  });

  it('maps an error starting the stream', async () => {
    bedrock.on(ConverseStreamCommand).rejects(Object.assign(new Error('unavailable'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } }));
    await expect(first(new BedrockProvider().stream(request({})))).rejects.toMatchObject({ message: 'unavailable', status: 503, retryable: true });
  });
});
