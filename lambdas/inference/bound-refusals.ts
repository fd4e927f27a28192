import type { z } from 'zod';
import { formatPath, valueAt } from '../../lib/zod-issues.js';

type Issue = z.core.$ZodIssue;

/** OpenAI's 400 for a value outside its field's bounds: its message and code. */
export interface BoundRefusal {
  /** `Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 25 instead.` */
  message: string;
  /**
   * `integer_above_max_value`, `integer_below_min_value`, `decimal_above_max_value`, `decimal_below_min_value`,
   * `empty_array`, `array_above_max_length` or `string_above_max_length`
   */
  code: string;
}

/**
 * OpenAI's words for a request's value outside its field's bounds, for the zod issue that found it (`too_big` /
 * `too_small`), as OpenAI's API answers them:
 * - a number: "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 130 instead.", code
 *   `integer_above_max_value` (thisisartium/continuous-alignment-testing#25; the tests' strict fake upstream,
 *   test/support/openai-strict.ts, answers so). A field `schema` types as an integer (`z.number().int()`) says
 *   `integer`, any other number `decimal` (OpenAI's `temperature: 3`: "decimal above maximum value"). An integer
 *   field's exclusive bound (`positive()`: > 0) is said as the inclusive one (>= 1);
 * - an empty list where one item or more is due: "Invalid 'messages': empty array. Expected an array with minimum
 *   length 1, but got an empty array instead.", code `empty_array` (CopilotKit/CopilotKit#529 quotes OpenAI's answer to
 *   `messages: []`; `tools: []`: continuedev/continue#3370);
 * - a list too long: "Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with
 *   length 133 instead.", code `array_above_max_length` (Upsonic/Upsonic#176, openai/openai-dotnet#317);
 * - a string too long: "Invalid 'tools[0].function.name': string too long. Expected a string with maximum length 64,
 *   but got a string with length 80 instead.", code `string_above_max_length` (brekkylab/ailoy#109: chat/tool-names.ts).
 * @param schema the schema the request was parsed with (walked along the issue's path to a number's own schema)
 * @param issue one of the parse's issues (absolute path: lib/zod-issues.ts leafIssues)
 * @param raw the request as sent (the value is read at the issue's path)
 * A bound whose schema gives its own message keeps it (the caller says it).
 * @returns undefined for any other issue (a list too short but not empty, a string too short, a decimal field's
 *   exclusive bound: OpenAI's words for them are not known here), or when the value or a number's schema cannot be
 *   found: the caller keeps zod's words then
 */
export function boundRefusal(schema: z.ZodType, issue: Issue, raw: unknown): BoundRefusal | undefined {
  // A bound whose schema says its own words (`a metadata value is a string of at most 512 characters`) keeps them.
  if ((issue.code !== 'too_big' && issue.code !== 'too_small') || !ZOD_OWN_WORDS.test(issue.message)) return undefined;
  const value = valueAt(raw, issue.path);
  // As errors show a path: a caller's long key cut (lib/zod-issues.ts); the 400's `param` names it whole.
  const field = formatPath(issue.path);
  const above = issue.code === 'too_big';
  const bound = Number(above ? issue.maximum : issue.minimum);
  if (issue.origin === 'array' && Array.isArray(value)) {
    if (!above && value.length === 0) return { message: `Invalid '${field}': empty array. Expected an array with minimum length ${bound}, but got an empty array instead.`, code: 'empty_array' };
    if (above && issue.inclusive !== false) return { message: `Invalid '${field}': array too long. Expected an array with maximum length ${bound}, but got an array with length ${value.length} instead.`, code: 'array_above_max_length' };
    return undefined;
  }
  if (issue.origin === 'string' && typeof value === 'string') {
    if (above && issue.inclusive !== false) return { message: `Invalid '${field}': string too long. Expected a string with maximum length ${bound}, but got a string with length ${value.length} instead.`, code: 'string_above_max_length' };
    return undefined;
  }
  if (issue.origin !== 'number' || typeof value !== 'number') return undefined;
  const leaf = numberSchemaAt(schema, issue.path);
  if (!leaf) return undefined;
  const integer = isInteger(leaf);
  if (issue.inclusive === false && !integer) return undefined;
  const kind = integer ? 'integer' : 'decimal';
  const inclusiveBound = issue.inclusive === false ? (above ? bound - 1 : bound + 1) : bound;
  return above
    ? { message: `Invalid '${field}': ${kind} above maximum value. Expected a value <= ${inclusiveBound}, but got ${value} instead.`, code: `${kind}_above_max_value` }
    : { message: `Invalid '${field}': ${kind} below minimum value. Expected a value >= ${inclusiveBound}, but got ${value} instead.`, code: `${kind}_below_min_value` };
}

/** zod's own message for a bound (`Too big: expected number to be <=20`), as against a schema's own. */
const ZOD_OWN_WORDS = /^Too (big|small): /;

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
