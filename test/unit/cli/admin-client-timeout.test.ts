import { createServer, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApiError, AdminClient } from '../../../lib/cli/admin-client.js';

/**
 * An admin API call that gets no answer. API Gateway ends every request at 29 s, so a call still unanswered long after
 * hangs on the connection (a proxy or a network that dropped it); the client waited for undici's own limits (300 s for the
 * headers, 300 s between body chunks), then said "cannot reach the admin API" of a request that may have been applied, and a
 * body that stopped mid-way threw the fetch's own error (not an AdminApiError: `tenants apply` stopped there instead of
 * reporting the entry and going on). The timeout is the client's `timeoutMs`, here short; no time is asserted.
 */
const held: ServerResponse[] = [];
const server = createServer((req, res) => {
  req.resume();
  held.push(res);
  // /headers-only: the headers and part of the body, then nothing; any other path: nothing at all.
  if (req.url?.endsWith('/headers-only')) res.writeHead(200, { 'content-type': 'application/json' }).write('{"tenants":');
});
let url = '';
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  // Placeholder credentials: the client signs every call (SigV4); this server checks nothing.
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
});
afterAll(async () => {
  for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('AdminClient: a call without an answer ends at its timeout, as an AdminApiError that says it may have been applied', () => {
  it('no headers: status 0, the method and path, the timeout, and that the request may have been applied', async () => {
    const api = new AdminClient(url, 'us-east-1', undefined, { timeoutMs: 200 });
    const e = await api.call('POST', '/admin/tenants', { tenantId: 'acme', requestId: 'cli-1' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdminApiError);
    expect((e as AdminApiError).status).toBe(0);
    expect((e as AdminApiError).message).toBe(`no answer from the admin API at ${url} within 0.2 s to POST /admin/tenants: it may have been applied (API Gateway ends a request after 29 s, so the connection hung: a proxy or a network that dropped it); the same request sent again (its requestId or Idempotency-Key) answers with the first`);
    const keyed = await api.call('PATCH', '/admin/tenants/acme', { tier: 'professional' }, {}, { 'Idempotency-Key': 'cli-2' }).catch((x: unknown) => x);
    expect((keyed as AdminApiError).message).toMatch(/; the same request sent again \(its requestId or Idempotency-Key\) answers with the first$/);
  });

  it('a call without a requestId or Idempotency-Key (a key created, a user invited): sending it again may apply it twice, so it says to check first', async () => {
    const api = new AdminClient(url, 'us-east-1', undefined, { timeoutMs: 200 });
    const e = await api.call('POST', '/admin/tenants/acme/keys', {}).catch((x: unknown) => x);
    expect((e as AdminApiError).message).toBe(`no answer from the admin API at ${url} within 0.2 s to POST /admin/tenants/acme/keys: it may have been applied (API Gateway ends a request after 29 s, so the connection hung: a proxy or a network that dropped it); it carried no requestId or Idempotency-Key, so sending it again may apply it twice: check what it did first`);
  });

  it('a body that stops mid-way: the same AdminApiError, not the fetch\'s own error', async () => {
    const api = new AdminClient(url, 'us-east-1', undefined, { timeoutMs: 200 });
    const e = await api.call('GET', '/admin/headers-only').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdminApiError);
    expect((e as AdminApiError).message).toMatch(/^no answer from the admin API at .* within 0\.2 s to GET \/admin\/headers-only \(API Gateway ends a request after 29 s/);
  });
});
