import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it, vi } from 'vitest';
import { CLIENTS } from '../gateway-conformance/clients.js';
import { PNG_BASE64, PNG_DATA_URL, converseAnswerOf, converseOutput, openAiAnswer } from '../gateway-conformance/matrix.js';
import { mockProviderSdks, useConformanceGateway } from '../gateway-conformance/setup.js';
import { WEATHER_FUNCTION } from './cases.js';
import { PythonResponsesClient, runResponses } from './clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * A `function_call_output` whose `output` is a list holding `input_image` / `input_file` (OpenAI's
 * `ResponseFunctionCallOutputItem`; a screenshot tool, a chart tool): Bedrock's toolResult takes
 * images and documents, so it is mapped there; a chat-completions tool message carries text only,
 * so the OpenAI-compatible relay and SageMaker refuse it with a 400 naming `input[i].output[j]`,
 * before anything is sent. Never dropped. Both official clients, against `tessera serve`.
 */
const { bedrock, sagemaker } = mockProviderSdks();
const suite = useConformanceGateway(PythonResponsesClient.start);

const PDF_DATA_URL = `data:application/pdf;base64,${Buffer.from('%PDF-1.4 a chart').toString('base64')}`;
const inputOf = (output: unknown[]) => [
  { role: 'user', content: 'What does the Oslo weather chart show?' },
  { type: 'function_call', call_id: 'call_chart', name: 'get_weather', arguments: '{"city":"Oslo"}' },
  { type: 'function_call_output', call_id: 'call_chart', output },
];
const OUTPUT = [{ type: 'input_text', text: 'The chart:' }, { type: 'input_image', image_url: PNG_DATA_URL, detail: 'auto' }, { type: 'input_file', file_data: PDF_DATA_URL, filename: 'chart.pdf' }];

describe('a function_call_output with images and files', () => {
  it.each(CLIENTS)('Bedrock: mapped to the toolResult\'s text, image and document blocks (%s client)', async (client) => {
    bedrock.on(ConverseCommand).resolves(converseOutput(converseAnswerOf('text')) as never);
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: 'bedrock/amazon.nova-lite', input: inputOf(OUTPUT), tools: [WEATHER_FUNCTION] },
    });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    const sent = bedrock.commandCalls(ConverseCommand)[0].args[0].input as Record<string, any>;
    const result = sent.messages[2].content[0].toolResult;
    expect(result.toolUseId).toBe('call_chart');
    expect(result.content).toHaveLength(3);
    expect(result.content[0]).toEqual({ text: 'The chart:' });
    expect(result.content[1].image.format).toBe('png');
    expect(Buffer.from(result.content[1].image.source.bytes).toString('base64')).toBe(PNG_BASE64);
    expect(result.content[2].document).toMatchObject({ format: 'pdf', name: 'chart' });
  });

  it.each(CLIENTS)('openai-compatible: a 400 naming input[2].output[1] (a chat tool message carries text only), nothing sent (%s client)', async (client) => {
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: 'openai-compatible/default', input: inputOf(OUTPUT), tools: [WEATHER_FUNCTION] },
    });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', code: 'unsupported_parameter', param: 'input[2].output[1]' } });
    expect(out.error!.body.message).toMatch(/^input\[2\]\.output\[1\] is not supported by the openai-compatible provider: .*text only.*an image/);
    expect(out.error!.body.message).not.toContain('messages[');
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it('openai-compatible streamed, a file alone: the 400 names input[2].output[0] (node client)', async () => {
    const out = await runResponses('node', suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'stream', params: { model: 'openai-compatible/default', input: inputOf([OUTPUT[2]]), tools: [WEATHER_FUNCTION] },
    });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'input[2].output[0]', message: expect.stringContaining('a file') } });
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it('SageMaker: the same 400, nothing sent (python client)', async () => {
    const out = await runResponses('python', suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: 'sagemaker/ft:nova:acme:support', input: inputOf(OUTPUT), tools: [WEATHER_FUNCTION] },
    });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'input[2].output[1]', message: expect.stringContaining('sagemaker provider') } });
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
  });

  it.each(CLIENTS)('text parts alone still go to the relay as a tool message (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: 'openai-compatible/default', input: inputOf([OUTPUT[0]]), tools: [WEATHER_FUNCTION] },
    });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(suite.env.upstream.calls[0].body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_chart', content: [{ type: 'text', text: 'The chart:' }] });
  });

  it.each(CLIENTS)('a file_id in an output image is resolved from the tenant\'s files: an unknown one is the usual 404 naming it (%s client)', async (client) => {
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: 'bedrock/amazon.nova-lite', input: inputOf([{ type: 'input_image', file_id: 'file-abc' }]), tools: [WEATHER_FUNCTION] },
    });
    expect(out.error).toMatchObject({ status: 404, body: { param: 'input[2].output[0].file_id', code: 'file_not_found' } });
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  });
});
