import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
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

/**
 * The tenant's usage key in its tier's API Gateway usage plan (per-tier rate, burst and daily
 * quota at the edge): `issue` on onboarding and after a tier change (moves the key to the new
 * plan), `revoke` at offboarding. Idempotent.
 */
export const handler = lifecycleHandler('Manage usage key', async (state: LifecycleState & { usageKey: 'issue' | 'revoke' }) => {
  const record = await requireTenant(state.request.tenantId);
  const api = platformClient(APIGatewayClient);
  const tier = state.change?.tier ?? record.tier;
  if (state.usageKey === 'revoke') {
    if (record.usageKey) {
      try {
        await api.send(new DeleteApiKeyCommand({ apiKey: record.usageKey.id }));
      } catch (e) {
        if ((e as Error).name !== 'NotFoundException') throw e;
      }
      await updateTenant(record.tenantId, { usageKey: undefined });
    }
    return { revoked: true };
  }
  const plan = await planId(api, tier);
  let key = record.usageKey;
  if (!key) {
    const value = randomBytes(24).toString('hex');
    const created = await api.send(new CreateApiKeyCommand({ name: `tessera-${record.tenantId}`, value, enabled: true, tags: { 'tessera:tenant-id': record.tenantId } }));
    key = { id: created.id!, value, plan: '' };
  }
  if (key.plan !== plan) {
    if (key.plan) {
      try {
        await api.send(new DeleteUsagePlanKeyCommand({ usagePlanId: key.plan, keyId: key.id }));
      } catch (e) {
        if ((e as Error).name !== 'NotFoundException') throw e;
      }
    }
    try {
      await api.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan, keyId: key.id, keyType: 'API_KEY' }));
    } catch (e) {
      if ((e as Error).name !== 'ConflictException') {
        // A key in no plan cuts the tenant off at the edge: put it back in the plan it was in, then fail.
        if (key.plan) await api.send(new CreateUsagePlanKeyCommand({ usagePlanId: key.plan, keyId: key.id, keyType: 'API_KEY' })).catch(() => undefined);
        throw e;
      }
    }
    key = { ...key, plan };
  }
  await updateTenant(record.tenantId, { usageKey: key });
  return { keyId: key.id, plan };
});
