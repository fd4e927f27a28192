import { createHash } from 'node:crypto';
import { appendFile } from 'node:fs/promises';

/** One structured record per gateway request: who, what, how much, how it ended; no prompt text unless opted in. */
export interface AuditRecord {
  requestId: string;
  at: string;
  tenantId?: string;
  userId?: string;
  model?: string;
  provider?: string;
  promptTokens?: number;
  completionTokens?: number;
  usageEstimated?: boolean;
  costUsd?: number;
  latencyMs: number;
  status: number;
  outcome: string;
  stream?: boolean;
  promptSha256?: string;
  prompt?: string;
  piiRedacted?: string[];
  fallbackFrom?: string;
}

export interface AuditSink {
  write(record: AuditRecord): Promise<void>;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `tessera serve`: JSON lines in a local file. */
export class FileAuditSink implements AuditSink {
  constructor(private readonly file: string) {}
  async write(record: AuditRecord): Promise<void> {
    await appendFile(this.file, `${JSON.stringify(record)}\n`);
  }
}

export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  async write(record: AuditRecord): Promise<void> {
    this.records.push(record);
  }
}
