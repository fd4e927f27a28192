import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { MAX_REQUEST_BYTES_LIMIT } from '../../../lib/config/schema.js';
import { configErrorOf } from '../../support/config-errors.js';

/** Lambda's limit of a synchronous invocation's request payload (the whole API Gateway event), bytes. */
const LAMBDA_REQUEST_PAYLOAD_BYTES = 6_291_456;

describe('config: gateway.maxRequestBytes', () => {
  it('is 1 MiB in the embedded default, and takes up to 2,000,000', () => {
    expect(loadConfig({ overrides: {} }).gateway.maxRequestBytes).toBe(1_048_576);
    expect(loadConfig({ overrides: { gateway: { maxRequestBytes: 2_000_000 } } }).gateway.maxRequestBytes).toBe(2_000_000);
  });

  it('the largest value cannot put a JSON body past Lambda\'s invocation payload: 3 times its bytes escaped and 128 KiB of headers and context fit', () => {
    expect(3 * MAX_REQUEST_BYTES_LIMIT + 128 * 1024).toBeLessThanOrEqual(LAMBDA_REQUEST_PAYLOAD_BYTES);
  });

  it('refuses a value over 2,000,000 (6,000,000 was taken before), naming the key, the value and why', () => {
    for (const value of [2_000_001, 6_000_000]) {
      const message = configErrorOf({ gateway: { maxRequestBytes: value } });
      expect(message).toContain(`gateway.maxRequestBytes = ${value}`);
      expect(message).toContain(`gateway.maxRequestBytes ${value} is over 2000000: on AWS a body reaches the router inside API Gateway's event, which Lambda takes up to 6,291,456 bytes`);
    }
  });
});
