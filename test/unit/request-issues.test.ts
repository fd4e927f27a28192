import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requestErrorMap } from '../../lib/request-issues.js';
import { describeIssues } from '../../lib/zod-issues.js';

/** The lines a request gets for `raw` against `schema`, with requestErrorMap. */
const lines = (schema: z.ZodType, raw: unknown) => {
  const parsed = schema.safeParse(raw, { error: requestErrorMap });
  if (parsed.success) throw new Error('accepted');
  return describeIssues(parsed.error, raw);
};

describe('requestErrorMap: what each field takes, where zod said its generic words', () => {
  const Body = z.strictObject({
    limit: z.number().int().min(1).max(100).optional(),
    tags: z.array(z.string()).min(1).max(2).optional(),
    kind: z.enum(['user', 'key', 'tag']).optional(),
    code: z.string().min(3, 'must be a code of 3 characters or more').optional(),
    nested: z.strictObject({ reason: z.string() }).optional(),
  });
  it.each([
    [{ limit: '10' }, 'limit = "10": must be a number, not a string: send 10 without quotes'],
    [{ limit: 2.5 }, 'limit = 2.5: must be a whole number'],
    [{ limit: 0 }, 'limit = 0: must be at least 1'],
    [{ limit: 101 }, 'limit = 101: must be at most 100'],
    [{ tags: [] }, 'tags = []: must list at least 1 item'],
    [{ tags: ['a', 'b', 'c'] }, 'tags = ["a","b","c"]: must list at most 2 items (it has 3)'],
    [{ kind: 'users' }, 'kind = "users": must be one of "user", "key", "tag"; did you mean "user"?'],
    [{ nested: { reason: 'x', extra: 1 } }, 'nested.extra = 1: is not a field of nested (its fields: reason)'],
    [{ colour: 1, flavour: 2 }, '(root) = {"colour":1,"flavour":2}: "colour", "flavour" are not fields of this request (its fields: limit, tags, kind, code, nested)'],
    [{ nested: null }, 'nested = null: must be an object, not null'],
  ])('%j', (raw, line) => {
    expect(lines(Body, raw)).toEqual([line]);
  });

  it('leaves a message the schema sets itself as it is', () => {
    expect(lines(Body, { code: 'ab' })).toEqual(['code = "ab": must be a code of 3 characters or more']);
  });
});
