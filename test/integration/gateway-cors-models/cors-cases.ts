import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Authorizer } from '../../../lambdas/inference/auth.js';
import { EXPOSED_RESPONSE_HEADERS, PREFLIGHT_MAX_AGE_SECONDS } from '../../../lambdas/inference/cors.js';
import { ACME_APP, GLOBEX_APP, IDS, STRANGER, corsHeadersOf, sdkPreflight } from './fixtures.js';

/** A gateway under test: `tessera serve`, or API Gateway + the Lambdas. */
export interface CorsTarget {
  /** Base URL ending in `/v1`. */
  url: string;
  token(tenantId: string): Promise<string>;
  stop(): Promise<void>;
}

const MODEL = 'openai-compatible/default';

/**
 * The CORS behaviour every deployment shape must show, run against `start()`'s gateway: preflights
 * answered from the origin index without authentication, actual answers (whole, streamed, errors)
 * carrying `Access-Control-Allow-Origin` only for the caller's own tenant's origins.
 */
export function describeCors(label: string, start: () => Promise<CorsTarget>): void {
  describe(`CORS through ${label}`, () => {
    let target: CorsTarget;
    const tokens: Record<string, string> = {};
    const authorize = vi.spyOn(Authorizer.prototype, 'authorize');
    beforeAll(async () => {
      target = await start();
      for (const t of ['acme', 'globex', 'initech']) tokens[t] = await target.token(t);
    });
    afterAll(async () => {
      authorize.mockRestore();
      await target?.stop();
    });

    const preflight = (path: string, headers: Record<string, string>) => fetch(`${target.url}${path}`, { method: 'OPTIONS', headers });
    const client = (tenant: string, origin: string) => new OpenAI({ baseURL: target.url, apiKey: tokens[tenant], maxRetries: 0, timeout: 20_000, defaultHeaders: { origin } });

    it('a preflight from an origin some tenant allows: 204 with Allow-Origin/Methods/Headers/Max-Age, and no authorizer call', async () => {
      authorize.mockClear();
      const res = await preflight('/chat/completions', sdkPreflight(ACME_APP));
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      expect(corsHeadersOf(res.headers)).toEqual({
        'access-control-allow-origin': ACME_APP,
        'access-control-allow-methods': 'GET, POST', // POST creates; GET lists stored chat completions
        'access-control-allow-headers': sdkPreflight(ACME_APP)['access-control-request-headers'].split(',').join(', '),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      });
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
      expect(authorize).not.toHaveBeenCalled();
    });

    it('a preflight for GET of a model id holding / and : lists GET (and DELETE where fine-tuning is served); http://localhost:5173 (a port) is matched exactly', async () => {
      const res = await preflight(`/models/${encodeURIComponent(IDS.configuredFineTuned)}`, { ...sdkPreflight(GLOBEX_APP, 'GET'), 'access-control-request-headers': 'authorization' });
      expect(res.status).toBe(204);
      // Deployed, the fine-tuning Lambda serves DELETE on the same resource (client.models.delete): the router's preflight lists it; serve without --fine-tuning does not.
      const methods = label.includes('API Gateway') ? 'GET, DELETE' : 'GET';
      expect(corsHeadersOf(res.headers)).toMatchObject({ 'access-control-allow-origin': GLOBEX_APP, 'access-control-allow-methods': methods, 'access-control-allow-headers': 'authorization' });
      const otherPort = await preflight('/models', sdkPreflight('http://localhost:5174', 'GET'));
      expect(corsHeadersOf(otherPort.headers)).toEqual({});
    });

    it('a preflight from any other origin, or null: 204 with no CORS header, and no authorizer call', async () => {
      authorize.mockClear();
      for (const origin of [STRANGER, 'null', `${ACME_APP}/`]) {
        const res = await preflight('/chat/completions', sdkPreflight(origin));
        expect(res.status, origin).toBe(204);
        expect(corsHeadersOf(res.headers), origin).toEqual({});
      }
      expect(authorize).not.toHaveBeenCalled();
    });

    it('a streamed chat answer to an allowed origin carries Allow-Origin and Expose-Headers (official Node client)', async () => {
      const { data: stream, response } = await client('acme', ACME_APP).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello browser' }], stream: true }).withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toContain('hello browser');
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(response.headers.get('access-control-allow-origin')).toBe(ACME_APP);
      expect(response.headers.get('access-control-expose-headers')).toBe(EXPOSED_RESPONSE_HEADERS.join(', '));
      expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
    });

    it('every answer of the gateway carries openai-processing-ms, whole milliseconds as OpenAI sends it: whole, streamed (on the head), errors (official Node client)', async () => {
      const ms = (headers: Headers, what: string) => expect(headers.get('openai-processing-ms'), what).toMatch(/^\d+$/);
      const { response: whole } = await client('acme', ACME_APP).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      ms(whole.headers, 'chat completion');
      const { data: stream, response: head } = await client('acme', ACME_APP).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
      ms(head.headers, 'stream head');
      for await (const chunk of stream) void chunk;
      ms((await client('globex', GLOBEX_APP).models.list().withResponse()).response.headers, 'model list');
      const notFound = await client('acme', ACME_APP).models.retrieve('openai-compatible/nope').catch((e: unknown) => e);
      expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
      ms((notFound as InstanceType<typeof OpenAI.NotFoundError>).headers, '404 model_not_found');
      const badRequest = await client('acme', ACME_APP).chat.completions.create({ model: MODEL, messages: 'hi' as never }).catch((e: unknown) => e);
      expect(badRequest).toBeInstanceOf(OpenAI.BadRequestError);
      ms((badRequest as InstanceType<typeof OpenAI.BadRequestError>).headers, '400');
      // A refused key: the gateway's own 401 on serve; on the deployed path API Gateway answers it (a
      // gateway response, which can map no processing time), so there the header is not asserted.
      if (!label.includes('API Gateway')) {
        const refused = await new OpenAI({ baseURL: target.url, apiKey: 'tsk_not_a_key', maxRetries: 0 }).models.list().catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
        ms((refused as InstanceType<typeof OpenAI.AuthenticationError>).headers, '401');
      }
    });

    it('a whole answer, and an error after authentication (404 model_not_found), to an allowed origin carry Allow-Origin', async () => {
      const { response } = await client('acme', ACME_APP).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(response.headers.get('access-control-allow-origin')).toBe(ACME_APP);
      const err = await client('acme', ACME_APP).models.retrieve('openai-compatible/nope').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect((err as InstanceType<typeof OpenAI.NotFoundError>).headers.get('access-control-allow-origin')).toBe(ACME_APP);
    });

    it('tenant A\'s origin gets no Allow-Origin on tenant B\'s answers (the preflight passed: the index allows it for A)', async () => {
      const { response } = await client('globex', ACME_APP).models.list().withResponse();
      expect(response.status).toBe(200);
      expect(corsHeadersOf(response.headers)).toEqual({});
      expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
      const { response: initech } = await client('initech', ACME_APP).models.list().withResponse();
      expect(corsHeadersOf(initech.headers)).toEqual({});
      const { response: own } = await client('globex', GLOBEX_APP).models.list().withResponse();
      expect(own.headers.get('access-control-allow-origin')).toBe(GLOBEX_APP);
    });

    it('no Origin header (a server-side client): no CORS headers', async () => {
      const { response } = await new OpenAI({ baseURL: target.url, apiKey: tokens.acme, maxRetries: 0 }).models.list().withResponse();
      expect(corsHeadersOf(response.headers)).toEqual({});
    });

    it('errors before the tenant is known (401) carry no Allow-Origin, even for an allowed origin', async () => {
      const res = await fetch(`${target.url}/models`, { headers: { origin: ACME_APP } });
      expect(res.status).toBe(401);
      expect(corsHeadersOf(res.headers)).toEqual({});
    });
  });
}
