import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditRecord, AuditSink } from './audit.js';

/**
 * A request id the gateway makes (gateway.ts): `chatcmpl-`, `cmpl-` or `req_` and 24 lowercase hex digits of a
 * random UUID. It encodes no time: the record's day comes from the caller (`date`) or is looked for today, then
 * yesterday (UTC). Nothing else can name a record, so no other text reaches an S3 key or a file scan.
 */
export const REQUEST_ID = /^(?:chatcmpl-|cmpl-|req_)[0-9a-f]{24}$/;

/** A UTC day `YYYY-MM-DD`, as the audit records are partitioned (s3-audit-sink.ts: `at.slice(0, 10)`). */
export const AUDIT_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Where one request's audit record is read back from: `GET /v1/tenant/requests/{request_id}` (endpoints/tenant-requests.ts)
 * and the admin API's `GET /admin/tenants/{id}/requests/{requestId}` (`tessera requests show`).
 */
export interface AuditRecordReader {
  /**
   * The record of `requestId` written for `tenantId` on `day`.
   * @param tenantId the tenant the record was written for (its `tenantId`)
   * @param day UTC `YYYY-MM-DD` of the record's `at`
   * @param requestId a REQUEST_ID
   * @param tier the tenant's tier now (which prefix to try first on S3) @default - none
   * @returns undefined when there is none (another tenant's record is none)
   */
  read(tenantId: string, day: string, requestId: string, tier?: string): Promise<AuditRecord | undefined>;
}

/**
 * `tessera serve`'s records: the JSON lines of `<stateDir>/audit.jsonl` (FileAuditSink), scanned for the request id.
 * The sink's pending batch (`flushMs`) is flushed first; a record another `--workers` thread has not appended yet is
 * looked for once more `retryMs` later (a lookup made as soon as its request was answered).
 */
export class FileAuditRecordReader implements AuditRecordReader {
  /**
   * @param file the JSON lines file the sink appends to
   * @param sink this process's sink of that file, flushed before a read @default - none
   * @param retryMs how long to wait before the one second look @default 150 (three FileAuditSink batches)
   */
  constructor(private readonly file: string, private readonly sink?: AuditSink, private readonly retryMs = 150) {}

  async read(tenantId: string, day: string, requestId: string): Promise<AuditRecord | undefined> {
    await this.sink?.flush?.();
    const found = await this.scan(tenantId, day, requestId);
    if (found || this.retryMs <= 0) return found;
    await new Promise((resolve) => setTimeout(resolve, this.retryMs));
    return this.scan(tenantId, day, requestId);
  }

  private async scan(tenantId: string, day: string, requestId: string): Promise<AuditRecord | undefined> {
    const needle = `"requestId":${JSON.stringify(requestId)}`;
    const input = createReadStream(this.file, 'utf8');
    try {
      try {
        await new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', reject));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (!line.includes(needle)) continue;
        const record = JSON.parse(line) as AuditRecord;
        if (record.requestId === requestId && record.tenantId === tenantId && record.at.slice(0, 10) === day) return record;
      }
      return undefined;
    } finally {
      // The file's descriptor closed however the scan ends (a record found before the end, a line that is not JSON):
      // readline's close does not close its input, and a paused stream holds its descriptor for the process's life.
      input.destroy();
      if (!input.closed) await new Promise<void>((closed) => input.once('close', () => closed()));
    }
  }
}

/**
 * What one request's audit record answers (tenantRequest, and the admin API's `GET /admin/tenants/{id}/requests/{requestId}`),
 * and the `detail` of its `Gateway Request Completed` event (request-events.ts).
 */
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
  /** The caller's W3C `traceparent` (`00-<trace-id>-<parent-id>-<flags>`), when it sent a valid one. */
  traceparent?: string;
  /** The caller's tags (its `x-tessera-tags` header), in the order sent, each once. */
  tags?: string[];
  /** What the tenant's response cache did: `HIT` (answered from it, cost 0), `MISS`, `REFRESH`, `BYPASS`; a HIT's age, whether an answer was kept. */
  response_cache?: { status: string; age_seconds?: number; collapsed?: boolean; stored?: boolean; not_stored?: string };
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
    pii_redacted: r.piiRedacted, guardrail_masked: r.guardrailMasked, detail: r.detail, traceparent: r.traceparent, tags: r.tags,
    response_cache: r.responseCache && { status: r.responseCache.status, age_seconds: r.responseCache.ageSeconds, collapsed: r.responseCache.collapsed, stored: r.responseCache.stored, not_stored: r.responseCache.notStored },
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

/** Records kept in memory (MemoryAuditSink's), read back as the file reader does. */
export class MemoryAuditRecordReader implements AuditRecordReader {
  constructor(private readonly records: readonly AuditRecord[]) {}
  async read(tenantId: string, day: string, requestId: string): Promise<AuditRecord | undefined> {
    return this.records.find((r) => r.requestId === requestId && r.tenantId === tenantId && r.at.slice(0, 10) === day);
  }
}
