import { describe, expect, it } from 'vitest';
import { providerErrorFromSdk, streamExceptionError } from '../../../../lambdas/inference/providers/bedrock/sdk-errors.js';
import { ProviderError } from '../../../../lambdas/inference/providers/provider.js';
import { callerErrorOf } from '../../../../lambdas/inference/upstream-calls.js';

const sdkError = (name: string, message: string, status?: number, headers?: Record<string, string>) =>
  Object.assign(new Error(message), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...(headers ? { $response: { headers } } : {}) });

describe('Bedrock errors', () => {
  it.each([
    ['ThrottlingException', 429, true, 'rate_limit_error', 'ThrottlingException'],
    ['ServiceUnavailableException', 503, true, 'upstream_error', 'bedrock_unavailable'],
    ['InternalServerException', 500, true, 'upstream_error', 'bedrock_internal_error'],
    ['ModelNotReadyException', 429, true, 'rate_limit_error', 'ModelNotReadyException'],
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
      .toMatchObject({ message: 'slow', status: 429, retryable: true, details: { type: 'rate_limit_error', code: 'ThrottlingException' } });
    expect(streamExceptionError({ modelStreamErrorException: { message: 'model failed' } } as never))
      .toMatchObject({ message: 'model failed', status: 424, retryable: false, details: { code: 'bedrock_model_stream_error' } });
    expect(streamExceptionError({ messageStop: { stopReason: 'end_turn' } })).toBeUndefined();
  });
});
