import type { z } from 'zod';
import { paramPath, valueAt } from '../../lib/zod-issues.js';

type Issue = z.core.$ZodIssue;

/** OpenAI's 400 for a number outside a field's bounds: its message and code. */
export interface NumberBoundRefusal {
  /** `Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 25 instead.` */
  message: string;
  /** `integer_above_max_value`, `integer_below_min_value`, `decimal_above_max_value` or `decimal_below_min_value` */
  code: string;
}

/**
 * OpenAI's words for a request's number outside its field's bounds, for the zod issue that found it (`too_big` /
 * `too_small` of a number), as OpenAI answers `n: 130`: "Invalid 'n': integer above maximum value. Expected a value <=
 * 128, but got 130 instead.", code `integer_above_max_value` (thisisartium/continuous-alignment-testing#25; the tests'
 * strict fake upstream, test/support/openai-strict.ts, answers so). A field `schema` types as an integer
 * (`z.number().int()`) says `integer`, any other number `decimal` (OpenAI's `temperature: 3`: "decimal above maximum
 * value"). An integer field's exclusive bound (`positive()`: > 0) is said as the inclusive one (>= 1).
 * @param schema the schema the request was parsed with (walked along the issue's path to the number's own schema)
 * @param issue one of the parse's issues (absolute path: lib/zod-issues.ts leafIssues)
 * @param raw the request as sent (the value is read at the issue's path)
 * @returns undefined when the issue is no number bound, or the value or its schema cannot be found (the caller keeps
 *   zod's words then), or a decimal field's bound is exclusive
 */
export function numberBoundRefusal(schema: z.ZodType, issue: Issue, raw: unknown): NumberBoundRefusal | undefined {
  if ((issue.code !== 'too_big' && issue.code !== 'too_small') || issue.origin !== 'number') return undefined;
  const value = valueAt(raw, issue.path);
  if (typeof value !== 'number') return undefined;
  const leaf = numberSchemaAt(schema, issue.path);
  if (!leaf) return undefined;
  const integer = isInteger(leaf);
  const kind = integer ? 'integer' : 'decimal';
  const bound = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
  if (issue.inclusive === false && !integer) return undefined;
  const above = issue.code === 'too_big';
  const inclusiveBound = issue.inclusive === false ? (above ? bound - 1 : bound + 1) : bound;
  const field = paramPath(issue.path);
  return above
    ? { message: `Invalid '${field}': ${kind} above maximum value. Expected a value <= ${inclusiveBound}, but got ${value} instead.`, code: `${kind}_above_max_value` }
    : { message: `Invalid '${field}': ${kind} below minimum value. Expected a value >= ${inclusiveBound}, but got ${value} instead.`, code: `${kind}_below_min_value` };
}

/** zod's inner definition of a schema (zod v4's `_zod.def`), as far as the walk reads it. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Whether a number schema takes integers only (`.int()`, `z.int()`: zod's ZodNumber `isInt`). */
const isInteger = (schema: z.ZodType): boolean => (schema as unknown as { isInt?: boolean }).isInt === true;

/** The number schema at `path` inside `schema` (through optional, nullable, default, pipe, lazy, object, record, array, union and intersection), or undefined. */
function numberSchemaAt(schema: z.ZodType | undefined, path: readonly PropertyKey[], depth = 0): z.ZodType | undefined {
  if (!schema || depth > 64) return undefined;
  const def = defOf(schema);
  const next = (s: z.ZodType | undefined, rest: readonly PropertyKey[]) => numberSchemaAt(s, rest, depth + 1);
  switch (def.type) {
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'nonoptional': case 'readonly': case 'catch':
      return next(def.innerType, path);
    case 'pipe': return next(def.in, path) ?? next(def.out, path);
    case 'lazy': return next(def.getter?.(), path);
    case 'union': for (const option of def.options ?? []) { const found = next(option, path); if (found) return found; } return undefined;
    case 'intersection': return next(def.left, path) ?? next(def.right, path);
    case 'number': return path.length === 0 ? schema : undefined;
    default: break;
  }
  if (!path.length) return undefined;
  const [key, ...rest] = path;
  if (def.type === 'object') return next(def.shape?.[String(key)], rest);
  if (def.type === 'record') return next(def.valueType, rest);
  if (def.type === 'array') return next(def.element, rest);
  return undefined;
}
