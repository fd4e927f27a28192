import { describe, expect, it } from 'vitest';
import { GatewayPolicyRequest } from '../../../lambdas/admin/gateway-policy-request.js';
import { CreateApiKeyRequest } from '../../../lib/identity/api-key-record.js';
import { MIN_COST_BUDGET_USD } from '../../../lib/identity/subject-limits.js';
import { MICRO } from '../../../lambdas/inference/stores/model-usage.js';
import { GatewayPolicy } from '../../../lib/tenant-record.js';

describe('cost budgets are at least one micro-dollar where they are written', () => {
  it('is the stores\' unit: a smaller budget rounds to 0 there', () => {
    expect(MIN_COST_BUDGET_USD * MICRO).toBe(1);
    expect(Math.round(4e-7 * MICRO)).toBe(0);
  });

  it('refuses a tenant policy\'s monthlyCostBudgetUsd or userLimits.monthlyCostUsd under it, naming the path; a record stored before stays readable', () => {
    for (const [body, path] of [[{ monthlyCostBudgetUsd: 1e-7 }, ['monthlyCostBudgetUsd']], [{ userLimits: { monthlyCostUsd: 4e-7 } }, ['userLimits', 'monthlyCostUsd']]] as const) {
      expect(GatewayPolicy.safeParse(body).success).toBe(true);
      const out = GatewayPolicyRequest.safeParse(body);
      expect(out.success).toBe(false);
      expect(out.error!.issues[0]).toMatchObject({ path, message: expect.stringMatching(/^must be at least 0\.000001 \(one micro-dollar\): budgets are counted in micro-dollars, and a smaller one rounds to 0, which refuses every priced request$/) });
    }
    expect(GatewayPolicyRequest.safeParse({ monthlyCostBudgetUsd: 0.000001, userLimits: { monthlyCostUsd: 0.5, tokensPerDay: 10 } }).success).toBe(true);
    // still strict inside userLimits
    expect(GatewayPolicyRequest.safeParse({ userLimits: { monthlyCostUsd: 1, tokensPerMinute: 5 } }).success).toBe(false);
  });

  it('refuses a key\'s limits.monthlyCostUsd under it', () => {
    expect(CreateApiKeyRequest.safeParse({ name: 'x', limits: { monthlyCostUsd: 4e-7 } }).success).toBe(false);
    expect(CreateApiKeyRequest.safeParse({ name: 'x', limits: { monthlyCostUsd: 0.000001 } }).success).toBe(true);
    expect(CreateApiKeyRequest.safeParse({ name: 'x', limits: { monthlyCostUsd: 1, tokensPerMinute: 5 } }).success).toBe(false);
  });
});
