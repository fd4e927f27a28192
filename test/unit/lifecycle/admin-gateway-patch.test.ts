import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { GatewayPolicy, TenantRecord } from '../../../lib/tenant-record.js';
import { gatewayPatch } from '../../../lib/cli/gateway-patch.js';
import { mergePatch } from '../../../lambdas/admin/gateway-policy-request.js';
import { records, registryMock } from './registry-mock.js';
import { setLifecycleEnv, tenant } from './support.js';
import { logSpy } from '../../support/service-log.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const { handler } = await import('../../../lambdas/admin/admin-api.js');

// PATCH /admin/tenants/{id}/gateway (a JSON Merge Patch of the policy), If-Match and the policy's ETag on GET, PUT and
// PATCH (lambdas/admin/gateway-policy-write.ts). Before, PUT replaced the whole policy with no condition: a body with
// one budget dropped the guardrail, fallbacks and origins, and two admins' read-modify-writes lost each other's change.

const CALLER = 'arn:aws:sts::111111111111:assumed-role/PlatformAdmin/alice';
const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, pathParameters: { id: 'acme' }, requestContext: { requestId: 'api-req-1', identity: { userArn: CALLER } }, ...extra } as unknown as APIGatewayProxyEvent);
const patch = (body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/merge-patch+json' }, extra: Partial<APIGatewayProxyEvent> = {}) =>
  call('PATCH', '/admin/tenants/{id}/gateway', { headers, body: typeof body === 'string' ? body : JSON.stringify(body), ...extra });
const json = (r: { body: string }) => JSON.parse(r.body);

/** A policy that sets much more than one budget: a guardrail, redaction of responses, fallbacks, origins. */
const POLICY: GatewayPolicy = {
  fallbacks: ['openai/gpt-4o-mini', 'bedrock/amazon.nova-lite-v1:0'], maxTokens: 512, monthlyTokenBudget: 1_000_000, auditPromptText: false,
  guardrails: { redactPii: true, redactResponses: true, promptInjectionScreen: true, bedrockGuardrailId: 'abc123def456:2' },
  allowedOrigins: ['https://app.acme.example'], systemPrompt: 'Answer briefly.',
};
const stored = () => records.get('acme')! as TenantRecord;
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const busEvents = () => bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]!);

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  records.set('acme', tenant({ status: 'ACTIVE', gateway: structuredClone(POLICY) }));
});

describe('PATCH /admin/tenants/{id}/gateway', () => {
  it('changes the one budget sent and keeps the guardrail, fallbacks, origins and the rest', async () => {
    const res = await patch({ monthlyTokenBudget: 500_000 });
    expect(res.statusCode).toBe(200);
    expect(stored().gateway).toEqual({ ...POLICY, monthlyTokenBudget: 500_000 });
    expect(json(res)).toMatchObject({ tenantId: 'acme', status: 'ACTIVE', gateway: { ...POLICY, monthlyTokenBudget: 500_000 }, version: 1 });
    expect(res.headers).toMatchObject({ etag: '"1"' });
  });

  it('merges objects key by key, removes a key sent as null (it takes its default), and replaces arrays whole', async () => {
    const res = await patch({ guardrails: { redactResponses: null, bedrockGuardrailId: null }, systemPrompt: null, fallbacks: ['openai/gpt-5.4-mini'], monthlyCostBudgetUsd: 25 });
    expect(res.statusCode).toBe(200);
    const { systemPrompt: _s, ...rest } = POLICY;
    expect(stored().gateway).toEqual({ ...rest, fallbacks: ['openai/gpt-5.4-mini'], monthlyCostBudgetUsd: 25, guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true } });
  });

  it('refuses a merged policy the schema refuses with a 400 naming the merged path and value; nothing is written', async () => {
    const before = structuredClone(stored());
    const bad = await patch({ allowedOrigins: ['https://app.acme.example/path'] });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error).toMatchObject({ param: 'allowedOrigins[0]', message: expect.stringMatching(/^the policy after the merge patch: allowedOrigins\[0\] = "https:\/\/app\.acme\.example\/path": must be an origin.*; nothing was written$/) });
    const typo = await patch({ guardrails: { redactPII: false } });
    expect([typo.statusCode, json(typo).error.code, json(typo).error.param]).toEqual([400, 'unknown_parameter', 'guardrails.redactPII']);
    // The message leads with the unknown key and the value the patch gave it, not the merged object around it.
    expect(json(typo).error.message).toBe('the policy after the merge patch: guardrails.redactPII = false: guardrails has no such key (did you mean redactPii?) '
      + '(its keys: redactPii, redactResponses, promptInjectionScreen, bedrockGuardrailId); nothing was written');
    // A top-level one: the merged policy (a long one) was shown first, cut at 120 characters before the key appeared.
    const rootTypo = await patch({ monthlyTokenBudet: 5, budget: 7 });
    expect(json(rootTypo).error).toMatchObject({ code: 'unknown_parameter', param: 'monthlyTokenBudet',
      message: expect.stringMatching(/^the policy after the merge patch: monthlyTokenBudet = 5: the gateway policy has no such key \(did you mean monthlyTokenBudget\?\) \(its keys: defaultModel, fallbacks, .*\) \(and 1 more unknown key there: "budget"\); nothing was written$/) });
    // A null for a key the policy does not have would change nothing (RFC 7396) and say nothing: refused, naming it.
    const removeTypo = await patch({ guardrails: { redactPII: null } });
    expect(json(removeTypo).error).toMatchObject({ code: 'unknown_parameter', param: 'guardrails.redactPII', message: 'guardrails.redactPII = null: the gateway policy has no such key to remove' });
    // `__proto__` is a key like another (an own one, as JSON.parse makes it): refused, never the merged policy's prototype.
    const proto = await patch('{"__proto__": {"maxTokens": 5}}');
    expect([proto.statusCode, json(proto).error.code, json(proto).error.param]).toEqual([400, 'unknown_parameter', '__proto__']);
    const notObject = await patch([{ op: 'replace', path: '/maxTokens', value: 1 }]);
    expect([notObject.statusCode, json(notObject).error.message]).toEqual([400, expect.stringMatching(/^\(root\) = \[.*: a merge patch of the gateway policy is a JSON object/)]);
    expect(stored()).toEqual(before);
  });

  // s39a: PUT (tessera tenants gateway <id> --file) said zod's "(root) = {…the whole body, cut at 120 characters}: Unrecognized
  // key", with param the key alone (redactPII); it says what PATCH says now, through the same function (unknownKeyRefusal).
  it('turns the response cache on with a PATCH of responseCache (scope defaults to caller); a key it lacks or a TTL over its maximum is a 400 naming it', async () => {
    const on = await patch({ responseCache: { ttlSeconds: 600, maxTtlSeconds: 3600 } });
    expect(on.statusCode).toBe(200);
    expect(stored().gateway).toEqual({ ...POLICY, responseCache: { ttlSeconds: 600, maxTtlSeconds: 3600, scope: 'caller' } });
    const typo = await patch({ responseCache: { ttl: 60 } });
    expect([typo.statusCode, json(typo).error.code, json(typo).error.param]).toEqual([400, 'unknown_parameter', 'responseCache.ttl']);
    const over = await patch({ responseCache: { ttlSeconds: 7200 } });
    expect([over.statusCode, json(over).error.param]).toEqual([400, 'responseCache.ttlSeconds']);
    // The recorded maxTtlSeconds the PATCH of ttlSeconds alone met: before, the message did not say it.
    expect(json(over).error.message).toContain('responseCache.ttlSeconds = 7200: ttlSeconds must be at most maxTtlSeconds, 3600: raise maxTtlSeconds with it');
    const off = await patch({ responseCache: null });
    expect(off.statusCode).toBe(200);
    expect(stored().gateway).toEqual(POLICY);
  });

  it('PUT refuses an unknown key as PATCH does: the key\'s path and value, the nearest key, the keys there; nothing is written', async () => {
    const before = structuredClone(stored());
    const put = (body: unknown) => call('PUT', '/admin/tenants/{id}/gateway', { body: JSON.stringify(body) });
    const nested = await put({ ...POLICY, guardrails: { ...POLICY.guardrails, redactPII: false } });
    expect([nested.statusCode, json(nested).error]).toEqual([400, { type: 'invalid_request_error', code: 'unknown_parameter', param: 'guardrails.redactPII',
      message: 'guardrails.redactPII = false: guardrails has no such key (did you mean redactPii?) (its keys: redactPii, redactResponses, promptInjectionScreen, bedrockGuardrailId); nothing was written' }]);
    const root = await put({ ...POLICY, monthlyTokenBudet: 5, budget: 7 });
    expect(json(root).error).toMatchObject({ code: 'unknown_parameter', param: 'monthlyTokenBudet',
      message: expect.stringMatching(/^monthlyTokenBudet = 5: the gateway policy has no such key \(did you mean monthlyTokenBudget\?\) \(its keys: defaultModel, fallbacks, .*\) \(and 1 more unknown key there: "budget"\); nothing was written$/) });
    // PATCH's message for the same key is the same after its lead.
    const patched = await patch({ monthlyTokenBudet: 5, budget: 7 });
    expect(json(patched).error.message).toBe(`the policy after the merge patch: ${json(root).error.message}`);
    // Another issue is said as before: the path and value.
    const origin = await put({ allowedOrigins: ['https://app.acme.example/path'] });
    expect(json(origin).error).toMatchObject({ code: 'invalid_request', param: 'allowedOrigins[0]', message: expect.stringMatching(/^allowedOrigins\[0\] = "https:\/\/app\.acme\.example\/path": must be an origin/) });
    expect(stored()).toEqual(before);
  });

  // s39m: a record of the policy (bedrockInferenceProfiles: model id -> profile ARN) lost a `__proto__` key silently (z.record skips
  // it, unchecked: even a value that is no ARN), so PUT and PATCH answered 200 and stored a policy without what was sent.
  it('refuses a __proto__ key of bedrockInferenceProfiles on PUT and PATCH, naming it; nothing is written', async () => {
    const before = structuredClone(stored());
    const arn = 'arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123';
    const put = await call('PUT', '/admin/tenants/{id}/gateway', { body: `{"bedrockInferenceProfiles": {"__proto__": {"not": "an ARN"}, "openai/gpt-4o": "${arn}"}}` });
    expect([put.statusCode, json(put).error.param]).toEqual([400, 'bedrockInferenceProfiles.__proto__']);
    expect(json(put).error.message).toMatch(/^bedrockInferenceProfiles\.__proto__ = \{"not":"an ARN"\}: the key __proto__ cannot be kept by this gateway; use another key/);
    const patched = await patch(`{"bedrockInferenceProfiles": {"__proto__": "${arn}"}}`);
    expect([patched.statusCode, json(patched).error.param]).toEqual([400, 'bedrockInferenceProfiles.__proto__']);
    expect(stored()).toEqual(before);
    // Another key that names an Object.prototype member is a key like another.
    const ok = await patch({ bedrockInferenceProfiles: { constructor: arn } });
    expect([ok.statusCode, stored().gateway?.bedrockInferenceProfiles]).toEqual([200, { constructor: arn }]);
  });

  it('answers 415 naming a content type other than merge-patch+json or json (a JSON Patch); plain application/json is a merge patch', async () => {
    const jsonPatch = await patch([{ op: 'replace', path: '/maxTokens', value: 1 }], { 'content-type': 'application/json-patch+json' });
    expect(jsonPatch.statusCode).toBe(415);
    expect(json(jsonPatch).error).toMatchObject({ code: 'unsupported_media_type', param: 'Content-Type' });
    expect(json(jsonPatch).acceptPatch).toBe('application/merge-patch+json, application/json');
    const plain = await patch({ maxTokens: 1024 }, { 'content-type': 'application/json; charset=utf-8' });
    expect(plain.statusCode).toBe(200);
    expect(stored().gateway!.maxTokens).toBe(1024);
  });

  it('records who wrote the policy, how, why (?reason=), and its version', async () => {
    await patch({ maxTokens: 256 }, undefined, { queryStringParameters: { reason: 'INC-42: cap answers' } });
    expect(stored().gatewayChange).toEqual({ version: 1, at: expect.any(String), actor: `admin:${CALLER}`, method: 'PATCH', reason: 'INC-42: cap answers' });
    const badReason = await patch({ maxTokens: 128 }, undefined, { queryStringParameters: { reason: ' ' } });
    expect([badReason.statusCode, json(badReason).error.param]).toEqual([400, 'reason']);
    expect(stored().gateway!.maxTokens).toBe(256);
  });
});

describe('model names of the policy (fallbacks[i], defaultModel)', () => {
  // Before, `tessera tenants gateway acme --set 'fallbacks=["openai/no-such-model"]'` was written, and the gateway
  // skipped the name on every request, silently; a defaultModel was not checked either.
  const put = (body: unknown) => call('PUT', '/admin/tenants/{id}/gateway', { body: JSON.stringify(body) });

  it('refuses a fallback or defaultModel that is no catalog id, alias or fine-tuned model of the tenant: 400 unknown_model naming the path, the value and close matches; nothing is written', async () => {
    const before = structuredClone(stored());
    const typo = await patch({ fallbacks: ['openai/gpt-5.4-mini', 'openai/gpt-4o-mnii'] });
    expect(typo.statusCode).toBe(400);
    expect(json(typo).error).toMatchObject({ code: 'unknown_model', param: 'fallbacks[1]', message: expect.stringMatching(/^fallbacks\[1\] = "openai\/gpt-4o-mnii": not a model of this platform .*the gateway would skip it on every request; did you mean "openai\/gpt-4o-mini"( or "[^"]+")*\? \(nothing was written\)$/) });
    // The upstream id (what the commit 48cabb0c's transcript showed) names its catalog id
    const upstream = await put({ fallbacks: ['bedrock/amazon.nova-lite-v2:0'] });
    expect(json(upstream).error).toMatchObject({ code: 'unknown_model', param: 'fallbacks[0]' });
    const unrelated = await patch({ fallbacks: ['openai/no-such-model'] });
    expect(json(unrelated).error.message).toMatch(/^fallbacks\[0\] = "openai\/no-such-model": .*; use a catalog id \(bedrock\/.*\) or an alias of gateway\.modelAliases \(nothing was written\)$/);
    const bare = await patch({ defaultModel: 'Llama-3.1-8B-Instruct' });
    expect(json(bare).error).toMatchObject({ code: 'unknown_model', param: 'defaultModel', message: expect.stringContaining('did you mean "huggingface/meta-llama/Llama-3.1-8B-Instruct"?') });
    expect(stored()).toEqual(before);
  });

  it('takes catalog ids, the platform\'s aliases, the tenant\'s fine-tuned models and default (with a defaultModel)', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', gateway: { fallbacks: [], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true }, auditPromptText: false },
      fineTunedModels: [{ id: 'ft:llama-3.1-8b-instruct:acme:support', baseModel: 'llama-3.1-8b-instruct', jobId: 'ftjob-1', createdAt: '2026-12-01T00:00:00.000Z', endpointName: 'e', invokeRoleArn: 'arn:aws:iam::333333333333:role/tessera-acme-model-invoker' }] }));
    const res = await patch({ defaultModel: 'gpt-4o-mini', fallbacks: ['default', 'bedrock/amazon.nova-lite', 'ft:llama-3.1-8b-instruct:acme:support'] });
    expect(res.statusCode).toBe(200);
    expect(stored().gateway).toMatchObject({ defaultModel: 'gpt-4o-mini', fallbacks: ['default', 'bedrock/amazon.nova-lite', 'ft:llama-3.1-8b-instruct:acme:support'] });
  });

  it('keeps accepting a stored name the catalog no longer has: only names the write changes are checked', async () => {
    // POLICY's 'bedrock/amazon.nova-lite-v1:0' is an upstream id, stored before the check: a PATCH of another key, and a
    // PUT back of the policy as read, still land; a PATCH that adds another unknown name is refused for that one.
    const other = await patch({ monthlyTokenBudget: 1234 });
    expect(other.statusCode).toBe(200);
    const back = await put({ ...stored().gateway, maxTokens: 256 });
    expect(back.statusCode).toBe(200);
    const added = await patch({ fallbacks: ['bedrock/amazon.nova-lite-v1:0', 'openai/gpt-4o-mini', 'openai/gpt-40'] });
    expect(json(added).error).toMatchObject({ code: 'unknown_model', param: 'fallbacks[2]' });
  });
});

describe('the policy\'s history: every write on the tenant\'s history and on the bus', () => {
  // Before, only the latest write (gatewayChange) was kept: earlier actors and reasons were lost.
  it('appends a gateway-policy entry per PUT and PATCH (actor, reason, changed key paths, version) to the lifecycle history, and emits Tenant Gateway Policy Changed without values', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', gateway: structuredClone(POLICY), executions: [{ kind: 'onboard', requestId: 'req-acme-0001', startedAt: '2026-12-01T00:00:00.000Z', status: 'SUCCEEDED' }] }));
    const first = await patch({ monthlyTokenBudget: 500_000, guardrails: { redactResponses: false } }, undefined, { queryStringParameters: { reason: 'CHG-1 budget' } });
    expect(first.statusCode).toBe(200);
    const second = await call('PUT', '/admin/tenants/{id}/gateway', { body: JSON.stringify({ ...stored().gateway, systemPrompt: 'A secret instruction.' }) });
    expect(second.statusCode).toBe(200);
    const history = stored().executions;
    expect(history.map((e) => e.kind)).toEqual(['onboard', 'gateway-policy', 'gateway-policy']);
    expect(history[1]).toMatchObject({ kind: 'gateway-policy', requestId: 'gateway-policy-v1', status: 'SUCCEEDED', actor: `admin:${CALLER}`, requestReason: 'CHG-1 budget', policyChange: { version: 1, method: 'PATCH', paths: ['guardrails.redactResponses', 'monthlyTokenBudget'] } });
    expect(history[2]).toMatchObject({ kind: 'gateway-policy', actor: `admin:${CALLER}`, policyChange: { version: 2, method: 'PUT', paths: ['systemPrompt'] } });
    expect(history[2]).not.toHaveProperty('requestReason');
    expect(history[1]!.startedAt).toBe(history[1]!.endedAt);
    const events = busEvents();
    expect(events.map((e) => [e.Source, e.DetailType, e.EventBusName])).toEqual([['tessera.lifecycle', 'Tenant Gateway Policy Changed', 'tessera-lifecycle'], ['tessera.lifecycle', 'Tenant Gateway Policy Changed', 'tessera-lifecycle']]);
    expect(JSON.parse(events[0]!.Detail!)).toEqual({ tenantId: 'acme', version: 1, method: 'PATCH', actor: `admin:${CALLER}`, reason: 'CHG-1 budget', paths: ['guardrails.redactResponses', 'monthlyTokenBudget'], at: history[1]!.startedAt });
    expect(events[1]!.Detail).not.toContain('A secret instruction');
  });

  it('keeps its own bound (GATEWAY_POLICY_ENTRIES, 20), dropping the oldest policy write, never an operation\'s entry (HISTORY_ENTRIES, 50: was one cap for both)', async () => {
    const old = Array.from({ length: 50 }, (_, i) => ({ kind: 'suspend' as const, requestId: `req-${i}`, startedAt: `2026-11-01T00:00:${String(i).padStart(2, '0')}.000Z`, status: 'SUCCEEDED' as const }));
    const writes = Array.from({ length: 20 }, (_, i) => ({ kind: 'gateway-policy' as const, requestId: `gateway-policy-v${i + 1}`, startedAt: `2026-11-02T00:00:${String(i).padStart(2, '0')}.000Z`, status: 'SUCCEEDED' as const }));
    records.set('acme', tenant({ status: 'ACTIVE', gateway: structuredClone(POLICY), executions: [...old, ...writes] }));
    expect((await patch({ maxTokens: 1024 })).statusCode).toBe(200);
    expect(stored().executions).toHaveLength(70);
    expect(stored().executions.filter((e) => e.kind === 'suspend').map((e) => e.requestId)).toEqual(old.map((e) => e.requestId));
    expect(stored().executions.filter((e) => e.kind === 'gateway-policy')[0]!.requestId).toBe('gateway-policy-v2');
    expect(stored().executions.at(-1)).toMatchObject({ kind: 'gateway-policy', policyChange: { paths: ['maxTokens'] } });
  });

  it('answers the write\'s 200 with eventNotSent when the bus refuses the event (the policy and its history entry are written)', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'denied' }] });
    const warn = logSpy('tessera-lifecycle', 'warn');
    try {
      const res = await patch({ maxTokens: 2048 });
      expect(res.statusCode).toBe(200);
      expect(json(res).eventNotSent).toMatch(/^the "Tenant Gateway Policy Changed" event did not reach the platform bus tessera-lifecycle \(EventBridge PutEvents: AccessDeniedException: /);
      expect(stored().gateway!.maxTokens).toBe(2048);
      expect(stored().executions.at(-1)).toMatchObject({ kind: 'gateway-policy' });
      expect(warn.lines()).toEqual([expect.objectContaining({ level: 'WARN', message: 'gateway policy event not sent', tenantId: 'acme', error: json(res).eventNotSent })]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('If-Match and the policy ETag', () => {
  it('takes the tenant\'s ETag (GET /admin/tenants/{id}, s42) as well as the policy\'s version: a PATCH with it lands; the tag read before that write is then stale', async () => {
    const read = await call('GET', '/admin/tenants/{id}');
    const tenantTag = read.headers!.etag as string;
    expect(tenantTag).toMatch(/^"[0-9a-z]+\.[0-9a-f]{16}"$/);
    const res = await patch({ monthlyTokenBudget: 2_000_000 }, { 'if-match': tenantTag });
    expect([res.statusCode, res.headers?.etag]).toEqual([200, '"1"']);
    expect((await call('GET', '/admin/tenants/{id}')).headers!.etag).not.toBe(tenantTag);
    const stale = await patch({ maxTokens: 64 }, { 'if-match': tenantTag });
    expect([stale.statusCode, json(stale).etag]).toEqual([412, '"1"']);
    expect(stored().gateway!.maxTokens).toBe(POLICY.maxTokens);
  });

  it('answers a stale If-Match 412 naming the current ETag, on PATCH and on PUT; nothing is written', async () => {
    // GIVEN two admins read the policy at "0", and one of them wrote it
    expect((await patch({ monthlyTokenBudget: 2_000_000 }, { 'If-Match': '"0"' })).statusCode).toBe(200);
    const before = structuredClone(stored());
    // WHEN the other writes with the ETag it read
    const stale = await patch({ maxTokens: 64 }, { 'If-Match': '"0"' });
    const stalePut = await call('PUT', '/admin/tenants/{id}/gateway', { headers: { 'If-Match': '"0"' }, body: JSON.stringify({ maxTokens: 64 }) });
    // THEN both are 412 naming the ETag now, and the registry is as the first write left it
    for (const res of [stale, stalePut]) {
      expect(res.statusCode).toBe(412);
      expect(json(res)).toMatchObject({ error: { code: 'precondition_failed', param: 'If-Match', message: expect.stringContaining('is now at ETag "1"') }, etag: '"1"' });
    }
    expect(stored()).toEqual(before);
    // A weak tag never matches (strong comparison, RFC 9110 §13.1.1); `*` and a list holding the current tag do.
    const weak = await patch({ maxTokens: 64 }, { 'if-match': 'W/"1"' });
    expect(weak.statusCode).toBe(412);
    // It is told why, not called stale: the version it names is the current one.
    expect(json(weak).error.message).toMatch(/^If-Match: W\/"1" is a weak entity tag, which never matches .*If-Match: "1"; nothing was written$/);
    expect(stored()).toEqual(before);
    expect((await patch({ maxTokens: 64 }, { 'if-match': '"7", "1"' })).statusCode).toBe(200);
    expect((await patch({ maxTokens: 32 }, { 'if-match': '*' })).statusCode).toBe(200);
    const unquoted = await patch({ maxTokens: 16 }, { 'if-match': '3' });
    expect([unquoted.statusCode, json(unquoted).error.code, json(unquoted).error.param]).toEqual([400, 'invalid_header', 'If-Match']);
  });

  it('writes PUT conditionally on the version it read, with an ETag and gatewayChange as PATCH does', async () => {
    const res = await call('PUT', '/admin/tenants/{id}/gateway', { headers: { 'if-match': '"0"' }, body: JSON.stringify({ maxTokens: 64 }) });
    expect([res.statusCode, res.headers?.etag]).toEqual([200, '"1"']);
    expect(stored().gatewayChange).toMatchObject({ version: 1, method: 'PUT', actor: `admin:${CALLER}` });
  });

  it('lands two PATCHes of different keys sent at once: the one that loses the race reads again and merges on the other', async () => {
    // Both read version 0 before either writes (the registry mock answers in order): the second's conditional write fails, and it is retried.
    const [a, b] = await Promise.all([patch({ monthlyTokenBudget: 7 }), patch({ maxTokens: 99 })]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(stored().gateway).toEqual({ ...POLICY, monthlyTokenBudget: 7, maxTokens: 99 });
    expect(stored().gatewayChange?.version).toBe(2);
    // Three conditional writes: both first ones on version 0, the loser's again on version 1.
    expect(vi.mocked(registryMock.updateTenant).mock.calls.map(([, , o]) => o?.expectGatewayVersion)).toEqual([0, 0, 1]);
  });
});

describe('mergePatch (RFC 7396 Appendix A)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }], [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }], [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }], [{ a: ['b'] }, { a: 'c' }, { a: 'c' }], [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }], [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']], [{ a: 'b' }, ['c'], ['c']], [{ a: 'foo' }, null, null], [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }], [[1, 2], { a: 'b', c: null }, { a: 'b' }], [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j patched with %j is %j', (target, p, result) => {
    const before = structuredClone(target);
    expect(mergePatch(target, p)).toEqual(result);
    expect(target).toEqual(before);
  });
});

describe('tessera tenants gateway --set / --unset (gatewayPatch)', () => {
  it('builds the merge patch: values as JSON when they parse, else text; --unset as null', () => {
    expect(gatewayPatch(['guardrails.redactPii=true', 'monthlyCostBudgetUsd=500', 'fallbacks=["a","b"]', 'defaultModel=openai/gpt-4o', 'systemPrompt=Be brief. Use "we".'], ['guardrails.bedrockGuardrailId', 'maxTokens']))
      .toEqual({ guardrails: { redactPii: true, bedrockGuardrailId: null }, monthlyCostBudgetUsd: 500, fallbacks: ['a', 'b'], defaultModel: 'openai/gpt-4o', systemPrompt: 'Be brief. Use "we".', maxTokens: null });
  });

  it('refuses a --set without =, a bad key path, and a key given twice or inside another, naming them', () => {
    expect(() => gatewayPatch(['maxTokens'], [])).toThrow(/^--set "maxTokens": give key\.path=value/);
    expect(() => gatewayPatch(['guardrails..x=1'], [])).toThrow(/"guardrails\.\.x" is not a key path/);
    expect(() => gatewayPatch(['maxTokens=1'], ['maxTokens'])).toThrow(/^--set "maxTokens=1": the same key is also given by --unset "maxTokens"/);
    expect(() => gatewayPatch(['guardrails={}', 'guardrails.redactPii=false'], [])).toThrow(/^--set "guardrails.redactPii=false": guardrails is also given by --set "guardrails=\{\}"/);
  });
});
