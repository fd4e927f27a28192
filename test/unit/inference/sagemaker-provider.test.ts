import {
  InternalFailure,
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  ModelStreamError,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  ValidationError,
  type ResponseStream, SageMakerRuntimeServiceException } from '@aws-sdk/client-sagemaker-runtime';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { beforeEach, describe, expect, it } from 'vitest';
import { ProviderError, type ProviderRequest } from '../../../lambdas/inference/providers/provider.js';
import { SageMakerProvider } from '../../../lambdas/inference/providers/sagemaker.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const sagemaker = mockStrict(SageMakerRuntimeClient, 'sagemaker-runtime', SageMakerRuntimeServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
beforeEach(() => {
  sagemaker.reset();
  sts.reset();
});

const ENDPOINT = 'acme-support-endpoint';
const signal = new AbortController().signal;
const request = (body: Partial<ChatCompletionCreateParams> & Record<string, unknown> = {}, invokeRoleArn?: string): ProviderRequest => ({
  model: { id: 'sagemaker/acme-support', upstream: ENDPOINT, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100, ...(invokeRoleArn ? { invokeRoleArn } : {}) },
  body: { model: 'sagemaker/acme-support', messages: [{ role: 'user', content: 'hi' }], ...body } as ChatCompletionCreateParams,
  tenantId: 'acme',
  signal,
});

const enc = new TextEncoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));
/** Payload parts of `bytes` cut at the given byte offsets. */
const partsOf = (bytes: Uint8Array, cuts: number[]): ResponseStream[] =>
  [0, ...cuts].map((start, i) => ({ PayloadPart: { Bytes: bytes.slice(start, i < cuts.length ? cuts[i] : bytes.length) } }));
async function* eventsOf(events: Array<ResponseStream | Error>) {
  for (const e of events) {
    if (e instanceof Error) throw e;
    yield e;
  }
}
async function collect(chunks: AsyncIterable<ChatCompletionChunk>): Promise<{ chunks: ChatCompletionChunk[]; error?: unknown }> {
  const out: ChatCompletionChunk[] = [];
  try {
    for await (const c of chunks) out.push(c);
  } catch (error) {
    return { chunks: out, error };
  }
  return { chunks: out };
}
const chunk = (choices: ChatCompletionChunk['choices'], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk => ({
  id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1_700_000_000, model: '/opt/ml/model', choices, ...extra,
});
const usageChunk = chunk([], { usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16, prompt_tokens_details: { cached_tokens: 8 } } });

describe('SageMaker provider: complete', () => {
  it('forwards the caller\'s body untouched but for model and the stream flags, to the endpoint, with the abort signal', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: json({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] }) as never });
    const body = {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', description: 'search', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] }, strict: true } }],
      tool_choice: 'auto',
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true } },
      n: 2,
      logprobs: true,
      top_logprobs: 3,
      max_completion_tokens: 64,
      temperature: 0.2,
      seed: 7,
      top_k: 40,
      repetition_penalty: 1.1,
      stream: false,
      stream_options: { include_usage: true },
    };
    await new SageMakerProvider().complete(request(body as never));
    const [call] = sagemaker.commandCalls(InvokeEndpointCommand);
    const input = call.args[0].input;
    const { stream: _s, stream_options: _o, ...forwarded } = body;
    expect({ ...input, Body: JSON.parse(input.Body as string) }).toEqual({ EndpointName: ENDPOINT, ContentType: 'application/json', Accept: 'application/json', Body: forwarded });
    expect(Object.keys(JSON.parse(input.Body as string))).not.toContain('model');
    expect((call.args as unknown[])[1]).toEqual({ abortSignal: signal });
  });

  it('returns the container\'s answer intact: every choice, tool calls, logprobs, usage details', async () => {
    const answer: ChatCompletion = {
      id: 'chatcmpl-1', object: 'chat.completion', created: 1_700_000_000, model: '/opt/ml/model',
      choices: [
        {
          index: 0, finish_reason: 'tool_calls', logprobs: { content: [{ token: 'x', logprob: -0.1, bytes: [120], top_logprobs: [{ token: 'x', logprob: -0.1, bytes: [120] }] }], refusal: null },
          message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }] },
        },
        { index: 1, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'Il fait beau ☀️', refusal: null } },
      ],
      usage: { prompt_tokens: 30, completion_tokens: 20, total_tokens: 50, prompt_tokens_details: { cached_tokens: 16 }, completion_tokens_details: { reasoning_tokens: 0 } },
    };
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: json(answer) as never });
    await expect(new SageMakerProvider().complete(request({ n: 2 }))).resolves.toEqual(answer);
  });

  it('refuses an answer that is not JSON, or has no choices, as an upstream failure', async () => {
    sagemaker.on(InvokeEndpointCommand).resolvesOnce({ Body: enc.encode('<html>oops</html>') as never }).resolvesOnce({ Body: json({ error: 'CUDA out of memory' }) as never });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: undefined, message: expect.stringContaining('not JSON') });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: undefined, message: 'CUDA out of memory' });
    // A 2xx answer of another schema with a `message` is not an error message: it is named as an answer without choices.
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: json({ message: { role: 'assistant', content: 'hi' } }) as never });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: undefined, message: expect.stringContaining(`SageMaker endpoint ${ENDPOINT} answered without choices`) });
  });

  it('an answer it cannot read keeps SageMaker\'s id of the call (for the failure\'s log line): the endpoint answered', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: enc.encode('body') as never, $metadata: { requestId: 'sm-req-answered-1' } });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ message: expect.stringContaining('not JSON'), details: { upstreamRequestId: 'sm-req-answered-1' } });
    const embedding = { model: request().model, body: { model: 'sagemaker/acme-support', input: 'hi' }, tenantId: 'acme', signal } as never;
    await expect(new SageMakerProvider().embed(embedding)).rejects.toMatchObject({ message: expect.stringContaining('not JSON'), details: { upstreamRequestId: 'sm-req-answered-1' } });
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: json({ data: 'x' }) as never, $metadata: { requestId: 'sm-req-answered-2' } });
    await expect(new SageMakerProvider().embed(embedding)).rejects.toMatchObject({ message: expect.stringContaining('without embeddings'), details: { upstreamRequestId: 'sm-req-answered-2' } });
  });
});

describe('SageMaker provider: errors', () => {
  const modelError = (status: number, body: string) =>
    new ModelError({ message: `Received client error (${status}) from primary with message "${body}"`, $metadata: { httpStatusCode: 424 }, OriginalStatusCode: status, OriginalMessage: body, LogStreamArn: 'arn:log' });

  it('relays the container\'s 400 (an OpenAI error body) with its status, message, type, code and param', async () => {
    const message = "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens. Please reduce the length of the messages or completion.";
    sagemaker.on(InvokeEndpointCommand).rejects(modelError(400, JSON.stringify({ error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } })));
    const error = await new SageMakerProvider().complete(request()).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 400, retryable: false, message, details: { type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
  });

  // The numeric code was left out (SageMaker's own reader); every OpenAI-compatible upstream's rule (upstreamErrorFields) keeps it as digits.
  it('reads vLLM\'s flat error body (its numeric code as digits) and TGI\'s text error', async () => {
    sagemaker.on(InvokeEndpointCommand)
      .rejectsOnce(modelError(404, JSON.stringify({ object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 })))
      .rejectsOnce(modelError(422, JSON.stringify({ error: 'Input validation error: `top_k` must be strictly positive', error_type: 'validation' })))
      .rejectsOnce(modelError(400, 'plain text refusal'));
    const flat = await new SageMakerProvider().complete(request()).catch((e) => e);
    expect(flat).toMatchObject({ status: 404, message: 'The model `x` does not exist.' });
    // Besides the body's fields, the SDK exception's name, for the gateway's log line (upstream-failure-log.ts).
    expect(flat.details).toEqual({ type: 'NotFoundError', code: '404', errorName: 'ModelError' });
    const tgi = await new SageMakerProvider().complete(request()).catch((e) => e);
    expect(tgi).toMatchObject({ status: 422, retryable: false, message: 'Input validation error: `top_k` must be strictly positive' });
    expect(tgi.details).toEqual({ errorName: 'ModelError' });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: 400, message: 'plain text refusal' });
  });

  // Review: SageMaker read container errors by its own rule, which knew no FastAPI `detail`: a container's
  // request validation (FastAPI's default 422) reached the caller as the body's raw JSON text.
  it('reads a container\'s FastAPI 422 (a detail list) as the fields it names, as every OpenAI-compatible upstream\'s', async () => {
    const detail = [
      { type: 'missing', loc: ['body', 'messages'], msg: 'Field required', input: { max_tokens: 5 } },
      { type: 'greater_than_equal', loc: ['body', 'max_tokens'], msg: 'Input should be greater than or equal to 1', input: 0, ctx: { ge: 1 } },
    ];
    sagemaker.on(InvokeEndpointCommand).rejects(modelError(422, JSON.stringify({ detail })));
    const error = await new SageMakerProvider().complete(request()).catch((e) => e);
    expect(error).toMatchObject({ status: 422, retryable: false, message: 'body.messages: Field required; body.max_tokens: Input should be greater than or equal to 1' });
    expect(error.details).toEqual({ errorName: 'ModelError' });
  });

  it('marks a container 5xx or 429 retryable, and a container that did not answer (status 0) an upstream failure', async () => {
    sagemaker.on(InvokeEndpointCommand).rejectsOnce(modelError(503, '{"error":"busy"}')).rejectsOnce(modelError(429, '{"error":"too many"}')).rejectsOnce(modelError(0, ''));
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: 503, retryable: true, message: 'busy' });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: 429, retryable: true });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: undefined, retryable: true });
  });

  it('maps an unknown endpoint (ValidationError, a 400 from AWS) to 502 upstream_misconfigured, not the caller\'s 400', async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(new ValidationError({ message: `Endpoint ${ENDPOINT} of account 111122223333 not found.`, $metadata: { httpStatusCode: 400 } }));
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: 502, retryable: false, details: { code: 'upstream_misconfigured' }, message: expect.stringContaining('not found') });
  });

  it('marks throttling, ServiceUnavailable and InternalFailure retryable', async () => {
    sagemaker.on(InvokeEndpointCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new ServiceUnavailable({ message: 'unavailable', $metadata: { httpStatusCode: 503 } }))
      .rejectsOnce(new InternalFailure({ message: 'internal', $metadata: { httpStatusCode: 500 } }));
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: 429, retryable: true, details: { type: 'rate_limit_error', code: 'rate_limit_exceeded' }, message: expect.stringContaining('SageMaker ThrottlingException for endpoint') });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: 503, retryable: true });
    await expect(new SageMakerProvider().complete(request())).rejects.toMatchObject({ status: 500, retryable: true });
  });
});

describe('SageMaker provider: stream', () => {
  it('asks the container for a stream with usage and parses SSE split at awkward places into the exact chunks', async () => {
    const first = chunk([{ index: 0, delta: { role: 'assistant', content: 'Café 🙂' }, logprobs: null, finish_reason: null }]);
    const second = chunk([{ index: 0, delta: { content: ' déjà vu' }, logprobs: null, finish_reason: 'stop' }]);
    const text = `data: ${JSON.stringify(first)}\r\n\r\n: keep-alive\r\n\r\ndata: ${JSON.stringify(second)}\r\n\r\ndata: ${JSON.stringify(usageChunk)}\r\n\r\ndata: [DONE]\r\n\r\n`;
    const bytes = enc.encode(text);
    const at = (s: string, plus = 0) => enc.encode(text.slice(0, text.indexOf(s))).length + plus;
    const cuts = [
      2, // "da" | "ta: {"
      at('é', 1), // inside the two bytes of é
      at('🙂', 1), at('🙂', 3), // twice inside the four bytes of 🙂
      at('\r\n\r\n', 1), // between CR and LF
      at(': keep', 1), // inside the comment
      at(': keep-alive\r\n', 13), // between the comment's CR and LF
      at(' déjà', 3), // inside "déjà"'s é
      at('[DONE]', -3), // inside the last "data:"
    ].filter((c, i, all) => c > 0 && all.indexOf(c) === i).sort((a, b) => a - b);
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: eventsOf(partsOf(bytes, cuts)) as never });
    const { chunks, error } = await collect(new SageMakerProvider().stream(request({ stream: true, stream_options: { include_usage: false }, top_k: 5 })));
    expect(error).toBeUndefined();
    expect(chunks).toEqual([first, second, usageChunk]);
    const [call] = sagemaker.commandCalls(InvokeEndpointWithResponseStreamCommand);
    const input = call.args[0].input;
    expect({ ...input, Body: JSON.parse(input.Body as string) }).toEqual({
      EndpointName: ENDPOINT, ContentType: 'application/json',
      Body: { messages: [{ role: 'user', content: 'hi' }], top_k: 5, stream: true, stream_options: { include_usage: true } },
    });
    expect((call.args as unknown[])[1]).toEqual({ abortSignal: signal });
  });

  it('yields the same chunks when every byte is its own payload part', async () => {
    const first = chunk([{ index: 0, delta: { role: 'assistant', content: 'żółw 🐢' }, logprobs: null, finish_reason: 'stop' }]);
    const bytes = enc.encode(`data: ${JSON.stringify(first)}\n\ndata: ${JSON.stringify(usageChunk)}\n\ndata: [DONE]\n\n`);
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: eventsOf(partsOf(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))) as never });
    expect((await collect(new SageMakerProvider().stream(request()))).chunks).toEqual([first, usageChunk]);
  });

  it('relays tool-call deltas as the container sent them', async () => {
    const deltas = [
      chunk([{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, logprobs: null, finish_reason: null }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, logprobs: null, finish_reason: null }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }, { index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }, logprobs: null, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' }]),
      usageChunk,
    ];
    const text = deltas.map((d) => `data: ${JSON.stringify(d)}\n\n`).join('') + 'data: [DONE]\n\n';
    const bytes = enc.encode(text);
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: eventsOf(partsOf(bytes, [17, 200, 201, 350])) as never });
    expect((await collect(new SageMakerProvider().stream(request({ tools: [{ type: 'function', function: { name: 'get_weather' } }] })))).chunks).toEqual(deltas);
  });

  it('reads LMI\'s JSON-lines stream (no data: prefix) the same way', async () => {
    const first = chunk([{ index: 0, delta: { role: 'assistant', content: 'hé' }, logprobs: null, finish_reason: null }]);
    const second = chunk([{ index: 0, delta: { content: '!' }, logprobs: null, finish_reason: 'length' }], { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    const text = `${JSON.stringify(first)}\n${JSON.stringify(second)}`; // no newline after the last line
    const bytes = enc.encode(text);
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: eventsOf(partsOf(bytes, [1, enc.encode(text.slice(0, text.indexOf('é'))).length + 1, enc.encode(text).indexOf(10) + 1, bytes.length - 4])) as never });
    expect((await collect(new SageMakerProvider().stream(request()))).chunks).toEqual([first, second]);
  });

  it('ends with a ProviderError on a mid-stream ModelStreamError, after the chunks before it', async () => {
    const first = chunk([{ index: 0, delta: { role: 'assistant', content: 'Once' }, logprobs: null, finish_reason: null }]);
    sagemaker.on(InvokeEndpointWithResponseStreamCommand)
      .resolvesOnce({ Body: eventsOf([{ PayloadPart: { Bytes: enc.encode(`data: ${JSON.stringify(first)}\n\n`) } }, { ModelStreamError: { Message: 'Model invocation time exceeded', ErrorCode: 'ModelInvocationTimeExceeded' } } as ResponseStream]) as never })
      // The SDK throws an exception event rather than yielding it.
      .resolvesOnce({ Body: eventsOf([{ PayloadPart: { Bytes: enc.encode(`data: ${JSON.stringify(first)}\n\n`) } }, new ModelStreamError({ message: 'The connection to the model was reset', $metadata: {}, ErrorCode: 'StreamBroken' })]) as never })
      .resolvesOnce({ Body: eventsOf([{ InternalStreamFailure: { Message: 'stream processing failed' } } as ResponseStream]) as never });
    const timedOut = await collect(new SageMakerProvider().stream(request()));
    expect(timedOut.chunks).toEqual([first]);
    expect(timedOut.error).toBeInstanceOf(ProviderError);
    expect(timedOut.error).toMatchObject({ message: expect.stringContaining('Model invocation time exceeded'), details: { code: 'ModelInvocationTimeExceeded', timedOut: true } });
    const broken = await collect(new SageMakerProvider().stream(request()));
    expect(broken.chunks).toEqual([first]);
    expect(broken.error).toBeInstanceOf(ProviderError);
    expect(broken.error).toMatchObject({ message: expect.stringContaining('The connection to the model was reset'), details: { code: 'StreamBroken' } });
    const internal = await collect(new SageMakerProvider().stream(request()));
    expect(internal.chunks).toEqual([]);
    expect(internal.error).toMatchObject({ retryable: true, message: expect.stringContaining('stream processing failed'), details: { code: 'internal_stream_failure' } });
  });

  it('ends with a ProviderError on an error event the container sends in the stream', async () => {
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: eventsOf([{ PayloadPart: { Bytes: enc.encode('data: {"error":{"message":"engine died","type":"InternalServerError","code":"engine_dead"}}\n\n') } }]) as never });
    const { chunks, error } = await collect(new SageMakerProvider().stream(request()));
    expect(chunks).toEqual([]);
    expect(error).toMatchObject({ message: 'engine died', details: { code: 'engine_dead' } });
  });

  it('relays a ModelError before the first chunk with the container\'s status and message', async () => {
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).rejects(
      new ModelError({ message: 'Received client error (400)', $metadata: { httpStatusCode: 424 }, OriginalStatusCode: 400, OriginalMessage: JSON.stringify({ error: { message: 'n must be 1 when streaming', type: 'invalid_request_error', param: 'n', code: 'invalid_value' } }) }),
    );
    const { error } = await collect(new SageMakerProvider().stream(request({ n: 3 })));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 400, retryable: false, message: 'n must be 1 when streaming', details: { param: 'n', code: 'invalid_value', type: 'invalid_request_error' } });
  });
});

describe('SageMaker provider: an endpoint in the tenant\'s account', () => {
  it('invokes it as the tenant\'s model-invoker role, the session tagged with the tenant', async () => {
    const role = 'arn:aws:iam::444455556666:role/tessera-acme-model-invoker';
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'tenant-key', SecretAccessKey: 'b', SessionToken: 'c', Expiration: new Date(Date.now() + 900_000) } });
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: json({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] }) as never });
    await new SageMakerProvider().complete(request({}, role));
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ RoleArn: role, RoleSessionName: 'tessera-acme-invoke', Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }] });
    const client = sagemaker.commandCalls(InvokeEndpointCommand)[0].thisValue as SageMakerRuntimeClient;
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'tenant-key' });
  });

  it('invokes a platform endpoint with the Lambda\'s own credentials', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: json({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] }) as never });
    await new SageMakerProvider().complete(request());
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    const client = sagemaker.commandCalls(InvokeEndpointCommand)[0].thisValue as SageMakerRuntimeClient;
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'unit' });
  });
});
