import { BedrockRuntimeClient, ConverseCommand, CountTokensCommand, ConverseStreamCommand, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { platformClient } from '../../shared/aws-clients.js';
import { recordCalledEndpoint } from '../../shared/called-endpoint.js';
import { converseRequest } from './bedrock/converse-request.js';
import { chatCompletion, type AnswerMeta } from './bedrock/response.js';
import { providerErrorFromSdk } from './bedrock/sdk-errors.js';
import { toolChoiceRefusal } from './bedrock/tool-choice-refusal.js';
import { oneToolCall } from '../chat/one-tool-call.js';
import { chatCompletionChunks } from './bedrock/stream.js';
import { bedrockEmbeddings } from './bedrock/embeddings.js';
import { bedrockImageForm, bedrockImages } from './bedrock/image-models.js';
import { ProviderError, type EmbeddingAnswer, type EmbeddingProviderRequest, type ImageAnswer, type ImageFormProviderRequest, type ImageProviderRequest, type InputTokensProviderRequest, type Provider, type ProviderRequest } from './provider.js';
import { countTokensRequest, countsNoTokens } from './bedrock/count-tokens.js';

/**
 * Amazon Bedrock through Converse / ConverseStream (one API for every Bedrock model), mapping
 * OpenAI's chat completions both ways. Each mapping rule is a tested module in `./bedrock/`:
 * converse-request.ts assembles the request (and throws every 400 before anything is sent),
 * response.ts and stream.ts shape the answer, sdk-errors.ts Bedrock's errors (tool-choice-refusal.ts renames its
 * refusal of a toolChoice the model does not take to the caller's `tool_choice`).
 * `model.upstream` is the Bedrock model id, inference profile id or ARN. Embeddings go through
 * InvokeModel (Converse has none): bedrock/embeddings.ts.
 */
export class BedrockProvider implements Provider {
  /**
   * One SDK attempt per call (Converse, ConverseStream, InvokeModel): the gateway's UpstreamCalls
   * owns retries (the tier's `retries`, backoff, `Retry-After`, the fallback chain) and the
   * first-byte timeout. With the SDK's default 3 attempts and its backoff inside each gateway
   * attempt, a throttled Bedrock outlasted a short first-byte timeout (the caller got a 504
   * `upstream_timeout` instead of a 429) and retries multiplied (3 × the gateway's).
   * sdk-errors.ts says what is retryable, as sagemaker.ts's RETRYABLE does for SageMaker.
   * The `model` HTTP timeouts (lib/aws-http-timeouts.ts): a connection timeout only, no socket timeout
   * (Converse answers after the whole generation; UpstreamCalls' timeouts abort the call).
   * Its failed calls carry the endpoint they went to (called-endpoint.ts), which sdk-errors.ts names.
   */
  private readonly client: BedrockRuntimeClient;

  /**
   * @param region the region the calls go to: a Bedrock deployment's (`gateway.models[].deployments[].region`).
   *   @default - the Lambda's own (AWS_REGION)
   */
  constructor(readonly region?: string) {
    this.client = recordCalledEndpoint(platformClient(BedrockRuntimeClient, 'gateway', { maxAttempts: BEDROCK_SDK_ATTEMPTS, http: 'model', ...(region ? { region } : {}) }));
  }

  async complete(r: ProviderRequest): Promise<ChatCompletion> {
    const input = converseRequest(r.body, r.model.upstream);
    let out;
    try {
      out = await this.client.send(new ConverseCommand(input), { abortSignal: r.signal });
    } catch (e) {
      throw toolChoiceRefusal(providerErrorFromSdk(e), r.body);
    }
    return chatCompletion(out, meta(r, out.$metadata?.requestId), oneToolCall(r.body));
  }

  async *stream(r: ProviderRequest): AsyncIterable<ChatCompletionChunk> {
    const input = converseRequest(r.body, r.model.upstream);
    let out;
    try {
      out = await this.client.send(new ConverseStreamCommand(input), { abortSignal: r.signal });
    } catch (e) {
      throw toolChoiceRefusal(providerErrorFromSdk(e), r.body);
    }
    try {
      yield* chatCompletionChunks(out.stream ?? none(), meta(r, out.$metadata?.requestId), oneToolCall(r.body), r.onActivity);
    } catch (e) {
      // A stream's exception event carries no request id: the ConverseStream call's, for the failure's log line.
      if (e instanceof ProviderError && out.$metadata?.requestId) e.details.upstreamRequestId ??= out.$metadata.requestId;
      // ConverseStreamOutput carries validationException as an event too: the refusal renamed as at the send (before
      // any chunk the gateway answers it as that 400; after one, the stream ends with it as its error).
      throw e instanceof ProviderError ? toolChoiceRefusal(e, r.body) : e;
    }
  }

  /**
   * Bedrock's CountTokens with the request mapped as Converse gets it (bedrock/count-tokens.ts); undefined for a model
   * Bedrock counts none for (its ValidationException "The provided model doesn't support counting tokens", also
   * an inference profile id), for the gateway to estimate.
   */
  async countInputTokens(r: InputTokensProviderRequest): Promise<number | undefined> {
    const input = countTokensRequest(r.body, r.model.upstream);
    try {
      const out = await this.client.send(new CountTokensCommand(input), { abortSignal: r.signal });
      return out.inputTokens;
    } catch (e) {
      if (countsNoTokens(e)) return undefined;
      throw providerErrorFromSdk(e);
    }
  }

  /** Titan Text Embeddings V2 and Cohere Embed v3 through InvokeModel (bedrock/embeddings.ts, bedrock/embedding-models.ts). */
  embed(r: EmbeddingProviderRequest): Promise<EmbeddingAnswer> {
    return bedrockEmbeddings(this.client, r);
  }

  /** Amazon Nova Canvas and Titan Image Generator v2 through InvokeModel, task TEXT_IMAGE (bedrock/image-models.ts). */
  generateImages(r: ImageProviderRequest): Promise<ImageAnswer> {
    return bedrockImages(this.client, r);
  }

  /** Image edits (without mask) and variations through InvokeModel, task IMAGE_VARIATION (bedrock/image-models.ts imageFormInvokeBody). */
  editImages(r: ImageFormProviderRequest): Promise<ImageAnswer> {
    return bedrockImageForm(this.client, r);
  }
}

/** The SDK's attempts per Bedrock call: one, the gateway retries (see BedrockProvider.client). */
export const BEDROCK_SDK_ATTEMPTS = 1;

/** Placeholders the gateway replaces: Bedrock's request id as the completion id, the upstream model. */
function meta(r: ProviderRequest, requestId: string | undefined): AnswerMeta {
  return { id: `chatcmpl-${requestId ?? 'bedrock'}`, created: Math.floor(Date.now() / 1000), model: r.model.upstream };
}

async function* none(): AsyncIterable<ConverseStreamOutput> {}
