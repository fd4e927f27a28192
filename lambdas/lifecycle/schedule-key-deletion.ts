import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { LIFECYCLE_EVENTS, type OffboardingRecord, type TenantRecord } from '../../lib/tenant-record.js';
import { clientWith } from '../shared/aws-clients.js';
import { enqueueKeyDeletion, recordKeyContainersLeft } from '../shared/control-table.js';
import { ENV, numberEnv } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { emptiedStoresLeft, removeEmptiedStores } from './emptied-stores.js';
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

/** What scheduleTenantKey found: the key's deletion date (ISO 8601, as KMS reports it), or that the key is gone. */
export interface ScheduledKey {
  deletionDate?: string;
  /** DescribeKey answered NotFoundException: KMS deleted the key already (its waiting period ended), nothing was scheduled. */
  deleted?: true;
}

/**
 * ScheduleKeyDeletion with the configured waiting period (a last chance to cancel), once: a key already pending keeps its date.
 * `region`: the key's region when it is not the home region (the tenant's DR key, in its DR region).
 * KMS refuses ScheduleKeyDeletion on a key pending deletion (`KMSInvalidStateException`): met after the DescribeKey here
 * (a call the SDK sent again after its answer was lost, or another run scheduling the same key between the two calls),
 * the key is described again and, pending deletion, its date is the answer; in any other state the error stands.
 * A key KMS no longer has (DescribeKey: `NotFoundException`, as for a key deleted at the end of its waiting period) is
 * `deleted`: a retried offboarding met it more than the waiting period after its first run scheduled it, and failed at
 * *Schedule key deletion* for good (the daily job, for a queued key deleted meanwhile, every day).
 * @returns the key's deletion date, or `deleted`
 */
export async function scheduleTenantKey(accountId: string, tenantId: string, keyArn: string, region?: string): Promise<ScheduledKey> {
  const kms = clientWith(KMSClient, await tenantAccountCredentials(accountId, tenantId, 'key'), region ? { region } : {});
  const pendingDate = async () => {
    try {
      const key = (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata;
      return { key, pending: key?.KeyState === 'PendingDeletion', date: key?.DeletionDate?.toISOString() };
    } catch (e) {
      if ((e as Error).name === 'NotFoundException') return { gone: true as const };
      throw e;
    }
  };
  const before = await pendingDate();
  if ('gone' in before) return { deleted: true };
  if (before.pending) return { deletionDate: before.date };
  try {
    const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: before.key?.KeyId ?? keyArn, PendingWindowInDays: numberEnv(ENV.keyDeletionWindowDays, 30) }));
    return { deletionDate: out.DeletionDate?.toISOString() };
  } catch (e) {
    if ((e as Error).name !== 'KMSInvalidStateException') throw e;
    const after = await pendingDate();
    if ('gone' in after) return { deleted: true };
    if (after.pending) return { deletionDate: after.date };
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
async function settleKey(record: TenantRecord & { accountId: string }, plan: ReturnType<typeof keyDeletionPlanOf>, key: { keyArn?: string; alias?: string }, region?: string, previous?: KeyDeletion): Promise<KeyDeletion & { key?: string; deleted?: true }> {
  const { keyArn } = key;
  const named = keyArn ? { keyArn } : { key: key.alias };
  if (plan.action === 'with-account') return { state: 'WITH_ACCOUNT_CLOSURE', ...named };
  if (plan.action === 'held' || !keyArn) return { state: 'HELD', ...named };
  if (plan.action === 'queue') {
    await enqueueKeyDeletion({ keyArn, accountId: record.accountId, tenantId: record.tenantId, dueAt: plan.dueAt!, ...(region ? { region } : {}) });
    return { state: 'QUEUED', keyArn, dueAt: plan.dueAt };
  }
  const scheduled = await scheduleTenantKey(record.accountId, record.tenantId, keyArn, region);
  // A key KMS deleted already (a retried offboarding, past the waiting period its first run scheduled): recorded SCHEDULED
  // with the date that run recorded, and not announced again.
  if (scheduled.deleted) return { state: 'SCHEDULED', keyArn, ...(previous?.keyArn === keyArn && previous.deletionDate ? { deletionDate: previous.deletionDate } : {}), deleted: true };
  return { state: 'SCHEDULED', keyArn, deletionDate: scheduled.deletionDate };
}

/** The `Tenant Key Deletion Scheduled` event of a key settleKey scheduled (none for another outcome); `region`: the DR key's. */
async function announceScheduled(record: TenantRecord & { accountId: string }, deletion: KeyDeletion & { deleted?: true }, region?: string): Promise<void> {
  if (deletion.state !== 'SCHEDULED' || deletion.deleted) return;
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
  const { deleted, ...deletion } = await settleKey(record, keyDeletionPlanOf(record.isolation, stores, now, 'dr'), { keyArn, alias: entry.id }, region, record.offboarding?.drKeyDeletion);
  await announceScheduled(record, { ...deletion, ...(deleted ? { deleted } : {}) }, region);
  return { ...deletion, region };
}

/**
 * Offboarding, after the inventory: schedules the tenant key's deletion only when nothing under
 * it must stay readable (see keyDeletionPlan), else queues it in the control table for the daily
 * job (`process-key-deletion-queue`). The outcome lands in the registry (`offboarding.keyDeletion`).
 * A DR tenant's DR key the same way, first (settleDrKey; `offboarding.drKeyDeletion`).
 * A key scheduled here has its emptied containers removed with it, in its region (the Backup vault, log groups past
 * their retention: removeEmptiedStores, each recorded `removedAt` in `offboarding.retainedStores`), as the daily job does
 * for a queued key. Only the daily job did it, so a key scheduled at once (a DR key with no DR recovery point left, a
 * tenant key with nothing under it to keep readable) left its empty vault behind for good, recorded `expires`. A container
 * AWS Backup refuses to delete yet (a recovery point still in the vault) is marked on the key's control-table entry
 * (recordKeyContainersLeft) for the daily job to try again.
 */
export const handler = lifecycleHandler('Schedule key deletion', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const keyArn = record.stackOutputs.KeyArn;
  if (!record.accountId) return { scheduled: false };
  const now = new Date();
  const owned = { ...record, accountId: record.accountId };
  const dr = await settleDrKey(owned, now);
  const drOut = dr ? { drKeyDeletion: dr.state } : {};
  // The containers left empty under a key scheduled now go with it, in the key's region (the DR vault in the DR region).
  // One AWS Backup refuses (a recovery point still in the vault) is left to the daily job, marked on the key's entry.
  let retainedStores = record.offboarding?.retainedStores;
  const removeEmptied = async (deletion: KeyDeletion, region?: string) => {
    if (!retainedStores || !deletion.keyArn) return;
    retainedStores = await removeEmptiedStores(owned.accountId, owned.tenantId, retainedStores, now, region);
    if (emptiedStoresLeft(retainedStores, now, region).length === 0) return;
    await recordKeyContainersLeft({ keyArn: deletion.keyArn, accountId: owned.accountId, tenantId: owned.tenantId, dueAt: now.toISOString(), ...(region ? { region } : {}), ...(deletion.deletionDate ? { deletionDate: deletion.deletionDate } : {}) });
  };
  if (dr?.state === 'SCHEDULED') await removeEmptied(dr, dr.region);
  const save = (keyDeletion?: KeyDeletion) => updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, ...(retainedStores ? { retainedStores } : {}), ...(keyDeletion ? { keyDeletion } : {}), ...(dr ? { drKeyDeletion: dr } : {}) } });
  if (!keyArn) {
    if (dr) await save();
    return { scheduled: false, ...drOut };
  }
  const plan = keyDeletionPlan(record, now);
  const { deleted, ...keyDeletion } = await settleKey(owned, plan, { keyArn }, undefined, record.offboarding?.keyDeletion);
  if (keyDeletion.state === 'SCHEDULED') await removeEmptied(keyDeletion);
  await save(keyDeletion);
  await announceScheduled(owned, { ...keyDeletion, ...(deleted ? { deleted } : {}) });
  if (keyDeletion.state === 'SCHEDULED') return { scheduled: true, deletionDate: keyDeletion.deletionDate, ...drOut };
  return { scheduled: false, keyDeletion: keyDeletion.state, ...(keyDeletion.state === 'HELD' ? { holders: plan.holders } : {}), ...(keyDeletion.state === 'QUEUED' ? { dueAt: keyDeletion.dueAt } : {}), ...drOut };
});
