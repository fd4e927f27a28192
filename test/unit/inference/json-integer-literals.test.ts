import { describe, expect, it } from 'vitest';
import { integerLiteral, parseJsonWithIntegerLiterals } from '../../../lambdas/inference/json-integer-literals.js';
import { parseJson } from '../../../lambdas/inference/request-body.js';

/** A body's integer literals past Number's safe range, kept as written beside JSON.parse's Number. */
describe('parseJsonWithIntegerLiterals', () => {
  it('keeps the digits of an integer literal past the safe range, by the object holding it, nested ones too', () => {
    const body = parseJsonWithIntegerLiterals('{"seed":9223372036854775808,"a":{"n":-9223372036854775809},"max":9223372036854775807}') as Record<string, Record<string, unknown>>;
    expect(body.seed).toBe(2 ** 63);
    expect(body.max).toBe(2 ** 63);
    expect(integerLiteral(body, 'seed')).toBe(9223372036854775808n);
    expect(integerLiteral(body, 'max')).toBe(9223372036854775807n);
    expect(integerLiteral(body.a, 'n')).toBe(-9223372036854775809n);
  });

  it('keeps nothing for a safe integer, a decimal or exponent literal, or another value; parses as JSON.parse does', () => {
    const text = '{"a":9007199254740991,"b":1e19,"c":12345678901234567.5,"d":"12345678901234567890","e":[12345678901234567890]}';
    const body = parseJsonWithIntegerLiterals(text) as Record<string, unknown>;
    expect(body).toEqual(JSON.parse(text));
    for (const key of ['a', 'b', 'c', 'd']) expect(integerLiteral(body, key)).toBeUndefined();
    expect(integerLiteral(body.e, '0')).toBe(12345678901234567890n);
    expect(integerLiteral({ seed: 2 ** 63 }, 'seed')).toBeUndefined();
    expect(integerLiteral(null, 'seed')).toBeUndefined();
  });

  it('is what parseJson reads a request body with, whatever the whitespace around the value', () => {
    expect(integerLiteral(parseJson('{"seed": 9223372036854775808}'), 'seed')).toBe(9223372036854775808n);
    expect(integerLiteral(parseJson('{"seed" :\n\t-9223372036854775809 }'), 'seed')).toBe(-9223372036854775809n);
    expect(integerLiteral((parseJson('{"a":[1, 12345678901234567890]}') as { a: unknown }).a, '1')).toBe(12345678901234567890n);
  });
});
