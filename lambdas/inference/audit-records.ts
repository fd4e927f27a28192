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
    let lines: ReturnType<typeof createInterface>;
    try {
      const input = createReadStream(this.file, 'utf8');
      await new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', reject));
      lines = createInterface({ input, crlfDelay: Infinity });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    for await (const line of lines) {
      if (!line.includes(needle)) continue;
      const record = JSON.parse(line) as AuditRecord;
      if (record.requestId === requestId && record.tenantId === tenantId && record.at.slice(0, 10) === day) {
        lines.close();
        return record;
      }
    }
    return undefined;
  }
}

/** Records kept in memory (MemoryAuditSink's), read back as the file reader does. */
export class MemoryAuditRecordReader implements AuditRecordReader {
  constructor(private readonly records: readonly AuditRecord[]) {}
  async read(tenantId: string, day: string, requestId: string): Promise<AuditRecord | undefined> {
    return this.records.find((r) => r.requestId === requestId && r.tenantId === tenantId && r.at.slice(0, 10) === day);
  }
}
