import { describe, expect, it, vi } from 'vitest';
import { GatewayPolicy } from '../../../lib/tenant-record.js';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayDeps, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { unauthorized } from '../../../lambdas/inference/openai-errors.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { tenantOrigins } from '../../../lambdas/inference/stores/cors-origins.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import type { FineTuningService } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { gatewayConfig } from '../../support/gateway-config.js';

const APP = 'https://app.acme.example';
const acme = localTenant('acme', 'enterprise', { gateway: GatewayPolicy.parse({ allowedOrigins: [APP] }) });

/** A gateway whose authorizer is a spy resolving to acme (or refusing with a 401 when no header is sent). */
function gatewayWith(extra: Partial<GatewayDeps> = {}) {
  const config = gatewayConfig();
  const store = new MemoryStore();
  store.putTenant(acme);
  const authorize = vi.fn(async (header: string | undefined): Promise<Caller> => {
    if (!header) throw unauthorized('missing Authorization header', 'missing_token');
    return { tenantId: 'acme', userId: 'u', role: 'member', tenant: acme };
  });
  const audit = new MemoryAuditSink();
  const gateway = new Gateway({
    config, store, audit, authorizer: { authorize } as unknown as Authorizer, providers: new ProviderRegistry(config, async () => 'k'), ...extra,
  });
  return { gateway, authorize, audit };
}

/** A responder recording what the gateway answered; `empty` only when asked for. */
function recorder(withEmpty = true) {
  const answers: Array<{ kind: 'json' | 'stream' | 'empty'; status: number; headers: Record<string, string>; body?: string }> = [];
  const res: GatewayResponder = {
    json: (status, body, headers = {}) => void answers.push({ kind: 'json', status, headers, body }),
    stream: (headers = {}) => (answers.push({ kind: 'stream', status: 200, headers }), { write: () => undefined, end: () => undefined }),
    ...(withEmpty ? { empty: (status: number, headers: Record<string, string> = {}) => void answers.push({ kind: 'empty', status, headers }) } : {}),
  };
  return { res, answers };
}

const preflight = (path: string, origin = APP) => ({ method: 'OPTIONS', path, headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });

describe('Gateway: preflights', () => {
  it('are answered before authentication, not audited, as an empty 204 with the CORS headers', async () => {
    const { gateway, authorize, audit } = gatewayWith({ corsOrigins: tenantOrigins([acme]) });
    const { res, answers } = recorder();
    await gateway.handle(preflight('/v1/models/'), res);
    expect(authorize).not.toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(audit.records).toEqual([]);
    expect(answers).toEqual([{ kind: 'empty', status: 204, headers: expect.objectContaining({ 'access-control-allow-origin': APP, 'access-control-allow-methods': 'GET', 'access-control-allow-headers': 'authorization', 'access-control-max-age': '600' }) }]);
  });

  it('without an origin index (the default), carry no CORS headers', async () => {
    const { gateway } = gatewayWith();
    const { res, answers } = recorder();
    await gateway.handle(preflight('/v1/models'), res);
    expect(answers[0].status).toBe(204);
    expect(Object.keys(answers[0].headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('go through json with an empty body for a responder without empty()', async () => {
    const { gateway } = gatewayWith({ corsOrigins: tenantOrigins([acme]) });
    const { res, answers } = recorder(false);
    await gateway.handle(preflight('/v1/models'), res);
    expect(answers).toEqual([expect.objectContaining({ kind: 'json', status: 204, body: '' })]);
  });

  it('carry an x-request-id (req_…) like every other answer: a preflight, a plain OPTIONS, an OPTIONS of a path not served (404)', async () => {
    const { gateway } = gatewayWith({ corsOrigins: tenantOrigins([acme]) });
    const { res, answers } = recorder();
    await gateway.handle(preflight('/v1/chat/completions'), res);
    await gateway.handle({ method: 'OPTIONS', path: '/v1/models', headers: {} }, res);
    await gateway.handle(preflight('/v1/nowhere'), res);
    expect(answers.map((a) => a.status)).toEqual([204, 204, 404]);
    for (const a of answers) expect(a.headers['x-request-id']).toMatch(/^req_[0-9a-f]{24}$/);
    expect(new Set(answers.map((a) => a.headers['x-request-id'])).size).toBe(3);
  });

  it('of a path not served: the 404 any other method gets, the path cut at 200 characters, with the missing-/v1 hint', async () => {
    const { gateway } = gatewayWith({ corsOrigins: tenantOrigins([acme]) });
    const { res, answers } = recorder();
    const long = `/v1/${'x'.repeat(10_000)}`;
    await gateway.handle(preflight(long), res);
    await gateway.handle({ method: 'OPTIONS', path: '/chat/completions', headers: {} }, res);
    const messages = answers.map((a) => (JSON.parse(String(a.body)) as { error: { message: string; code: string } }).error);
    expect(answers.map((a) => a.status)).toEqual([404, 404]);
    expect(messages[0]!.message).toMatch(new RegExp(`^no route OPTIONS /v1/${'x'.repeat(196)}…; `));
    expect(messages[0]!.message.length).toBeLessThan(2_000);
    expect(messages[1]).toMatchObject({ code: 'route_not_found', message: expect.stringMatching(/^no route OPTIONS \/chat\/completions: the gateway's paths start with \/v1; /) });
  });

  it('list the fine-tuning routes only where fine-tuning is served', async () => {
    const without = recorder();
    await gatewayWith({ corsOrigins: tenantOrigins([acme]) }).gateway.handle(preflight('/v1/fine_tuning/jobs'), without.res);
    expect(without.answers[0].status).toBe(404);
    const served = recorder();
    await gatewayWith({ corsOrigins: tenantOrigins([acme]), fineTuning: {} as FineTuningService }).gateway.handle(preflight('/v1/fine_tuning/jobs'), served.res);
    expect(served.answers[0].headers['access-control-allow-methods']).toBe('GET, POST');
  });
});

describe('Gateway: actual answers', () => {
  const get = (path: string, headers: Record<string, string>) => ({ method: 'GET', path, headers: { authorization: 'Bearer x.y.z', ...headers } });

  it('carry Allow-Origin and Vary when the caller\'s tenant allows the Origin', async () => {
    const { gateway } = gatewayWith();
    const { res, answers } = recorder();
    await gateway.handle(get('/v1/models', { origin: APP }), res);
    expect(answers[0]).toMatchObject({ status: 200, headers: { 'access-control-allow-origin': APP, vary: 'Origin' } });
  });

  it('carry only Vary for another origin or none', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, {}] as Array<Record<string, string>>) {
      const { res, answers } = recorder();
      await gatewayWith().gateway.handle(get('/v1/models', headers), res);
      expect(answers[0].headers).toEqual({ vary: 'Origin', 'x-request-id': expect.stringMatching(/^req_[0-9a-f]{24}$/), 'openai-processing-ms': expect.stringMatching(/^\d+$/) });
    }
  });

  it('errors after authentication carry Allow-Origin; errors before it (401, 413) do not', async () => {
    const { gateway } = gatewayWith();
    const after = recorder();
    await gateway.handle(get('/v1/models/openai%2Fnope', { origin: APP }), after.res);
    expect(after.answers[0]).toMatchObject({ status: 404, headers: { 'access-control-allow-origin': APP } });
    const unauthenticated = recorder();
    await gateway.handle({ method: 'GET', path: '/v1/models', headers: { origin: APP } }, unauthenticated.res);
    expect(unauthenticated.answers[0].status).toBe(401);
    expect(unauthenticated.answers[0].headers['access-control-allow-origin']).toBeUndefined();
    const tooBig = recorder();
    await gateway.handle({ method: 'POST', path: '/v1/chat/completions', headers: { origin: APP, authorization: 'Bearer x.y.z' }, body: ' '.repeat(gatewayConfig().gateway.maxRequestBytes + 1) }, tooBig.res);
    expect(tooBig.answers[0].status).toBe(413);
    expect(tooBig.answers[0].headers['access-control-allow-origin']).toBeUndefined();
  });
});
