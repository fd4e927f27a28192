// The rule of the error table in docs/gateway.md, kept where every gateway error is built (GatewayError):
// every 502 and 504 says x-should-retry: false; 500 and 503 are retried unless the error says otherwise.
import { describe, expect, it } from 'vitest';
import { GatewayError, internalError, invalid, limited, MAX_INVALID_MESSAGE_CHARS, NO_SDK_RETRY_STATUSES, quoted, unauthorized, unknownParameter, upstream, upstreamTimeout } from '../../../lambdas/inference/openai-errors.js';
import { noApiKey } from '../../../lambdas/inference/no-api-key.js';

describe('GatewayError: x-should-retry on 5xx', () => {
  it('every 502 and 504 says x-should-retry: false, however it is built and whatever headers it was given', () => {
    expect([...NO_SDK_RETRY_STATUSES].sort()).toEqual([409, 502, 504]);
    const built = [
      upstream('the upstream failed'),
      upstream('bad answer', 'upstream_invalid_answer'),
      upstreamTimeout('no answer in time'),
      new GatewayError(502, 'overrun', 'upstream_error', 'upstream_overrun'),
      new GatewayError(502, 'with headers', 'upstream_error', 'upstream_error', 'model', { 'retry-after': '3' }),
      new GatewayError(502, 'says retry', 'upstream_error', 'upstream_error', null, { 'x-should-retry': 'true' }),
      new GatewayError(504, 'idle', 'timeout_error', 'upstream_timeout'),
    ];
    for (const e of built) expect(e.headers['x-should-retry'], `${e.status} ${e.code}`).toBe('false');
    // The headers it was given are kept beside it
    expect(built[4].headers).toEqual({ 'retry-after': '3', 'x-should-retry': 'false' });
  });

  it('every 409 says x-should-retry: false (the SDKs retry a 409 twice by default; a rotated or revoked key, the key cap, a user that exists answer the same again)', () => {
    for (const code of ['key_rotated', 'key_revoked', 'too_many_keys', 'user_exists', 'invalid_status']) {
      expect(new GatewayError(409, 'conflict', 'invalid_request_error', code, 'keyId').headers, code).toEqual({ 'x-should-retry': 'false' });
    }
  });

  it('a 500 (a gateway defect), a 503 and the other statuses carry no x-should-retry unless the error sets it', () => {
    expect(internalError('req_1').headers).toEqual({});
    expect(new GatewayError(503, 'key set unreadable', 'server_error', 'identity_provider_unavailable').headers).toEqual({});
    expect(new GatewayError(503, 'status unreadable', 'server_error', 'tenant_status_unavailable', null, { 'x-should-retry': 'false' }).headers).toEqual({ 'x-should-retry': 'false' });
    expect(limited('slow down', 'rate_limit_exceeded', { 'retry-after': '1' }).headers).toEqual({ 'retry-after': '1' });
    expect(new GatewayError(400, 'bad', 'invalid_request_error', 'invalid_request').headers).toEqual({});
  });
});

describe('quoted: a caller\'s value as a 400 quotes it, bounded', () => {
  it('a short string as itself, anything else as JSON, control characters escaped', () => {
    expect(quoted('get_time')).toBe('get_time');
    expect(quoted({ a: 1 })).toBe('{"a":1}');
    expect(quoted(null)).toBe('null');
    expect(quoted('a\u001b[2Jb')).toBe('a\\u001b[2Jb');
  });

  it('a long value cut at 200 characters (or max), with its whole length; never half a surrogate pair', () => {
    expect(quoted('x'.repeat(1_000_000))).toBe(`${'x'.repeat(200)}… (1000000 characters)`);
    expect(quoted(Array.from({ length: 50_000 }, (_, i) => i), 10)).toMatch(/^\[0,1,2,3,4… \(\d{6} characters\)$/);
    expect(quoted(`${'a'.repeat(9)}😀😀`, 10)).toBe(`${'a'.repeat(9)}… (13 characters)`);
  });

  it('invalid cuts a message over 4,000 characters, saying how long it was', () => {
    const e = invalid('m'.repeat(10_000), 'x');
    expect(e.message).toBe(`${'m'.repeat(MAX_INVALID_MESSAGE_CHARS)}… (message cut: 10000 characters)`);
    expect(invalid('short').message).toBe('short');
  });
});

describe('unauthorized: a credential sent and refused', () => {
  // A request with no credential is noApiKey's (`WWW-Authenticate: Bearer`); unauthorized() had a branch for its old code
  // `missing_token`, unused since, which answered `Bearer` without the error: removed.
  it.each(['invalid_token', 'invalid_api_key', 'token_expired', 'missing_token'])('%s: 401 authentication_error, WWW-Authenticate: Bearer error="invalid_token"', (code) => {
    expect(unauthorized('refused', code)).toMatchObject({ status: 401, type: 'authentication_error', code, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
  });

  it('a request without a credential answers Bearer without an error code (RFC 6750 §3.1), from noApiKey', () => {
    expect(noApiKey().headers).toEqual({ 'www-authenticate': 'Bearer' });
  });
});

describe('unknownParameter: OpenAI\'s 400 for a field it does not define', () => {
  it('"Unknown parameter: \'<path>\'.", param the path, code unknown_parameter, then the hint', () => {
    expect(unknownParameter('input[4].action.query')).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'input[4].action.query', code: 'unknown_parameter', message: "Unknown parameter: 'input[4].action.query'." });
    expect(unknownParameter('tools[0].foo', 'A file_search tool takes vector_store_ids.').message).toBe("Unknown parameter: 'tools[0].foo'. A file_search tool takes vector_store_ids.");
  });
});
