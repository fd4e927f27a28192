import type { CountTokensRequest } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { converseRequest } from './converse-request.js';

/**
 * OpenAI's chat-completions request → Bedrock's CountTokens request for the same Converse input: the `messages`,
 * `system` and `toolConfig` converseRequest makes (every refusal of the mapping thrown as it is, a 400 naming the
 * field), in `input.converse`. What CountTokens' ConverseTokensRequest has no member for (inference settings, output
 * format, service tier, metadata) is left out: it is no input token.
 *
 * AWS reference: CountTokens (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html),
 * ConverseTokensRequest (API_runtime_ConverseTokensRequest.html).
 * @param modelId the catalog entry's `upstream` (a Bedrock model id; CountTokens takes foundation-model ids)
 */
export function countTokensRequest(body: ChatCompletionCreateParams, modelId: string): CountTokensRequest {
  const { messages, system, toolConfig } = converseRequest(body, modelId);
  return { modelId, input: { converse: { messages, ...(system ? { system } : {}), ...(toolConfig ? { toolConfig } : {}) } } };
}

/**
 * Whether a CountTokens failure says the model counts no tokens: Bedrock's ValidationException "The provided model
 * doesn't support counting tokens" (answered for models without token counting, Amazon Nova's among them, and for
 * cross-region inference profile ids). Any other failure is an upstream error.
 */
export function countsNoTokens(e: unknown): boolean {
  const err = e as { name?: string; message?: string } | undefined;
  return err?.name === 'ValidationException' && /support(s|ing)? counting tokens/i.test(err.message ?? '');
}
