import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import { auditRecordRedacted } from '../../../lambdas/inference/audit-redaction.js';
import { logText, withoutCredentials } from '../../../lambdas/inference/log-text.js';

const KEY = `tsk_acme_${'K'.repeat(43)}`;
const base: AuditRecord = { requestId: 'req_0123456789abcdef01234567', at: '2026-12-07T00:00:00.000Z', method: 'GET', path: '/v1/models', tenantId: 'acme', userId: 'ann', latencyMs: 1, status: 200, outcome: 'ok' };

describe('auditRecordRedacted: a credential the caller pasted into its text, [redacted] as a log line has it', () => {
  it('path (percent-encoded in part too), model, requestedModel, detail strings and tags', () => {
    const record: AuditRecord = {
      ...base, path: '/v1/files/%73k-proj-LEAKEDKEY123/content', model: KEY, requestedModel: `alias-${KEY}`,
      detail: { endUser: 'ann sk-proj-LEAKEDKEY123', customId: 'row-1', images: 2, stored: true }, tags: ['team-a', KEY.slice(0, 60), `${KEY.slice(0, 50)}x`],
    };
    expect(auditRecordRedacted(record)).toEqual({
      ...record, path: '/v1/files/[redacted]/content', model: '[redacted]', requestedModel: 'alias-[redacted]',
      detail: { endUser: 'ann [redacted]', customId: 'row-1', images: 2, stored: true }, tags: ['team-a', '[redacted]'],
    });
    // The record the endpoint holds is left as it was (the answer's headers, the access line read it).
    expect(record.model).toBe(KEY);
  });

  it('a record with no credential is the record itself; identities, codes and the kept prompt are never touched', () => {
    const clean: AuditRecord = { ...base, path: '/v1/files/file-abc', model: 'openai/gpt-5.4-mini', detail: { fileId: 'file-abc' }, tags: ['team-a'] };
    expect(auditRecordRedacted(clean)).toBe(clean);
    const prompt: AuditRecord = { ...base, prompt: `my key is ${KEY}`, outcome: 'ok' };
    expect(auditRecordRedacted(prompt)).toBe(prompt);
  });

  it('withoutCredentials is what logText shows before its cut (one implementation)', () => {
    for (const text of [`/v1/files/%74sk_acme_${'K'.repeat(43)}`, '/v1/models/openai-compatible%2Fdefault', `x ${'y'.repeat(300)}`]) {
      expect(logText(text, 10_000)).toBe(withoutCredentials(text));
    }
    expect(withoutCredentials(`/v1/files/%74sk_acme_${'K'.repeat(43)}`)).toBe('/v1/files/[redacted]');
    expect(withoutCredentials('/v1/models/openai-compatible%2Fdefault')).toBe('/v1/models/openai-compatible%2Fdefault');
  });
});
