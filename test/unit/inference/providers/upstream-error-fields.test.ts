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

  // A hostile upstream's 1 MB code went into the caller's answer whole (upstream-calls.ts callerErrorOf relays it).
  it('bounds what an upstream can put in the caller\'s answer: a message at 4,000 characters, a code or type at 64, a param at 256, each cut said', () => {
    const fields = upstreamErrorFields({ error: { message: 'm'.repeat(10_000), type: 't'.repeat(100), code: 'c'.repeat(1_048_576), param: 'p'.repeat(300) } });
    expect([fields.code, fields.type, fields.param]).toEqual(['c'.repeat(64), 't'.repeat(64), 'p'.repeat(256)]);
    expect(fields.message).toBe(`${'m'.repeat(4_000)}… (the upstream's message cut: 10000 characters) (the upstream's code cut to 64 of its 1048576 characters; the upstream's type cut to 64 of its 100 characters; the upstream's param cut to 256 of its 300 characters)`);
    // No message: the note is the message. Never half of a surrogate pair.
    expect(upstreamErrorFields({ error: { code: `${'c'.repeat(63)}😀` } })).toEqual({ code: 'c'.repeat(63), message: "the upstream's code cut to 64 of its 65 characters" });
    // Within the bounds: as sent.
    expect(upstreamErrorFields({ error: { message: 'm'.repeat(4_000), code: 'c'.repeat(64) } })).toEqual({ message: 'm'.repeat(4_000), code: 'c'.repeat(64) });
  });

  it('cuts a message of astral characters and one of another shape (its JSON text) without leaving half of a surrogate pair', () => {
    const halves = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    const astral = upstreamErrorFields({ error: { message: `x${'😀'.repeat(2_500)}` } }).message!;
    expect(astral).toBe(`x${'😀'.repeat(1_999)}… (the upstream's message cut: 5001 characters)`);
    // an object message is its JSON text, at most 500 characters: `{"text":"` and 8 more put a pair across the 500th
    const shaped = upstreamErrorFields({ error: { message: { text: `${'x'.repeat(8)}${'😀'.repeat(400)}` } } }).message!;
    expect(shaped).not.toMatch(halves);
    expect(shaped).toBe(`{"text":"${'x'.repeat(8)}${'😀'.repeat(241)}`);
  });
});
