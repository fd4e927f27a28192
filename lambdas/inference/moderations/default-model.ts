import type { ModelEntry } from '../../../lib/config/schema.js';
import { invalid } from '../openai-errors.js';
import { kindOf, type PipelineRequest } from '../pipeline.js';
import { providerOf } from '../policy.js';

/**
 * The model of a moderations request that names none (OpenAI then uses `omni-moderation-latest`):
 * the first `kind: moderation` model of the caller's, in catalog order (the tenant's tier's
 * models, narrowed to a key's `models` when it has them). The audit record gets its id and provider.
 * @throws GatewayError 400 `moderation_model_unavailable` naming `model` when the caller has none:
 *   when the caller has one that this gateway does not serve (`tessera serve` without a way to
 *   reach OpenAI: policy.ts `unservedModeration`), it names that model and its provider, as a 404
 *   for a named one does; otherwise it says which models the caller may use for moderation (none)
 *   and what to do
 */
export function defaultModerationModel(r: Pick<PipelineRequest, 'policy' | 'caller' | 'audit'>): ModelEntry {
  const model = [...r.policy.models.values()].find((m) => kindOf(m) === 'moderation');
  if (!model) {
    const keyModels = r.caller.keyId ? r.caller.key?.models : undefined;
    const whose = keyModels ? `API key ${r.caller.keyId} (limited to its models list)` : `tenant ${r.caller.tenantId}'s tier "${r.caller.tenant.tier}"`;
    const unserved = r.policy.unservedModeration?.find((id) => !keyModels || keyModels.includes(id));
    if (unserved) {
      const provider = r.policy.unserved?.get(unserved) ?? 'openai';
      throw invalid(`model is absent, and the moderation model ${whose} allows, ${unserved}, is not served by this gateway: it does not reach provider ${provider} (tessera serve's start-up lines say why)`, 'model', 'moderation_model_unavailable');
    }
    // A key limited to its models list: the fix is the key (the tier may well allow one), not the catalog.
    if (keyModels) {
      throw invalid(`model is absent, and ${whose} allows no moderation model: use a key whose models list includes one of the tier's moderation models, or a key without a models list (the catalog need not change)`, 'model', 'moderation_model_unavailable');
    }
    throw invalid(`model is absent, and ${whose} allows no moderation model (models allowed for moderation: none); the platform adds one with kind: moderation (e.g. openai/omni-moderation-latest) to the catalog and the tier's models`, 'model', 'moderation_model_unavailable');
  }
  Object.assign(r.audit, { model: model.id, provider: providerOf(model) });
  return model;
}
