import { InvokeModelCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { EmbeddingAnswer, EmbeddingProviderRequest } from '../provider.js';
import { embeddingCalls, vectorsOf } from './embedding-models.js';
import { providerErrorFromSdk } from './sdk-errors.js';

/** InvokeModel calls in flight at once for one request (Titan: one call per input). */
export const EMBEDDING_CONCURRENCY = 4;

/**
 * Bedrock's response header with the input tokens of an InvokeModel call (not in the SDK's
 * modelled output: read by a deserialize-step middleware on the command).
 */
export const INPUT_TOKEN_HEADER = 'x-amzn-bedrock-input-token-count';

/**
 * Embeddings on Bedrock through InvokeModel (embedding-models.ts maps the request): the calls run
 * at most `EMBEDDING_CONCURRENCY` at a time, the vectors come back in input order. Input tokens:
 * Titan's `inputTextTokenCount`, else Bedrock's `X-Amzn-Bedrock-Input-Token-Count` header, summed
 * over the calls; undefined (the gateway's count bills) when a call reported neither.
 * @throws ProviderError - a 400 of the mapping before anything is sent, or the first failed call's (sdk-errors.ts)
 */
export async function bedrockEmbeddings(client: BedrockRuntimeClient, r: EmbeddingProviderRequest): Promise<EmbeddingAnswer> {
  const { family, bodies, sizes } = embeddingCalls(r.body, r.model);
  const results = new Array<{ vectors: number[][]; tokens?: number }>(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const k = next++;
      let headerTokens: number | undefined;
      const command = new InvokeModelCommand({ modelId: r.model.upstream, contentType: 'application/json', accept: 'application/json', body: new TextEncoder().encode(JSON.stringify(bodies[k])) });
      command.middlewareStack.add((nextHandler) => async (args) => {
        const out = await nextHandler(args);
        const headers = (out.response as { headers?: Record<string, string> } | undefined)?.headers ?? {};
        const value = Number(headers[INPUT_TOKEN_HEADER]);
        if (headers[INPUT_TOKEN_HEADER] !== undefined && Number.isSafeInteger(value) && value >= 0) headerTokens = value;
        return out;
      }, { step: 'deserialize', name: 'tesseraInputTokenCount' });
      let out;
      try {
        out = await client.send(command, { abortSignal: r.signal });
      } catch (e) {
        throw providerErrorFromSdk(e);
      }
      r.onActivity?.();
      let answer: unknown;
      try {
        answer = JSON.parse(new TextDecoder().decode(out.body));
      } catch {
        answer = undefined;
      }
      const got = vectorsOf(family, answer, sizes[k]);
      results[k] = { vectors: got.vectors, tokens: got.tokens ?? headerTokens };
    }
  };
  await Promise.all(Array.from({ length: Math.min(EMBEDDING_CONCURRENCY, bodies.length) }, worker));
  const tokens = results.every((x) => x.tokens !== undefined) ? results.reduce((sum, x) => sum + x.tokens!, 0) : undefined;
  return { vectors: results.flatMap((x) => x.vectors), promptTokens: tokens };
}
