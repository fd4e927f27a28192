import { describe, expect, it } from 'vitest';
import { inferenceConfig } from '../../../../lambdas/inference/providers/bedrock/inference-config.js';
import { body, expectUnsupported } from './refusal.js';

describe('inferenceConfig', () => {
  it('maps the limit, sampling and stop sequences', () => {
    expect(inferenceConfig(body({ max_completion_tokens: 300, temperature: 0.2, top_p: 0.9, stop: ['END', '###'] })))
      .toEqual({ maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END', '###'] });
  });

  it('takes a single stop string as one sequence and the deprecated max_tokens', () => {
    expect(inferenceConfig(body({ max_tokens: 50, stop: 'END' }))).toEqual({ maxTokens: 50, stopSequences: ['END'] });
  });

  it('refuses an empty stop sequence, naming it (Converse: stopSequences members have a minimum length of 1)', () => {
    expect(expectUnsupported(() => inferenceConfig(body({ stop: '' })), 'stop').message).toMatch(/at least one character/);
    expectUnsupported(() => inferenceConfig(body({ stop: ['END', ''] })), 'stop[1]');
    expect(inferenceConfig(body({ stop: [] }))).toEqual({ stopSequences: [] });
    expect(inferenceConfig(body({ stop: [' '] }))).toEqual({ stopSequences: [' '] });
  });

  it('with both limits sent, sends the lower: the limit the gateway holds each choice to (chat/output-limit.ts)', () => {
    expect(inferenceConfig(body({ max_tokens: 50, max_completion_tokens: 70 }))).toEqual({ maxTokens: 50 });
    expect(inferenceConfig(body({ max_tokens: 70, max_completion_tokens: 50 }))).toEqual({ maxTokens: 50 });
    expect(inferenceConfig(body({ max_tokens: null, max_completion_tokens: 50 }))).toEqual({ maxTokens: 50 });
  });

  it('sends nothing when nothing was sent (no limit means the model’s own), null included', () => {
    expect(inferenceConfig(body())).toBeUndefined();
    expect(inferenceConfig(body({ max_tokens: null, temperature: null, top_p: null, stop: null }))).toBeUndefined();
  });

  it('keeps temperature 0 and refuses temperatures Converse cannot take', () => {
    expect(inferenceConfig(body({ temperature: 0 }))).toEqual({ temperature: 0 });
    expectUnsupported(() => inferenceConfig(body({ temperature: 1.5 })), 'temperature');
  });
});
