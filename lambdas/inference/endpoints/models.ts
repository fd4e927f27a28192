import { catalogIdOf, modelNotFoundFor, providerOf, type TenantPolicy } from '../policy.js';
import { openAiShutdownDateOf } from '../../../lib/config/model-lifecycle.js';
import type { ModelEntry } from '../../../lib/config/schema.js';

/**
 * OpenAI's `shutdown_date` of a catalog model (`openai`'s `Model.shutdown_date?: string | null`, "the date when the model
 * will shut down"): the `YYYY-MM-DD` of OpenAI's announced shutdown (lib/config/openai-model-shutdowns.ts) for an `openai/`
 * entry, a fine-tune's by its base (model-lifecycle.ts openAiShutdownDateOf). Absent where none is known (another provider,
 * no announcement), which the official clients read as not announced (Node: undefined; Python: None).
 */
const shutdownOf = (m: ModelEntry) => {
  const date = openAiShutdownDateOf(m);
  return date === undefined ? {} : { shutdown_date: date };
};

/**
 * OpenAI's `Model` object (`openai`'s `Model`). A catalog model: `created` 0 (the catalog has no
 * creation time), `owned_by` its provider, `shutdown_date` when OpenAI announced one (shutdownOf). A tenant's
 * fine-tuned model, as OpenAI answers for one: `created` its deployment time (Unix seconds), `owned_by` the tenant
 * (OpenAI: the organization).
 */
const modelObject = (policy: Pick<TenantPolicy, 'tenantId' | 'fineTunedCreated'>, m: ModelEntry) => {
  const created = policy.fineTunedCreated?.get(m.id);
  return created === undefined ? { id: m.id, object: 'model', created: 0, owned_by: providerOf(m), ...shutdownOf(m) } : { id: m.id, object: 'model', created, owned_by: policy.tenantId };
};

/** What `owned_by` says of an alias: `alias:` and the catalog id it stands for (`alias:openai/gpt-4o-mini`). */
export const ALIAS_OWNED_BY_PREFIX = 'alias:';

/**
 * OpenAI's `Model` object of an alias: its own name as `id` (as OpenAI lists `gpt-4o` beside
 * `gpt-4o-2024-08-06`), `created` 0, and `owned_by` `alias:<catalog id>`, which says what it
 * stands for (OpenAI's `owned_by` names an owner: `system`, `openai`, an organization; the
 * target's provider owns the model, and a client reading the field learns where the name leads), and its target's
 * `shutdown_date` when it has one (requests by the alias stop working with the target).
 */
const aliasObject = (alias: string, target: ModelEntry) => ({ id: alias, object: 'model', created: 0, owned_by: `${ALIAS_OWNED_BY_PREFIX}${target.id}`, ...shutdownOf(target) });

/** The caller's aliases (policy.ts `aliases`) whose target it may use, in config order (a tenant's own `default` after the platform's). */
const usableAliases = (policy: Pick<TenantPolicy, 'aliases' | 'models'>) => [...(policy.aliases ?? [])].filter(([, target]) => policy.models.has(target));

/**
 * `GET /v1/models`: the caller's models (chat, embedding and moderation), then its aliases (those
 * whose target it may use: `gateway.modelAliases`, and `default` for a tenant with a default model),
 * in OpenAI's list shape.
 */
export function listModels(policy: TenantPolicy): string {
  const models = [...policy.models.values()].map((m) => modelObject(policy, m));
  return JSON.stringify({ object: 'list', data: [...models, ...usableAliases(policy).map(([alias, target]) => aliasObject(alias, policy.models.get(target)!))] });
}

/**
 * `GET /v1/models/{model}`: one of the caller's models (chat or embedding, its own fine-tuned ones
 * included), or one of its aliases (as listed: `owned_by` `alias:<catalog id>`). Ids hold `/` and `:`; the official clients percent-encode `/` as `%2F` and send `:`
 * raw (`openai` for Node, and for Python 3.57 through `path_template`), other clients may send the
 * id raw: both are accepted. API Gateway REST passes the encoded form in `event.path`.
 * @param encodedId the path after `/v1/models/`, as it arrived
 * @throws GatewayError 404 `model_not_found` for an id the caller may not use (or that does not exist),
 *   and for an alias whose target it may not use (the target's 404, naming the alias)
 */
export function retrieveModel(policy: TenantPolicy, encodedId: string): string {
  let id: string;
  try {
    id = decodeURIComponent(encodedId);
  } catch {
    id = encodedId;
  }
  const model = policy.models.get(id);
  if (model) return JSON.stringify(modelObject(policy, model));
  const target = catalogIdOf(policy, id);
  if (target === id || !policy.models.has(target)) throw modelNotFoundFor(policy, id, target);
  return JSON.stringify(aliasObject(id, policy.models.get(target)!));
}
