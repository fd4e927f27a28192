import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand, GetApiKeysCommand, GetUsagePlansCommand, type ApiKey } from '@aws-sdk/client-api-gateway';
import { randomBytes } from 'node:crypto';
import { platformClient } from '../shared/aws-clients.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/** The usage plan of a tier, by the name the InferenceApi construct gives it. */
export const usagePlanName = (tier: string) => `tessera-${tier}`;

async function planId(api: APIGatewayClient, tier: string): Promise<string> {
  let position: string | undefined;
  do {
    const out = await api.send(new GetUsagePlansCommand({ position, limit: 500 }));
    const plan = out.items?.find((p) => p.name === usagePlanName(tier));
    if (plan?.id) return plan.id;
    position = out.position;
  } while (position);
  throw new Error(`usage plan "${usagePlanName(tier)}" does not exist; deploy the TesseraPlatform stack`);
}

/** The name and tag Tessera gives a tenant's usage key. */
const keyName = (tenantId: string) => `tessera-${tenantId}`;
const TENANT_TAG = 'tessera:tenant-id';

/**
 * The API keys Tessera made for `tenantId` (named `tessera-<id>`, tagged with the id): one, or
 * more when a CreateApiKey ran again before its key was recorded (a failed step retried, a Task
 * run twice). GetApiKeys' `nameQuery` matches a prefix, so the name is compared whole here.
 */
async function tenantKeys(api: APIGatewayClient, tenantId: string): Promise<ApiKey[]> {
  const keys: ApiKey[] = [];
  let position: string | undefined;
  do {
    const out = await api.send(new GetApiKeysCommand({ nameQuery: keyName(tenantId), includeValues: true, position, limit: 500 }));
    keys.push(...(out.items ?? []).filter((k) => k.name === keyName(tenantId) && k.tags?.[TENANT_TAG] === tenantId));
    position = out.position;
  } while (position);
  return keys;
}

/**
 * The usage plans API Gateway has `keyId` in (GetUsagePlans' `keyId` filter, every page): what the key is subject to,
 * whatever the registry's `usageKey.plan` says (a move whose record was not written, a Lambda timeout between the two).
 */
async function plansOfKey(api: APIGatewayClient, keyId: string): Promise<string[]> {
  const plans: string[] = [];
  let position: string | undefined;
  do {
    const out = await api.send(new GetUsagePlansCommand({ keyId, position, limit: 500 }));
    plans.push(...(out.items ?? []).flatMap((p) => (p.id ? [p.id] : [])));
    position = out.position;
  } while (position);
  return plans;
}

async function deleteKey(api: APIGatewayClient, id: string): Promise<void> {
  try {
    await api.send(new DeleteApiKeyCommand({ apiKey: id }));
  } catch (e) {
    if ((e as Error).name !== 'NotFoundException') throw e;
  }
}

/**
 * The tenant's usage key in its tier's API Gateway usage plan (per-tier rate, burst and daily
 * quota at the edge): `issue` on onboarding and after a tier change (moves the key to the new
 * plan), `revoke` at offboarding. Idempotent, and nothing left behind: a key an earlier attempt
 * created but did not record is found by name and tag and used (others of the tenant's deleted)
 * instead of a second one; `revoke` deletes every key of the tenant, recorded or not.
 *
 * A move between plans is written to the registry first as `plan: ''` (not known: the key is being moved), then made
 * against the plans API Gateway has the key in (plansOfKey, not the recorded plan), then recorded with its plan. Before,
 * the plan was written after the move only: a Lambda timeout in between left the registry naming the old plan while the
 * key was in the new one, and the next move took the key out of the recorded (old) plan only, leaving it in the one it
 * was really in. A move whose new plan refuses the key puts it back in the plans it was in, and records that plan only
 * once the key is back in it (else `''` stays: the next issue moves it from wherever API Gateway has it).
 */
export const handler = lifecycleHandler('Manage usage key', async (state: LifecycleState & { usageKey: 'issue' | 'revoke' }) => {
  const record = await requireTenant(state.request.tenantId);
  const api = platformClient(APIGatewayClient);
  const tier = state.change?.tier ?? record.tier;
  if (state.usageKey === 'revoke') {
    const ids = new Set([...(record.usageKey ? [record.usageKey.id] : []), ...(await tenantKeys(api, record.tenantId)).map((k) => k.id!)]);
    for (const id of ids) await deleteKey(api, id);
    if (record.usageKey) await updateTenant(record.tenantId, { usageKey: undefined });
    return { revoked: true };
  }
  const plan = await planId(api, tier);
  let key = record.usageKey;
  if (!key) {
    // A key an earlier attempt created without recording it (it is in no plan, or in this one) is this tenant's key.
    const [found, ...extra] = (await tenantKeys(api, record.tenantId)).filter((k) => k.id && k.value);
    for (const k of extra) await deleteKey(api, k.id!);
    if (found) key = { id: found.id!, value: found.value!, plan: '' };
    else {
      const value = randomBytes(24).toString('hex');
      const created = await api.send(new CreateApiKeyCommand({ name: keyName(record.tenantId), value, enabled: true, tags: { [TENANT_TAG]: record.tenantId } }));
      key = { id: created.id!, value, plan: '' };
    }
  }
  if (key.plan !== plan) {
    const inPlans = await plansOfKey(api, key.id);
    // On record before the move: the plan is not known until the move is recorded (a timeout in between leaves `''`, not a plan the key has left).
    if (record.usageKey) await updateTenant(record.tenantId, { usageKey: { ...key, plan: '' } });
    const others = inPlans.filter((p) => p !== plan);
    for (const other of others) {
      try {
        await api.send(new DeleteUsagePlanKeyCommand({ usagePlanId: other, keyId: key.id }));
      } catch (e) {
        if ((e as Error).name !== 'NotFoundException') throw e;
      }
    }
    if (!inPlans.includes(plan)) {
      try {
        await api.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan, keyId: key.id, keyType: 'API_KEY' }));
      } catch (e) {
        if ((e as Error).name !== 'ConflictException') {
          // A key in no plan cuts the tenant off at the edge: put it back in the plans it was in, then fail. The plan is
          // recorded only when the key is back in it: recorded while the put-back failed too, the key sat in no plan
          // under a plan the next issue for that tier took as done (key.plan === plan), and moved nothing.
          const back: string[] = [];
          for (const other of others) {
            await api.send(new CreateUsagePlanKeyCommand({ usagePlanId: other, keyId: key.id, keyType: 'API_KEY' })).then(() => back.push(other), (again: unknown) => {
              if ((again as Error).name === 'ConflictException') back.push(other);
            });
          }
          if (record.usageKey && others.length === 1 && back.length === 1) await updateTenant(record.tenantId, { usageKey: { ...key, plan: others[0] } });
          throw e;
        }
      }
    }
    key = { ...key, plan };
  }
  await updateTenant(record.tenantId, { usageKey: key });
  return { keyId: key.id, plan };
});
