import { nearestFew } from '../../lib/config/nearest.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import type { GatewayPolicy, TenantRecord } from '../../lib/tenant-record.js';
import { ApiError } from '../shared/api-errors.js';
import { shownValue } from './admin-http.js';

/**
 * The names a tenant's gateway policy may give a model (`defaultModel`, `fallbacks[i]`), as the gateway resolves them
 * (lambdas/inference/policy.ts resolvePolicy, catalogIdOf): the platform catalog's ids (`gateway.models[].id`), the
 * platform's aliases (`gateway.modelAliases`), and the tenant's own fine-tuned models (`fineTunedModels[].id`); for a
 * fallback, `default` too when the policy sets a `defaultModel` or the platform has an alias `default`. Whether the
 * tenant's tier allows the model is not checked here: a tier change can allow it later, and the gateway skips a
 * fallback the tier does not allow (logged once).
 */
export function knownModelNames(config: Pick<PlatformConfig, 'gateway'>, tenant: Pick<TenantRecord, 'fineTunedModels'>): Set<string> {
  return new Set([
    ...config.gateway.models.map((m) => m.id),
    ...Object.keys(config.gateway.modelAliases ?? {}),
    ...(tenant.fineTunedModels ?? []).map((m) => m.id),
  ]);
}

/**
 * Up to three names of `known` that `name` likely meant: a catalog id whose upstream id is `name`
 * (`bedrock/amazon.nova-lite-v1:0` → `bedrock/amazon.nova-lite`), a catalog id that is `name` with its provider in front
 * (`gpt-4o-mini` → `openai/gpt-4o-mini`, `Llama-3.1-8B-Instruct` → `huggingface/meta-llama/Llama-3.1-8B-Instruct`, as
 * model-aliases.ts's check of an alias's target says), then the nearest by Levenshtein distance
 * (case-insensitive; at most 2 edits or a third of the name's length, lib/config/nearest.ts's bound).
 */
export function closeModelNames(name: string, known: ReadonlySet<string>, models: ReadonlyArray<{ id: string; upstream?: string }>): string[] {
  const out: string[] = [];
  const add = (id: string) => void (known.has(id) && !out.includes(id) && out.push(id));
  const bare = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
  for (const m of models) if (m.upstream !== undefined && (m.upstream === bare || m.upstream === name) && (!name.includes('/') || m.id.startsWith(name.slice(0, name.indexOf('/') + 1)))) add(m.id);
  for (const id of known) if (id.endsWith(`/${name}`)) add(id);
  nearestFew(name, [...known].sort((a, b) => a.localeCompare(b))).forEach(add);
  return out.slice(0, 3);
}

/**
 * Refuses a policy write whose `defaultModel` or a `fallbacks[i]` names no model of the platform (knownModelNames): the
 * gateway would skip such a fallback on every request and answer 404 for `default`. Only names the write changes are
 * checked: a name already stored (in `previous`, the policy read) passes, so a model removed from the catalog later does
 * not make every PATCH of another key, or a PUT of the policy as `tenants show` printed it, fail until it is fixed (the
 * gateway logs such a name once per execution environment; `tessera platform health` and doctor's `model-shutdown`
 * name the catalog's removals).
 * @throws ApiError 400 `unknown_model`, param `defaultModel` or `fallbacks[i]`, naming the value and up to three close
 *   matches (closeModelNames), else a few of the catalog's ids; nothing was written
 */
export function refuseUnknownModels(gateway: GatewayPolicy, previous: GatewayPolicy | undefined, config: Pick<PlatformConfig, 'gateway'>, tenant: Pick<TenantRecord, 'tenantId' | 'fineTunedModels'>): void {
  const known = knownModelNames(config, tenant);
  const hasDefault = gateway.defaultModel !== undefined || known.has('default');
  const check = (param: string, name: string, isFallback: boolean) => {
    if (known.has(name) || (isFallback && name === 'default' && hasDefault)) return;
    const near = closeModelNames(name, known, config.gateway.models);
    const ids = config.gateway.models.map((m) => m.id);
    const fix = near.length ? `did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`
      : `use a catalog id (${ids.length <= 6 ? ids.join(', ') : `${ids.slice(0, 6).join(', ')} and ${ids.length - 6} more: GET /v1/models lists the tenant's`}) or an alias of gateway.modelAliases`;
    const effect = isFallback ? 'the gateway would skip it on every request' : 'the gateway would answer 404 model_not_found to every request for "default"';
    throw new ApiError(400, `${param} = ${shownValue(name)}: not a model of this platform (a catalog id of gateway.models, an alias of gateway.modelAliases, or a fine-tuned model of tenant ${tenant.tenantId}), and ${effect}; ${fix} (nothing was written)`,
      'invalid_request_error', 'unknown_model', param);
  };
  if (gateway.defaultModel !== undefined && gateway.defaultModel !== previous?.defaultModel) check('defaultModel', gateway.defaultModel, false);
  const stored = new Set(previous?.fallbacks ?? []);
  gateway.fallbacks.forEach((name, i) => {
    if (!stored.has(name)) check(`fallbacks[${i}]`, name, true);
  });
}
