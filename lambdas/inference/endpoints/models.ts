import { providerOf, type TenantPolicy } from '../policy.js';

/** `GET /v1/models`: the caller's models, in OpenAI's list shape. */
export function listModels(policy: TenantPolicy): string {
  return JSON.stringify({ object: 'list', data: [...policy.models.values()].map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: providerOf(m) })) });
}
