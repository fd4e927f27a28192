import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayDeps, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { errorCause } from '../../../lambdas/shared/error-cause.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { resetProcessEnv } from '../../support/process-env.js';

/** A 502 guardrail_unavailable names the cause (the error's name and message), never only `(Error)`. */
const guarded = localTenant('guarded', 'enterprise', { gateway: { fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false, bedrockGuardrailId: 'grabc123:3' }, auditPromptText: false } } as never);

async function ask(applyGuardrail?: GatewayDeps['applyGuardrail']) {
  const config = gatewayConfig();
  const store = new MemoryStore();
  store.putTenant(guarded);
  const caller: Caller = { tenantId: 'guarded', userId: 'u', role: 'member', tenant: guarded };
  const records: AuditRecord[] = [];
  const gateway = new Gateway({
    config, store, audit: { write: async (r) => void records.push(r) },
    authorizer: { authorize: async () => caller, settled: async () => undefined } as unknown as Authorizer,
    providers: new ProviderRegistry(config, async () => 'k'),
    ...(applyGuardrail ? { applyGuardrail } : {}),
  });
  const answers: Array<{ status: number; body: string; headers?: Record<string, string> }> = [];
  const res: GatewayResponder = { json: (status, body, headers) => void answers.push({ status, body, headers }), stream: () => ({ write: () => undefined, end: () => undefined }) };
  await gateway.handle({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }] }) }, res);
  expect(answers).toHaveLength(1);
  return { status: answers[0].status, headers: answers[0].headers ?? {}, error: (JSON.parse(answers[0].body) as { error: { message: string; type: string; code: string } }).error, records };
}

describe('502 guardrail_unavailable names the cause', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    resetProcessEnv(saved);
  });

  it('ApplyGuardrail with no AWS region (tessera serve without AWS_REGION): "(Error: Region is missing)", not "(Error)"', async () => {
    // The real ApplyGuardrail call, failing in the SDK before it reaches AWS.
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = '/nonexistent/tessera-unit-aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/tessera-unit-aws-credentials';
    process.env.AWS_ACCESS_KEY_ID = 'unit';
    process.env.AWS_SECRET_ACCESS_KEY = 'unit';
    const { status, error, records, headers } = await ask();
    expect(status).toBe(502);
    expect(headers['x-should-retry']).toBe('false'); // the SDK made its attempts; a missing region does not heal on a client retry
    expect(error).toMatchObject({ type: 'upstream_error', code: 'guardrail_unavailable' });
    expect(error.message).toBe(`the tenant's Bedrock guardrail "grabc123:3" could not be applied (Error: Region is missing); the platform team must check the guardrail and the gateway's access to it`);
    expect(records[0]).toMatchObject({ status: 502, outcome: 'guardrail_unavailable' });
  });

  it('an AWS refusal keeps its name and message, the platform\'s ARNs and account ids masked', async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::111122223333:assumed-role/tessera-router/fn is not authorized to perform: bedrock:ApplyGuardrail on resource: arn:aws:bedrock:us-east-1:111122223333:guardrail/grabc123'), { name: 'AccessDeniedException' });
    const { status, error } = await ask(async () => { throw denied; });
    expect(status).toBe(502);
    expect(error.message).toContain('(AccessDeniedException: User: <arn> is not authorized to perform: bedrock:ApplyGuardrail on resource: <arn>)');
    expect(error.message).not.toMatch(/111122223333|tessera-router/);
  });
});

describe('errorCause', () => {
  it.each([
    [new Error('Region is missing'), 'Error: Region is missing'],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'CredentialsProviderError: Could not load credentials from any providers'],
    [Object.assign(new Error('The security token included in the request is invalid. AKIAIOSFODNN7EXAMPLE, account 123456789012'), { name: 'UnrecognizedClientException' }), 'UnrecognizedClientException: The security token included in the request is invalid. <access-key>, account <account>'],
    [Object.assign(new Error('The request signature we calculated does not match.\nThe Canonical String for this request should have been\nPOST /guardrail ... Credential=AKIAIOSFODNN7EXAMPLE/20261203'), { name: 'InvalidSignatureException' }), 'InvalidSignatureException: The request signature we calculated does not match.'],
    [Object.assign(new Error(''), { name: 'TimeoutError' }), 'TimeoutError'],
    ['a string', 'Error: a string'],
  ])('%s → %s', (e, expected) => {
    expect(errorCause(e)).toBe(expected);
  });

  it('is at most `max` characters', () => {
    expect(errorCause(new Error('x'.repeat(1000)), 50)).toHaveLength(50);
  });
});
