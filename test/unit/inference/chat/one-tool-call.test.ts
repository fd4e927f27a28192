import type { ChatCompletion } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { firstToolCalls, oneToolCall } from '../../../../lambdas/inference/chat/one-tool-call.js';

const TOOL = { type: 'function' as const, function: { name: 'w', parameters: { type: 'object', properties: {} } } };
const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'w', arguments: '{}' } });
const answer = (calls: Array<ReturnType<typeof call>[]>): ChatCompletion => ({
  id: 'x', object: 'chat.completion', created: 1, model: 'm',
  choices: calls.map((c, index) => ({ index, message: { role: 'assistant', content: null, refusal: null, ...(c.length ? { tool_calls: c } : {}) }, finish_reason: 'tool_calls', logprobs: null })),
});

describe('oneToolCall', () => {
  it('is true only for parallel_tool_calls false with tools', () => {
    expect(oneToolCall({ parallel_tool_calls: false, tools: [TOOL] })).toBe(true);
    expect(oneToolCall({ parallel_tool_calls: true, tools: [TOOL] })).toBe(false);
    expect(oneToolCall({ tools: [TOOL] })).toBe(false);
    expect(oneToolCall({ parallel_tool_calls: false, tools: [] })).toBe(false);
  });
});

describe('firstToolCalls', () => {
  it('keeps each choice\'s first call (n = 2), the rest of the choice as it came, and counts the calls dropped', () => {
    const { answer: held, dropped } = firstToolCalls(answer([[call('a'), call('b'), call('c')], [call('d'), call('e')]]));
    expect(held.choices.map((c) => c.message.tool_calls)).toEqual([[call('a')], [call('d')]]);
    expect(held.choices.map((c) => c.finish_reason)).toEqual(['tool_calls', 'tool_calls']);
    expect(dropped).toBe(3);
  });

  it('returns an answer of at most one call per choice as it is', () => {
    const one = answer([[call('a')], []]);
    expect(firstToolCalls(one)).toEqual({ answer: one, dropped: 0 });
    expect(firstToolCalls(one).answer).toBe(one);
  });
});
