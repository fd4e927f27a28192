import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { chatRequestOf } from '../../../../lambdas/inference/responses/chat-request.js';
import { inputItemsOf } from '../../../../lambdas/inference/responses/input-items.js';
import { checkRequestFields } from '../../../../lambdas/inference/responses/request-fields.js';
import type { ResponsesRequestBody } from '../../../../lambdas/inference/responses/request-schema.js';
import { ResponsesRequest } from '../../../../lambdas/inference/responses/request-schema.js';
import { responseOfChat, responseShell } from '../../../../lambdas/inference/responses/response-object.js';
import { ResponseEventStream } from '../../../../lambdas/inference/responses/stream-events.js';
import { thrown } from './thrown.js';

/** The request as the route reads it: parsed by the schema (loose: nested keys are kept), then checked. */
const check = (r: Record<string, unknown>) => checkRequestFields(ResponsesRequest.parse({ model: 'm', ...r }) as ResponsesRequestBody);
const FN = { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {}, additionalProperties: false }, strict: true };
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

describe('keys inside the request objects: refused, each by its path', () => {
  it('a made-up key of 900,000 characters is named cut to 64, in the message and param', () => {
    const key = 'k'.repeat(900_000);
    // A key OpenAI does not define is unknown_parameter, top-level or nested (a nested one was unsupported_parameter until 2026-12-07).
    for (const fields of [{ input: [{ role: 'user', content: 'Hi', [key]: 1 }] }, { text: { [key]: 1 } }, { [key]: 1 }]) {
      const e = thrown(() => check(fields));
      expect(e).toMatchObject({ status: 400, code: 'unknown_parameter' });
      expect(e.param!.length).toBeLessThan(100);
      expect(e.message.length).toBeLessThan(400);
      expect(e.param).toContain(`${'k'.repeat(61)}...`);
    }
  });


  it.each([
    ['text.foo', { text: { foo: 1 } }, 'ResponseTextConfig'],
    ['reasoning.foo', { reasoning: { effort: 'low', foo: 1 } }, 'Reasoning'],
    ['text.format.foo', { text: { format: { type: 'json_schema', name: 'W', schema: {}, foo: 1 } } }, 'ResponseFormatTextJSONSchemaConfig'],
    ['text.format.foo', { text: { format: { type: 'text', foo: 1 } } }, 'ResponseFormatText'],
    ['tools[1].foo', { tools: [FN, { ...FN, name: 'g', foo: 1 }] }, 'FunctionTool'],
    ['input[0].foo', { input: [{ role: 'user', content: 'Hi', foo: 1 }] }, 'EasyInputMessage'],
    ['input[0].content[1].foo', { input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hi' }, { type: 'input_image', image_url: PNG, detail: 'auto', foo: 1 }] }] }, 'ResponseInputImage'],
    ['input[0].content[0].foo', { input: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [], foo: 1 }] }] }, 'ResponseOutputText'],
    ['input[0].content[0].foo', { input: [{ role: 'assistant', content: [{ type: 'refusal', refusal: 'No', foo: 1 }] }] }, 'ResponseOutputRefusal'],
    ['input[1].foo', { input: [{ role: 'user', content: 'Hi' }, { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', foo: 1 }] }, 'ResponseFunctionToolCall'],
    ['input[1].foo', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: 'x', foo: 1 }] }, 'FunctionCallOutput'],
    ['input[1].output[0].foo', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'x', foo: 1 }] }] }, 'ResponseInputTextContent'],
    ['input[1].output[0].foo', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: PNG, foo: 1 }] }] }, 'ResponseInputImageContent'],
    ['input[1].output[0].foo', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_file', file_data: 'x', foo: 1 }] }] }, 'ResponseInputFileContent'],
    ['tool_choice.foo', { tools: [FN], tool_choice: { type: 'function', name: 'get_weather', foo: 1 } }, 'ToolChoiceFunction'],
    ['tool_choice.tools[0].foo', { tools: [FN], tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather', foo: 1 }] } }, 'allowed_tools function entry'],
    ['stream_options.foo', { stream: true, stream_options: { foo: 1 } }, 'StreamOptions'],
    ['tools[0].foo', { tools: [{ type: 'custom', name: 'sql', foo: 1 }] }, 'CustomTool'],
    ['tool_choice.foo', { tools: [{ type: 'custom', name: 'sql' }], tool_choice: { type: 'custom', name: 'sql', foo: 1 } }, 'ToolChoiceCustom'],
    ['tool_choice.tools[0].foo', { tools: [{ type: 'custom', name: 'sql' }], tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'custom', name: 'sql', foo: 1 }] } }, 'allowed_tools custom entry'],
    ['input[0].foo', { input: [{ type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'x', foo: 1 }, { type: 'custom_tool_call_output', call_id: 'c', output: 'y' }] }, 'ResponseCustomToolCall'],
    ['input[1].foo', { input: [{ type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'x' }, { type: 'custom_tool_call_output', call_id: 'c', output: 'y', foo: 1 }] }, 'ResponseCustomToolCallOutput'],
    ['input[1].output[0].foo', { input: [{ type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'x' }, { type: 'custom_tool_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'y', foo: 1 }] }] }, 'ResponseInputTextContent'],
  ])('%s is OpenAI\'s 400 for a key it does not define: "Unknown parameter: \'<path>\'.", code unknown_parameter, then the type', (param, fields, type) => {
    const e = thrown(() => check(fields));
    expect(e).toMatchObject({ status: 400, type: 'invalid_request_error', param, code: 'unknown_parameter' });
    expect(e.message.startsWith(`Unknown parameter: '${param}'. `)).toBe(true);
    expect(e.message).toContain(`${type}`);
    expect(e.message).toMatch(/has no such field; leave it out$/);
  });

  it.each([
    ['reasoning.mode', { reasoning: { mode: 'pro' } }],
    ['input[0].phase', { input: [{ role: 'assistant', content: 'Hi', phase: 'final_answer' }] }],
    ['input[0].content[0].prompt_cache_breakpoint', { input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hi', prompt_cache_breakpoint: { mode: 'explicit' } }] }] }],
    ['input[0].content[0].detail', { input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,AA==', filename: 'a.pdf', detail: 'low' }] }] }],
    ['input[0].caller', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', caller: { type: 'program', caller_id: 'p' } }] }],
    ['input[0].namespace', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', namespace: 'ns' }] }],
    ['input[0].namespace', { input: [{ type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'x', namespace: 'ns' }] }],
    ['input[0].async', { input: [{ type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'x', async: true }] }],
    ['input[1].caller', { input: [{ type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'x' }, { type: 'custom_tool_call_output', call_id: 'c', output: 'y', caller: { type: 'program', caller_id: 'p' } }] }],
  ])('%s, which the types define but the chat mapping does not carry, is a 400 saying it is not served', (param, fields) => {
    const e = thrown(() => check(fields));
    expect(e).toMatchObject({ status: 400, param, code: 'unsupported_parameter' });
    expect(e.message).toContain(`${param} is not served by /v1/responses here`);
  });

  it('null counts as absent; values that change nothing pass (a direct caller, an input_file detail auto)', () => {
    expect(() => check({
      text: { format: null, verbosity: null, foo: null }, reasoning: { effort: 'low', context: null, mode: null },
      tools: [{ ...FN, defer_loading: null, output_schema: null }],
      input: [
        { role: 'assistant', content: 'Hi', phase: null },
        { role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,AA==', filename: 'a.pdf', detail: 'auto' }, { type: 'input_text', text: 'x', prompt_cache_breakpoint: null }] },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', caller: { type: 'direct' }, namespace: null },
        { type: 'function_call_output', call_id: 'c', output: 'x', caller: { type: 'direct' } },
      ],
    })).not.toThrow();
  });

  it('objects of a type the mapping refuses are left to that refusal (its message names the type)', () => {
    expect(() => check({ tools: [{ type: 'web_search', foo: 1 }], input: [{ type: 'web_search_call', id: 'ws_1', foo: 1 }] })).not.toThrow();
  });

  it('a replayed reasoning item: its own keys pass (encrypted_content is opened later, with the caller\'s tenant: encrypted-reasoning.ts), another key is not a field', () => {
    expect(() => check({ input: [{ type: 'reasoning', id: 'rs_1', summary: [], content: [{ type: 'reasoning_text', text: 't' }], status: 'completed', encrypted_content: null }] })).not.toThrow();
    expect(() => check({ input: [{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA' }] })).not.toThrow();
    expect(thrown(() => check({ input: [{ type: 'reasoning', id: 'rs_1', summary: [], foo: 1 }] }))).toMatchObject({ param: 'input[0].foo', message: expect.stringContaining('ResponseReasoningItem') });
  });
});

describe('what the clients send back: their own earlier output, replayed as input', () => {
  const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
  const shell = () => responseShell('resp_1', 1, 'm', { model: 'm', input: 'Hi' } as unknown as ResponsesRequestBody, true);
  const citation = { type: 'url_citation', url_citation: { start_index: 0, end_index: 3, title: 'Yr', url: 'https://yr.no' } };

  it('a whole Response (text with a url citation and logprobs, a refusal, a function call) and a streamed one pass the check and map', async () => {
    const answer = {
      id: 'x', object: 'chat.completion', created: 1, model: 'm', usage,
      choices: [{ index: 0, finish_reason: 'tool_calls', logprobs: { content: [{ token: 'Hei', logprob: -0.1, bytes: [72], top_logprobs: [] }] }, message: { role: 'assistant', content: 'Hei', refusal: 'No', annotations: [citation], tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] } }],
    } as unknown as ChatCompletion;
    const whole = responseOfChat(shell(), answer, usage);
    const events: any[] = [];
    const stream = new ResponseEventStream(shell(), (e) => void events.push(e));
    await stream.start();
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }) as unknown as ChatCompletionChunk;
    for (const c of [chunk({ content: 'Hei' }), chunk({ annotations: [citation] }), chunk({ tool_calls: [{ index: 0, id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] }), chunk({}, 'tool_calls')]) await stream.chunk(c);
    const streamed = await stream.finish(usage);

    // JSON round trip: what a client holds is the JSON it got
    const replay = JSON.parse(JSON.stringify([
      { role: 'user', content: 'Weather?' }, ...whole.output, { type: 'function_call_output', call_id: 'call_1', output: '{}' },
      ...streamed.output, { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '{}' }] },
      ...events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item),
    ]));
    const req = { tools: [FN], input: replay.slice(0, -2) };
    expect(() => check(req)).not.toThrow();
    expect(() => check({ tools: [FN], input: replay.slice(-2) })).not.toThrow();
    expect(() => chatRequestOf({ model: 'm', ...req } as unknown as ResponsesRequestBody, [], inputItemsOf(req.input))).not.toThrow();
  });

  it('a Response with custom tool calls, whole and streamed, replayed with their outputs, passes the check and maps to chat custom calls', async () => {
    const customTool = { type: 'custom', name: 'sql', format: { type: 'grammar', definition: 'start: "SELECT 1"', syntax: 'lark' } };
    const answer = {
      id: 'x', object: 'chat.completion', created: 1, model: 'm', usage,
      choices: [{ index: 0, finish_reason: 'tool_calls', logprobs: null, message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }] } }],
    } as unknown as ChatCompletion;
    const whole = responseOfChat(shell(), answer, usage);
    const stream = new ResponseEventStream(shell(), () => undefined);
    await stream.start();
    await stream.chunk({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_2', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }] }, finish_reason: 'tool_calls' }] } as unknown as ChatCompletionChunk);
    const streamed = await stream.finish(usage);
    const replay = JSON.parse(JSON.stringify([
      { role: 'user', content: 'Count' }, ...whole.output, { type: 'custom_tool_call_output', call_id: 'call_1', output: '1' },
      ...streamed.output, { type: 'custom_tool_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '1' }] },
    ]));
    const req = { tools: [customTool], tool_choice: { type: 'custom', name: 'sql' }, input: replay };
    expect(() => check(req)).not.toThrow();
    const chat = chatRequestOf({ model: 'm', ...req } as unknown as ResponsesRequestBody, [], inputItemsOf(req.input)).body;
    expect(chat.tools).toEqual([{ type: 'custom', custom: { name: 'sql', format: { type: 'grammar', grammar: { definition: 'start: "SELECT 1"', syntax: 'lark' } } } }]);
    expect(chat.tool_choice).toEqual({ type: 'custom', custom: { name: 'sql' } });
    expect(chat.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '1' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_2', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }] },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '1' }] },
    ]);
  });

  it('input items as the gateway lists them (id, status, input_text parts) pass', () => {
    const items = JSON.parse(JSON.stringify(inputItemsOf([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hei' }, { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: 'x' }])));
    expect(items[1]).toMatchObject({ id: expect.stringMatching(/^msg_/), status: 'completed' });
    expect(() => check({ input: items })).not.toThrow();
  });
});
