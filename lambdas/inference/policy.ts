import type { ModelEntry, PlatformConfig, TierConfig } from '../../lib/config/schema.js';
import { GatewayPolicy, type TenantRecord } from '../../lib/tenant-record.js';
import { didYouMean } from './model-suggestions.js';
import { modelNotFound, type GatewayError } from './openai-errors.js';
import type { ProviderName } from './providers/registry.js';
import type { BudgetLimits } from './stores/gateway-store.js';

/** What a tenant may do at the gateway: its tier's allowance narrowed by its own policy. */
export interface TenantPolicy {
  tenantId: string;
  tier: TierConfig;
  gateway: GatewayPolicy;
  /** Models the tenant may call, by id. */
  models: Map<string, ModelEntry>;
  /**
   * Models the tenant may call but this gateway does not serve (their provider is not among
   * `served`), by id, with that provider: a request for one is still a 404, which says so.
   * @default - none (every provider served)
   */
  unserved?: Map<string, ProviderName>;
  /**
   * The ids in `unserved` of kind `moderation`, in catalog order: what a moderations request that
   * names no model would get if this gateway served their provider (moderations/default-model.ts
   * says so instead of "the tier allows none"). @default - none
   */
  unservedModeration?: string[];
  /**
   * The tenant's fine-tuned models' creation times (Unix seconds, from the registry's `createdAt`),
   * by id: OpenAI's `Model.created` for them (catalog models have none). @default - none
   */
  fineTunedCreated?: Map<string, number>;
  /**
   * Names that stand for a catalog id, alias → id: the platform's `gateway.modelAliases`, and
   * `default` → the tenant's `defaultModel` when it sets one (it wins over a platform alias
   * `default`; a `defaultModel` that is itself a platform alias is followed once). Every tenant gets
   * every alias: whether the caller may use one is whether it may use its target (`models`).
   * @default - none
   */
  aliases?: ReadonlyMap<string, string>;
  limits: BudgetLimits;
  rate: { minute: number; hour: number; day: number };
}

/**
 * A configured `sagemaker/ft:<base>:<tenant>:<suffix>[:<job part>]` model belongs to that tenant alone, and so
 * does a model invoked as a tenant's model-invoker role (`tessera-<tenant>-model-invoker`).
 */
const ownsModel = (tenantId: string, m: ModelEntry) => {
  const invoker = /:role\/tessera-(.+)-model-invoker$/.exec(m.invokeRoleArn ?? '')?.[1];
  return (!m.id.startsWith('sagemaker/ft:') || m.id.split(':')[2] === tenantId) && (invoker === undefined || invoker === tenantId);
};

/** `<provider>/<model>`; a tenant's fine-tuned `ft:<base>:<tenant>:<suffix>:<job part>` (or a legacy `ft:<base>:<tenant>:<suffix>`) runs on its SageMaker endpoint. */
export const providerOf = (model: ModelEntry) => (model.id.startsWith('ft:') ? 'sagemaker' : model.id.split('/')[0]) as ProviderName;

/** The tenant's fine-tuned models as gateway models: its endpoint, invoked as its model-invoker role, priced as the base. */
function fineTunedEntries(config: PlatformConfig, tenant: TenantRecord): Array<[string, ModelEntry]> {
  return (tenant.fineTunedModels ?? []).flatMap((m) => {
    const base = config.fineTuning.baseModels.find((b) => b.id === m.baseModel);
    if (!base || m.id.split(':')[2] !== tenant.tenantId) return [];
    const entry: ModelEntry = {
      id: m.id, upstream: m.endpointName, inputPricePer1k: base.inputPricePer1k, outputPricePer1k: base.outputPricePer1k,
      maxOutputTokens: base.maxOutputTokens, invokeRoleArn: m.invokeRoleArn,
    };
    return [[m.id, entry] as [string, ModelEntry]];
  });
}

/**
 * What `tenant` may do at the gateway: its tier's models narrowed to its own (fine-tuned models
 * included), its policy with defaults, its budgets and rate limits.
 * @param served providers this gateway can reach (`tessera serve` without AWS credentials serves
 *   no bedrock or sagemaker model): the others' models, the tenant's fine-tuned ones included, are
 *   left out, so they are neither listed nor retrievable (they go to `unserved`). @default - every provider
 * @param withheld catalog models a caller took out of `config` because their provider is not
 *   served (local-gateway.ts): the tenant's among them go to `unserved` too. @default - none
 * @throws Error when the tenant's tier is not in the config
 */
export function resolvePolicy(config: PlatformConfig, tenant: TenantRecord, served?: ReadonlySet<ProviderName>, withheld: readonly ModelEntry[] = []): TenantPolicy {
  const tier = config.tiers[tenant.tier];
  if (!tier) throw new Error(`tenant ${tenant.tenantId} has tier "${tenant.tier}", which the config does not define`);
  const gateway = GatewayPolicy.parse(tenant.gateway ?? {});
  const allowAll = tier.models.allowed.includes('*');
  const tenants = (catalog: readonly ModelEntry[]) => catalog
    .filter((m) => tier.models.providers.includes(m.id.split('/')[0] as never))
    .filter((m) => allowAll || tier.models.allowed.includes(m.id))
    .filter((m) => ownsModel(tenant.tenantId, m))
    .map((m) => [m.id, m] as [string, ModelEntry]);
  const candidates = tenants(config.gateway.models).concat(fineTunedEntries(config, tenant));
  const models = new Map(candidates.filter(([, m]) => !served || served.has(providerOf(m))));
  const notServed = served ? candidates.concat(tenants(withheld)).filter(([, m]) => !served.has(providerOf(m))) : [];
  const unserved = served && new Map(notServed.map(([id, m]) => [id, providerOf(m)] as [string, ProviderName]));
  const unservedModeration = notServed.filter(([, m]) => m.kind === 'moderation').map(([id]) => id);
  const aliases = aliasesOf(config, gateway);
  return {
    tenantId: tenant.tenantId,
    tier,
    gateway,
    models,
    ...(unserved?.size ? { unserved } : {}),
    ...(unservedModeration.length ? { unservedModeration } : {}),
    ...(aliases.size ? { aliases } : {}),
    ...(tenant.fineTunedModels?.length ? { fineTunedCreated: new Map(tenant.fineTunedModels.map((m) => [m.id, Math.floor(Date.parse(m.createdAt) / 1000) || 0])) } : {}),
    limits: { dayTokens: tier.limits.tokensPerDay, ...(tier.limits.tokensPerMinute !== undefined ? { minuteTokens: tier.limits.tokensPerMinute } : {}), monthTokens: gateway.monthlyTokenBudget, monthCostUsd: gateway.monthlyCostBudgetUsd },
    rate: { minute: tier.limits.requestsPerMinute, hour: tier.limits.requestsPerHour, day: tier.limits.requestsPerDay },
  };
}

/**
 * The names a tenant's requests may use for catalog ids: `gateway.modelAliases` (in config order),
 * then `default` → the tenant's `defaultModel` (through a platform alias when it names one).
 */
function aliasesOf(config: PlatformConfig, gateway: GatewayPolicy): Map<string, string> {
  const platform = config.gateway.modelAliases ?? {};
  const aliases = new Map(Object.entries(platform));
  const own = gateway.defaultModel;
  if (own && own !== 'default') aliases.set('default', Object.prototype.hasOwnProperty.call(platform, own) ? platform[own] : own);
  return aliases;
}

/**
 * The catalog id the caller's `requested` model name stands for: an alias's target (the tenant's
 * `default` included), else `requested` itself. Whether the caller may use it is for
 * `policy.models` to say.
 */
export function catalogIdOf(policy: Pick<TenantPolicy, 'aliases'>, requested: string): string {
  return policy.aliases?.get(requested) ?? requested;
}

/** Policies cached per tenant for `ttlMs` (the registry is read once a minute, not once a request). */
export class PolicyCache {
  private readonly cache = new Map<string, { policy: TenantPolicy; updatedAt: string; until: number }>();
  constructor(private readonly config: PlatformConfig, private readonly ttlMs = 60_000, private readonly served?: ReadonlySet<ProviderName>, private readonly withheld: readonly ModelEntry[] = []) {}

  get(tenant: TenantRecord): TenantPolicy {
    const hit = this.cache.get(tenant.tenantId);
    if (hit && hit.until > Date.now() && hit.updatedAt === tenant.updatedAt) return hit.policy;
    const policy = resolvePolicy(this.config, tenant, this.served, this.withheld);
    this.cache.set(tenant.tenantId, { policy, updatedAt: tenant.updatedAt, until: Date.now() + this.ttlMs });
    return policy;
  }
}

/**
 * The caller's model ids that are `id` with a provider in front (`openai/gpt-4o-mini` for
 * `gpt-4o-mini`), at most 3: for the 404 of a client that dropped the provider. Only the caller's
 * own models are named.
 */
export function modelsWithProvider(policy: Pick<TenantPolicy, 'models'>, id: string): string[] {
  if (!id || id.includes('/')) return [];
  const suffix = `/${id}`;
  return [...policy.models.keys()].filter((m) => m.endsWith(suffix) && m.indexOf('/') === m.length - suffix.length).slice(0, 3);
}

/**
 * The 404 `model_not_found` for `id` as the caller's policy sees it (openai-errors.ts modelNotFound):
 * unserved here, or the caller's ids with a provider in front, the Agents SDK hint only when the
 * first of them is a chat model.
 * @param target the catalog id `id` stands for, when `id` is an alias (catalogIdOf): the 404 is the
 *   target's (not served here when the target is not), naming `id`, the name the caller sent; it
 *   does not name the target, which the caller may not use. @default id
 * Otherwise the nearest of the caller's own model ids and aliases, or for a library's default model one of the
 * caller's models of its kind (model-suggestions.ts didYouMean), never another tenant's id.
 */
export function modelNotFoundFor(policy: Pick<TenantPolicy, 'models' | 'unserved' | 'aliases'>, id: string, target = id): GatewayError {
  const suggestions = modelsWithProvider(policy, id);
  const first = suggestions[0] === undefined ? undefined : policy.models.get(suggestions[0]);
  return modelNotFound(id, policy.unserved?.get(target), suggestions, (first?.kind ?? 'chat') === 'chat', suggestions.length ? undefined : didYouMean(policy, id));
}
