import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FineTunedModel, TenantStatus, type TenantRecord } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { retryConflicts } from '../../shared/transactions.js';
import type { GatewayStore } from '../../inference/stores/gateway-store.js';
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
  /** `tenant` is the record the caller just read: a model it already lists is not added again. */
  addFineTunedModel(tenant: TenantRecord, model: FineTunedModel): Promise<void>;
  /**
   * Takes model `id` (every entry of it) out of the tenant's `fineTunedModels` (`DELETE /v1/models/{model}`): the gateway
   * no longer lists nor routes it. @returns false when the record does not list it (any more).
   */
  removeFineTunedModel(tenantId: string, id: string): Promise<boolean>;
}

/** Tries of a removal whose list moved under it (another removal shifted the positions). */
const REMOVE_TRIES = 5;

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

/**
 * The registry as the training-events Lambda changes it: as the tenant (`docFor`), and only the
 * attributes the tenant-data role lets a tenant session update (`fineTunedModels`, `updatedAt`).
 */
export function dynamoDbTenantModels(registryTable: string, reader: GatewayStore, docFor: TenantDocumentClient): TenantModels {
  return {
    getTenant: (id) => reader.getTenant(id),
    tenantStatus: (id) => consistentTenantStatus(registryTable, docFor, id),
    async addFineTunedModel(tenant, model) {
      if ((tenant.fineTunedModels ?? []).some((m) => m.id === model.id)) return; // the same event delivered twice
      const doc = await docFor(tenant.tenantId);
      // Again when it met a key write's or token revocation's transaction on the item (its status check): not applied.
      await retryConflicts(() => doc.send(new UpdateCommand({
        TableName: registryTable, Key: { tenantId: tenant.tenantId },
        UpdateExpression: 'SET fineTunedModels = list_append(if_not_exists(fineTunedModels, :none), :m), updatedAt = :at',
        ConditionExpression: 'attribute_exists(tenantId)',
        ExpressionAttributeValues: { ':none': [], ':m': [FineTunedModel.parse(model)], ':at': new Date().toISOString() },
      })));
    },
    async removeFineTunedModel(tenantId, id) {
      // REMOVE of the model's position, on the condition that the position still holds that model: a
      // concurrent append (a deployment) keeps positions; a concurrent removal shifts them, and the
      // condition fails: read again and retry. No ReturnValues (the tenant-data role allows NONE only).
      // The list is read strongly consistent (the gateway's read is not): a lagging replica could show a
      // removal's positions before a concurrent one (every try refused: a 500) or the list before the model
      // (false: a 404), each after SageMaker had deleted the endpoint, the model left listed.
      // Every entry of the id goes, as in memory: two deliveries of one Completed event at once each read the
      // record without the model and appended it (addFineTunedModel), and removing the first only left it listed.
      let removed = false;
      for (let refused = 0; refused < REMOVE_TRIES;) {
        const out = await (await docFor(tenantId)).send(new GetCommand({
          TableName: registryTable, Key: { tenantId }, ConsistentRead: true, ProjectionExpression: 'fineTunedModels',
        }));
        const at = ((out.Item?.fineTunedModels ?? []) as Array<{ id?: unknown }>).findIndex((m) => m.id === id);
        if (at < 0) return removed;
        try {
          const doc = await docFor(tenantId);
          await retryConflicts(() => doc.send(new UpdateCommand({
            TableName: registryTable, Key: { tenantId },
            UpdateExpression: `REMOVE fineTunedModels[${at}] SET updatedAt = :at`,
            ConditionExpression: `attribute_exists(tenantId) AND fineTunedModels[${at}].id = :id`,
            ExpressionAttributeValues: { ':id': id, ':at': new Date().toISOString() },
          })));
          removed = true;
        } catch (e) {
          if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
          // Refused on the SDK's own retry (attempt 2 or later): an earlier attempt may have been carried out, its answer
          // lost (a 500, a reset connection), and this condition then fails on its own write. Read again: a model no longer
          // listed was taken out by this call (before, false: the delete that removed it answered 404).
          if (((e as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1) removed = true;
          refused++;
        }
      }
      throw new Error(`the registry record of tenant "${tenantId}" kept changing while model ${id} was removed from it (${REMOVE_TRIES} tries); delete it again`);
    },
  };
}

/**
 * A tenant's registry status, read strongly consistent (`ConsistentRead`: the gateway's reads are
 * eventually consistent and cached) as the tenant (the tenant-data role: GetItem of its own record).
 */
export async function consistentTenantStatus(registryTable: string, docFor: TenantDocumentClient, tenantId: string): Promise<TenantStatus | undefined> {
  const out = await (await docFor(tenantId)).send(new GetCommand({
    TableName: registryTable, Key: { tenantId }, ConsistentRead: true, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 'status' },
  }));
  return out.Item ? TenantStatus.parse(out.Item.status) : undefined;
}
