// tessera serve's HTTP front: a failure of the gateway itself answered as a 500.
import { get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../../lambdas/inference/gateway.js';
import { startLocalServer } from '../../../lambdas/inference/local-server.js';

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
