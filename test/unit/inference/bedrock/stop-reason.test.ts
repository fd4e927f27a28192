import { describe, expect, it } from 'vitest';
import { finishReason } from '../../../../lambdas/inference/providers/bedrock/stop-reason.js';
import { thrown } from './refusal.js';

describe('finishReason', () => {
  it.each([
    ['end_turn', 'stop'], ['stop_sequence', 'stop'], ['max_tokens', 'length'], ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'], ['content_filtered', 'content_filter'], ['guardrail_intervened', 'content_filter'],
  ])('maps %s to %s', (reason, finish) => {
    expect(finishReason(reason)).toBe(finish);
  });

  it('fails on malformed output (retryable) and on a reason it does not know, never making one up', () => {
    expect(thrown(() => finishReason('malformed_tool_use'))).toMatchObject({ status: 502, retryable: true, details: { code: 'malformed_tool_use' } });
    expect(thrown(() => finishReason('malformed_model_output'))).toMatchObject({ status: 502, retryable: true });
    expect(thrown(() => finishReason('brand_new_reason'))).toMatchObject({ status: 502, retryable: false, details: { code: 'unknown_stop_reason' } });
    expect(thrown(() => finishReason(undefined))).toMatchObject({ status: 502 });
  });
});
