import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, poolText } from '../../../lambdas/inference/providers/undici-pool.js';

let server: Server;
let origin: string;
/** Resolved by the server when a `/slow` request arrives, and when its connection closes (it never answers). */
let slowArrived: () => void = () => undefined;
let slowClosed: () => void = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') {
      res.once('close', () => slowClosed());
      slowArrived();
      return; // never answers
    }
    const body = req.url === '/bom' ? '\uFEFF{"ok":true}' : JSON.stringify({ echo: req.headers['x-probe'] ?? null });
    res.writeHead(req.url === '/limited' ? 429 : 200, { 'content-type': 'application/json', 'retry-after': '7', 'x-multi': ['a', 'b'] }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }));

describe('poolText', () => {
  it('reads the whole answer: status, headers as request() gives them, the body as UTF-8 text', async () => {
    const pool = createPool(origin, { connections: 2 });
    const res = await poolText(pool, { method: 'POST', path: '/answer', headers: { 'x-probe': 'p1' }, body: '{}' });
    expect(res.statusCode).toBe(200);
    expect(res.text).toBe('{"echo":"p1"}');
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['x-multi']).toEqual(['a', 'b']);
    const limited = await poolText(pool, { method: 'POST', path: '/limited', headers: {}, body: '{}' });
    expect(limited.statusCode).toBe(429);
    await pool.close();
  });

  it('drops a leading byte order mark, as body.text() does', async () => {
    const pool = createPool(origin, { connections: 1 });
    expect((await poolText(pool, { method: 'GET', path: '/bom', headers: {}, body: '' })).text).toBe('{"ok":true}');
    await pool.close();
  });

  it('an aborted signal: refused before any request, with its reason', async () => {
    const pool = createPool(origin, { connections: 1 });
    const reason = new Error('caller gone');
    await expect(poolText(pool, { method: 'POST', path: '/answer', headers: {}, body: '{}', signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await pool.close();
  });

  it('aborting while the upstream is silent rejects with the reason and closes the upstream connection', async () => {
    const pool = createPool(origin, { connections: 1 });
    const controller = new AbortController();
    // The server's own signals, not a wait: the request is at the server before the abort, and its connection is seen closing after it.
    const arrived = new Promise<void>((ok) => { slowArrived = ok; });
    let aborted = false;
    const closed = new Promise<boolean>((ok) => { slowClosed = () => ok(aborted); });
    const pending = poolText(pool, { method: 'POST', path: '/slow', headers: {}, body: '{}', signal: controller.signal });
    await arrived;
    const reason = new Error('timed out');
    aborted = true;
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    // The server never answers: only the client's abort closes the connection (it stays open otherwise, and the test times out).
    expect(await closed, 'closed after the abort').toBe(true);
    await pool.close();
  });
});
