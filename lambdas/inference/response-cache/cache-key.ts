import { createHash } from 'node:crypto';
import type { ModelEntry } from '../../../lib/config/schema.js';
import type { GatewayPolicy, ResponseCachePolicy } from '../../../lib/tenant-record.js';

/** What a cached answer is keyed on: everything that could make the answer to the same body differ, or make it another caller's. */
export interface CacheKeyParts {
  tenantId: string;
  /** The tenant's tier: its catalog and limits. */
  tier: string;
  /** `key:<key id>` or `user:<sub>` for `scope: caller`, `tenant` for `scope: tenant`. */
  scope: string;
  /** The route (`/v1/chat/completions`, `/v1/embeddings`). */
  route: string;
  /** The catalog entry the request's model resolved to (after the tenant's aliases): its id, upstream and settings. */
  model: ModelEntry;
  /**
   * The base URL of the model's provider in the platform's config (`gateway.providers.<provider>.baseUrl`): a server
   * re-pointed elsewhere (another self-hosted model behind the same `upstream` name) answers anew. @default - none
   * (a provider without one: Bedrock, SageMaker; a catalog entry's own deployments are in `model`)
   */
  endpoint?: string;
  /** The tenant's gateway policy as resolved (system prompt, guardrails, fallbacks, provider keys, …). */
  policy: GatewayPolicy;
  /** The request body as the endpoint read it (chat: its `file_id`s resolved to the files' bytes). */
  body: unknown;
}

/** JSON with object keys sorted at every level: the same body sent with its keys in another order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The cache key of a request: the hex SHA-256 of its parts' canonical JSON (a version tag first, so a change of
 * what is keyed starts a new cache). The tenant is in the key as well as in the store's partition; the policy is whole
 * but for `responseCache` itself (changing the TTL keeps the answers), so any other change of the tenant's policy (an
 * alias's `defaultModel`, a system prompt, PII redaction, guardrails, fallbacks, whose provider key) starts afresh.
 */
export function cacheKeyOf(parts: CacheKeyParts): string {
  const { responseCache: _ignored, ...policy } = parts.policy as GatewayPolicy & { responseCache?: ResponseCachePolicy };
  return createHash('sha256').update(canonicalJson({ v: 1, ...parts, policy })).digest('hex');
}
