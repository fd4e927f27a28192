import { disasterRecoveryOf, type DisasterRecoveryConfig } from './config/disaster-recovery.js';

/**
 * Where records go in the platform's audit bucket (constructs/audit-trail.ts), in a module without
 * CDK so the Lambdas that write and read records import it.
 *
 * - `AWSLogs/`: CloudTrail's log and digest files (the trail sets no key prefix, so CloudTrail writes
 *   `AWSLogs/<account>/CloudTrail/…` and `AWSLogs/<account>/CloudTrail-Digest/…`, an organization
 *   trail `AWSLogs/<org-id>/<account>/…`). API call metadata, no request or response bodies.
 * - `tessera-audit/<stream>/<tenant>/<yyyy-mm-dd>/…`: Tessera's own records (`inference`,
 *   `fine-tuning`, `lifecycle`) that stay in the home region.
 * - `tessera-audit/dr-tier/<stream>/<tenant>/<yyyy-mm-dd>/…`: the records (the gateway's and the
 *   lifecycle's) of tenants whose tier has a DR region (`tiers.<tier>.disasterRecovery.region`),
 *   which may leave the home region.
 *
 * With `platformDisasterRecovery`, the bucket replicates `AWSLogs/` and `tessera-audit/dr-tier/`
 * only, so the records of `none` tiers (which hold prompt text when the tenant set
 * `auditPromptText`) stay home. S3 replication filters include by prefix or tag and cannot
 * exclude; a prefix costs nothing per object and needs no `s3:PutObjectTagging` on the writers,
 * where a tag would need both. Which prefix a record gets is decided when it is written, from the
 * tier in the record: a tier change moves only later records, and records written earlier stay
 * where they are (and replicated or not as they were). Whoever reads a tenant's records lists
 * both `tessera-audit/<stream>/<tenant>/` and `tessera-audit/dr-tier/<stream>/<tenant>/`.
 */
export const AUDIT_RECORDS_PREFIX = 'tessera-audit/';
/** Records of tenants whose tier has a DR region: the only Tessera records replicated to the platform's DR region. */
export const AUDIT_DR_TIER_PREFIX = `${AUDIT_RECORDS_PREFIX}dr-tier/`;
/** CloudTrail's files in the audit bucket (no `S3KeyPrefix` on the trail). */
export const CLOUDTRAIL_PREFIX = 'AWSLogs/';

/**
 * What the audit bucket replicates to the platform's DR region, one replication rule per prefix
 * (constructs/audit-trail.ts): CloudTrail's files and the records (the gateway's and the lifecycle's)
 * of tenants whose tier has a DR region. The records of `none` tiers (`tessera-audit/inference/`,
 * `tessera-audit/fine-tuning/`, `tessera-audit/lifecycle/`) stay home.
 */
export const AUDIT_REPLICATED_PREFIXES: readonly string[] = [CLOUDTRAIL_PREFIX, AUDIT_DR_TIER_PREFIX];

/**
 * A stream of audit records: the gateway's (`inference`, `fine-tuning`: lambdas/inference/s3-audit-sink.ts)
 * and the lifecycle's (`lifecycle`: offboarding's protection lifts, fine-tuning retirement, the removal
 * of a dead stack's remnants; writeAudit in lambdas/lifecycle/offboarding-support.ts). Each goes under
 * the dr-tier prefix for a tenant whose tier has a DR region, the same rule for all three.
 */
export const AUDIT_STREAMS = ['inference', 'fine-tuning', 'lifecycle'] as const;
/** One of AUDIT_STREAMS. */
export type AuditStream = (typeof AUDIT_STREAMS)[number];

/**
 * The streams a request id is looked for in, in this order: the router's (`inference`), then the fine-tuning API's
 * (`fine-tuning`: lambdas/inference/lambda-deps.ts, the gateway's sink with `fineTuning`), both gateway requests
 * whose ids lambdas/inference/audit-records.ts REQUEST_ID admits (the training events' records in `fine-tuning` have
 * `ftaudit-` ids, which it does not). `GET /v1/tenant/requests/{request_id}` and the admin API's lookup read these,
 * and the tenant-data role's and the admin API's grants name exactly their prefixes. Not `lifecycle`: its records are
 * the lifecycle's, with no request id of the gateway.
 */
export const REQUEST_AUDIT_STREAMS = ['inference', 'fine-tuning'] as const satisfies readonly AuditStream[];

/**
 * Whether a tier's records may leave the home region: the tier exists in the config and has a DR
 * region. An unknown tier (removed from the config), or a record without a tier (unauthenticated
 * requests, training events), stays home.
 */
export function tierHasDisasterRecovery(tiers: Record<string, { disasterRecovery?: DisasterRecoveryConfig }>, tier: string | undefined): boolean {
  if (tier === undefined || !Object.hasOwn(tiers, tier)) return false;
  return disasterRecoveryOf(tiers[tier]) !== undefined;
}

/** The prefix a record of this stream goes under: `tessera-audit/dr-tier/<stream>/` for a DR tier, else `tessera-audit/<stream>/`. */
export function auditStreamPrefix(stream: AuditStream, drTier: boolean): string {
  return `${drTier ? AUDIT_DR_TIER_PREFIX : AUDIT_RECORDS_PREFIX}${stream}/`;
}

/**
 * The S3 key of one gateway request's record: `tessera-audit/[dr-tier/]<stream>/<tenant>/<yyyy-mm-dd>/<requestId>.json`
 * (auditStreamPrefix's prefix). The one rule S3AuditSink writes by and S3AuditRecordReader reads by.
 * @param day the record's UTC day, `yyyy-mm-dd`
 * @param drTier whether the record goes under the DR-tier prefix (the tenant's tier has a DR region)
 */
export const requestAuditKey = (stream: AuditStream, tenantId: string, day: string, requestId: string, drTier: boolean): string =>
  `${auditStreamPrefix(stream, drTier)}${tenantId}/${day}/${requestId}.json`;
