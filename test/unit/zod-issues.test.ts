import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues, formatPath, leafIssues, shownKey } from '../../lib/zod-issues.js';

/** A union's failure, as a reader needs it: the branch that accepted the value's kind, or what was expected. */
const Part = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text'), text: z.string() }),
  z.looseObject({ type: z.literal('image_url'), image_url: z.looseObject({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }) }),
]);
const Body = z.object({
  content: z.union([z.string(), z.array(Part).min(1)]),
  input: z.union([z.string(), z.array(z.string()).max(3), z.array(z.number().int().min(0)), z.array(z.array(z.number()))]).optional(),
});
const issues = (raw: unknown) => {
  const parsed = Body.safeParse(raw);
  if (parsed.success) throw new Error('expected a failure');
  return { leaf: leafIssues(parsed.error).map((i) => [formatPath(i.path), i.message]), lines: describeIssues(parsed.error, raw) };
};

describe('leafIssues', () => {
  it('names the field inside the branch that took the value\'s kind (a list of parts), not the union', () => {
    expect(issues({ content: [{ type: 'image_url', image_url: { url: 'u', detail: 'ultra' } }] }).leaf).toEqual([['content[0].image_url.detail', expect.stringContaining('"auto"|"low"|"high"')]]);
    expect(issues({ content: [{ type: 'input_text', text: 'x' }] }).leaf).toEqual([['content[0].type', expect.stringContaining("'text' | 'image_url'")]]);
  });

  it('says what was expected when no branch took the value\'s kind', () => {
    expect(issues({ content: 5 }).leaf).toEqual([['content', 'Invalid input: expected string or array']]);
  });

  it('prefers the branch with fewest issues: a list too long is that, not 4 numbers expected', () => {
    expect(issues({ content: 'x', input: ['a', 'b', 'c', 'd'] }).leaf).toEqual([['input', expect.stringMatching(/<=3|too big|at most/i)]]);
    expect(issues({ content: 'x', input: [1, -2] }).leaf).toEqual([['input[1]', expect.stringMatching(/>=0|too small/i)]]);
  });

  it('stays at the union when two branches fail alike (a mixed list), naming each', () => {
    const [[path, message]] = issues({ content: 'x', input: ['a', 1] }).leaf;
    expect(path).toBe('input');
    expect(message).toContain('input[1]: Invalid input: expected string');
    expect(message).toContain('input[0]: Invalid input: expected number');
  });

  it('describeIssues shows each leaf with the value given', () => {
    expect(issues({ content: [{ type: 'image_url', image_url: { url: 'u', detail: 'ultra' } }] }).lines).toEqual(['content[0].image_url.detail = "ultra": Invalid option: expected one of "auto"|"low"|"high"']);
    expect(issues({ content: null }).lines).toEqual(['content = null: Invalid input: expected string or array']);
  });

  it('says once what branches that fail alike say (every list shape too short)', () => {
    const Input = z.object({ input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number()).min(1)]) });
    const parsed = Input.safeParse({ input: [] });
    expect(parsed.success).toBe(false);
    const lines = describeIssues(parsed.error!, { input: [] });
    expect(lines).toEqual(['input = []: Too small: expected array to have >=1 items']);
  });

  it('says how many items or characters a value cut to 120 characters had (3,000 embedding inputs against OpenAI\'s 2,048)', () => {
    const Inputs = z.object({ input: z.array(z.string()).max(2048), user: z.string().max(10).optional() });
    const raw = { input: Array.from({ length: 3000 }, () => 'a'), user: 'u'.repeat(500) };
    const lines = describeIssues(Inputs.safeParse(raw).error!, raw);
    expect(lines[0]).toMatch(/^input = \["a","a",.*\.\.\. \(3000 items\): Too big: expected array to have <=2048 items$/);
    expect(lines[1]).toMatch(/^user = "u+\.\.\. \(500 characters\): Too big/);
  });

  it('never echoes a made-up key whole: keys in paths and unknown-key messages are cut to 64 characters', () => {
    const key = 'k'.repeat(900_000);
    expect(shownKey(key)).toBe(`${'k'.repeat(61)}...`);
    expect(formatPath(['a', key, 0])).toBe(`a.${'k'.repeat(61)}...[0]`);
    const Strict = z.strictObject({ a: z.string().optional() });
    const raw = { [key]: 1, b: 2 };
    const line = describeIssues(Strict.safeParse(raw).error!, raw)[0];
    expect(line.length).toBeLessThan(400);
    expect(line).toContain(`Unrecognized keys: "${'k'.repeat(61)}...", "b"`);
  });
});

