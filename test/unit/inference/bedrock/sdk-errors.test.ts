import { describe, expect, it } from 'vitest';
import { providerErrorFromSdk, streamExceptionError } from '../../../../lambdas/inference/providers/bedrock/sdk-errors.js';
import { ProviderError } from '../../../../lambdas/inference/providers/provider.js';
import { callerErrorOf } from '../../../../lambdas/inference/upstream-calls.js';
import { logSpy } from '../../../support/service-log.js';

const sdkError = (name: string, message: string, status?: number, headers?: Record<string, string>) =>
  Object.assign(new Error(message), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...(headers ? { $response: { headers } } : {}) });

describe('Bedrock errors', () => {
  it.each([
    ['ServiceUnavailableException', 503, true, 'upstream_error', 'bedrock_unavailable'],
    ['InternalServerException', 500, true, 'upstream_error', 'bedrock_internal_error'],
    ['ModelTimeoutException', 408, true, 'timeout_error', 'bedrock_model_timeout'],
    ['ValidationException', 400, false, 'invalid_request_error', 'ValidationException'],
    ['AccessDeniedException', 403, false, 'permission_error', 'AccessDeniedException'],
    ['ResourceNotFoundException', 404, false, 'invalid_request_error', 'ResourceNotFoundException'],
    ['ModelErrorException', 424, false, 'upstream_error', 'bedrock_model_error'],
    ['SomeNewServerException', 500, false, 'upstream_error', 'bedrock_some_new_server'],
  ])('keeps %s’s message and status (%i), retryable %s, type %s, code %s', (name, status, retryable, type, code) => {
    const e = providerErrorFromSdk(sdkError(name, `${name} happened`, status));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ message: `${name} happened`, status, retryable, details: { type, code } });
  });

  it('failures before Bedrock answered get a code naming the cause, never "Error"', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(providerErrorFromSdk(noCredentials)).toMatchObject({ status: undefined, retryable: false, message: /^no AWS credentials to call Bedrock/, details: { type: 'upstream_error', code: 'bedrock_no_credentials' } });
    expect(providerErrorFromSdk(new Error('Region is missing'))).toMatchObject({ retryable: false, details: { code: 'bedrock_no_region' } });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    expect(providerErrorFromSdk(refused)).toMatchObject({ retryable: true, message: /^Bedrock's endpoint could not be reached \(ECONNREFUSED/, details: { code: 'bedrock_unreachable' } });
    expect(providerErrorFromSdk(Object.assign(new Error('getaddrinfo'), { cause: { code: 'ENOTFOUND' } })).details.code).toBe('bedrock_unreachable');
    expect(providerErrorFromSdk(new Error('something odd')).details.code).toBe('bedrock_error');
  });

  it('a Bedrock failure the gateway answers with 502 carries the OpenAI-shaped code and type', () => {
    const chain = [{ id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0, outputPricePer1k: 0 }] as never;
    const unavailable = callerErrorOf(providerErrorFromSdk(sdkError('ServiceUnavailableException', 'Bedrock is unavailable', 503)), chain);
    expect(unavailable.status).toBe(502);
    expect(JSON.parse(unavailable.body())).toEqual({ error: { message: expect.stringMatching(/bedrock\/amazon\.nova-lite.*Bedrock is unavailable/), type: 'upstream_error', param: null, code: 'bedrock_unavailable' } });
    const noCredentials = callerErrorOf(providerErrorFromSdk(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })), chain);
    expect(noCredentials).toMatchObject({ status: 502, type: 'upstream_error', code: 'bedrock_no_credentials' });
  });

  // Each as Bedrock throws it (its HTTP status in $metadata), and what the OpenAI client then gets.
  it.each([
    ['ThrottlingException', 429, 429, true, 'rate_limit_error', 'rate_limit_exceeded', 429, 'rate_limit_error', 'rate_limit_exceeded'],
    ['ServiceQuotaExceededException', 400, 429, false, 'rate_limit_error', 'rate_limit_exceeded', 429, 'rate_limit_error', 'rate_limit_exceeded'],
    ['ServiceUnavailableException', 503, 503, true, 'upstream_error', 'bedrock_unavailable', 502, 'upstream_error', 'bedrock_unavailable'],
    ['ModelNotReadyException', 429, 503, true, 'upstream_error', 'bedrock_model_not_ready', 502, 'upstream_error', 'bedrock_model_not_ready'],
    ['ModelTimeoutException', 408, 408, true, 'timeout_error', 'bedrock_model_timeout', 504, 'timeout_error', 'upstream_timeout'],
  ])('%s (Bedrock %i) → ProviderError %i, retryable %s, %s/%s → the caller gets %i %s/%s with Bedrock\'s message', (name, bedrockStatus, status, retryable, type, code, callerStatus, callerType, callerCode) => {
    const e = providerErrorFromSdk(sdkError(name, `${name} said this`, bedrockStatus));
    expect(e).toMatchObject({ status, retryable, details: { type, code } });
    const chain = [{ id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0, outputPricePer1k: 0 }] as never;
    const caller = callerErrorOf(e, chain);
    expect(caller.status).toBe(callerStatus);
    expect(JSON.parse(caller.body())).toEqual({ error: { message: expect.stringContaining(`${name} said this`), type: callerType, param: null, code: callerCode } });
  });

  it('a throttle with Retry-After / retry-after-ms reaches the caller as a 429 with retry-after (the SDK waits and retries), without one as x-should-retry: false', () => {
    const chain = [{ id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0, outputPricePer1k: 0 }] as never;
    const withHint = callerErrorOf(providerErrorFromSdk(sdkError('ThrottlingException', 'Too many requests', 429, { 'retry-after': '2' })), chain);
    expect(withHint).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: { 'retry-after': '2' } });
    expect(withHint.headers['x-should-retry']).toBeUndefined();
    expect(providerErrorFromSdk(sdkError('ThrottlingException', 'x', 429, { 'retry-after-ms': '1500' })).details.retryAfterMs).toBe(1500);
    const withoutHint = callerErrorOf(providerErrorFromSdk(sdkError('ThrottlingException', 'Too many requests', 429)), chain);
    expect(withoutHint).toMatchObject({ status: 429, code: 'rate_limit_exceeded', headers: { 'x-should-retry': 'false' } });
    expect(withoutHint.message).toMatch(/bedrock\/amazon\.nova-lite is rate limited: Bedrock ThrottlingException: Too many requests/);
  });

  it('knows the status of an exception without HTTP metadata, and reads Retry-After', () => {
    expect(providerErrorFromSdk(sdkError('ThrottlingException', 'slow down'))).toMatchObject({ status: 429, retryable: true });
    expect(providerErrorFromSdk(sdkError('ThrottlingException', 'slow down', 429, { 'retry-after': '3' })).details.retryAfterMs).toBe(3000);
  });

  it('passes a ProviderError through', () => {
    const e = new ProviderError('x', 400, false);
    expect(providerErrorFromSdk(e)).toBe(e);
  });

  it('reads stream exception events, and nothing from other events', () => {
    expect(streamExceptionError({ throttlingException: { message: 'slow', name: 'ThrottlingException' } } as never))
      .toMatchObject({ message: 'Bedrock ThrottlingException: slow', status: 429, retryable: true, details: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
    expect(streamExceptionError({ modelStreamErrorException: { message: 'model failed' } } as never))
      .toMatchObject({ message: 'model failed', status: 424, retryable: false, details: { code: 'bedrock_model_stream_error' } });
    expect(streamExceptionError({ messageStop: { stopReason: 'end_turn' } })).toBeUndefined();
  });

  // What the SDK threw when AWS_ENDPOINT_URL pointed at a moto server (moto has no Converse: it answers HTTP 500 with an HTML page).
  const unparsed = () => Object.assign(new SyntaxError('Unexpected token \'<\', "<!doctype "... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { $metadata: { httpStatusCode: 500 } });
  const chain = [{ id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0, outputPricePer1k: 0 }] as never;

  it('an answer the SDK could not parse: the caller is told it was not a Bedrock answer, naming the overriding endpoint; the SDK\'s hint only in the log', () => {
    const warn = logSpy('tessera-gateway', 'warn');
    const e = providerErrorFromSdk(unparsed(), { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' });
    expect(e).toMatchObject({ status: 502, retryable: false, details: { type: 'upstream_error', code: 'upstream_invalid_answer' } });
    const caller = callerErrorOf(e, chain);
    const body = JSON.parse(caller.body()) as { error: { message: string; code: string } };
    expect(caller.status).toBe(502);
    expect(body.error.code).toBe('upstream_invalid_answer');
    expect(body.error.message).toBe("the upstream of bedrock/amazon.nova-lite failed: Bedrock's endpoint 127.0.0.1:5000 (AWS_ENDPOINT_URL) answered HTTP 500 with a body that is not a Bedrock answer (an emulator without this call, such as moto, or a proxy)");
    expect(body.error.message).not.toMatch(/\$response|hidden field|Deserialization/);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.lines()[0]).toMatchObject({ level: 'WARN', endpoint: 'http://127.0.0.1:5000', httpStatus: 500, error: 'SyntaxError', detail: expect.stringContaining('inspect the hidden field {error}.$response') });
  });

  it('the service\'s own variable wins over AWS_ENDPOINT_URL, as the SDK reads them; without an override no host is named', () => {
    logSpy('tessera-gateway', 'warn');
    const own = providerErrorFromSdk(unparsed(), { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'https://proxy.example.com:8443/bedrock' });
    expect(own.message).toMatch(/^Bedrock's endpoint proxy\.example\.com:8443 \(AWS_ENDPOINT_URL_BEDROCK_RUNTIME\) answered HTTP 500 /);
    const aws = providerErrorFromSdk(unparsed(), {});
    expect(aws.message).toBe("Bedrock's endpoint answered HTTP 500 with a body that is not a Bedrock answer (a proxy between the gateway and AWS?)");
    const ignored = providerErrorFromSdk(unparsed(), { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' });
    expect(ignored.message).not.toContain('127.0.0.1');
  });
});
