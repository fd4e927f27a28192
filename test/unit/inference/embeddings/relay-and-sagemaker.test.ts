import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient, ValidationError, SageMakerRuntimeServiceException } from '@aws-sdk/client-sagemaker-runtime';
import { mockStrict } from '../../../support/strict-mock.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { floatsToBase64 } from '../../../../lambdas/inference/embeddings/vector-encoding.js';
import { HttpOpenAiCompatibleProvider } from '../../../../lambdas/inference/providers/http-openai-compatible.js';
import { ProviderError, type EmbeddingProviderRequest } from '../../../../lambdas/inference/providers/provider.js';
import { SageMakerProvider } from '../../../../lambdas/inference/providers/sagemaker.js';
import { tenantEndUserId } from '../../../../lambdas/inference/providers/tenant-end-user.js';
import { FakeUpstream } from '../../../support/fake-upstream.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const sagemaker = mockStrict(SageMakerRuntimeClient, 'sagemaker-runtime', SageMakerRuntimeServiceException);

const entry = (id: string, upstream: string): ModelEntry => ({ id, upstream, kind: 'embedding', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 });
const request = (model: ModelEntry, body: Record<string, unknown>): EmbeddingProviderRequest => ({ model, body: { model: model.id, ...body } as EmbeddingProviderRequest['body'], tenantId: 'acme', signal: new AbortController().signal });

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.scriptOnly = true;
});
afterAll(() => upstream.stop());
beforeEach(() => {
  upstream.reset();
  sagemaker.reset();
});

describe('OpenAI-compatible relay: POST {baseUrl}/embeddings', () => {
  const TEI = entry('openai-compatible/embeddings', 'bge-small');

  it("sends the caller's body untouched apart from model (and user, scoped to the tenant on the platform's key), and returns the vectors in index order with usage", async () => {
    upstream.script({ body: { object: 'list', model: 'bge-small', data: [{ object: 'embedding', index: 1, embedding: [0.75] }, { object: 'embedding', index: 0, embedding: floatsToBase64([0.5]) }], usage: { prompt_tokens: 4, total_tokens: 4 } } });
    const provider = new HttpOpenAiCompatibleProvider('openai-compatible', upstream.url, 'sk-up');
    const body = { input: ['a', 'b'], encoding_format: 'base64', dimensions: 64, user: 'u-1', truncate: true, truncation_direction: 'Left' };
    const out = await provider.embed(request(TEI, body));
    expect(out).toEqual({ vectors: [floatsToBase64([0.5]), [0.75]], promptTokens: 4 });
    expect(upstream.calls[0].path).toBe('/v1/embeddings');
    expect(upstream.calls[0].headers.authorization).toBe('Bearer sk-up');
    expect(upstream.calls[0].body).toEqual({ ...body, model: 'bge-small', user: tenantEndUserId('acme', 'u-1') });
  });

  it("keeps the upstream's error: status, message, code, param and Retry-After", async () => {
    upstream.script({ status: 400, body: { error: { message: 'dimensions too large', type: 'invalid_request_error', code: 'invalid_value', param: 'dimensions' } } }, { status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'slow' } } });
    const provider = new HttpOpenAiCompatibleProvider('openai', upstream.url, 'sk');
    await expect(provider.embed(request(TEI, { input: 'a', dimensions: 99999 }))).rejects.toMatchObject({ status: 400, retryable: false, message: 'dimensions too large', details: { code: 'invalid_value', param: 'dimensions' } });
    await expect(provider.embed(request(TEI, { input: 'a' }))).rejects.toMatchObject({ status: 429, retryable: true, details: { retryAfterMs: 2000 } });
  });

  it('treats a 200 without data as a retryable upstream failure', async () => {
    upstream.script({ body: { error: { message: 'model loading' } } });
    const e = await new HttpOpenAiCompatibleProvider('huggingface', upstream.url, 'k').embed(request(TEI, { input: 'a' })).catch((x) => x);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: true, message: 'huggingface answered 200 without data: model loading' });
  });
});

describe('SageMaker: an embedding container behind InvokeEndpoint', () => {
  const E5 = entry('sagemaker/acme-e5', 'acme-e5-endpoint');

  it("sends OpenAI's body without model and reads OpenAI's answer", async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify({ object: 'list', data: [{ index: 0, embedding: [0.5, 0.25] }], usage: { prompt_tokens: 3, total_tokens: 3 } })) as never });
    const out = await new SageMakerProvider().embed(request(E5, { input: 'hello', dimensions: 2 }));
    expect(out).toEqual({ vectors: [[0.5, 0.25]], promptTokens: 3 });
    const input = sagemaker.commandCalls(InvokeEndpointCommand)[0].args[0].input;
    expect(input).toMatchObject({ EndpointName: 'acme-e5-endpoint', ContentType: 'application/json', Accept: 'application/json' });
    expect(JSON.parse(String(input.Body))).toEqual({ input: 'hello', dimensions: 2 });
  });

  it("reads TEI's bare array of vectors, without usage", async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('[[0.5],[1]]') as never });
    expect(await new SageMakerProvider().embed(request(E5, { input: ['a', 'b'] }))).toEqual({ vectors: [[0.5], [1]] });
  });

  it("keeps the container's 4xx the caller's, and an unknown endpoint the platform's 502", async () => {
    sagemaker.on(InvokeEndpointCommand)
      .rejectsOnce(new ModelError({ message: 'Received client error (400)', OriginalStatusCode: 400, OriginalMessage: JSON.stringify({ error: { message: 'input too long', type: 'BadRequestError', param: 'input' } }), $metadata: {} }))
      .rejectsOnce(new ValidationError({ message: 'Endpoint acme-e5-endpoint not found.', $metadata: { httpStatusCode: 400 } }));
    await expect(new SageMakerProvider().embed(request(E5, { input: 'a' }))).rejects.toMatchObject({ status: 400, message: 'input too long', details: { param: 'input' } });
    await expect(new SageMakerProvider().embed(request(E5, { input: 'a' }))).rejects.toMatchObject({ status: 502, retryable: false, details: { code: 'upstream_misconfigured' } });
  });
});
