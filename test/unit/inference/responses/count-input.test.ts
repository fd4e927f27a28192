import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { checkCountFields, messagesToItems } from '../../../../lambdas/inference/responses/count-input.js';

describe('checkCountFields', () => {
  it('takes InputTokenCountParams\' fields and refuses any other, naming it', () => {
    expect(() => checkCountFields({ model: 'm', input: 'hi', instructions: 'x', tools: [], tool_choice: 'auto', previous_response_id: 'resp_1', conversation: 'conv_1', text: {}, reasoning: {}, truncation: 'disabled', parallel_tool_calls: true })).not.toThrow();
    for (const field of ['stream', 'store', 'max_output_tokens', 'temperature', 'background']) {
      const e = (() => {
        try {
          checkCountFields({ input: 'hi', [field]: 1 });
          return undefined;
        } catch (x) {
          return x;
        }
      })();
      expect(e, field).toBeInstanceOf(GatewayError);
      expect(e, field).toMatchObject({ status: 400, param: field, code: 'unknown_parameter' });
    }
  });
});

describe('messagesToItems', () => {
  it('makes Responses input items of chat messages: text and parts, an assistant\'s tool calls, tool results', () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Tenant rules.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }, { id: 'call_2', type: 'custom', custom: { name: 'shell', input: 'ls' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'a ' }, { type: 'text', text: 'cat' }] },
      { role: 'tool', tool_call_id: 'call_2', content: 'file.txt' },
      { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }] },
    ];
    expect(messagesToItems(messages)).toEqual([
      { type: 'message', role: 'system', content: 'Tenant rules.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }] },
      { type: 'message', role: 'assistant', content: 'Let me check.' },
      { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' },
      { type: 'custom_tool_call', call_id: 'call_2', name: 'shell', input: 'ls' },
      { type: 'function_call_output', call_id: 'call_1', output: 'a cat' },
      { type: 'custom_tool_call_output', call_id: 'call_2', output: 'file.txt' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A cat.', annotations: [] }] },
    ]);
  });
});
