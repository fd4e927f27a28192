import { describe, expect, it } from 'vitest';
import { answerExtras, isCallArguments, reasoningOf } from '../../../../lambdas/inference/chat/answer-texts.js';

describe('answerExtras: the texts of an answer beside its content that the output guardrail checks', () => {
  it('takes a legacy function_call\'s arguments (an upstream asked with the deprecated `functions`) as a text of its own, after the tool calls', () => {
    const extras = answerExtras([
      { message: { refusal: null, function_call: { name: 'send', arguments: '{"to":"a@example.com"}' } } },
      { message: { refusal: 'no', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }], function_call: { name: 'g', arguments: '' } } },
    ]);
    expect(extras).toEqual([
      { choice: 0, kind: 'function_call', text: '{"to":"a@example.com"}' },
      { choice: 1, kind: 'refusal', text: 'no' },
      { choice: 1, kind: 'arguments', text: '{}', call: 0 },
    ]);
    // Both kinds of call arguments must stay JSON once masked.
    expect(extras.map(isCallArguments)).toEqual([true, false, true]);
  });

  it('takes a custom tool call\'s input (free text, not JSON) as a text of its own, by the call\'s position; it need not stay JSON once masked', () => {
    const extras = answerExtras([{ message: { refusal: null, tool_calls: [
      { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
      { id: 'b', type: 'custom', custom: { name: 'shell', input: 'mail bob@example.com' } },
      { id: 'c', type: 'custom', custom: { name: 'shell', input: '' } },
    ] } }]);
    expect(extras).toEqual([{ choice: 0, kind: 'arguments', text: '{}', call: 0 }, { choice: 0, kind: 'input', text: 'mail bob@example.com', call: 1 }]);
    expect(extras.map(isCallArguments)).toEqual([true, false]);
  });

  it('gives the guardrail a call\'s arguments as the tool reads them: JSON escapes decoded (an address written bob\\u0040…), JSON\'s own spacing; not JSON, as they are', () => {
    const extras = answerExtras([{ message: { refusal: null, tool_calls: [
      { id: 'a', type: 'function', function: { name: 'send', arguments: '{ "to" : "bob\\u0040example.com", "n": 1 }' } },
      { id: 'b', type: 'function', function: { name: 'send', arguments: '{"to": "half' } },
    ], function_call: { name: 'g', arguments: '{"w":"b\\u006fmb"}' } } }]);
    expect(extras.map((e) => e.text)).toEqual(['{"to":"bob@example.com","n":1}', '{"to": "half', '{"w":"bomb"}']);
  });
});

describe('reasoningOf: a reasoning model\'s thinking, said once', () => {
  it('reads reasoning_content (vLLM before 0.9, DeepSeek) or reasoning (OpenRouter, vLLM since); the same text in both (vLLM\'s alias, mlx-vlm) counts once', () => {
    expect(reasoningOf({ reasoning_content: 'Hmm.' })).toBe('Hmm.');
    expect(reasoningOf({ reasoning: 'Hmm.' })).toBe('Hmm.');
    expect(reasoningOf({ reasoning_content: 'Hmm.', reasoning: 'Hmm.' })).toBe('Hmm.');
    expect(reasoningOf({ reasoning_content: 'A', reasoning: 'B' })).toBe('AB');
    expect(reasoningOf({ reasoning_content: null, reasoning: 5 })).toBe('');
    expect(reasoningOf(undefined)).toBe('');
  });
});
