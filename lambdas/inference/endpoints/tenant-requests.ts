import { can } from '../../../lib/identity/roles.js';
import type { AuditRecord } from '../audit.js';
import { AUDIT_DAY, REQUEST_ID, type AuditRecordReader } from '../audit-records.js';
import type { Caller } from '../auth.js';
import { invalid, notFound } from '../openai-errors.js';
import { refuseUnknownQuery } from '../query-parameters.js';
import { segment } from './tenant-admin-io.js';
import type { TenantAnswer } from './tenant-keys.js';

/** What one request's audit record answers (tenantRequest, and the admin API's `GET /admin/tenants/{id}/requests/{requestId}`). */
export interface RequestRecordView {
  object: 'tenant.request';
  /** The request id (`x-request-id`; a chat completion's `id`). */
  id: string;
  /** When the gateway received it: epoch seconds, and the record's ISO 8601 `at` (milliseconds, UTC). */
  created_at: number;
  at: string;
  method?: string;
  path?: string;
  tenant?: string;
  /** The user (JWT `sub`), or for a key caller its key id; `key` is set for a key caller. */
  user?: string;
  key?: string;
  role?: string;
  /** What was done besides a model call (`tenant.key.created`, `response.retrieve`, `tenant.request.read`). */
  action?: string;
  /** The catalog id that answered (after fallbacks), the name the caller sent when it was an alias, the provider. */
  model?: string;
  requested_model?: string;
  provider?: string;
  fallback_from?: string;
  /** The HTTP status answered and its outcome (`ok`, or the error's code). */
  status: number;
  outcome: string;
  stream?: boolean;
  /** Tokens as billed (`estimated`: the upstream reported none, the gateway counted them). */
  usage?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number; cache_write_tokens?: number; estimated?: boolean };
  /** US dollars at the catalog's prices, rounded to the nano-dollar (the ledger's figure). */
  cost_usd?: number;
  latency_ms: number;
  upstream_latency_ms?: number;
  /** The kinds of PII redacted, and how many texts the guardrail masked: never the text. */
  pii_redacted?: string[];
  guardrail_masked?: { input?: number; output?: number };
  /** Identifiers the request touched (job, batch, key, permission refused): never data. */
  detail?: Record<string, string | number | boolean>;
}

/**
 * One audit record as a tenant (or an operator) reads it back: its fields in snake_case, named one by one, so a field
 * added to AuditRecord is not answered until it is named here. Never answered: `prompt` (the prompt text kept with
 * the tenant's `auditPromptText`, for the platform's audit under Object Lock: it is not a store of prompts to serve,
 * a role with `usage.read` (a viewer) would read every member's prompts, and a caller who sent `store: false` was not
 * keeping them) and `promptSha256` (a hash of the same text: a short prompt is found again by hashing guesses).
 */
export function requestRecordView(r: AuditRecord): RequestRecordView {
  const usage = r.promptTokens === undefined && r.completionTokens === undefined ? undefined : {
    prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, cached_tokens: r.cachedTokens, cache_write_tokens: r.cacheWriteTokens, estimated: r.usageEstimated,
  };
  return {
    object: 'tenant.request', id: r.requestId, created_at: Math.floor(Date.parse(r.at) / 1000), at: r.at,
    method: r.method, path: r.path, tenant: r.tenantId, user: r.userId, key: r.keyId, role: r.role, action: r.action,
    model: r.model, requested_model: r.requestedModel, provider: r.provider, fallback_from: r.fallbackFrom,
    status: r.status, outcome: r.outcome, stream: r.stream, usage, cost_usd: r.costUsd, latency_ms: r.latencyMs, upstream_latency_ms: r.upstreamLatencyMs,
    pii_redacted: r.piiRedacted, guardrail_masked: r.guardrailMasked, detail: r.detail,
  };
}

/** A valid calendar day `YYYY-MM-DD` (UTC). */
export const isAuditDay = (day: string) => AUDIT_DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;

/**
 * The days a record is looked for on: `date` when given, else today then yesterday (UTC). A request id is random
 * (REQUEST_ID): it does not say its day, and a request made just before midnight is yesterday's record by the time
 * its id is looked up.
 * @param date `YYYY-MM-DD` @default - today and yesterday of `now`
 */
export function lookupDays(date: string | undefined, now: number): string[] {
  if (date !== undefined) return [date];
  const today = new Date(now).toISOString().slice(0, 10);
  return [today, new Date(now - 86_400_000).toISOString().slice(0, 10)];
}

/**
 * The record of one request id among `days`, or undefined.
 * @throws what the reader throws (an S3 failure other than a missing key)
 */
export async function findRequestRecord(reader: AuditRecordReader, tenantId: string, days: readonly string[], requestId: string, tier?: string): Promise<AuditRecord | undefined> {
  if (!REQUEST_ID.test(requestId)) return undefined;
  for (const day of days) {
    const record = await reader.read(tenantId, day, requestId, tier);
    if (record) return record;
  }
  return undefined;
}

/**
 * `GET /v1/tenant/requests/{request_id}[?date=YYYY-MM-DD]` (Tessera's own route; the gateway has checked
 * `usage.read_own`): the audit record of one of the caller's tenant's requests (requestRecordView: no prompt text),
 * read from the caller's tenant's records only (on AWS as the tenant: S3AuditRecordReader).
 * - with `usage.read` (admin, developer, viewer): any request of the tenant;
 * - with only `usage.read_own` (member): only its own (a key caller: its key's; a user: its own, not a key's).
 * The day: `date` when given, else today then yesterday (UTC): lookupDays.
 * @param path `/v1/tenant/requests/{request_id}`
 * @returns 200 the view, with the action `tenant.request.read` (a read, audited as the other tenant reads are)
 * @throws GatewayError 400 `unknown_parameter` for a query parameter other than `date`, `invalid_value` for a `date`
 *   that is not a calendar day YYYY-MM-DD; 404 `request_not_found` (param `request_id`) for an id that is not a gateway
 *   request id, not found on those days, another tenant's, or (for a role without `usage.read`) another caller's:
 *   one answer for all, so that an id says nothing of what others did
 */
export async function tenantRequest(reader: AuditRecordReader, caller: Caller, path: string, query: Record<string, string | undefined>, now = Date.now()): Promise<TenantAnswer> {
  refuseUnknownQuery(query, ['date'], 'GET /v1/tenant/requests/{request_id}');
  const date = query.date;
  if (date !== undefined && !isAuditDay(date)) throw invalid(`date "${date.slice(0, 40)}" must be a calendar day YYYY-MM-DD (UTC), the day the request was made`, 'date', 'invalid_value');
  const requestId = segment(path.slice('/v1/tenant/requests/'.length));
  const days = lookupDays(date, now);
  const record = await findRequestRecord(reader, caller.tenantId, days, requestId, caller.tenant.tier);
  const own = (r: AuditRecord) => (caller.keyId ? r.keyId === caller.keyId : r.keyId === undefined && r.userId === caller.userId);
  if (!record || !(can(caller.role, 'usage.read') || own(record))) {
    const shown = requestId.slice(0, 60);
    const where = REQUEST_ID.test(requestId) ? `no request ${shown} in tenant ${caller.tenantId}'s records of ${days.join(' or ')} (UTC)` : `"${shown}" is not a request id of this gateway (req_, chatcmpl- or cmpl- and 24 hex digits, as x-request-id answers)`;
    const whose = can(caller.role, 'usage.read') ? '' : `; role "${caller.role}" reads only its own requests`;
    const day = date === undefined && REQUEST_ID.test(requestId) ? '; pass date=YYYY-MM-DD for an older request' : '';
    throw notFound(`${where}${whose}${day}`, 'request_id', 'request_not_found');
  }
  return { status: 200, body: JSON.stringify(requestRecordView(record)), action: 'tenant.request.read', detail: { requestId: record.requestId } };
}
