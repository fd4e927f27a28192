// tessera serve's HTTP front: the request target as API Gateway REST passes it to the router
// Lambda (no dot-segment resolution), and a failure of the gateway itself answered as a 500.
import { get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Gateway, GatewayRequest } from '../../../lambdas/inference/gateway.js';
import { gatewayPath } from '../../../lambdas/inference/router-handler.js';
import { requestTarget, startLocalServer } from '../../../lambdas/inference/local-server.js';

vi.hoisted(() => {
  // router-handler.ts wraps its handler with the Lambda Node.js runtime's global at import
  // (stubbed for this file: another file of its shared worker may have set the global, or a library its own object without these)
  vi.stubGlobal('awslambda', { streamifyResponse: (f: unknown) => f, HttpResponseStream: { from: (s: unknown) => s } });
});

let server: Server | undefined;
afterEach(async () => {
  await new Promise((done) => server?.close(done) ?? done(undefined));
  server = undefined;
});

/** GET `path` with node:http, which sends it as written. */
function rawGet(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

async function serve(handle: Gateway['handle']): Promise<number> {
  server = await startLocalServer({ handle } as Gateway, { port: 0, maxBytes: 1024 });
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  return (server.address() as AddressInfo).port;
}

describe('tessera serve: the request target', () => {
  it.each([
    ['/v1/models/%2e%2e/usage', '/v1/models/%2e%2e/usage'],
    ['/v1/models/.%2E/usage', '/v1/models/.%2E/usage'],
    ['/v1/models/%2e/usage', '/v1/models/%2e/usage'],
    ['/v1/models/../usage', '/v1/models/../usage'],
    ['/v1/models/a\\b', '/v1/models/a\\b'],
    ['/v1/models/huggingface%2Fmeta-llama%2FLlama-3.1-8B-Instruct', '/v1/models/huggingface%2Fmeta-llama%2FLlama-3.1-8B-Instruct'],
  ])('routes %s on the path as sent, as the router Lambda gets it from API Gateway REST', async (sent, routed) => {
    const seen: GatewayRequest[] = [];
    const port = await serve(async (req, res) => {
      seen.push(req);
      await res.json(200, '{}');
    });
    await rawGet(port, sent);
    expect(seen[0].path).toBe(routed);
    // The router Lambda's own path from that event (stage prefix cut, nothing else)
    expect(gatewayPath({ path: `/prod${sent}` })).toBe(routed);
  });

  it('keeps the query decoded (the last value of a repeated name, which it names), and an absolute-form target\'s path', () => {
    expect(requestTarget('/v1/usage?scope=tenant&x=a%20b&x=c')).toEqual({ path: '/v1/usage', query: { scope: 'tenant', x: 'c' }, repeatedQuery: ['x'], queryValues: { x: ['a b', 'c'] } });
    expect(requestTarget('/v1/files?limit=1&after=a&limit=2&after=b&limit=3')).toEqual({ path: '/v1/files', query: { limit: '3', after: 'b' }, repeatedQuery: ['limit', 'after'], queryValues: { limit: ['1', '2', '3'], after: ['a', 'b'] } });
    expect(requestTarget('/v1/models?')).toEqual({ path: '/v1/models', query: {}, repeatedQuery: [] });
    expect(requestTarget('/v1/models#frag')).toEqual({ path: '/v1/models', query: {}, repeatedQuery: [] });
    expect(requestTarget('http://127.0.0.1:8787/v1/models/%2e%2e/usage?a=1')).toEqual({ path: '/v1/models/%2e%2e/usage', query: { a: '1' }, repeatedQuery: [] });
    expect(requestTarget('http://127.0.0.1:8787')).toEqual({ path: '/', query: {}, repeatedQuery: [] });
  });

  it('splits the query at a plain `;` as API Gateway REST does (an encoded %3B stays in its value)', () => {
    expect(requestTarget('/v1/usage?group_by=model;bucket_width=1d')).toEqual({ path: '/v1/usage', query: { group_by: 'model', bucket_width: '1d' }, repeatedQuery: [] });
    expect(requestTarget('/v1/usage?group_by=model%3Bbucket_width%3D1d')).toEqual({ path: '/v1/usage', query: { group_by: 'model;bucket_width=1d' }, repeatedQuery: [] });
  });
});

describe('tessera serve: a failure of the gateway itself', () => {
  it('is a 500 internal_error in OpenAI\'s shape (retried by the SDKs), not a bare 502, which says an upstream failed', async () => {
    const port = await serve(async () => {
      throw new Error('defect');
    });
    const out = await rawGet(port, '/v1/models');
    expect(out.status).toBe(500);
    expect(out.headers['x-should-retry']).toBeUndefined();
    expect(JSON.parse(out.body)).toEqual({ error: { message: expect.stringContaining('internal error'), type: 'server_error', param: null, code: 'internal_error' } });
  });
});
