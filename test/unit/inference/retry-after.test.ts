import { describe, expect, it } from 'vitest';
import { providerErrorFromSdk } from '../../../lambdas/inference/providers/bedrock/sdk-errors.js';
import { retryAfterMs } from '../../../lambdas/inference/providers/http-openai-compatible.js';

const NOW = Date.parse('2026-12-05T13:00:00Z');

describe('an upstream\'s Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date)', () => {
  it('reads delay-seconds, retry-after-ms and the three HTTP-date forms', () => {
    expect(retryAfterMs({ 'retry-after': '7' }, NOW)).toBe(7000);
    expect(retryAfterMs({ 'retry-after': '1.5' }, NOW)).toBe(1500);
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '7' }, NOW)).toBe(250);
    expect(retryAfterMs({ 'retry-after': 'Sat, 05 Dec 2026 13:00:30 GMT' }, NOW)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'Saturday, 05-Dec-26 13:00:30 GMT' }, NOW)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 1970 00:00:00 GMT' }, NOW)).toBe(0);
  });

  it('takes no hint from a value of neither form: -5 was read by Date.parse as the year -5 (a wait of 0), 1e3 and 0x10 by Number', () => {
    for (const value of ['-5', '-5000', '1e3', '0x10', 'soon', ' ']) {
      expect(retryAfterMs({ 'retry-after': value }, NOW), value).toBeUndefined();
    }
    expect(retryAfterMs({ 'retry-after-ms': '-1' }, NOW)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after-ms': '1e16' }, NOW)).toBeUndefined();
  });

  it('Bedrock\'s answer is read the same way', () => {
    const throttled = (headers: Record<string, string>) => {
      const e = Object.assign(new Error('Too many requests'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 }, $fault: 'client', $response: { statusCode: 429, headers } });
      return providerErrorFromSdk(e).details.retryAfterMs;
    };
    expect(throttled({ 'retry-after': '3' })).toBe(3000);
    expect(throttled({ 'retry-after': '-5' })).toBeUndefined();
    expect(throttled({ 'retry-after-ms': '1e3' })).toBeUndefined();
  });
});
