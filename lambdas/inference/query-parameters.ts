import { rangeRefusal, type OpenAIIssue } from './openai-issues.js';
import { invalid } from './openai-errors.js';

/**
 * Refuses a query parameter the route does not take: a 400 `unknown_parameter` naming it, as `GET /v1/usage`
 * does. Dropped unseen, `GET /v1/fine_tuning/jobs?status=running` answered every job, the caller believing
 * they were filtered.
 * @param query the request's query string parameters
 * @param allowed the names the route takes (OpenAI API reference of the route); `metadata[` takes every
 *   `metadata[<key>]` (the SDKs' deep-object form of `metadata: {key: value}`); `include[]` takes `include[]` (the
 *   official clients' form of a list: `include[]=a&include[]=b`, Node's and Python's `arrayFormat` `brackets`) and
 *   `include[0]`, `include[1]`… (the indices form)
 * @param route the route as the message names it, e.g. `GET /v1/fine_tuning/jobs`
 * @throws GatewayError 400 `unknown_parameter` whose `param` is the first unknown name (at most 100 characters)
 */
export function refuseUnknownQuery(query: Record<string, string | undefined>, allowed: readonly string[], route: string): void {
  const unknown = Object.keys(query).find((name) => !allowed.some((a) => takesName(a, name)));
  if (unknown === undefined) return;
  const shown = unknown.slice(0, 100);
  const takes = allowed.map((a) => (a.endsWith('[') ? `${a}<key>]` : a));
  throw invalid(`unknown query parameter "${shown}": ${route} takes ${takes.length ? takes.join(', ') : 'none'}`, shown, 'unknown_parameter');
}

/** Whether an allowed name (refuseUnknownQuery) takes the query parameter `name`. */
function takesName(allowed: string, name: string): boolean {
  if (allowed.endsWith('[]')) return name === allowed || (name.startsWith(allowed.slice(0, -1)) && /^\[\d{1,3}\]$/.test(name.slice(allowed.length - 2)));
  if (allowed.endsWith('[')) return name.startsWith(allowed) && name.endsWith(']');
  return name === allowed;
}

/**
 * A decimal integer as a query parameter's value: digits only, leading zeros taken (`limit=05` is 5); no sign, point,
 * exponent, hex prefix or space; at most 100 digits (a longer value is answered clipped, as `invalid_value`). OpenAI's
 * reference types `limit` as an integer and names no textual form; its API reads a query the way its Python stack reads
 * an integer (`int("05")`, pydantic's lax mode), which takes `05`, and no report of OpenAI refusing a leading zero was
 * found (docs and issues searched, 2026-12-07): so every list route takes it, the key list as the gateway's lists (until
 * 2026-12-07 the gateway's lists refused `05` the key list took). Read exactly (BigInt): a value past Number's safe
 * range is out of range in OpenAI's words with the digits sent, as a shorter one is.
 */
const DECIMAL_INTEGER = /^[0-9]{1,100}$/;

/** An integer query parameter read (integerQueryValue): its value, or the refusal in OpenAI's words and code. */
export type IntegerQueryRead = { readonly value: number } | { readonly refusal: OpenAIIssue };

/**
 * An integer query parameter (a list route's `limit`) read as every list route reads it, the gateway's and the key
 * list's (lambdas/identity/key-list-query.ts), each of which answers the refusal in its own error type.
 * @param raw the parameter's value as sent (undefined: not given)
 * @param range its inclusive bounds, and the value when it is not given
 * @returns `value`, or `refusal`: out of range OpenAI's `integer_above_max_value` / `integer_below_min_value` with the
 *   digits sent (rangeRefusal), anything else `invalid_value` with the value given (at most 100 characters of it)
 */
export function integerQueryValue(name: string, raw: string | undefined, range: { min: number; max: number; fallback: number }): IntegerQueryRead {
  if (raw === undefined) return { value: range.fallback };
  if (!DECIMAL_INTEGER.test(raw)) return { refusal: { code: 'invalid_value', message: `${name} "${raw.slice(0, 100)}" must be a decimal integer from ${range.min} to ${range.max}` } };
  const out = rangeRefusal(name, BigInt(raw), range);
  return out ? { refusal: out } : { value: Number(raw) };
}

/**
 * An integer query parameter (a list route's `limit`): a decimal integer from `min` to `max` (integerQueryValue). Read
 * with Number(), `limit=1e1`, `limit=0x10`, `limit=1.0` and `limit= 5` were taken as 10, 16, 1 and 5. Every list route
 * checks its `limit` here, so all answer alike: the stored chat completions' list said `invalid_value` where files,
 * batches, vector stores and fine-tuning jobs said `invalid_limit`, a code OpenAI does not use.
 * @param fallback the value when the parameter is not given
 * @throws GatewayError 400 naming the parameter: a decimal integer out of range with OpenAI's words and code
 *   (`integer_above_max_value`, `integer_below_min_value`: numberOutOfBounds); anything else `invalid_value` with the
 *   value given (at most 100 characters of it)
 */
export function integerQuery(query: Record<string, string | undefined>, name: string, range: { min: number; max: number; fallback: number }): number {
  const read = integerQueryValue(name, query[name], range);
  if ('refusal' in read) throw invalid(read.refusal.message, name, read.refusal.code);
  return read.value;
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

/** Every value of each name given more than once in `params` (a query string's), in order: GatewayRequest `queryValues`. */
export function repeatedValues(params: Iterable<[string, string]>): Record<string, string[]> {
  const all = new Map<string, string[]>();
  for (const [name, value] of params) all.set(name, [...(all.get(name) ?? []), value]);
  return Object.fromEntries([...all].filter(([, values]) => values.length > 1));
}

/** Every value of each name API Gateway's `multiValueQueryStringParameters` give more than one value. */
export function repeatedValuesOf(multi: Record<string, string[] | undefined> | null | undefined): Record<string, string[]> {
  return Object.fromEntries(Object.entries(multi ?? {}).filter((entry): entry is [string, string[]] => (entry[1]?.length ?? 0) > 1));
}

/** The names API Gateway's `multiValueQueryStringParameters` give more than one value. */
export function repeatedOf(multi: Record<string, string[] | undefined> | null | undefined): string[] {
  return Object.entries(multi ?? {}).filter(([, values]) => (values?.length ?? 0) > 1).map(([name]) => name);
}

/** The query parameters of one route: its method, its path (as routes.ts matches it), the route as a 400 names it, the names it takes (refuseUnknownQuery's `allowed`). */
export type RouteQuery = readonly [method: string, pattern: RegExp, route: string, takes: readonly string[]];

/** A cursor page's parameters (the `openai` package's CursorPageParams and ConversationCursorPageParams, with the list's `order`). */
const PAGE = ['after', 'limit', 'order'];
/** `include` (ResponseIncludable values), alone or as the official clients send a list (`include[]=a&include[]=b`). */
const INCLUDE = ['include', 'include[]'];

/**
 * The query parameters each route of the router (routes.ts OPENAI_ROUTES) and the fine-tuning API's
 * `DELETE /v1/models/{model}` takes: those of the `openai` package's params type of the call (openai 7.55 for Node,
 * 3.57 for Python: `InputItemListParams`, `ItemListParams`, `ResponseRetrieveParams`...), and Tessera's own on its
 * own routes. Any other is a 400 `unknown_parameter` naming it (refuseUnknownRouteQuery): `before` on
 * `GET /v1/responses/{id}/input_items` or a conversation's items (neither type has it) was dropped unseen, the caller
 * given the first page. A route absent here checks its own (the Batch, Files, Vector Stores, fine-tuning jobs and
 * Uploads APIs: batch-service.ts, files-service.ts, vector-stores/service.ts, fine-tuning-service.ts, uploads-service.ts).
 * What each route does with each name: docs/gateway.md, "Query parameters".
 */
export const ROUTE_QUERY_PARAMETERS: readonly RouteQuery[] = [
  ['GET', /^\/v1\/chat\/completions$/, 'GET /v1/chat/completions', [...PAGE, 'model', 'metadata[']],
  ['GET', /^\/v1\/chat\/completions\/[^/]+$/, 'GET /v1/chat/completions/{completion_id}', []],
  ['DELETE', /^\/v1\/chat\/completions\/[^/]+$/, 'DELETE /v1/chat/completions/{completion_id}', []],
  ['GET', /^\/v1\/chat\/completions\/[^/]+\/messages$/, 'GET /v1/chat/completions/{completion_id}/messages', PAGE],
  ['GET', /^\/v1\/responses\/[^/]+$/, 'GET /v1/responses/{response_id}', [...INCLUDE, 'include_obfuscation', 'starting_after', 'stream']],
  ['DELETE', /^\/v1\/responses\/[^/]+$/, 'DELETE /v1/responses/{response_id}', []],
  ['GET', /^\/v1\/responses\/[^/]+\/input_items$/, 'GET /v1/responses/{response_id}/input_items', [...PAGE, ...INCLUDE]],
  ['GET', /^\/v1\/conversations\/[^/]+$/, 'GET /v1/conversations/{conversation_id}', []],
  ['DELETE', /^\/v1\/conversations\/[^/]+$/, 'DELETE /v1/conversations/{conversation_id}', []],
  ['GET', /^\/v1\/conversations\/[^/]+\/items$/, 'GET /v1/conversations/{conversation_id}/items', [...PAGE, ...INCLUDE]],
  // ItemCreateParams' `include` is a query parameter too.
  ['POST', /^\/v1\/conversations\/[^/]+\/items$/, 'POST /v1/conversations/{conversation_id}/items', INCLUDE],
  ['GET', /^\/v1\/conversations\/[^/]+\/items\/[^/]+$/, 'GET /v1/conversations/{conversation_id}/items/{item_id}', INCLUDE],
  ['DELETE', /^\/v1\/conversations\/[^/]+\/items\/[^/]+$/, 'DELETE /v1/conversations/{conversation_id}/items/{item_id}', []],
  ['GET', /^\/v1\/models$/, 'GET /v1/models', []],
  ['GET', /^\/v1\/models\/.+$/, 'GET /v1/models/{model}', []],
  ['DELETE', /^\/v1\/models\/.+$/, 'DELETE /v1/models/{model}', []],
  ['GET', /^\/v1\/usage$/, 'GET /v1/usage', ['group_by', 'bucket_width', 'start_time', 'end_time']],
  ['GET', /^\/v1\/tenant\/requests\/[^/]+$/, 'GET /v1/tenant/requests/{request_id}', ['date']],
  ['GET', /^\/v1\/tenant\/keys$/, 'GET /v1/tenant/keys', PAGE],
  ['GET', /^\/v1\/tenant\/keys\/[^/]+$/, 'GET /v1/tenant/keys/{key_id}', []],
  ['DELETE', /^\/v1\/tenant\/keys\/[^/]+$/, 'DELETE /v1/tenant/keys/{key_id}', []],
  ['GET', /^\/v1\/tenant\/users$/, 'GET /v1/tenant/users', []],
  // POST and PUT: no params type of the calls but ItemCreateParams (above) has a query parameter, and the official clients
  // send none (openai 7.55, 3.57); `AzureOpenAI`'s `api-version` is refused too (docs/gateway.md, "Query parameters").
  ...([
    ['POST', /^\/v1\/chat\/completions$/, 'POST /v1/chat/completions'],
    ['POST', /^\/v1\/chat\/completions\/[^/]+$/, 'POST /v1/chat/completions/{completion_id}'],
    ['POST', /^\/v1\/completions$/, 'POST /v1/completions'],
    ['POST', /^\/v1\/embeddings$/, 'POST /v1/embeddings'],
    ['POST', /^\/v1\/moderations$/, 'POST /v1/moderations'],
    ['POST', /^\/v1\/images\/generations$/, 'POST /v1/images/generations'],
    ['POST', /^\/v1\/images\/edits$/, 'POST /v1/images/edits'],
    ['POST', /^\/v1\/images\/variations$/, 'POST /v1/images/variations'],
    ['POST', /^\/v1\/audio\/speech$/, 'POST /v1/audio/speech'],
    ['POST', /^\/v1\/audio\/transcriptions$/, 'POST /v1/audio/transcriptions'],
    ['POST', /^\/v1\/audio\/translations$/, 'POST /v1/audio/translations'],
    ['POST', /^\/v1\/responses$/, 'POST /v1/responses'],
    ['POST', /^\/v1\/responses\/input_tokens$/, 'POST /v1/responses/input_tokens'],
    ['POST', /^\/v1\/responses\/[^/]+\/cancel$/, 'POST /v1/responses/{response_id}/cancel'],
    ['POST', /^\/v1\/conversations$/, 'POST /v1/conversations'],
    ['POST', /^\/v1\/conversations\/[^/]+$/, 'POST /v1/conversations/{conversation_id}'],
    ['POST', /^\/v1\/tenant\/keys$/, 'POST /v1/tenant/keys'],
    ['POST', /^\/v1\/tenant\/keys\/[^/]+\/rotate$/, 'POST /v1/tenant/keys/{key_id}/rotate'],
    ['POST', /^\/v1\/tenant\/users$/, 'POST /v1/tenant/users'],
    ['POST', /^\/v1\/tenant\/users\/[^/]+\/disable$/, 'POST /v1/tenant/users/{user_id}/disable'],
    ['PUT', /^\/v1\/tenant\/users\/[^/]+\/role$/, 'PUT /v1/tenant/users/{user_id}/role'],
  ] as const).map(([method, pattern, route]): RouteQuery => [method, pattern, route, []]),
];

/**
 * Refuses a query parameter the route of `method path` does not take (ROUTE_QUERY_PARAMETERS); a route not in the
 * table is left to its handler.
 * @param path `/v1/...` as routes.ts matches it (no trailing slash, still percent-encoded)
 * @throws GatewayError 400 `unknown_parameter` naming the first unknown parameter and what the route takes
 */
export function refuseUnknownRouteQuery(method: string, path: string, query: Record<string, string | undefined>): void {
  const found = ROUTE_QUERY_PARAMETERS.find(([m, pattern]) => m === method && pattern.test(path));
  if (found) refuseUnknownQuery(query, found[3], found[2]);
}
