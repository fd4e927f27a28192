import { inputTokenizerOf, TOKEN_IDS_DECODED_PROVIDERS, type InputTokenizer, type ModelEntry } from '../../../lib/config/schema.js';
import { invalid } from '../openai-errors.js';
import type { PipelineRequest } from '../pipeline.js';
import { providerOf } from '../policy.js';
import { decodeTokenIds } from '../token-decode.js';
import { inputsOf } from './inputs.js';
import type { EmbeddingRequestBody } from './request-schema.js';

/**
 * Token-id inputs (`input` as an array of ids, or of id arrays) decoded to their texts in `encoding`, one text per input.
 * @param modelId the catalog id called, named in the error
 * @throws GatewayError 400 `invalid_token_id` naming `input[i][j]` (`input[j]` for one input) and the id outside the vocabulary
 */
export async function decodeInputIds(body: EmbeddingRequestBody, tokens: number[][], encoding: InputTokenizer, modelId: string): Promise<string[]> {
  const decoded = await decodeTokenIds(encoding, tokens);
  if (decoded.ok) return decoded.texts;
  const at = typeof (body.input as unknown[])[0] === 'number' ? `input[${decoded.position}]` : `input[${decoded.input}][${decoded.position}]`;
  throw invalid(`${at} is ${decoded.id}, which is not a token id of ${encoding}, the encoding of ${modelId}'s input`, at, 'invalid_token_id');
}

/**
 * A token-id `input` to a model that takes no tiktoken ids, as text. Bedrock's embedding models (InvokeModel: Titan's
 * `inputText`, Cohere's `texts`) and Hugging Face's (the Inference API's text `inputs`; a TEI or vLLM Inference Endpoint
 * takes ids in its model's own vocabulary only) are such: {@link TOKEN_IDS_DECODED_PROVIDERS}. Yet LangChain's Python
 * `OpenAIEmbeddings` sends ids by default (`check_embedding_ctx_length=True`: tiktoken's `encoding_for_model` knows no
 * `bedrock/...` or `huggingface/...` name and falls back to `cl100k_base`). So the ids are decoded with the entry's
 * encoding (`inputTokenizerOf`: `cl100k_base` unless the entry says `tokenizer: o200k_base`; LiteLLM's proxy decodes
 * token arrays for both with cl100k too) and the model gets the text: one id array is one string, many are an array of
 * strings. The audit record's `detail.tokenIdsDecodedWith` names the encoding. Any other provider (`openai`,
 * `openai-compatible`: vLLM and TEI take ids for their own tokenizer), or a text input, gets the body unchanged.
 * @returns the body with string input, or `body` itself
 * @throws GatewayError 400 `invalid_token_id` (decodeInputIds)
 */
export async function textInputForTextOnlyModel(r: PipelineRequest, body: EmbeddingRequestBody, model: ModelEntry): Promise<EmbeddingRequestBody> {
  const inputs = inputsOf(body.input);
  const encoding = inputTokenizerOf(model);
  if (inputs.kind !== 'tokens' || !TOKEN_IDS_DECODED_PROVIDERS.includes(providerOf(model)) || !encoding) return body;
  const texts = await decodeInputIds(body, inputs.tokens, encoding, model.id);
  r.audit.detail = { ...r.audit.detail, tokenIdsDecodedWith: encoding };
  return { ...body, input: typeof (body.input as unknown[])[0] === 'number' ? texts[0] : texts };
}
