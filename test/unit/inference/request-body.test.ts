import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../../../lambdas/inference/request-body.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error('accepted');
};

describe('parseWith: a field a strict schema does not know', () => {
  // s31l: a top-level unknown field was param null with "(root) = {...}: Unrecognized key: \"model\"".
  it('top level: param is the field, code unknown_parameter, OpenAI\'s message and the route\'s hint', () => {
    const e = refusal(() => parseWith(z.strictObject({ metadata: z.record(z.string(), z.string()).nullable() }), { metadata: { a: 'b' }, model: 'x' }, 'update takes only metadata'));
    expect(e).toMatchObject({ status: 400, param: 'model', code: 'unknown_parameter', message: 'Unrecognized request argument supplied: model (update takes only metadata)' });
  });

  it('nested: param is its whole path; several are listed', () => {
    const e = refusal(() => parseWith(z.object({ a: z.array(z.strictObject({ b: z.number() })) }), { a: [{ b: 1, c: 2, d: 3 }] }));
    expect(e).toMatchObject({ param: 'a[0].c', code: 'unknown_parameter', message: 'Unrecognized request arguments supplied: a[0].c, a[0].d' });
  });

  it('other problems keep their message and path', () => {
    const e = refusal(() => parseWith(z.strictObject({ n: z.number() }), { n: 'x' }));
    expect(e).toMatchObject({ param: 'n', message: expect.stringContaining('n = "x"') });
  });
});

describe('parseWith: a number outside its field\'s bounds is OpenAI\'s 400', () => {
  // Was zod's "top_logprobs = 25: Too big: expected number to be <=20", code invalid_request, where OpenAI answers
  // "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 130 instead.", integer_above_max_value.
  const Body = z.object({
    n: z.number().int().min(1).max(128).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    max_tokens: z.number().int().positive().nullish(),
    logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
    hyperparameters: z.object({ n_epochs: z.union([z.literal('auto'), z.int().min(1).max(50)]) }).optional(),
    messages: z.array(z.object({ weight: z.number().int().max(1) })).optional(),
  }).superRefine(() => undefined);
  it.each([
    [{ n: 130 }, 'n', 'integer_above_max_value', "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 130 instead."],
    [{ n: 0 }, 'n', 'integer_below_min_value', "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."],
    [{ temperature: 3 }, 'temperature', 'decimal_above_max_value', "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."],
    [{ temperature: -0.5 }, 'temperature', 'decimal_below_min_value', "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -0.5 instead."],
    [{ max_tokens: 0 }, 'max_tokens', 'integer_below_min_value', "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead."],
    [{ logit_bias: { 50256: 101 } }, 'logit_bias.50256', 'decimal_above_max_value', "Invalid 'logit_bias.50256': decimal above maximum value. Expected a value <= 100, but got 101 instead."],
    [{ hyperparameters: { n_epochs: 51 } }, 'hyperparameters.n_epochs', 'integer_above_max_value', "Invalid 'hyperparameters.n_epochs': integer above maximum value. Expected a value <= 50, but got 51 instead."],
    [{ messages: [{ weight: 2 }] }, 'messages[0].weight', 'integer_above_max_value', "Invalid 'messages[0].weight': integer above maximum value. Expected a value <= 1, but got 2 instead."],
  ])('%j: param %s, code %s, OpenAI\'s words', (body, param, code, message) => {
    expect(refusal(() => parseWith(Body, body))).toMatchObject({ status: 400, param, code, message });
  });

  it('the other issues follow the first; a first issue that is no bound keeps its words and code', () => {
    expect(refusal(() => parseWith(Body, { n: 130, temperature: 'x' }))).toMatchObject({ code: 'integer_above_max_value', message: expect.stringMatching(/^Invalid 'n': integer above .*; temperature = "x": Invalid input/) });
    expect(refusal(() => parseWith(Body, { n: 'x', temperature: 3 }))).toMatchObject({ code: 'invalid_request', param: 'n', message: expect.stringMatching(/^n = "x": Invalid input.*; temperature = 3: Too big/) });
  });
});
