import { describe, expect, it } from 'vitest';
import { countExamples, MIN_TRAINING_EXAMPLES } from '../../../lambdas/fine-tuning/example-count.js';
import { checkFineTuningFile } from '../../../lambdas/fine-tuning/training-file-format.js';

const bytes = (text: string) => new TextEncoder().encode(text);
/** The bytes cut into pieces of `size`. */
function* pieces(data: Uint8Array, size: number) {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}
const line = (i: number) => JSON.stringify({ messages: [{ role: 'user', content: `q${i} ☕ é` }, { role: 'assistant', content: 'a' }] });

describe('countExamples: a training file\'s examples, as the upload\'s check counts them, read no further than needed', () => {
  it('counts what checkFineTuningFile counts, cut anywhere (inside a line, inside a character), blank, whitespace and CRLF lines skipped, the last line without its newline', async () => {
    const text = `${line(1)}\r\n\n   \n${line(2)}\n\u00a0\t\n${line(3)}\r\n${line(4)}`;
    const whole = checkFineTuningFile('t.jsonl', bytes(text));
    expect(whole).toBe(4);
    for (const size of [1, 2, 3, 7, 64, 10_000]) expect(await countExamples(pieces(bytes(text), size), 100), `pieces of ${size}`).toBe(whole);
  });

  it('stops at atMost without reading the rest', async () => {
    let read = 0;
    async function* counted() {
      for (const p of pieces(bytes(`${Array.from({ length: 1000 }, (_, i) => line(i)).join('\n')}\n`), 100)) {
        read++;
        yield p;
      }
    }
    expect(await countExamples(counted(), MIN_TRAINING_EXAMPLES)).toBe(10);
    // ten lines of about 90 bytes are 9 or 10 pieces of 100: the 990 other lines are never read
    expect(read).toBeLessThan(12);
  });

  it('answers 0 for nothing, and a count below atMost for a short file', async () => {
    expect(await countExamples([], 10)).toBe(0);
    expect(await countExamples([bytes('\n\n')], 10)).toBe(0);
    expect(await countExamples([bytes(`${line(1)}\n${line(2)}`)], 10)).toBe(2);
    expect(await countExamples([bytes(`${line(1)}\n${line(2)}\n${line(3)}`)], 2)).toBe(2);
  });
});
