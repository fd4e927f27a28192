import { Writable } from 'node:stream';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { guardrailVerdict } from '../../../lambdas/inference/bedrock-guardrail.js';
import { Gateway } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { providerErrorFromSdk } from '../../../lambdas/inference/providers/bedrock/sdk-errors.js';
import { ProviderError, type Provider } from '../../../lambdas/inference/providers/provider.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { toProviderError } from '../../../lambdas/inference/providers/sagemaker.js';
import { upstreamFailureEntry } from '../../../lambdas/inference/upstream-failure-log.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { configWith } from '../../support/config-with.js';
import { logSpy, type LoggedLine } from '../../support/service-log.js';

// The router Lambda's log lines for a failed upstream call (upstream-failure-log.ts) and a failed guardrail: each names
// the request (`requestId`, the answer's x-request-id) and its tenant from the request's log context
// (request-log-context.ts), the provider, both model ids, the status, the error's name and the upstream's request id.
// tessera serve's are in test/integration/serve-log-lines.test.ts.
const holder = vi.hoisted(() => ({ gateway: undefined as unknown }));
vi.mock('../../../lambdas/inference/lambda-deps.js', async (original) => ({ ...(await original<object>()), lambdaGateway: async () => holder.gateway }));
vi.stubGlobal('awslambda', {
  streamifyResponse: (f: unknown) => f,
  HttpResponseStream: { from: (s: Writable, meta: unknown) => Object.assign(s, { meta }) },
});
const { handler } = (await import('../../../lambdas/inference/router-handler.js')) as unknown as {
  handler: (event: unknown, raw: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;
};

const PROMPT = 'my account number is 99-1234-5678';
const guardrails = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
const acme = localTenant('acme', 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: false } } as never);
const guarded = localTenant('acme', 'enterprise', { gateway: { fallbacks: [], guardrails: { ...guardrails, bedrockGuardrailId: 'gr-abc123', bedrockGuardrailVersion: '1' }, auditPromptText: false } } as never);
const config = configWith({
  gateway: {
    upstreamRetries: 1,
    models: [
      { id: 'bedrock/nova-lite', upstream: 'us.amazon.nova-lite-v1:0', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 1000 },
      { id: 'sagemaker/support-llm', upstream: 'acme-support-endpoint', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 1000 },
    ],
  },
});
const chunk = (content: string): ChatCompletionChunk => ({ id: 'up', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null, logprobs: null }] });

/** Bedrock's Converse throttled (the SDK's exception, mapped as bedrock.ts maps it); SageMaker's endpoint failing; a stream cut after its first chunk. */
const failing: Provider = {
  async complete(r) {
    if (r.model.upstream.startsWith('us.amazon')) {
      throw providerErrorFromSdk(Object.assign(new Error('Too many tokens, please wait before trying again.'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429, requestId: 'b7c1e0f2-bedrock-req' } }));
    }
    throw toProviderError(Object.assign(new Error('Received server error (500) from primary'), { name: 'ModelError', OriginalStatusCode: 500, OriginalMessage: '{"error":"boom"}', $metadata: { httpStatusCode: 424, requestId: 'sm-req-9' } }), 'acme-support-endpoint');
  },
  async *stream() {
    yield chunk('Hel');
    throw providerErrorFromSdk(Object.assign(new Error('The system encountered an unexpected error during processing.'), { name: 'ModelStreamErrorException', $metadata: { httpStatusCode: 424 } }));
  },
};
class FailingProviders extends ProviderRegistry {
  override get(): Promise<Provider> {
    return Promise.resolve(failing);
  }
}

function gatewayFor(tenant = acme, applyGuardrail?: ConstructorParameters<typeof Gateway>[0]['applyGuardrail']) {
  const store = new MemoryStore();
  store.putTenant(tenant);
  const caller: Caller = { tenantId: 'acme', userId: 'u-1', role: 'member', tenant };
  return new Gateway({
    config, store, audit: { write: async () => undefined }, awaitAudit: true,
    authorizer: { authorize: async () => caller, settled: async () => undefined } as unknown as Authorizer,
    providers: new FailingProviders(config, async () => 'k'), ...(applyGuardrail ? { applyGuardrail } : {}),
  });
}

/** One router invocation; its answer's status, x-request-id and body. */
async function invoke(gateway: Gateway, body: unknown) {
  holder.gateway = gateway;
  const chunks: string[] = [];
  const raw = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as Writable & { meta?: { statusCode: number; headers: Record<string, string> } };
  const event = { httpMethod: 'POST', path: '/prod/v1/chat/completions', headers: { Authorization: 'Bearer secret-token-value', 'Content-Type': 'application/json' }, body: JSON.stringify(body), isBase64Encoded: false, queryStringParameters: null };
  await handler(event, raw, { getRemainingTimeInMillis: () => 600_000 });
  return { status: raw.meta!.statusCode, requestId: raw.meta!.headers['x-request-id'], text: chunks.join('') };
}

function lines(): () => LoggedLine[] {
  const spies = (['warn', 'error'] as const).map((level) => logSpy('tessera-gateway', level));
  return () => spies.flatMap((s) => s.lines());
}

afterEach(() => vi.restoreAllMocks());

describe('router Lambda: a failed upstream call is logged with the request it was made for', () => {
  it('Bedrock throttled twice: a WARN line (retried), then an ERROR line (the caller\'s 429), each with the request id, tenant, both model ids and Bedrock\'s request id', async () => {
    const read = lines();
    const answer = await invoke(gatewayFor(), { model: 'bedrock/nova-lite', messages: [{ role: 'user', content: PROMPT }] });
    expect(answer.status).toBe(429);
    expect(answer.requestId).toMatch(/^chatcmpl-/);
    const common = {
      message: 'upstream call failed', requestId: answer.requestId, tenantId: 'acme', provider: 'bedrock', model: 'bedrock/nova-lite', upstreamModel: 'us.amazon.nova-lite-v1:0',
      status: 429, error: 'ThrottlingException', code: 'rate_limit_exceeded', upstreamRequestId: 'b7c1e0f2-bedrock-req', retryable: true, attempts: 2, latencyMs: expect.any(Number),
    };
    expect(read()).toEqual([
      { level: 'WARN', ...common, attempt: 1, next: 'retry' },
      { level: 'ERROR', ...common, attempt: 2, next: 'none' },
    ]);
    const printed = JSON.stringify(read());
    for (const secret of [PROMPT, '99-1234', 'secret-token-value', 'Too many tokens']) expect(printed).not.toContain(secret);
  });

  it('SageMaker\'s container failing: the container\'s status, the exception\'s name and SageMaker\'s request id', async () => {
    const read = lines();
    const answer = await invoke(gatewayFor(), { model: 'sagemaker/support-llm', messages: [{ role: 'user', content: PROMPT }] });
    expect(answer.status).toBe(502);
    expect(read().map((l) => [l.level, l.provider, l.model, l.upstreamModel, l.status, l.error, l.upstreamRequestId, l.attempt, l.next, l.requestId, l.tenantId])).toEqual([
      ['WARN', 'sagemaker', 'sagemaker/support-llm', 'acme-support-endpoint', 500, 'ModelError', 'sm-req-9', 1, 'retry', answer.requestId, 'acme'],
      ['ERROR', 'sagemaker', 'sagemaker/support-llm', 'acme-support-endpoint', 500, 'ModelError', 'sm-req-9', 2, 'none', answer.requestId, 'acme'],
    ]);
  });

  it('a stream cut after its first chunk: one ERROR line `upstream stream failed`, no retry', async () => {
    const read = lines();
    const answer = await invoke(gatewayFor(), { model: 'bedrock/nova-lite', stream: true, messages: [{ role: 'user', content: PROMPT }] });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('Hel');
    expect(read()).toEqual([expect.objectContaining({
      level: 'ERROR', message: 'upstream stream failed', requestId: answer.requestId, tenantId: 'acme', provider: 'bedrock', model: 'bedrock/nova-lite',
      status: 424, error: 'ModelStreamErrorException', attempt: 1, next: 'none',
    })]);
  });

  it('ApplyGuardrail failing: its ERROR line names the request, the tenant, Bedrock\'s status and request id', async () => {
    const read = lines();
    const applyGuardrail = async () => {
      throw Object.assign(new Error('User is not authorized to perform: bedrock:ApplyGuardrail'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403, requestId: 'gr-req-7' } });
    };
    const answer = await invoke(gatewayFor(guarded, applyGuardrail), { model: 'bedrock/nova-lite', messages: [{ role: 'user', content: PROMPT }] });
    expect(answer.status).toBe(502);
    expect(read()).toEqual([expect.objectContaining({
      level: 'ERROR', message: 'ApplyGuardrail failed', requestId: answer.requestId, tenantId: 'acme', guardrailId: 'gr-abc123', error: 'AccessDeniedException',
      status: 403, upstreamRequestId: 'gr-req-7', latencyMs: expect.any(Number),
    })]);
    expect(JSON.stringify(read())).not.toContain(PROMPT);
  });

  it('ApplyGuardrail refusing the text with a message that quotes it (AWS\'s validation message): the quoted text is not logged', async () => {
    const read = lines();
    const applyGuardrail = async () => {
      throw Object.assign(new Error(`1 validation error detected: Value '${PROMPT}' at 'content.1.member.text.text' failed to satisfy constraint: Member must have length less than or equal to 25\nmore`), { name: 'ValidationException', $metadata: { httpStatusCode: 400, requestId: 'gr-req-8' } });
    };
    const answer = await invoke(gatewayFor(guarded, applyGuardrail), { model: 'bedrock/nova-lite', messages: [{ role: 'user', content: PROMPT }] });
    expect(answer.status).toBe(502);
    expect(read()).toEqual([expect.objectContaining({
      message: 'ApplyGuardrail failed', error: 'ValidationException', status: 400,
      detail: "1 validation error detected: Value [redacted] at 'content.1.member.text.text' failed to satisfy constraint: Member must have length less than or equal to 25",
    })]);
    expect(JSON.stringify(read())).not.toContain('99-1234');
  });
});

describe('router Lambda: a guardrail answer the gateway cannot use is logged with the request', () => {
  it('a masking whose outputs do not line up with the texts: its WARN line names the request and tenant', async () => {
    const warn = logSpy('tessera-gateway', 'warn');
    const applyGuardrail = async (_id: string, texts: string[]) => guardrailVerdict({
      action: 'GUARDRAIL_INTERVENED', outputs: [], assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ action: 'ANONYMIZED', type: 'EMAIL', match: 'a@b.c', detected: true }] } }],
    } as never, texts);
    const answer = await invoke(gatewayFor(guarded, applyGuardrail), { model: 'bedrock/nova-lite', messages: [{ role: 'user', content: PROMPT }] });
    expect(answer.status).toBe(400);
    expect(warn.lines()).toEqual([expect.objectContaining({ message: expect.stringContaining('do not line up'), requestId: answer.requestId, tenantId: 'acme', texts: 1, outputs: 0 })]);
  });
});

describe('the upstream\'s request id on a ProviderError', () => {
  it('Bedrock\'s and SageMaker\'s $metadata.requestId, with the exception\'s name; none when the SDK gave none', () => {
    const throttled = providerErrorFromSdk(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429, requestId: 'r-1' } }));
    expect(throttled.details).toMatchObject({ upstreamRequestId: 'r-1', errorName: 'ThrottlingException' });
    expect(toProviderError(Object.assign(new Error('x'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503, requestId: 'r-2' } }), 'ep').details).toMatchObject({ upstreamRequestId: 'r-2', errorName: 'ServiceUnavailable' });
    expect(providerErrorFromSdk(Object.assign(new Error('x'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })).details.upstreamRequestId).toBeUndefined();
    expect(new ProviderError('x', 500, true).details.upstreamRequestId).toBeUndefined();
  });
});

describe('the error name of an upstream that answered something the gateway cannot read', () => {
  const model = config.gateway.models.find((m) => m.id === 'sagemaker/support-llm')!;
  const entry = (error: ProviderError) => upstreamFailureEntry({ model, sent: model, error, attempt: 1, attempts: 1, latencyMs: 3, after: 'none' });
  it('a body that is not JSON (moto\'s InvokeEndpoint answers `body`): `upstream_invalid_answer`, not `unreachable`: the endpoint answered', () => {
    const notJson = new ProviderError('SageMaker endpoint acme-support-endpoint answered with a body that is not JSON: body', undefined, false);
    expect(entry(notJson)).toMatchObject({ error: 'upstream_invalid_answer' });
    expect(entry(notJson)).not.toHaveProperty('status');
  });
  it('no answer at all keeps the network error\'s name', () => {
    expect(entry(new ProviderError('openai-compatible unreachable: connect ECONNREFUSED', undefined, true, { errorName: 'ECONNREFUSED' }))).toMatchObject({ error: 'ECONNREFUSED' });
  });
});
