import { z } from 'zod';
import { CostBudgetUsd, SubjectLimitsRequest } from '../../lib/identity/subject-limits.js';
import { GatewayPolicy, GUARDRAIL_ID } from '../../lib/tenant-record.js';

/**
 * The body of `PUT /admin/tenants/{id}/gateway`: a whole GatewayPolicy (lib/tenant-record.ts), which
 * replaces the tenant's. Strict at every level: a key the policy does not know (a typo such as
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
}).strict();

/**
 * Parses a request body into the policy to store.
 * @returns the policy with GatewayPolicy's defaults filled in, or zod's error for the caller's 400
 */
export function parseGatewayPolicy(body: unknown): { success: true; data: GatewayPolicy } | { success: false; error: z.ZodError } {
  const strict = GatewayPolicyRequest.safeParse(body);
  if (!strict.success) return strict;
  return { success: true, data: GatewayPolicy.parse(body) };
}
