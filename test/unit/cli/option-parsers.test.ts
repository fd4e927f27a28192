import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { numberIn, pollSeconds } from '../../../lib/cli/option-parsers.js';

describe('numberIn', () => {
  const max = numberIn(1, 10_000, 'messages', true);

  it('reads decimal numbers in the range (spaces around, a sign, an exponent)', () => {
    expect([' 5', '100', '+7', '1e3', '10000'].map(max)).toEqual([5, 100, 7, 1000, 10_000]);
    expect(['0.1', '.5', '300'].map(pollSeconds)).toEqual([0.1, 0.5, 300]);
  });

  // Number() reads hex, binary and octal literals, so `tessera dlq redrive q --max 0x10` redrove 16 messages.
  it('refuses hex, binary and octal literals, blanks, words, out-of-range and fractional values, naming the range', () => {
    for (const bad of ['0x10', '0b11', '0o7', '', ' ', 'abc', 'Infinity', '0', '-1', '10001', '1.5', '1e9', '5 5', '1_000']) {
      expect(() => max(bad), bad).toThrow(InvalidArgumentError);
      expect(() => max(bad), bad).toThrow('Expected a whole number of messages from 1 to 10000.');
    }
    expect(() => pollSeconds('0x1')).toThrow('Expected a number of seconds from 0.1 to 300.');
  });
});
