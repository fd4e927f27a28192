import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { ProviderError } from '../provider.js';
import { retryAfterMs } from '../retry-after.js';
import { endpointOverride } from '../../../shared/endpoint-override.js';
import { calledEndpointOf } from '../../../shared/called-endpoint.js';
import { notServiceAnswer, serviceEndpointNamed, unparsedAnswer, type UnparsedAnswer } from '../../../shared/unparsed-answer.js';
import { serviceLogger } from '../../../shared/service-logger.js';
import { requestLogKeys } from '../../../shared/request-log-context.js';

const logger = serviceLogger('tessera-gateway');

/**
 * Bedrock's errors → `ProviderError`, keeping Bedrock's message so the caller reads what Bedrock
 * said (a ValidationException stays the caller's 400), with the status, type and code an OpenAI
 * client expects for it.
 *
 *   SDK exception {name, message, $metadata.httpStatusCode}
 *     → ProviderError(message, status, retryable, {type, code, retryAfterMs?, timedOut?})
 *   stream exception event {throttlingException: {message}} (or the same thrown mid-stream)
 *     → the same mapping as the exception of that name
 *
 * What the caller gets (upstream-calls.ts callerErrorOf, after the gateway's retries and fallbacks):
 * - ThrottlingException (429), ServiceQuotaExceededException (Bedrock's 400, "resubmit your request
 *   later": a quota of the platform's account, not the caller's request) → 429 `rate_limit_error`
 *   `rate_limit_exceeded`, the shape of the gateway's own rate limits (OpenAI's code for a rate
 *   limit), with `retry-after` when Bedrock sent `Retry-After` / `retry-after-ms`. The message is
 *   `Bedrock <exception>: <Bedrock's message>`. The OpenAI SDKs retry a 429 honouring
 *   `retry-after`; without one the gateway adds `x-should-retry: false` (it has retried already).
 *   Throttling is retried by the gateway; a service quota is not (the same model, milliseconds
 *   later, is over it still): the next model of the fallback chain is tried.
 * - ModelNotReadyException (Bedrock's 429: the model is loading, not the caller's rate) → 503, as
 *   sagemaker.ts answers SageMaker's: retried, then 502 `upstream_error` `bedrock_model_not_ready`.
 * - ModelTimeoutException (408) → `timedOut`: retried, then 504 `timeout_error` `upstream_timeout`
 *   as any upstream that did not answer in time (SageMaker's ModelInvocationTimeExceeded too).
 * - ServiceUnavailableException (503), InternalServerException (500) → retried, then 502
 *   `upstream_error` `bedrock_unavailable` / `bedrock_internal_error`.
 * - retryable: ThrottlingException, ServiceUnavailableException, InternalServerException,
 *   ModelNotReadyException, ModelTimeoutException, and the network failures below; nothing else.
 *   The SDK makes one attempt per call (bedrock.ts BEDROCK_SDK_ATTEMPTS): these are the gateway's retries.
 * - status: the HTTP status Bedrock answered with (but for the three remapped above), else the
 *   one its API model gives the exception (stream events carry none): Validation 400,
 *   AccessDenied 403, ResourceNotFound 404, ModelTimeout 408, Throttling 429, ModelStreamError and
 *   ModelError 424, InternalServer 500, ServiceUnavailable 503.
 * - type: OpenAI's error type for that status (400 invalid_request_error, 403 permission_error,
 *   404 invalid_request_error as OpenAI's own 404s, 408 timeout_error, 429 rate_limit_error, others
 *   upstream_error).
 * - code: Bedrock's exception name for what stays the caller's 4xx (ValidationException...: what
 *   Bedrock said, relayed); `rate_limit_exceeded` for a 429; for what the gateway answers with
 *   502/504 (Bedrock's 5xx and 424, its 408, and failures before Bedrock answered) an OpenAI-shaped
 *   snake_case code naming the cause instead (BEDROCK_FAILURE_CODES): `bedrock_unavailable`,
 *   `bedrock_model_error`, `bedrock_no_credentials`, `bedrock_unreachable`..., never `Error`.
 *   Failures before an answer: the SDK's CredentialsProviderError (not retryable), a missing
 *   region (not retryable), a network error (ECONNREFUSED, ENOTFOUND, ETIMEDOUT..., retryable), whose
 *   message names the host the SDK called and what configured it, as for an answer not parsed (below).
 * - an answer the SDK could not parse (its `SyntaxError`, "Deserialization error: to see the raw
 *   response, inspect the hidden field {error}.$response on this object": an HTML page, a proxy's
 *   error, an emulator such as moto without Converse) → 502 `upstream_error`
 *   `upstream_invalid_answer` (as an unusable embeddings answer, embedding-models.ts), not
 *   retryable: the caller's message says the endpoint's answer was not a Bedrock answer, with its
 *   HTTP status and the host the SDK called (the request's, recorded by BedrockProvider's client:
 *   called-endpoint.ts; AWS_ENDPOINT_URL..., or a profile's endpoint_url or services section under
 *   `tessera serve --profile`), else the environment's override (endpointOverride); the SDK's own words, whose hint means nothing to an API caller, go to the
 *   log only (one WARN line: notBedrockAnswer).
 *
 * AWS reference: Converse "Errors" (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors),
 * ConverseStreamOutput (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html).
 */
export function providerErrorFromSdk(e: unknown, env: NodeJS.ProcessEnv = process.env): ProviderError {
  if (e instanceof ProviderError) return e;
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number; requestId?: string }; $response?: { headers?: Record<string, string | undefined> } };
  const name = err.name ?? 'Error';
  const unparsed = unparsedAnswer(e);
  if (unparsed) return notBedrockAnswer(unparsed, env);
  const status = REMAPPED[name] ?? err.$metadata?.httpStatusCode ?? STATUS[name];
  if (status === undefined) return failureBeforeAnswer(err, name, env);
  return bedrockError(name, err.message, status, retryAfter(err.$response?.headers ?? {}), err.$metadata?.requestId);
}

/** The ProviderError for Bedrock's exception `name` answered with `status` (see providerErrorFromSdk). */
function bedrockError(name: string, message: string | undefined, status: number, retryAfterMs?: number, requestId?: string): ProviderError {
  const said = message || `Bedrock ${name}`;
  const rateLimited = status === 429;
  return new ProviderError(rateLimited ? `Bedrock ${name}: ${said}` : said, status, RETRYABLE.has(name), {
    type: errorType(status), code: codeOf(name, status), errorName: name,
    // Bedrock's id of the call (`x-amzn-RequestId`, what AWS Support asks for), for the log only.
    ...(requestId ? { upstreamRequestId: requestId } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(name === 'ModelTimeoutException' ? { timedOut: true } : {}),
  });
}

/**
 * An answer the SDK could not read as Bedrock's (see providerErrorFromSdk): the caller is told what
 * happened in its terms, the SDK's message (the parser's words and its `$response` hint) is logged, with the request's
 * id and tenant when it is answered within one (`requestLogKeys`).
 */
function notBedrockAnswer(answer: UnparsedAnswer, env: NodeJS.ProcessEnv): ProviderError {
  const endpoint = answer.called ? answer.called.url : endpointOverride('Bedrock Runtime', env)?.url ?? 'AWS';
  logger.warn('Bedrock answer not parsed by the AWS SDK', { ...requestLogKeys(), endpoint, httpStatus: answer.status, error: answer.error, detail: answer.detail });
  return new ProviderError(notServiceAnswer('Bedrock', 'Bedrock Runtime', answer, 'the gateway', env), 502, false, { type: 'upstream_error', code: 'upstream_invalid_answer' });
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
  ModelNotReadyException: 'bedrock_model_not_ready',
  CredentialsProviderError: 'bedrock_no_credentials',
};

/** Node's network error codes: Bedrock's endpoint could not be reached (DNS, connection, TLS). */
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

/** The caller's 4xx keep Bedrock's exception name, a 429 is OpenAI's `rate_limit_exceeded`; what becomes a 502/504 gets an OpenAI-shaped code. */
function codeOf(name: string, status: number): string {
  if (status === 429) return 'rate_limit_exceeded';
  if (status < 500 && status !== 424 && status !== 408) return name;
  return BEDROCK_FAILURE_CODES[name] ?? `bedrock_${snakeCase(name.replace(/Exception$/, ''))}`;
}

/** `UnrecognizedClientException` → `unrecognized_client`. */
const snakeCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toLowerCase() || 'error';

/**
 * No HTTP answer from Bedrock: no credentials, no region, the network (the message names the endpoint: serviceEndpointNamed),
 * or anything else the SDK threw.
 */
function failureBeforeAnswer(err: { name?: string; message?: string; code?: string; cause?: unknown }, name: string, env: NodeJS.ProcessEnv): ProviderError {
  const message = err.message || `Bedrock ${name}`;
  const network = [err.code, (err.cause as { code?: string } | undefined)?.code].find((c) => c && NETWORK_CODES.has(c));
  if (name === 'CredentialsProviderError') {
    return new ProviderError(`no AWS credentials to call Bedrock (${message})`, undefined, false, { type: 'upstream_error', code: 'bedrock_no_credentials', errorName: name });
  }
  if (/Region is missing/i.test(message)) {
    return new ProviderError(`no AWS region to call Bedrock in (${message})`, undefined, false, { type: 'upstream_error', code: 'bedrock_no_region', errorName: name });
  }
  if (network || name === 'TimeoutError') {
    // The host the SDK called and what configured it (a profile's endpoint_url under tessera serve --profile, AWS_ENDPOINT_URL…), as notBedrockAnswer names it.
    const { endpoint } = serviceEndpointNamed('Bedrock', 'Bedrock Runtime', calledEndpointOf(err), env);
    return new ProviderError(`${endpoint} could not be reached (${network ?? name}: ${message})`, undefined, true, { type: 'upstream_error', code: 'bedrock_unreachable', errorName: network ?? name });
  }
  return new ProviderError(message, undefined, RETRYABLE.has(name), { type: 'upstream_error', code: BEDROCK_FAILURE_CODES[name] ?? `bedrock_${snakeCase(name.replace(/Exception$/, ''))}`, errorName: name });
}

/** The error a stream exception event carries, or `undefined` for any other event. */
export function streamExceptionError(event: ConverseStreamOutput): ProviderError | undefined {
  for (const [member, name] of Object.entries(STREAM_EXCEPTIONS)) {
    const payload = (event as unknown as Record<string, { message?: string } | undefined>)[member];
    if (payload) return bedrockError(name, payload.message, REMAPPED[name] ?? STATUS[name]!);
  }
  return undefined;
}

const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'ModelNotReadyException', 'ModelTimeoutException']);

/** Bedrock's status for each exception of the Converse "Errors" list, when the SDK gives none (a stream event). */
const STATUS: Record<string, number> = {
  ValidationException: 400, ServiceQuotaExceededException: 400, AccessDeniedException: 403, ResourceNotFoundException: 404,
  ModelTimeoutException: 408, ThrottlingException: 429, ModelNotReadyException: 429,
  ModelStreamErrorException: 424, ModelErrorException: 424, InternalServerException: 500, ServiceUnavailableException: 503,
};

/**
 * Exceptions whose Bedrock status would tell an OpenAI client the wrong thing, with the status
 * they are answered with (whatever Bedrock's): a service quota is a rate limit of the platform's
 * account (429, not the caller's 400: the SDKs would never retry it and the fallback chain would
 * stop); a model not ready yet is an upstream that cannot answer now (503 → the gateway's 502),
 * not the caller's rate limit.
 */
const REMAPPED: Record<string, number> = { ServiceQuotaExceededException: 429, ModelNotReadyException: 503 };

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

/** A `Retry-After` hint of Bedrock's answer in ms (retry-after.ts, as an OpenAI-compatible upstream's is read). */
const retryAfter = (headers: Record<string, string | undefined>): number | undefined => retryAfterMs(headers);
