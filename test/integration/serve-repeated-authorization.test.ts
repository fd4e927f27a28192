import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { singleValueHeaders } from '../../lambdas/inference/local-server.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

// API Gateway REST hands a Lambda proxy integration and a REQUEST authorizer one value per header in
// `headers`, the last of a repeated one (every value in `multiValueHeaders`). tessera serve took
// Node's req.headers, which keeps the FIRST Authorization: a request with two was another caller
// in serve than in AWS.

let gw: Awaited<ReturnType<typeof serveGateway>>;
let good: string;
const bad = `tsk_acme_${'x'.repeat(43)}`;

beforeAll(async () => {
  gw = await serveGateway(gatewayConfig(), 'http://127.0.0.1:9', [localTenant('acme', 'enterprise')]);
  good = (await gw.apiKey('acme')).key;
});
afterAll(async () => {
  await gw?.stop();
});

/** The status of GET /v1/models sent with these header lines as they are (fetch would merge them). */
function statusWith(lines: string[]): Promise<number> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`GET /v1/models HTTP/1.1\r\nHost: ${hostname}\r\n${lines.map((l) => `${l}\r\n`).join('')}Connection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (c) => (text += c.toString('latin1')));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])));
    socket.on('error', reject);
  });
}

describe('tessera serve: a repeated Authorization header is the last one, as API Gateway REST passes it', () => {
  it('authorizes with the last of two Authorization headers, whichever comes first', async () => {
    expect(await statusWith([`Authorization: Bearer ${good}`])).toBe(200);
    expect(await statusWith([`Authorization: Bearer ${bad}`, `authorization: Bearer ${good}`])).toBe(200);
    expect(await statusWith([`Authorization: Bearer ${good}`, `Authorization: Bearer ${bad}`])).toBe(401);
  });

  it('keeps the last value of every repeated header, and a header named __proto__ as a header', () => {
    const headers = singleValueHeaders(Object.assign(Object.create(null), { 'x-a': ['1', '2'], accept: ['*/*'], ['__proto__']: ['p'] }));
    expect(headers['x-a']).toBe('2');
    expect(headers.accept).toBe('*/*');
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });
});
