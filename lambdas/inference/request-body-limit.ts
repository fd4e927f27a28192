/**
 * The 413 of a request body over `gateway.maxRequestBytes` (1 MiB by default), naming the body's size, the limit and
 * what to do on the route it was sent to (docs/gateway.md, the 413 row of *Errors*): an image or document sent inline
 * as base64 is what makes a chat or Responses body that large, and the gateway takes it as a file id instead (Model
 * input files); an embeddings, moderations or text completions body that large holds too many inputs for one request,
 * and they go over several; the Batch API's and the Uploads API's bytes go in a file or an upload's parts.
 */
import { GatewayError, tooLarge } from './openai-errors.js';

/**
 * The body's size in bytes: the request's `content-length` (on `tessera serve` the bytes counted, for a body the
 * local server stopped buffering: local-server.ts), else the UTF-8 length of the body.
 * @param headers the request's headers, lower-case names
 * @param body the body as read
 */
export function sentBodyBytes(headers: Record<string, string | undefined>, body: string): number {
  const declared = headers['content-length'];
  return declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : Buffer.byteLength(body);
}

/** The file-id way for an inline image or document, as chat completions and the Responses API take it. */
const INLINE_FILE = 'an image or document sent inline as base64: upload it with POST /v1/files (purpose "vision" or "user_data") and send its file_id instead';

/** The most bytes one token id takes in a JSON array: six digits (cl100k_base's and o200k_base's ids are under 1,000,000) and a comma. */
const TOKEN_ID_JSON_BYTES = 7;
/** The bytes of a request body besides its inputs (model, encoding_format, dimensions, user, the brackets), at most. */
const EMBEDDINGS_BODY_OVERHEAD_BYTES = 1024;
/** LangChain's `OpenAIEmbeddings.embedding_ctx_length`: it cuts each text into pieces of at most this many tokens, each an input. */
const LANGCHAIN_EMBEDDING_CTX_LENGTH = 8191;

/**
 * The largest `chunk_size` (texts a request) with which LangChain's `OpenAIEmbeddings`, on its defaults
 * (`check_embedding_ctx_length=True`: each text sent as its tiktoken token ids, up to 1,000 texts and 300,000 tokens a
 * request), keeps every request body within `limitBytes`, for texts of at most `tokensPerText` tokens: each text's ids
 * take at most 7 bytes a token and 2 for its brackets. At least 1.
 * @param limitBytes `gateway.maxRequestBytes`
 * @param tokensPerText the longest text's tokens (LangChain's pieces are at most 8,191)
 */
export function langChainChunkSize(limitBytes: number, tokensPerText: number): number {
  return Math.max(1, Math.floor((limitBytes - EMBEDDINGS_BODY_OVERHEAD_BYTES) / (TOKEN_ID_JSON_BYTES * tokensPerText + 2)));
}

/** A text's bytes in a JSON array of strings besides its own (escaped) bytes: its two quotes and a comma. */
const STRING_JSON_BYTES = 3;
/** The text length the JS advice gives a number for: ~1,000 tokens of English. */
const JS_EXAMPLE_TEXT_BYTES = 4000;

/**
 * The largest `batchSize` (texts a request) with which LangChain JS's `OpenAIEmbeddings`, which sends its texts as strings,
 * keeps every request body within `limitBytes`, for texts of at most `textBytes` bytes each as JSON (UTF-8, a quote,
 * backslash or control character escaped): each takes its bytes, two quotes and a comma, besides the body's
 * EMBEDDINGS_BODY_OVERHEAD_BYTES. At least 1.
 * @param limitBytes `gateway.maxRequestBytes`
 * @param textBytes the longest text's bytes as a JSON string, without its quotes
 */
export function langChainJsBatchSize(limitBytes: number, textBytes: number): number {
  return Math.max(1, Math.floor((limitBytes - EMBEDDINGS_BODY_OVERHEAD_BYTES) / (textBytes + STRING_JSON_BYTES)));
}

/**
 * The `chunk_size` to give LangChain's `OpenAIEmbeddings`, whose default batches (1,000 texts, up to 300,000 tokens, as
 * token ids: ~5 bytes a token of English, so ~1.5 MB) are over the default 1 MiB with texts of ~215 tokens or more,
 * where OpenAI answers them: the values for texts of up to 1,000 tokens and for any text, and the rule; and LangChain JS's
 * `batchSize` (512 texts a request by default, sent as strings): its value for texts of up to 4,000 bytes, and the rule
 * (langChainJsBatchSize: each text's quotes and comma and the body's other fields count too).
 * @param limitBytes `gateway.maxRequestBytes`
 */
function langChainEmbeddingsAdvice(limitBytes: number): string {
  return `LangChain's OpenAIEmbeddings (Python) sends up to chunk_size texts a request (1000 by default) as token ids, up to ${TOKEN_ID_JSON_BYTES} bytes a token: `
    + `chunk_size=${langChainChunkSize(limitBytes, 1000)} keeps its requests under this limit for texts of up to 1,000 tokens (~4,000 characters of English), `
    + `chunk_size=${langChainChunkSize(limitBytes, LANGCHAIN_EMBEDDING_CTX_LENGTH)} for any text (it sends a longer text in pieces of ${LANGCHAIN_EMBEDDING_CTX_LENGTH.toLocaleString('en-US')} tokens); `
    + `in general the limit's bytes / (${TOKEN_ID_JSON_BYTES} × your longest text's tokens); LangChain JS sends its texts as they are, batchSize (512 by default) a request: `
    + `batchSize=${langChainJsBatchSize(limitBytes, JS_EXAMPLE_TEXT_BYTES)} for texts of up to ${JS_EXAMPLE_TEXT_BYTES.toLocaleString('en-US')} bytes as JSON, `
    + `in general (the limit's bytes - ${EMBEDDINGS_BODY_OVERHEAD_BYTES.toLocaleString('en-US')}) / (your longest text's bytes as JSON + ${STRING_JSON_BYTES})`;
}

/**
 * What to do about a body over the limit, by route (the path as routed, `/v1/...`). A route not named here (vector
 * stores, fine-tuning, the tenant's own routes) is told to send a smaller body.
 * @param path the request's path, e.g. `/v1/embeddings`; a batch line's `url`
 * @param limitBytes `gateway.maxRequestBytes`, which the embeddings advice's LangChain `chunk_size` is computed for
 */
export function tooLargeAdvice(path: string, limitBytes: number): string {
  switch (path) {
    case '/v1/chat/completions':
      return `${INLINE_FILE} (in chat completions a document's file part, {type: "file", file: {file_id}}; in the Responses API an input_image or input_file part)`;
    case '/v1/responses':
      return `${INLINE_FILE} (an input_image or input_file part with its file_id)`;
    case '/v1/embeddings':
      return `split the inputs over several requests, each under the limit; a request also takes at most 300,000 tokens summed over its inputs. ${langChainEmbeddingsAdvice(limitBytes)}`;
    case '/v1/completions':
      return 'split a list of prompts over several requests, each under the limit, or send a shorter prompt';
    case '/v1/moderations':
      return 'split the inputs over several requests, each under the limit (an image sent inline as base64: a smaller image)';
    case '/v1/images/generations':
      return 'send a shorter prompt (OpenAI takes at most 32,000 characters for gpt-image-1, 4,000 for dall-e-3)';
    case '/v1/audio/speech':
      return 'split the text over several requests (OpenAI takes at most 4,096 characters of input a request)';
    case '/v1/files':
      return 'send a file as multipart/form-data to POST /v1/files, or a larger one in parts through the Uploads API (POST /v1/uploads)';
  }
  if (path === '/v1/batches' || path.startsWith('/v1/batches/')) {
    return 'a batch\'s requests go in its input file (POST /v1/files with purpose "batch", then input_file_id), not in this body';
  }
  if (path === '/v1/uploads' || path.startsWith('/v1/uploads/')) {
    return 'an upload\'s bytes go in its parts (POST /v1/uploads/{upload_id}/parts as multipart/form-data), not in this body';
  }
  return 'send a smaller body';
}

/**
 * A 413 `request_too_large` naming the body's size, the limit and what to do on `path` (tooLargeAdvice).
 * @param sentBytes the body's size, bytes
 * @param limitBytes `gateway.maxRequestBytes`
 * @param path the route the body was sent to (`/v1/...`), or a batch line's `url`
 */
export function requestBodyTooLarge(sentBytes: number, limitBytes: number, path: string): GatewayError {
  return tooLarge(`request body is ${sentBytes} bytes, over the limit of ${limitBytes} bytes (gateway.maxRequestBytes); ${tooLargeAdvice(path, limitBytes)}`);
}
