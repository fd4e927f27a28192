import type { ModelEntry } from '../../../../lib/config/schema.js';
import type { EmbeddingRequestBody } from '../../embeddings/request-schema.js';
import { inputPath, inputsOf } from '../../embeddings/inputs.js';
import { ProviderError } from '../provider.js';
import { given, invalidField, unknownField, unsupported } from './refuse.js';

/**
 * Bedrock's embedding model families, their InvokeModel bodies and limits, and which of OpenAI's
 * embedding fields each maps. Pure: `embeddingCalls(body, model)` returns the InvokeModel bodies
 * to send (in input order) and throws every 400 before anything is sent.
 *
 * Titan Text Embeddings V2 (`amazon.titan-embed-text-v2:0`), per the Bedrock user guide "Amazon
 * Titan Embeddings Text" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html)
 * and "Amazon Titan Text Embeddings models" (https://docs.aws.amazon.com/bedrock/latest/userguide/titan-embedding-models.html):
 * - one `inputText` per InvokeModel call; up to 8,192 tokens or 50,000 characters per input;
 * - `dimensions` 1024 (default), 512 or 256; `normalize` (default true); `embeddingTypes` float|binary;
 * - answer `{embedding: float[], inputTextTokenCount, embeddingsByType}`.
 *
 * Cohere Embed v3 (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`), per "Cohere Embed
 * models" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html):
 * - `texts`: up to 96 per call, each up to 2,048 characters (512 tokens recommended);
 * - `input_type` search_document | search_query | classification | clustering (required by v3);
 *   `truncate` NONE (default) | START | END; `embedding_types` float | int8 | uint8 | binary | ubinary;
 * - no `dimensions`: v3 vectors are 1,024 wide;
 * - answer `{embeddings: float[][]}` (`response_type: embeddings_floats`) or, with
 *   `embedding_types`, `{embeddings: {float: float[][]}}` (`embeddings_by_type`).
 *
 * OpenAI's fields:
 * | field | Titan V2 | Cohere v3 |
 * |---|---|---|
 * | `input` strings | one call each (`inputText`) | batches of 96 (`texts`) |
 * | `input` token ids | decoded to text before the call (embeddings/token-input.ts); here a 400 | same |
 * | `dimensions` | 256, 512, 1024 → `dimensions`; other values 400 | 400 |
 * | `encoding_format` | the gateway's (floats asked, encoded by the gateway) | same |
 * | `user` | the gateway's audit record (InvokeModel has no end-user field) | same |
 * | `normalize` (Titan's own) | → `normalize` | 400 |
 * | `input_type`, `truncate` (Cohere's own) | 400 | → as sent; `input_type` default `search_document` |
 * | `embedding_types` | 400 | only `["float"]` (the answer must be floats) |
 * | any other field | 400 | 400 |
 */
export type EmbeddingFamily = 'titan-v2' | 'cohere-v3';

export const TITAN_MAX_CHARS = 50_000;
export const TITAN_DIMENSIONS = [256, 512, 1024] as const;
export const COHERE_MAX_TEXTS = 96;
export const COHERE_MAX_CHARS = 2048;
export const COHERE_INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'] as const;
export const COHERE_TRUNCATE = ['NONE', 'START', 'END'] as const;

/** The gateway's own fields, never sent to Bedrock as they are. */
const GATEWAY_FIELDS = new Set(['model', 'input', 'encoding_format', 'user']);

/**
 * The family of a catalog entry, from its upstream id (a model id, or an inference profile such as
 * `us.cohere.embed-english-v3`) or, for an application inference profile ARN, its catalog id.
 * @throws ProviderError 400 `unsupported_parameter` on `model` for a Bedrock model the gateway does not map
 */
export function embeddingFamily(model: ModelEntry): EmbeddingFamily {
  const names = `${model.upstream} ${model.id}`;
  if (/amazon\.titan-embed-text-v2/.test(names)) return 'titan-v2';
  if (/cohere\.embed-(english|multilingual)-v3/.test(names)) return 'cohere-v3';
  throw unsupported('model', `${model.id} (${model.upstream}) is not an embedding model the gateway maps: Titan Text Embeddings V2 (amazon.titan-embed-text-v2:0) or Cohere Embed v3 (cohere.embed-english-v3, cohere.embed-multilingual-v3)`);
}

/**
 * The InvokeModel bodies for `body` on `model`, in input order: Titan one per input, Cohere one
 * per 96 inputs. `sizes[k]` is how many vectors call k answers.
 * @throws ProviderError 400 naming the field (`input`, `input[i]`, `dimensions`...) and `bedrock`
 */
export function embeddingCalls(body: EmbeddingRequestBody, model: ModelEntry): { family: EmbeddingFamily; bodies: Array<Record<string, unknown>>; sizes: number[] } {
  const family = embeddingFamily(model);
  const inputs = inputsOf(body.input);
  if (inputs.kind === 'tokens') throw unsupported('input', 'Bedrock embedding models take text, not token ids; send the text');
  const texts = inputs.texts;
  if (family === 'titan-v2') {
    checkFields(body, new Set(['dimensions', 'normalize']), 'Titan Text Embeddings V2');
    if (given(body.dimensions) && !(TITAN_DIMENSIONS as readonly number[]).includes(body.dimensions)) throw invalidField('dimensions', `is ${body.dimensions}; Titan Text Embeddings V2 makes vectors of 256, 512 or 1024 dimensions`);
    if (given(body.normalize) && typeof body.normalize !== 'boolean') throw invalidField('normalize', 'must be true or false');
    texts.forEach((t, i) => {
      if (t.length > TITAN_MAX_CHARS) throw invalidField(inputPath(body.input, i), `is ${t.length} characters; Titan Text Embeddings V2 takes at most ${TITAN_MAX_CHARS} per input`);
    });
    const options = { ...(given(body.dimensions) ? { dimensions: body.dimensions } : {}), ...(given(body.normalize) ? { normalize: body.normalize } : {}) };
    return { family, bodies: texts.map((inputText) => ({ inputText, ...options })), sizes: texts.map(() => 1) };
  }
  if (given(body.dimensions)) throw unsupported('dimensions', 'Cohere Embed v3 on Bedrock makes 1,024-dimension vectors and has no dimensions parameter');
  checkFields(body, new Set(['input_type', 'truncate', 'embedding_types']), 'Cohere Embed v3');
  if (given(body.input_type) && !(COHERE_INPUT_TYPES as readonly unknown[]).includes(body.input_type)) throw invalidField('input_type', `must be one of ${COHERE_INPUT_TYPES.join(', ')}`);
  if (given(body.truncate) && !(COHERE_TRUNCATE as readonly unknown[]).includes(body.truncate)) throw invalidField('truncate', `must be one of ${COHERE_TRUNCATE.join(', ')}`);
  if (given(body.embedding_types) && !(Array.isArray(body.embedding_types) && body.embedding_types.length === 1 && body.embedding_types[0] === 'float')) {
    throw unsupported('embedding_types', 'OpenAI\'s answer carries float vectors (or their base64): only ["float"] can be answered');
  }
  texts.forEach((t, i) => {
    if (t.length > COHERE_MAX_CHARS) throw invalidField(inputPath(body.input, i), `is ${t.length} characters; Cohere Embed v3 on Bedrock takes at most ${COHERE_MAX_CHARS} per text`);
  });
  const options = { input_type: given(body.input_type) ? body.input_type : 'search_document', ...(given(body.truncate) ? { truncate: body.truncate } : {}), embedding_types: ['float'] };
  const bodies: Array<Record<string, unknown>> = [];
  const sizes: number[] = [];
  for (let i = 0; i < texts.length; i += COHERE_MAX_TEXTS) {
    const batch = texts.slice(i, i + COHERE_MAX_TEXTS);
    bodies.push({ texts: batch, ...options });
    sizes.push(batch.length);
  }
  return { family, bodies, sizes };
}

/**
 * Every field other than the gateway's and the family's own is a 400 naming it, in OpenAI's words for a field its request
 * does not define (`Unknown parameter: 'top_k'.`, code `unknown_parameter`: refuse.ts unknownField): OpenAI's own fields
 * (`dimensions`) are checked before this, by the family's rules.
 */
function checkFields(body: EmbeddingRequestBody, own: Set<string>, family: string): void {
  for (const [field, value] of Object.entries(body)) {
    if (!given(value) || GATEWAY_FIELDS.has(field) || own.has(field)) continue;
    throw unknownField(field, `${family} on Bedrock has no such parameter`);
  }
}

/**
 * The vectors of one InvokeModel answer, and the input tokens it reports (Titan's
 * `inputTextTokenCount`; Cohere reports none in its body).
 * @throws ProviderError (502, not retryable) for an answer without the expected vectors
 */
export function vectorsOf(family: EmbeddingFamily, answer: unknown, expected: number): { vectors: number[][]; tokens?: number } {
  const a = (answer ?? {}) as Record<string, unknown>;
  if (family === 'titan-v2') {
    const embedding = a.embedding ?? (a.embeddingsByType as Record<string, unknown> | undefined)?.float;
    if (!isVector(embedding)) throw badAnswer('Titan Text Embeddings V2 answered without an embedding');
    return { vectors: [embedding], tokens: typeof a.inputTextTokenCount === 'number' ? a.inputTextTokenCount : undefined };
  }
  const embeddings = Array.isArray(a.embeddings) ? a.embeddings : (a.embeddings as Record<string, unknown> | undefined)?.float;
  if (!Array.isArray(embeddings) || embeddings.length !== expected || !embeddings.every(isVector)) throw badAnswer(`Cohere Embed answered without ${expected} float embeddings`);
  return { vectors: embeddings as number[][] };
}

const isVector = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** An answer the gateway cannot read: Bedrock's side, not the caller's (502, not retried). */
const badAnswer = (message: string) => new ProviderError(message, 502, false, { type: 'upstream_error', code: 'upstream_invalid_answer' });
