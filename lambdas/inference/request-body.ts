import type { z } from 'zod';
import { describeIssues, formatPath, leafIssues, paramPath } from '../../lib/zod-issues.js';
import { invalid } from './openai-errors.js';

/** A request body as JSON (400 `invalid_json` otherwise), before any schema. */
export function parseJson(body: string | undefined): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
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
 * `raw` against `schema`; a 400 naming the bad fields and values (the first MAX_ISSUES_SHOWN, then how many more), `param` = the first field's path (`messages[0].content`).
 * A field a strict schema (z.strictObject) does not know is a 400 `unknown_parameter` whose `param` is that field's own
 * path (`model`, `input[0].detail`, never null for a top-level field) and whose message is OpenAI's ("Unrecognized request
 * argument supplied: model"), as parseStrictWith and the admin API's parse do.
 * @param unknownHint said after an unknown field's message: what the route takes instead ("POST /v1/chat/completions/{id}
 *   takes only metadata"); undefined says nothing more
 * A value outside a field's enumerated values (zod's `invalid_value`: `reasoning.effort`, `reasoning.context`,
 * `text.verbosity`, `service_tier`, …) is code `invalid_value`, as OpenAI answers it ("Invalid value: 'bogus'. Supported
 * values are: …", code `invalid_value`); every other issue `invalid_request`.
 * @param enumCode the code of a value outside an enum: `invalid_request` for Tessera's own tenant API (`/tenant/users`),
 *   whose `/tenant/keys` answers it so. @default 'invalid_value'
 * @throws GatewayError 400 (`invalid_request_error`; `unknown_parameter` for a field the schema does not know,
 *   `invalid_value` for a value outside an enum)
 */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown, unknownHint?: string, enumCode: 'invalid_value' | 'invalid_request' = 'invalid_value'): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const first = leafIssues(parsed.error)[0];
  if (first.code === 'unrecognized_keys') {
    // OpenAI's own words for a field it does not know; the gateway's answer also names it in `param`.
    const fields = first.keys.map((k) => formatPath([...first.path, k]));
    const listed = `${fields.slice(0, 5).join(', ')}${fields.length > 5 ? ` and ${fields.length - 5} more` : ''}`;
    throw invalid(`Unrecognized request argument${fields.length > 1 ? 's' : ''} supplied: ${listed}${unknownHint ? ` (${unknownHint})` : ''}`, paramPath([...first.path, first.keys[0]!]), 'unknown_parameter');
  }
  const lines = describeIssues(parsed.error, raw);
  // Each line is bounded (describeIssues cuts a value at 120 characters, a message at 300); their number is not: a body
  // of 100,000 bad messages made a 400 of megabytes. The first MAX_ISSUES_SHOWN are said, then how many more.
  const said = lines.length > MAX_ISSUES_SHOWN ? [...lines.slice(0, MAX_ISSUES_SHOWN), `and ${lines.length - MAX_ISSUES_SHOWN} more issues`] : lines;
  throw invalid(said.join('; '), first.path.length ? paramPath(first.path) : null, first.code === 'invalid_value' ? enumCode : undefined);
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
