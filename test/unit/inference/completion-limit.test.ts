import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { RequestPipeline, tooLargeForModel, type PipelineRequest } from '../../../lambdas/inference/pipeline.js';
import { loadConfig } from '../../../lib/config/load-config.js';

// RequestPipeline.completionLimit: the caller's max_tokens / max_completion_tokens against the tenant's cap and the
// model's catalog maximum (maxOutputTokens), as OpenAI refuses a limit past the model's.
const MODEL: ModelEntry = { id: 'openai-compatible/default', upstream: 'default', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 200 };
const pipeline = new RequestPipeline(loadConfig(), {} as never, {} as never, (async () => undefined) as never);
const request = (maxTokens?: number) => ({ caller: { tenantId: 'acme' }, policy: { gateway: { maxTokens } } }) as unknown as PipelineRequest;
const thrown = (f: () => unknown): GatewayError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error('nothing thrown');
};

describe('the completion limit against the model\'s maximum', () => {
  it.each(['max_tokens', 'max_completion_tokens'] as const)('%s over the model\'s maximum is OpenAI\'s 400 invalid_value naming it, not a silent cut', (field) => {
    const e = thrown(() => pipeline.completionLimit(request(), MODEL, { [field]: 1e9 }));
    expect(e).toMatchObject({ status: 400, param: field, code: 'invalid_value', type: 'invalid_request_error' });
    expect(e.message).toBe(`${field} is too large: 1000000000. This model supports at most 200 completion tokens, whereas you provided 1000000000.`);
  });

  it('at the maximum it is taken; the other field over it is still refused', () => {
    expect(pipeline.completionLimit(request(), MODEL, { max_tokens: 200 })).toEqual({ add: undefined, reserve: 200, minute: 200 });
    expect(thrown(() => pipeline.completionLimit(request(), MODEL, { max_completion_tokens: 10, max_tokens: 201 })).param).toBe('max_tokens');
  });

  it('the tenant\'s cap is checked first (its message says the tighter bound)', () => {
    expect(thrown(() => pipeline.completionLimit(request(50), MODEL, { max_tokens: 1e9 }))).toMatchObject({ param: 'max_tokens', code: 'max_tokens_exceeded' });
  });

  it('a tenant cap above the model\'s maximum is sent as the maximum when the caller sent no limit (an upstream refuses more)', () => {
    expect(pipeline.completionLimit(request(8192), MODEL, {})).toEqual({ add: 200, reserve: 200, minute: 200 });
    expect(pipeline.completionLimit(request(100), MODEL, {})).toEqual({ add: 100, reserve: 100, minute: 100 });
    // Neither the caller nor a cap: the budgets reserve the model's maximum, tokens per minute count none (OpenAI's TPM
    // counts max_tokens only when sent).
    expect(pipeline.completionLimit(request(), MODEL, {})).toEqual({ add: undefined, reserve: 200, minute: 0 });
    // A caller's limit between the model's maximum and the cap is the model's refusal.
    expect(thrown(() => pipeline.completionLimit(request(8192), MODEL, { max_completion_tokens: 4096 }))).toMatchObject({ param: 'max_completion_tokens', code: 'invalid_value' });
  });

  it('/v1/responses says output tokens, naming max_output_tokens', () => {
    expect(tooLargeForModel('max_output_tokens', 5000, 4096, 'output').message).toBe('max_output_tokens is too large: 5000. This model supports at most 4096 output tokens, whereas you provided 5000.');
  });
});
