import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { platformClient } from '../shared/aws-clients.js';
import type { AuditRecord, AuditSink } from './audit.js';

/** Audit records into the immutable audit bucket (Object Lock), one object per request, partitioned by tenant and day. */
export class S3AuditSink implements AuditSink {
  constructor(private readonly bucket: string, private readonly prefix = 'tessera-audit/inference/') {}

  async write(record: AuditRecord): Promise<void> {
    const key = `${this.prefix}${record.tenantId ?? 'unauthenticated'}/${record.at.slice(0, 10)}/${record.requestId}.json`;
    // The gateway's `request` HTTP timeouts (lib/aws-http-timeouts.ts): a small PUT on the router's path, sent again (same key and body) if it stalls.
    await platformClient(S3Client, '', { http: 'request' }).send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(record), ContentType: 'application/json' }));
  }
}
