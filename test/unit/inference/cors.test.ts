import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_REQUEST_HEADERS, EXPOSED_RESPONSE_HEADERS, PREFLIGHT_MAX_AGE_SECONDS, actualResponseCors, allowedRequestHeaders, answerPreflight, canonicalOrigin, originAllowed, withVary,
} from '../../../lambdas/inference/cors.js';
import { routeMethods } from '../../../lambdas/inference/routes.js';
import type { CorsOrigins } from '../../../lambdas/inference/stores/cors-origins.js';
import { logSpy } from '../../support/service-log.js';

const APP = 'https://app.example.com';

describe('origin matching (ASCII serialization, RFC 6454 §6.2)', () => {
  it('matches the exact origin', () => {
    expect(originAllowed(APP, [APP])).toBe(true);
    expect(originAllowed('https://other.example.com', [APP])).toBe(false);
  });

  it('compares scheme and host without case, as browsers serialize them in lower case', () => {
    expect(originAllowed('HTTPS://App.Example.COM', [APP])).toBe(true);
    expect(canonicalOrigin('HTTPS://App.Example.COM')).toBe(APP);
  });

  it('refuses a trailing slash or any path: an Origin header is scheme://host[:port] only', () => {
    expect(canonicalOrigin(`${APP}/`)).toBeUndefined();
    expect(canonicalOrigin(`${APP}/app`)).toBeUndefined();
    expect(originAllowed(`${APP}/`, [APP])).toBe(false);
    expect(canonicalOrigin(`${APP}?x=1`)).toBeUndefined();
  });

  it('never allows the null origin (sandboxed frames, file:, data: all send it), even when a policy lists it', () => {
    expect(canonicalOrigin('null')).toBeUndefined();
    expect(originAllowed('null', ['null', APP])).toBe(false);
  });

  it('treats ports as part of the origin; the scheme\'s default port equals no port', () => {
    expect(originAllowed('http://localhost:5173', ['http://localhost:5173'])).toBe(true);
    expect(originAllowed('http://localhost:5174', ['http://localhost:5173'])).toBe(false);
    expect(originAllowed('http://localhost', ['http://localhost:5173'])).toBe(false);
    expect(originAllowed(APP, ['https://app.example.com:443'])).toBe(true);
    expect(originAllowed('https://app.example.com:8443', [APP])).toBe(false);
    expect(originAllowed('http://app.example.com', [APP])).toBe(false);
  });

  it('refuses other schemes, user info and absent values; no policy means none allowed', () => {
    for (const bad of ['ftp://app.example.com', 'chrome-extension://abcdef', 'https://user@app.example.com', '', undefined]) expect(canonicalOrigin(bad)).toBeUndefined();
    expect(originAllowed(APP, undefined)).toBe(false);
    expect(originAllowed(APP, [])).toBe(false);
  });

  it('does not match a suffix or a prefix of an allowed host', () => {
    expect(originAllowed('https://evilapp.example.com', [APP])).toBe(false);
    expect(originAllowed('https://app.example.com.evil.test', [APP])).toBe(false);
  });
});

describe('request header allow-list', () => {
  it('keeps what the OpenAI SDKs send, lower case, in the order asked, without duplicates', () => {
    const asked = 'Authorization, Content-Type, X-Stainless-Lang, x-stainless-os, x-stainless-retry-count, openai-organization, OpenAI-Project, openai-beta, idempotency-key, authorization';
    expect(allowedRequestHeaders(asked)).toEqual(['authorization', 'content-type', 'x-stainless-lang', 'x-stainless-os', 'x-stainless-retry-count', 'openai-organization', 'openai-project', 'openai-beta', 'idempotency-key']);
  });

  it('drops anything else (cookie, forwarding headers, a bare prefix, malformed names)', () => {
    expect(allowedRequestHeaders('cookie, x-forwarded-for, x-tenant-id, x-stainless-, bad header, x-amz-security-token')).toEqual([]);
    expect(allowedRequestHeaders(undefined)).toEqual([]);
  });

  it('covers every x-stainless header the Node SDK sends', () => {
    for (const h of ['x-stainless-lang', 'x-stainless-package-version', 'x-stainless-os', 'x-stainless-arch', 'x-stainless-runtime', 'x-stainless-runtime-version', 'x-stainless-retry-count', 'x-stainless-timeout', 'x-stainless-helper-method']) {
      expect(allowedRequestHeaders(h)).toEqual([h]);
    }
    expect(ALLOWED_REQUEST_HEADERS).toContain('authorization');
  });

  it('allows Tessera\'s request tags (x-tessera-tags), so a browser app can tag its calls', () => {
    expect(allowedRequestHeaders('authorization, X-Tessera-Tags, content-type')).toEqual(['authorization', 'x-tessera-tags', 'content-type']);
    // and the response cache's controls (x-tessera-cache, x-tessera-cache-ttl)
    expect(allowedRequestHeaders('authorization, x-tessera-cache, X-Tessera-Cache-TTL, x-tessera-cache-max-age')).toEqual(['authorization', 'x-tessera-cache', 'x-tessera-cache-ttl', 'x-tessera-cache-max-age']);
  });

  it('allows every header openai-node sends, as a preflight asks for them (Firefox lists User-Agent: openai/openai-node#1694)', async () => {
    const sent = new Set<string>();
    const fetch = async (_url: string | URL | Request, init?: RequestInit) => {
      for (const name of new Headers(init?.headers).keys()) sent.add(name);
      const body = { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [], data: [] };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://gw.test/v1', organization: 'org', project: 'proj', fetch, timeout: 30_000, maxRetries: 0 });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { idempotencyKey: 'idem', headers: { 'OpenAI-Beta': 'assistants=v2' } });
    await client.embeddings.create({ model: 'm', input: 'hi', encoding_format: 'float' });
    await client.chat.completions.parse({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined);
    expect(sent).toContain('user-agent');
    expect(sent).toContain('openai-organization');
    // The Fetch standard's safelisted names a preflight does not ask for; content-type is asked (application/json is not safelisted).
    const asked = [...sent].filter((n) => !['accept', 'accept-language', 'content-language'].includes(n));
    expect(allowedRequestHeaders(asked.join(', ')).sort()).toEqual(asked.sort());
  });
});

describe('Vary', () => {
  it('adds Origin once, keeping what was there', () => {
    expect(withVary({}, 'Origin')).toEqual({ vary: 'Origin' });
    expect(withVary({ Vary: 'Accept-Encoding' }, 'Origin')).toEqual({ Vary: 'Accept-Encoding, Origin' });
    expect(withVary({ vary: 'origin' }, 'Origin')).toEqual({ vary: 'origin' });
  });
});

describe('actual responses', () => {
  it('carry Allow-Origin (the request\'s, never *) and Expose-Headers when the tenant allows the origin', () => {
    expect(actualResponseCors(APP, [APP])).toEqual({ 'access-control-allow-origin': APP, 'access-control-expose-headers': EXPOSED_RESPONSE_HEADERS.join(', ') });
    expect(EXPOSED_RESPONSE_HEADERS).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens', 'x-tessera-limit-scope', 'x-tessera-cost-usd', 'x-tessera-model', 'x-tessera-fallback-from', 'x-tessera-cache-status', 'cache-status', 'age']));
  });

  it('carry nothing for another origin, no origin, or a tenant without origins', () => {
    expect(actualResponseCors('https://other.example.com', [APP])).toEqual({});
    expect(actualResponseCors(undefined, [APP])).toEqual({});
    expect(actualResponseCors(APP, undefined)).toEqual({});
  });
});

describe('preflight answers', () => {
  const index = (...allowed: string[]): CorsOrigins & { asked: string[] } => {
    const asked: string[] = [];
    return { asked, allows: async (o) => (asked.push(o), allowed.includes(o)) };
  };
  const preflight = (origin: string | undefined, extra: Record<string, string> = {}) => ({
    path: '/v1/chat/completions',
    headers: { ...(origin ? { origin } : {}), 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-stainless-lang,cookie', ...extra },
  });

  it('an allowed origin: 204 with Allow-Origin, the route\'s methods, the allowed asked headers, Max-Age and Vary', async () => {
    const answer = await answerPreflight(preflight(APP), routeMethods('/v1/chat/completions'), index(APP));
    expect(answer).toEqual({
      status: 204,
      headers: {
        vary: 'Origin, Access-Control-Request-Headers',
        'access-control-allow-origin': APP,
        // POST creates; GET lists stored chat completions (`store: true`).
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'authorization, content-type, x-stainless-lang',
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      },
    });
  });

  it('asks the index with the origin serialized; answers with the origin as sent', async () => {
    const idx = index(APP);
    const answer = await answerPreflight(preflight('https://APP.example.com'), ['POST'], idx);
    expect(idx.asked).toEqual([APP]);
    expect(answer.headers['access-control-allow-origin']).toBe('https://APP.example.com');
  });

  it('another origin, or null: 204 with no CORS header at all', async () => {
    for (const origin of ['https://other.example.com', 'null', `${APP}/`]) {
      const answer = await answerPreflight(preflight(origin), ['POST'], index(APP));
      expect(answer.status).toBe(204);
      expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('omits Allow-Headers when nothing asked is allowed', async () => {
    const answer = await answerPreflight(preflight(APP, { 'access-control-request-headers': 'cookie' }), ['POST'], index(APP));
    expect(answer.headers['access-control-allow-headers']).toBeUndefined();
    expect(answer.headers['access-control-allow-origin']).toBe(APP);
  });

  it('lists the route\'s methods: GET and DELETE on a stored response, GET on a model id with slashes', async () => {
    expect((await answerPreflight({ ...preflight(APP), path: '/v1/responses/resp_1' }, routeMethods('/v1/responses/resp_1'), index(APP))).headers['access-control-allow-methods']).toBe('GET, DELETE');
    expect(routeMethods('/v1/models/bedrock%2Fanthropic.claude-3-5-haiku')).toEqual(['GET']);
    expect(routeMethods('/v1/models/huggingface/meta-llama/Llama-3.1-8B-Instruct')).toEqual(['GET']);
    // With the fine-tuning Lambda beside it (the deployed router's preflights), a model also takes DELETE (client.models.delete).
    expect(routeMethods('/v1/models/ft:llama-3.1-8b-instruct:acme:support', true)).toEqual(['GET', 'DELETE']);
    expect(routeMethods('/v1/models', true)).toEqual(['GET']);
    expect(routeMethods('/v1/responses/resp_1/input_items')).toEqual(['GET']);
    expect(routeMethods('/v1/responses/resp_1/cancel')).toEqual(['POST']); // client.responses.cancel (background responses)
    expect(routeMethods('/v1/embeddings')).toEqual(['POST']);
  });

  it('a path the gateway does not serve: 404 route_not_found in OpenAI\'s shape, no CORS headers, the index not asked', async () => {
    const idx = index(APP);
    const answer = await answerPreflight({ ...preflight(APP), path: '/v1/nope' }, routeMethods('/v1/nope'), idx);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body!).error).toMatchObject({ type: 'invalid_request_error', code: 'route_not_found' });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(idx.asked).toEqual([]);
    expect(routeMethods('/v1/fine_tuning/jobs')).toBeUndefined();
    expect(routeMethods('/v1/fine_tuning/jobs', true)).toEqual(['GET', 'POST']);
  });

  it('a plain OPTIONS (no Origin or no Access-Control-Request-Method): 204 with Allow, no CORS headers', async () => {
    const plain = await answerPreflight({ path: '/v1/models', headers: {} }, routeMethods('/v1/models'), index(APP));
    expect(plain).toEqual({ status: 204, headers: { vary: 'Origin, Access-Control-Request-Headers', allow: 'GET, OPTIONS' } });
    const noMethod = await answerPreflight({ path: '/v1/models', headers: { origin: APP } }, ['GET'], index(APP));
    expect(noMethod.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an unreadable index: 503 cors_origin_index_unavailable, no CORS headers', async () => {
    const broken: CorsOrigins = { allows: async () => { throw new Error('AccessDeniedException'); } };
    const logged = logSpy('tessera-gateway', 'error');
    try {
      const answer = await answerPreflight(preflight(APP), ['POST'], broken);
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body!).error.code).toBe('cors_origin_index_unavailable');
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(logged.lines()).toEqual([{ level: 'ERROR', message: 'CORS origin index unreadable', origin: APP, error: 'AccessDeniedException' }]);
    } finally {
      logged.mockRestore();
    }
  });
});
