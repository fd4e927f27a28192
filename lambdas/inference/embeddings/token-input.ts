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
 * What the gateway does with a token-id `input` (`input` as ids or id arrays), by provider, so that the model embeds the
 * words the ids were encoded from (OpenAI's contract: the ids are in the model's vocabulary). LangChain's Python
 * `OpenAIEmbeddings` sends ids by default (`check_embedding_ctx_length=True`: tiktoken's `encoding_for_model` knows no
 * gateway id and falls back to `cl100k_base`), whatever the model.
 * - `openai`: relayed (OpenAI's embedding models take their own tiktoken ids).
 * - `bedrock`, `huggingface`, `sagemaker` ({@link TOKEN_IDS_DECODED_PROVIDERS}): decoded with the entry's encoding
 *   (`inputTokenizerOf`: `cl100k_base` unless the entry says `tokenizer: o200k_base`; LiteLLM's proxy decodes token
 *   arrays with cl100k too) and the model gets the text: one id array is one string, many an array of strings. Titan and
 *   Cohere on Bedrock take text only (InvokeModel's `inputText`, `texts`), as does Hugging Face's Inference API; a TEI or
 *   vLLM server (a Hugging Face Inference Endpoint, or a SageMaker endpoint: providers/sagemaker.ts sends it OpenAI's
 *   embeddings body) takes ids only in its open model's own vocabulary, which is never tiktoken's: relayed, the ids
 *   would be embedded as other words, answered 200. The audit record's `detail.tokenIdsDecodedWith` names the encoding.
 * - `openai-compatible` with a `tokenizer`: relayed; the entry says its upstream's vocabulary is that encoding (a proxy
 *   in front of OpenAI's models), so the ids are the words they were encoded from.
 * - `openai-compatible` without one: refused, 400 `unknown_token_vocabulary` naming `input`. Its upstream may be a
 *   vLLM or TEI server with its own tokenizer, which reads LangChain's cl100k ids as other words and answers 200 with
 *   vectors of the wrong text, a RAG index then wrong without an error; decoding as cl100k would be as wrong for a
 *   caller that sent the model's own ids. The gateway cannot tell whose vocabulary ids are in, so it asks for text.
 * @returns the body with string input, or `body` itself
 * @throws GatewayError 400 `invalid_token_id` (decodeInputIds); 400 `unknown_token_vocabulary` naming `input` (above)
 */
export async function textInputForTextOnlyModel(r: PipelineRequest, body: EmbeddingRequestBody, model: ModelEntry): Promise<EmbeddingRequestBody> {
  const inputs = inputsOf(body.input);
  if (inputs.kind !== 'tokens') return body;
  const encoding = inputTokenizerOf(model);
  const provider = providerOf(model);
  if (provider === 'openai-compatible' && !encoding) throw unknownVocabulary(model.id);
  if (!TOKEN_IDS_DECODED_PROVIDERS.includes(provider) || !encoding) return body;
  const texts = await decodeInputIds(body, inputs.tokens, encoding, model.id);
  r.audit.detail = { ...r.audit.detail, tokenIdsDecodedWith: encoding };
  return { ...body, input: typeof (body.input as unknown[])[0] === 'number' ? texts[0] : texts };
}

/** The 400 of token ids to an `openai-compatible` model whose vocabulary the catalog does not say (textInputForTextOnlyModel). */
const unknownVocabulary = (modelId: string) => invalid(`input holds token ids, and ${modelId}'s vocabulary is not known (its catalog entry sets no tokenizer): a server with another tokenizer would embed other words than the ids were encoded from, answered 200 (LangChain's OpenAIEmbeddings sends cl100k_base ids for any model name); send the text instead (OpenAIEmbeddings(..., check_embedding_ctx_length=False)), or the platform sets tokenizer: cl100k_base or o200k_base on the entry when its upstream takes those ids`, 'input', 'unknown_token_vocabulary');
