import { describe, expect, it } from 'vitest';
import { providerErrorFromSdk, streamExceptionError } from '../../../../lambdas/inference/providers/bedrock/sdk-errors.js';
import { ProviderError } from '../../../../lambdas/inference/providers/provider.js';

const sdkError = (name: string, message: string, status?: number, headers?: Record<string, string>) =>
  Object.assign(new Error(message), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...(headers ? { $response: { headers } } : {}) });

describe('Bedrock errors', () => {
  it.each([
    ['ThrottlingException', 429, true, 'rate_limit_error'],
    ['ServiceUnavailableException', 503, true, 'upstream_error'],
    ['InternalServerException', 500, true, 'upstream_error'],
    ['ModelNotReadyException', 429, true, 'rate_limit_error'],
    ['ModelTimeoutException', 408, true, 'timeout_error'],
    ['ValidationException', 400, false, 'invalid_request_error'],
    ['AccessDeniedException', 403, false, 'permission_error'],
    ['ResourceNotFoundException', 404, false, 'not_found_error'],
    ['ModelErrorException', 424, false, 'upstream_error'],
  ])('keeps %s’s message and status (%i), retryable %s', (name, status, retryable, type) => {
    const e = providerErrorFromSdk(sdkError(name, `${name} happened`, status));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ message: `${name} happened`, status, retryable, details: { type, code: name } });
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
      .toMatchObject({ message: 'model failed', status: 424, retryable: false, details: { code: 'ModelStreamErrorException' } });
    expect(streamExceptionError({ messageStop: { stopReason: 'end_turn' } })).toBeUndefined();
  });
});
