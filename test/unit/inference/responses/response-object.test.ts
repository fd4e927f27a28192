import type { ChatCompletion } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { ResponsesRequestBody } from '../../../../lambdas/inference/responses/request-schema.js';
import { responseOfChat, responseShell, statusOf, usageOfChat } from '../../../../lambdas/inference/responses/response-object.js';

const req = (r: Record<string, unknown> = {}) => ({ model: 'm', input: 'Hi', ...r }) as unknown as ResponsesRequestBody;
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
const answer = (message: Record<string, unknown>, finish = 'stop', extra: Record<string, unknown> = {}): ChatCompletion =>
  ({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish }], usage, ...extra }) as unknown as ChatCompletion;

describe('the Response object', () => {
  it('a whole answer lists its message before its calls: a chat message carries no order of text and calls (stream-events.test.ts: a stream lists them as they arrive)', () => {
    // What an upstream that wrote "Checking.", called f and g, then wrote "Done" answers when not streamed: one content, the calls apart.
    const whole = answer({ content: 'Checking. Done', tool_calls: [
      { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
      { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } },
    ] }, 'tool_calls');
    const output = responseOfChat(responseShell('resp_1', 1, 'm', req(), false), whole, usage).output as any[];
    expect(output.map((o) => [o.type, o.type === 'message' ? o.content[0].text : o.call_id])).toEqual([['message', 'Checking. Done'], ['function_call', 'call_a'], ['function_call', 'call_b']]);
  });

  it('echoes the request as OpenAI does, with its defaults', () => {
    const shell = responseShell('resp_1', 100, 'openai/gpt-4o-mini', req(), true);
    expect(shell).toMatchObject({
      id: 'resp_1', object: 'response', created_at: 100, status: 'in_progress', model: 'openai/gpt-4o-mini', output: [], error: null, incomplete_details: null,
      instructions: null, tools: [], tool_choice: 'auto', parallel_tool_calls: true, temperature: null, top_p: null, max_output_tokens: null,
      text: { format: { type: 'text' } }, metadata: {}, previous_response_id: null, store: true, truncation: 'disabled', background: false,
    });
    const echoed = responseShell('resp_1', 100, 'm', req({ instructions: 'I', tool_choice: 'required', parallel_tool_calls: false, temperature: 0.5, top_p: 0.8, max_output_tokens: 99, metadata: { k: 'v' }, previous_response_id: 'resp_0', text: { format: { type: 'json_object' } } }), false);
    expect(echoed).toMatchObject({ instructions: 'I', tool_choice: 'required', parallel_tool_calls: false, temperature: 0.5, top_p: 0.8, max_output_tokens: 99, metadata: { k: 'v' }, previous_response_id: 'resp_0', text: { format: { type: 'json_object' } }, store: false });
    expect(responseShell('resp_1', 100, 'm', req({ prompt_cache_key: 'k', prompt_cache_retention: '24h' }), false)).toMatchObject({ prompt_cache_key: 'k', prompt_cache_retention: '24h' });
    expect(responseShell('resp_1', 100, 'm', req({}), false)).toMatchObject({ prompt_cache_key: null, prompt_cache_retention: null });
  });

  it('echoes max_tool_calls (null when absent) and each function tool as sent, strict: null when it was left out (hostile fxresp items 7, 8)', () => {
    expect(responseShell('resp_1', 100, 'm', req(), true)).toMatchObject({ max_tool_calls: null });
    expect(responseShell('resp_1', 100, 'm', req({ max_tool_calls: 3 }), true)).toMatchObject({ max_tool_calls: 3 });
    const f = { type: 'function', name: 'f', parameters: { type: 'object' } };
    const shell = responseShell('resp_1', 100, 'm', req({ tools: [f, { ...f, name: 'g', strict: true }, { ...f, name: 'h', strict: false }, { ...f, name: 'k', strict: null }] }), true);
    expect(shell.tools.map((t: any) => [t.name, t.strict])).toEqual([['f', null], ['g', true], ['h', false], ['k', null]]);
    expect(shell.tools[0]).toEqual({ ...f, strict: null });
  });

  it('a text answer is one message item with an output_text part (annotations [])', () => {
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'Hei' }), usage);
    expect(r.status).toBe('completed');
    expect(r.output).toEqual([{ id: expect.stringMatching(/^msg_/), type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hei', annotations: [], logprobs: [] }] }]);
    expect(r.completed_at).toEqual(expect.any(Number));
  });

  it('url citations of the chat message become the output text\'s url_citation annotations (flat); another type the Responses API defines (file_citation) is passed on as sent', () => {
    const citation = { type: 'url_citation', url_citation: { start_index: 4, end_index: 9, title: 'Yr', url: 'https://www.yr.no/oslo' } };
    const other = { type: 'file_citation', file_citation: { file_id: 'f' } };
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'See Yr.no', annotations: [citation, other] }), usage);
    expect((r.output[0] as any).content[0].annotations).toEqual([{ type: 'url_citation', start_index: 4, end_index: 9, title: 'Yr', url: 'https://www.yr.no/oslo' }, other]);
  });

  it('annotation entries that are not objects (null, strings), and types the Responses API does not define, are left out (the AI SDK fails a whole answer on one)', () => {
    const citation = { type: 'url_citation', url_citation: { start_index: 0, end_index: 2, title: 'T', url: 'https://example.com/' } };
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'Hi', annotations: [null, 'str', 5, [1], { type: 'doc_citation', doc_citation: { doc_id: 'd1' } }, citation] }), usage);
    expect((r.output[0] as any).content[0].annotations).toEqual([{ type: 'url_citation', start_index: 0, end_index: 2, title: 'T', url: 'https://example.com/' }]);
  });

  it('a refusal is a refusal part', () => {
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: null, refusal: 'I cannot help with that.' }), usage);
    expect((r.output[0] as any).content).toEqual([{ type: 'refusal', refusal: 'I cannot help with that.' }]);
  });

  it('tool calls are function_call items (fc_ ids, call_id = the chat tool call id), after the message when there is text', () => {
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'Checking.', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, 'tool_calls'), usage);
    expect(r.output.map((o) => o.type)).toEqual(['message', 'function_call']);
    expect(r.output[1]).toEqual({ id: expect.stringMatching(/^fc_/), type: 'function_call', call_id: 'call_9', name: 'f', arguments: '{"a":1}', status: 'completed' });
  });

  it("a tool call the upstream gave no id (or an empty one) gets call_id call_… (OpenAI's shape), its item id stays fc_… (s23resp2 item 4)", () => {
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: null, tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }, { id: '', type: 'function', function: { name: 'g', arguments: '{}' } }] }, 'tool_calls'), usage);
    expect(r.output.map((o: any) => [o.id, o.call_id])).toEqual([[expect.stringMatching(/^fc_/), expect.stringMatching(/^call_[0-9a-f]{24}$/)], [expect.stringMatching(/^fc_/), expect.stringMatching(/^call_[0-9a-f]{24}$/)]]);
    expect((r.output[0] as any).call_id).not.toBe((r.output[1] as any).call_id);
  });

  it('a custom tool call is a custom_tool_call item (ctc_ id, call_id = the chat call id, name, input, status) in order with function calls', () => {
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({
      content: null, tool_calls: [
        { id: 'call_c', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } },
        { id: 'call_f', type: 'function', function: { name: 'f', arguments: '{}' } },
        { type: 'custom', custom: { name: 'patch', input: '*** Begin Patch' } },
      ],
    }, 'tool_calls'), usage);
    expect(r.output.map((o) => o.type)).toEqual(['custom_tool_call', 'function_call', 'custom_tool_call']);
    expect(r.output[0]).toEqual({ id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', call_id: 'call_c', name: 'sql', input: 'SELECT 1', status: 'completed' });
    expect(r.output[2]).toMatchObject({ call_id: expect.stringMatching(/^call_[0-9a-f]{24}$/), name: 'patch', input: '*** Begin Patch' });
  });

  it('finish reasons length and content_filter make it incomplete, with the reason', () => {
    expect(statusOf('length')).toEqual({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(statusOf('content_filter')).toEqual({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    expect(statusOf('tool_calls')).toEqual({ status: 'completed', incomplete_details: null });
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'Cut' }, 'length'), usage);
    expect(r).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect((r.output[0] as any).status).toBe('incomplete');
    expect(r.completed_at).toBeUndefined();
  });

  it('usage in the Responses shape, with cached and reasoning tokens', () => {
    expect(usageOfChat({ prompt_tokens: 31, completion_tokens: 9, total_tokens: 40, prompt_tokens_details: { cached_tokens: 12 }, completion_tokens_details: { reasoning_tokens: 4 } })).toEqual({
      input_tokens: 31, input_tokens_details: { cached_tokens: 12, cache_write_tokens: 0 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 4 }, total_tokens: 40,
    });
  });
});

describe('the upstream\'s reasoning in a whole answer', () => {
  it.each(['reasoning_content', 'reasoning'])('message.%s → a reasoning item (reasoning_text) before the message', (field) => {
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'Hei', [field]: 'Norwegian: Hei.' }), usage);
    expect(r.output).toHaveLength(2);
    expect(r.output[0]).toEqual({ id: expect.stringMatching(/^rs_/), type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Norwegian: Hei.' }] });
    expect(r.output[1]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'Hei' }] });
  });

  it('no reasoning (absent, null or empty): no reasoning item', () => {
    for (const extra of [{}, { reasoning_content: null }, { reasoning_content: '' }]) {
      expect(responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'Hei', ...extra }), usage).output.map((o) => o.type)).toEqual(['message']);
    }
  });
});

describe('a server that sends its thinking under both names (vLLM\'s reasoning_content alias of reasoning, mlx-vlm)', () => {
  it('is one reasoning text, whole', () => {
    const r = responseOfChat(responseShell('resp_1', 1, 'm', req(), true), answer({ content: 'Hei', reasoning_content: 'Norwegian.', reasoning: 'Norwegian.' }), usage);
    expect((r.output[0] as any).content).toEqual([{ type: 'reasoning_text', text: 'Norwegian.' }]);
  });
});
