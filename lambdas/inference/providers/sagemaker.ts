import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient, type ResponseStream } from '@aws-sdk/client-sagemaker-runtime';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { platformClient } from '../../shared/aws-clients.js';
import { tenantRoleClient } from '../../shared/tenant-role-clients.js';
import { readableChatAnswer } from './chat-answer.js';
import { ProviderError, type EmbeddingAnswer, type EmbeddingProviderRequest, type Provider, type ProviderRequest, type UpstreamErrorDetails } from './provider.js';
import { sseChunks } from './sse-chunks.js';
import { withTenantCacheSalt } from './tenant-cache-salt.js';
import { refuseToolMessageMedia } from './tool-message-parts.js';
import { upstreamErrorFields } from './upstream-error-fields.js';

/**
 * A model on a SageMaker endpoint whose container (LMI, TGI, vLLM) serves OpenAI's chat-completions
 * schema on `/invocations` (or, for an embedding model, OpenAI's embeddings schema: `embed`). `model.upstream` is the endpoint name. Nothing is mapped: the caller's
 * body goes to the container as it came, and the container's answer and chunks come back as they
 * are.
 *
 * - `model` is dropped from the body. The endpoint, not the body, picks the model; LMI and TGI
 *   ignore the field, but vLLM answers 404 "The model `x` does not exist" to any name other than its
 *   served model name (`/opt/ml/model` on SageMaker) and accepts a body without one.
 * - `stream` and `stream_options.include_usage` are the provider's: absent for `complete`, `stream: true`
 *   with `include_usage: true` for `stream`, whatever the caller asked (the gateway meters every stream and
 *   passes the usage chunk on only when asked). The caller's other `stream_options` keys
 *   (`include_obfuscation`, vLLM's `continuous_usage_stats`) go to the container as sent, as the
 *   HTTP provider sends them (before 2026-12-05 they were dropped).
 * - A stream is read as server-sent events (vLLM, TGI), or as JSON lines (LMI's own chat
 *   streaming format: one chunk per line, no `data:`), told apart by the first byte.
 * - Errors: `ModelError` is the container's own answer (`OriginalStatusCode`, `OriginalMessage`):
 *   its status, message, type, code and param reach the caller as they are (an upstream 4xx is
 *   the caller's 4xx). `ValidationError` (unknown endpoint, endpoint not in service) is a 400 from
 *   AWS but the platform's misconfiguration, not the caller's request (the body is opaque to
 *   SageMaker): status 502, code `upstream_misconfigured`, not retried (the next model of the
 *   fallback chain is tried). Throttling, `ServiceUnavailable`, `InternalFailure`,
 *   `InternalDependencyException` and `ModelNotReadyException` are retryable.
 */
export class SageMakerProvider implements Provider {
  private client(r: Pick<ProviderRequest, 'model' | 'tenantId'>): Promise<SageMakerRuntimeClient> | SageMakerRuntimeClient {
    // A tenant's fine-tuned model runs in the tenant's account: invoked as its model-invoker role.
    // The `model` HTTP timeouts (lib/aws-http-timeouts.ts): no socket timeout, an endpoint may be silent until its first token; UpstreamCalls' timeouts abort the call.
    const options = { maxAttempts: SAGEMAKER_SDK_ATTEMPTS, http: 'model' as const };
    return r.model.invokeRoleArn
      ? tenantRoleClient(SageMakerRuntimeClient, r.model.invokeRoleArn, r.tenantId, 'invoke', options)
      : platformClient(SageMakerRuntimeClient, 'gateway', options);
  }

  async complete(r: ProviderRequest): Promise<ChatCompletion> {
    const endpoint = r.model.upstream;
    const body = containerBody(r, false);
    let bytes: Uint8Array | undefined;
    let requestId: string | undefined;
    try {
      const out = await (await this.client(r)).send(
        new InvokeEndpointCommand({ EndpointName: endpoint, ContentType: 'application/json', Accept: 'application/json', Body: body }),
        { abortSignal: r.signal },
      );
      bytes = out.Body;
      requestId = out.$metadata?.requestId;
    } catch (e) {
      throw toProviderError(e, endpoint);
    }
    return withUpstreamRequestId(requestId, () => this.chatAnswer(bytes, endpoint));
  }

  /** The container's whole chat answer. @throws ProviderError - not JSON, an error body, no `choices` */
  private chatAnswer(bytes: Uint8Array | undefined, endpoint: string): ChatCompletion {
    const text = bytes ? new TextDecoder().decode(bytes) : '';
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new ProviderError(`SageMaker endpoint ${endpoint} answered with a body that is not JSON: ${text.slice(0, 120)}`, undefined, false);
    }
    if (!answer || typeof answer !== 'object' || !Array.isArray(answer.choices)) {
      const error = errorOf(answer, true);
      if (error) throw new ProviderError(error.message ?? `SageMaker endpoint ${endpoint} answered with an error`, undefined, false, error.details);
      throw new ProviderError(`SageMaker endpoint ${endpoint} answered without choices: ${text.slice(0, 120)}`, undefined, false);
    }
    return readableChatAnswer(answer, `SageMaker endpoint ${endpoint}`);
  }

  /**
   * An embedding model on the endpoint: InvokeEndpoint with OpenAI's embeddings body, without
   * `model` (the endpoint picks the model), everything else as the caller sent it. That is the
   * body vLLM's `/invocations` takes for its embedding models, and what TEI serves on
   * `/v1/embeddings`; TEI's native `{inputs}` shape is not used, because it drops
   * `dimensions`, `encoding_format` and token-id inputs that the OpenAI shape carries.
   * The answer: OpenAI's `{data: [{embedding, index}], usage}` (floats or base64), or a bare
   * array of vectors (TEI's `/embed` answer) in input order, without usage (the gateway's count bills).
   * @throws ProviderError - as `complete` (ModelError keeps the container's status and message; ValidationError is the platform's 502)
   */
  async embed(r: EmbeddingProviderRequest): Promise<EmbeddingAnswer> {
    const endpoint = r.model.upstream;
    const { model: _model, ...rest } = r.body;
    let bytes: Uint8Array | undefined;
    let requestId: string | undefined;
    try {
      const out = await (await this.client(r)).send(
        new InvokeEndpointCommand({ EndpointName: endpoint, ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify(rest) }),
        { abortSignal: r.signal },
      );
      bytes = out.Body;
      requestId = out.$metadata?.requestId;
    } catch (e) {
      throw toProviderError(e, endpoint);
    }
    return withUpstreamRequestId(requestId, () => embeddingAnswer(bytes, endpoint));
  }

  async *stream(r: ProviderRequest): AsyncGenerator<ChatCompletionChunk> {
    const endpoint = r.model.upstream;
    const body = containerBody(r, true);
    let events: AsyncIterable<ResponseStream> | undefined;
    try {
      const out = await (await this.client(r)).send(
        new InvokeEndpointWithResponseStreamCommand({ EndpointName: endpoint, ContentType: 'application/json', Body: body }),
        { abortSignal: r.signal },
      );
      events = out.Body;
    } catch (e) {
      throw toProviderError(e, endpoint);
    }
    if (!events) throw new ProviderError(`SageMaker endpoint ${endpoint} answered without a stream`, undefined, true);
    yield* sseChunks(asServerSentEvents(payloadParts(events, endpoint)), `SageMaker endpoint ${endpoint}`, r.onActivity);
  }
}

/**
 * The caller's body for the container: without `model`, with the provider's own stream flags (`stream: true` and
 * `stream_options.include_usage: true` beside the caller's other stream options for a stream; neither for a whole answer),
 * and its `cache_salt` scoped to the tenant, or the tenant's added when the entry has `prefixCacheSalt` (withTenantCacheSalt:
 * an LMI or vLLM container shares its prefix cache across every tenant calling the endpoint).
 */
function containerBody(r: ProviderRequest, stream: boolean): string {
  refuseToolMessageMedia(r.body, 'sagemaker');
  const { model: _model, stream: _stream, stream_options: options, ...sent } = r.body as unknown as Record<string, unknown>;
  const rest = withTenantCacheSalt(sent, r.tenantId, r.model.prefixCacheSalt);
  return JSON.stringify(stream ? { ...rest, stream: true, stream_options: { ...((options as Record<string, unknown> | null | undefined) ?? {}), include_usage: true } } : rest);
}

/** The bytes of the event stream's payload parts; its error events as ProviderErrors. */
async function* payloadParts(events: AsyncIterable<ResponseStream>, endpoint: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const event of events) {
      if (event.PayloadPart) {
        if (event.PayloadPart.Bytes?.length) yield event.PayloadPart.Bytes;
      } else if (event.ModelStreamError) {
        throw streamError('ModelStreamError', event.ModelStreamError, endpoint);
      } else if (event.InternalStreamFailure) {
        throw streamError('InternalStreamFailure', event.InternalStreamFailure, endpoint);
      }
    }
  } catch (e) {
    throw toProviderError(e, endpoint);
  }
}

/**
 * SSE text as it came, or LMI's JSON lines (`{...}\n` per chunk) turned into SSE events. Decoded
 * as UTF-8 across payload parts, so a part may end inside a character or a line.
 */
async function* asServerSentEvents(parts: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let mode: 'sse' | 'jsonl' | undefined;
  let line = '';
  const relay = (text: string, end: boolean): string => {
    if (mode === undefined) {
      const first = text.trimStart()[0];
      if (first === undefined) return ''; // blank lines before the first event mean nothing in either format
      mode = first === '{' ? 'jsonl' : 'sse';
    }
    if (mode === 'sse') return text;
    const lines = (line + text).split('\n');
    line = end ? '' : lines.pop()!;
    return lines.map((l) => l.trim()).filter(Boolean).map((l) => `data: ${l}\n\n`).join('');
  };
  for await (const bytes of parts) {
    const text = relay(decoder.decode(bytes, { stream: true }), false);
    if (text) yield text;
  }
  const rest = relay(decoder.decode(), true);
  if (rest) yield rest;
}

/** A stream error event (or the exception the SDK throws for one). */
function streamError(name: string, e: { Message?: string; message?: string; ErrorCode?: string }, endpoint: string): ProviderError {
  const message = e.Message ?? e.message ?? name;
  const code = e.ErrorCode ?? (name === 'ModelStreamError' ? 'model_stream_error' : 'internal_stream_failure');
  // ModelInvocationTimeExceeded: the container took longer than SageMaker allows, a timeout (504).
  return new ProviderError(`SageMaker endpoint ${endpoint} stream failed (${code}): ${message}`, undefined, true, {
    type: 'upstream_error',
    code,
    ...(code === 'ModelInvocationTimeExceeded' ? { timedOut: true } : {}),
  });
}

/**
 * The container's embeddings answer: OpenAI's `{data, usage}` or a bare array of vectors (TEI's `/embed`).
 * @throws ProviderError - not JSON, an error body, no `data`
 */
function embeddingAnswer(bytes: Uint8Array | undefined, endpoint: string): EmbeddingAnswer {
  const text = bytes ? new TextDecoder().decode(bytes) : '';
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ProviderError(`SageMaker endpoint ${endpoint} answered with a body that is not JSON: ${text.slice(0, 120)}`, undefined, false);
  }
  if (Array.isArray(answer)) return { vectors: answer as number[][] };
  const a = answer as { data?: Array<{ index?: number; embedding?: unknown }>; usage?: { prompt_tokens?: number } } | null;
  if (!a || typeof a !== 'object' || !Array.isArray(a.data)) {
    const error = errorOf(answer, true);
    if (error) throw new ProviderError(error.message ?? `SageMaker endpoint ${endpoint} answered with an error`, undefined, false, error.details);
    throw new ProviderError(`SageMaker endpoint ${endpoint} answered without embeddings (data): ${text.slice(0, 120)}`, undefined, false);
  }
  const data = [...a.data].sort((x, y) => (x.index ?? 0) - (y.index ?? 0));
  return { vectors: data.map((d) => d.embedding as number[] | string), promptTokens: a.usage?.prompt_tokens };
}

/**
 * `read()`, a ProviderError it throws (an answer the gateway cannot read: not JSON, an error body, no `choices`) given
 * SageMaker's id of the call (`$metadata.requestId`), for the failure's log line: the endpoint answered, and its
 * owner's support asks for that id.
 */
function withUpstreamRequestId<T>(requestId: string | undefined, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ProviderError && requestId) e.details.upstreamRequestId ??= requestId;
    throw e;
  }
}

/**
 * The SDK's attempts per InvokeEndpoint call: one. The gateway's UpstreamCalls owns retries, backoff
 * and the first-byte timeout (RETRYABLE below); the SDK's own 3 attempts with backoff inside each
 * gateway attempt made a throttle outlast a short timeout (a 504 instead of a 429) and multiplied
 * the calls (as bedrock.ts BEDROCK_SDK_ATTEMPTS).
 */
export const SAGEMAKER_SDK_ATTEMPTS = 1;

const RETRYABLE = new Set(['ThrottlingException', 'Throttling', 'ServiceUnavailable', 'InternalFailure', 'InternalDependencyException', 'ModelNotReadyException']);

/** An SDK error (or a stream error event thrown by the SDK) as the caller should see it. */
export function toProviderError(e: unknown, endpoint: string): ProviderError {
  if (e instanceof ProviderError) return e;
  const mapped = sdkError(e, endpoint);
  // SageMaker's id of the call (`x-amzn-RequestId`) and the exception's name, for the gateway's log line only.
  const requestId = (e as { $metadata?: { requestId?: string } } | undefined)?.$metadata?.requestId;
  const name = (e as Error | undefined)?.name;
  if (!requestId && !name) return mapped;
  return Object.assign(new ProviderError(mapped.message, mapped.status, mapped.retryable, { ...mapped.details, ...(name ? { errorName: name } : {}), ...(requestId ? { upstreamRequestId: requestId } : {}) }), { stack: mapped.stack });
}

/** `toProviderError`'s mapping of an SDK error (or a stream error event). */
function sdkError(e: unknown, endpoint: string): ProviderError {
  const err = e as Error & {
    $metadata?: { httpStatusCode?: number };
    Message?: string;
    OriginalStatusCode?: number;
    OriginalMessage?: string;
    ErrorCode?: string;
  };
  const name = err?.name ?? 'Error';
  const message = err?.message || err?.Message || name;
  switch (name) {
    case 'ModelError':
      return containerError(err, endpoint);
    case 'ModelStreamError':
    case 'InternalStreamFailure':
      return streamError(name, err, endpoint);
    case 'ValidationError':
      return new ProviderError(`SageMaker refused the call to endpoint ${endpoint}: ${message}`, 502, false, { type: 'upstream_error', code: 'upstream_misconfigured' });
    case 'AbortError':
      return new ProviderError(`the call to SageMaker endpoint ${endpoint} was aborted`, undefined, true);
  }
  const status = name === 'ThrottlingException' || name === 'Throttling' ? 429 : name === 'ModelNotReadyException' ? 503 : err?.$metadata?.httpStatusCode;
  const retryable = RETRYABLE.has(name) || status === undefined || status === 429 || status >= 500;
  // A throttle is OpenAI's rate-limit 429 (`rate_limit_exceeded`, as the gateway's own and Bedrock's), the exception named in the message.
  const details: UpstreamErrorDetails = status === 429 ? { type: 'rate_limit_error', code: 'rate_limit_exceeded' } : { code: name };
  return new ProviderError(`SageMaker ${name} for endpoint ${endpoint}: ${message}`, status, retryable, details);
}

/**
 * The container's own non-2xx answer: its status, and its message, type, code and param from the
 * body, read as every OpenAI-compatible upstream's are (upstreamErrorFields). Bodies seen: OpenAI's
 * `{error: {message, type, param, code}}` (vLLM, LMI's OpenAI handlers), vLLM's older flat
 * `{object: 'error', message, type, param, code}` (its numeric `code`, the HTTP status, as digits),
 * TGI's and LMI's `{error: "text", ...}`, FastAPI's 422 `{detail: [...]}` (a container's request
 * validation). A body that is not JSON, or holds no message, is relayed as its text. No status
 * (SageMaker reports 0 when the container did not answer in time) is an upstream failure, retryable.
 */
function containerError(e: { OriginalStatusCode?: number; OriginalMessage?: string; message?: string }, endpoint: string): ProviderError {
  const status = e.OriginalStatusCode;
  let parsed: unknown;
  try {
    parsed = e.OriginalMessage ? JSON.parse(e.OriginalMessage) : undefined;
  } catch {
    parsed = undefined;
  }
  const error = errorOf(parsed);
  const message = error?.message ?? (e.OriginalMessage || e.message || `SageMaker endpoint ${endpoint} failed`);
  if (status === undefined || status < 400 || status > 599) {
    return new ProviderError(`SageMaker endpoint ${endpoint} failed: ${message}`, undefined, true, error?.details ?? {});
  }
  return new ProviderError(message, status, status === 429 || status >= 500, error?.details ?? {});
}

/**
 * A container's error body, read as every OpenAI-compatible upstream's is (upstreamErrorFields):
 * its message, and in `details` the type, code and param it has (only those). A body that has
 * none of them is no error body (undefined).
 * @param answered2xx whether the body came with a 2xx status: then it is an error body only if it
 *   says so (`error` non-null, vLLM's `object: "error"`, FastAPI's `detail`), never for a bare
 *   `message` (an answer of another schema, such as `{message: {role, content}}`, is not an error
 *   message) @default false
 */
function errorOf(body: unknown, answered2xx = false): { message?: string; details: UpstreamErrorDetails } | undefined {
  if (answered2xx) {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if ((b.error === undefined || b.error === null) && b.object !== 'error' && b.detail === undefined) return undefined;
  }
  const { message, ...details } = upstreamErrorFields(body);
  return message !== undefined || Object.keys(details).length ? { message, details } : undefined;
}
