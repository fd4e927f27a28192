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
 *   404 not_found_error, 408 timeout_error, 429 rate_limit_error, others upstream_error).
 * - retryAfterMs: from a `Retry-After` response header, when Bedrock sent one.
 *
 * AWS reference: Converse "Errors" (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors),
 * ConverseStreamOutput (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html).
 */
export function providerErrorFromSdk(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string | undefined> } };
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode ?? STATUS[name];
  const retryAfterMs = retryAfter(err.$response?.headers?.['retry-after']);
  return new ProviderError(err.message || `Bedrock ${name}`, status, RETRYABLE.has(name), {
    type: errorType(status), code: name, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** The error a stream exception event carries, or `undefined` for any other event. */
export function streamExceptionError(event: ConverseStreamOutput): ProviderError | undefined {
  for (const [member, name] of Object.entries(STREAM_EXCEPTIONS)) {
    const payload = (event as unknown as Record<string, { message?: string } | undefined>)[member];
    if (payload) return new ProviderError(payload.message || `Bedrock ${name}`, STATUS[name], RETRYABLE.has(name), { type: errorType(STATUS[name]), code: name });
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
    case 400: return 'invalid_request_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
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
