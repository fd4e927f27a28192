import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand, GetApiKeysCommand, GetUsagePlansCommand, type ApiKey } from '@aws-sdk/client-api-gateway';
import { randomBytes } from 'node:crypto';
import { platformClient } from '../shared/aws-clients.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, requireTenant, updateTenant, type UpdateOptions } from '../shared/registry.js';
import type { LifecycleKind, TenantRecord } from '../../lib/tenant-record.js';
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

/** A usage plan as GetUsagePlans lists it: its id and name (`tessera-<tier>` for a tier's plan). */
interface PlanRef { id: string; name?: string }

/**
 * The usage plans API Gateway has `keyId` in (GetUsagePlans' `keyId` filter, every page; one call for a key in fewer
 * than 500 plans): what the key is subject to, whatever the registry's `usageKey.plan` says (a move whose record was
 * not written, a Lambda timeout between the two, a key put in another plan by hand).
 */
async function plansOfKey(api: APIGatewayClient, keyId: string): Promise<PlanRef[]> {
  const plans: PlanRef[] = [];
  let position: string | undefined;
  do {
    const out = await api.send(new GetUsagePlansCommand({ keyId, position, limit: 500 }));
    plans.push(...(out.items ?? []).flatMap((p) => (p.id ? [{ id: p.id, name: p.name }] : [])));
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

type UsageKey = NonNullable<TenantRecord['usageKey']>;

/**
 * Moves `key` into usage plan `plan` (id) out of every other plan API Gateway has it in (plansOfKey), with the registry
 * writes of the handler's move (see the handler): `plan: ''` on record first, the plan once the key is in it. Writes go
 * under `options` (registry.ts UpdateOptions; the step's lease by default).
 * `found`: the plans the key is in, when the caller has just read them (plansOfKey); read here otherwise.
 * @returns the key as it now stands (`plan` the new plan, no `movePending`)
 * @throws what API Gateway throws (CreateUsagePlanKey refused: the key is put back first), TenantBusy/TenantConflict from the registry
 */
async function movePlan(api: APIGatewayClient, record: TenantRecord, key: UsageKey, plan: string, options: UpdateOptions = {}, found?: PlanRef[]): Promise<UsageKey> {
  const inPlans = (found ?? (await plansOfKey(api, key.id))).map((p) => p.id);
  // On record before the move: the plan is not known until the move is recorded (a timeout in between leaves `''`, not a plan the key has left).
  if (record.usageKey) await updateTenant(record.tenantId, { usageKey: { ...key, plan: '' } }, options);
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
        if (record.usageKey && others.length === 1 && back.length === 1) await updateTenant(record.tenantId, { usageKey: { ...key, plan: others[0] } }, options);
        throw e;
      }
    }
  }
  const { movePending: _done, ...moved } = key;
  return { ...moved, plan };
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
  if (key.plan !== plan) key = await movePlan(api, record, key, plan);
  // A move a recorded standing left pending (settleUsageKey) is done by this one: the key is in its tier's plan now.
  const { movePending: _done, ...placed } = key;
  await updateTenant(record.tenantId, { usageKey: placed });
  return { keyId: key.id, plan };
});

/**
 * What settleUsageKey did: `moved` into the tier's plan, already `in-plan`, `pending` (the move failed: recorded
 * `usageKey.movePending`), `left` to an operation that holds the tenant (or a tenant no longer ACTIVE), `no-key`, or
 * (`verify` only) `unchecked`: API Gateway could not be asked which plans the key is in (nothing written; the next
 * drift check asks again).
 */
export interface UsageKeySettlement {
  outcome: 'moved' | 'in-plan' | 'pending' | 'left' | 'no-key' | 'unchecked';
  /** For the failure's reason or the log: what was done or is left to do, naming the tier and plan. */
  note?: string;
}

/**
 * Puts the tenant's usage key in the usage plan of the tier the registry now records (`tessera-<tier>`), after a tier
 * was recorded outside *Move usage key*: the standing of a tenant stack whose update went through after the change or
 * upgrade ended (stack-standing.ts: *Record failure*, *End stopped execution*, *Check drift*). The change's own *Move
 * usage key* never ran, so the key stayed in the old tier's plan and the edge enforced the old tier's rate, burst and
 * daily quota while the registry, the router and billing said the new tier. The move is the one *Move usage key* makes
 * (movePlan: CreateUsagePlanKey/DeleteUsagePlanKey against the plans API Gateway has the key in; idempotent).
 *
 * Only an existing key is moved (a tenant without `usageKey` has none to move: `no-key`); run with no lease held, its
 * writes carry no lease condition (`holder: null`) but require the tenant ACTIVE, and it moves nothing for a tenant an
 * operation took since the standing was written (`left`: that operation's *Move usage key* places the key, an
 * offboarding revokes it) or that is no longer ACTIVE. Best effort: a move that fails (API Gateway, the plan missing, the record taken by an operation meanwhile) is recorded as
 * `usageKey.movePending` (tier, time, error), shown by `tessera tenants show`, and made by the next *Check drift*
 * (daily, or `tessera tenants drift --detect <id>`) or by the next change's or upgrade's *Move usage key*; never thrown.
 *
 * `verify` (the daily *Check drift*, for every ACTIVE tenant): the recorded `usageKey.plan` is not trusted; API Gateway
 * is asked which plans the key is in (one GetUsagePlans with `keyId`), and a key in no plan, in another tier's, or in
 * two is moved as above (a tenant made inconsistent before the tier followed the standing, or by hand). A key in its
 * tier's plan alone, recorded so, costs that one call and writes nothing. Without `verify` the recorded plan is trusted.
 * @param tenantId the tenant whose recorded tier the key is to follow (read fresh: the standing is written by then)
 * @param options.verify ask API Gateway where the key is instead of trusting the record; @default false
 * @returns what was done; `note` names the tier and the plan (and, verified, the plans the key was found in)
 */
export async function settleUsageKey(tenantId: string, options: { verify?: boolean } = {}): Promise<UsageKeySettlement> {
  let record: TenantRecord | undefined;
  try {
    record = await getTenant(tenantId);
  } catch (e) {
    logger.warn('could not read the tenant to move its usage key', { tenantId, error: e as Error });
    return { outcome: 'pending', note: `usage key not checked against the recorded tier (the registry could not be read: ${(e as Error).name}); the next drift check does it` };
  }
  if (!record?.usageKey) return { outcome: 'no-key' };
  const key = record.usageKey;
  const tier = record.tier;
  // An operation took the tenant since the standing was written (its own steps place or revoke the key), or it is no
  // longer ACTIVE: nothing is moved nor written (a write could bring back a key an offboarding revoked meanwhile).
  const other = record.lease ? `the tenant is held by ${record.lease.kind} ${record.lease.executionArn}` : record.status !== 'ACTIVE' ? `the tenant is ${record.status}, not ACTIVE` : undefined;
  if (other) {
    logger.warn('usage key not moved into its tier\'s plan: left to the tenant\'s next operation or drift check', { tenantId, tier, why: other });
    return { outcome: 'left', note: `usage key ${key.id} not moved into the usage plan of tier ${tier}: ${other}; its operation's Move usage key, or the next drift check, places it` };
  }
  const api = platformClient(APIGatewayClient);
  let found: PlanRef[] | undefined;
  if (options.verify) {
    try {
      found = await plansOfKey(api, key.id);
    } catch (e) {
      logger.warn('could not read the usage plans of the usage key', { tenantId, tier, error: e as Error });
      return { outcome: 'unchecked', note: `usage key ${key.id} not checked against the usage plan of tier ${tier} (GetUsagePlans keyId=${key.id}: ${(e as Error).name}: ${(e as Error).message}); the next drift check asks again` };
    }
    // In its tier's plan alone, recorded so: that one call, nothing written.
    if (found.length === 1 && found[0].name === usagePlanName(tier) && found[0].id === key.plan && !key.movePending) return { outcome: 'in-plan' };
  }
  try {
    const plan = found?.find((p) => p.name === usagePlanName(tier))?.id ?? await planId(api, tier);
    if (!found && key.plan === plan && !key.movePending) return { outcome: 'in-plan' };
    const moved = await movePlan(api, record, key, plan, { holder: null, expectStatus: ['ACTIVE'] }, found);
    await updateTenant(tenantId, { usageKey: moved }, { holder: null, expectStatus: ['ACTIVE'] });
    const was = found ? ` (it was in ${found.length ? found.map((p) => p.name ?? p.id).join(' and ') : 'no usage plan'}${found.length === 1 && found[0].id === plan ? `; the record said plan '${key.plan}'` : ''})` : '';
    return { outcome: 'moved', note: `usage key ${key.id} moved into usage plan ${usagePlanName(tier)} (${plan}) of tier ${tier}${was}` };
  } catch (e) {
    const error = `${(e as Error).name}: ${(e as Error).message}`;
    logger.warn('could not move the usage key into its tier\'s plan; recorded pending', { tenantId, tier, error: e as Error });
    const now = await getTenant(tenantId).catch(() => undefined);
    const current = now?.usageKey ?? key;
    // ACTIVE only: an operation that took the tenant meanwhile (an offboarding revoking the key) is not written over.
    await updateTenant(tenantId, { usageKey: { ...current, movePending: { tier, at: new Date().toISOString(), error: error.slice(0, 500) } } }, { holder: null, expectStatus: ['ACTIVE'] })
      .catch((again: unknown) => logger.warn('could not record the pending move of the usage key', { tenantId, error: again as Error }));
    return { outcome: 'pending', note: `usage key ${key.id} not moved into usage plan ${usagePlanName(tier)} of tier ${tier} (${error}): recorded pending (usageKey.movePending); the next drift check (tessera tenants drift --detect ${tenantId}) or change moves it` };
  }
}

/**
 * The usage key after a change or upgrade ended without its own *Move usage key* (*Record failure*, *End stopped
 * execution*), once the failure is written (no lease, the tenant back to ACTIVE): the key is put in the usage plan of the
 * tier the registry records now (settleUsageKey, the record's plan trusted: one GetUsagePlans when it is right). That
 * tier is the stack's: the standing this ending recorded (`standingTier`), or the one *Check blueprint* recorded when the
 * tenant stack completed its update, before a later step failed (the namespace, the customizations, *Move usage key*
 * itself) or the execution stopped. Before, only a standing moved the key: after a failure past *Check blueprint* the
 * registry said the new tier while the key stayed in the old tier's plan, and the edge enforced the old tier's rate,
 * burst and daily quota until the next drift run.
 * @param kind the operation that ended (only `change` and `upgrade` move a tier)
 * @param before the record as it was read before the failure was written (a tenant without `usageKey` has none to move)
 * @param standingTier the tier the ending recorded from the stack's standing, if any
 * @returns the settlement when the standing recorded a tier or the key was not in the recorded tier's plan (`moved`,
 *   `pending`, `left`); undefined when there is nothing to say (no key, another kind, the key already in its plan)
 */
export async function usageKeyAfterEndedChange(kind: LifecycleKind, before: TenantRecord, standingTier: string | undefined): Promise<UsageKeySettlement | undefined> {
  if (!before.usageKey || (kind !== 'change' && kind !== 'upgrade')) return undefined;
  const settled = await settleUsageKey(before.tenantId);
  return standingTier || settled.outcome !== 'in-plan' ? settled : undefined;
}
