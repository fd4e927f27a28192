import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { REQUEST_AUDIT_STREAMS, requestAuditKey } from '../../lib/audit-prefixes.js';
import { isTenantId } from '../../lib/tenant-record.js';
import type { AuditRecord } from './audit.js';
import { AUDIT_DAY, REQUEST_ID, type AuditRecordReader } from './audit-records.js';

/**
 * A key that is not there: `NoSuchKey` (404), or `AccessDenied` (403) to a reader without `s3:ListBucket`, which S3
 * answers for a missing key in place of the 404 (S3 API Reference, GetObject: "If you don't have the s3:ListBucket
 * permission, Amazon S3 returns an HTTP status code 403 Access Denied error"). The tenant-data role has no listing:
 * on its own prefix a 403 is a missing record; another tenant's prefix is never asked (the key is built from the
 * caller's tenant), and a grant that went missing shows as every lookup 404ing, not as another tenant's record.
 */
const absent = (e: unknown) => e instanceof NoSuchKey || ['NoSuchKey', 'AccessDenied', 'NotFound'].includes((e as Error).name);

/**
 * The gateway's records in the audit bucket (S3AuditSink of streams `inference`, the router's, and `fine-tuning`, the
 * fine-tuning API's: REQUEST_AUDIT_STREAMS), read as `s3For` gives: for the tenant's route the tenant-data role's
 * session of that tenant (its grant `AuditOwnRequests`: GetObject of `tessera-audit/{,dr-tier/}{inference,fine-tuning}/<session tenant>/*`
 * only: constructs/tenant-data-access-role.ts), never a platform-wide read; for the admin API its own role
 * (`ReadGatewayAuditRecords`, the same four prefixes of every tenant). The router's stream is tried first, then the
 * fine-tuning API's; in each, a record is under the DR-tier prefix when the tenant's tier had a DR region when it was
 * written: the current tier's prefix is tried first, then the other (a tier change moves only later records). A
 * missing record costs four GetObjects per day.
 */
export class S3AuditRecordReader implements AuditRecordReader {
  /**
   * @param bucket the audit bucket (GATEWAY_ENV.auditBucket)
   * @param s3For an S3 client acting as the tenant
   * @param drTier whether a tier has a DR region (tierHasDisasterRecovery over the config's tiers)
   */
  constructor(private readonly bucket: string, private readonly s3For: (tenantId: string) => Promise<S3Client>, private readonly drTier: (tier: string | undefined) => boolean = () => false) {}

  /** @throws Error when an id is not one the gateway makes (never sent to S3), or S3 fails otherwise than absent */
  async read(tenantId: string, day: string, requestId: string, tier?: string): Promise<AuditRecord | undefined> {
    if (!isTenantId(tenantId) || !AUDIT_DAY.test(day) || !REQUEST_ID.test(requestId)) throw new Error(`cannot read the record of request ${requestId.slice(0, 60)} of tenant ${tenantId} on ${day.slice(0, 20)}: not ids the gateway makes`);
    const s3 = await this.s3For(tenantId);
    const first = this.drTier(tier);
    for (const stream of REQUEST_AUDIT_STREAMS) {
      for (const dr of [first, !first]) {
        try {
          const got = await s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: requestAuditKey(stream, tenantId, day, requestId, dr) }));
          const record = JSON.parse(await got.Body!.transformToString('utf8')) as AuditRecord;
          if (record.tenantId === tenantId && record.requestId === requestId) return record;
        } catch (e) {
          if (!absent(e)) throw e;
        }
      }
    }
    return undefined;
  }
}
