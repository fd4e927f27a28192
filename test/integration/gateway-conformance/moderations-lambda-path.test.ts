import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sha256 } from '../../../lambdas/inference/audit.js';
import { FakeUpstream, moderationAnswer } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { corsHeadersOf, sdkPreflight } from '../gateway-cors-models/fixtures.js';
import { CLIENTS } from './clients.js';
import { PythonModerationsClient, runModerationClient } from './moderation-clients.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * `POST /v1/moderations` on the deployed path, as embeddings-lambda-path.test.ts does for
 * embeddings: API Gateway (emulated) runs the authorizer Lambda, then the streaming router Lambda,
 * with registry, usage and the tenant's OpenAI key in moto; both official clients; the tenant's
 * PII redaction before the upstream, the audit record in the bucket (no text: the tenant does not
 * audit prompt text), the browser preflight from the tenant's origin, and a method the API does not have.
 */
const MODEL = { id: 'openai/omni-moderation-latest', upstream: 'omni-moderation-latest', kind: 'moderation' as const, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 };
const APP = 'https://app.acme.example';
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let python: PythonModerationsClient;
let token = '';

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.scriptOnly = true;
  const c = conformanceConfig();
  const config = { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, MODEL] } };
  const acme = plainTenant('acme', { allowedOrigins: [APP], guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true } });
  [apigw, python] = await Promise.all([startApiGatewayEmulator(config, upstream.url, [acme]), PythonModerationsClient.start()]);
  token = await apigw.token('acme');
});
afterAll(async () => {
  await python?.stop();
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const answering = (call: { body: any }) => ({ body: moderationAnswer(call.body) });

describe('moderations through the Lambda adapters', () => {
  it.each(CLIENTS)('no model: the tenant\'s moderation model, one result per string, PII redacted before OpenAI, audited in the bucket without the text (%s client)', async (client) => {
    upstream.script(answering);
    const out = await runModerationClient(client, python, apigw.url, token, 'moderate', { input: ['mail jane.doe@example.com', 'I will kill it'] });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    if (client === 'python') expect(out.validated).toBe(true);
    expect(out.result.model).toBe(MODEL.id);
    expect(out.result.results.map((r: { flagged: boolean }) => r.flagged)).toEqual([false, true]);
    const sent = ['mail [EMAIL]', 'I will kill it'];
    expect(upstream.calls.map((c) => ({ path: c.path, body: c.body, key: c.headers.authorization }))).toEqual([{ path: '/v1/moderations', body: { input: sent, model: 'omni-moderation-latest' }, key: 'Bearer key-of-acme' }]);

    // The answer reaches the client before the invocation returns: its audit record is written after (the settle and the PUT).
    await apigw.settled();
    const s3 = new S3Client({ forcePathStyle: true });
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'tessera-audit', Prefix: 'tessera-audit/inference/acme/' }))).Contents ?? []).map((o) => o.Key!);
    const texts = await Promise.all(keys.map(async (Key) => (await s3.send(new GetObjectCommand({ Bucket: 'tessera-audit', Key }))).Body!.transformToString()));
    const records = texts.map((t) => JSON.parse(t)).filter((a) => a.path === '/v1/moderations' && a.status === 200);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.at(-1)).toMatchObject({ tenantId: 'acme', model: MODEL.id, provider: 'openai', piiRedacted: ['EMAIL'], promptSha256: sha256(JSON.stringify(sent)), promptTokens: 0, completionTokens: 0, costUsd: 0 });
    expect(records.at(-1).prompt).toBeUndefined();
    expect(texts.some((t) => t.includes('jane.doe') || t.includes('kill it'))).toBe(false);
  });

  it('a browser preflight from the tenant\'s origin is answered without the authorizer; a GET is the router\'s 405 method_not_allowed in OpenAI\'s shape', async () => {
    const before = apigw.authorizerCalls();
    const preflight = await fetch(`${apigw.url}/moderations`, { method: 'OPTIONS', headers: sdkPreflight(APP) });
    expect(preflight.status).toBe(204);
    expect(corsHeadersOf(preflight.headers)).toMatchObject({ 'access-control-allow-origin': APP, 'access-control-allow-methods': 'POST' });
    expect(apigw.authorizerCalls()).toBe(before);
    // /v1/{proxy+} ANY takes every method (lib/inference-api-methods.ts): the router answers the one /v1/moderations does not take.
    const get = await fetch(`${apigw.url}/moderations`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    expect(((await get.json()) as { error: unknown }).error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' });
    expect(upstream.calls).toEqual([]);
  });
});
