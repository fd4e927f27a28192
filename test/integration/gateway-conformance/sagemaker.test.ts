import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, ModelError, SageMakerRuntimeClient, ValidationError, SageMakerRuntimeServiceException } from '@aws-sdk/client-sagemaker-runtime';
import { mockStrict } from '../../support/strict-mock.js';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sseBytes } from '../../support/fake-upstream.js';
import { CLIENTS, runClient, type ClientName } from './clients.js';
import {
  MODES, SCENARIOS, callOf, expectRelayed, openAiAnswer, openAiChunks, wireBodyOf, type Mode, type Scenario,
} from './matrix.js';
import { PythonClient, fakeAwsEnv, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The conformance matrix for `sagemaker/ft:nova:acme:support`: a container serving OpenAI's chat
 * completions behind InvokeEndpoint / InvokeEndpointWithResponseStream (SDK mocked). The endpoint
 * gets the caller's body without `model` (the endpoint picks the model) and with the provider's
 * own stream flags; the container's answer and chunks come back as they are, with the gateway's
 * id and the catalog model. Streamed bytes arrive in payload parts cut at odd places (inside
 * events and inside multi-byte characters), as SageMaker may deliver them.
 */
fakeAwsEnv();
const sagemaker = mockStrict(SageMakerRuntimeClient, 'sagemaker-runtime', SageMakerRuntimeServiceException);

const MODEL = 'sagemaker/ft:nova:acme:support';
const ENDPOINT = 'acme-support-endpoint';

const suite = useConformanceGateway(PythonClient.start);
afterAll(() => sagemaker.restore());
beforeEach(() => sagemaker.reset());

const run = (client: ClientName, call: Parameters<typeof runClient>[4]) => runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);

/** SSE bytes as payload parts of 37 bytes: cuts fall inside events, lines and characters. */
async function* payloadParts(bytes: Buffer) {
  for (let i = 0; i < bytes.length; i += 37) yield { PayloadPart: { Bytes: new Uint8Array(bytes.subarray(i, i + 37)) } };
}

interface Cell { mode: Mode; scenario: Scenario; client: ClientName }
const cells: Cell[] = MODES.flatMap((mode) => SCENARIOS.flatMap((scenario) => CLIENTS.map((client) => ({ mode, scenario, client }))));

describe('conformance: sagemaker (OpenAI container on an endpoint, SDK mocked)', () => {
  it.each(cells)('sagemaker · $mode · $scenario · $client client', async ({ mode, scenario, client }) => {
    // GIVEN the container's answer for the scenario
    const chunks = openAiChunks(scenario).map((c) => ({ ...c, model: '/opt/ml/model' }));
    if (mode === 'whole') sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify({ ...openAiAnswer(scenario), model: '/opt/ml/model' })) as never, ContentType: 'application/json' });
    else sagemaker.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({ Body: payloadParts(sseBytes({ events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] })), ContentType: 'text/event-stream' }));
    const call = callOf(scenario, mode, MODEL);

    // WHEN the client calls the gateway
    const out = await run(client, call);

    // THEN the endpoint got the caller's body without the model, with the provider's stream flags
    expect(out.error).toBeUndefined();
    const sent = [...sagemaker.commandCalls(InvokeEndpointCommand), ...sagemaker.commandCalls(InvokeEndpointWithResponseStreamCommand)];
    expect(sent).toHaveLength(1);
    expect(sent[0].args[0]).toBeInstanceOf(mode === 'whole' ? InvokeEndpointCommand : InvokeEndpointWithResponseStreamCommand);
    const { model: _model, stream: _stream, stream_options: _options, ...rest } = wireBodyOf(call, client);
    const input = sent[0].args[0].input as { Body: string };
    expect({ ...input, Body: JSON.parse(input.Body) }).toEqual(mode === 'whole'
      ? { EndpointName: ENDPOINT, ContentType: 'application/json', Accept: 'application/json', Body: rest }
      : { EndpointName: ENDPOINT, ContentType: 'application/json', Body: { ...rest, stream: true, stream_options: { include_usage: true } } });

    // AND the client saw the container's answer with the gateway's id and the catalog model
    expectRelayed(out, call, mode, scenario, MODEL, client);
  });

  it.each(CLIENTS)('a stream\'s own stream_options (include_obfuscation, vLLM\'s continuous_usage_stats) reach the container beside the gateway\'s include_usage (%s client)', async (client) => {
    // GIVEN a container that streams the text answer
    const chunks = openAiChunks('text').map((c) => ({ ...c, model: '/opt/ml/model' }));
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({ Body: payloadParts(sseBytes({ events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] })), ContentType: 'text/event-stream' }));
    const call = callOf('text', 'streamed', MODEL);
    const streamOptions = { include_obfuscation: false, continuous_usage_stats: true };

    // WHEN the client streams with stream options of its own (no include_usage: the gateway asks it all the same)
    const out = await run(client, { ...call, params: { ...call.params, stream_options: streamOptions } });

    // THEN the container got them as sent, with include_usage added, never dropped
    expect(out.error).toBeUndefined();
    const sent = sagemaker.commandCalls(InvokeEndpointWithResponseStreamCommand);
    expect(sent).toHaveLength(1);
    expect(JSON.parse((sent[0].args[0].input as { Body: string }).Body).stream_options).toEqual({ ...streamOptions, include_usage: true });
    // AND the caller, who asked no usage, gets the text chunks as the container wrote them
    const textOf = (cs: any[]) => cs.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(textOf(out.chunks!)).toBe(textOf(chunks));
    expect(textOf(out.chunks!)).not.toBe('');
    expect(out.chunks!.every((c) => c.usage == null)).toBe(true);
  });
});

describe('sagemaker: parallel_tool_calls false on a container that ignores it (TGI has no such field; vLLM ignored it before its support)', () => {
  const cases = MODES.flatMap((mode) => CLIENTS.map((client) => ({ mode, client })));
  it.each(cases)('is sent on as it came, and the container\'s two tool calls reach the client as the first one ($mode, $client client)', async ({ mode, client }) => {
    // GIVEN a container that answers two calls whatever the request said
    const chunks = openAiChunks('parallel tool calls').map((c) => ({ ...c, model: '/opt/ml/model' }));
    if (mode === 'whole') sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify({ ...openAiAnswer('parallel tool calls'), model: '/opt/ml/model' })) as never, ContentType: 'application/json' });
    else sagemaker.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({ Body: payloadParts(sseBytes({ events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] })), ContentType: 'text/event-stream' }));
    const call = callOf('parallel tool calls', mode, MODEL);
    call.params.parallel_tool_calls = false;

    // WHEN the client asks for one call per turn
    const out = await run(client, call);

    // THEN the container got the field, and the client the first call only: the one-call answer, whole or streamed
    expect(out.error).toBeUndefined();
    const sent = [...sagemaker.commandCalls(InvokeEndpointCommand), ...sagemaker.commandCalls(InvokeEndpointWithResponseStreamCommand)];
    expect(sent).toHaveLength(1);
    expect(JSON.parse((sent[0].args[0].input as { Body: string }).Body).parallel_tool_calls).toBe(false);
    expectRelayed(out, call, mode, 'one tool call', MODEL, client);
  });
});

describe('sagemaker errors keep their meaning', () => {
  const ask = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] };

  it.each(CLIENTS)('the container\'s own 400 (ModelError, context length) is the caller\'s 400 with the container\'s message and code (%s client)', async (client) => {
    const error = { message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.", type: 'BadRequestError', param: null, code: 400 };
    sagemaker.on(InvokeEndpointCommand).rejects(new ModelError({
      message: 'Received client error (400) from primary with message "..."', $metadata: { httpStatusCode: 424 },
      OriginalStatusCode: 400, OriginalMessage: JSON.stringify({ object: 'error', ...error }),
    }));
    const out = await run(client, { op: 'create', params: ask });
    expect(out.error!.status).toBe(400);
    expect(out.error!.body.message).toBe(error.message);
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
  });

  it('an endpoint SageMaker refuses (ValidationError: not found) is the platform\'s 502, not the caller\'s 400', async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(new ValidationError({ message: 'Endpoint acme-support-endpoint of account 123456789012 not found.', $metadata: { httpStatusCode: 400 } }));
    const out = await run('node', { op: 'create', params: ask });
    expect(out.error!.status).toBe(502);
    expect(out.error!.body).toMatchObject({ code: 'upstream_misconfigured' });
  });

  it.each(CLIENTS)('an error event from the container mid-stream reaches the client as an error, never a stop (%s client)', async (client) => {
    const head = openAiChunks('text').slice(0, 2);
    const bytes = sseBytes({ events: [...head.map((data) => ({ data })), { data: { error: { message: 'CUDA out of memory', type: 'InternalServerError', code: 'engine_error' } } }] });
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({ Body: payloadParts(bytes) }));
    const out = await run(client, { op: 'stream', params: ask });
    expect(out.ok).toBe(false);
    expect(out.chunks!.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(head[1].choices[0].delta.content);
    expect(out.chunks!.some((c) => c.choices[0].finish_reason !== null)).toBe(false);
    expect(out.error).toMatchObject({ status: null, body: { message: 'CUDA out of memory', code: 'engine_error' } });
  });
});
