import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { LIFECYCLE_EVENTS, type OffboardingRecord, type TenantRecord } from '../../lib/tenant-record.js';
import { clientWith } from '../shared/aws-clients.js';
import { enqueueKeyDeletion } from '../shared/control-table.js';
import { ENV, numberEnv } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { keyDeletionPlanOf } from './inventory-retained-stores.js';
import type { LifecycleState } from './state.js';

type KeyDeletion = NonNullable<OffboardingRecord['keyDeletion']>;

/**
 * What becomes of the tenant key (decision 8 of issue 9; the inventory of *Inventory retained stores*):
 * - account mode: `WITH_ACCOUNT_CLOSURE` — the key goes when the account is closed;
 * - a store under the key without expiry: `HELD` until an operator decides;
 * - the last store under the key expires after `now`: `QUEUED` until then (`dueAt`);
 * - otherwise: schedule now.
 */
export function keyDeletionPlan(record: TenantRecord, now = new Date()): ReturnType<typeof keyDeletionPlanOf> {
  // The inventory's entry for the key says the same (inventory-retained-stores.ts tenantKeyEntry).
  return keyDeletionPlanOf(record.isolation, record.offboarding?.retainedStores ?? [], now);
}

/** ScheduleKeyDeletion with the configured waiting period (a last chance to cancel), once: a key already pending keeps its date. */
export async function scheduleTenantKey(accountId: string, tenantId: string, keyArn: string): Promise<string | undefined> {
  const kms = clientWith(KMSClient, await tenantAccountCredentials(accountId, tenantId, 'key'));
  const key = await kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
  if (key.KeyMetadata?.KeyState === 'PendingDeletion') return key.KeyMetadata.DeletionDate?.toISOString();
  const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyMetadata?.KeyId ?? keyArn, PendingWindowInDays: numberEnv(ENV.keyDeletionWindowDays, 30) }));
  return out.DeletionDate?.toISOString();
}

/**
 * Offboarding, after the inventory: schedules the tenant key's deletion only when nothing under
 * it must stay readable (see keyDeletionPlan), else queues it in the control table for the daily
 * job (`process-key-deletion-queue`). The outcome lands in the registry (`offboarding.keyDeletion`).
 */
export const handler = lifecycleHandler('Schedule key deletion', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const keyArn = record.stackOutputs.KeyArn;
  if (!keyArn || !record.accountId) return { scheduled: false };
  const plan = keyDeletionPlan(record);
  const save = (keyDeletion: KeyDeletion) => updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, keyDeletion } });
  switch (plan.action) {
    case 'with-account':
      await save({ state: 'WITH_ACCOUNT_CLOSURE', keyArn });
      return { scheduled: false, keyDeletion: 'WITH_ACCOUNT_CLOSURE' };
    case 'held':
      await save({ state: 'HELD', keyArn });
      return { scheduled: false, keyDeletion: 'HELD', holders: plan.holders };
    case 'queue':
      await enqueueKeyDeletion({ keyArn, accountId: record.accountId, tenantId: record.tenantId, dueAt: plan.dueAt! });
      await save({ state: 'QUEUED', keyArn, dueAt: plan.dueAt });
      return { scheduled: false, keyDeletion: 'QUEUED', dueAt: plan.dueAt };
    default: {
      const deletionDate = await scheduleTenantKey(record.accountId, record.tenantId, keyArn);
      await save({ state: 'SCHEDULED', keyArn, deletionDate });
      await emitLifecycleEvent(LIFECYCLE_EVENTS.keyDeletionScheduled, { tenantId: record.tenantId, accountId: record.accountId, keyArn, deletionDate });
      return { scheduled: true, deletionDate };
    }
  }
});
