import type { TenantRecord, TenantStatus, FineTunedModel } from '../../../lib/tenant-record.js';
import type { MemoryStore } from '../../inference/stores/memory-store.js';

/** Adds a finished job's model to its tenant's registry record, where the gateway's policy picks it up. */
export interface TenantModels {
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  /**
   * The tenant's status, read strongly consistent: a write acknowledged before the read (the
   * offboarding's `OFFBOARDING`) is seen. The fence of the fine-tuning create paths against an
   * offboarding's retirement (retire-fine-tuned-models.ts). undefined: no record.
   */
  tenantStatus(tenantId: string): Promise<TenantStatus | undefined>;
  /**
   * Lists `model` in the tenant's `fineTunedModels` once, whatever runs at the same time: two settles of one job (two
   * endpoint events, or a look and an event at once) both reading the record without the model add it once; the
   * second finds it listed. `tenant` is the record the caller just read: a model it already lists is not added again.
   */
  addFineTunedModel(tenant: TenantRecord, model: FineTunedModel): Promise<void>;
  /**
   * Takes model `id` (every entry of it) out of the tenant's `fineTunedModels` (`DELETE /v1/models/{model}`): the gateway
   * no longer lists nor routes it. @returns false when the record does not list it (any more).
   */
  removeFineTunedModel(tenantId: string, id: string): Promise<boolean>;
}

/**
 * The registry of `tessera serve`'s embedded tenants (a MemoryStore), changed in place. The DynamoDB registry's, as the
 * training-events Lambda changes it, is dynamodb-tenant-models.ts: apart, so that serve without --dynamodb loads no
 * DynamoDB client.
 */
export function memoryTenantModels(store: MemoryStore): TenantModels {
  return {
    getTenant: (id) => store.getTenant(id),
    tenantStatus: async (id) => (await store.getTenant(id))?.status,
    async addFineTunedModel(tenant, model) {
      if ((tenant.fineTunedModels ?? []).some((m) => m.id === model.id)) return;
      const t = await store.getTenant(tenant.tenantId);
      if (!t) throw new Error(`tenant "${tenant.tenantId}" is not in the registry`);
      store.putTenant({ ...t, fineTunedModels: [...(t.fineTunedModels ?? []), model], updatedAt: new Date().toISOString() });
    },
    async removeFineTunedModel(tenantId, id) {
      const t = await store.getTenant(tenantId);
      if (!t || !(t.fineTunedModels ?? []).some((m) => m.id === id)) return false;
      store.putTenant({ ...t, fineTunedModels: t.fineTunedModels!.filter((m) => m.id !== id), updatedAt: new Date().toISOString() });
      return true;
    },
  };
}
