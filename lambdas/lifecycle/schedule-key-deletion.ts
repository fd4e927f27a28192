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
 * KMS refuses ScheduleKeyDeletion on a key pending deletion (`KMSInvalidStateException`): met after the DescribeKey here
 * (a call the SDK sent again after its answer was lost, or another run scheduling the same key between the two calls),
 * the key is described again and, pending deletion, its date is the answer; in any other state the error stands.
 * @returns the key's deletion date (ISO 8601), as KMS reports it
 */
export async function scheduleTenantKey(accountId: string, tenantId: string, keyArn: string, region?: string): Promise<string | undefined> {
  const kms = clientWith(KMSClient, await tenantAccountCredentials(accountId, tenantId, 'key'), region ? { region } : {});
  const pendingDate = async () => {
    const key = (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata;
    return { key, pending: key?.KeyState === 'PendingDeletion', date: key?.DeletionDate?.toISOString() };
  };
  const before = await pendingDate();
  if (before.pending) return before.date;
  try {
    const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: before.key?.KeyId ?? keyArn, PendingWindowInDays: numberEnv(ENV.keyDeletionWindowDays, 30) }));
    return out.DeletionDate?.toISOString();
  } catch (e) {
    if ((e as Error).name !== 'KMSInvalidStateException') throw e;
    const after = await pendingDate();
    if (after.pending) return after.date;
    throw e;
  }
}

/**
 * Carries out a key's plan (keyDeletionPlanOf), the tenant key's in the home region (`region` undefined) or the DR key's
 * in its region: `WITH_ACCOUNT_CLOSURE` (account mode) and `HELD` are recorded only; `QUEUED` puts it in the control table
 * until `dueAt` (the daily job schedules it, in `region`); otherwise it is scheduled now (scheduleTenantKey). A key known
 * only by its alias (`keyArn` undefined: its DR stack could not be listed) is held: nothing schedules a key it cannot name.
 * @returns what becomes of the key, as `offboarding.keyDeletion` records it (`key`: the alias, when the ARN is unknown)
 */
async function settleKey(record: TenantRecord & { accountId: string }, plan: ReturnType<typeof keyDeletionPlanOf>, key: { keyArn?: string; alias?: string }, region?: string): Promise<KeyDeletion & { key?: string }> {
  const { keyArn } = key;
  const named = keyArn ? { keyArn } : { key: key.alias };
  if (plan.action === 'with-account') return { state: 'WITH_ACCOUNT_CLOSURE', ...named };
  if (plan.action === 'held' || !keyArn) return { state: 'HELD', ...named };
  if (plan.action === 'queue') {
    await enqueueKeyDeletion({ keyArn, accountId: record.accountId, tenantId: record.tenantId, dueAt: plan.dueAt!, ...(region ? { region } : {}) });
    return { state: 'QUEUED', keyArn, dueAt: plan.dueAt };
  }
  return { state: 'SCHEDULED', keyArn, deletionDate: await scheduleTenantKey(record.accountId, record.tenantId, keyArn, region) };
}

/** The `Tenant Key Deletion Scheduled` event of a key settleKey scheduled (none for another outcome); `region`: the DR key's. */
async function announceScheduled(record: TenantRecord & { accountId: string }, deletion: KeyDeletion, region?: string): Promise<void> {
  if (deletion.state !== 'SCHEDULED') return;
  await emitLifecycleEvent(LIFECYCLE_EVENTS.keyDeletionScheduled, { tenantId: record.tenantId, accountId: record.accountId, keyArn: deletion.keyArn, ...(region ? { region } : {}), deletionDate: deletion.deletionDate });
}

/**
 * The tenant's DR key (a single-Region key of its own in the DR region, constructs/tenant-dr-key.ts: not a multi-Region
 * replica, so KMS schedules it alone, in any order with the tenant key), by the same rule on the DR stores under it
 * (retainedStores with `drRegion`; inventory-retained-stores.ts drKeyEntry), settled as the tenant key is (settleKey) in
 * its region: scheduled, queued (the daily job schedules it in its region), with the account, or held. A DR key the
 * inventory knows only by its alias (its DR stack could not be listed) is held. The DR key was never scheduled: it
 * stayed billed and able to decrypt the tenant's replicated data for good.
 */
async function settleDrKey(record: TenantRecord & { accountId: string }, now: Date): Promise<DrKeyDeletion | undefined> {
  const region = record.disasterRecovery?.region;
  const stores = record.offboarding?.retainedStores ?? [];
  const entry = stores.find((s) => s.store === 'key' && s.drRegion);
  if (!region || !entry) return undefined;
  const keyArn = entry.keyArn?.startsWith('arn:') ? entry.keyArn : undefined;
  const deletion = await settleKey(record, keyDeletionPlanOf(record.isolation, stores, now, 'dr'), { keyArn, alias: entry.id }, region);
  await announceScheduled(record, deletion, region);
  return { ...deletion, region };
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
  const owned = { ...record, accountId: record.accountId };
  const dr = await settleDrKey(owned, now);
  const drOut = dr ? { drKeyDeletion: dr.state } : {};
  const save = (keyDeletion?: KeyDeletion) => updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, ...(keyDeletion ? { keyDeletion } : {}), ...(dr ? { drKeyDeletion: dr } : {}) } });
  if (!keyArn) {
    if (dr) await save();
    return { scheduled: false, ...drOut };
  }
  const plan = keyDeletionPlan(record, now);
  const keyDeletion = await settleKey(owned, plan, { keyArn });
  await save(keyDeletion);
  await announceScheduled(owned, keyDeletion);
  if (keyDeletion.state === 'SCHEDULED') return { scheduled: true, deletionDate: keyDeletion.deletionDate, ...drOut };
  return { scheduled: false, keyDeletion: keyDeletion.state, ...(keyDeletion.state === 'HELD' ? { holders: plan.holders } : {}), ...(keyDeletion.state === 'QUEUED' ? { dueAt: keyDeletion.dueAt } : {}), ...drOut };
});
