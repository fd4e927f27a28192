import { describe, expect, it } from 'vitest';
import { accessLogEntry } from '../../../lambdas/inference/access-log.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';

// The access line of `tessera serve` (docs/operations.md "The access line of `tessera serve`"), built from the request's
// audit record: who called (the key, else the token's user).
const base: AuditRecord = { requestId: 'chatcmpl-1', at: '2026-12-07T21:00:00.000Z', method: 'POST', path: '/v1/chat/completions', latencyMs: 12.4, status: 200, outcome: 'ok' };

describe('accessLogEntry', () => {
  it('a token caller: its user (the token\'s sub), whose user limit a 429 is', () => {
    const line = accessLogEntry({ ...base, status: 429, outcome: 'rate_limit_exceeded', tenantId: 'acme', userId: 'dev-user@acme', role: 'member', model: 'openai/gpt-5.4-mini' });
    expect(line).toEqual({
      level: 'INFO', message: 'request', method: 'POST', path: '/v1/chat/completions', status: 429, durationMs: 12, requestId: 'chatcmpl-1',
      tenantId: 'acme', userId: 'dev-user@acme', model: 'openai/gpt-5.4-mini', errorCode: 'rate_limit_exceeded',
    });
  });

  it('a key caller: its key id only (the record\'s userId is the same key id)', () => {
    const line = accessLogEntry({ ...base, tenantId: 'acme', userId: 'key_abc', keyId: 'key_abc' });
    expect(line).toMatchObject({ keyId: 'key_abc' });
    expect(line).not.toHaveProperty('userId');
  });

  it('a caller not known (a bad key): neither user nor key, and a 5xx at ERROR', () => {
    const line = accessLogEntry({ ...base, status: 502, outcome: 'upstream_error' });
    expect(line).not.toHaveProperty('userId');
    expect(line).not.toHaveProperty('keyId');
    expect(line.level).toBe('ERROR');
  });
});
