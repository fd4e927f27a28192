import { mockBedrockRuntime } from '../../../support/bedrock-strict.js';
import { BedrockRuntimeClient, InvokeModelCommand, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { EMBEDDING_CONCURRENCY, bedrockEmbeddings } from '../../../../lambdas/inference/providers/bedrock/embeddings.js';
import { COHERE_MAX_TEXTS, embeddingCalls } from '../../../../lambdas/inference/providers/bedrock/embedding-models.js';
import { ProviderError, type EmbeddingProviderRequest } from '../../../../lambdas/inference/providers/provider.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockBedrockRuntime();
beforeEach(() => bedrock.reset());

const entry = (id: string, upstream: string): ModelEntry => ({ id, upstream, kind: 'embedding', inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096 });
const TITAN = entry('bedrock/amazon.titan-embed-text-v2', 'amazon.titan-embed-text-v2:0');
const COHERE = entry('bedrock/cohere.embed-english-v3', 'cohere.embed-english-v3');
const request = (model: ModelEntry, body: Record<string, unknown>): EmbeddingProviderRequest => ({ model, body: { model: model.id, ...body } as EmbeddingProviderRequest['body'], tenantId: 'acme', signal: new AbortController().signal });
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)) as never;
const sentBodies = () => bedrock.commandCalls(InvokeModelCommand).map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.body as Uint8Array)));
const refusal = (model: ModelEntry, body: Record<string, unknown>): ProviderError => {
  try {
    embeddingCalls(request(model, body).body, model);
  } catch (e) {
    return e as ProviderError;
  }
  throw new Error('expected a refusal');
};

describe('Bedrock Titan Text Embeddings V2 (InvokeModel, one input per call)', () => {
  it('maps each input to its own call, with dimensions and normalize, and keeps input order under concurrency', async () => {
    // GIVEN Titan answers each text after a delay that reverses the order of completion
    bedrock.on(InvokeModelCommand).callsFake(async (input) => {
      const { inputText } = JSON.parse(new TextDecoder().decode(input.body));
      const n = Number(inputText.slice(1));
      await new Promise((r) => setTimeout(r, 30 - n * 3));
      return { body: json({ embedding: [n, n + 0.5], inputTextTokenCount: n + 1 }), contentType: 'application/json' };
    });
    const texts = Array.from({ length: 9 }, (_, i) => `t${i}`);
    // WHEN
    const out = await bedrockEmbeddings(new BedrockRuntimeClient({}), request(TITAN, { input: texts, dimensions: 256, normalize: false }));
    // THEN the vectors come back in input order, usage is Titan's token counts summed
    expect(out.vectors).toEqual(texts.map((_, n) => [n, n + 0.5]));
    expect(out.promptTokens).toBe(texts.reduce((s, _, n) => s + n + 1, 0));
    const calls = bedrock.commandCalls(InvokeModelCommand);
    expect(calls).toHaveLength(9);
    expect(calls[0].args[0].input).toMatchObject({ modelId: 'amazon.titan-embed-text-v2:0', contentType: 'application/json', accept: 'application/json' });
    expect(sentBodies().sort((a, b) => a.inputText.localeCompare(b.inputText))).toEqual(texts.map((inputText) => ({ inputText, dimensions: 256, normalize: false })));
  });

  it(`never has more than ${EMBEDDING_CONCURRENCY} calls in flight`, async () => {
    let inFlight = 0;
    let most = 0;
    bedrock.on(InvokeModelCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      return { body: json({ embedding: [1], inputTextTokenCount: 1 }) };
    });
    await bedrockEmbeddings(new BedrockRuntimeClient({}), request(TITAN, { input: Array.from({ length: 20 }, () => 'x') }));
    expect(most).toBe(EMBEDDING_CONCURRENCY);
  });

  it.each([
    ['dimensions Titan does not make', { input: 'a', dimensions: 768 }, 'dimensions', /256, 512 or 1024/],
    ['token ids', { input: [1, 2] }, 'input', /not token ids/],
    ['an input over 50,000 characters', { input: ['ok', 'x'.repeat(50_001)] }, 'input[1]', /50000/],
    ['a Cohere field', { input: 'a', input_type: 'search_query' }, 'input_type', /Titan Text Embeddings V2 on Bedrock has no such parameter/],
    ['a field of nobody', { input: 'a', top_k: 3 }, 'top_k', /bedrock/],
  ])('refuses %s with a 400 naming the field, before any call', (_name, body, param, message) => {
    const e = refusal(TITAN, body);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e.status).toBe(400);
    expect(e.details.param).toBe(param);
    expect(e.message).toMatch(message);
  });

  // OpenAI's words and code for a field its request does not define, as chat on Bedrock and /v1/responses answer one (was unsupported_parameter).
  it.each([
    [TITAN, { input: 'a', top_k: 3 }, 'top_k', "Unknown parameter: 'top_k'. Titan Text Embeddings V2 on Bedrock has no such parameter (the bedrock provider)"],
    [COHERE, { input: 'a', normalize: true }, 'normalize', "Unknown parameter: 'normalize'. Cohere Embed v3 on Bedrock has no such parameter (the bedrock provider)"],
  ])('a field OpenAI\'s embeddings request does not define is unknown_parameter in OpenAI\'s words (%#)', (model, body, param, message) => {
    const e = refusal(model, body);
    expect([e.details.code, e.details.param, e.message]).toEqual(['unknown_parameter', param, message]);
    // OpenAI's own dimensions, which Cohere cannot honour, stays unsupported_parameter.
    expect(refusal(COHERE, { input: 'a', dimensions: 256 }).details.code).toBe('unsupported_parameter');
  });

  it("keeps Bedrock's refusal (ValidationException) the caller's 400 and throttling retryable", async () => {
    bedrock.on(InvokeModelCommand).rejectsOnce(new ValidationException({ message: 'Input is too long', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new ThrottlingException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }));
    const first = await bedrockEmbeddings(new BedrockRuntimeClient({}), request(TITAN, { input: 'a' })).catch((e) => e);
    expect(first).toMatchObject({ status: 400, retryable: false, message: 'Input is too long', details: { code: 'ValidationException' } });
    const second = await bedrockEmbeddings(new BedrockRuntimeClient({}), request(TITAN, { input: 'a' })).catch((e) => e);
    expect(second).toMatchObject({ status: 429, retryable: true });
  });

  it('reads the vector from embeddingsByType when embedding is absent, and refuses an answer without one (502)', async () => {
    bedrock.on(InvokeModelCommand).resolvesOnce({ body: json({ embeddingsByType: { float: [0.25] }, inputTextTokenCount: 2 }) }).resolvesOnce({ body: json({ message: 'odd' }) });
    expect((await bedrockEmbeddings(new BedrockRuntimeClient({}), request(TITAN, { input: 'a' }))).vectors).toEqual([[0.25]]);
    await expect(bedrockEmbeddings(new BedrockRuntimeClient({}), request(TITAN, { input: 'a' }))).rejects.toMatchObject({ status: 502, details: { code: 'upstream_invalid_answer' } });
  });
});

describe('Bedrock Cohere Embed v3 (InvokeModel, texts in batches of 96)', () => {
  it('sends batches of 96 in order with input_type search_document by default, and joins the vectors in input order', async () => {
    bedrock.on(InvokeModelCommand).callsFake(async (input) => {
      const { texts } = JSON.parse(new TextDecoder().decode(input.body));
      return { body: json({ id: 'x', response_type: 'embeddings_by_type', embeddings: { float: texts.map((t: string) => [Number(t)]) }, texts }) };
    });
    const texts = Array.from({ length: 200 }, (_, i) => String(i));
    const out = await bedrockEmbeddings(new BedrockRuntimeClient({}), request(COHERE, { input: texts }));
    expect(out.vectors).toEqual(texts.map((t) => [Number(t)]));
    // Cohere reports no token count in its body; the header is not in the mocked answer: the gateway counts
    expect(out.promptTokens).toBeUndefined();
    const bodies = sentBodies().sort((a, b) => Number(a.texts[0]) - Number(b.texts[0]));
    expect(bodies.map((b) => b.texts.length)).toEqual([COHERE_MAX_TEXTS, COHERE_MAX_TEXTS, 8]);
    expect(bodies[0]).toEqual({ texts: texts.slice(0, 96), input_type: 'search_document', embedding_types: ['float'] });
  });

  it("passes Cohere's own input_type and truncate, and reads the embeddings_floats answer", async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ response_type: 'embeddings_floats', embeddings: [[0.5], [0.75]] }) });
    const out = await bedrockEmbeddings(new BedrockRuntimeClient({}), request(COHERE, { input: ['q1', 'q2'], input_type: 'search_query', truncate: 'END', user: 'u-1', encoding_format: 'base64' }));
    expect(out.vectors).toEqual([[0.5], [0.75]]);
    expect(sentBodies()).toEqual([{ texts: ['q1', 'q2'], input_type: 'search_query', truncate: 'END', embedding_types: ['float'] }]);
  });

  it.each([
    ['dimensions', { input: 'a', dimensions: 256 }, 'dimensions', /no dimensions parameter/],
    ['embedding_types other than float', { input: 'a', embedding_types: ['int8'] }, 'embedding_types', /only \["float"\]/],
    ['a text over 2,048 characters', { input: 'x'.repeat(2049) }, 'input', /2048/],
    ['an unknown input_type', { input: 'a', input_type: 'image' }, 'input_type', /search_document/],
    ["Titan's normalize", { input: 'a', normalize: true }, 'normalize', /Cohere Embed v3 on Bedrock has no such parameter/],
  ])('refuses %s with a 400 naming the field', (_name, body, param, message) => {
    const e = refusal(COHERE, body);
    expect(e.status).toBe(400);
    expect(e.details.param).toBe(param);
    expect(e.message).toMatch(message);
  });

  it('tells the family from an inference profile id, and refuses a Bedrock model it does not map', () => {
    expect(embeddingCalls({ model: 'm', input: 'a' }, entry('bedrock/cohere-eu', 'eu.cohere.embed-multilingual-v3')).family).toBe('cohere-v3');
    const e = refusal(entry('bedrock/amazon.titan-embed-g1', 'amazon.titan-embed-text-v1'), { input: 'a' });
    expect(e.details.param).toBe('model');
  });
});
