import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it, vi } from 'vitest';
import { CLIENTS } from '../gateway-conformance/clients.js';
import { mockProviderSdks, useConformanceGateway } from '../gateway-conformance/setup.js';
import { PythonResponsesClient, runResponses } from './clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * A provider's refusal of a field the translation renamed names the field the caller sent: on
 * Bedrock, `include: ["message.output_text.logprobs"]` (sent to chat as `logprobs`) is refused as
 * `include[i]`, `text.verbosity` (chat's `verbosity`) as `text.verbosity`, a `text.format`
 * json_object (chat's `response_format`) as `text.format`, in its advice too; never a chat field the caller did not send.
 */
const { bedrock } = mockProviderSdks();
const suite = useConformanceGateway(PythonResponsesClient.start);
const MODEL = 'bedrock/amazon.nova-lite';

const CASES: Array<[string, Record<string, unknown>, RegExp]> = [
  ['include[1]', { include: ['message.input_image.image_url', 'message.output_text.logprobs'] }, /^include\[1\] is not supported by the bedrock provider: .*log probabilities/],
  ['text.verbosity', { text: { verbosity: 'low' } }, /^text\.verbosity is not supported by the bedrock provider/],
  // LangChain's with_structured_output(method="json_mode") with use_responses_api=True sends exactly this; the refusal's advice names text.format too
  ['text.format', { text: { format: { type: 'json_object' } } }, /^text\.format is not supported by the bedrock provider: JSON mode.*; send text\.format json_schema$/],
  // chat nests an image's detail (`image_url.detail`); the Responses input_image has it flat
  ['input[0].content[1].detail', { input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' }] }] }, /^input\[0\]\.content\[1\]\.detail is not supported by the bedrock provider: Converse has no image detail setting/],
  ['input[0].content[0].image_url', { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.org/cat.png' }] }] }, /^input\[0\]\.content\[0\]\.image_url is not supported by the bedrock provider: Converse takes images inline/],
];

describe('a provider refusing a renamed field names the Responses field', () => {
  const cells = CASES.flatMap(([param, fields, message]) => CLIENTS.map((client) => ({ param, fields, message, client })));
  it.each(cells)('$param ($client client)', async ({ param, fields, message, client }) => {
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params: { model: MODEL, input: 'Hi', ...fields } });
    expect(out.error, JSON.stringify(out.result)).toBeDefined();
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', code: 'unsupported_parameter', param } });
    expect(out.error!.body.message).toMatch(message);
    expect(out.error!.body.message).not.toMatch(/response_format|max_completion_tokens|reasoning_effort/);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  });
});

describe('Bedrock\'s tool-pairing refusals name the Responses items', () => {
  const call = { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' };
  const answer = { type: 'function_call_output', call_id: 'call_1', output: '3°C' };
  const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
  it.each(CLIENTS)('an output answering a call of an earlier turn again is input[i].call_id; a tool conversation without tools is tools (%s client)', async (client) => {
    const again = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create',
      params: { model: MODEL, tools, input: [{ role: 'user', content: 'Weather in Oslo?' }, call, answer, { role: 'assistant', content: 'It is 3°C.' }, { role: 'user', content: 'Sure?' }, answer] },
    });
    expect(again.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', code: 'invalid_value', param: 'input[5].call_id' } });
    expect(again.error!.body.message).toMatch(/^input\[5\]\.call_id is "call_1"/);
    expect(again.error!.body.message).not.toMatch(/tool_call_id|messages\[/);
    const noTools = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: MODEL, input: [{ role: 'user', content: 'Weather in Oslo?' }, call, answer] },
    });
    expect(noTools.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', code: 'unsupported_parameter', param: 'tools' } });
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  });
});
