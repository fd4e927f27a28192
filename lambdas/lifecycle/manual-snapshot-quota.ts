/**
 * Room in RDS's manual DB instance snapshot quota for an offboarding's snapshots, checked before the first one is made.
 *
 * RDS's *Manual DB instance snapshots* quota (Service Quotas `rds` L-272F1212, 100 per Region by default, adjustable:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html) counts the snapshots RDS makes on request, not
 * AWS Backup's. An offboarding makes three in the tenant's account and Region, at most two at a time: its final snapshot
 * and the archive-key copy (snapshot-database.ts, which deletes the final snapshot once the copy is `available`), then
 * CloudFormation's final snapshot of the instance when the stack is deleted (`DeletionPolicy: Snapshot`,
 * delete-tenant-stacks.ts), and keeps two (the copy, the stack's). The tenants of a VPC tier share one workload
 * account: past about 50 offboardings in one Region, with nothing deleted, RDS refuses the next with
 * `SnapshotQuotaExceeded`, mid-offboarding. RDS reports the quota's use and maximum (the applied value, raised or not) in
 * DescribeAccountAttributes, `AccountQuotaName` `ManualSnapshots`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeAccountAttributes.html).
 */
import { DescribeAccountAttributesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { QuotaExceededError } from '../shared/errors.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-lifecycle');

/**
 * Manual DB snapshots one offboarding holds at once, at most: the final snapshot and its archive-key copy until the copy is
 * `available` (the final snapshot is then deleted), then the copy and the stack's final snapshot (kept).
 */
export const MANUAL_SNAPSHOTS_PER_OFFBOARDING = 2;

/** RDS's quota name in DescribeAccountAttributes for manual DB instance snapshots (Service Quotas L-272F1212). */
export const MANUAL_SNAPSHOTS_QUOTA_NAME = 'ManualSnapshots';

/**
 * Refuses an offboarding whose account and Region have less room than {@link MANUAL_SNAPSHOTS_PER_OFFBOARDING} manual
 * snapshots (Max - Used), before it makes any. A quota RDS does not report, or a read that fails, is no refusal: it is
 * logged (console.warn), and RDS itself refuses a snapshot past the quota.
 * @param rds an RDS client in the tenant's account and Region (the offboarding's snapshot session)
 * @param where the tenant id and account, for the message
 * @throws QuotaExceededError (terminal) naming the quota, its use and maximum, and the way on
 */
export async function requireManualSnapshotRoom(rds: RDSClient, where: { tenantId: string; accountId: string }): Promise<void> {
  let quota: { Used?: number; Max?: number } | undefined;
  try {
    const out = await rds.send(new DescribeAccountAttributesCommand({}));
    quota = out?.AccountQuotas?.find((q) => q.AccountQuotaName === MANUAL_SNAPSHOTS_QUOTA_NAME);
  } catch (e) {
    logger.warn('manual DB snapshot quota unread: the offboarding goes on, RDS refuses a snapshot past it', { tenantId: where.tenantId, accountId: where.accountId, error: (e as Error).name, detail: (e as Error).message });
    return;
  }
  if (quota?.Used === undefined || quota.Max === undefined) return;
  const room = Number(quota.Max) - Number(quota.Used);
  if (room >= MANUAL_SNAPSHOTS_PER_OFFBOARDING) return;
  const region = await rds.config.region();
  throw new QuotaExceededError(`RDS manual DB instance snapshots (Service Quotas rds L-272F1212, DescribeAccountAttributes ${MANUAL_SNAPSHOTS_QUOTA_NAME}) in account ${where.accountId}, ${region}: ${quota.Used} used of ${quota.Max}, room for ${Math.max(0, room)}; the offboarding of tenant ${where.tenantId} holds ${MANUAL_SNAPSHOTS_PER_OFFBOARDING} at once (its final snapshot and the archive-key copy, until the copy is available and the final snapshot deleted; then the copy and the stack's final snapshot at deletion), so RDS would refuse one midway (SnapshotQuotaExceeded). `
    + `It stops here, before its snapshot (the tenant OFFBOARDING, not served): delete manual snapshots no longer needed (aws rds describe-db-snapshots --snapshot-type manual; the stacks' final snapshots of earlier offboardings, and the tessera-<id>-final-<ms> ones offboardings of earlier versions kept, are under tenant keys since deleted, and unreadable, while the -archive copies are the ones kept) or raise the quota (Service Quotas, rds L-272F1212), then send DELETE again`);
}
