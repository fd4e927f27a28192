import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import type { CustomTool } from 'openai/resources/responses/responses';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLIENTS } from '../gateway-conformance/clients.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { mockProviderSdks, useConformanceGateway } from '../gateway-conformance/setup.js';
import { PythonResponsesClient, runResponses, type ResponsesCall } from './clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * Custom tools (GPT-5's free-form tools: `{type: "custom", name, description, format}`) through the official clients
 * against `tessera serve`: mapped to chat custom tools for an upstream that takes them (the fake upstream, an
 * OpenAI-compatible one, in tool-calling mode: it calls the custom tool with the user's message as its input), the
 * call answered as a `custom_tool_call` item, whole and streamed (`response.custom_tool_call_input.delta` / `.done`), and
 * the two-turn agent loop closed: the client sends `custom_tool_call_output` (replaying the call, or chaining with
 * `previous_response_id`) and the model answers with what the tool said. Bedrock, which cannot take them, refuses with a
 * 400 naming `tools[i].type`. Before session 48 every such request was a 400 naming the custom tool.
 */
const { bedrock } = mockProviderSdks();
const suite = useConformanceGateway(PythonResponsesClient.start);
const MODEL = 'openai-compatible/default';
const PATCH_TOOL: CustomTool = { type: 'custom', name: 'apply_patch', description: 'Applies a patch to the repository', format: { type: 'grammar', definition: 'start: /(.|\\n)+/', syntax: 'lark' } };
const CHAT_PATCH_TOOL = { type: 'custom', custom: { name: 'apply_patch', description: 'Applies a patch to the repository', format: { type: 'grammar', grammar: { definition: 'start: /(.|\\n)+/', syntax: 'lark' } } } };
const ASK = 'Add a line to README';

/** The fake upstream's tool-calling mode (FakeUpstream.callTools) answers instead of a script, for this test only. */
function callingTools(): void {
  suite.env.upstream.scriptOnly = false;
  suite.env.upstream.callTools = true;
}

afterEach(() => {
  suite.env.upstream.scriptOnly = true;
  suite.env.upstream.callTools = false;
});

describe('a custom tool, called and answered: the two-turn agent loop', () => {
  const cells = CLIENTS.flatMap((client) => (['replayed', 'previous_response_id'] as const).map((turn2) => ({ client, turn2 })));
  it.each(cells)('$client client, second turn $turn2', async ({ client, turn2 }) => {
    callingTools();
    const run = (call: ResponsesCall) => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);
    const first = await run({ op: 'create', params: { model: MODEL, input: ASK, tools: [PATCH_TOOL], tool_choice: { type: 'custom', name: 'apply_patch' } } });
    expect(first.error, JSON.stringify(first.error)).toBeUndefined();
    // The upstream got chat's custom tool, with its grammar nested, and chat's custom tool choice.
    const sent = suite.env.upstream.requests.at(-1)!;
    expect(sent.tools).toEqual([CHAT_PATCH_TOOL]);
    expect(sent.tool_choice).toEqual({ type: 'custom', custom: { name: 'apply_patch' } });
    const call = first.result.output[0];
    expect(call).toMatchObject({ id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', call_id: expect.stringMatching(/^call_fake_/), name: 'apply_patch', input: ASK, status: 'completed' });
    expect(first.result.tools).toMatchObject([PATCH_TOOL]);
    expect(first.result.tool_choice).toEqual({ type: 'custom', name: 'apply_patch' });

    const output = { type: 'custom_tool_call_output', call_id: call.call_id, output: 'patched: 1 file changed' };
    const input = turn2 === 'replayed' ? [{ role: 'user', content: ASK }, call, output] : [output];
    const second = await run({ op: 'create', params: { model: MODEL, input, tools: [PATCH_TOOL], ...(turn2 === 'previous_response_id' ? { previous_response_id: first.result.id } : {}) } });
    expect(second.error, JSON.stringify(second.error)).toBeUndefined();
    expect(second.result.output_text).toBe('echo: the tool answered patched: 1 file changed');
    // The conversation upstream: the user's message, the assistant's custom tool call, the tool's answer.
    const messages = (suite.env.upstream.requests.at(-1)!).messages;
    expect(messages).toEqual([
      { role: 'user', content: ASK },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'custom', custom: { name: 'apply_patch', input: ASK } }] },
      { role: 'tool', tool_call_id: call.call_id, content: 'patched: 1 file changed' },
    ]);
  });

  it('in a conversation: the custom call is kept among its items and given back to the model next turn (node client)', async () => {
    callingTools();
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    const conversation = await client.conversations.create();
    const first = await client.responses.create({ model: MODEL, input: ASK, tools: [PATCH_TOOL], conversation: conversation.id });
    const call = first.output[0] as { type: string; call_id: string };
    expect(call).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: ASK });
    const second = await client.responses.create({ model: MODEL, tools: [PATCH_TOOL], conversation: conversation.id, input: [{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'patched' }] });
    expect(second.output_text).toBe('echo: the tool answered patched');
    expect(suite.env.upstream.requests.at(-1)!.messages.slice(-2)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'custom', custom: { name: 'apply_patch', input: ASK } }] },
      { role: 'tool', tool_call_id: call.call_id, content: 'patched' },
    ]);
    const items = await client.conversations.items.list(conversation.id, { order: 'asc' });
    expect(items.data.map((i) => i.type)).toEqual(['message', 'custom_tool_call', 'custom_tool_call_output', 'message']);
    expect(items.data[1]).toMatchObject({ id: first.output[0]!.id, call_id: call.call_id, name: 'apply_patch', input: ASK });
  });

  it.each(CLIENTS)('streamed: output_item.added, custom_tool_call_input deltas and done, output_item.done; the final Response has the call whole (%s client)', async (client) => {
    callingTools();
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'stream', params: { model: MODEL, input: ASK, tools: [PATCH_TOOL] } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    const types = out.events!.map((e) => e.type);
    expect(types.filter((t) => t.startsWith('response.output_item') || t.startsWith('response.custom_tool_call_input'))).toEqual([
      'response.output_item.added', 'response.custom_tool_call_input.delta', 'response.custom_tool_call_input.delta', 'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done', 'response.output_item.done',
    ]);
    const added = out.events!.find((e) => e.type === 'response.output_item.added');
    expect(added.item).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '', status: 'in_progress' });
    expect(out.events!.filter((e) => e.type === 'response.custom_tool_call_input.delta').map((e) => e.delta).join('')).toBe(ASK);
    expect(out.events!.find((e) => e.type === 'response.custom_tool_call_input.done')).toMatchObject({ item_id: added.item.id, output_index: 0, input: ASK });
    expect(out.result.output).toEqual([expect.objectContaining({ id: added.item.id, type: 'custom_tool_call', call_id: added.item.call_id, name: 'apply_patch', input: ASK, status: 'completed' })]);
  });
});

describe('the OpenAI Agents SDK\'s CustomTool', () => {
  it.each([false, true])('runs the tool with the model\'s free-form input and reaches the final answer (streamed: %s)', async (stream) => {
    callingTools();
    const out = await suite.python.call(suite.env.gw.url, suite.env.tokens.acme, {
      op: 'agent', params: { model: MODEL, input: ASK, tool: 'custom', format: PATCH_TOOL.format, stream },
    });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.tool_calls).toEqual([ASK]);
    expect(out.result.final_output).toBe(`echo: the tool answered applied ${ASK.length} characters`);
    expect(out.result.responses).toHaveLength(2);
    expect(suite.env.upstream.requests[0].tools).toEqual([CHAT_PATCH_TOOL]);
    expect(suite.env.upstream.requests[1].messages.slice(-2)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake_1', type: 'custom', custom: { name: 'apply_patch', input: ASK } }] },
      { role: 'tool', tool_call_id: 'call_fake_1', content: `applied ${ASK.length} characters` },
    ]);
  });
});

describe('what cannot be carried is a 400 naming it, before any upstream call', () => {
  it.each(CLIENTS)('a grammar format key the chat format has no place for (%s client)', async (client) => {
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: MODEL, input: ASK, tools: [{ ...PATCH_TOOL, format: { ...PATCH_TOOL.format, strict: true } }] },
    });
    // CustomToolInputFormat.Grammar defines no `strict`: OpenAI's words for such a key (until 2026-12-07 unsupported_parameter, "… is not a field of …").
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'tools[0].format.strict', code: 'unknown_parameter' } });
    expect(out.error!.body.message).toMatch(/^Unknown parameter: 'tools\[0\]\.format\.strict'\. CustomToolInputFormat\.Grammar has no such field/);
    expect(suite.env.upstream.requests).toHaveLength(0);
  });

  it.each(CLIENTS)('Bedrock cannot take a custom tool: 400 naming tools[i].type, the provider and why (%s client)', async (client) => {
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create', params: { model: 'bedrock/amazon.nova-lite', input: ASK, tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} } }, PATCH_TOOL] },
    });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'tools[1].type' } });
    expect(out.error!.body.message).toMatch(/^tools\[1\]\.type is not supported by the bedrock provider: is custom: Converse takes function tools only/);
    // A custom tool's call sent back to Bedrock (a conversation moved from another provider) names its item.
    const replayed = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, {
      op: 'create',
      params: {
        model: 'bedrock/amazon.nova-lite', tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} } }],
        input: [{ role: 'user', content: ASK }, { type: 'custom_tool_call', call_id: 'call_1', name: 'apply_patch', input: ASK }, { type: 'custom_tool_call_output', call_id: 'call_1', output: 'ok' }],
      },
    });
    expect(replayed.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'input[1].type' } });
    expect(replayed.error!.body.message).toMatch(/bedrock provider/);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  });
});
