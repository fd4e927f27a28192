import { z } from 'zod';
import { describeIssues, formatPath, leafIssues, paramPath, shownKey } from '../../lib/zod-issues.js';
import { parseJsonWithIntegerLiterals } from './json-integer-literals.js';
import { invalid, unknownParameter } from './openai-errors.js';
import { openaiIssue, withoutShadowedSafeIntegerBounds } from './openai-issues.js';

/**
 * A request body as JSON (400 `invalid_json` otherwise), before any schema. An integer literal past Number's safe range
 * is kept as written beside its Number (json-integer-literals.ts), for the 64-bit fields' exact bounds.
 */
export function parseJson(body: string | undefined): unknown {
  let value: unknown;
  try {
    value = parseJsonWithIntegerLiterals(body ?? '');
  } catch {
    throw invalid('request body is not valid JSON', null, 'invalid_json');
  }
  // A body with at most MAX_DEPTH brackets cannot nest deeper (the common case: no walk).
  if (!fewBrackets(body ?? '', MAX_DEPTH) && depthOver(value, MAX_DEPTH)) throw invalid(`request body nests objects or arrays deeper than ${MAX_DEPTH} levels`, null, 'invalid_json');
  return value;
}

/** Deeper than any real request (a JSON schema nests a few levels); serializing deeper ones can exhaust the stack. */
const MAX_DEPTH = 64;

/** Whether `text` holds at most `max` opening brackets (`{` and `[`, in strings too): then no value in it nests deeper than `max`. */
function fewBrackets(text: string, max: number): boolean {
  let n = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) if (++n > max) return false;
  }
  return true;
}

/** Whether `value` nests deeper than `max`, walked without recursion. */
function depthOver(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** The most issues a 400 of parseWith lists; the rest are counted (`and 12 more issues`). */
export const MAX_ISSUES_SHOWN = 10;

/**
 * `raw` against `schema`; a 400 in OpenAI's words and code for the first issue, `param` its path (`messages[0].content`):
 * `Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.` (`decimal_above_max_value`),
 * `Missing required parameter: 'messages'.` (`missing_required_parameter`), `Invalid type for 'n': expected an integer,
 * but got a string instead.` (`invalid_type`), `Invalid value: 'x'. Supported values are: 'a' and 'b'.` (`invalid_value`),
 * `empty_array`, `string_above_max_length`, `array_above_max_length`, … (openai-issues.ts openaiIssue). A message the
 * schema sets itself for that issue (what to do instead: embeddings' empty input) follows OpenAI's sentence; then `Also:`
 * and the other issues, each in OpenAI's words where it has them, else `path = value: what is wrong` (describeIssues):
 * MAX_ISSUES_SHOWN in all, then how many more. When the first is an issue OpenAI has no words for here (a refinement's,
 * a format's), every issue is said as describeIssues says it, code `invalid_request`.
 * A field a strict schema (z.strictObject) does not know is a 400 `unknown_parameter` whose `param` is that field's own
 * path (`model`, `input[0].detail`, never null for a top-level field) and whose message is OpenAI's: "Unrecognized request
 * argument supplied: model" for a top-level field, as parseStrictWith and the admin API's parse do; "Unknown parameter:
 * 'input[0].detail'." for a key inside the request's objects, as OpenAI answers one (openai-errors.ts unknownParameter).
 * @param unknownHint said after an unknown field's message: what the route takes instead ("POST /v1/chat/completions/{id}
 *   takes only metadata"); undefined says nothing more
 * @param words `openai` for the OpenAI API's routes; `tessera` for Tessera's own tenant API (`/tenant/users`), which
 *   answers as `/tenant/keys` and the admin API do: each issue as `path = value: what is wrong`, code `invalid_request`
 *   (an unknown field `unknown_parameter`). @default 'openai'
 * @throws GatewayError 400 (`invalid_request_error`; the code as above)
 */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown, unknownHint?: string, words: 'openai' | 'tessera' = 'openai'): z.infer<S> {
  // zod's own messages, collected as its parse writes them: an issue whose message is not one of them has the schema's.
  const generic = new Set<string>();
  const parsed = schema.safeParse(raw, {
    error: (issue) => {
      const made = z.config().localeError?.(issue);
      const message = typeof made === 'string' ? made : made?.message;
      if (message) generic.add(message);
      return message;
    },
  });
  if (parsed.success) return parsed.data;
  const error = new z.ZodError(withoutShadowedSafeIntegerBounds(parsed.error.issues));
  const first = leafIssues(error)[0];
  if (first.code === 'unrecognized_keys') {
    // A key inside the request's objects: OpenAI's words for one (`Unknown parameter: 'input[0].foo'.`), the first named.
    if (first.path.length && words === 'openai') throw unknownParameter(paramPath([...first.path, shownKey(first.keys[0]!)]), unknownHint && `${unknownHint.charAt(0).toUpperCase()}${unknownHint.slice(1)}.`);
    // OpenAI's own words for a top-level field it does not know; the gateway's answer also names it in `param`.
    const fields = first.keys.map((k) => formatPath([...first.path, k]));
    const listed = `${fields.slice(0, 5).join(', ')}${fields.length > 5 ? ` and ${fields.length - 5} more` : ''}`;
    throw invalid(`Unrecognized request argument${fields.length > 1 ? 's' : ''} supplied: ${listed}${unknownHint ? ` (${unknownHint})` : ''}`, paramPath([...first.path, first.keys[0]!]), 'unknown_parameter');
  }
  const issues = leafIssues(error);
  const param = first.path.length ? paramPath(first.path) : null;
  const described = describeIssues(error, raw);
  // Only the issues a message shows are worded (a body of 20,000 bad messages has 20,000 issues).
  const openai = words === 'openai' ? issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => openaiIssue(issue, raw, schema)) : [];
  if (!openai[0]) throw invalid(bounded(described), param);
  // The schema's own message for the first issue (what to do instead: embeddings' empty input, its 2,048 inputs, where a
  // list in metadata goes) follows OpenAI's sentence; not for a value outside an enum, whose sentence already says what is
  // taken, nor for a union's issue leafIssues wrote (`Invalid input: expected string or array`), nor for metadata's keys,
  // whose sentence says the bound and the count (`metadata has at most 16 keys (17 given)` after it said it twice). A
  // type error's own message is advice (the schemas word no type error but to say what to do: metadata's list).
  const own = generic.has(first.message) || first.code === 'invalid_union' || SAID_IN_FULL.has(openai[0].code) ? ''
    : ` ${first.message.charAt(0).toUpperCase()}${first.message.length > 300 ? `${first.message.slice(1, 297)}...` : first.message.slice(1)}`;
  // The other issues in OpenAI's words where it has them, else as describeIssues says them (`path = value: what is wrong`).
  const others = described.slice(1).map((line, i) => openai[i + 1]?.message ?? line);
  // The schema's own words end as a sentence before `Also:` (metadata's advice ends with the header's value).
  const ownSaid = own && others.length && !/[.!?]$/.test(own) ? `${own}.` : own;
  throw invalid(`${openai[0].message}${ownSaid}${others.length ? ` Also: ${bounded(others, MAX_ISSUES_SHOWN - 1)}` : ''}`, openai[0].param ?? param, openai[0].code);
}

/**
 * OpenAI's codes whose sentence says all a schema's own message for the issue would (parseWith adds none after it). A
 * string's length bound is one (its sentence says the bound and the length): a metadata value past 512 characters said
 * them twice on the routes whose schema reads metadata (`… but got a string with length 600 instead. A metadata value is
 * a string of at most 512 characters (this one has 600)`), and once on the batch and vector store routes, which check it
 * themselves.
 */
const SAID_IN_FULL = new Set(['invalid_value', 'object_above_max_properties', 'property_name_above_max_length', 'string_above_max_length']);

/**
 * The lines joined, the first `max` of them and then how many more: each line is bounded (describeIssues cuts a value at
 * 120 characters, a message at 300; OpenAI's sentences quote at most 200), their number is not (a body of 100,000 bad
 * messages made a 400 of megabytes). After one of OpenAI's sentences (which ends in a full stop) the next follows as a
 * sentence (`… instead. And 12 more issues.`); else `; ` (`…; and 12 more issues`).
 * @param max the most lines said @default MAX_ISSUES_SHOWN
 */
function bounded(lines: readonly string[], max = MAX_ISSUES_SHOWN): string {
  const said = lines.slice(0, max).reduce((text, line, i) => (i === 0 ? line : `${text}${text.endsWith('.') ? ' ' : '; '}${line}`), '');
  if (lines.length <= max) return said;
  return said.endsWith('.') ? `${said} And ${lines.length - max} more issues.` : `${said}; and ${lines.length - max} more issues`;
}

/**
 * `raw` against a strict `schema` (unknown fields refused): parseWith, named for the routes whose schema is strict
 * throughout (moderations). A field the schema does not know is a 400 `unknown_parameter` whose `param` is that field's
 * path (`temperature`, `input[0].detail`) and whose message is OpenAI's ("Unrecognized request argument supplied: temperature").
 * @throws GatewayError 400, as parseWith
 */
export function parseStrictWith<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  return parseWith(schema, raw);
}
