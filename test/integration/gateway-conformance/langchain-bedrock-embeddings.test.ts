import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { encode as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it, vi } from 'vitest';
import { conformanceConfig } from '../../support/gateway-config.js';
import { PythonLangChainClient, type LangChainCall } from './langchain-clients.js';
import { mockProviderSdks, plainTenant, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 30_000 });

/**
 * An existing RAG pipeline on LangChain's Python `OpenAIEmbeddings`, pointed at a Bedrock embedding model through
 * `tessera serve`, with LangChain's defaults: `check_embedding_ctx_length=True` tokenizes each text with tiktoken
 * (`encoding_for_model("bedrock/...")` knows no such model: `cl100k_base`) and sends the token ids as `input`. Bedrock's
 * InvokeModel takes text only, so the gateway decodes the ids with the model's `tokenizer` (default `cl100k_base` on a
 * Bedrock embedding entry, LangChain's and LiteLLM's proxy's convention) and sends the text (InvokeModel mocked at the
 * AWS SDK). Before 2026-12-06 every such call was a 400 `unsupported_parameter` naming `input`.
 */
const { bedrock } = mockProviderSdks();
const embedding = (id: string, upstream: string, maxInputTokens: number) => ({ id, upstream, kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096, maxInputTokens });
const TITAN = embedding('bedrock/amazon.titan-embed-text-v2', 'amazon.titan-embed-text-v2:0', 8192);
const COHERE = embedding('bedrock/cohere.embed-english-v3', 'cohere.embed-english-v3', 512);
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, TITAN, COHERE] } };
};
const suite = useConformanceGateway(PythonLangChainClient.start, {
  config: config(),
  tenants: [plainTenant('acme'), plainTenant('guarded', { guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true } })],
});
const run = (call: LangChainCall, tenant = 'acme') => suite.python.call(suite.env.gw.url, suite.env.tokens[tenant], call);

/** A float32-exact vector per text: its length and first character code. */
const vectorOf = (text: string) => [text.length, text.charCodeAt(0), 0.5, -1];
const decoded = (body: unknown) => JSON.parse(new TextDecoder().decode(body as Uint8Array));
const sent = () => bedrock.commandCalls(InvokeModelCommand).map((c) => ({ modelId: c.args[0].input.modelId, body: decoded(c.args[0].input.body) }));
const titan = () => void bedrock.on(InvokeModelCommand).callsFake(async (input) => {
  const { inputText } = decoded(input.body);
  return { body: new TextEncoder().encode(JSON.stringify({ embedding: vectorOf(inputText), inputTextTokenCount: 3 })), contentType: 'application/json' };
});
const cohere = () => void bedrock.on(InvokeModelCommand).callsFake(async (input) => {
  const { texts } = decoded(input.body);
  return { body: new TextEncoder().encode(JSON.stringify({ id: 'c-1', response_type: 'embeddings_by_type', embeddings: { float: texts.map(vectorOf) }, texts })), contentType: 'application/json' };
});
const audit = (tenant = 'acme') => suite.env.gw.audit.records.filter((a) => a.tenantId === tenant && a.path === '/v1/embeddings').at(-1)!;

describe('LangChain OpenAIEmbeddings (defaults: token ids) on a Bedrock embedding model', () => {
  const texts = ['The CFO reported Q3 revenue of 41.2 million.', 'Oslo is the capital of Norway.', 'naïve café — 東京'];

  it('Titan: embed_documents sends cl100k ids; Bedrock gets each text, LangChain the vectors in order', async () => {
    titan();
    const out = await run({ op: 'embed_documents', model: TITAN.id, texts });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual(texts.map(vectorOf));
    expect(sent()).toEqual(texts.map((t) => ({ modelId: 'amazon.titan-embed-text-v2:0', body: { inputText: t } })));
    expect(audit()).toMatchObject({ status: 200, model: TITAN.id, promptTokens: 9, detail: { tokenIdsDecodedWith: 'cl100k_base' } });
  });

  it('Cohere: embed_query sends one id array; Bedrock gets its text in texts', async () => {
    cohere();
    const out = await run({ op: 'embed_query', model: COHERE.id, text: 'Where is Oslo?' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual(vectorOf('Where is Oslo?'));
    expect(sent()).toEqual([{ modelId: 'cohere.embed-english-v3', body: { texts: ['Where is Oslo?'], input_type: 'search_document', embedding_types: ['float'] } }]);
  });

  it('a guarded tenant: the decoded text is screened and redacted before Bedrock sees it', async () => {
    titan();
    const out = await run({ op: 'embed_documents', model: TITAN.id, texts: ['mail jane.doe@example.com today', 'beta'] }, 'guarded');
    expect(out.error).toBeUndefined();
    expect(sent().map((s) => s.body.inputText)).toEqual(['mail [EMAIL] today', 'beta']);
    expect(audit('guarded')).toMatchObject({ status: 200, piiRedacted: ['EMAIL'], detail: { tokenIdsDecodedWith: 'cl100k_base' } });
  });

  it('an id outside cl100k_base: a 400 invalid_token_id naming input[i][j] and the id; Bedrock not called', async () => {
    titan();
    const res = await fetch(`${suite.env.gw.url}/embeddings`, {
      method: 'POST', headers: { authorization: `Bearer ${suite.env.tokens.acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: TITAN.id, input: [cl100k('alpha'), [15339, 100256]] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'invalid_token_id', param: 'input[1][1]', message: expect.stringContaining('100256') });
    expect(sent()).toEqual([]);
  });
});
