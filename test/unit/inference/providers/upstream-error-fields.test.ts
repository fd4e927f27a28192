import { describe, expect, it } from 'vitest';
import { upstreamErrorFields } from '../../../../lambdas/inference/providers/upstream-error-fields.js';

/**
 * Review: vLLM's older flat error body (`{object: "error", message, type, param, code}`, its ErrorResponse before
 * the `error` object) was read for its message only: the type, param and code it names were lost on the way to the
 * caller, while the same fields under `error` were relayed (and the SageMaker provider's reader kept them).
 */
describe('upstreamErrorFields', () => {
  it('reads vLLM\'s flat error body as its error object: message, type, param and code', () => {
    expect(upstreamErrorFields({ object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', param: 'model', code: 404 }))
      .toEqual({ message: 'The model `x` does not exist.', type: 'NotFoundError', param: 'model', code: '404' });
  });

  it('reads no type or code off the top of a body that is not vLLM\'s flat error (a bare message)', () => {
    expect(upstreamErrorFields({ message: 'busy', type: 'overloaded', code: 503 })).toEqual({ message: 'busy' });
  });

  // Review: the SageMaker provider's own reader (now this one) read these two; this one did not.
  it('reads the type, code and param beside a text error, as beside vLLM\'s flat one', () => {
    expect(upstreamErrorFields({ error: 'Request failed during generation', type: 'server_error', code: 424, param: 'messages' }))
      .toEqual({ message: 'Request failed during generation', type: 'server_error', code: '424', param: 'messages' });
    expect(upstreamErrorFields({ error: 'Input validation error: `top_k` must be strictly positive', error_type: 'validation' }))
      .toEqual({ message: 'Input validation error: `top_k` must be strictly positive' });
  });

  it('takes the message beside an error object that has none', () => {
    expect(upstreamErrorFields({ error: { type: 'server_error', code: 'engine_dead' }, message: 'the engine died' }))
      .toEqual({ message: 'the engine died', type: 'server_error', code: 'engine_dead' });
  });
});
