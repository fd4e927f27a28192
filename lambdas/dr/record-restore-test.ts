import { z } from 'zod';
import { SERVICE_ROLE_PATH } from '../../lib/tenant-naming.js';
import type { DisasterRecoveryRecord, TenantRecord } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { getTenant, updateTenant } from '../shared/registry.js';

/**
 * AWS Backup's `Restore Job State Change` (source `aws.backup`), forwarded from the tenant's account
 * to the platform bus by the DR tier's rule (constructs/tenant-dr-restore-events.ts), which passes
 * only jobs run as the tenant's restore-testing role. Fields as AWS Backup documents them
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html): those read here.
 */
export const RestoreJobEvent = z.object({
  account: z.string().regex(/^\d{12}$/),
  time: z.string(),
  'detail-type': z.literal('Restore Job State Change'),
  source: z.literal('aws.backup'),
  detail: z.object({
    restoreJobId: z.string().min(1),
    status: z.string().min(1),
    iamRoleArn: z.string(),
    recoveryPointArn: z.string().optional(),
    statusMessage: z.string().optional(),
    validationStatus: z.string().optional(),
    validationStatusMessage: z.string().optional(),
  }),
});
export type RestoreJobEvent = z.infer<typeof RestoreJobEvent>;

const ROLE = new RegExp(`^arn:[a-z-]+:iam::(\\d{12}):role${SERVICE_ROLE_PATH.replace(/\//g, '\\/')}tessera-([a-z0-9-]+)-restore-testing$`);

/** The tenant whose restore-testing role (`tessera-<id>-restore-testing` on the service-role path, lib/tenant-naming.ts drServiceRoleName) ran the job, and its account; undefined for any other role. */
export function restoreTestTenant(iamRoleArn: string): { tenantId: string; accountId: string } | undefined {
  const m = ROLE.exec(iamRoleArn);
  if (!m) return undefined;
  return { accountId: m[1], tenantId: m[2] };
}

/**
 * The registry's `latestRestoreTest` from one event, or why the event is ignored: a role that is not
 * a tenant's restore-testing role, an event from another account than the tenant's (its DR stack
 * and restore tests live in the tenant's account: the workload account in VPC mode), a tenant
 * without a DR record, or an event older than the one recorded (EventBridge does not order
 * deliveries; a job's later state wins).
 */
export function restoreTestUpdate(event: RestoreJobEvent, record: TenantRecord | undefined): { record: DisasterRecoveryRecord } | { ignored: string } {
  const owner = restoreTestTenant(event.detail.iamRoleArn);
  if (!owner) return { ignored: `role ${event.detail.iamRoleArn} is no tenant's restore-testing role` };
  if (!record) return { ignored: `no tenant ${owner.tenantId}` };
  if (record.accountId !== event.account || owner.accountId !== event.account) return { ignored: `event from account ${event.account}, tenant ${record.tenantId} runs in ${record.accountId ?? 'no account'}` };
  const dr = record.disasterRecovery;
  if (!dr) return { ignored: `tenant ${record.tenantId} has no DR stack recorded` };
  const previous = dr.latestRestoreTest;
  // Older than what is recorded, of another job or of the same one (a RUNNING delivered after COMPLETED): ignored.
  if (previous && previous.at > event.time) return { ignored: `a later restore test event (${previous.restoreJobId} ${previous.status}, ${previous.at}) is recorded` };
  const d = event.detail;
  return {
    record: {
      ...dr,
      latestRestoreTest: {
        restoreJobId: d.restoreJobId, status: d.status, at: event.time,
        ...(d.recoveryPointArn ? { recoveryPointArn: d.recoveryPointArn } : {}),
        ...(d.validationStatus ? { validationStatus: d.validationStatus } : {}),
        ...((d.validationStatusMessage ?? d.statusMessage) ? { message: (d.validationStatusMessage ?? d.statusMessage)!.slice(0, 1000) } : {}),
      },
    },
  };
}

/**
 * Records the latest restore test of a tenant's DR recovery points in the registry
 * (`disasterRecovery.latestRestoreTest`), outside any lifecycle operation (no lease condition;
 * `expectUpdatedAt` guards the read-modify-write). Invoked asynchronously by the platform bus's
 * rule; an event that does not parse is logged and dropped (EventBridge would redeliver it unchanged).
 */
export async function handler(raw: unknown): Promise<{ recorded?: string; ignored?: string }> {
  const parsed = RestoreJobEvent.safeParse(raw);
  if (!parsed.success) {
    logger.warn('not a restore job state change', { issues: parsed.error.issues.slice(0, 5) });
    return { ignored: 'not a Restore Job State Change of aws.backup' };
  }
  const owner = restoreTestTenant(parsed.data.detail.iamRoleArn);
  const record = owner ? await getTenant(owner.tenantId) : undefined;
  const update = restoreTestUpdate(parsed.data, record);
  if ('ignored' in update) {
    logger.warn('restore test event ignored', { reason: update.ignored, restoreJobId: parsed.data.detail.restoreJobId });
    return { ignored: update.ignored };
  }
  await updateTenant(record!.tenantId, { disasterRecovery: update.record }, { holder: null, expectUpdatedAt: record!.updatedAt });
  logger.info('restore test recorded', { tenantId: record!.tenantId, restoreJobId: parsed.data.detail.restoreJobId, status: parsed.data.detail.status });
  return { recorded: record!.tenantId };
}
