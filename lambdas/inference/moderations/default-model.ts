import type { ModelEntry } from '../../../lib/config/schema.js';
import { invalid } from '../openai-errors.js';
import { kindOf, type PipelineRequest } from '../pipeline.js';
import { providerOf } from '../policy.js';

/**
 * The model of a moderations request that names none (OpenAI then uses `omni-moderation-latest`):
 * the first `kind: moderation` model of the caller's, in catalog order (the tenant's tier's
 * models, narrowed to a key's `models` when it has them). The audit record gets its id and provider.
 * @throws GatewayError 400 `moderation_model_unavailable` naming `model` when the caller has none:
 *   it says which models the caller may use for moderation (none) and what to do
 */
export function defaultModerationModel(r: Pick<PipelineRequest, 'policy' | 'caller' | 'audit'>): ModelEntry {
  const model = [...r.policy.models.values()].find((m) => kindOf(m) === 'moderation');
  if (!model) {
    const whose = r.caller.key?.models && r.caller.keyId ? `API key ${r.caller.keyId} (limited to its models list)` : `tenant ${r.caller.tenantId}'s tier "${r.caller.tenant.tier}"`;
    throw invalid(`model is absent, and ${whose} allows no moderation model (models allowed for moderation: none); the platform adds one with kind: moderation (e.g. openai/omni-moderation-latest) to the catalog and the tier's models`, 'model', 'moderation_model_unavailable');
  }
  Object.assign(r.audit, { model: model.id, provider: providerOf(model) });
  return model;
}
