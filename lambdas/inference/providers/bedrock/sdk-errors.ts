import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { ProviderError } from '../provider.js';

/**
 * Bedrock's errors → `ProviderError`, keeping Bedrock's message and status so the caller reads
 * what Bedrock said (a ValidationException stays the caller's 400).
 *
 *   SDK exception {name, message, $metadata.httpStatusCode}
 *     → ProviderError(message, httpStatusCode, retryable, {type, code: name, retryAfterMs?})
 *   stream exception event {throttlingException: {message}} (or the same thrown mid-stream)
 *     → ProviderError(message, 429, true, {type:'rate_limit_error', code:'ThrottlingException'})
 *
 * - retryable: ThrottlingException, ServiceUnavailableException, InternalServerException,
 *   ModelNotReadyException, ModelTimeoutException; nothing else.
 * - status: the HTTP status Bedrock answered with, else the one its API model gives the exception
 *   (stream events carry none): Validation 400, AccessDenied 403, ResourceNotFound 404,
 *   ModelTimeout 408, Throttling and ModelNotReady 429, ModelStreamError and ModelError 424,
 *   InternalServer 500, ServiceUnavailable 503, ServiceQuotaExceeded 400.
 * - type: OpenAI's error type for that status (400 invalid_request_error, 403 permission_error,
 *   404 invalid_request_error as OpenAI's own 404s, 408 timeout_error, 429 rate_limit_error, others
 *   upstream_error).
 * - retryAfterMs: from a `Retry-After` response header, when Bedrock sent one.
 * - code: Bedrock's exception name for what stays the caller's 4xx or a 429 (ValidationException,
 *   ThrottlingException...: what Bedrock said, relayed); for what the gateway answers with 502/504
 *   (Bedrock's 5xx and 424, its 408, and failures before Bedrock answered) an OpenAI-shaped
 *   snake_case code naming the cause instead (BEDROCK_FAILURE_CODES): `bedrock_unavailable`,
 *   `bedrock_model_error`, `bedrock_no_credentials`, `bedrock_unreachable`..., never `Error`.
 *   Failures before an answer: the SDK's CredentialsProviderError (not retryable), a missing
 *   region (not retryable), a network error (ECONNREFUSED, ENOTFOUND, ETIMEDOUT..., retryable).
 *
 * AWS reference: Converse "Errors" (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors),
 * ConverseStreamOutput (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html).
 */
export function providerErrorFromSdk(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string | undefined> } };
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode ?? STATUS[name];
  if (status === undefined) return failureBeforeAnswer(err, name);
  const retryAfterMs = retryAfter(err.$response?.headers?.['retry-after']);
  return new ProviderError(err.message || `Bedrock ${name}`, status, RETRYABLE.has(name), {
    type: errorType(status), code: codeOf(name, status), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/**
 * OpenAI-shaped codes for the Bedrock failures the gateway answers with 502/504 (OpenAI's codes
 * are snake_case words: `rate_limit_exceeded`, `server_error`); the exception names of the
 * Converse "Errors" list, and the SDK's own failures before Bedrock answered.
 */
export const BEDROCK_FAILURE_CODES: Readonly<Record<string, string>> = {
  InternalServerException: 'bedrock_internal_error',
  ServiceUnavailableException: 'bedrock_unavailable',
  ModelErrorException: 'bedrock_model_error',
  ModelStreamErrorException: 'bedrock_model_stream_error',
  ModelTimeoutException: 'bedrock_model_timeout',
  CredentialsProviderError: 'bedrock_no_credentials',
};

/** Node's network error codes: Bedrock's endpoint could not be reached (DNS, connection, TLS). */
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

/** The caller's 4xx and 429 keep Bedrock's exception name; what becomes a 502/504 gets an OpenAI-shaped code. */
function codeOf(name: string, status: number): string {
  if (status < 500 && status !== 424 && status !== 408) return name;
  return BEDROCK_FAILURE_CODES[name] ?? `bedrock_${snakeCase(name.replace(/Exception$/, ''))}`;
}

/** `UnrecognizedClientException` → `unrecognized_client`. */
const snakeCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toLowerCase() || 'error';

/** No HTTP answer from Bedrock: no credentials, no region, the network, or anything else the SDK threw. */
function failureBeforeAnswer(err: { name?: string; message?: string; code?: string; cause?: unknown }, name: string): ProviderError {
  const message = err.message || `Bedrock ${name}`;
  const network = [err.code, (err.cause as { code?: string } | undefined)?.code].find((c) => c && NETWORK_CODES.has(c));
  if (name === 'CredentialsProviderError') {
    return new ProviderError(`no AWS credentials to call Bedrock (${message})`, undefined, false, { type: 'upstream_error', code: 'bedrock_no_credentials' });
  }
  if (/Region is missing/i.test(message)) {
    return new ProviderError(`no AWS region to call Bedrock in (${message})`, undefined, false, { type: 'upstream_error', code: 'bedrock_no_region' });
  }
  if (network || name === 'TimeoutError') {
    return new ProviderError(`Bedrock's endpoint could not be reached (${network ?? name}: ${message})`, undefined, true, { type: 'upstream_error', code: 'bedrock_unreachable' });
  }
  return new ProviderError(message, undefined, RETRYABLE.has(name), { type: 'upstream_error', code: BEDROCK_FAILURE_CODES[name] ?? `bedrock_${snakeCase(name.replace(/Exception$/, ''))}` });
}

/** The error a stream exception event carries, or `undefined` for any other event. */
export function streamExceptionError(event: ConverseStreamOutput): ProviderError | undefined {
  for (const [member, name] of Object.entries(STREAM_EXCEPTIONS)) {
    const payload = (event as unknown as Record<string, { message?: string } | undefined>)[member];
    if (payload) return new ProviderError(payload.message || `Bedrock ${name}`, STATUS[name], RETRYABLE.has(name), { type: errorType(STATUS[name]), code: codeOf(name, STATUS[name]!) });
  }
  return undefined;
}

const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'ModelNotReadyException', 'ModelTimeoutException']);

const STATUS: Record<string, number> = {
  ValidationException: 400, ServiceQuotaExceededException: 400, AccessDeniedException: 403, ResourceNotFoundException: 404,
  ModelTimeoutException: 408, ThrottlingException: 429, ModelNotReadyException: 429,
  ModelStreamErrorException: 424, ModelErrorException: 424, InternalServerException: 500, ServiceUnavailableException: 503,
};

const STREAM_EXCEPTIONS: Record<string, string> = {
  internalServerException: 'InternalServerException',
  modelStreamErrorException: 'ModelStreamErrorException',
  throttlingException: 'ThrottlingException',
  validationException: 'ValidationException',
  serviceUnavailableException: 'ServiceUnavailableException',
};

function errorType(status: number | undefined): string {
  switch (status) {
    case 400: case 404: return 'invalid_request_error';
    case 403: return 'permission_error';
    case 408: return 'timeout_error';
    case 429: return 'rate_limit_error';
    default: return 'upstream_error';
  }
}

function retryAfter(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
