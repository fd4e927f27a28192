import { MAX_RESPONSE_CACHE_TTL_SECONDS } from '../../../lib/tenant-record.js';
import { invalid } from '../openai-errors.js';

/**
 * The request header that steers the cache for one request, with a directive named as HTTP's `Cache-Control` names it
 * (RFC 9111 §5.2.1): `no-cache`, do not answer from the cache, call the model and keep its answer (a refresh, as
 * Portkey's `x-portkey-cache-force-refresh`); `no-store`, neither answer from the cache nor keep the answer (LiteLLM's
 * `cache: {"no-store": true}`). A header of Tessera's own, not `Cache-Control`: browsers, fetch libraries and proxies
 * send and rewrite `Cache-Control` for HTTP caches, which would steer this cache unasked; and a header, not a body
 * field as LiteLLM's `cache` object: the body stays OpenAI's, and the official clients send it with `defaultHeaders`
 * / `default_headers` or per call (`{ headers }`, `extra_headers`).
 */
export const CACHE_HEADER = 'x-tessera-cache';

/**
 * The request header giving, in seconds, how long this request's answer is kept (LiteLLM's `cache: {"ttl": N}`,
 * Portkey's `max_age`): at most the tenant's `responseCache.maxTtlSeconds`. @default - the tenant's `ttlSeconds`
 */
export const CACHE_TTL_HEADER = 'x-tessera-cache-ttl';

/**
 * The request header giving, in seconds, the oldest cached answer this request takes (RFC 9111 §5.2.1.1 `max-age`,
 * LiteLLM's `cache: {"s-maxage": N}`): an older one is not answered (a MISS: the fresh answer replaces it).
 * Ages are whole seconds: `0` takes only an answer kept within the same second. @default - any answer the tenant's TTL still keeps
 */
export const CACHE_MAX_AGE_HEADER = 'x-tessera-cache-max-age';

/** The answer header saying what the cache did: `HIT`, `MISS`, `REFRESH` (no-cache) or `BYPASS` (not cacheable). */
export const CACHE_STATUS_HEADER = 'x-tessera-cache-status';

/** What the caller asked of the cache for one request. */
export interface CacheControl {
  /** `no-cache` or `no-store` (CACHE_HEADER). @default - read and keep */
  directive?: 'no-cache' | 'no-store';
  /** How long to keep this request's answer, seconds (CACHE_TTL_HEADER). @default - the tenant's `ttlSeconds` */
  ttlSeconds?: number;
  /** The oldest cached answer taken, seconds (CACHE_MAX_AGE_HEADER). @default - any the TTL keeps */
  maxAgeSeconds?: number;
}

/**
 * The request's cache control from its headers. Checked on every chat completions, embeddings and Responses API create request, the tenant's
 * cache on or off (a client's mistake shows before the tenant turns the cache on); with it off the valid headers do
 * nothing, and the answer carries no `x-tessera-cache-status`.
 * @param headers the request's headers, names in lower case (GatewayRequest `headers`)
 * @param repeated the header names sent more than once (GatewayRequest `repeatedHeaders`) @default - none
 * @throws GatewayError 400 `invalid_value` with `param` the header's name: a directive other than `no-cache` or
 *   `no-store`, a TTL that is not a whole number of seconds from 1 to MAX_RESPONSE_CACHE_TTL_SECONDS, a max age that is
 *   not one from 0 to MAX_RESPONSE_CACHE_TTL_SECONDS, or one of the headers sent more than once (API Gateway keeps the last line only: the others would be dropped unseen)
 */
export function parseCacheControl(headers: Record<string, string | undefined>, repeated: readonly string[] = []): CacheControl {
  for (const name of [CACHE_HEADER, CACHE_TTL_HEADER, CACHE_MAX_AGE_HEADER]) {
    if (repeated.includes(name)) throw invalid(`${name} was sent more than once: send it once`, name, 'invalid_value');
  }
  const control: CacheControl = {};
  const directive = headers[CACHE_HEADER]?.trim().toLowerCase();
  if (directive !== undefined && directive !== '') {
    if (directive !== 'no-cache' && directive !== 'no-store') {
      throw invalid(`${CACHE_HEADER} = ${JSON.stringify(headers[CACHE_HEADER]!.slice(0, 100))} is not a cache directive: send no-cache (answer fresh, keep the answer) or no-store (answer fresh, keep nothing), or leave the header out`, CACHE_HEADER, 'invalid_value');
    }
    control.directive = directive;
  }
  const ttl = headers[CACHE_TTL_HEADER]?.trim();
  if (ttl !== undefined && ttl !== '') {
    const seconds = /^\d{1,7}$/.test(ttl) ? Number(ttl) : NaN;
    if (!(seconds >= 1 && seconds <= MAX_RESPONSE_CACHE_TTL_SECONDS)) {
      throw invalid(`${CACHE_TTL_HEADER} = ${JSON.stringify(ttl.slice(0, 100))} is not a TTL: send a whole number of seconds from 1 to ${MAX_RESPONSE_CACHE_TTL_SECONDS}`, CACHE_TTL_HEADER, 'invalid_value');
    }
    control.ttlSeconds = seconds;
  }
  const maxAge = headers[CACHE_MAX_AGE_HEADER]?.trim();
  if (maxAge !== undefined && maxAge !== '') {
    const seconds = /^\d{1,7}$/.test(maxAge) ? Number(maxAge) : NaN;
    if (!(seconds >= 0 && seconds <= MAX_RESPONSE_CACHE_TTL_SECONDS)) {
      throw invalid(`${CACHE_MAX_AGE_HEADER} = ${JSON.stringify(maxAge.slice(0, 100))} is not a max age: send a whole number of seconds from 0 to ${MAX_RESPONSE_CACHE_TTL_SECONDS}`, CACHE_MAX_AGE_HEADER, 'invalid_value');
    }
    control.maxAgeSeconds = seconds;
  }
  return control;
}

/** The name the response cache gives itself in `Cache-Status` (RFC 9211 §2: a cache's identifier, here a token). */
export const CACHE_STATUS_NAME = 'tessera';

/**
 * The `Cache-Status` field value (RFC 9211, a Structured Fields list of one member) of what the cache did, sent beside
 * CACHE_STATUS_HEADER: `tessera; hit; ttl=N` for a HIT (N the seconds it is still kept, RFC 9211 §2.4), `tessera; fwd=miss`
 * for a MISS (§2.2: no answer matched), `tessera; fwd=request` for a REFRESH (§2.2: the request's directive,
 * `no-cache`, did not allow one), `tessera; fwd=bypass` for a BYPASS (§2.2: the cache does not handle the request; a
 * `no-store` included), with `; stored` when the answer was kept (§2.5: only known on a whole answer: a stream's head
 * goes out before). A request answered with an identical request's answer (single-flight.ts) is `tessera; fwd=miss;
 * collapsed; ttl=N` (§2.6: it would have gone forward, and was collapsed with another forward request whose answer
 * was reused), and one whose leader had no answer `tessera; fwd=miss; collapsed=?0` (it went forward itself).
 * @param state what the cache did (`status`), whether it kept the answer, whether the request was collapsed, and the
 *   answer's remaining seconds (HIT) @default collapsed - absent: not collapsed; ttlSeconds - absent
 */
export function cacheStatusField(state: { status: 'HIT' | 'MISS' | 'REFRESH' | 'BYPASS'; stored: boolean; collapsed?: boolean; ttlSeconds?: number }): string {
  const ttl = state.ttlSeconds === undefined ? '' : `; ttl=${state.ttlSeconds}`;
  if (state.status === 'HIT') return state.collapsed ? `${CACHE_STATUS_NAME}; fwd=miss; collapsed${ttl}` : `${CACHE_STATUS_NAME}; hit${ttl}`;
  const fwd = state.status === 'MISS' ? 'miss' : state.status === 'REFRESH' ? 'request' : 'bypass';
  return `${CACHE_STATUS_NAME}; fwd=${fwd}${state.stored ? '; stored' : ''}${state.collapsed === false ? '; collapsed=?0' : ''}`;
}
