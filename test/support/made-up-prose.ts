/**
 * Prose of made-up words, `chars` long (at least), from a seed: syllables joined into words of 1-4, a comma after about
 * one word in 13. About 3 characters a token, with many pieces the o200k tokenizer has not seen whole, so a count must
 * merge them (what truncation's count limits are about). The same seed gives the same text.
 */
export function madeUpProse(chars: number, seed: number): string {
  const syllables = ['ka', 'ro', 'tin', 'ber', 'os', 'lo', 'fe', 'ry', 'mun', 'dal', 'str', 'ing', 'ex', 'port', 'val', 'ue', 'qu', 'est'];
  let x = seed;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff);
  let s = '';
  while (s.length < chars) {
    let w = '';
    for (let i = 0, n = 1 + ((next() >>> 16) % 4); i < n; i++) w += syllables[(next() >>> 16) % syllables.length];
    s += `${w}${(next() >>> 16) % 13 === 0 ? ', ' : ' '}`;
  }
  return s;
}
