import { describe, expect, it } from 'vitest';
import { inputItemsOf } from '../../../../lambdas/inference/responses/input-items.js';
import { inputPartToChat, itemsToMessages } from '../../../../lambdas/inference/responses/items-to-messages.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';
const messagesOf = (input: Parameters<typeof inputItemsOf>[0]) => itemsToMessages(inputItemsOf(input));

/** The 400 a call throws: its param and code. */
function refusal(f: () => unknown): { param: string | null; code: string; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    const g = e as GatewayError;
    expect(g.status).toBe(400);
    return { param: g.param, code: g.code, message: g.message };
  }
  throw new Error('expected a 400');
}

describe('input items → chat messages', () => {
  it('a string input is one user message with a text part', () => {
    expect(messagesOf('Hi')).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  it('messages keep their role: user, system, developer (text parts), assistant (content)', () => {
    expect(messagesOf([
      { role: 'system', content: 'Be terse.' },
      { role: 'developer', content: [{ type: 'input_text', text: 'Answer in Norwegian.' }] },
      { type: 'message', role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hei.' },
    ])).toEqual([
      { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in Norwegian.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: 'Hei.' },
    ]);
  });

  it('an output message sent back (output_text and refusal parts) is an assistant message with content and refusal', () => {
    expect(messagesOf([{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Part one. ', annotations: [] }, { type: 'refusal', refusal: 'No more.' }] }]))
      .toEqual([{ role: 'assistant', content: 'Part one. ', refusal: 'No more.' }]);
  });

  it('input_image with a data URL and detail is an image_url part; input_file with file_data is a file part', () => {
    expect(inputPartToChat({ type: 'input_image', image_url: PNG, detail: 'low' }, 'p')).toEqual({ type: 'image_url', image_url: { url: PNG, detail: 'low' } });
    // `original` too: chat-completions takes it since openai 7.x (ChatCompletionContentPartImage.ImageURL.detail).
    expect(inputPartToChat({ type: 'input_image', image_url: PNG, detail: 'original' }, 'p')).toEqual({ type: 'image_url', image_url: { url: PNG, detail: 'original' } });
    expect(inputPartToChat({ type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' }, 'p')).toEqual({ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } });
  });

  it.each([
    [{ type: 'input_image', file_id: 'file-1' }, 'input[0].content[0].file_id'],
    [{ type: 'input_image', image_url: 'http://169.254.169.254/latest' }, 'input[0].content[0].image_url'],
    [{ type: 'input_file', file_url: 'https://example.com/a.pdf' }, 'input[0].content[0].file_url'],
    [{ type: 'input_file', file_id: 'file-1' }, 'input[0].content[0].file_id'],
    [{ type: 'input_audio', data: 'x' }, 'input[0].content[0].type'],
  ])('a part it cannot serve is a 400 naming its path: %j', (part, param) => {
    expect(refusal(() => messagesOf([{ role: 'user', content: [part] }])).param).toBe(param);
  });

  it.each([
    ['an assistant input_text', { role: 'assistant', content: [{ type: 'input_text', text: 'hi' }] }, 'input_text', /supported values are output_text, refusal; input_text is a part of a user, system or developer message/],
    ['an assistant input_image', { role: 'assistant', content: [{ type: 'input_image', image_url: PNG }] }, 'input_image', /supported values are output_text, refusal/],
    ['a user output_text', { role: 'user', content: [{ type: 'output_text', text: 'hi' }] }, 'output_text', /supported values are input_text, input_image, input_file; output_text is a part of an assistant message/],
    ['a user refusal', { role: 'user', content: [{ type: 'refusal', refusal: 'no' }] }, 'refusal', /supported values are input_text, input_image, input_file/],
    ['a system output_text', { role: 'system', content: [{ type: 'output_text', text: 'hi' }] }, 'output_text', /not a part of a system message: supported values are input_text/],
    ['a developer refusal', { role: 'developer', content: [{ type: 'refusal', refusal: 'no' }] }, 'refusal', /not a part of a developer message/],
  ])("%s is a 400 naming input[1].content[0].type, as OpenAI refuses it (s23resp2 item 3)", (_what, message, type, why) => {
    const r = refusal(() => messagesOf([{ role: 'user', content: 'Hi' }, message]));
    expect(r).toMatchObject({ param: 'input[1].content[0].type', code: 'invalid_value' });
    expect(r.message).toContain(`input[1].content[0].type '${type}'`);
    expect(r.message).toMatch(why);
  });

  it('a system message with an image is a 400 (chat system messages carry text only)', () => {
    expect(refusal(() => messagesOf([{ role: 'system', content: [{ type: 'input_image', image_url: PNG }] }])).param).toBe('input[0].content[0].type');
  });

  it('function_call items become one assistant turn with tool_calls (id = call_id), merged with the assistant message before them', () => {
    expect(messagesOf([
      { role: 'user', content: 'Weather in Oslo and Rome?' },
      { role: 'assistant', content: 'Checking both.' },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
      { type: 'function_call_output', call_id: 'call_1', output: '3 °C' },
      { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '18 °C' }] },
    ])).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and Rome?' }] },
      {
        role: 'assistant', content: 'Checking both.', tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '3 °C' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '18 °C' }] },
    ]);
  });

  it('function calls after a tool message start a new assistant turn', () => {
    const out = messagesOf([
      { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'a', output: '1' },
      { type: 'function_call', call_id: 'b', name: 'f', arguments: '{}' },
    ]);
    expect(out.map((m) => m.role)).toEqual(['assistant', 'tool', 'assistant']);
  });

  it('a function_call_output with text, an image and a file is a tool message with those parts (the provider decides: providers/tool-message-parts.ts)', () => {
    const output = [{ type: 'input_text', text: 'Chart:' }, { type: 'input_image', image_url: PNG, detail: 'high' }, { type: 'input_file', file_data: 'data:application/pdf;base64,JVBERg==', filename: 'c.pdf' }];
    expect(messagesOf([{ type: 'function_call_output', call_id: 'a', output }])).toEqual([{
      role: 'tool', tool_call_id: 'a',
      content: [{ type: 'text', text: 'Chart:' }, { type: 'image_url', image_url: { url: PNG, detail: 'high' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERg==', filename: 'c.pdf' } }],
    }]);
  });

  it.each([
    [{ type: 'input_image', file_id: 'file-1' }, 'input[0].output[0].file_id'],
    [{ type: 'input_image', image_url: 'http://169.254.169.254/latest' }, 'input[0].output[0].image_url'],
    [{ type: 'input_file', file_url: 'https://example.org/a.pdf' }, 'input[0].output[0].file_url'],
    [{ type: 'output_text', text: 'x' }, 'input[0].output[0].type'],
  ])('a function_call_output part the mapping refuses is a 400 naming it: %j', (part, param) => {
    expect(refusal(() => messagesOf([{ type: 'function_call_output', call_id: 'a', output: [part] }])).param).toBe(param);
  });

  it('a reasoning item (the gateway\'s own output, replayed) makes no message and does not split the assistant turn around it', () => {
    expect(messagesOf([
      { role: 'user', content: 'Weather?' },
      { type: 'reasoning', id: 'rs_1', summary: [], content: [{ type: 'reasoning_text', text: 'I should call the tool.' }] },
      { role: 'assistant', content: 'Checking.' },
      { type: 'reasoning', id: 'rs_2', summary: [] },
      { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
    ])).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });

  it.each([
    ['item_reference', { type: 'item_reference', id: 'msg_1' }],
    ['web_search_call', { type: 'web_search_call', id: 'ws_1', status: 'completed' }],
  ])('a %s item is a 400 naming input[i].type', (_type, item) => {
    const r = refusal(() => messagesOf([{ role: 'user', content: 'Hi' }, item as Record<string, unknown>]));
    expect(r).toMatchObject({ param: 'input[1].type', code: 'unsupported_parameter' });
  });

  it('a file_search_call item (the gateway\'s file_search tool, replayed) is the search call and its results, or a note that they were not sent back', () => {
    const results = [{ file_id: 'file-1', filename: 'refunds.md', score: 0.9, attributes: null, text: 'Refunds take 14 days.' }];
    expect(messagesOf([{ role: 'user', content: 'refunds?' }, { type: 'file_search_call', id: 'fs_1', status: 'completed', queries: ['refunds'], results } as Record<string, unknown>])).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'refunds?' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'fs_1', type: 'function', function: { name: 'file_search', arguments: '{"queries":["refunds"]}' } }] },
      { role: 'tool', tool_call_id: 'fs_1', content: expect.stringContaining('filename="refunds.md" file_id="file-1"') },
    ]);
    expect(messagesOf([{ type: 'file_search_call', id: 'fs_2', status: 'completed', queries: ['x'], results: null } as Record<string, unknown>])[1]).toMatchObject({ role: 'tool', tool_call_id: 'fs_2', content: expect.stringMatching(/not sent back/) });
    expect(refusal(() => messagesOf([{ type: 'file_search_call', id: 'fs_3', queries: 'x' } as Record<string, unknown>]))).toMatchObject({ param: 'input[0].queries' });
  });

  it('says a hosted tool\'s item belongs to the hosted tools, and an unknown type is not an item type (found by the hostile test)', () => {
    expect(refusal(() => messagesOf([{ type: 'web_search_call', id: 'ws_1' }])).message).toMatch(/hosted tools/);
    const unknown = refusal(() => messagesOf([{ type: 'banana' }]));
    expect(unknown).toMatchObject({ param: 'input[0].type' });
    expect(unknown.message).toMatch(/'banana' is not an input item type this gateway serves \(message, function_call, function_call_output, custom_tool_call, custom_tool_call_output\)/);
  });

  it('custom_tool_call items are chat custom tool calls joining the assistant turn; custom_tool_call_output items are tool messages', () => {
    expect(messagesOf([
      { role: 'user', content: 'Count rows, then check the weather' },
      { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_sql', name: 'sql', input: 'SELECT count(*) FROM t', status: 'completed' },
      { type: 'function_call', call_id: 'call_w', name: 'get_weather', arguments: '{}' },
      { type: 'custom_tool_call_output', call_id: 'call_sql', output: '42' },
      { type: 'function_call_output', call_id: 'call_w', output: 'sunny' },
      { type: 'custom_tool_call_output', call_id: 'call_sql', output: [{ type: 'input_text', text: 'again: ' }, { type: 'input_image', image_url: PNG }] },
    ])).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Count rows, then check the weather' }] },
      {
        role: 'assistant', content: null, tool_calls: [
          { id: 'call_sql', type: 'custom', custom: { name: 'sql', input: 'SELECT count(*) FROM t' } },
          { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_sql', content: '42' },
      { role: 'tool', tool_call_id: 'call_w', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_sql', content: [{ type: 'text', text: 'again: ' }, { type: 'image_url', image_url: { url: PNG } }] },
    ]);
  });

  it.each([
    [{ type: 'custom_tool_call', call_id: 'c', name: 'sql' }, 'input[0].input'],
    [{ type: 'custom_tool_call', call_id: 'c', input: 'x' }, 'input[0].name'],
    [{ type: 'custom_tool_call', name: 'sql', input: 'x' }, 'input[0].call_id'],
    [{ type: 'custom_tool_call_output', call_id: 'c', output: 3 }, 'input[0].output'],
    [{ type: 'custom_tool_call_output', call_id: 'c', output: [{ type: 'output_text', text: 'x' }] }, 'input[0].output[0].type'],
  ])('a custom tool item the mapping cannot carry is a 400 naming the field: %j', (item, param) => {
    expect(refusal(() => messagesOf([item])).param).toBe(param);
  });
});

describe('input items as kept for input_items', () => {
  it('each item gets an id (msg_, fc_, fco_) and status completed unless it had them; string contents become parts', () => {
    const items = inputItemsOf([
      { role: 'user', content: 'Hi' },
      { type: 'function_call', id: 'fc_mine', call_id: 'c', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c', output: 'x' },
      { role: 'assistant', content: 'Hei' },
      { type: 'custom_tool_call', call_id: 'd', name: 'sql', input: 'x' },
      { type: 'custom_tool_call_output', call_id: 'd', output: 'y' },
    ]);
    expect(items[4]).toMatchObject({ id: expect.stringMatching(/^ctc_[0-9a-f]{48}$/), status: 'completed' });
    expect(items[5]).toMatchObject({ id: expect.stringMatching(/^ctco_[0-9a-f]{48}$/), status: 'completed' });
    expect(items[0]).toEqual({ id: expect.stringMatching(/^msg_[0-9a-f]{48}$/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Hi' }] });
    expect(items[1].id).toBe('fc_mine');
    expect(items[2]).toMatchObject({ id: expect.stringMatching(/^fco_/), status: 'completed' });
    expect(items[3].content).toEqual([{ type: 'output_text', text: 'Hei', annotations: [] }]);
  });
});
