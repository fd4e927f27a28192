import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import { z } from 'zod';

/**
 * OpenAI's limits on `input` (API reference, "Create embeddings"): an array holds at most 2,048
 * inputs, and no input may be an empty string. (Its other limits are counted in tokens: per input, the model's
 * (8,192 for OpenAI's models: the catalog's `maxInputTokens`); 300,000 summed over a request's inputs, every model's:
 * request-token-limit.ts.)
 */
export const MAX_INPUTS = 2048;

/**
 * What to do with more than MAX_INPUTS inputs, said after OpenAI's words for a list over its maximum (a 400
 * `array_above_max_length` naming `input`: "Invalid 'input': array too long. Expected an array with maximum length 2048,
 * but got an array with length 2049 instead.", its message for any array over its maximum: openai/openai-dotnet#317;
 * request-body.ts parseWith).
 */
export const TOO_MANY_INPUTS_MESSAGE = `Split the inputs over several requests of at most ${MAX_INPUTS.toLocaleString('en-US')} each `
  + '(the openai clients send the list as given; LangChain\'s OpenAIEmbeddings sends chunk_size texts a request, 1000 by default)';

/**
 * An input text: not empty, as OpenAI's reference says ("cannot be an empty string") and its API answers (a 400,
 * "'$.input' is invalid", for `""` alone since 2024 (aryn-ai/sycamore#943, lightdash/lightdash#18938) and in a list
 * (openai/openai-python#576)). LangChain's `embedDocuments` / `embed_documents` sends an empty document's text as it is,
 * so the message says what to do instead.
 */
export const EMPTY_INPUT_MESSAGE = 'must not be an empty string (OpenAI refuses empty inputs: "cannot be an empty string"); ' +
  'leave empty texts out of the request (filter empty documents before embedDocuments / embed_documents) and give them no vector, or embed a placeholder text of your choosing in their place';
const text = z.string().min(1, EMPTY_INPUT_MESSAGE);
const token = z.number().int().min(0);

/**
 * What the gateway reads of OpenAI's embeddings request (`EmbeddingCreateParams` of the `openai`
 * package is the contract):
 * - `input`: a string, an array of strings, an array of token ids (one input), or an array of
 *   token-id arrays; at most `MAX_INPUTS` inputs, no empty string or empty token array.
 * - `encoding_format`: `float` | `base64` (absent or null = float, OpenAI's default).
 * - `dimensions`: a positive integer; `user`: a string.
 * Every optional field accepts `null` as "absent". The object is loose: fields the gateway does
 * not read (a TEI or vLLM server's own, such as `truncate`) go on to OpenAI-compatible upstreams.
 */
export const EmbeddingRequest = z.looseObject({
  model: z.string().min(1).max(256), // as chat's and responses' schemas: a catalog id, never more
  input: z.union([
    text,
    z.array(text).min(1).max(MAX_INPUTS, TOO_MANY_INPUTS_MESSAGE),
    z.array(token).min(1),
    z.array(z.array(token).min(1)).min(1).max(MAX_INPUTS, TOO_MANY_INPUTS_MESSAGE),
  ]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().positive().nullish(),
  user: z.string().nullish(),
});

/** The parsed body: OpenAI's params and whatever else the caller sent. */
export type EmbeddingRequestBody = EmbeddingCreateParams & Record<string, unknown>;
