import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { CLIENTS, type ClientName } from '../gateway-conformance/clients.js';
import { openAiAnswer, openAiChunks } from '../gateway-conformance/matrix.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant, useConformanceGateway } from '../gateway-conformance/setup.js';
import { PythonResponsesClient, runResponses, type ResponsesCall } from './clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The Responses API where it ends otherwise than completed, and where it refuses: a stream the
 * upstream breaks (the error event, then response.failed, as the SDKs surface them), an answer cut
 * by the token limit (incomplete), a streamed response stored and retrieved, hosted tools and
 * background responses with store: false refused with a 400 naming store, before any upstream call; item references
 * resolved from the tenant's own stored responses (and only from them); function calls whose
 * argument fragments come out of order, each call's done events whole.
 */
const suite = useConformanceGateway(PythonResponsesClient.start, {
  tenants: [plainTenant('acme'), plainTenant('hedged', { fallbacks: ['openai-compatible/backup'] }), plainTenant('capped', { maxTokens: 32 })],
});

const run = (client: ClientName, call: ResponsesCall, tenant = 'acme') => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens[tenant], call);
const MODEL = 'openai-compatible/default';

describe('streams that do not complete', () => {
  it.each(CLIENTS)('an upstream error mid-stream: the text so far, then the error event and response.failed (OpenAI\'s order); the client raises (%s client)', async (client) => {
    const head = openAiChunks('text').slice(0, 2);
    suite.env.upstream.script({ events: [...head.map((data) => ({ data })), { data: { error: { message: 'CUDA out of memory', type: 'server_error', code: 'engine_error' } } }] });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hi' } });
    expect(out.ok).toBe(false);
    const types = out.events!.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types).not.toContain('response.completed');
    // The open message is closed as incomplete before the failure.
    expect(out.events!.find((e) => e.type === 'response.output_item.done').item).toMatchObject({ type: 'message', status: 'incomplete' });
    // Node's stream helper rejects at the error event with its message (response.failed, after it, is not read);
    // Python yields the error event and response.failed, then its helper finds no response.completed.
    if (client === 'node') {
      expect(out.error!.message).toContain('CUDA out of memory');
      expect(types).not.toContain('response.failed');
    } else {
      expect(out.events!.at(-2)).toMatchObject({ type: 'error', code: 'engine_error', message: 'CUDA out of memory' });
      expect(out.events!.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'CUDA out of memory' } } });
      expect(out.events!.at(-1).response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
      expect(out.error!.message).toMatch(/response.completed/);
    }
    expect(suite.env.gw.audit.records.at(-1)).toMatchObject({ path: '/v1/responses', stream: true, outcome: 'engine_error' });
  });

  it('an upstream error mid-stream, iterated raw with openai 7 (node): the error event is thrown as an APIError carrying its code and message, as OpenAI\'s failed streams are', async () => {
    const head = openAiChunks('text').slice(0, 2);
    suite.env.upstream.script({ events: [...head.map((data) => ({ data })), { data: { error: { message: 'CUDA out of memory', type: 'server_error', code: 'engine_error' } } }] });
    const types: string[] = [];
    const stream = await nodeClient(suite.env.gw.url, suite.env.tokens.acme).responses.create({ model: MODEL, input: 'Hi', stream: true });
    const thrown = await (async () => { for await (const e of stream) types.push(e.type); })().then(() => undefined, (e: unknown) => e);
    expect(types.at(-1)).toBe('response.output_item.done');
    expect(types).not.toContain('error');
    expect(thrown).toBeInstanceOf(OpenAI.APIError);
    expect(thrown).toMatchObject({ status: undefined, code: 'engine_error', message: 'CUDA out of memory' });
  });

  it.each(CLIENTS)('a failed stream is not stored and says so: response.failed has store: false, retrieve is a 404 (hostile fxresp item 4) (%s client)', async (client) => {
    const head = openAiChunks('text').slice(0, 2);
    suite.env.upstream.script({ events: [...head.map((data) => ({ data })), { data: { error: { message: 'CUDA out of memory', type: 'server_error' } } }] });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hi' } });
    // Node stops at the error event, before response.failed: the id is response.created's.
    const failed = out.events!.find((e) => e.type === 'response.failed');
    if (client === 'python') expect(failed.response).toMatchObject({ status: 'failed', store: false });
    const id = out.events!.find((e) => e.type === 'response.created').response.id;
    const got = await run(client, { op: 'retrieve', responseId: id });
    expect(got.error).toMatchObject({ status: 404, body: { code: 'response_not_found' } });
  });

  it.each(CLIENTS)('an answer cut by the token limit is incomplete, reason max_output_tokens (%s client)', async (client) => {
    suite.env.upstream.script({ body: { ...openAiAnswer('text'), choices: [{ index: 0, message: { role: 'assistant', content: 'Hei! Hygg' }, finish_reason: 'length' }] } });
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', max_output_tokens: 16 } });
    expect(out.result).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 16 });
    expect(suite.env.upstream.calls[0].body.max_completion_tokens).toBe(16);
  });

  it.each(CLIENTS)('text, then a function call cut by the token limit: the call is the incomplete item and the message completed, whole as streamed (%s client)', async (client) => {
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const cut = { id: 'call_cut', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } };
    const base = { id: 'up-1', created: 1_764_000_000, model: 'default' };
    suite.env.upstream.script(
      { body: { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Let me look.', tool_calls: [cut] }, logprobs: null, finish_reason: 'length' }], usage: { prompt_tokens: 9, completion_tokens: 16, total_tokens: 25 } } },
      { events: [
        { data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'Let me look.' }, finish_reason: null }] } },
        { data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...cut }] }, finish_reason: null }] } },
        { data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'length' }] } },
        { data: '[DONE]' },
      ] },
    );
    const whole = await run(client, { op: 'create', params: { model: MODEL, input: 'Weather in Oslo?', tools, max_output_tokens: 16 } });
    const streamed = await run(client, { op: 'stream', params: { model: MODEL, input: 'Weather in Oslo?', tools, max_output_tokens: 16 } });
    const expected = [
      { type: 'message', status: 'completed', content: [{ type: 'output_text', text: 'Let me look.' }] },
      { type: 'function_call', status: 'incomplete', call_id: 'call_cut', arguments: '{"city":' },
    ];
    // Before session 48 the whole Response marked the message incomplete and the cut call completed (a client runs a
    // completed call, here with arguments that are not JSON), while the stream marked them as here.
    expect(whole.result).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: expected });
    expect(streamed.events!.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', output: expected } });
  });

  it.each(CLIENTS)('an answer of empty text alone is a message with an empty output_text, streamed as whole (%s client)', async (client) => {
    const base = { id: 'up-1', created: 1_764_000_000, model: 'default' };
    suite.env.upstream.script(
      { body: { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: '' }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 } } },
      { events: [
        { data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] } },
        { data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } },
        { data: '[DONE]' },
      ] },
    );
    const expected = [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: '', annotations: [] }] }];
    const whole = await run(client, { op: 'create', params: { model: MODEL, input: 'Say nothing.' } });
    const streamed = await run(client, { op: 'stream', params: { model: MODEL, input: 'Say nothing.' } });
    expect(whole.result).toMatchObject({ status: 'completed', output: expected });
    // Before session 48 the stream ended with no output item at all (and the stored Response so), the whole one with this message.
    expect(streamed.events!.map((e) => e.type)).toContain('response.output_text.done');
    expect(streamed.events!.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed', output: expected } });
  });
});

describe('a streamed response is stored', () => {
  it.each(CLIENTS)('retrieve answers what response.completed carried (%s client)', async (client) => {
    suite.env.upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hi' } });
    expect(out.error).toBeUndefined();
    const completed = out.events!.at(-1);
    expect(completed.type).toBe('response.completed');
    const got = await run(client, { op: 'retrieve', responseId: completed.response.id });
    expect(got.result.output_text).toBe('Hei! Hyggelig å møte deg.');
    expect(got.result.status).toBe('completed');
    expect(got.result.usage).toEqual(completed.response.usage);
    const created = suite.env.gw.audit.records.find((r) => r.action === 'response.create' && r.detail?.responseId === completed.response.id);
    expect(created).toMatchObject({ status: 200, stream: true, detail: { stored: true } });
  });
});

describe('the upstream\'s service tier (hostile fxresp item 5)', () => {
  it.each(CLIENTS)('a streamed Response reports the service_tier the upstream\'s chunks carry, as a whole one does, and is stored with it (%s client)', async (client) => {
    suite.env.upstream.script({ events: [...openAiChunks('text').map((data) => ({ data: { ...data, service_tier: 'flex' } })), { data: '[DONE]' }] }, { body: { ...openAiAnswer('text'), service_tier: 'flex' } });
    const streamed = await run(client, { op: 'stream', params: { model: MODEL, input: 'Hi' } });
    expect(streamed.error).toBeUndefined();
    expect(streamed.events!.at(-1).response.service_tier).toBe('flex');
    const whole = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi' } });
    expect(whole.result.service_tier).toBe('flex');
    expect((await run(client, { op: 'retrieve', responseId: streamed.events!.at(-1).response.id })).result.service_tier).toBe('flex');
  });
});

describe('what chat providers cannot do is refused, naming it', () => {
  it.each(CLIENTS)('a hosted tool (web_search) is a 400 naming tools[i].type; nothing is sent (%s client)', async (client) => {
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'News today?', tools: [{ type: 'web_search' }] } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'tools[0].type', code: 'unsupported_tool' } });
    expect(out.error!.body.message).toContain("'web_search'");
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it.each(CLIENTS)('background: true with store: false is a 400 naming store; nothing is sent (%s client)', async (client) => {
    const bg = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', background: true, store: false } });
    expect(bg.error).toMatchObject({ status: 400, body: { param: 'store', code: 'invalid_value' } });
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});

describe('item_reference: an item of the tenant\'s own stored response (the AI SDK\'s default provider sends them from turn 2)', () => {
  const ANSWER = 'Hei! Hyggelig å møte deg.';
  const derivedFrom = (responseId: string) => new RegExp(`^msg_${responseId.slice('resp_'.length)}[0-9a-f]{4}$`);

  it.each(CLIENTS)('turn 2 (streamed) and turn 3 reference the earlier answers: the upstream gets their text as assistant messages; input_items lists the resolved item (%s client)', async (client) => {
    // GIVEN a first answer, stored (store defaults to true); its output item id is derived from the response id
    suite.env.upstream.script({ body: openAiAnswer('text') }, { events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] }, { body: openAiAnswer('text') });
    const first = await run(client, { op: 'create', params: { model: MODEL, input: 'Say hello in Norwegian.' } });
    expect(first.error).toBeUndefined();
    const answer = first.result.output[0];
    expect(answer).toMatchObject({ type: 'message', role: 'assistant', id: expect.stringMatching(derivedFrom(first.result.id)) });

    // WHEN turn 2 sends the history as the AI SDK does: the user's message, then a reference to the answer
    const second = await run(client, { op: 'stream', params: { model: MODEL, input: [{ role: 'user', content: 'Say hello in Norwegian.' }, { type: 'item_reference', id: answer.id }, { role: 'user', content: 'Once more?' }] } });

    // THEN the model saw the first answer's text as an assistant message between the two user turns
    expect(second.error).toBeUndefined();
    const roles = (m: any) => ({ role: m.role, text: typeof m.content === 'string' ? m.content : m.content?.map((p: any) => p.text).join('') });
    expect(suite.env.upstream.calls[1].body.messages.map(roles)).toEqual([
      { role: 'user', text: 'Say hello in Norwegian.' }, { role: 'assistant', text: ANSWER }, { role: 'user', text: 'Once more?' },
    ]);
    // and the streamed answer's item id is derived from its response too: turn 3 references both answers
    // (the second as OpenAI's ItemReference allows, without its optional type)
    const streamed = second.result;
    expect(streamed.output[0].id).toMatch(derivedFrom(streamed.id));
    const third = await run(client, { op: 'create', params: { model: MODEL, input: [{ type: 'item_reference', id: answer.id }, { id: streamed.output[0].id }, { role: 'user', content: 'Thanks.' }] } });
    expect(third.error).toBeUndefined();
    expect(suite.env.upstream.calls[2].body.messages.map(roles)).toEqual([{ role: 'assistant', text: ANSWER }, { role: 'assistant', text: ANSWER }, { role: 'user', text: 'Thanks.' }]);

    // input_items lists the resolved item, with the reference's id, as OpenAI lists it
    const listed = await run(client, { op: 'input_items', responseId: streamed.id, params: { order: 'asc' } });
    expect(listed.result.data[1]).toMatchObject({ id: answer.id, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: ANSWER }] });
    expect(listed.result.data.map((i: any) => i.type)).toEqual(['message', 'message', 'message']);
    // The page's parameters once each (query kept the last value; the others were dropped unseen), limit a decimal integer.
    for (const [query, param] of [['limit=1&limit=2', 'limit'], ['order=asc&order=desc', 'order'], ['limit=1e1', 'limit']]) {
      const res = await fetch(`${suite.env.gw.url}/responses/${streamed.id}/input_items?${query}`, { headers: { authorization: `Bearer ${suite.env.tokens.acme}` } });
      expect([query, res.status, ((await res.json()) as { error: { param: string } }).error.param]).toEqual([query, 400, param]);
    }
  });

  it.each(CLIENTS)('another tenant\'s item, a deleted response\'s, a store: false answer\'s and an unknown id are one 400 item_not_found naming input[i].id; nothing is sent (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const theirs = await run(client, { op: 'create', params: { model: MODEL, input: 'Our secret.' } }, 'hedged');
    const unstored = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', store: false } });
    const deleted = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi' } });
    expect(await run(client, { op: 'delete', responseId: deleted.result.id })).toMatchObject({ ok: true });
    const calls = suite.env.upstream.calls.length;
    const refs = { 'another tenant\'s': theirs.result.output[0].id, 'store: false': unstored.result.output[0].id, deleted: deleted.result.output[0].id, unknown: `msg_${'0'.repeat(52)}` };
    const messages: string[] = [];
    for (const [what, id] of Object.entries(refs)) {
      const out = await run(client, { op: 'create', params: { model: MODEL, input: [{ role: 'user', content: 'Hi' }, { type: 'item_reference', id }] } });
      expect(out.error, what).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'input[1].id', code: 'item_not_found' } });
      messages.push(out.error!.body.message.replace(id, '<id>'));
    }
    expect(new Set(messages).size).toBe(1); // never says whether another tenant has the item
    expect(messages[0]).toMatch(/^Item with id '<id>' not found/);
    expect(suite.env.upstream.calls).toHaveLength(calls);
    expect(suite.env.gw.audit.records.at(-1)).toMatchObject({ path: '/v1/responses', status: 400, outcome: 'item_not_found', action: 'response.create', detail: { itemId: refs.unknown, stored: false } });
  });
});

describe('a tool loop chained by previous_response_id (hostile fxresp item 1)', () => {
  const TOOLS = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

  it.each(CLIENTS)('the previous output\'s function_call replayed, or a call left without its output, is a 400 before anything is sent; outputs for both parallel calls go on (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('parallel tool calls') }, { body: openAiAnswer('tool-result turn') });
    const first = await run(client, { op: 'create', params: { model: MODEL, input: 'Weather in Oslo and Rome?', tools: TOOLS } });
    const calls = first.result.output.filter((o: any) => o.type === 'function_call');
    expect(calls).toHaveLength(2);
    const outputs = calls.map((c: any) => ({ type: 'function_call_output', call_id: c.call_id, output: '{"temp_c":3}' }));
    const chained = (input: unknown[]) => run(client, { op: 'create', params: { model: MODEL, previous_response_id: first.result.id, input, tools: TOOLS } });

    // the call sent again with its output (the Python client's fc.model_dump()), or referenced
    const replayed = await chained([calls[0], outputs[0], outputs[1]]);
    expect(replayed.error).toMatchObject({ status: 400, body: { param: 'input[0].id', code: 'duplicate_item_id', message: expect.stringMatching(new RegExp(`^Duplicate item found with id ${calls[0].id} `)) } });
    const referenced = await chained([outputs[0], outputs[1], { type: 'item_reference', id: calls[1].id }]);
    expect(referenced.error).toMatchObject({ status: 400, body: { param: 'input[2].id', code: 'duplicate_item_id' } });
    // one of the two parallel calls answered, then a function_call in input without its output (the stateless form)
    const half = await chained([outputs[0]]);
    expect(half.error).toMatchObject({ status: 400, body: { param: 'input', code: 'tool_output_not_found', message: expect.stringMatching(new RegExp(`^No tool output found for function call ${calls[1].call_id} `)) } });
    const stateless = await run(client, { op: 'create', params: { model: MODEL, input: [{ role: 'user', content: 'Weather?' }, { type: 'function_call', call_id: 'call_x', name: 'get_weather', arguments: '{}' }], tools: TOOLS } });
    expect(stateless.error).toMatchObject({ status: 400, body: { param: 'input', code: 'tool_output_not_found' } });
    expect(suite.env.upstream.calls).toHaveLength(1);

    // both outputs, in the next request: the loop goes on
    const done = await chained(outputs);
    expect(done.error).toBeUndefined();
    expect(suite.env.upstream.calls[1].body.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
  });
});

describe('the chat pipeline\'s limits and fallbacks, in Responses terms', () => {
  it.each(CLIENTS)('the tenant\'s fallback answers when the model fails; the Response names the model that answered (%s client)', async (client) => {
    const failure = { status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } };
    suite.env.upstream.script(failure, failure, { body: openAiAnswer('text') });
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/primary', input: 'Hi' } }, 'hedged');
    expect(out.error).toBeUndefined();
    expect(out.result.model).toBe('openai-compatible/backup');
    expect(suite.env.upstream.calls.map((c) => c.body.model)).toEqual(['primary', 'primary', 'backup']);
    expect(suite.env.gw.audit.records.at(-1)).toMatchObject({ model: 'openai-compatible/backup', fallbackFrom: 'openai-compatible/primary' });
  });

  it.each(CLIENTS)('max_output_tokens over the tenant\'s cap is a 400 naming max_output_tokens; without one, the cap is sent (%s client)', async (client) => {
    const over = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', max_output_tokens: 64 } }, 'capped');
    expect(over.error).toMatchObject({ status: 400, body: { param: 'max_output_tokens', code: 'max_tokens_exceeded' } });
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const ok = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi' } }, 'capped');
    expect(ok.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body.max_completion_tokens).toBe(32);
  });
});

describe('function calls streamed with fragments out of order (gw5 item 4)', () => {
  /** The upstream's chunks: each delta of choice 0 in turn, then the finish reason. */
  const chunksOf = (deltas: Array<Record<string, unknown>>, finish: string) => {
    const [head] = openAiChunks('text');
    const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => ({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    return [...deltas.map((d) => ({ data: choice(d) })), { data: choice({}, finish) }, { data: '[DONE]' }];
  };
  /** One item at a time, and each call's done events whole: as the final response (the client's stream helper's) has it. */
  const expectWhole = (events: any[], final: any) => {
    const itemEvents = events.filter((e) => e.output_index !== undefined);
    const order = itemEvents.map((e) => e.output_index);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    final.output.forEach((item: any, i: number) => {
      const own = itemEvents.filter((e) => e.output_index === i);
      expect(own[0].type).toBe('response.output_item.added');
      expect(own.at(-1)).toMatchObject({ type: 'response.output_item.done', item: { id: item.id, status: 'completed' } });
      if (item.type !== 'function_call') return;
      expect(own.at(-1).item.arguments).toBe(item.arguments);
      expect(own.find((e) => e.type === 'response.function_call_arguments.done').arguments).toBe(item.arguments);
      expect(own.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('')).toBe(item.arguments);
    });
  };

  it.each(CLIENTS)('interleaved fragments of two calls: each call\'s function_call_arguments.done and output_item.done carry its whole arguments, as the final response does (%s client)', async (client) => {
    suite.env.upstream.script({ events: chunksOf([
      { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] },
      { tool_calls: [{ index: 1, id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '"Oslo"}' } }] },
    ], 'tool_calls') });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Weather in Paris and Oslo?' } });
    expect(out.error).toBeUndefined();
    expect(out.result.output.map((o: any) => [o.call_id, o.arguments])).toEqual([['call_paris', '{"city":"Paris"}'], ['call_oslo', '{"city":"Oslo"}']]);
    expect(out.events!.filter((e) => e.type === 'response.function_call_arguments.done').map((e) => e.arguments)).toEqual(['{"city":"Paris"}', '{"city":"Oslo"}']);
    expectWhole(out.events!, out.result);
  });

  it.each(CLIENTS)('text, a call, text again and then the rest of the call: the call is done whole, the second message after it (%s client)', async (client) => {
    suite.env.upstream.script({ events: chunksOf([
      { role: 'assistant', content: 'Checking.' },
      { tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] },
      { content: 'One moment.' },
      { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
    ], 'tool_calls') });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Weather in Paris?' } });
    expect(out.error).toBeUndefined();
    expect(out.result.output.map((o: any) => o.type)).toEqual(['message', 'function_call', 'message']);
    expect(out.result.output[1].arguments).toBe('{"city":"Paris"}');
    expect(out.result.output[2].content[0].text).toBe('One moment.');
    expectWhole(out.events!, out.result);
  });

  it.each(CLIENTS)('parallel calls one after the other (as chat upstreams send them): the same events in the same order, each done whole (%s client)', async (client) => {
    suite.env.upstream.script({ events: chunksOf([
      { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '"Oslo"}' } }] },
    ], 'tool_calls') });
    const out = await run(client, { op: 'stream', params: { model: MODEL, input: 'Weather in Paris and Oslo?' } });
    expect(out.error).toBeUndefined();
    expect(out.events!.filter((e) => e.output_index !== undefined).map((e) => `${e.output_index} ${e.type}`)).toEqual([
      '0 response.output_item.added', '0 response.function_call_arguments.delta', '0 response.function_call_arguments.done', '0 response.output_item.done',
      '1 response.output_item.added', '1 response.function_call_arguments.delta', '1 response.function_call_arguments.delta', '1 response.function_call_arguments.done', '1 response.output_item.done',
    ]);
    expect(out.result.output.map((o: any) => [o.call_id, o.arguments])).toEqual([['call_paris', '{"city":"Paris"}'], ['call_oslo', '{"city":"Oslo"}']]);
    expectWhole(out.events!, out.result);
  });
});
