import { LIFECYCLE_EVENTS, type OffboardingRecord } from '../../lib/tenant-record.js';
import { clearKeyContainersLeft, keyDeletions, markKeyDeletionScheduled, type KeyDeletionItem } from '../shared/control-table.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, updateTenant } from '../shared/registry.js';
import { emptiedStoresLeft, removeEmptiedStores } from './emptied-stores.js';
import { scheduleTenantKey } from './schedule-key-deletion.js';

/**
 * The deletion date the tenant's record holds for `keyArn` (`offboarding.keyDeletion`, or `drKeyDeletion` for a DR key in
 * `region`): undefined when the record names another key or no date (a key queued, never scheduled).
 */
function recordedDate(offboarding: OffboardingRecord | undefined, keyArn: string, region?: string): string | undefined {
  const recorded = region ? offboarding?.drKeyDeletion : offboarding?.keyDeletion;
  return recorded?.keyArn === keyArn ? recorded.deletionDate : undefined;
}

/**
 * Daily: schedules the deletion of each queued tenant key (or DR key, in its DR region) whose `dueAt` has passed (the last
 * store under it has expired), removes the containers left empty (log groups, the Backup vault;
 * see emptied-stores.ts), records both in the registry and announces the scheduled key (`Tenant Key Deletion Scheduled`, not for a key KMS
 * deleted already: recorded SCHEDULED with the date recorded before, if any), then marks the entry SCHEDULED. A key
 * that fails anywhere before that mark stays queued for the next run, which does it again; the others go on.
 * A container that could not be removed (AWS Backup refuses a vault while it holds a recovery point: it deletes an
 * expired one up to 8 hours after its DeleteAt, so a run soon after the last one's finds it still there) leaves its
 * entry marked `containersLeft`, and each run tries the marked entries' containers again (retryContainersLeft). Before,
 * the entry was marked SCHEDULED and nothing came back to it: the vault stayed in the account for good.
 */
export const handler = lifecycleHandler('Process key deletion queue', async (_event: unknown = {}) => {
  const now = Date.now();
  const entries = await keyDeletions();
  const queued = entries.filter((k) => k.status === 'QUEUED');
  const due = queued.filter((k) => Date.parse(k.dueAt) <= now);
  const scheduled: Array<{ keyArn: string; deletionDate?: string; deleted?: true }> = [];
  const failed: Array<{ keyArn: string; error: string }> = [];
  for (const item of due) {
    try {
      // A DR key (item.region, its DR region) is scheduled there, and its emptied DR containers removed there.
      // A key KMS deleted already (deleted) counts as scheduled: nothing is left to schedule. It keeps the date recorded
      // earlier for that key (a run that scheduled it and stopped before the mark), none for a key deleted while queued.
      const settled = await scheduleTenantKey(item.accountId, item.tenantId, item.keyArn, item.region);
      const record = await getTenant(item.tenantId);
      const deletionDate = settled.deleted ? recordedDate(record?.offboarding, item.keyArn, item.region) : settled.deletionDate;
      const retainedStores = record?.offboarding?.retainedStores
        ? await removeEmptiedStores(item.accountId, item.tenantId, record.offboarding.retainedStores, new Date(now), item.region)
        : undefined;
      const outcome = { state: 'SCHEDULED' as const, keyArn: item.keyArn, dueAt: item.dueAt, deletionDate };
      if (record) await updateTenant(item.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, ...(retainedStores ? { retainedStores } : {}), ...(item.region ? { drKeyDeletion: { ...outcome, region: item.region } } : { keyDeletion: outcome }) } });
      // `Tenant Key Deletion Scheduled` says KMS will delete the key on deletionDate (a last chance to cancel): not true of a
      // key KMS has deleted already, which is recorded and not announced (as the offboarding's Schedule key deletion does).
      if (!settled.deleted) await emitLifecycleEvent(LIFECYCLE_EVENTS.keyDeletionScheduled, { tenantId: item.tenantId, accountId: item.accountId, keyArn: item.keyArn, deletionDate, dueAt: item.dueAt, ...(item.region ? { region: item.region } : {}) });
      // The entry leaves the queue last, once the registry says SCHEDULED and the bus was told: runs take QUEUED entries
      // only, so an entry marked first stayed out of the queue when what followed failed (the registry write throttled,
      // PutEvents refused), or when the mark's own answer was lost (the SDK's retry then found it SCHEDULED and the run
      // took it for another run's): the tenant's record said QUEUED, with its dueAt, for good. Every step before is
      // idempotent (a pending key answers its date, a removed container counts as removed), so a run that stops
      // before the mark is done again by the next; two runs at once both record the same date and announce it twice
      // (at least once, as every announcement).
      const left = retainedStores ? emptiedStoresLeft(retainedStores, new Date(now), item.region).length > 0 : false;
      await markKeyDeletionScheduled(item.keyArn, deletionDate, left);
      scheduled.push({ keyArn: item.keyArn, deletionDate, ...(settled.deleted ? { deleted: true as const } : {}) });
    } catch (e) {
      logger.error('tenant key not scheduled; it stays queued', { keyArn: item.keyArn, tenantId: item.tenantId, error: e as Error });
      failed.push({ keyArn: item.keyArn, error: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  const containers = await retryContainersLeft(entries.filter((k) => k.status === 'SCHEDULED' && k.containersLeft), new Date(now));
  return { scheduled, waiting: queued.length - due.length, failed, ...(containers.length ? { containersLeft: containers } : {}) };
}, { trackStep: false });

/**
 * The scheduled keys whose emptied containers were not all removed (`containersLeft`): tries them again
 * (removeEmptiedStores, in the key's region), records the outcome on the tenant (`removedAt`, or `removalRefused` with
 * the refusal) and takes the mark off once none is left. An entry that fails keeps its mark; the others go on.
 * @returns per entry, the containers still left (ids), or the error
 */
async function retryContainersLeft(items: readonly KeyDeletionItem[], now: Date): Promise<Array<{ keyArn: string; left?: string[]; error?: string }>> {
  const out: Array<{ keyArn: string; left?: string[]; error?: string }> = [];
  for (const item of items) {
    try {
      const record = await getTenant(item.tenantId);
      const stores = record?.offboarding?.retainedStores;
      const after = stores ? await removeEmptiedStores(item.accountId, item.tenantId, stores, now, item.region) : [];
      if (record && stores) await updateTenant(item.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, retainedStores: after } });
      const left = emptiedStoresLeft(after, now, item.region).map((s) => s.id);
      if (left.length === 0) await clearKeyContainersLeft(item.keyArn);
      out.push({ keyArn: item.keyArn, left });
    } catch (e) {
      logger.error('emptied containers not tried again; the entry keeps its mark', { keyArn: item.keyArn, tenantId: item.tenantId, error: e as Error });
      out.push({ keyArn: item.keyArn, error: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  return out;
}
