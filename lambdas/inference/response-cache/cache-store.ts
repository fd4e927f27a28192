import { gunzipSync, gzipSync } from 'node:zlib';
import type { AuditRecord } from '../audit.js';
import { expired, MAX_STORED_BYTES } from '../stores/response-store.js';

/**
 * What the request that made a cached answer wrote in its audit record about what was asked and how it was guarded:
 * the prompt's SHA-256 (and its text when the tenant audits prompt text), the PII types redacted, the texts a Bedrock
 * guardrail masked. A HIT's record gets them (the same body under the same policy: request-cache.ts), so it says what
 * its caller asked, as a MISS's does, though the guardrails are not run again.
 */
export type CachedRequestAudit = Pick<AuditRecord, 'promptSha256' | 'prompt' | 'piiRedacted' | 'guardrailMasked'>;

/** The fields of CachedRequestAudit, the only ones a HIT's record takes from a kept answer. */
export const CACHED_REQUEST_AUDIT_FIELDS = ['promptSha256', 'prompt', 'piiRedacted', 'guardrailMasked'] as const satisfies ReadonlyArray<keyof CachedRequestAudit>;

/** One cached answer: the JSON body as it was answered, when it was stored and when it expires (epoch seconds). */
export interface CachedAnswer {
  /**
   * The answer's JSON body (a ChatCompletion, a CreateEmbeddingResponse or a Response), as the request that made it was
   * answered; for a streamed request, the stream's events (stream-replay.ts CachedStream).
   */
  body: string;
  /** When the answer was stored, epoch seconds: a HIT's `Age` is now less this. */
  storedAt: number;
  /** When the answer stops being served, epoch seconds (the responses table's TTL attribute on AWS). */
  expiresAt: number;
  /** What the request that made it audited of its input (CachedRequestAudit). @default - none (an answer kept before it was kept) */
  audit?: CachedRequestAudit;
}

/**
 * Where the gateway keeps cached answers (response-cache/request-cache.ts), by tenant and cache key (a SHA-256 hex of
 * the request: cache-key.ts). Another tenant's key is never found: every call names the tenant, and on AWS runs as it.
 */
export interface ResponseCache {
  /** The answer kept under `key` for `tenantId`, or undefined (none, or expired). */
  get(tenantId: string, key: string): Promise<CachedAnswer | undefined>;
  /** Keeps `answer` under `key` for `tenantId` until its `expiresAt`. @throws AnswerTooLargeToCache when its gzipped body and audit are over MAX_CACHED_BYTES */
  put(tenantId: string, key: string, answer: CachedAnswer): Promise<void>;
}

/**
 * The most a cached answer's body may take gzipped: the stored responses' limit (DynamoDB's item is at most 400 KB).
 * A larger answer (many embedding vectors: float JSON compresses about 2:1) is answered and not cached.
 */
export const MAX_CACHED_BYTES = MAX_STORED_BYTES;

/** The gzipped answer is over MAX_CACHED_BYTES: answered, not cached. */
export class AnswerTooLargeToCache extends Error {
  constructor(readonly bytes: number) {
    super(`the answer takes ${Math.ceil(bytes / 1024)} KiB gzipped, over the ${MAX_CACHED_BYTES / 1024} KiB a cached answer may take (DynamoDB items are at most 400 KB)`);
  }
}

/** A cache key as the stores take it: the hex SHA-256 of cache-key.ts (anything else is never stored nor found). */
export const isCacheKey = (key: string) => /^[0-9a-f]{64}$/.test(key);

/** The answer's body gzipped. @throws AnswerTooLargeToCache when over MAX_CACHED_BYTES */
export function encodeCachedBody(body: string): Buffer {
  return encodeCachedAnswer({ body }).body;
}

/** The body encodeCachedBody made. */
export const decodeCachedBody = (bytes: Uint8Array): string => gunzipSync(bytes).toString('utf8');

/**
 * The answer's body gzipped, and its request's audit fields gzipped JSON (none when it has none: an audit record of a
 * prompt with neither, or an answer kept before they were).
 * @throws AnswerTooLargeToCache when the two together are over MAX_CACHED_BYTES (a prompt text kept for the audit counts)
 */
export function encodeCachedAnswer(answer: Pick<CachedAnswer, 'body' | 'audit'>): { body: Buffer; audit?: Buffer } {
  const body = gzipSync(answer.body);
  const fields = requestAuditOf(answer.audit);
  const audit = fields ? gzipSync(JSON.stringify(fields)) : undefined;
  const bytes = body.length + (audit?.length ?? 0);
  if (bytes > MAX_CACHED_BYTES) throw new AnswerTooLargeToCache(bytes);
  return { body, ...(audit ? { audit } : {}) };
}

/** The audit fields encodeCachedAnswer made, only those of CACHED_REQUEST_AUDIT_FIELDS; undefined for none. */
export const decodeCachedAudit = (bytes: Uint8Array | undefined): CachedRequestAudit | undefined =>
  bytes === undefined ? undefined : requestAuditOf(JSON.parse(gunzipSync(bytes).toString('utf8')) as CachedRequestAudit);

/** The CACHED_REQUEST_AUDIT_FIELDS `audit` has set, or undefined for none. */
export function requestAuditOf(audit: Partial<CachedRequestAudit> | undefined): CachedRequestAudit | undefined {
  if (!audit) return undefined;
  const picked = Object.fromEntries(CACHED_REQUEST_AUDIT_FIELDS.filter((f) => audit[f] !== undefined).map((f) => [f, audit[f]]));
  return Object.keys(picked).length ? picked as CachedRequestAudit : undefined;
}

/**
 * The cache of `tessera serve`: in this process's memory (a restart empties it; each worker of `serve --workers N` has
 * its own), with the DynamoDB cache's semantics (keyed by tenant, the same size limit, expired answers never served).
 * At most `maxEntries` answers: the oldest stored goes first when a new one comes.
 */
export class MemoryResponseCache implements ResponseCache {
  private readonly items = new Map<string, { body: Buffer; audit?: Buffer; storedAt: number; expiresAt: number }>();

  /** @param maxEntries answers kept at most @default 1000 */
  constructor(private readonly maxEntries = 1000) {}

  async get(tenantId: string, key: string): Promise<CachedAnswer | undefined> {
    const id = JSON.stringify([tenantId, key]);
    const item = this.items.get(id);
    if (!item) return undefined;
    if (expired(item.expiresAt)) {
      this.items.delete(id);
      return undefined;
    }
    const audit = decodeCachedAudit(item.audit);
    return { body: decodeCachedBody(item.body), storedAt: item.storedAt, expiresAt: item.expiresAt, ...(audit ? { audit } : {}) };
  }

  async put(tenantId: string, key: string, answer: CachedAnswer): Promise<void> {
    if (!isCacheKey(key)) return;
    const encoded = encodeCachedAnswer(answer);
    const id = JSON.stringify([tenantId, key]);
    this.items.delete(id);
    this.items.set(id, { ...encoded, storedAt: answer.storedAt, expiresAt: answer.expiresAt });
    for (const oldest of this.items.keys()) {
      if (this.items.size <= this.maxEntries) break;
      this.items.delete(oldest);
    }
  }
}
