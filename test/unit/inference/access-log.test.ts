import { describe, expect, it } from 'vitest';
import { accessLogEntry } from '../../../lambdas/inference/access-log.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import { bodyModel } from '../../../lambdas/inference/body-model.js';

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

  // A schema's refusal comes before the model is resolved: its line named neither the model nor the field refused.
  it('a 4xx: the refusal\'s param, and the body\'s model when the record names none (the record\'s wins); a 5xx, a 2xx or a 499 (the caller left) neither', () => {
    const refused = { ...base, status: 400, outcome: 'decimal_above_max_value', tenantId: 'acme' };
    expect(accessLogEntry(refused, {}, { param: 'temperature', bodyModel: 'openai/gpt-5.4-mini' })).toMatchObject({ model: 'openai/gpt-5.4-mini', param: 'temperature', errorCode: 'decimal_above_max_value' });
    expect(accessLogEntry({ ...refused, model: 'openai/gpt-5.4' }, {}, { param: 'temperature', bodyModel: 'alias' })).toMatchObject({ model: 'openai/gpt-5.4' });
    expect(accessLogEntry(refused, {}, { param: null })).not.toHaveProperty('param');
    // Caller's text: bounded and redacted as the path is.
    const line = accessLogEntry(refused, {}, { param: `tsk_acme_${'k'.repeat(500)}`, bodyModel: 'tsk_acme_secret' });
    expect([line.param, line.model]).toEqual(['[redacted]', '[redacted]']);
    expect(String(accessLogEntry(refused, {}, { param: 'p'.repeat(500) }).param)).toHaveLength(256);
    for (const status of [200, 499, 502]) {
      const other = accessLogEntry({ ...base, status, outcome: status === 200 ? 'ok' : status === 499 ? 'cancelled' : 'upstream_error' }, {}, { param: 'temperature', bodyModel: 'm' });
      expect(other).not.toHaveProperty('param');
      expect(other).not.toHaveProperty('model');
    }
  });
});

describe('bodyModel', () => {
  it('the model a JSON object body names as a string; none for any other body, never throwing', () => {
    expect(bodyModel('{"model": "openai/gpt-5.4-mini", "temperature": 9}')).toBe('openai/gpt-5.4-mini');
    for (const body of [undefined, '', '{"model": 42}', '{"model": ""}', '["model"]', '{"model": ', 'not json "model"', '{"input": "hi"}', '{"model": null}']) expect(bodyModel(body)).toBeUndefined();
  });
});
