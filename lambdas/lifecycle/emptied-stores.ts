import { BackupClient, DeleteBackupVaultCommand } from '@aws-sdk/client-backup';
import { CloudWatchLogsClient, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { RetainedStore } from '../../lib/tenant-record.js';
import { clientWith } from '../shared/aws-clients.js';
import { logger } from '../shared/handler.js';
import { tenantAccountCredentials } from '../shared/sessions.js';

/** Containers that stay behind empty once what they held has expired. */
const CONTAINERS = new Set<RetainedStore['store']>(['log-group', 'backup-vault']);

/**
 * When a tenant key's last store has expired (the daily key-deletion job), removes the containers
 * offboarding left behind empty: the blueprint's log groups (every event past its retention) and
 * the Backup vault (every recovery point past its DeleteAt). Otherwise each offboarded VPC tenant
 * would keep one vault and its log groups in the shared workload account for good (100 vaults per
 * region by default). A vault that still holds a recovery point is refused by AWS Backup and kept, its refusal recorded
 * (`removalRefused`; the callers leave a mark for the daily job to try it again: KeyDeletionItem.containersLeft);
 * a container already gone counts as removed. Returns the stores with `removedAt` set where removed.
 *
 * @param now stores whose `keptUntil` is after it are left alone
 * @param drRegion the DR key's containers (the DR vault), in that region, once the DR key is scheduled; absent: the
 *   home region's, with the tenant key. Each key's job removed every container in the home region, so the DR vault,
 *   tried there under its name, answered ResourceNotFound and was recorded removed while it stayed in the DR region.
 */
export async function removeEmptiedStores(accountId: string, tenantId: string, stores: readonly RetainedStore[], now = new Date(), drRegion?: string): Promise<RetainedStore[]> {
  const due = emptiedStoresLeft(stores, now, drRegion);
  if (due.length === 0) return [...stores];
  const credentials = await tenantAccountCredentials(accountId, tenantId, 'cleanup');
  const options = drRegion ? { region: drRegion } : {};
  const logs = clientWith(CloudWatchLogsClient, credentials, options);
  const backup = clientWith(BackupClient, credentials, options);
  const removed = new Set<string>();
  const refused = new Map<string, string>();
  const at = now.toISOString();
  for (const store of due) {
    try {
      if (store.store === 'log-group') await logs.send(new DeleteLogGroupCommand({ logGroupName: store.id }));
      else await backup.send(new DeleteBackupVaultCommand({ BackupVaultName: store.id }));
      removed.add(`${store.store}#${store.id}`);
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') removed.add(`${store.store}#${store.id}`);
      else {
        logger.warn('an emptied store was not removed; it stays listed, tried again by the next daily run', { store: store.store, id: store.id, error: e as Error });
        refused.set(`${store.store}#${store.id}`, `${at}: ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
  }
  return stores.map((s) => {
    const id = `${s.store}#${s.id}`;
    if (removed.has(id)) {
      const { removalRefused: _, ...rest } = s;
      return { ...rest, removedAt: at };
    }
    return refused.has(id) ? { ...s, removalRefused: refused.get(id) } : s;
  });
}

/**
 * The emptied containers (log groups, Backup vaults; `expires`, past their `keptUntil` at `now`) of one key's region
 * not removed yet: those removeEmptiedStores tries. `drRegion`: the DR key's, absent for the tenant key's home region.
 */
export function emptiedStoresLeft(stores: readonly RetainedStore[], now = new Date(), drRegion?: string): RetainedStore[] {
  return stores.filter((s) => CONTAINERS.has(s.store) && s.drRegion === drRegion && s.disposition === 'expires' && !s.removedAt && (!s.keptUntil || Date.parse(s.keptUntil) <= now.getTime()));
}
