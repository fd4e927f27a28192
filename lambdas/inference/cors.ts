import type { CorsOrigins } from './stores/cors-origins.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * Browser access to the gateway (CORS, the Fetch standard's "CORS protocol",
 * https://fetch.spec.whatwg.org/#http-cors-protocol). Pure functions: the gateway asks them what
 * headers a preflight or an actual response carries.
 *
 * - Origins are compared in their ASCII serialization (RFC 6454 §6.2: lower-case scheme and host,
 *   no default port, no path), so `https://App.example.com:443` in a policy matches the
 *   `https://app.example.com` a browser sends. `null` (sandboxed frames, `file:`) never matches:
 *   every opaque origin serializes to it, so allowing it would allow them all.
 * - `Access-Control-Allow-Origin` echoes the request's origin, never `*`.
 * - No `Access-Control-Allow-Credentials`: callers send a bearer token in `Authorization`, not
 *   cookies, so requests are not "credentialed" in the Fetch sense.
 */

/** How long (seconds) a browser may reuse a preflight answer: a removed origin stops working within this plus the origin index's 60 s cache. Chromium caps it at 7200. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Request headers a preflight may allow (`Access-Control-Request-Headers` is filtered to these):
 * what the official OpenAI SDKs send from a browser. `x-stainless-*` are the SDKs' telemetry
 * headers (`x-stainless-lang`, `-os`, `-arch`, `-runtime`, `-runtime-version`,
 * `-package-version`, `-retry-count`, `-timeout`, `-read-timeout`, `-async`, `-helper-method`...).
 * `user-agent`: openai-node sets `User-Agent: OpenAI/JS <version>` on every request; Firefox sends it
 * and so lists it in `Access-Control-Request-Headers` (Chromium drops it), and a preflight that does
 * not allow it fails the call (openai/openai-node#1694).
 */
export const ALLOWED_REQUEST_HEADERS: readonly string[] = [
  'authorization', 'content-type', 'accept', 'accept-language', 'content-language', 'user-agent',
  'openai-organization', 'openai-project', 'openai-beta', 'idempotency-key', 'x-request-id',
  // Tessera's request tags (request-tags.ts): a browser app tags its calls as a server does.
  'x-tessera-tags',
  // The response cache's per-request controls (response-cache/cache-control.ts).
  'x-tessera-cache', 'x-tessera-cache-ttl', 'x-tessera-cache-max-age',
];
export const ALLOWED_REQUEST_HEADER_PREFIXES: readonly string[] = ['x-stainless-'];

/**
 * Response headers a browser script may read (`Access-Control-Expose-Headers`): the ones the
 * OpenAI SDKs read (request id, retry advice, rate-limit state, the vector store pollers' wait) beyond the CORS-safelisted ones,
 * and Tessera's `x-tessera-limit-scope` (whose limit a 429 is about: tenant, user or key) and the cost headers of a whole
 * metered answer (audit.ts answerCostHeaders: `x-tessera-cost-usd`, `x-tessera-model`, `x-tessera-fallback-from`), and the
 * response cache's (response-cache/request-cache.ts: `x-tessera-cache-status`, RFC 9211's `cache-status`, and a HIT's `age`, not CORS-safelisted).
 */
export const EXPOSED_RESPONSE_HEADERS: readonly string[] = [
  'x-request-id', 'retry-after', 'retry-after-ms', 'x-should-retry', 'openai-processing-ms', 'openai-poll-after-ms',
  'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens',
  'x-tessera-limit-scope', 'x-tessera-cost-usd', 'x-tessera-model', 'x-tessera-fallback-from', 'x-tessera-cache-status', 'cache-status', 'age',
];

const SERIALIZED_ORIGIN = /^(https?):\/\/[^/?#@\s\\]+$/i;
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * An origin in its ASCII serialization (`https://app.example.com`, `http://localhost:5173`), or
 * undefined when `value` is not an http(s) origin: `null`, a path or trailing slash, user info,
 * another scheme, or absent.
 */
export function canonicalOrigin(value: string | undefined): string | undefined {
  if (!value || !SERIALIZED_ORIGIN.test(value)) return undefined;
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether `origin` (the request's `Origin` header) is one of `allowed` (a tenant policy's
 * `gateway.allowedOrigins`), compared in ASCII serialization. @default allowed - none
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[] | undefined): boolean {
  const wanted = canonicalOrigin(origin);
  return wanted !== undefined && (allowed ?? []).some((a) => canonicalOrigin(a) === wanted);
}

/**
 * The names of `Access-Control-Request-Headers` (comma-separated, any case) that the gateway
 * allows, lower case, in the order asked, without duplicates.
 */
export function allowedRequestHeaders(requested: string | undefined): string[] {
  const names = (requested ?? '').split(',').map((n) => n.trim().toLowerCase()).filter((n) => TOKEN.test(n));
  return [...new Set(names)].filter((n) => ALLOWED_REQUEST_HEADERS.includes(n) || ALLOWED_REQUEST_HEADER_PREFIXES.some((p) => n.startsWith(p) && n.length > p.length));
}

/** Adds `value` to a response's `Vary` list (RFC 9110 §12.5.5), keeping what it held. */
export function withVary(headers: Record<string, string>, value: string): Record<string, string> {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
  if (!key) return { ...headers, vary: value };
  const present = headers[key].split(',').map((v) => v.trim().toLowerCase());
  return present.includes(value.toLowerCase()) || present.includes('*') ? headers : { ...headers, [key]: `${headers[key]}, ${value}` };
}

/**
 * The CORS headers of an actual (non-preflight) response to a caller whose tenant allows
 * `allowed` origins: `Access-Control-Allow-Origin` (the request's origin) and
 * `Access-Control-Expose-Headers` when the request's origin is allowed, else none. `Vary: Origin`
 * is added by the caller to every answer, since the answer depends on the origin.
 */
export function actualResponseCors(origin: string | undefined, allowed: readonly string[] | undefined): Record<string, string> {
  if (!origin || !originAllowed(origin, allowed)) return {};
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_RESPONSE_HEADERS.join(', ') };
}

/** A preflight answer: status, headers, and a body only for errors (OpenAI's error shape). */
export interface PreflightAnswer {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** What a preflight answer needs of the request. Header names in lower case. */
export interface PreflightRequest {
  path: string;
  headers: Record<string, string | undefined>;
}

const errorBody = (message: string, type: string, code: string) => JSON.stringify({ error: { message, type, param: null, code } });

/**
 * The answer to an `OPTIONS` request, given before (and without) authentication:
 * - a path the gateway does not serve: 404 `route_not_found`, no CORS headers;
 * - not a CORS preflight (no `Origin` or no `Access-Control-Request-Method`): 204 with `Allow`;
 * - a preflight from an origin some tenant allows (`origins`): 204 with
 *   `Access-Control-Allow-Origin` (the origin), `-Allow-Methods` (the route's), `-Allow-Headers`
 *   (those asked that the gateway allows, omitted when none), `-Max-Age` (600 s);
 * - a preflight from any other origin (or `null`): 204 with no CORS headers. The Fetch standard
 *   fails a preflight whose answer lacks a matching `Access-Control-Allow-Origin` whatever its
 *   status; 204 lets the browser report exactly that ("No 'Access-Control-Allow-Origin' header").
 * - the origin index unreadable: 503 `cors_origin_index_unavailable` (logged), no CORS headers.
 * Every preflight answer carries `Vary: Origin, Access-Control-Request-Headers`.
 * @param methods the route's methods (routes.ts), undefined for a path not served
 * @param notFound the 404's message for a path not served (routes.ts unservedRouteMessage: the path cut at 200 characters,
 *   the missing-/v1 hint, what is served) @default `no route OPTIONS <path>`, the path cut at 200 characters (a path of
 *   some 16 KB, Node's header limit, was echoed whole)
 */
export async function answerPreflight(req: PreflightRequest, methods: readonly string[] | undefined, origins: CorsOrigins, notFound?: string): Promise<PreflightAnswer> {
  const vary = { vary: 'Origin, Access-Control-Request-Headers' };
  if (!methods) {
    const message = notFound ?? `no route OPTIONS ${req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path || '/'}`;
    return { status: 404, headers: { ...vary, 'content-type': 'application/json' }, body: errorBody(message, 'invalid_request_error', 'route_not_found') };
  }
  const origin = req.headers.origin;
  if (!origin || !req.headers['access-control-request-method']) return { status: 204, headers: { ...vary, allow: [...methods, 'OPTIONS'].join(', ') } };
  const canonical = canonicalOrigin(origin);
  if (!canonical) return { status: 204, headers: vary };
  let allowed: boolean;
  try {
    allowed = await origins.allows(canonical);
  } catch (e) {
    logger.error('CORS origin index unreadable', { origin: canonical, error: (e as Error).message });
    return { status: 503, headers: { ...vary, 'content-type': 'application/json' }, body: errorBody('the CORS origin index could not be read; retry', 'upstream_error', 'cors_origin_index_unavailable') };
  }
  if (!allowed) return { status: 204, headers: vary };
  const asked = allowedRequestHeaders(req.headers['access-control-request-headers']);
  return {
    status: 204,
    headers: {
      ...vary,
      'access-control-allow-origin': origin,
      'access-control-allow-methods': methods.join(', '),
      ...(asked.length ? { 'access-control-allow-headers': asked.join(', ') } : {}),
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    },
  };
}
