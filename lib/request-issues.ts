import type { z } from 'zod';
import { nearest } from './config/nearest.js';
import { formatPath, shownKey } from './zod-issues.js';

/**
 * zod's generic messages for a request's fields (the admin API's bodies and query strings, the API keys' and users'
 * bodies, a `tessera tenants apply` file), rewritten to say what the field takes, in the words the config's errors use
 * (lib/config/config-issues.ts configErrorMap): `tier = 3: must be a string, not a number` where zod said `Invalid input:
 * expected string, received number`, `status = "active": must be one of "REQUESTED", ...; did you mean "ACTIVE"?` where it
 * said `Invalid option: expected one of "REQUESTED"|...`. describeIssues (lib/zod-issues.ts) puts the field and the value
 * given before each. A message the schema sets itself (a regex's, a refinement's) takes precedence over this map (zod's
 * order: the schema's, then the parse's): only zod's generic ones change.
 *
 * Use: `schema.safeParse(raw, { error: requestErrorMap })`.
 */
export const requestErrorMap: z.core.$ZodErrorMap = (issue) => {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (input === undefined) return `is required: give ${expected}`;
      // 10.5 where an integer was wanted: zod reports it as a type (`expected int, received number`); the value is shown before.
      if (issue.expected === 'int' && typeof input === 'number') return 'must be a whole number';
      return `must be ${expected}, not ${kindOf(input)}${unquote(issue.expected, input)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters (it has ${String(input).length})`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at least ${min} item${min === 1 ? '' : 's'}`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters (it has ${String(input).length})`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at most ${max} item${max === 1 ? '' : 's'} (it has ${(input as unknown[]).length})`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_value': {
      const values = issue.values as readonly unknown[];
      if (values.length === 1) return `must be ${JSON.stringify(values[0])}, or left out`;
      const guess = typeof input === 'string' ? nearest(input, values.filter((v): v is string => typeof v === 'string')) : undefined;
      return `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ''}`;
    }
    case 'invalid_format':
      return issue.format === 'email' ? 'must be an email address (name@example.com)' : undefined;
    case 'unrecognized_keys': {
      const fields = Object.keys((issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape ?? {});
      const where = formatPath(issue.path ?? []);
      const guess = issue.keys.length === 1 ? nearest(issue.keys[0]!, fields) : undefined;
      const what = issue.keys.length === 1 ? 'is not a field' : `${issue.keys.slice(0, 5).map((k) => `"${shownKey(k)}"`).join(', ')}${issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : ''} are not fields`;
      return `${what} of ${where || 'this request'}${guess ? `; did you mean ${guess}?` : ''}${fields.length ? ` (its fields: ${fields.join(', ')})` : ''}`;
    }
    default:
      return undefined;
  }
};

/** What each type zod expects is, as a field's message says it. */
const EXPECTED: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list',
  object: 'an object', record: 'an object', null: 'null',
};

/** A value's kind as a message names it: `null`, `a list`, `an object`, `a number`, `a string`. */
function kindOf(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

/** `: send 10 without quotes` for a number or a boolean sent as a string (`"10"`, `"true"`); else nothing. */
function unquote(expected: string, input: unknown): string {
  if (typeof input !== 'string') return '';
  const number = (expected === 'number' || expected === 'int') && input.trim() !== '' && Number.isFinite(Number(input));
  return number || (expected === 'boolean' && (input === 'true' || input === 'false')) ? `: send ${input} without quotes` : '';
}
