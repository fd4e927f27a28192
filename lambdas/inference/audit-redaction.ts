import type { AuditRecord } from './audit.js';
import { withoutCredentials } from './log-text.js';

/**
 * The audit record as it is written (Gateway.record: the sink, the request event and the metrics line alike): each
 * field that copies text the caller chose with its credential-shaped tokens `[redacted]`, as a log line has them
 * (log-text.ts withoutCredentials, the one implementation: a tenant key `tsk_…`, a JWT, `hf_…`, an AWS access key id,
 * OpenAI's `sk-…`, `org-…`, `proj_…`; percent-encoded too). A key pasted into a path (`GET /v1/files/sk-proj-…`) or a
 * `model` (`/v1/models/tsk_…`, a 404's model) was kept as sent, in the tenant's trail under Object Lock, for years.
 * - `path`: the request's path (its query string is never recorded);
 * - `model` and `requestedModel`: the name a refused request asked for is the caller's text (a served one is a catalog id);
 * - `detail`'s string values: an id read from the path (`responseId`, `chatCompletionId`, `conversationId`, …), a batch
 *   line's `customId`, the end user (`endUser`, `safetyIdentifier`);
 * - `tags`: a tag's characters (request-tags.ts TAG) allow `tsk_…`; one redacted tag kept once.
 * Everything else is kept as it was: identities and codes are the gateway's own, and `prompt` (the tenant's
 * `auditPromptText`) is the prompt the tenant asked to keep, as sent.
 * @returns `record` itself when nothing is redacted, else a copy
 */
export function auditRecordRedacted(record: AuditRecord): AuditRecord {
  const changed: Partial<AuditRecord> = {};
  for (const field of ['path', 'model', 'requestedModel'] as const) {
    const value = record[field];
    if (value === undefined) continue;
    const kept = withoutCredentials(value);
    if (kept !== value) changed[field] = kept;
  }
  if (record.detail) {
    let detail: AuditRecord['detail'];
    for (const [key, value] of Object.entries(record.detail)) {
      if (typeof value !== 'string') continue;
      const kept = withoutCredentials(value);
      if (kept !== value) (detail ??= { ...record.detail })[key] = kept;
    }
    if (detail) changed.detail = detail;
  }
  if (record.tags) {
    const tags = [...new Set(record.tags.map(withoutCredentials))];
    if (tags.some((tag, i) => tag !== record.tags![i]) || tags.length !== record.tags.length) changed.tags = tags;
  }
  return Object.keys(changed).length ? { ...record, ...changed } : record;
}
