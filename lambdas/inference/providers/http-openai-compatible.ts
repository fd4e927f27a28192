import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Dispatcher, Pool } from 'undici';
import { createPool, poolRequest, poolText, type TextResponse } from './undici-pool.js';
import { chatAnswerOf } from './chat-answer.js';
import { ProviderError, type EmbeddingAnswer, type EmbeddingProviderRequest, type AudioAnswer, type AudioProviderRequest, type CompletionAnswer, type CompletionProviderRequest, type ImageAnswer, type ImageProviderRequest, type ModerationAnswer, type ModerationProviderRequest, type Provider, type ProviderRequest, type ImageFormProviderRequest, type InputTokensProviderRequest } from './provider.js';
import { retryAfterMs } from './retry-after.js';
import { sseChunks, sseTextCompletionChunks } from './sse-chunks.js';
import { upstreamErrorFields, type UpstreamErrorFields } from './upstream-error-fields.js';
import { refuseToolMessageMedia } from './tool-message-parts.js';
import { tenantPromptCacheKey } from './tenant-cache-key.js';
import { withTenantEndUserBytes, withTenantEndUsers } from './tenant-end-user.js';
import { withTenantCacheSalt } from './tenant-cache-salt.js';
import { withIntegerLiterals } from '../json-integer-literals.js';

/** The 64-bit integer fields sent with the digits the caller wrote (json-integer-literals.ts withIntegerLiterals): OpenAI's `seed`. */
const EXACT_INTEGERS = ['seed'];

/**
 * An upstream that speaks OpenAI's chat completions: OpenAI itself, HuggingFace's router, vLLM or
 * TGI on a tenant's cluster, any self-hosted server. The caller's body goes on untouched apart
 * from `model` (the catalog entry's `upstream`) and, for a stream, `stream_options.include_usage`
 * (the gateway meters every stream; it passes the usage chunk on only when the caller asked).
 * A `prompt_cache_key` goes on scoped to the caller's tenant (tenantPromptCacheKey) when the upstream is called with
 * the platform's key, which every tenant's requests share (and so the provider's prompt cache); on the tenant's own
 * key (`credentialOwner`, its own provider account) as sent. So do the end-user fields `user` and `safety_identifier`
 * (tenantEndUserId), on every path: chat (streamed or not, a Responses request mapped to chat), text completions,
 * embeddings, moderations, image generations, and the byte bodies of image edits and variations and of audio (forShared).
 * OpenAI itself on the platform's key gets the tenant's own `prompt_cache_key` (tenantPromptCacheKey(tenant, "")) when
 * the caller sent none, so no two tenants' requests share a cache routing key (OpenAI routes by prefix hash and key).
 * A chat or text completion's `cache_salt` (vLLM's prefix-cache salt) goes on scoped to the tenant on either key, and
 * a model whose catalog entry has `prefixCacheSalt: true` gets the tenant's salt when the caller sent none
 * (withTenantCacheSalt).
 * OpenAI itself (provider `openai`) gets two fields otherwise (forOpenAi): `metadata` and `max_tokens`; its errors about
 * the `max_completion_tokens` made of `max_tokens` name `max_tokens` (callerLimitTerms).
 * Spoken over a keep-alive undici pool: the `openai` SDK's per-call cost was as large as the rest
 * of the gateway together, and relaying needs none of what it adds. Timeouts are the gateway's
 * (first byte, idle between chunks), through `signal`.
 */
export class HttpOpenAiCompatibleProvider implements Provider {
  private readonly pool: Pool;
  private readonly basePath: string;
  /** The tenant whose own provider key this client calls with (registry.ts); undefined on the platform's key. */
  credentialOwner?: string;

  constructor(private readonly name: string, baseUrl: string, private readonly apiKey: string) {
    const url = new URL(baseUrl);
    this.pool = createPool(url.origin, { connections: 256, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
    this.basePath = url.pathname.replace(/\/$/, '');
  }

  /**
   * A JSON body with its end-user fields scoped to the tenant (withTenantEndUsers) on the platform's key, which every
   * tenant's requests share; on the tenant's own key (`credentialOwner`) `body` as it is.
   */
  private forShared<T extends object>(body: T, tenantId: string): T {
    return this.credentialOwner === undefined ? withTenantEndUsers(body, tenantId) : body;
  }

  /** `body` with its `cache_salt` scoped to the tenant, or the tenant's added on a `prefixCacheSalt` model (withTenantCacheSalt). */
  private salted<T extends object>(body: T, r: { tenantId: string; model: { prefixCacheSalt?: boolean } }): T {
    return withTenantCacheSalt(body, r.tenantId, r.model.prefixCacheSalt);
  }

  private body(r: ProviderRequest, stream: boolean): string {
    refuseToolMessageMedia(r.body, this.name);
    const body: Record<string, unknown> = { ...r.body, model: r.model.upstream };
    if (this.name === 'openai') forOpenAi(body);
    // Another type is the upstream's to refuse, as before.
    if (this.credentialOwner === undefined) {
      if (typeof body.prompt_cache_key === 'string') body.prompt_cache_key = tenantPromptCacheKey(r.tenantId, body.prompt_cache_key);
      // No key sent (absent or null): OpenAI would route by the prompt's prefix alone, across every tenant of the
      // platform's organisation; the tenant's own key keeps its requests on their own routing key.
      else if (this.name === 'openai' && body.prompt_cache_key == null) body.prompt_cache_key = tenantPromptCacheKey(r.tenantId, '');
    }
    const sent: Record<string, unknown> = this.salted(this.forShared(body, r.tenantId), r);
    if (stream) {
      sent.stream = true;
      sent.stream_options = { ...(r.body.stream_options ?? {}), include_usage: true };
    }
    return JSON.stringify(withIntegerLiterals(sent, r.body, EXACT_INTEGERS));
  }

  /**
   * An upstream error of a chat request in the caller's terms: when OpenAI itself got the caller's `max_tokens` as
   * `max_completion_tokens` (forOpenAi, limitSentAsMaxTokens), an error naming `max_completion_tokens` names
   * `max_tokens` (callerLimitTerms). Any other error, and any other upstream's, is returned as it is.
   */
  private inCallerTerms(r: ProviderRequest, e: unknown): unknown {
    return this.name === 'openai' && e instanceof ProviderError && limitSentAsMaxTokens(r.body) ? callerLimitTerms(e) : e;
  }

  /** The request headers by Accept value, built once (undici copies them; they are never changed). */
  private readonly headerSets = new Map<string, Readonly<Record<string, string>>>();

  private headers(accept: string): Record<string, string> {
    let headers = this.headerSets.get(accept);
    if (!headers) this.headerSets.set(accept, (headers = Object.freeze({ 'content-type': 'application/json', accept, authorization: `Bearer ${this.apiKey}` })));
    return headers as Record<string, string>;
  }

  private async post(r: ProviderRequest, stream: boolean): Promise<Dispatcher.ResponseData> {
    const body = this.body(r, stream);
    let res: Dispatcher.ResponseData;
    try {
      res = await poolRequest(this.pool, {
        method: 'POST', path: `${this.basePath}/chat/completions`, signal: r.signal,
        headers: this.headers(stream ? 'text/event-stream' : 'application/json'),
        body,
      });
    } catch (e) {
      throw unreachable(this.name, e);
    }
    if (res.statusCode >= 400) throw upstreamError(this.name, { statusCode: res.statusCode, headers: res.headers, text: await res.body.text().catch(() => '') });
    return res;
  }

  /** A POST whose answer is read whole (poolText); an error answer as a ProviderError. */
  private async postWhole(path: string, body: string, signal: AbortSignal | undefined): Promise<TextResponse> {
    let res: TextResponse;
    try {
      res = await poolText(this.pool, { method: 'POST', path: `${this.basePath}${path}`, signal, headers: this.headers('application/json'), body });
    } catch (e) {
      throw unreachable(this.name, e);
    }
    if (res.statusCode >= 400) throw upstreamError(this.name, res);
    return res;
  }

  async complete(r: ProviderRequest): Promise<ChatCompletion> {
    const { text } = await this.postWhole('/chat/completions', this.body(r, false), r.signal).catch((e: unknown) => {
      throw this.inCallerTerms(r, e);
    });
    return chatAnswerOf(text, this.name, true);
  }

  /**
   * `POST {baseUrl}/embeddings` with the caller's body untouched apart from `model` (OpenAI, and
   * TEI's and vLLM's OpenAI-compatible servers, take OpenAI's shape, their own extra fields too).
   * The answer's `data[].embedding` come back as sent (floats, or base64 when the upstream
   * honoured `encoding_format`), ordered by `index`; `usage.prompt_tokens` when reported.
   * @throws ProviderError - the upstream's error answer (status, message, type, code, param, Retry-After), or an answer without `data`
   */
  async embed(r: EmbeddingProviderRequest): Promise<EmbeddingAnswer> {
    const answer = await this.wholeJson<{ data: Array<{ index?: number; embedding?: unknown }>; usage?: { prompt_tokens?: number } }>('/embeddings', this.forShared({ ...r.body, model: r.model.upstream }, r.tenantId), r.signal, 'data');
    const data = [...answer.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return { vectors: data.map((d) => d.embedding as number[] | string), promptTokens: answer.usage?.prompt_tokens };
  }

  /**
   * `POST {baseUrl}/moderations` with the caller's body (after the guardrails), `model` the catalog
   * entry's `upstream` (also when the caller named none: the gateway chose the model). The answer
   * comes back as OpenAI wrote it (`id`, `model`, `results`, any other field); the endpoint maps `model`.
   * @throws ProviderError - the upstream's error answer (status, message, type, code, param, Retry-After), or an answer without `results`
   */
  async moderate(r: ModerationProviderRequest): Promise<ModerationAnswer> {
    return await this.wholeJson<ModerationAnswer>('/moderations', this.forShared({ ...r.body, model: r.model.upstream }, r.tenantId), r.signal, 'results');
  }

  /**
   * `POST {baseUrl}/images/generations` with the caller's body as sent (every field, OpenAI's and any other, in
   * the caller's shape) but `model`, the catalog entry's `upstream`, and `prompt` after the guardrails. The answer
   * comes back as the upstream wrote it (`created`, `data`, `usage`, any other field).
   * @throws ProviderError - the upstream's error answer (status, message, type, code, param, Retry-After), or an answer without `data`
   */
  async generateImages(r: ImageProviderRequest): Promise<ImageAnswer> {
    return await this.wholeJson<ImageAnswer>('/images/generations', this.forShared({ ...r.body, model: r.model.upstream }, r.tenantId), r.signal, 'data');
  }

  /**
   * `POST {baseUrl}/images/edits` or `/images/variations` with the caller's multipart body byte for byte but `model`'s
   * content (the catalog entry's `upstream`), `prompt`'s (after the guardrails), and on the platform's key `user`'s and
   * `safety_identifier`'s (scoped to the tenant: withTenantEndUserBytes, in audio); the answer parsed as
   * `generateImages`' (`created`, `data`, `usage`, any other field).
   * @throws ProviderError - the upstream's error answer, an answer that is not JSON or lacks `data` (retryable), or unreachable
   */
  async editImages(r: ImageFormProviderRequest): Promise<ImageAnswer> {
    const { bytes, contentType } = await this.audio({ ...r, path: `/images/${r.form.kind}`, accept: 'application/json' });
    let answer: Record<string, unknown> & { error?: { message?: string } };
    try {
      answer = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new ProviderError(`${this.name} answered 200 (${contentType}) with a body that is not JSON: ${bytes.toString('utf8').slice(0, 120)}`, undefined, true);
    }
    if (!Array.isArray(answer?.data)) throw new ProviderError(`${this.name} answered 200 without data${answer?.error?.message ? `: ${answer.error.message}` : ''}`, undefined, true);
    return answer as ImageAnswer;
  }

  /**
   * `POST {baseUrl}{r.path}` (OpenAI's audio endpoints) with the body built for the catalog entry's `upstream`, relayed
   * as bytes (a multipart upload's file part untouched; on the platform's key a `user` or `safety_identifier` part or
   * field scoped to the tenant: withTenantEndUserBytes); the answer's bytes and Content-Type as they came.
   * @throws ProviderError - the upstream's error answer (status, message, type, code, param, Retry-After), or unreachable
   */
  async audio(r: AudioProviderRequest): Promise<AudioAnswer> {
    const { bytes: built, contentType } = r.body(r.model.upstream);
    const bytes = this.credentialOwner === undefined ? withTenantEndUserBytes(built, contentType, r.tenantId) : built;
    let res: Dispatcher.ResponseData;
    try {
      res = await poolRequest(this.pool, {
        method: 'POST', path: `${this.basePath}${r.path}`, signal: r.signal,
        headers: { 'content-type': contentType, accept: r.accept, authorization: `Bearer ${this.apiKey}` },
        body: bytes,
      });
    } catch (e) {
      throw unreachable(this.name, e);
    }
    let body: Buffer;
    try {
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (e) {
      throw unreachable(this.name, e);
    }
    if (res.statusCode >= 400) throw upstreamError(this.name, { statusCode: res.statusCode, headers: res.headers, text: body.toString('utf8') });
    const type = res.headers['content-type'];
    return { bytes: body, contentType: (Array.isArray(type) ? type[0] : type) || 'application/octet-stream' };
  }

  /**
   * `POST {baseUrl}/completions` (OpenAI's legacy text completions) with the caller's body as sent (every field,
   * OpenAI's and a vLLM / TGI / SGLang server's own) but `model`, the catalog entry's `upstream`, and `stream`
   * false. The answer comes back as the upstream wrote it.
   * @throws ProviderError - the upstream's error answer (status, message, type, code, param, Retry-After), or an answer without `choices`
   */
  async textComplete(r: CompletionProviderRequest): Promise<CompletionAnswer> {
    const { stream: _stream, stream_options: _options, ...body } = r.body;
    return await this.wholeJson<CompletionAnswer>('/completions', withIntegerLiterals(this.salted(this.forShared({ ...body, model: r.model.upstream }, r.tenantId), r), r.body, EXACT_INTEGERS), r.signal, 'choices');
  }

  /**
   * `POST {baseUrl}/completions` streamed: the caller's body as sent but `model`, with `stream: true` and
   * `stream_options.include_usage: true` (the gateway meters every stream, as chat's; it passes the usage chunk on
   * only when the caller asked). The chunks come back as the upstream wrote them (sseTextCompletionChunks); an
   * upstream that answers a whole JSON `Completion` instead is relayed as that one chunk.
   * @throws ProviderError - the upstream's error answer, or unreachable; mid-stream, its error event
   */
  async *textStream(r: CompletionProviderRequest): AsyncIterable<CompletionAnswer> {
    const body = JSON.stringify(withIntegerLiterals(this.salted(this.forShared({ ...r.body, model: r.model.upstream, stream: true, stream_options: { ...(r.body.stream_options ?? {}), include_usage: true } }, r.tenantId), r), r.body, EXACT_INTEGERS));
    let res: Dispatcher.ResponseData;
    try {
      res = await poolRequest(this.pool, { method: 'POST', path: `${this.basePath}/completions`, signal: r.signal, headers: this.headers('text/event-stream'), body });
    } catch (e) {
      throw unreachable(this.name, e);
    }
    if (res.statusCode >= 400) throw upstreamError(this.name, { statusCode: res.statusCode, headers: res.headers, text: await res.body.text().catch(() => '') });
    if (!String(res.headers['content-type'] ?? '').includes('text/event-stream')) {
      const text = await res.body.text().catch((e: Error) => {
        throw unreachable(this.name, e);
      });
      let whole: CompletionAnswer;
      try {
        whole = JSON.parse(text);
      } catch {
        throw new ProviderError(`${this.name} answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 120)}`, undefined, true);
      }
      if (!Array.isArray(whole?.choices)) throw new ProviderError(`${this.name} answered 200 without choices`, undefined, true);
      yield whole;
      return;
    }
    try {
      yield* sseTextCompletionChunks(res.body, this.name, r.onActivity) as AsyncIterable<CompletionAnswer>;
    } catch (e) {
      throw withRequestId(e, res.headers['x-request-id']);
    }
  }

  /**
   * `POST {baseUrl}{path}` of `body` as JSON, the answer parsed: the upstream's error answer as a ProviderError
   * (postWhole), a 200 that is not JSON or lacks the array `field` (`data`, `results`) a retryable ProviderError.
   */
  /**
   * OpenAI's own count (provider `openai` only): `POST {baseUrl}/responses/input_tokens` with `request.responses` and
   * `model` the catalog entry's `upstream`; OpenAI answers `{object: "response.input_tokens", input_tokens}`. Another
   * OpenAI-compatible upstream (HuggingFace's router, vLLM, TGI) has no such endpoint: undefined, the gateway estimates.
   * @throws ProviderError - OpenAI's error answer, or an answer without a numeric `input_tokens` (retryable)
   */
  async countInputTokens(r: InputTokensProviderRequest): Promise<number | undefined> {
    if (this.name !== 'openai') return undefined;
    const { statusCode, text } = await this.postWhole('/responses/input_tokens', JSON.stringify({ ...r.responses, model: r.model.upstream }), r.signal);
    let answer: { input_tokens?: unknown } | undefined;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new ProviderError(`${this.name} answered ${statusCode} with a body that is not JSON: ${text.slice(0, 120)}`, undefined, true);
    }
    const n = answer?.input_tokens;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ProviderError(`${this.name} answered ${statusCode} without a count of input_tokens: ${text.slice(0, 120)}`, undefined, true);
    return n;
  }

  private async wholeJson<T>(path: string, body: Record<string, unknown>, signal: AbortSignal, field: string): Promise<T> {
    const { statusCode, text } = await this.postWhole(path, JSON.stringify(body), signal);
    let answer: Record<string, unknown> & { error?: { message?: string } };
    try {
      answer = JSON.parse(text);
    } catch {
      throw new ProviderError(`${this.name} answered ${statusCode} with a body that is not JSON: ${text.slice(0, 120)}`, undefined, true);
    }
    if (!Array.isArray(answer?.[field])) throw new ProviderError(`${this.name} answered 200 without ${field}${answer?.error?.message ? `: ${answer.error.message}` : ''}`, undefined, true);
    return answer as T;
  }

  async *stream(r: ProviderRequest): AsyncIterable<ChatCompletionChunk> {
    const res = await this.post(r, true).catch((e: unknown) => {
      throw this.inCallerTerms(r, e);
    });
    const type = String(res.headers['content-type'] ?? '');
    if (!type.includes('text/event-stream')) {
      // Some servers answer a stream request with a whole JSON answer: relay it as one chunk.
      const text = await res.body.text().catch((e: Error) => {
        throw unreachable(this.name, e);
      });
      yield* asChunks(chatAnswerOf(text, this.name, true));
      return;
    }
    try {
      yield* sseChunks(res.body, this.name, r.onActivity);
    } catch (e) {
      // A stream's error event carries no request id: the answer's `x-request-id`, for the failure's log line.
      throw withRequestId(e, res.headers['x-request-id']);
    }
  }
}

/** `e`, a ProviderError without the upstream's request id, given `id` (an answer's `x-request-id` header). */
function withRequestId(e: unknown, id: string | string[] | undefined): unknown {
  if (e instanceof ProviderError && typeof id === 'string' && id) e.details.upstreamRequestId ??= id;
  return e;
}

/**
 * The chat request as OpenAI itself (provider `openai`) takes it, changed in place; every other upstream gets the
 * caller's fields as sent.
 *
 * - `metadata` is left out. OpenAI keeps a chat completion's metadata only on a stored completion and refuses it
 *   on any other (400 "The 'metadata' parameter is only allowed when 'store' is enabled.", as reported against
 *   gpt-5-nano and gpt-5.4 in 2026: tmc/langchaingo#1484, looplj/axonhub#1380), and the gateway never sends
 *   `store` upstream (endpoints/chat-completions.ts keeps a `store: true` completion, with its metadata, itself):
 *   forwarded, it could only fail the request. Nothing is lost: OpenAI uses it only to tag a stored completion, which
 *   would sit in the platform's organisation, shared by every tenant. (Bedrock maps it to `requestMetadata`;
 *   `/v1/responses` keeps its own and never sends it upstream.)
 * - `max_tokens` goes as `max_completion_tokens` (the lower of the two when both are sent: the output limit the
 *   gateway holds the answer to, chat/output-limit.ts). The `openai` package's `ChatCompletionCreateParams`
 *   deprecates `max_tokens` "in favor of `max_completion_tokens`" and says it "is not compatible with o-series
 *   models" (OpenAI's 400: "Unsupported parameter: 'max_tokens' is not supported with this model. Use
 *   'max_completion_tokens' instead."; its gpt-5 models likewise: continuedev/continue#7052, langgenius/dify#24307), and OpenAI has been reported to refuse the two
 *   together. Frameworks send `max_tokens` for a model they do not know as a reasoning model, and they know
 *   OpenAI's by the bare ids (`o4-mini`, `gpt-5-mini`), not the gateway's `openai/…`: the Vercel AI SDK 7.0's
 *   `openai.chat(model)` with `maxOutputTokens` and `@langchain/openai` 1.6 with `maxTokens` send
 *   `max_completion_tokens: 50` for `gpt-5-mini` and `max_tokens: 50` for `openai/gpt-5-mini`. For a model that is
 *   not a reasoning model the two fields mean the same. A `max_tokens: null` is left out as well.
 */
function forOpenAi(body: Record<string, unknown>): void {
  delete body.metadata;
  if (!('max_tokens' in body)) return;
  const limits = [body.max_tokens, body.max_completion_tokens].filter((v): v is number => typeof v === 'number');
  delete body.max_tokens;
  if (limits.length) body.max_completion_tokens = Math.min(...limits);
}

/**
 * Whether the `max_completion_tokens` forOpenAi sends OpenAI is the caller's `max_tokens`: it sent `max_tokens` (a
 * number) and no `max_completion_tokens`, or a lower `max_tokens` than its `max_completion_tokens` (the lower goes).
 * With equal values, or a lower `max_completion_tokens`, what goes is the caller's own `max_completion_tokens`.
 */
function limitSentAsMaxTokens(body: { max_tokens?: number | null; max_completion_tokens?: number | null }): boolean {
  const { max_tokens: sent, max_completion_tokens: own } = body;
  return typeof sent === 'number' && (typeof own !== 'number' || sent < own);
}

/** `max_completion_tokens` as a whole field name in prose (not inside another name). */
const MAX_COMPLETION_TOKENS = /(?<![\w.])max_completion_tokens(?![\w])/g;

/**
 * OpenAI's error about the `max_completion_tokens` the gateway made of the caller's `max_tokens` (forOpenAi), naming
 * what the caller sent (OpenAI's own rule for a 400: its `param` and message name the request's field), as
 * responses/chat-request.ts inRequestTerms does for a Responses request:
 * - `param` `max_completion_tokens` becomes `max_tokens`;
 * - a message that opens with the field (OpenAI's "max_completion_tokens is too large: 100000. This model supports at
 *   most 16384 completion tokens, whereas you provided 100000.") names `max_tokens` wherever it names the field, as
 *   OpenAI words it for a `max_tokens` request;
 * - a message that names it elsewhere (the upstream's own words) is kept whole after the caller's field: `max_tokens
 *   was refused as max_completion_tokens, … (OpenAI said: …)`, so it never names only a field the caller did not send.
 * An error that names neither in `param` nor in its message is returned as it is.
 */
function callerLimitTerms(e: ProviderError): ProviderError {
  const named = e.message.search(MAX_COMPLETION_TOKENS);
  if (e.details.param !== 'max_completion_tokens' && named < 0) return e;
  const message = named === 0 ? e.message.replace(MAX_COMPLETION_TOKENS, 'max_tokens')
    : named > 0 ? `max_tokens was refused as max_completion_tokens, the field the gateway sends it to OpenAI as (OpenAI said: ${e.message})`
      : e.message;
  const param = e.details.param === 'max_completion_tokens' ? 'max_tokens' : e.details.param;
  return Object.assign(new ProviderError(message, e.status, e.retryable, { ...e.details, param }), { stack: e.stack });
}

/** An OpenAI error answer as a ProviderError: status, the upstream's message/type/code/param, `Retry-After`. */
function upstreamError(name: string, res: TextResponse): ProviderError {
  const { text } = res;
  let error: UpstreamErrorFields = {};
  try {
    error = upstreamErrorFields(JSON.parse(text));
  } catch {
    error = { message: text.slice(0, 500) || undefined };
  }
  const status = res.statusCode;
  const requestId = res.headers['x-request-id'];
  return new ProviderError(error.message ?? `${name} answered ${status}`, status, status === 429 || status >= 500, {
    type: error.type, code: error.code, param: error.param ?? null,
    retryAfterMs: retryAfterMs(res.headers),
    // OpenAI's id of the call (its support asks for it), for the gateway's log line (upstream-failure-log.ts).
    ...(typeof requestId === 'string' && requestId ? { upstreamRequestId: requestId } : {}),
  });
}

/**
 * No answer from the upstream (the connection refused or reset, DNS, a body cut off): a retryable ProviderError whose
 * `errorName` is the network error's code (`ECONNREFUSED`, undici's `UND_ERR_SOCKET`), else its name.
 */
function unreachable(name: string, e: unknown): ProviderError {
  const err = e as { message?: string; name?: string; code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = [err?.code, err?.cause?.code].find((c): c is string => typeof c === 'string' && c !== '');
  return new ProviderError(`${name} unreachable: ${err?.message ?? String(e)}`, undefined, true, { errorName: code ?? err?.name ?? 'Error' });
}

/** `retry-after-ms`, else `retry-after` (retry-after.ts): re-exported for the callers that import it from here. */
export { retryAfterMs };

/**
 * A whole answer as the chunks a stream of it would have carried: one chunk with every choice's
 * message as its delta (every field the message has, `annotations`, `audio` and provider extras
 * included; tool calls with their index), then the usage chunk. Top-level fields other than
 * `choices`, `usage` and `object` (`system_fingerprint`, `service_tier`, extras) go on every chunk,
 * as a streaming upstream sends them.
 */
export function* asChunks(whole: ChatCompletion): Generator<ChatCompletionChunk> {
  const { choices, usage, object: _object, ...top } = whole;
  const base = { ...top, object: 'chat.completion.chunk' as const };
  yield {
    ...base,
    choices: choices.map(({ message, index, finish_reason, logprobs, ...choiceExtras }) => {
      const { tool_calls, ...fields } = message;
      return {
        ...choiceExtras,
        index,
        delta: { ...fields, role: 'assistant' as const, refusal: message.refusal ?? null, ...(tool_calls ? { tool_calls: tool_calls.map((t, i) => ({ index: i, ...t })) } : {}) },
        finish_reason, logprobs: logprobs ?? null,
      };
    }) as ChatCompletionChunk['choices'],
  };
  if (usage) yield { ...base, choices: [], usage };
}
