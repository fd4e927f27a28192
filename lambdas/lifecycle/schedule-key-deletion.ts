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
type DrKeyDeletion = NonNullable<OffboardingRecord['drKeyDeletion']>;

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

/**
 * ScheduleKeyDeletion with the configured waiting period (a last chance to cancel), once: a key already pending keeps its date.
 * `region`: the key's region when it is not the home region (the tenant's DR key, in its DR region).
 */
export async function scheduleTenantKey(accountId: string, tenantId: string, keyArn: string, region?: string): Promise<string | undefined> {
  const kms = clientWith(KMSClient, await tenantAccountCredentials(accountId, tenantId, 'key'), region ? { region } : {});
  const key = await kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
  if (key.KeyMetadata?.KeyState === 'PendingDeletion') return key.KeyMetadata.DeletionDate?.toISOString();
  const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyMetadata?.KeyId ?? keyArn, PendingWindowInDays: numberEnv(ENV.keyDeletionWindowDays, 30) }));
  return out.DeletionDate?.toISOString();
}

/**
 * The tenant's DR key (a single-Region key of its own in the DR region, constructs/tenant-dr-key.ts: not a multi-Region
 * replica, so KMS schedules it alone, in any order with the tenant key), by the same rule on the DR stores under it
 * (retainedStores with `drRegion`; inventory-retained-stores.ts drKeyEntry): scheduled in its region, queued (the daily
 * job schedules it in its region), with the account, or held. A DR key the inventory knows only by its alias (its DR
 * stack could not be listed) is held: nothing schedules a key it cannot name. The DR key was never scheduled: it stayed
 * billed and able to decrypt the tenant's replicated data for good.
 */
async function settleDrKey(record: TenantRecord & { accountId: string }, now: Date): Promise<DrKeyDeletion | undefined> {
  const region = record.disasterRecovery?.region;
  const stores = record.offboarding?.retainedStores ?? [];
  const entry = stores.find((s) => s.store === 'key' && s.drRegion);
  if (!region || !entry) return undefined;
  const keyArn = entry.keyArn?.startsWith('arn:') ? entry.keyArn : undefined;
  const plan = keyDeletionPlanOf(record.isolation, stores, now, 'dr');
  if (plan.action === 'with-account') return { state: 'WITH_ACCOUNT_CLOSURE', region, ...(keyArn ? { keyArn } : { key: entry.id }) };
  if (plan.action === 'held' || !keyArn) return { state: 'HELD', region, ...(keyArn ? { keyArn } : { key: entry.id }) };
  if (plan.action === 'queue') {
    await enqueueKeyDeletion({ keyArn, accountId: record.accountId, tenantId: record.tenantId, dueAt: plan.dueAt!, region });
    return { state: 'QUEUED', region, keyArn, dueAt: plan.dueAt };
  }
  const deletionDate = await scheduleTenantKey(record.accountId, record.tenantId, keyArn, region);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.keyDeletionScheduled, { tenantId: record.tenantId, accountId: record.accountId, keyArn, region, deletionDate });
  return { state: 'SCHEDULED', region, keyArn, deletionDate };
}

/**
 * Offboarding, after the inventory: schedules the tenant key's deletion only when nothing under
 * it must stay readable (see keyDeletionPlan), else queues it in the control table for the daily
 * job (`process-key-deletion-queue`). The outcome lands in the registry (`offboarding.keyDeletion`).
 * A DR tenant's DR key the same way, first (settleDrKey; `offboarding.drKeyDeletion`).
 */
export const handler = lifecycleHandler('Schedule key deletion', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const keyArn = record.stackOutputs.KeyArn;
  if (!record.accountId) return { scheduled: false };
  const now = new Date();
  const dr = await settleDrKey({ ...record, accountId: record.accountId }, now);
  const drOut = dr ? { drKeyDeletion: dr.state } : {};
  const save = (keyDeletion?: KeyDeletion) => updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, ...(keyDeletion ? { keyDeletion } : {}), ...(dr ? { drKeyDeletion: dr } : {}) } });
  if (!keyArn) {
    if (dr) await save();
    return { scheduled: false, ...drOut };
  }
  const plan = keyDeletionPlan(record, now);
  switch (plan.action) {
    case 'with-account':
      await save({ state: 'WITH_ACCOUNT_CLOSURE', keyArn });
      return { scheduled: false, keyDeletion: 'WITH_ACCOUNT_CLOSURE', ...drOut };
    case 'held':
      await save({ state: 'HELD', keyArn });
      return { scheduled: false, keyDeletion: 'HELD', holders: plan.holders, ...drOut };
    case 'queue':
      await enqueueKeyDeletion({ keyArn, accountId: record.accountId, tenantId: record.tenantId, dueAt: plan.dueAt! });
      await save({ state: 'QUEUED', keyArn, dueAt: plan.dueAt });
      return { scheduled: false, keyDeletion: 'QUEUED', dueAt: plan.dueAt, ...drOut };
    default: {
      const deletionDate = await scheduleTenantKey(record.accountId, record.tenantId, keyArn);
      await save({ state: 'SCHEDULED', keyArn, deletionDate });
      await emitLifecycleEvent(LIFECYCLE_EVENTS.keyDeletionScheduled, { tenantId: record.tenantId, accountId: record.accountId, keyArn, deletionDate });
      return { scheduled: true, deletionDate, ...drOut };
    }
  }
});
