import { invalid } from '../inference/openai-errors.js';

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
