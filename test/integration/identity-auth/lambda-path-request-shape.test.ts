import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../../lib/identity/api-key.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { logSpy } from '../../support/service-log.js';
import { plainTenant } from '../gateway-conformance/setup.js';
import { restHeaders, restQuery, startApiGatewayEmulator } from '../support/api-gateway-emulator.js';

// Header lines on the deployed path as API Gateway REST hands them to the REQUEST authorizer and the router Lambda:
// each name in the case the client sent it, `headers` the last value of a repeated name, `multiValueHeaders` every
// value. The emulator gave both Lambdas node's `req.headers` (names in lower case, the FIRST Authorization, other
// repeats joined with ", ", no multiValueHeaders), so an authorizer that read only `authorization`/`Authorization`
// passed here and answered 401 to `AUTHORIZATION: Bearer …` deployed, and the router's refusal of a repeated header
// was never reached on this path.

let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('hdrcase')]);
}, 120_000);
afterAll(async () => {
  await apigw?.stop();
  await upstream?.stop();
});

/** The status and body of `method path` sent with these header lines exactly as written (fetch would fold and merge them). */
function send(method: string, path: string, lines: string[], body = ''): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(apigw.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(
      `${method} ${pathname}${path} HTTP/1.1\r\nHost: ${hostname}\r\n${lines.map((l) => `${l}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    ));
    let text = '';
    socket.on('data', (c) => (text += c.toString('utf8')));
    socket.on('end', () => {
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      let rest = text.slice(split + 4);
      // A streamed answer is chunked: the body's chunks without their size lines.
      if (/^transfer-encoding: *chunked/im.test(head)) rest = rest.split('\r\n').filter((_, i) => i % 2 === 1).join('');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: rest });
    });
    socket.on('error', reject);
  });
}

describe('header lines through API Gateway (emulated) to the authorizer and the router Lambda', () => {
  it('restHeaders: names as sent, the last value in headers, every value in multiValueHeaders', () => {
    expect(restHeaders(['Authorization', 'Bearer a', 'X-Tessera-Tags', 'x', 'authorization', 'Bearer b', 'X-Tessera-Tags', 'y'])).toEqual({
      headers: { Authorization: 'Bearer a', 'X-Tessera-Tags': 'y', authorization: 'Bearer b' },
      multiValueHeaders: { Authorization: ['Bearer a'], 'X-Tessera-Tags': ['x', 'y'], authorization: ['Bearer b'] },
    });
  });

  it('the Authorization header in any case is the credential (HTTP field names are case-insensitive; API Gateway passes the case sent)', async () => {
    const token = await apigw.token('hdrcase');
    for (const name of ['Authorization', 'authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn']) {
      const out = await send('GET', '/models', [`${name}: Bearer ${token}`]);
      expect(out.status, `${name}: ${out.body}`).toBe(200);
      expect(JSON.parse(out.body)).toMatchObject({ object: 'list' });
    }
  });

  it('a refused key: the 401\'s request id is the one the authorizer logs its reason under (API Gateway gives both the same requestContext.requestId)', async () => {
    const log = logSpy('tessera-gateway', 'info');
    try {
      const refused = await send('GET', '/models', [`Authorization: Bearer ${mintApiKey('hdrcase').key}`]);
      const id = /\(request ([0-9a-f-]{36})\)/.exec(JSON.parse(refused.body).error.message)?.[1];
      expect(id).toBeDefined();
      expect(log.lines().filter((l) => l.message === 'credentials refused').map((l) => l.requestId)).toEqual([id]);
    } finally {
      log.mockRestore();
    }
  });

  it('two Authorization lines: the last one is the credential, as API Gateway\'s single-value headers keep it', async () => {
    const good = await apigw.token('hdrcase');
    const bad = mintApiKey('hdrcase').key;
    expect((await send('GET', '/models', [`Authorization: Bearer ${bad}`, `Authorization: Bearer ${good}`])).status).toBe(200);
    const refused = await send('GET', '/models', [`Authorization: Bearer ${good}`, `Authorization: Bearer ${bad}`]);
    expect([refused.status, JSON.parse(refused.body).error.code]).toEqual([401, 'invalid_api_key']);
  });

  it('a repeated x-tessera-tags reaches the router as repeated (multiValueHeaders): the 400 naming the header, not the last line\'s tags', async () => {
    const token = await apigw.token('hdrcase');
    const body = JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] });
    const once = await send('POST', '/chat/completions', [`Authorization: Bearer ${token}`, 'Content-Type: application/json', 'X-Tessera-Tags: team-a'], body);
    expect(once.status, once.body).toBe(200);
    const twice = await send('POST', '/chat/completions', [`Authorization: Bearer ${token}`, 'Content-Type: application/json', 'X-Tessera-Tags: team-a', 'x-tessera-tags: team-b'], body);
    expect(twice.status, twice.body).toBe(400);
    expect(JSON.parse(twice.body).error).toMatchObject({ type: 'invalid_request_error', param: 'x-tessera-tags', code: 'invalid_value', message: expect.stringContaining('was sent more than once') });
  });
});

describe('the query string through API Gateway (emulated): a plain ";" splits it, as API Gateway REST does', () => {
  it('restQuery: pairs split at & and ;, decoded, + as a space, an encoded %3B kept in its value', () => {
    expect([...restQuery('?order=desc;limit=2&after=k%3B1&q=a+b')]).toEqual([['order', 'desc'], ['limit', '2'], ['after', 'k;1'], ['q', 'a b']]);
  });

  it('GET /v1/usage?group_by=model;bucket_width=1d is two parameters (the ledger answers); ?group_by=model;bogus=1 names `bogus`, not a bad `group_by`', async () => {
    const admin = await apigw.token('hdrcase', { role: 'admin' });
    const answered = await send('GET', '/usage?group_by=model;bucket_width=1d', [`Authorization: Bearer ${admin}`]);
    expect(answered.status, answered.body).toBe(200);
    const refused = await send('GET', '/usage?group_by=model;bogus=1', [`Authorization: Bearer ${admin}`]);
    expect([refused.status, JSON.parse(refused.body).error]).toEqual([400, expect.objectContaining({ code: 'unknown_parameter', param: 'bogus' })]);
    // Encoded, the semicolon is the value's: `group_by` is then refused for its value.
    const encoded = await send('GET', '/usage?group_by=model%3Bbucket_width%3D1d', [`Authorization: Bearer ${admin}`]);
    expect([encoded.status, JSON.parse(encoded.body).error.param]).toEqual([400, 'group_by']);
  });
});
