import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues, formatPath, leafIssues } from '../../lib/zod-issues.js';

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
});
