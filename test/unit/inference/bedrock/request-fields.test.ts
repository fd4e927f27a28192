import { describe, expect, it } from 'vitest';
import { checkRequestFields } from '../../../../lambdas/inference/providers/bedrock/request-fields.js';
import { body, expectUnsupported, thrown } from './refusal.js';

describe('checkRequestFields', () => {
  it('passes the fields other rules map and the gateway’s own', () => {
    expect(() => checkRequestFields(body({
      stream: true, stream_options: { include_usage: true }, max_completion_tokens: 5, max_tokens: 5, temperature: 0.5, top_p: 0.9, stop: 'x',
      tools: [], tool_choice: 'auto', parallel_tool_calls: true, response_format: { type: 'text' }, reasoning_effort: 'low',
      service_tier: 'auto', user: 'u', metadata: {}, safety_identifier: 's',
    }))).not.toThrow();
  });

  it('accepts the values equal to OpenAI’s defaults, and null for anything', () => {
    expect(() => checkRequestFields(body({
      n: 1, logprobs: false, top_logprobs: 0, logit_bias: {}, frequency_penalty: 0, presence_penalty: 0, store: false, modalities: ['text'], verbosity: 'medium',
      seed: null, audio: null, prediction: null, web_search_options: null, top_k: null,
    }))).not.toThrow();
  });

  it.each([
    ['n', 2], ['logprobs', true], ['top_logprobs', 3], ['logit_bias', { 50256: -100 }], ['seed', 7],
    ['frequency_penalty', 0.5], ['presence_penalty', -0.2], ['prediction', { type: 'content', content: 'x' }],
    ['audio', { voice: 'alloy', format: 'mp3' }], ['modalities', ['text', 'audio']], ['web_search_options', {}],
    ['store', true], ['verbosity', 'low'], ['moderation', { model: 'omni-moderation-latest' }],
    ['prompt_cache_key', 'k'], ['prompt_cache_options', { mode: 'explicit' }], ['prompt_cache_retention', '24h'],
    ['functions', [{ name: 'f', parameters: {} }]], ['function_call', 'auto'],
  ])('refuses %s = %j naming it', (field, value) => {
    const e = expectUnsupported(() => checkRequestFields(body({ [field]: value })), field);
    expect(e.message).toMatch(new RegExp(`^${field} is not supported by the bedrock provider: `));
  });

  it('takes stream_options.include_obfuscation false or null; refuses it true, and any key OpenAI does not define, naming stream_options.<key>', () => {
    expect(() => checkRequestFields(body({ stream: true, stream_options: { include_usage: false, include_obfuscation: false } }))).not.toThrow();
    expect(() => checkRequestFields(body({ stream: true, stream_options: { include_obfuscation: null, continuous_usage_stats: null } }))).not.toThrow();
    const padded = expectUnsupported(() => checkRequestFields(body({ stream: true, stream_options: { include_usage: true, include_obfuscation: true } })), 'stream_options.include_obfuscation');
    expect(padded.message).toMatch(/^stream_options\.include_obfuscation is not supported by the bedrock provider: .*no obfuscation padding/);
    expectUnsupported(() => checkRequestFields(body({ stream: true, stream_options: { continuous_usage_stats: true } })), 'stream_options.continuous_usage_stats');
  });

  // OpenAI's words, param and code for a field it does not know (pydantic/pydantic-ai#3653), as /v1/responses answers one;
  // they were `top_k is not supported by the bedrock provider: …`, code unsupported_parameter.
  it('refuses fields OpenAI does not define, top_k included, in OpenAI\'s words for an unknown field: code unknown_parameter', () => {
    const topK = expectUnsupported(() => checkRequestFields(body({ top_k: 40 })), 'top_k');
    expect(topK.details.code).toBe('unknown_parameter');
    expect(topK.message).toBe("Unknown parameter: 'top_k'. Not a field of OpenAI chat completions, and Converse has no place to forward it (the bedrock provider)");
    expect(expectUnsupported(() => checkRequestFields(body({ repetition_penalty: 1.1 })), 'repetition_penalty').details.code).toBe('unknown_parameter');
    const usageStats = expectUnsupported(() => checkRequestFields(body({ stream: true, stream_options: { continuous_usage_stats: true } })), 'stream_options.continuous_usage_stats');
    expect([usageStats.details.code, usageStats.message.startsWith("Unknown parameter: 'stream_options.continuous_usage_stats'. ")]).toEqual(['unknown_parameter', true]);
    // A field OpenAI defines that Converse cannot honour stays unsupported_parameter.
    expect(expectUnsupported(() => checkRequestFields(body({ seed: 1 })), 'seed').details.code).toBe('unsupported_parameter');
  });

  it('names a key of 10,000 characters cut, in the message and in param', () => {
    const e = thrown(() => checkRequestFields(body({ ['k'.repeat(10_000)]: 1 })));
    expect(e.details.code).toBe('unknown_parameter');
    expect(String(e.details.param).length).toBeLessThan(200);
    expect(e.message.length).toBeLessThan(400);
  });
});
