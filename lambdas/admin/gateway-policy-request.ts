import { z } from 'zod';
import { CostBudgetUsd, SubjectLimitsRequest } from '../../lib/identity/subject-limits.js';
import { GatewayPolicy, GUARDRAIL_ID, ResponseCacheFields, ttlWithinMaximum } from '../../lib/tenant-record.js';
import { withoutProtoKey } from '../../lib/proto-key.js';
import { requestErrorMap } from '../../lib/request-issues.js';

/**
 * The body of `PUT /admin/tenants/{id}/gateway`: a whole GatewayPolicy (lib/tenant-record.ts), which
 * replaces the tenant's; and the policy a `PATCH` (a merge patch: mergePatch) makes, parsed alike. Strict at every level: a key the policy does not know (a typo such as
 * `allowedOrigin`, or `guardrails.redactPII`) is refused with a 400 naming it, never dropped.
 * Defaults are those of GatewayPolicy (absent `allowedOrigins` = no browser origin, absent
 * `storeResponses` = responses may be stored).
 */
export const GatewayPolicyRequest = GatewayPolicy.extend({
  guardrails: GatewayPolicy.shape.guardrails.unwrap().extend({
    // what ApplyGuardrail takes (GUARDRAIL_ID); checked here, where a policy is written, not where records are read
    bedrockGuardrailId: z.string().regex(GUARDRAIL_ID, 'must be a Bedrock guardrail id or ARN, optionally with :<version> (digits or DRAFT), e.g. abc123def456:1').optional(),
  }).strict().optional(),
  // budgets as they are written: one nano-dollar to USD 9M (lib/identity/subject-limits.ts CostBudgetUsd)
  monthlyCostBudgetUsd: CostBudgetUsd.optional(),
  userLimits: SubjectLimitsRequest.optional(),
  // a record: z.record would skip a `__proto__` key unchecked, and the policy be stored without it (withoutProtoKey)
  bedrockInferenceProfiles: withoutProtoKey(GatewayPolicy.shape.bedrockInferenceProfiles.unwrap(), 'the key __proto__ cannot be kept by this gateway; use another key').optional(),
  // strict inside too: `responseCache.ttl` (for ttlSeconds) is a 400 naming it, not a cache that never turns on
  responseCache: ResponseCacheFields.strict().refine(...ttlWithinMaximum).optional(),
}).strict();

/**
 * Parses a request body into the policy to store.
 * @returns the policy with GatewayPolicy's defaults filled in, or zod's error for the caller's 400
 */
export function parseGatewayPolicy(body: unknown): { success: true; data: GatewayPolicy } | { success: false; error: z.ZodError } {
  // zod's generic messages said as the other admin routes say them (lib/request-issues.ts: `must be a number, not a string`).
  const strict = GatewayPolicyRequest.safeParse(body, { error: requestErrorMap });
  if (!strict.success) return strict;
  return { success: true, data: GatewayPolicy.parse(body) };
}

/**
 * JSON Merge Patch (RFC 7396 §2, MergePatch): `patch` applied to `target`. A patch that is not an object replaces the
 * target; an object's members merge key by key into the target's (a target that is not an object counts as `{}`): `null`
 * removes the key, an object merges further, anything else (an array included: arrays replace whole) replaces it.
 * Neither argument is changed.
 * @returns the patched value (a new object where the patch is one)
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    // An own property even for `__proto__` (JSON.parse makes it one): an assignment would set the result's prototype,
    // whose keys the policy's parser reads as if sent, and which its strict check of unknown keys never sees.
    else Object.defineProperty(result, key, { value: mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** The object schema under `schema`'s optional and default wrappers, or undefined when it is no object (a record, an array, a value). */
function objectOf(schema: z.ZodType): z.ZodObject | undefined {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? s : undefined;
}

/**
 * The path (`guardrails.redactPII`) of the first `null` in a merge patch of the policy that removes a key the policy
 * (GatewayPolicyRequest) does not have, where its schema is an object; undefined when there is none. A merge patch's
 * other keys are checked by parsing the merged policy, which is strict; a removal leaves nothing there to check.
 */
export function unknownRemovedKey(patch: object, schema: z.ZodType = GatewayPolicyRequest, at = ''): string | undefined {
  const object = objectOf(schema);
  if (!object) return undefined;
  for (const [key, value] of Object.entries(patch)) {
    const path = at ? `${at}.${key}` : key;
    const field = Object.hasOwn(object.shape, key) ? object.shape[key] as z.ZodType : undefined;
    if (value === null && !field) return path;
    if (field && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const inner = unknownRemovedKey(value, field, path);
      if (inner) return inner;
    }
  }
  return undefined;
}

/**
 * The keys the policy (GatewayPolicyRequest) has at `path` (`[]`: its top-level keys; `['guardrails']`: a guardrails
 * object's), in the schema's order: what a 400 for an unknown key there lists, and where its nearest key is looked for.
 * @returns an empty list when `path` leads to no object of the schema
 */
export function policyKeysAt(path: readonly PropertyKey[], schema: z.ZodType = GatewayPolicyRequest): string[] {
  let object = objectOf(schema);
  for (const key of path) {
    const field = object && typeof key === 'string' && Object.hasOwn(object.shape, key) ? object.shape[key] as z.ZodType : undefined;
    object = field && objectOf(field);
  }
  return object ? Object.keys(object.shape) : [];
}
