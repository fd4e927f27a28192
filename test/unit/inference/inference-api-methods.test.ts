import { describe, expect, it, vi } from 'vitest';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { INFERENCE_API_METHODS, matchResource, resolveInferenceMethod } from '../../../lib/inference-api-methods.js';
import { gatewayConfig } from '../../support/gateway-config.js';

const at = (verb: string, path: string, options?: { fallback?: boolean }) => {
  const got = resolveInferenceMethod(INFERENCE_API_METHODS, verb, path, options);
  return got && `${got.method.verb} ${got.method.resource} ${got.method.lambda}`;
};

describe('the inference API\'s methods, resolved as API Gateway (REST) does', () => {
  it('matches a literal segment, a {name} segment and a final {name+} of one or more segments, decoding the parameters', () => {
    expect(matchResource('/v1/models/{proxy+}', '/v1/models/bedrock%2Fanthropic.claude')).toEqual({ proxy: 'bedrock/anthropic.claude' });
    expect(matchResource('/v1/models/{proxy+}', '/v1/models/a/b:c')).toEqual({ proxy: 'a/b:c' });
    expect(matchResource('/v1/models/{proxy+}', '/v1/models')).toBeUndefined();
    expect(matchResource('/v1/tenant/users/{userId}/role', '/v1/tenant/users/u1/role')).toEqual({ userId: 'u1' });
    expect(matchResource('/v1/tenant/users/{userId}/role', '/v1/tenant/users/u1/role/x')).toBeUndefined();
    expect(matchResource('/v1/{proxy+}', '/v1')).toBeUndefined();
  });

  it('sends the router every /v1 path no more specific resource takes, and each other Lambda its own', () => {
    expect(at('POST', '/v1/chat/completions')).toBe('ANY /v1/{proxy+} router');
    expect(at('GET', '/v1/conversations/conv_1/items/msg_1')).toBe('ANY /v1/{proxy+} router');
    expect(at('GET', '/v1/models/bedrock/anthropic.claude')).toBe('GET /v1/models/{proxy+} router');
    expect(at('DELETE', '/v1/models/ft:gpt-4o:acme')).toBe('DELETE /v1/models/{proxy+} fineTuning');
    expect(at('OPTIONS', '/v1/models/x')).toBe('OPTIONS /v1/models/{proxy+} router');
    expect(at('DELETE', '/v1/tenant/keys/k1')).toBe('ANY /v1/tenant/{proxy+} router');
    expect(at('PUT', '/v1/tenant/users/u1/role')).toBe('PUT /v1/tenant/users/{userId}/role tenantUsers');
    expect(at('OPTIONS', '/v1/files/file-1/content')).toBe('OPTIONS /v1/files/{proxy+} fineTuning');
    expect(at('GET', '/v1')).toBeUndefined();
    expect(at('POST', '/chat/completions')).toBeUndefined();
  });

  it('passes a verb a resource lacks on to a less specific resource (measured on REST APIs), or not at all with fallback: false', () => {
    expect(at('POST', '/v1/models/x')).toBe('ANY /v1/{proxy+} router');
    expect(at('POST', '/v1/models/x', { fallback: false })).toBeUndefined();
    // A resource without methods (a parent) takes nothing either way but with the fallback.
    expect(at('GET', '/v1/tenant/users/u1')).toBe('ANY /v1/tenant/{proxy+} router');
    expect(at('GET', '/v1/tenant/users/u1', { fallback: false })).toBeUndefined();
  });
});

describe('Gateway beside the fine-tuning Lambda (fineTuningBeside: the deployed router)', () => {
  const acme = localTenant('acme', 'enterprise');
  async function send(method: string, path: string, fineTuningBeside: boolean) {
    const config = gatewayConfig();
    const store = new MemoryStore();
    store.putTenant(acme);
    const authorize = vi.fn(async (): Promise<Caller> => ({ tenantId: 'acme', userId: 'u', role: 'admin', tenant: acme }));
    const gateway = new Gateway({ config, store, audit: new MemoryAuditSink(), authorizer: { authorize } as unknown as Authorizer, providers: new ProviderRegistry(config, async () => 'k'), fineTuningBeside,
      // The deployed router has a key store and the tenant user pool (lambda-deps.ts buildLambdaGateway); neither is called here.
      ...(fineTuningBeside ? { keys: {} as never, users: {} as never } : {}) });
    const answers: Array<{ status: number; body?: string; headers?: Record<string, string> }> = [];
    const res: GatewayResponder = { json: (status, body, headers) => void answers.push({ status, body, headers }), stream: () => ({ write: () => undefined, end: () => undefined }) };
    await gateway.handle({ method, path, headers: { authorization: 'Bearer x' } }, res);
    return { status: answers[0]!.status, allow: answers[0]!.headers?.allow, error: JSON.parse(answers[0]!.body ?? '{}').error };
  }

  it('answers a fine-tuning path\'s method the fine-tuning Lambda does not take 405 with what it takes, and lists its routes in a 404', async () => {
    expect(await send('PUT', '/v1/files', true)).toMatchObject({ status: 405, allow: 'GET, POST, OPTIONS', error: { code: 'method_not_allowed' } });
    expect(await send('POST', '/v1/models/m1', true)).toMatchObject({ status: 405, allow: 'GET, DELETE, OPTIONS' });
    const unknown = await send('GET', '/v1/widgets', true);
    expect(unknown).toMatchObject({ status: 404, error: { code: 'route_not_found' } });
    expect(unknown.error.message).toContain('/v1/tenant/users, /v1/fine_tuning/jobs, /v1/files and /v1/uploads');
    // Alone (tessera serve without --fine-tuning), fine-tuning is not served here.
    expect((await send('PUT', '/v1/files', false)).error.message).toContain('fine-tuning (client.fine_tuning.jobs, client.uploads, client.models.delete) is not served by this gateway');
    expect((await send('POST', '/v1/models/m1', false)).allow).toBe('GET, OPTIONS');
  });
});
