import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FineTunedModel, TenantStatus } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { retryConflicts } from '../../shared/transactions.js';
import type { GatewayStore } from '../../inference/stores/gateway-store.js';
import type { TenantModels } from './tenant-models.js';

/** Tries of a removal whose list moved under it (another removal shifted the positions). */
const REMOVE_TRIES = 5;

/** Tries of an add whose list changed between its read and its write (another model added or removed meanwhile). */
const ADD_TRIES = 5;

/**
 * Entries whose id an add's condition checks, the last ones of the list (an expression is at most 4 KB: about 22 characters
 * an entry): with the list's size, every entry of a list up to this long. A longer list's first entries are not checked: the
 * model could be there only if this many appends and removals ran between the add's read and its write.
 */
const ADD_CHECKED_ENTRIES = 100;

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
      const entry = FineTunedModel.parse(model);
      // The caller's record may lag (the gateway's read, eventually consistent and cached), and two settles of one job (two
      // endpoint events, or a look and an event at once) may both have read it without the model: each appended it, and the
      // model was listed twice. So the list is read strongly consistent, and the append is conditional on the list being the
      // one read (its size) with none of its entries the model (their ids): a concurrent add of the model fails the condition,
      // and the list read again lists it (done); another change of the list is read again and the add tried again.
      for (let refused = 0; refused < ADD_TRIES; refused++) {
        const listed = await consistentFineTunedModels(registryTable, docFor, tenant.tenantId);
        if (!listed) throw new Error(`tenant "${tenant.tenantId}" is not in the registry`);
        if (listed.some((m) => m.id === model.id)) return;
        const checked = Array.from({ length: Math.min(listed.length, ADD_CHECKED_ENTRIES) }, (_, i) => listed.length - 1 - i);
        const doc = await docFor(tenant.tenantId);
        try {
          // Again when it met a key write's or token revocation's transaction on the item (its status check): not applied.
          await retryConflicts(() => doc.send(new UpdateCommand({
            TableName: registryTable, Key: { tenantId: tenant.tenantId },
            UpdateExpression: 'SET #f = list_append(if_not_exists(#f, :none), :m), updatedAt = :at',
            ConditionExpression: [
              'attribute_exists(tenantId)',
              listed.length === 0 ? '(attribute_not_exists(#f) OR size(#f) = :n)' : 'size(#f) = :n',
              ...checked.map((i) => `#f[${i}].id <> :id`),
            ].join(' AND '),
            ExpressionAttributeNames: { '#f': 'fineTunedModels' },
            ExpressionAttributeValues: { ':none': [], ':m': [entry], ':n': listed.length, ':at': new Date().toISOString(), ...(checked.length ? { ':id': model.id } : {}) },
          })));
          return;
        } catch (e) {
          // Refused: the list changed since it was read (by a concurrent add of this model: read again, it is listed), or the
          // SDK's own retry of a write carried out whose answer was lost (the same). Not an error until the tries run out.
          if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
        }
      }
      throw new Error(`the registry record of tenant "${tenant.tenantId}" kept changing while model ${model.id} was added to it (${ADD_TRIES} tries)`);
    },
    async removeFineTunedModel(tenantId, id) {
      // REMOVE of the model's position, on the condition that the position still holds that model: a
      // concurrent append (a deployment) keeps positions; a concurrent removal shifts them, and the
      // condition fails: read again and retry. No ReturnValues (the tenant-data role allows NONE only).
      // The list is read strongly consistent (the gateway's read is not): a lagging replica could show a
      // removal's positions before a concurrent one (every try refused: a 500) or the list before the model
      // (false: a 404), each after SageMaker had deleted the endpoint, the model left listed.
      // Every entry of the id goes, as in memory: before addFineTunedModel's append was conditional, two settles at once
      // each read the record without the model and appended it, and removing the first only left it listed.
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

/** A tenant's `fineTunedModels`, read strongly consistent as the tenant ([] when it has none); undefined: no record. */
async function consistentFineTunedModels(registryTable: string, docFor: TenantDocumentClient, tenantId: string): Promise<Array<{ id?: unknown }> | undefined> {
  const out = await (await docFor(tenantId)).send(new GetCommand({
    TableName: registryTable, Key: { tenantId }, ConsistentRead: true, ProjectionExpression: 'tenantId, fineTunedModels',
  }));
  return out.Item ? ((out.Item.fineTunedModels ?? []) as Array<{ id?: unknown }>) : undefined;
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
