import { invalid } from './openai-errors.js';

/**
 * Refuses a query parameter the route does not take: a 400 `unknown_parameter` naming it, as `GET /v1/usage`
 * does. Dropped unseen, `GET /v1/fine_tuning/jobs?status=running` answered every job, the caller believing
 * they were filtered.
 * @param query the request's query string parameters
 * @param allowed the names the route takes (OpenAI API reference of the route); `metadata[` takes every
 *   `metadata[<key>]` (the SDKs' deep-object form of `metadata: {key: value}`)
 * @param route the route as the message names it, e.g. `GET /v1/fine_tuning/jobs`
 * @throws GatewayError 400 `unknown_parameter` whose `param` is the first unknown name (at most 100 characters)
 */
export function refuseUnknownQuery(query: Record<string, string | undefined>, allowed: readonly string[], route: string): void {
  const unknown = Object.keys(query).find((name) => !allowed.some((a) => (a.endsWith('[') ? name.startsWith(a) && name.endsWith(']') : name === a)));
  if (unknown === undefined) return;
  const shown = unknown.slice(0, 100);
  const takes = allowed.map((a) => (a.endsWith('[') ? `${a}<key>]` : a));
  throw invalid(`unknown query parameter "${shown}": ${route} takes ${takes.length ? takes.join(', ') : 'none'}`, shown, 'unknown_parameter');
}

/** A decimal integer as a query parameter's value: digits only, no sign, exponent, hex prefix or leading zero. */
const DECIMAL_INTEGER = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * An integer query parameter (a list route's `limit`): a decimal integer from `min` to `max`. Read with Number(),
 * `limit=1e1`, `limit=02`, `limit=0x10`, `limit=1.0` and `limit= 5` were taken as 10, 2, 16, 1 and 5.
 * @param fallback the value when the parameter is not given
 * @param code the error code @default 'invalid_value'
 * @throws GatewayError 400 naming the parameter and the value given (at most 100 characters of it)
 */
export function integerQuery(query: Record<string, string | undefined>, name: string, range: { min: number; max: number; fallback: number }, code = 'invalid_value'): number {
  const raw = query[name];
  if (raw === undefined) return range.fallback;
  const n = DECIMAL_INTEGER.test(raw) ? Number(raw) : NaN;
  if (!(n >= range.min && n <= range.max)) throw invalid(`${name} "${raw.slice(0, 100)}" must be a decimal integer from ${range.min} to ${range.max}`, name, code);
  return n;
}

/**
 * A cursor query parameter (`after`): undefined when not given; given empty (`?after=`) it is a 400 naming it. It was read as
 * "no cursor" by the jobs and events lists (the first page) and as an unknown file by the files list (a 404): one query, two meanings.
 * @throws GatewayError 400 `invalid_value` naming the parameter
 */
export function cursorQuery(query: Record<string, string | undefined>, name: string): string | undefined {
  const raw = query[name];
  if (raw === '') throw invalid(`${name} is empty: give the id of the last item of the page before, or leave ${name} out for the first page`, name, 'invalid_value');
  return raw;
}

/**
 * Refuses a query parameter given more than once (`?limit=1&limit=2`): API Gateway's `queryStringParameters`, as
 * `tessera serve` reads them too, keep its last value, so the others were dropped unseen.
 * @param repeated the names the request gives more than once (GatewayRequest `repeatedQuery`)
 * @param names the names to refuse repeated @default - every name
 * @throws GatewayError 400 `invalid_value` naming the first such parameter
 */
export function refuseRepeatedQuery(repeated: readonly string[] | undefined, names?: readonly string[]): void {
  const name = repeated?.find((r) => names === undefined || names.includes(r));
  if (name === undefined) return;
  const shown = name.slice(0, 100);
  throw invalid(`query parameter "${shown}" is given more than once; give it once`, shown, 'invalid_value');
}

/** The names given more than once in `params` (a query string's), in order of their first repeat. */
export function repeatedNames(params: Iterable<[string, unknown]>): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const [name] of params) (seen.has(name) ? repeated : seen).add(name);
  return [...repeated];
}

/** The names API Gateway's `multiValueQueryStringParameters` give more than one value. */
export function repeatedOf(multi: Record<string, string[] | undefined> | null | undefined): string[] {
  return Object.entries(multi ?? {}).filter(([, values]) => (values?.length ?? 0) > 1).map(([name]) => name);
}
