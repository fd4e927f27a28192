import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FineTunedModel, type TenantRecord } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import type { GatewayStore } from '../../inference/stores/gateway-store.js';
import type { MemoryStore } from '../../inference/stores/memory-store.js';

/** Adds a finished job's model to its tenant's registry record, where the gateway's policy picks it up. */
export interface TenantModels {
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  /** `tenant` is the record the caller just read: a model it already lists is not added again. */
  addFineTunedModel(tenant: TenantRecord, model: FineTunedModel): Promise<void>;
}

export function memoryTenantModels(store: MemoryStore): TenantModels {
  return {
    getTenant: (id) => store.getTenant(id),
    async addFineTunedModel(tenant, model) {
      if ((tenant.fineTunedModels ?? []).some((m) => m.id === model.id)) return;
      const t = await store.getTenant(tenant.tenantId);
      if (!t) throw new Error(`tenant "${tenant.tenantId}" is not in the registry`);
      store.putTenant({ ...t, fineTunedModels: [...(t.fineTunedModels ?? []), model], updatedAt: new Date().toISOString() });
    },
  };
}

/**
 * The registry as the training-events Lambda changes it: as the tenant (`docFor`), and only the
 * attributes the tenant-data role lets a tenant session update (`fineTunedModels`, `updatedAt`).
 */
export function dynamoDbTenantModels(registryTable: string, reader: GatewayStore, docFor: TenantDocumentClient): TenantModels {
  return {
    getTenant: (id) => reader.getTenant(id),
    async addFineTunedModel(tenant, model) {
      if ((tenant.fineTunedModels ?? []).some((m) => m.id === model.id)) return; // the same event delivered twice
      await (await docFor(tenant.tenantId)).send(new UpdateCommand({
        TableName: registryTable, Key: { tenantId: tenant.tenantId },
        UpdateExpression: 'SET fineTunedModels = list_append(if_not_exists(fineTunedModels, :none), :m), updatedAt = :at',
        ConditionExpression: 'attribute_exists(tenantId)',
        ExpressionAttributeValues: { ':none': [], ':m': [FineTunedModel.parse(model)], ':at': new Date().toISOString() },
      }));
    },
  };
}
