import { modelNotFoundFor, providerOf, type TenantPolicy } from '../policy.js';
import type { ModelEntry } from '../../../lib/config/schema.js';

/**
 * OpenAI's `Model` object (`openai`'s `Model`). A catalog model: `created` 0 (the catalog has no
 * creation time), `owned_by` its provider. A tenant's fine-tuned model, as OpenAI answers for one:
 * `created` its deployment time (Unix seconds), `owned_by` the tenant (OpenAI: the organization).
 */
const modelObject = (policy: Pick<TenantPolicy, 'tenantId' | 'fineTunedCreated'>, m: ModelEntry) => {
  const created = policy.fineTunedCreated?.get(m.id);
  return created === undefined ? { id: m.id, object: 'model', created: 0, owned_by: providerOf(m) } : { id: m.id, object: 'model', created, owned_by: policy.tenantId };
};

/** `GET /v1/models`: the caller's models (chat and embedding), in OpenAI's list shape. */
export function listModels(policy: TenantPolicy): string {
  return JSON.stringify({ object: 'list', data: [...policy.models.values()].map((m) => modelObject(policy, m)) });
}

/**
 * `GET /v1/models/{model}`: one of the caller's models (chat or embedding, its own fine-tuned ones
 * included). Ids hold `/` and `:`; the official clients percent-encode `/` as `%2F` and send `:`
 * raw (`openai` for Node, and for Python 3.57 through `path_template`), other clients may send the
 * id raw: both are accepted. API Gateway REST passes the encoded form in `event.path`.
 * @param encodedId the path after `/v1/models/`, as it arrived
 * @throws GatewayError 404 `model_not_found` for an id the caller may not use (or that does not exist)
 */
export function retrieveModel(policy: TenantPolicy, encodedId: string): string {
  let id: string;
  try {
    id = decodeURIComponent(encodedId);
  } catch {
    id = encodedId;
  }
  const model = policy.models.get(id);
  if (!model) throw modelNotFoundFor(policy, id);
  return JSON.stringify(modelObject(policy, model));
}
