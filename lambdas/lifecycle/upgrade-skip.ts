import type { TenantRecord } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { getTenant, RegistryContentionError, updateTenant, withExecution } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/**
 * What *Begin change* or *Check rebuilt stack* answers for a rolling upgrade's tenant it skips (the workflow's *Skipped?*
 * and *Rebuilt, skipped?* choices end the child there, SUCCEEDED).
 */
export interface ChangeSkipped {
  skipped: true;
  tenantId: string;
  reason: string;
}

/**
 * What a rolling upgrade's run records on the tenant's history entry about its upgrade: `actor` (who started the upgrade)
 * and `upgradeId`, from its item (list-tier-tenants.ts upgradeItems). Nothing for a change: the admin API wrote its entry
 * (with its caller) when it took the lease, and a change's input from elsewhere does not name who asked.
 */
export const upgradeEntry = (state: LifecycleState & { kind?: 'change' | 'upgrade' }): { actor?: string; upgradeId?: string } => (state.kind === 'upgrade' ? {
  ...(state.change?.actor ? { actor: state.change.actor } : {}), ...(state.change?.upgradeId ? { upgradeId: state.change.upgradeId } : {}),
} : {});

/**
 * Records a skipped upgrade run in the tenant's history (status SKIPPED, the reason), without the
 * lease (it never took it) and only if nobody wrote the record since it was read (asked again on
 * contention). Idempotent: a retry finds its entry.
 * @throws RegistryContentionError after 5 contended writes; what the registry throws otherwise
 */
export async function recordSkip(state: LifecycleState & { kind?: 'change' | 'upgrade' }, first: TenantRecord, reason: string): Promise<ChangeSkipped> {
  const tenantId = state.request.tenantId;
  const at = new Date().toISOString();
  let record: TenantRecord | undefined = first;
  for (let attempt = 1; record && attempt <= 5; attempt++) {
    if (record.executions.some((e) => e.executionArn === state.executionArn && e.status === 'SKIPPED')) break;
    try {
      await updateTenant(tenantId, {
        executions: withExecution(record, { kind: 'upgrade', requestId: state.request.requestId, executionArn: state.executionArn, startedAt: at, endedAt: at, status: 'SKIPPED', reason, ...upgradeEntry(state) }),
      }, { holder: null, expectUpdatedAt: record.updatedAt });
      break;
    } catch (e) {
      if (!(e instanceof RegistryContentionError) || attempt >= 5) throw e;
      record = await getTenant(tenantId);
    }
  }
  logger.info('upgrade run skipped', { reason });
  return { skipped: true, tenantId, reason };
}
