import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { requestAuditKey, type AuditStream } from '../../lib/audit-prefixes.js';
import { platformClient } from '../shared/aws-clients.js';
import type { AuditRecord, AuditSink } from './audit.js';

/**
 * Audit records into the immutable audit bucket (Object Lock), one object per request, partitioned
 * by tenant and day: `tessera-audit/<stream>/<tenant>/<yyyy-mm-dd>/<requestId>.json`, or, for a
 * tenant whose tier has a DR region, `tessera-audit/dr-tier/<stream>/…` (lib/audit-prefixes.ts):
 * only that prefix and CloudTrail's are replicated to the platform's DR region, so a `none` tier's
 * records (prompt text with `auditPromptText`) stay in the home region. The record's `tier` (the
 * tenant's registry record at the request) decides it; a record without one stays home. A tier
 * change moves only the records written after it.
 */
export class S3AuditSink implements AuditSink {
  /**
   * @param stream `inference` (the router) or `fine-tuning` (the fine-tuning API and its events)
   * @param drTier whether a tier has a DR region (`tierHasDisasterRecovery` over the config's tiers). @default - none has: every record stays home
   */
  constructor(private readonly bucket: string, private readonly stream: AuditStream = 'inference', private readonly drTier: (tier: string | undefined) => boolean = () => false) {}

  async write(record: AuditRecord): Promise<void> {
    const key = requestAuditKey(this.stream, record.tenantId ?? 'unauthenticated', record.at.slice(0, 10), record.requestId, this.drTier(record.tier));
    // The gateway's `request` HTTP timeouts (lib/aws-http-timeouts.ts): a small PUT on the router's path, sent again (same key and body) if it stalls.
    await platformClient(S3Client, '', { http: 'request' }).send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(record), ContentType: 'application/json' }));
  }
}
