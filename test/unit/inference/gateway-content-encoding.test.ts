import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { gatewayConfig } from '../../support/gateway-config.js';

const acme = localTenant('acme', 'enterprise');

function gateway() {
  const config = gatewayConfig();
  const store = new MemoryStore();
  store.putTenant(acme);
  const authorize = vi.fn(async (): Promise<Caller> => ({ tenantId: 'acme', userId: 'u', role: 'member', tenant: acme }));
  return new Gateway({ config, store, audit: new MemoryAuditSink(), authorizer: { authorize } as unknown as Authorizer, providers: new ProviderRegistry(config, async () => 'k') });
}

async function send(headers: Record<string, string>, body: Buffer | string) {
  const answers: Array<{ status: number; body?: string }> = [];
  const res: GatewayResponder = {
    json: (status, b) => void answers.push({ status, body: b }),
    stream: () => (answers.push({ status: 200 }), { write: () => undefined, end: () => undefined }),
  };
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  // as tessera serve and the router Lambda hand it on: the body as UTF-8 text (API Gateway passes a JSON type as text)
  await gateway().handle({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer x', 'content-type': 'application/json', ...headers }, body: bytes.toString('utf8'), bytes }, res);
  return { status: answers[0].status, error: JSON.parse(answers[0].body ?? '{}').error };
}

const chat = JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] });

describe('Gateway: a request body with a Content-Encoding', () => {
  it.each(['gzip', 'deflate', 'br', 'GZIP', 'identity, gzip'])('Content-Encoding: %s is a 415 naming it, not 400 invalid_json', async (encoding) => {
    const out = await send({ 'content-encoding': encoding }, gzipSync(chat));
    expect(out.status).toBe(415);
    expect(out.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_content_encoding', param: null });
    expect(out.error.message).toContain(`Content-Encoding: ${encoding}`);
  });

  it('identity (or no header) is the body as it is: past the check', async () => {
    for (const headers of [{ 'content-encoding': 'identity' }, {}] as Array<Record<string, string>>) {
      const out = await send(headers, '{"model": ');
      expect(out).toMatchObject({ status: 400, error: { code: 'invalid_json' } });
    }
  });
});
