import { hash } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { PendingWork } from '../shared/pending-work.js';
import { roundUsdToNano, toNanos } from './stores/model-usage.js';

/** One structured record per gateway request: who, what, how much, how it ended; no prompt text unless opted in. */
export interface AuditRecord {
  requestId: string;
  at: string;
  /** The HTTP method and path of the request (`POST /v1/chat/completions`); absent for records not made by a request (training events). */
  method?: string;
  path?: string;
  tenantId?: string;
  /** The tenant's tier (from its registry record); the gateway metrics' `Tier` dimension. */
  tier?: string;
  /** The user (JWT `sub`), or for a key caller its key id. */
  userId?: string;
  /** Set when the caller used a tenant API key: `key_…`. */
  keyId?: string;
  /** The caller's role inside the tenant. */
  role?: string;
  /**
   * The catalog id of the model that answered (after fallbacks), or, for a refused request, of the
   * model asked for.
   */
  model?: string;
  /**
   * The model name the caller sent, when it was not a catalog id but an alias standing for one
   * (`gateway.modelAliases`, or `default` for the tenant's default model): `model` says what it
   * resolved to and what served. @default - absent: the caller sent the catalog id
   */
  requestedModel?: string;
  provider?: string;
  promptTokens?: number;
  completionTokens?: number;
  /**
   * Of `promptTokens`, those the provider read from its prompt cache (OpenAI `prompt_tokens_details.cached_tokens`,
   * Bedrock `cacheReadInputTokens`) and those it wrote to it (Bedrock `cacheWriteInputTokens`), priced in `costUsd` at the
   * catalog's `cachedInputPricePer1k` and `cacheWritePricePer1k`. @default - absent when none (or the usage was estimated)
   */
  cachedTokens?: number;
  cacheWriteTokens?: number;
  usageEstimated?: boolean;
  /**
   * The request's cost at the answering model's catalog prices, in dollars rounded to the
   * nano-dollar (9 decimals: auditCostUsd), the figure the usage ledger and the budgets add for it
   * (ledgerDelta's `costNanos`), never a float's tail (0.00030000000000000003). A 20-token
   * text-embedding-3-small request is 4e-7 (JSON's notation for 0.0000004), not 0.
   */
  costUsd?: number;
  latencyMs: number;
  /** Milliseconds the upstream took to answer (a whole answer, or a stream's first chunk), retries and fallbacks included; absent when no upstream was called or none answered. */
  upstreamLatencyMs?: number;
  status: number;
  outcome: string;
  stream?: boolean;
  promptSha256?: string;
  prompt?: string;
  piiRedacted?: string[];
  /**
   * Texts the tenant's Bedrock guardrail masked (a sensitive information filter set to ANONYMIZE)
   * instead of blocking: `input`, the caller's texts (chat messages, embedding inputs) sent on
   * masked; `output`, answer texts shown masked (a whole answer's choices; a stream's choices, once
   * per window). Counts only: never the text, before or after.
   */
  guardrailMasked?: { input?: number; output?: number };
  fallbackFrom?: string;
  /**
   * What the tenant's response cache did (response-cache/request-cache.ts): a `HIT` was answered from it (no upstream
   * call, `costUsd` 0, no tokens). @default - absent: the tenant has no cache, or the route is not cached
   */
  responseCache?: CacheAudit;
  /**
   * The caller's W3C `traceparent` header (trace-context.ts parseTraceparent), when valid: the trace the request belongs
   * to, for joining the gateway's record to the caller's spans. An invalid one is not kept (`detail.traceparentIgnored`
   * says why). @default - absent: the caller sent none (or an invalid one)
   */
  traceparent?: string;
  /**
   * The caller's tags, from its `x-tessera-tags` header (request-tags.ts parseRequestTags): labels to group spend and
   * records by (a feature, a job, a customer), in the order sent, each once. @default - absent: the caller sent none
   */
  tags?: string[];
  /** What was done, for records other than a chat completion (e.g. `fine_tuning.job.created`). */
  action?: string;
  /** Identifiers the action touched (job id, training job, S3 URIs, endpoint); never data. */
  detail?: Record<string, string | number | boolean>;
}

/** The audit record's `responseCache`: what the cache did, a HIT's age, whether a MISS's answer was kept (and why not). */
export interface CacheAudit {
  /** `HIT` (answered from the cache), `MISS`, `REFRESH` (`x-tessera-cache: no-cache`), `BYPASS` (not cacheable, or `no-store`). */
  status: 'HIT' | 'MISS' | 'REFRESH' | 'BYPASS';
  /** A HIT's age in seconds. */
  ageSeconds?: number;
  /**
   * The request missed while an identical one was calling the model (`tessera serve`: response-cache/single-flight.ts):
   * `true`, a HIT answered with that request's answer; `false`, a MISS that called the model itself (that request had no
   * answer to keep). @default - absent: not collapsed
   */
  collapsed?: boolean;
  /** A MISS's or REFRESH's answer was kept (`true`), or not (`notStored` says why). */
  stored?: boolean;
  /**
   * `too_large`: over MAX_CACHED_BYTES gzipped; `fallback`: answered by a fallback model; `store_failed`: the store
   * refused it (logged); `expiring`: the answer names upstream state already expired (a chat completion's audio
   * `expires_at`: response-cache/answer-expiry.ts).
   */
  notStored?: 'too_large' | 'fallback' | 'store_failed' | 'expiring';
}

/**
 * A cost in dollars as the audit record keeps it: rounded to the nano-dollar (9 decimals), as the
 * usage ledger and the budgets count it (stores/model-usage.ts toNanos). `-0` is 0.
 * @example auditCostUsd(0.00030000000000000003) → 0.0003
 * @example auditCostUsd(20 * 0.00002 / 1000) → 4e-7 (micro-dollars made it 0)
 */
export const auditCostUsd = (usd: number): number => roundUsdToNano(usd);

/**
 * A cost in dollars as a plain decimal string, to the nano-dollar, with no exponent and no trailing zeros: the
 * `x-tessera-cost-usd` header's value. `Number()` of it is the audit record's `costUsd` exactly (both are the nearest
 * double to the same nano-dollar count).
 * @example usdDecimal(0.0003) → '0.0003'
 * @example usdDecimal(4e-7) → '0.0000004' (JSON writes the audit record's figure as 4e-7)
 * @example usdDecimal(0) → '0'
 */
export function usdDecimal(usd: number): string {
  const nanos = toNanos(usd);
  const abs = Math.abs(nanos);
  const fraction = String(abs % 1e9).padStart(9, '0').replace(/0+$/, '');
  return `${nanos < 0 ? '-' : ''}${Math.floor(abs / 1e9)}${fraction ? `.${fraction}` : ''}`;
}

/**
 * Tessera's headers of a whole (non-streamed) metered answer, from its audit record once settled (`costUsd` and `model`
 * set by the endpoint before it answers):
 * - `x-tessera-cost-usd`: the request's settled cost (usdDecimal of the audit record's `costUsd`; LiteLLM's
 *   `x-litellm-response-cost`);
 * - `x-tessera-model`: the catalog id that answered (after fallbacks; for an audio answer, whose body names no model);
 * - `x-tessera-fallback-from`: the catalog id asked for, when a fallback answered instead (the audit record's `fallbackFrom`).
 * A streamed answer's headers go out before its cost is known: its cost is on its audit record (and in its usage chunk's
 * token counts), never in a header.
 * @returns no headers when the record has no cost (an unmetered route, a background response queued)
 */
export function answerCostHeaders(audit: Pick<AuditRecord, 'costUsd' | 'model' | 'fallbackFrom'>): Record<string, string> {
  if (audit.costUsd === undefined) return {};
  return {
    'x-tessera-cost-usd': usdDecimal(audit.costUsd),
    ...(audit.model ? { 'x-tessera-model': audit.model } : {}),
    ...(audit.fallbackFrom ? { 'x-tessera-fallback-from': audit.fallbackFrom } : {}),
  };
}

export interface AuditSink {
  write(record: AuditRecord): Promise<void>;
  /**
   * Resolves once every record written so far is stored (a sink that batches writes its batch).
   * `tessera serve` awaits it before it exits, so a stop loses no record. @default - every write is stored when its promise resolves
   */
  flush?(): Promise<void>;
}

/**
 * Counts texts the tenant's Bedrock guardrail masked in the audit record's `guardrailMasked`
 * (`input`: the caller's texts; `output`: answer texts, a streamed choice once per window). Only
 * counts: neither the text nor what was masked is kept.
 */
export function noteGuardrailMasked(audit: AuditRecord, side: 'input' | 'output', count: number): void {
  if (count <= 0) return;
  const masked = (audit.guardrailMasked ??= {});
  masked[side] = (masked[side] ?? 0) + count;
}

/** Last instant `isoTime` formats in full: 9999-12-31T23:59:59.999Z (later years take six digits and a sign). */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
let isoSecond = Number.NaN;
/** `YYYY-MM-DDTHH:mm:ss.` of `isoSecond`. */
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()` (an audit record's `at`), the same string, with the date and time
 * up to the second formatted once a second instead of once a call (~0.5 µs a request): a burst of
 * requests shares one second. Outside years 0-9999 it is toISOString itself.
 * @param ms epoch milliseconds @default Date.now()
 */
export function isoTime(ms = Date.now()): string {
  if (!(Number.isInteger(ms) && ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    isoSecond = second;
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Hex SHA-256 of `text` (UTF-8), one-shot: no Hash object per call. */
export const sha256 = (text: string) => hash('sha256', text, 'hex');

/** `tessera serve`: JSON lines in a local file, appended in batches (one write per `flushMs`, not per request). */
export class FileAuditSink implements AuditSink {
  private lines: string[] = [];
  /** The batch being gathered: resolves once it is appended. */
  private flushing: Promise<void> | undefined;
  /** Batches handed to appendFile and not yet appended. */
  private readonly appending = new PendingWork();

  constructor(private readonly file: string, private readonly flushMs = 50) {}

  write(record: AuditRecord): Promise<void> {
    this.lines.push(JSON.stringify(record));
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, this.flushMs)).then(() => this.writeBatch());
    return this.flushing;
  }

  /** Every record written so far appended to the file (the pending batch at most `flushMs` later, as it would have been anyway). */
  async flush(): Promise<void> {
    while (this.flushing || this.appending.busy) await Promise.all([this.flushing, this.appending.settled()]);
  }

  private writeBatch(): Promise<void> {
    const batch = this.lines;
    this.lines = [];
    this.flushing = undefined;
    if (!batch.length) return Promise.resolve();
    return this.appending.track(appendFile(this.file, `${batch.join('\n')}\n`));
  }
}

export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  async write(record: AuditRecord): Promise<void> {
    this.records.push(record);
  }
}
