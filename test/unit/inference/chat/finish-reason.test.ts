import { describe, expect, it } from 'vitest';
import { normaliseFinishReason } from '../../../../lambdas/inference/chat/finish-reason.js';

describe('finish reasons in OpenAI\'s set, whatever server answered', () => {
  it.each([
    ['stop', 'stop'], ['eos_token', 'stop'], ['stop_sequence', 'stop'], ['end_turn', 'stop'], ['abort', 'stop'],
    ['length', 'length'], ['max_tokens', 'length'], ['model_length', 'length'],
    ['tool_calls', 'tool_calls'], ['tool_use', 'tool_calls'],
    ['content_filter', 'content_filter'], ['SAFETY', 'content_filter'],
    ['function_call', 'function_call'], ['something_new', 'stop'],
  ])('%s → %s', (upstream, openai) => expect(normaliseFinishReason(upstream)).toBe(openai));

  it('keeps a chunk that does not finish its choice unfinished', () => {
    expect(normaliseFinishReason(null)).toBeNull();
    expect(normaliseFinishReason(undefined)).toBeNull();
  });
});
