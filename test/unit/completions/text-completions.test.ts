import { describe, expect, it } from 'vitest';
import { ModelEntrySchema } from '../../../lib/config/schema.js';
import { completionReservation, guardCompletionInput } from '../../../lambdas/inference/completions/prompts.js';
import { checkBestOf, CompletionRequest } from '../../../lambdas/inference/completions/request-schema.js';
import type { PipelineRequest, RequestPipeline } from '../../../lambdas/inference/pipeline.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';

const entry = (id: string) => ({ id, upstream: 'u', kind: 'completion', inputPricePer1k: 0.0015, outputPricePer1k: 0.002 });

describe('kind: completion in the model catalog', () => {
  it('is allowed for the openai and openai-compatible providers', () => {
    for (const id of ['openai/gpt-3.5-turbo-instruct', 'openai-compatible/my-base-model']) expect(ModelEntrySchema.safeParse(entry(id)).success).toBe(true);
  });

  it('is refused for bedrock, huggingface and sagemaker, the issue at the path kind naming the id', () => {
    for (const id of ['bedrock/amazon.titan-text-express-v1', 'huggingface/gpt2', 'sagemaker/ft:nova:acme:support']) {
      const parsed = ModelEntrySchema.safeParse(entry(id));
      expect(parsed.success).toBe(false);
      const issue = parsed.error!.issues.find((i) => i.path.join('.') === 'kind')!;
      expect(issue.message).toContain(`"completion" for "${id}"`);
      expect(issue.message).toContain('openai and openai-compatible providers only');
    }
  });
});

describe('completionReservation: prompt tokens + max_tokens (16 by default) × max(n, best_of) per prompt', () => {
  const count = (t: string) => t.length; // a stand-in counter: one token per character
  it('a string prompt', () => {
    expect(completionReservation({ prompt: 'abcd' }, count)).toEqual({ prompt: 4, completion: 16, choices: 1 });
  });
  it('an array of strings: each prompt counted, n choices per prompt; the suffix counted once per prompt', () => {
    expect(completionReservation({ prompt: ['ab', 'cde'], n: 2, max_tokens: 10, suffix: 'x' }, count)).toEqual({ prompt: 2 + 1 + 3 + 1, completion: 10 * 2 * 2, choices: 4 });
  });
  it('token ids (one prompt) by their length; best_of above n reserves best_of', () => {
    expect(completionReservation({ prompt: [5, 6, 7], n: 1, best_of: 3, max_tokens: 4 }, count)).toEqual({ prompt: 3, completion: 12, choices: 3 });
  });
  it('token-id arrays (several prompts) by their lengths', () => {
    expect(completionReservation({ prompt: [[1, 2], [3, 4, 5, 6]], max_tokens: 2 }, count)).toEqual({ prompt: 6, completion: 4, choices: 2 });
  });
  it('null is one empty prompt; the caller-set limit may be replaced by the capped one', () => {
    expect(completionReservation({ prompt: null, max_tokens: 1000 }, count, 256)).toEqual({ prompt: 0, completion: 256, choices: 1 });
  });
});

describe('CompletionRequest', () => {
  it('names the bad field: prompt missing, logprobs over 5, best_of over 20', () => {
    for (const [body, path] of [[{ model: 'm' }, 'prompt'], [{ model: 'm', prompt: 'x', logprobs: 6 }, 'logprobs'], [{ model: 'm', prompt: 'x', best_of: 21 }, 'best_of']] as const) {
      const parsed = CompletionRequest.safeParse(body);
      expect(parsed.success).toBe(false);
      expect(parsed.error!.issues[0].path).toEqual([path]);
    }
  });
  it('keeps fields it does not read (a vLLM server\'s own)', () => {
    expect(CompletionRequest.parse({ model: 'm', prompt: 'x', min_tokens: 2 })).toMatchObject({ min_tokens: 2 });
  });
});

// s31l: best_of: 2, n: 3 (and best_of with stream: true) were relayed.
describe('checkBestOf: OpenAI\'s best_of rules', () => {
  const refusal = (body: Parameters<typeof checkBestOf>[0]) => { try { checkBestOf(body); } catch (e) { return e as GatewayError; } return undefined; };
  it('fewer candidates than n is a 400 naming best_of and both values', () => {
    expect(refusal({ best_of: 2, n: 3 })).toMatchObject({ status: 400, param: 'best_of', code: 'invalid_value', message: expect.stringMatching(/^best_of is 2 and n is 3; best_of must be greater than or equal to n/) });
  });
  it('best_of over 1 streamed is a 400 naming best_of', () => {
    expect(refusal({ best_of: 2, stream: true })).toMatchObject({ status: 400, param: 'best_of', message: expect.stringContaining('cannot be streamed') });
  });
  it('best_of equal to n, above n, 1 streamed, or absent: accepted', () => {
    for (const body of [{ best_of: 3, n: 3 }, { best_of: 4, n: 2 }, { best_of: 1, stream: true }, { n: 5, stream: true }, { best_of: null, n: 2 }]) expect(refusal(body)).toBeUndefined();
  });
});

describe('guardCompletionInput', () => {
  const request = (guardrails: Record<string, unknown>) => ({
    caller: { tenantId: 'acme' }, audit: {}, policy: { gateway: { guardrails: { redactPii: false, promptInjectionScreen: false, ...guardrails }, auditPromptText: false } },
  }) as unknown as PipelineRequest;
  const pipeline = { applyGuardrail: async () => ({ blocked: false }) } as unknown as RequestPipeline;

  it('refuses a token-id prompt with a 400 naming prompt when a guardrail would need to read it', async () => {
    for (const guardrails of [{ redactPii: true }, { promptInjectionScreen: true }, { bedrockGuardrailId: 'gr-1' }]) {
      const e = await guardCompletionInput(pipeline, request(guardrails), { model: 'm', prompt: [[1, 2]] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GatewayError);
      expect(e).toMatchObject({ status: 400, param: 'prompt', code: 'unscreenable_input' });
    }
  });

  it('passes a token-id prompt untouched when no guardrail applies', async () => {
    const body = { model: 'm', prompt: [1, 2, 3] };
    expect(await guardCompletionInput(pipeline, request({}), body)).toBe(body);
  });

  it('redacts each prompt string and the suffix', async () => {
    const out = await guardCompletionInput(pipeline, request({ redactPii: true }), { model: 'm', prompt: ['mail ada@example.com', 'ok'], suffix: 'call 555-123-4567' });
    expect(JSON.stringify(out)).not.toContain('ada@example.com');
    expect((out.prompt as string[])[1]).toBe('ok');
    expect(out.suffix).not.toContain('555-123-4567');
  });
});
