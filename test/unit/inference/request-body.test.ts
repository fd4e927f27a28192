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
