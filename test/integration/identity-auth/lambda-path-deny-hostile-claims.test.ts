import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { CLIENTS, PythonClient, runClient, type ClientCall } from '../gateway-conformance/clients.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';

// The authorizer's Deny message (ACCESS_DENIED, lambdas/inference/gateway-responses.ts) quotes the
// token's role claim and tenant claim, which API Gateway substitutes into the template unescaped:
// a claim crafted as JSON stays inside the message, and the body stays OpenAI's four fields, as
// the official clients see it.

let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let python: PythonClient;
const chat: ClientCall = { op: 'create', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] }, maxRetries: 2 };
const REQUEST = / \(request [0-9a-f-]{36}\)$/;
const wellFormed = (text: string) => !/\p{Cs}/u.test(text);

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  [apigw, python] = await Promise.all([startApiGatewayEmulator(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]), PythonClient.start()]);
}, 120_000);
afterAll(async () => {
  await python?.stop();
  await apigw?.stop();
  await upstream?.stop();
});

const ROLES = [
  'x", "code": "pwned", "injected": "',
  '"}},"injected":{"a":"',
  'back\\slash \\" \\\\u0022',
  'ctl \u0000\u0007\b\n\r\t\u001f',
  'ls\u2028ps\u2029',
  '$context.requestId $context.authorizer.reason ${x} $$',
  `${'a'.repeat(63)}😀`,
];

describe('hostile claims in the authorizer\'s Deny (ACCESS_DENIED) through the deployed path', () => {
  for (const role of ROLES) {
    it(`role claim ${JSON.stringify(role).slice(0, 40)}: one 403 in OpenAI's four fields, the claim inside the message, well-formed`, async () => {
      const token = await apigw.token('acme', { role });
      const res = await fetch(`${apigw.url}/chat/completions`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      const body = JSON.parse(await res.text()) as { error: Record<string, unknown> };
      expect(res.status).toBe(403);
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toEqual({ message: expect.any(String), type: 'permission_error', param: null, code: 'unknown_role' });
      const message = body.error.message as string;
      expect(wellFormed(message)).toBe(true);
      expect(message.startsWith(`the token's role claim "${role.endsWith('😀') ? role.slice(0, 63) : role}" names no role`)).toBe(true);
      for (const client of CLIENTS) {
        const out = await runClient(client, python, apigw.url, token, chat);
        expect(out.error, client).toMatchObject({ status: 403, type: 'PermissionDeniedError', body: { type: 'permission_error', code: 'unknown_role' } });
        // The same message but for API Gateway's request id, one per request.
        expect(out.error!.body.message.replace(REQUEST, ''), client).toBe(message.replace(REQUEST, ''));
        expect(Object.keys(out.error!.body), client).toEqual(['message', 'type', 'param', 'code']);
      }
    });
  }

  it('a tenant claim crafted as JSON, over 1,024 characters: unknown_tenant without a lookup, its first 40 characters named, valid JSON', async () => {
    const tenantId = `"},"x":1,"y":"${'é'.repeat(601)}${'😀'.repeat(300)}`;
    const res = await fetch(`${apigw.url}/models`, { headers: { authorization: `Bearer ${await apigw.token(tenantId)}` } });
    const body = JSON.parse(await res.text()) as { error: { message: string; code: string } };
    expect([res.status, Object.keys(body.error), body.error.code]).toEqual([403, ['message', 'type', 'param', 'code'], 'unknown_tenant']);
    expect(wellFormed(body.error.message)).toBe(true);
    expect(body.error.message).toMatch(/^tenant ""\},"x":1,"y":"é{26}" is not registered \(request [0-9a-f-]{36}\)$/u);
  });
});
