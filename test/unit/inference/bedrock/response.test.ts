import { describe, expect, it } from 'vitest';
import { chatCompletion } from '../../../../lambdas/inference/providers/bedrock/response.js';
import { logSpy } from '../../../support/service-log.js';

const meta = { id: 'chatcmpl-req-1', created: 1_700_000_000, model: 'anthropic.claude-sonnet' };
const usage = { inputTokens: 12, outputTokens: 3, totalTokens: 15 };
const usageOut = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } };

describe('chatCompletion', () => {
  it('maps a text answer', () => {
    expect(chatCompletion({ output: { message: { role: 'assistant', content: [{ text: 'Hel' }, { text: 'lo' }] } }, stopReason: 'end_turn', usage, metrics: { latencyMs: 1 } }, meta)).toEqual({
      id: 'chatcmpl-req-1', object: 'chat.completion', created: 1_700_000_000, model: 'anthropic.claude-sonnet',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: usageOut,
    });
  });

  it('maps tool calls, content null when there is no text, and the service tier', () => {
    expect(chatCompletion({
      output: { message: { role: 'assistant', content: [
        { reasoningContent: { reasoningText: { text: 'thinking' } } },
        { toolUse: { toolUseId: 'tooluse_1', name: 'weather', input: { city: 'Oslo' } } },
        { toolUse: { toolUseId: 'tooluse_2', name: 'weather', input: { city: 'Rome' } } },
      ] } },
      stopReason: 'tool_use', usage, metrics: { latencyMs: 1 }, serviceTier: { type: 'priority' },
    }, meta)).toEqual({
      id: 'chatcmpl-req-1', object: 'chat.completion', created: 1_700_000_000, model: 'anthropic.claude-sonnet',
      choices: [{
        index: 0,
        message: { role: 'assistant', content: null, refusal: null, tool_calls: [
          { id: 'tooluse_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'tooluse_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ] },
        finish_reason: 'tool_calls', logprobs: null,
      }],
      usage: usageOut, service_tier: 'priority',
    });
  });

  it('keeps the first tool call only for parallel_tool_calls false (oneToolCall), text, finish_reason and usage unchanged, and logs the count dropped', () => {
    const info = logSpy('tessera-gateway', 'info');
    try {
      const out = chatCompletion({
        output: { message: { role: 'assistant', content: [
          { text: 'Checking.' },
          { toolUse: { toolUseId: 'tooluse_1', name: 'weather', input: { city: 'Oslo' } } },
          { toolUse: { toolUseId: 'tooluse_2', name: 'weather', input: { city: 'Rome' } } },
          { toolUse: { toolUseId: 'tooluse_3', name: 'time', input: {} } },
        ] } },
        stopReason: 'tool_use', usage, metrics: { latencyMs: 1 },
      }, meta, true);
      expect(out.choices).toEqual([{
        index: 0,
        message: { role: 'assistant', content: 'Checking.', refusal: null, tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
        finish_reason: 'tool_calls', logprobs: null,
      }]);
      expect(out.usage).toEqual(usageOut);
      expect(info).toHaveBeenCalledTimes(1);
      expect(info.lines()[0]).toMatchObject({ level: 'INFO', model: 'anthropic.claude-sonnet', kept: 'weather', dropped: 2 });
      info.mockClear();
      const single = chatCompletion({ output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 't', name: 'f', input: {} } }] } }, stopReason: 'tool_use', usage, metrics: undefined }, meta, true);
      expect(single.choices[0].message.tool_calls).toHaveLength(1);
      expect(info).not.toHaveBeenCalled();
    } finally {
      info.mockRestore();
    }
  });

  it('keeps text next to tool calls, and an empty answer as ""', () => {
    const both = chatCompletion({ output: { message: { role: 'assistant', content: [{ text: 'Checking.' }, { toolUse: { toolUseId: 't', name: 'f', input: {} } }] } }, stopReason: 'tool_use', usage: undefined, metrics: undefined }, meta);
    expect(both.choices[0].message).toEqual({ role: 'assistant', content: 'Checking.', refusal: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] });
    expect(both.usage).toBeUndefined();
    const empty = chatCompletion({ output: { message: { role: 'assistant', content: [] } }, stopReason: 'max_tokens', usage, metrics: undefined }, meta);
    expect(empty.choices[0]).toEqual({ index: 0, message: { role: 'assistant', content: '', refusal: null }, finish_reason: 'length', logprobs: null });
  });
});
