import { z } from 'zod';
import type { AutoOrNumber } from '../../lib/fine-tuning.js';
import { formatPath, valueAt } from '../../lib/zod-issues.js';
import { integerLiteral } from './json-integer-literals.js';
import { invalid, quoted } from './openai-errors.js';

type Issue = z.core.$ZodIssue;

/** A request-field error as OpenAI's API words it: its `code` and its sentence (which names the field). */
export interface OpenAIIssue {
  /** OpenAI's code: `decimal_above_max_value`, `integer_below_min_value`, `string_above_max_length`, `empty_array`, `invalid_type`, `missing_required_parameter`, `invalid_value`, … */
  readonly code: string;
  /** OpenAI's sentence: `Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.` */
  readonly message: string;
  /**
   * The `param` OpenAI names for it when that is not the field the issue is at: a key too long names its object
   * (`metadata`), not the key (propertyNameTooLong). @default the issue's field
   */
  readonly param?: string;
}

/**
 * The issue a schema found, in OpenAI's words and code, as its API answers a request field out of bounds or of the wrong
 * kind (observed answers, quoted in docs/gateway.md "Errors at a glance"):
 * - a number past a bound: `Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.`
 *   (`integer_below_min_value`; `integer_above_max_value`, `decimal_below_min_value`, `decimal_above_max_value`, the
 *   field's kind being the schema's: `z.number().int()` is an integer, any other number a decimal);
 * - a text's length: `Invalid 'user': string too long. Expected a string with maximum length 64, but got a string with
 *   length 65 instead.` (`string_above_max_length`, `string_below_min_length`);
 * - a list's length: `Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array
 *   instead.` (`empty_array`), `array too long` (`array_above_max_length`), `array too short` (`array_below_min_length`);
 * - a field missing: `Missing required parameter: 'messages[0].role'.` (`missing_required_parameter`);
 * - a value of the wrong kind: `Invalid type for 'temperature': expected a decimal, but got a string instead.`
 *   (`invalid_type`; a union none of whose shapes takes the value's kind: `expected one of a string or an array`; an
 *   enum given a value of another kind: `expected one of 'low', 'medium', or 'high'`);
 * - a value outside an enum: `Invalid value: 'x'. Supported values are: 'a', 'b', and 'c'.` (`invalid_value`).
 * A value is quoted through `quoted` (at most 200 characters); a field's path through formatPath (keys cut at 64).
 * @param issue a leaf issue (lib/zod-issues.ts leafIssues), its path absolute
 * @param raw the request body the schema read
 * @param schema the schema that read it (a number's kind, integer or decimal, is the schema's at the issue's path)
 * @returns undefined for any other issue (a refinement's, a format's, an unknown key's): the caller words it
 */
export function openaiIssue(issue: Issue, raw: unknown, schema: z.ZodType): OpenAIIssue | undefined {
  const field = formatPath(issue.path);
  if (!field) return undefined;
  const value = valueAt(raw, issue.path);
  switch (issue.code) {
    case 'too_big':
    case 'too_small': {
      const above = issue.code === 'too_big';
      const bound = Number(above ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum);
      // `int`: zod's safe-integer bound of `.int()` (±9007199254740991), said as an integer's bound.
      if ((issue.origin === 'number' || issue.origin === 'int') && typeof value === 'number') {
        const kind = issue.origin === 'int' || integerAt(schema, issue.path) ? 'integer' : 'decimal';
        // An integer's exclusive bound (`.positive()`: > 0) as OpenAI's inclusive one (>= 1).
        const exclusive = issue.inclusive === false && !(kind === 'integer' && Number.isInteger(bound));
        const shown = issue.inclusive === false && !exclusive ? bound + (above ? -1 : 1) : bound;
        return numberOutOfBounds(field, value, above ? { max: shown } : { min: shown }, kind === 'integer', exclusive);
      }
      // The length zod checked: code points (a surrogate pair is one), not UTF-16 units.
      if (issue.origin === 'string' && typeof value === 'string') return stringLength(field, [...value].length, above ? { max: bound } : { min: bound });
      if (issue.origin === 'array' && Array.isArray(value)) {
        if (!above && value.length === 0) return { code: 'empty_array', message: `Invalid '${field}': empty array. Expected an array with minimum length ${bound}, but got an empty array instead.` };
        return { code: `array_${above ? 'above_max' : 'below_min'}_length`, message: `Invalid '${field}': array too ${above ? 'long' : 'short'}. Expected an array with ${above ? 'maximum' : 'minimum'} length ${bound}, but got an array with length ${value.length} instead.` };
      }
      return undefined;
    }
    case 'invalid_type': {
      if (value === undefined) return missingParameter(field);
      const expected = issue.expected === 'int' || (issue.expected === 'number' && integerAt(schema, issue.path)) ? 'an integer' : EXPECTED[issue.expected];
      // A kind OpenAI has no word for here (zod's `never` for a field that must be absent, `bigint`, `custom`): the caller's words.
      if (!expected) return undefined;
      return wrongType(field, expected, value);
    }
    case 'invalid_union': {
      // A discriminated union's discriminator (`messages[0].role`): missing, or not one of its values (zod's `options`).
      const options = (issue as { options?: unknown[] }).options;
      if (options?.length) return value === undefined ? missingParameter(field) : outside(field, value, options);
      // leafIssues' answer for a union none of whose shapes takes the value's kind (its `expected`, zod's type names).
      const kinds = (issue as { expectedKinds?: string[] }).expectedKinds;
      if (!kinds?.length || kinds.some((k) => !EXPECTED[k])) return undefined;
      if (value === undefined) return missingParameter(field);
      return wrongType(field, `one of ${listed(kinds.map((k) => EXPECTED[k]!), 'or')}`, value);
    }
    case 'invalid_value':
      return outside(field, value, issue.values as readonly unknown[]);
    case 'invalid_key': {
      // A record's key too long (`metadata`'s 64 characters): OpenAI's `property_name_above_max_length`.
      const inner = issue.issues[0];
      const key = issue.path.at(-1);
      if (inner?.code !== 'too_big' || inner.origin !== 'string' || typeof key !== 'string') return undefined;
      return propertyNameTooLong(formatPath(issue.path.slice(0, -1)), key, Number(inner.maximum));
    }
    case 'custom': {
      // A refinement that says which of OpenAI's rules it checks (its `params`): `metadata`'s 16 keys, a fine-tuning
      // hyperparameter's `"auto"` or a number (lib/fine-tuning.ts), a 64-bit integer's bounds (int64).
      const params = issue.params as { maxProperties?: unknown; autoOr?: AutoOrNumber; int64?: boolean } | undefined;
      if (params?.autoOr) return autoOrNumber(field, value, params.autoOr);
      if (params?.int64 && typeof value === 'number') return numberOutOfBounds(field, value, value > 0 ? { max: INT64.max } : { min: INT64.min });
      const max = params?.maxProperties;
      if (typeof max !== 'number' || typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      return tooManyProperties(field, Object.keys(value).length, max);
    }
    default:
      return undefined;
  }
}

/**
 * OpenAI's words for a number outside its bounds (openaiIssue's, also for a value no zod schema reads: a query's `limit`,
 * a field a service checks itself): "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101
 * instead.", code `integer_above_max_value` (OpenAI's answer to `GET /v1/batches?limit=101`: BerriAI/litellm#37149);
 * below the minimum `integer_below_min_value`; `decimal_…` for a field that is not an integer.
 * @param field the field as the message names it (`limit`, `expires_after.seconds`)
 * @param value the value given; a bigint for an integer read from text past Number's safe range (a query's `limit`), so
 *   the message says the value sent (`9999999999999999`, not Number's `10000000000000000`)
 * @param bound the bound it is outside of: `max` when above it, `min` when below it (a bigint for one Number cannot say
 *   exactly: a 64-bit integer's 9223372036854775807)
 * @param integer whether the field is an integer @default true
 * @param exclusive whether the bound itself is outside too (`< 2` rather than `<= 2`) @default false
 */
export function numberOutOfBounds(field: string, value: number | bigint, bound: { min: number | bigint } | { max: number | bigint }, integer = true, exclusive = false): OpenAIIssue {
  const kind = integer ? 'integer' : 'decimal';
  const above = 'max' in bound;
  const op = `${above ? '<' : '>'}${exclusive ? '' : '='}`;
  return { code: `${kind}_${above ? 'above_max' : 'below_min'}_value`, message: `Invalid '${field}': ${kind} ${above ? 'above maximum' : 'below minimum'} value. Expected a value ${op} ${above ? bound.max : bound.min}, but got ${value} instead.` };
}

/**
 * OpenAI's words for a text's length outside its bounds: "Invalid 'metadata.k': string too long. Expected a string with
 * maximum length 512, but got a string with length 600 instead." (`string_above_max_length`; `string_below_min_length`,
 * `… but got an empty string instead.`).
 * @param length the text's length, as the bound counts it
 */
export function stringLength(field: string, length: number, bound: { min: number } | { max: number }): OpenAIIssue {
  const above = 'max' in bound;
  const got = length === 0 ? 'an empty string' : `a string with length ${length}`;
  return { code: `string_${above ? 'above_max' : 'below_min'}_length`, message: `Invalid '${field}': string too ${above ? 'long' : 'short'}. Expected a string with ${above ? 'maximum' : 'minimum'} length ${above ? bound.max : bound.min}, but got ${got} instead.` };
}

/**
 * OpenAI's words for an object with more keys than it takes (`metadata`'s 16): "Invalid 'metadata': too many properties.
 * Expected an object with at most 16 properties, but got an object with 17 properties instead."
 * (`object_above_max_properties`; OpenAI's answer as quoted in Microsoft Foundry's troubleshooting of Teams agents, and
 * as a proxy measuring OpenAI's API answers it: docs/gateway.md "Errors at a glance").
 */
export function tooManyProperties(field: string, count: number, max: number): OpenAIIssue {
  return { code: 'object_above_max_properties', message: `Invalid '${field}': too many properties. Expected an object with at most ${max} properties, but got an object with ${count} properties instead.` };
}

/**
 * OpenAI's words for a key longer than an object takes (`metadata`'s 64 characters): "Invalid property name in
 * 'metadata': 'kkk...kkk' is too long. Expected a string with maximum length 64, but got a string with length 70 instead."
 * (`property_name_above_max_length`). OpenAI shows a name of more than 12 characters as its first and last three (a
 * proxy's measured answers of OpenAI's API: a 70-character key came back as `'kkk...kkk'`). Its `param` is the object
 * (`metadata`), as OpenAI's answer names it: the key is in the message only, clipped (until 2026-12-07 `param` was
 * `metadata.<key>` with the whole key, up to the request's size).
 * @param field the object's field (`metadata`)
 * @param key the key, its length counted in code points (as zod's `.max()` counts a string)
 */
export function propertyNameTooLong(field: string, key: string, max: number): OpenAIIssue {
  const points = [...key];
  const shown = points.length > 12 ? `${points.slice(0, 3).join('')}...${points.slice(-3).join('')}` : key;
  return { code: 'property_name_above_max_length', param: field, message: `Invalid property name in '${field}': '${shown}' is too long. Expected a string with maximum length ${max}, but got a string with length ${points.length} instead.` };
}

/**
 * A value refused by a field that takes `"auto"` or a number (fine-tuning's `n_epochs`, `batch_size`,
 * `learning_rate_multiplier`: openai `JobCreateParams.Hyperparameters`, `'auto' | number`), in OpenAI's words for each
 * branch of the union (no answer of OpenAI's to these fields was found; the words are those it gives its other fields):
 * - a number past a bound: numberOutOfBounds (`Invalid 'hyperparameters.n_epochs': integer below minimum value.
 *   Expected a value >= 1, but got 0 instead.`, `integer_below_min_value`; `learning_rate_multiplier: 0`, `decimal_below_min_value`, `> 0`);
 * - another string: the literal's values, as a string outside a union's strings is answered (chat's `tool_choice: "any"`:
 *   `Supported values are: 'none', 'auto', and 'required'.`): `Invalid value: 'many'. Supported values are: 'auto'.` (`invalid_value`);
 * - another kind (a boolean, an object, a decimal for an integer): `Invalid type for 'hyperparameters.n_epochs': expected
 *   one of 'auto' or an integer, but got a decimal number instead.` (`invalid_type`).
 */
function autoOrNumber(field: string, value: unknown, spec: AutoOrNumber): OpenAIIssue {
  if (typeof value === 'number' && (!spec.integer || Number.isInteger(value))) {
    if (value > spec.max) return numberOutOfBounds(field, value, { max: spec.max }, spec.integer);
    return numberOutOfBounds(field, value, { min: spec.min }, spec.integer, spec.minExclusive);
  }
  if (typeof value === 'string') return outside(field, value, ['auto']);
  return wrongType(field, `one of 'auto' or ${spec.integer ? 'an integer' : 'a decimal'}`, value);
}

/**
 * Refuses a request with an issue in OpenAI's words (a field a service checks itself).
 * @param param the field the 400 names (`metadata.k`) unless the issue names its own (`param`: a key too long names `metadata`)
 * @throws GatewayError 400 with the issue's message and code
 */
export function refuse(issue: OpenAIIssue, param: string): never {
  throw invalid(issue.message, issue.param ?? param, issue.code);
}

/**
 * numberOutOfBounds for a value checked against both inclusive bounds.
 * @param value a number, or a bigint for an integer read from text (exact past Number's safe range)
 * @returns undefined when `value` is within them
 */
export function rangeRefusal(field: string, value: number | bigint, range: { min: number; max: number }, integer = true): OpenAIIssue | undefined {
  if (value > range.max) return numberOutOfBounds(field, value, { max: range.max }, integer);
  if (value < range.min) return numberOutOfBounds(field, value, { min: range.min }, integer);
  return undefined;
}

/**
 * Refuses an integer outside its inclusive bounds with OpenAI's 400 (rangeRefusal), naming `field` as `param`; a value
 * that is no integer is left to the caller (its own words for the type).
 * @throws GatewayError 400 `integer_above_max_value` / `integer_below_min_value`
 */
export function refuseIntegerOutOfRange(field: string, value: unknown, range: { min: number; max: number }): void {
  const out = typeof value === 'number' && Number.isInteger(value) ? rangeRefusal(field, value, range) : undefined;
  if (out) refuse(out, field);
}

/**
 * A value outside `values`: `Invalid value: 'x'. Supported values are: 'a', 'b', and 'c'.` (`invalid_value`), or, for a
 * value of a kind none of them has (`service_tier: {}`), OpenAI's type error: `Invalid type for 'service_tier': expected
 * one of 'auto' or 'flex', but got an object instead.` (`invalid_type`). Also for a field a service checks itself (a
 * batch's `completion_window`, only `'24h'`).
 * @param field the field as a type error names it
 * @param value the value given
 * @param values the values the field takes
 */
export function outside(field: string, value: unknown, values: readonly unknown[]): OpenAIIssue {
  const shown = values.map((v) => (typeof v === 'string' ? `'${quoted(v, 60)}'` : quoted(v, 60)));
  if (value !== undefined && !values.some((v) => typeof v === typeof value)) {
    return wrongType(field, `one of ${listed(shown, 'or')}`, value);
  }
  return { code: 'invalid_value', message: `Invalid value: ${typeof value === 'string' ? `'${quoted(value)}'` : quoted(value)}. Supported values are: ${listed(shown, 'and')}.` };
}

/** OpenAI's name of each kind zod expects. */
const EXPECTED: Record<string, string> = {
  string: 'a string', number: 'a decimal', int: 'an integer', boolean: 'a boolean', array: 'an array',
  object: 'an object', record: 'an object', null: 'null', tuple: 'an array',
};

/** OpenAI's words for a required field that is absent: "Missing required parameter: 'messages'." (`missing_required_parameter`). */
export function missingParameter(field: string): OpenAIIssue {
  return { code: 'missing_required_parameter', message: `Missing required parameter: '${field}'.` };
}

/**
 * OpenAI's words for a value of another kind than a field takes, for a field a service checks itself (the batch and vector
 * store routes' metadata): "Invalid type for 'metadata.k': expected a string, but got an integer instead." (`invalid_type`),
 * what the routes whose schema reads the field answer (openaiIssue's `invalid_type`).
 * @param field the field as the message names it (`metadata.k`)
 * @param expected what it takes, in OpenAI's words (`a string`, `one of a string, a number or a boolean`)
 * @param value the value given
 */
export function wrongType(field: string, expected: string, value: unknown): OpenAIIssue {
  return { code: 'invalid_type', message: `Invalid type for '${field}': expected ${expected}, but got ${kindOf(value)} instead.` };
}

/**
 * OpenAI's name of a value's kind: `a string`, `an integer`, `a decimal number`, `a boolean`, `an array`, `an object`, `null`;
 * `a number out of range` for one JSON.parse read as ±Infinity (`1e400`), which zod refuses as a type.
 */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return !Number.isFinite(value) ? 'a number out of range' : Number.isInteger(value) ? 'an integer' : 'a decimal number';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'` (OpenAI's serial comma), with `word` before the last. */
function listed(items: readonly string[], word: 'and' | 'or'): string {
  if (items.length <= 2) return items.join(` ${word} `);
  return `${items.slice(0, -1).join(', ')}, ${word} ${items.at(-1)}`;
}

/** A 64-bit signed integer's bounds (OpenAI's `seed`: its OpenAPI spec's `minimum` and `maximum`). */
const INT64 = { min: -9223372036854775808n, max: 9223372036854775807n } as const;

/**
 * Refuses a 64-bit integer field (int64: `seed`) of `raw`, the body as parseJson read it, whose literal is past the 64-bit
 * range though its Number is not: JSON.parse reads `9223372036854775808` (2^63) and everything up to
 * `9223372036854776832` as 2^63, which int64's check of the Number takes, as it must for `9223372036854775807` (read as
 * 2^63 too); `-9223372036854775809` reads as -2^63. The Node client writes any seed from 2^63 - 512 up as
 * `9223372036854776000` (JSON.stringify), past the bound: OpenAI, which reads the digits, refuses it. Checked on the
 * literal as sent (json-integer-literals.ts integerLiteral), in OpenAI's words with the digits sent.
 * @param field a top-level field of the body
 * @throws GatewayError 400 `integer_above_max_value` / `integer_below_min_value` naming the field (numberOutOfBounds)
 */
export function refuseInt64Literal(raw: unknown, field: string): void {
  const exact = integerLiteral(raw, field);
  if (exact === undefined || (exact >= INT64.min && exact <= INT64.max)) return;
  const issue = numberOutOfBounds(field, exact, exact > 0n ? { max: INT64.max } : { min: INT64.min });
  throw invalid(issue.message, field, issue.code);
}

/** The schemas int64 made: integers to openaiIssue (integerAt), though zod's own check for them is a refinement. */
const INTEGERS = new WeakSet<object>();

/**
 * A JSON number that is a 64-bit signed integer, as OpenAI's `seed` (OpenAI's OpenAPI spec: `type: integer`, `minimum:
 * -9223372036854775808`, `maximum: 9223372036854775807`; the `openai` package types it `number`). Any integer in that
 * range is taken, past 2^53 too (it loses precision in JSON.parse but is still an integer): not zod's `.int()`, which
 * takes safe integers only (±9007199254740991) and answered `seed: 1e17` with that bound. JSON.parse reads
 * 9223372036854775807 as 2^63, which is taken here; a literal past the range that reads as 2^63 or -2^63
 * (`9223372036854775808`) is refused by the route on its digits (refuseInt64Literal). Refused in OpenAI's words (openaiIssue):
 * - a fraction: `Invalid type for 'seed': expected an integer, but got a decimal number instead.` (`invalid_type`);
 * - another kind: `Invalid type for 'seed': expected an integer, but got a string instead.` (`invalid_type`);
 * - out of range: `Invalid 'seed': integer above maximum value. Expected a value <= 9223372036854775807, but got 1e+30
 *   instead.` (`integer_above_max_value`; `integer_below_min_value`). OpenAI's own answer to a seed out of range was
 *   not found: these are the words it gives any integer past its bound (docs/gateway.md "Errors at a glance").
 */
export function int64(): z.ZodNumber {
  const schema = z.number().superRefine((v, ctx) => {
    if (!Number.isInteger(v)) ctx.addIssue({ code: 'invalid_type', expected: 'int', input: v });
    else if (v > Number(INT64.max) || v < Number(INT64.min)) ctx.addIssue({ code: 'custom', input: v, params: { int64: true } });
  });
  INTEGERS.add(schema);
  return schema;
}

/** The zod types that wrap one schema (the wrapped one is `innerType`), walked through to reach a field's own schema. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch', 'success']);

/** Internals this walk reads of a zod schema (zod 4's `_zod.def`: its type, inner schemas, checks and number format). */
interface Walked { _zod: { def: Record<string, unknown> & { type: string; checks?: unknown[] } } }

/**
 * Whether the schema at `path` of `schema` is an integer (`z.int()`, or `z.number().int()` whose check is the format:
 * zod's formats `safeint`, `int32`, `uint32`; or int64's schema), through objects, records, arrays, tuples, wrappers, pipes, lazies, intersections and every shape of a
 * union: zod's issue for `n: 0` under `z.number().int().min(1)` says only that a number is too small.
 */
function integerAt(schema: z.ZodType, path: readonly PropertyKey[]): boolean {
  const integer = (def: Record<string, unknown>) => typeof def.format === 'string' && /int/.test(def.format);
  return schemasAt(schema as unknown as Walked, path, 0).some((s) => INTEGERS.has(s) || (s._zod.def.type === 'number'
    && (integer(s._zod.def) || ((s._zod.def.checks ?? []) as Walked[]).some((c) => integer(c._zod.def)))));
}

function schemasAt(s: Walked, path: readonly PropertyKey[], depth: number): Walked[] {
  if (depth > 64) return [];
  const def = s._zod.def;
  const next = (child: unknown, rest = path) => (child ? schemasAt(child as Walked, rest, depth + 1) : []);
  if (WRAPPERS.has(def.type)) return next(def.innerType);
  if (def.type === 'pipe') return next(def.in);
  if (def.type === 'lazy') return next((def.getter as () => unknown)());
  if (def.type === 'union') return (def.options as unknown[]).flatMap((o) => next(o));
  if (def.type === 'intersection') return [...next(def.left), ...next(def.right)];
  if (!path.length) return [s];
  const [key, ...rest] = path;
  switch (def.type) {
    case 'object': return next((def.shape as Record<PropertyKey, unknown>)[key as string] ?? def.catchall, rest);
    case 'record': return next(def.valueType, rest);
    case 'array': return next(def.element, rest);
    case 'tuple': return next((def.items as unknown[])[key as number] ?? def.rest, rest);
    default: return [];
  }
}

/**
 * `issues` without zod's safe-integer bound (`.int()`: ±9007199254740991, origin `int`) where the field's own bound of the
 * same side failed at the same path too (`n: 1e300` under `.int().max(128)` fails both): the field's bound is the one a
 * caller needs, and two sentences for one value said two different maxima. Through a union's branches too.
 * @param issues a ZodError's issues, as zod made them (paths relative to their union branch)
 */
export function withoutShadowedSafeIntegerBounds(issues: readonly Issue[]): Issue[] {
  const key = (i: Issue) => `${i.code}\u0000${JSON.stringify(i.path.map(String))}`;
  const own = new Set(issues.filter((i) => (i.code === 'too_big' || i.code === 'too_small') && i.origin === 'number').map(key));
  return issues.flatMap((i): Issue[] => {
    if ((i.code === 'too_big' || i.code === 'too_small') && i.origin === 'int' && own.has(key(i))) return [];
    if (i.code === 'invalid_union' && i.errors?.length) return [{ ...i, errors: i.errors.map((branch) => withoutShadowedSafeIntegerBounds(branch)) } as Issue];
    return [i];
  });
}
