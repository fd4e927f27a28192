import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { bedrockEmbeddings } from '../../../../lambdas/inference/providers/bedrock/embeddings.js';

/**
 * The real SDK path, not aws-sdk-client-mock (which replaces `send` and so skips middleware):
 * a BedrockRuntimeClient whose HTTP handler answers like Bedrock, header included, so the
 * deserialize-step middleware that reads `X-Amzn-Bedrock-Input-Token-Count` runs as in Lambda.
 */
const COHERE: ModelEntry = { id: 'bedrock/cohere.embed-english-v3', upstream: 'cohere.embed-english-v3', kind: 'embedding', inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };

function bedrockAnswering(headers: Record<string, string>, seen: HttpRequest[]) {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'unit', secretAccessKey: 'unit' },
    requestHandler: {
      handle: async (request: HttpRequest) => {
        seen.push(request);
        const { texts } = JSON.parse(Buffer.from(request.body as Uint8Array).toString("utf8"));
        const body = JSON.stringify({ response_type: 'embeddings_by_type', embeddings: { float: texts.map(() => [0.5]) } });
        return { response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/json', ...headers }, body: Readable.from([Buffer.from(body)]) }) };
      },
    },
  });
}

describe("Bedrock's X-Amzn-Bedrock-Input-Token-Count header", () => {
  it('bills the input tokens Bedrock reports in the header, summed over the batches', async () => {
    const seen: HttpRequest[] = [];
    const client = bedrockAnswering({ 'x-amzn-bedrock-input-token-count': '7' }, seen);
    const out = await bedrockEmbeddings(client, { model: COHERE, body: { model: COHERE.id, input: Array.from({ length: 100 }, () => 'hi') }, tenantId: 'acme', signal: new AbortController().signal });
    expect(seen.map((r) => r.path)).toEqual(['/model/cohere.embed-english-v3/invoke', '/model/cohere.embed-english-v3/invoke']);
    expect(out.vectors).toHaveLength(100);
    expect(out.promptTokens).toBe(14);
  });

  it('reports no usage when the header is absent (the gateway then bills its own count)', async () => {
    const out = await bedrockEmbeddings(bedrockAnswering({}, []), { model: COHERE, body: { model: COHERE.id, input: 'hi' }, tenantId: 'acme', signal: new AbortController().signal });
    expect(out.promptTokens).toBeUndefined();
  });
});
