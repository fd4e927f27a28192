/**
 * The minute past the hour at which a DR tenant's AWS Backup rules and restore test start, one per tenant, so that the
 * DR tenants of one account and Region do not all start their backups, and so their cross-Region copy jobs, at the same
 * minute. AWS Backup queues copy jobs past its concurrency quotas (docs/resilience.md, Quotas): with every tenant's
 * jobs at :00, the later ones of a busy hour waited behind the others and their RPO slipped.
 *
 * The tier blueprint is one template per tier, so the minute is a stack parameter (`BackupScheduleMinute`, lib/tenant-stack.ts)
 * that the lifecycle computes from the tenant id and passes at every deploy (lambdas/lifecycle/blueprints.ts `parameters`).
 */
import { createHash } from 'node:crypto';

/** Tenant blueprint parameter (DR tiers only): the minute past the hour (0-59) every rule of the database's Backup plan and the restore test start at. */
export const BACKUP_SCHEDULE_MINUTE_PARAMETER = 'BackupScheduleMinute';

/**
 * The values `BackupScheduleMinute` takes, as CloudFormation compares them (strings): "0" to "59", no leading zero. They are the
 * keys of the database's RDS windows mapping (constructs/tenant-database.ts, `Fn::FindInMap` on the parameter), and the
 * parameter's `AllowedValues`, so CloudFormation refuses "07" at the parameter instead of failing the stack at the lookup.
 */
export const BACKUP_SCHEDULE_MINUTES: readonly string[] = Array.from({ length: 60 }, (_, m) => String(m));

/**
 * The tenant's backup minute: the first four bytes of SHA-256 over the tenant id (UTF-8), big-endian, modulo 60.
 * Deterministic (the same tenant gets the same minute on every deploy, so an update changes no schedule) and spread
 * evenly over 0-59 across tenant ids.
 * @param tenantId a tenant id (TENANT_ID_PATTERN)
 * @returns a whole minute from 0 to 59
 */
export function backupScheduleMinute(tenantId: string): number {
  return createHash('sha256').update(tenantId, 'utf8').digest().readUInt32BE(0) % 60;
}
