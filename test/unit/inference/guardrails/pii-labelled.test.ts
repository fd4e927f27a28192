import { describe, expect, it } from 'vitest';
import { findPii, redactPii, StreamRedactor } from '../../../../lambdas/inference/guardrails.js';
import { evaluate, readLabelled } from '../../../../scripts/pii-eval.js';

/**
 * Accuracy floors of the PII redaction over test/fixtures/pii-labelled.jsonl, span-level (see
 * scripts/pii-eval.ts). RECALL is the figure the patterns reached (HEAD before this work: 0.760,
 * precision 0.835): lower it only with a reason written here.
 */
const PRECISION = 0.98;
const RECALL = 1.0;

const LABELS = ['EMAIL', 'PHONE', 'US_SSN', 'CREDIT_CARD', 'IPV4', 'IPV6'];
const lines = readLabelled();

describe('the labelled set', () => {
  it('has at least 200 snippets with PII and 200 without, every label on each side', () => {
    expect(lines.filter((l) => l.pii.length).length).toBeGreaterThanOrEqual(200);
    expect(lines.filter((l) => !l.pii.length).length).toBeGreaterThanOrEqual(200);
    for (const label of LABELS) expect(lines.some((l) => l.pii.includes(label)), label).toBe(true);
  });

  it('names, for every label, the exact text it labels', () => {
    for (const l of lines) {
      for (const label of l.pii) expect(LABELS).toContain(label);
      expect(l.values ?? [], l.text).toHaveLength(l.pii.length);
      for (const v of l.values ?? []) expect(l.text, v).toContain(v);
    }
  });
});

describe('PII redaction accuracy on the labelled set', () => {
  const e = evaluate(lines);
  const misses = [...e.falsePositives.map((m) => `FP ${m.label} ${JSON.stringify(m.value)} in ${m.text}`), ...e.falseNegatives.map((m) => `FN ${m.label} ${JSON.stringify(m.value)} in ${m.text}`)];

  it(`precision >= ${PRECISION}`, () => {
    expect(e.overall.precision, misses.join('\n')).toBeGreaterThanOrEqual(PRECISION);
  });

  it(`recall >= ${RECALL}`, () => {
    expect(e.overall.recall, misses.join('\n')).toBeGreaterThanOrEqual(RECALL);
  });

  it.each(LABELS)('%s has precision >= 0.95', (label) => {
    expect(e.perLabel[label].precision, misses.join('\n')).toBeGreaterThanOrEqual(0.95);
  });
});

describe('the StreamRedactor invariant holds for the new patterns', () => {
  const streamed = (chunks: string[]) => {
    const r = new StreamRedactor();
    return { text: chunks.map((c) => r.push(c)).join('') + r.flush(), found: r.found };
  };

  it('no match in the labelled set holds a whitespace that follows a letter', () => {
    for (const l of lines) for (const m of findPii(l.text)) expect(l.text.slice(m.start, m.end)).not.toMatch(/[A-Za-z]\s/);
  });

  it('streaming the whole labelled set in chunks gives what redacting it whole gives', () => {
    const all = lines.map((l) => l.text).join('\n');
    const whole = redactPii(all);
    for (const size of [1, 2, 3, 7, 16, 61, 500]) {
      const r = streamed(all.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!);
      expect(r.text).toBe(whole.text);
      expect(r.found).toEqual(whole.found);
    }
  });

  it('every line, split at every position, gives what redacting it whole gives', () => {
    for (const { text } of lines) {
      const whole = redactPii(text).text;
      for (let i = 1; i < text.length; i++) expect(streamed([text.slice(0, i), text.slice(i)]).text, `${text} @${i}`).toBe(whole);
    }
  });

  it('keeps the context that a look-behind reads across a released piece', () => {
    const r = new StreamRedactor();
    // "version " is released on its own; the dotted quad after it is still a version, not an address
    expect(r.push('Upgrade to version ')).toBe('Upgrade to version ');
    expect(r.push('10.2.0.1 now and ping ')).toBe('10.2.0.1 now and ping ');
    expect(r.push('10.2.0.1 first ')).toBe('[IPV4] first ');
    expect(r.flush()).toBe('');
    const t = new StreamRedactor();
    expect(t.push('Text me at ') + t.push('4155550134 today') + t.flush()).toBe('Text me at [PHONE] today');
    const s = new StreamRedactor();
    expect(s.push('Social Security No. ') + s.push('302 44 9187 thanks') + s.flush()).toBe('Social Security No. [US_SSN] thanks');
  });
});

describe('redaction of large inputs', () => {
  // Every regex is linear by construction (see guardrails.ts); a pattern that backtracked
  // catastrophically would not return from these at all. No timing is asserted.
  const N = 200_000;
  const fill = (s: string) => s.repeat(Math.ceil(N / s.length)).slice(0, N);
  it.each([
    ['letters', fill('a'), 0],
    ['digits', fill('1'), 0],
    ['digits and spaces', fill('1 '), 0],
    ['dots and digits', fill('1.'), 0],
    ['hex and colons', fill('ab1::'), 0],
    ['an email local part without its @', fill('a.b_c-'), 0],
    ['a domain that never ends in a TLD', `x@${fill('a1.')}`, 0],
    ['phone-like groups', fill('+1 (415) 555-01'), -1],
    ['card-like groups', fill('4111 '), 0],
  ])('200 KB of %s', (_name, text, count) => {
    const r = redactPii(text);
    if (count >= 0) expect(r.found).toHaveLength(count);
    expect(r.text.length).toBeGreaterThan(0);
  });

  it('200 KB of the labelled set redacts every entity of it', () => {
    const block = lines.map((l) => l.text).join('\n');
    const copies = Math.ceil(N / block.length);
    const once = redactPii(block).found.length;
    expect(redactPii(Array(copies).fill(block).join('\n')).found).toHaveLength(once * copies);
  });
});
