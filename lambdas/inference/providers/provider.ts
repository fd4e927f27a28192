import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageGenerateParams, ImagesResponse } from 'openai/resources/images';
import type { ModerationCreateParams, ModerationCreateResponse } from 'openai/resources/moderations';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ModelEntry } from '../../../lib/config/schema.js';

/**
 * What the gateway hands a provider: the caller's chat-completions body as OpenAI defines it
 * (`openai`'s `ChatCompletionCreateParams`), after the tenant's guardrails and system prompt.
 * `body.model` is still the name the caller sent (a catalog id, or an alias of one) and `body.stream`
 * the caller's flag: a provider sends `model.upstream` as the model and decides streaming from
 * which method the gateway called.
 */
export interface ProviderRequest {
  model: ModelEntry;
  body: ChatCompletionCreateParams;
  tenantId: string;
  /** Aborted when the upstream is past its first-byte or idle timeout, or the caller went away. */
  signal: AbortSignal;
  /**
   * Called when the upstream shows it is alive without a chunk (an SSE keep-alive comment while a
   * reasoning model thinks): restarts the running timeout. @default - nothing
   */
  onActivity?: () => void;
}

/** An upstream model API speaking (or mapped onto) OpenAI's chat completions. */
export interface Provider {
  /**
   * The tenant whose own provider key this client calls with (`tessera/tenants/<tenant>/<provider>`): its
   * failures cool the model for that tenant only (model-health.ts). @default - absent: the platform's credentials
   */
  readonly credentialOwner?: string;
  /**
   * The whole answer in OpenAI's shape, everything the upstream returned that OpenAI defines
   * (every choice, tool calls, refusal, logprobs, usage details). The gateway replaces `id` and
   * `model` and normalises `finish_reason`.
   * @throws ProviderError - the upstream refused or failed, or a field has no equivalent here (400)
   */
  complete(request: ProviderRequest): Promise<ChatCompletion>;
  /**
   * OpenAI chunks as the upstream produced them, the usage chunk (`choices: []`, `usage`) last
   * whenever the upstream reports usage (OpenAI-compatible upstreams are asked for it whatever
   * the caller asked; the gateway passes it on only when the caller did).
   * @throws ProviderError - before the first chunk, or for an error event in the middle of the stream
   */
  stream(request: ProviderRequest): AsyncIterable<ChatCompletionChunk>;
  /**
   * Embeddings of `request.body.input`, one per input in input order (`index` 0..n-1). A vector
   * is floats, or OpenAI's base64 (little-endian float32) when the upstream answered so; the
   * gateway encodes the caller's `encoding_format` whatever the provider returned. Optional so
   * that a chat-only provider (a test double) needs none; every built-in provider has it.
   * @throws ProviderError - the upstream refused or failed, or a field has no equivalent here (400 naming it)
   */
  embed?(request: EmbeddingProviderRequest): Promise<EmbeddingAnswer>;
  /**
   * OpenAI's moderations of `request.body.input` (`POST /moderations`), the upstream's answer as
   * it came: `results` in input order, every field kept. Only the OpenAI relay has it (moderation
   * models are the `openai` provider's: lib/config/schema.ts); optional for every other provider.
   * @throws ProviderError - the upstream refused or failed, or answered without `results`
   */
  moderate?(request: ModerationProviderRequest): Promise<ModerationAnswer>;
  /**
   * Images for `request.body.prompt` (OpenAI's `POST /images/generations`), OpenAI's `ImagesResponse` with
   * `data` one entry per image returned (`b64_json` or `url`), every other field the upstream gave kept. The
   * OpenAI relay passes the body on as sent; Bedrock maps it (bedrock/image-models.ts). Optional: SageMaker has none.
   * @throws ProviderError - the upstream refused or failed, a field has no equivalent (400 naming it), or an answer without `data`
   */
  generateImages?(request: ImageProviderRequest): Promise<ImageAnswer>;
  /**
   * One of OpenAI's audio endpoints (`POST /audio/speech`, `/audio/transcriptions`, `/audio/translations`), the body
   * relayed as built (audio/relay-body.ts) and the answer as it came: its bytes and Content-Type. Only the OpenAI
   * relay has it (audio models are the `openai` and `openai-compatible` providers': lib/config/schema.ts).
   * @throws ProviderError - the upstream refused or failed
   */
  audio?(request: AudioProviderRequest): Promise<AudioAnswer>;
  /**
   * An image edit or variation (OpenAI's multipart `POST /images/edits`, `/images/variations`), OpenAI's
   * `ImagesResponse` as `generateImages` answers it. The OpenAI relay sends the caller's form byte for byte
   * (`request.body`); Bedrock maps the parsed form (bedrock/image-models.ts imageFormInvokeBody). Optional.
   */
  editImages?(request: ImageFormProviderRequest): Promise<ImageAnswer>;
  /**
   * OpenAI's legacy text completion (`POST /completions`) of `request.body`, relayed as sent but `model`: the
   * upstream's `Completion` as it came (`choices[].text`, `logprobs`, `usage`, any other field). Only the OpenAI
   * relay has it (completion models are the `openai` and `openai-compatible` providers': lib/config/schema.ts).
   * @throws ProviderError - the upstream refused or failed, or answered without `choices`
   */
  textComplete?(request: CompletionProviderRequest): Promise<CompletionAnswer>;
  /**
   * The streamed text completion: the upstream's chunks (`Completion` objects) as it sent them, the usage chunk
   * (`choices: []`, `usage`) last when the upstream reports usage (the relay asks for it whatever the caller asked).
   * @throws ProviderError - before the first chunk, or for an error event in the middle of the stream
   */
  textStream?(request: CompletionProviderRequest): AsyncIterable<CompletionAnswer>;
  /**
   * The input tokens the upstream itself counts for a request (`POST /v1/responses/input_tokens`): OpenAI's
   * `POST /responses/input_tokens` with `request.responses` (the OpenAI relay, provider `openai` only), Bedrock's
   * CountTokens with `request.body` mapped as Converse gets it. Optional: a provider without it, or undefined from it
   * (an upstream or model that counts none: Bedrock's "doesn't support counting tokens"), leaves the count to the
   * gateway's own o200k estimate (token-count.ts countPromptTokens).
   * @returns input tokens, or undefined when this upstream does not count them for this model
   * @throws ProviderError - the upstream refused or failed
   */
  countInputTokens?(request: InputTokensProviderRequest): Promise<number | undefined>;
}

/**
 * What the gateway hands a provider to count a Responses request's input tokens: the request translated to chat
 * completions and guarded, the tenant's system prompt first, as `complete` would get it (`body`), and the same input as
 * an OpenAI `InputTokenCountParams` body for an upstream that counts Responses requests itself (`responses`: `model`
 * left out, the provider sends `model.upstream`; the chained or conversation history inline as items).
 */
export interface InputTokensProviderRequest {
  model: ModelEntry;
  body: ChatCompletionCreateParams;
  responses: Record<string, unknown>;
  tenantId: string;
  /** Aborted when the upstream is past its timeout, or the caller went away. */
  signal: AbortSignal;
  /** @default - nothing */
  onActivity?: () => void;
}

/**
 * What the gateway hands a provider for `POST /v1/completions`: the caller's body as OpenAI defines it
 * (`CompletionCreateParams`, with any field OpenAI does not name, for vLLM / TGI / SGLang servers that take it),
 * `prompt` and `suffix` after the tenant's guardrails. `body.model` is the caller's; the provider sends `model.upstream`.
 */
export interface CompletionProviderRequest {
  model: ModelEntry;
  body: Record<string, unknown> & { prompt?: unknown; stream?: boolean | null; stream_options?: { include_usage?: boolean | null } | null };
  tenantId: string;
  /** Aborted when the upstream is past its first-byte or idle timeout, or the caller went away. */
  signal: AbortSignal;
  /** @default - nothing */
  onActivity?: () => void;
}

/** A text completion (or one chunk of a streamed one) as the upstream sent it: OpenAI's `Completion`, and any other field. */
export type CompletionAnswer = Record<string, unknown> & { choices: Array<Record<string, unknown> & { index?: number; text?: string; finish_reason?: string | null; logprobs?: unknown }>; usage?: CompletionUsage | null };

/** What the gateway hands a provider for an audio endpoint: the path under the base URL and the body for a model. */
export interface AudioProviderRequest {
  model: ModelEntry;
  /** Under the provider's base URL. */
  path: '/audio/speech' | '/audio/transcriptions' | '/audio/translations' | '/images/edits' | '/images/variations';
  /** The request body for `upstream` (the catalog entry's model id in `model`), and its Content-Type. */
  body: (upstream: string) => { bytes: Uint8Array; contentType: string };
  /** The Accept header sent (the caller's, for speech's audio). */
  accept: string;
  tenantId: string;
  /** Aborted when the upstream is past its timeout, or the caller went away. */
  signal: AbortSignal;
  /** @default - nothing */
  onActivity?: () => void;
}

/** An audio endpoint's answer as the upstream sent it: the body's bytes and its Content-Type (`application/octet-stream` when it sent none). */
export interface AudioAnswer { bytes: Buffer; contentType: string }

/**
 * What the gateway hands a provider for `POST /v1/images/generations`: the caller's body as OpenAI defines it
 * (`ImageGenerateParams`, with any field OpenAI does not name, for upstreams that take it), `prompt` after the
 * tenant's guardrails. `body.model` is the caller's (a catalog id, an alias of one); the provider sends `model.upstream`.
 */
export interface ImageProviderRequest {
  model: ModelEntry;
  body: ImageGenerateParams & Record<string, unknown>;
  tenantId: string;
  /** Aborted when the upstream is past its timeout, or the caller went away. */
  signal: AbortSignal;
  /** @default - nothing */
  onActivity?: () => void;
}

/** One file part of an image form: its bytes, and the media type read from its first bytes (image-form.ts sniffImage). */
export interface ImageFormFile {
  bytes: Buffer;
  /** `image/png`, `image/jpeg`, `image/webp`, or undefined when the bytes are none of these. */
  type: string | undefined;
}

/**
 * An image edit or variation as read from the caller's multipart form (images/image-form.ts): the text fields by name
 * (each once; `prompt` after the tenant's guardrails), the input images in the order sent, the mask when sent.
 */
export interface ImageForm {
  kind: 'edits' | 'variations';
  fields: Record<string, string>;
  images: ImageFormFile[];
  mask?: ImageFormFile;
  /** Names of other file parts (a field OpenAI adds later, sent by an SDK as a file): relayed, refused by Bedrock. @default - none */
  extraFiles?: string[];
}

/** What the gateway hands a provider for `POST /v1/images/edits` or `/v1/images/variations`. */
export interface ImageFormProviderRequest {
  model: ModelEntry;
  /** The form, parsed (what Bedrock maps). */
  form: ImageForm;
  /** The caller's body for `upstream` (in `model`), byte for byte otherwise, and its Content-Type (what the OpenAI relay sends). */
  body: (upstream: string) => { bytes: Uint8Array; contentType: string };
  tenantId: string;
  /** Aborted when the upstream is past its timeout, or the caller went away. */
  signal: AbortSignal;
  /** @default - nothing */
  onActivity?: () => void;
}

/** The upstream's image answer: OpenAI's `ImagesResponse`, and any other field it carried. */
export type ImageAnswer = ImagesResponse & Record<string, unknown>;

/**
 * What the gateway hands a provider for `POST /v1/moderations`: the caller's body as OpenAI
 * defines it (`ModerationCreateParams`), after the tenant's guardrails. `body.model` is the
 * caller's (a catalog id, an alias of one) or absent; the provider sends `model.upstream`.
 */
export interface ModerationProviderRequest {
  model: ModelEntry;
  body: Omit<ModerationCreateParams, 'model'> & { model?: string | null };
  tenantId: string;
  /** Aborted when the upstream is past its timeout, or the caller went away. */
  signal: AbortSignal;
  /** @default - nothing */
  onActivity?: () => void;
}

/** The upstream's moderations answer: OpenAI's `ModerationCreateResponse`, and any other field it carried. */
export type ModerationAnswer = ModerationCreateResponse & Record<string, unknown>;

/**
 * What the gateway hands a provider for `POST /v1/embeddings`: the caller's body as OpenAI
 * defines it (`EmbeddingCreateParams`, plus any field OpenAI does not name, for upstreams that
 * take it), after the tenant's guardrails. `body.model` is still the caller's (a catalog id, or an
 * alias of one); the provider sends `model.upstream`.
 */
export interface EmbeddingProviderRequest {
  model: ModelEntry;
  body: EmbeddingCreateParams & Record<string, unknown>;
  tenantId: string;
  /** Aborted when the upstream is past its timeout, or the caller went away. */
  signal: AbortSignal;
  /** @default - nothing */
  onActivity?: () => void;
}

/** One vector per input, as the provider got it. */
export interface EmbeddingAnswer {
  /** In input order. Floats, or base64 of little-endian float32 (OpenAI's `encoding_format: base64`). */
  vectors: Array<number[] | string>;
  /** Input tokens the upstream reported (undefined when it reported none: the gateway's count bills). */
  promptTokens?: number;
}

/** What an upstream said about its refusal, kept so the caller sees the same error. */
export interface UpstreamErrorDetails {
  /** OpenAI's `error.type`, `error.code` and `error.param` as the upstream sent them. */
  type?: string;
  code?: string | null;
  param?: string | null;
  /** From the upstream's `Retry-After` (seconds or an HTTP date), in ms. */
  retryAfterMs?: number;
  /** No answer (or no next chunk) within the timeout. */
  timedOut?: boolean;
  /** Not the upstream's failure: the gateway stopped the call because the request's deadline came (upstream-calls.ts). */
  deadline?: boolean;
  /**
   * The upstream's id of the failed call, for the log only (never answered): Bedrock's and SageMaker's
   * `$metadata.requestId` (their `x-amzn-RequestId`), an OpenAI-compatible upstream's `x-request-id` header.
   * @default - absent: the upstream sent none (or never answered)
   */
  upstreamRequestId?: string;
  /**
   * What failed, as a name, for the log only: the AWS SDK exception's (`ThrottlingException`), or the network error's
   * code (`ECONNREFUSED`, undici's `UND_ERR_SOCKET`) when no answer came. @default - absent: `code` or the status says it
   */
  errorName?: string;
}

/**
 * An upstream failure. `status` is the upstream's HTTP status when it answered with one;
 * `retryable` says whether another attempt (or the next model of the fallback chain) may help.
 * The message is the upstream's own when it sent one, so the caller reads what the upstream said.
 */
export class ProviderError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly retryable: boolean, readonly details: UpstreamErrorDetails = {}) {
    super(message);
  }
}

/**
 * A field of the request that this provider has no equivalent for: a 400 naming the field and
 * the provider, never a silent drop. Thrown before anything is sent upstream.
 * - `unsupported_parameter` (the default): a field OpenAI's request defines that the provider cannot honour,
 *   `<field> is not supported by the <provider> provider: <why>`.
 * - `unknown_parameter`: a field OpenAI's request does not define (`top_k`), in OpenAI's words for one, `Unknown
 *   parameter: '<field>'.` (its answer quoted in pydantic/pydantic-ai#3653: param the field, code `unknown_parameter`),
 *   then `<why> (the <provider> provider)`, as /v1/responses answers one (responses/request-fields.ts).
 * @param code @default 'unsupported_parameter'
 */
export class UnsupportedFieldError extends ProviderError {
  constructor(readonly field: string, readonly provider: string, why: string, code: 'unsupported_parameter' | 'unknown_parameter' = 'unsupported_parameter') {
    super(code === 'unknown_parameter' ? `Unknown parameter: '${field}'. ${why.charAt(0).toUpperCase()}${why.slice(1)} (the ${provider} provider)` : `${field} is not supported by the ${provider} provider: ${why}`,
      400, false, { type: 'invalid_request_error', code, param: field });
  }
}
