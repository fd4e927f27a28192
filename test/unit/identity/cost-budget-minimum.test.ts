import { describe, expect, it } from 'vitest';
import { GatewayPolicyRequest } from '../../../lambdas/admin/gateway-policy-request.js';
import { CreateApiKeyRequest } from '../../../lib/identity/api-key-record.js';
import { MAX_COST_BUDGET_USD, MIN_COST_BUDGET_USD } from '../../../lib/identity/subject-limits.js';
import { NANO, toNanos } from '../../../lambdas/inference/stores/model-usage.js';
import { GatewayPolicy } from '../../../lib/tenant-record.js';

describe('cost budgets are one nano-dollar to USD 9M where they are written', () => {
  it('is the stores\' unit: a smaller budget rounds to 0 there, a larger one passes the integers a JS number holds exactly', () => {
    expect(MIN_COST_BUDGET_USD * NANO).toBe(1);
    expect(toNanos(4e-10)).toBe(0);
    expect(toNanos(4e-7)).toBe(400); // a 20-token text-embedding-3-small request: 0 in micro-dollars
    expect(Number.isSafeInteger(toNanos(MAX_COST_BUDGET_USD))).toBe(true);
    expect(Number.isSafeInteger(toNanos(MAX_COST_BUDGET_USD * 1.001))).toBe(false);
  });

  it('refuses a tenant policy\'s monthlyCostBudgetUsd or userLimits.monthlyCostUsd under it, naming the path; a record stored before stays readable', () => {
    for (const [body, path] of [[{ monthlyCostBudgetUsd: 1e-10 }, ['monthlyCostBudgetUsd']], [{ userLimits: { monthlyCostUsd: 4e-10 } }, ['userLimits', 'monthlyCostUsd']]] as const) {
      expect(GatewayPolicy.safeParse(body).success).toBe(true);
      const out = GatewayPolicyRequest.safeParse(body);
      expect(out.success).toBe(false);
      expect(out.error!.issues[0]).toMatchObject({ path, message: expect.stringMatching(/^must be at least 0\.000000001 \(one nano-dollar\): budgets are counted in nano-dollars, and a smaller one rounds to 0, which refuses every priced request$/) });
    }
    expect(GatewayPolicyRequest.safeParse({ monthlyCostBudgetUsd: 0.000000001, userLimits: { monthlyCostUsd: 0.0000004, tokensPerDay: 10 } }).success).toBe(true);
    const over = GatewayPolicyRequest.safeParse({ monthlyCostBudgetUsd: 9_000_001 });
    expect(over.error!.issues[0]).toMatchObject({ path: ['monthlyCostBudgetUsd'], message: expect.stringMatching(/^must be at most 9000000 \(USD\): budgets are counted in integer nano-dollars/) });
    // still strict inside userLimits
    expect(GatewayPolicyRequest.safeParse({ userLimits: { monthlyCostUsd: 1, tokensPerHour: 5 } }).success).toBe(false);
  });

  it('refuses userLimits.tokensPerMinute above userLimits.tokensPerDay, naming it; equal passes, and a record stored before stays readable', () => {
    const out = GatewayPolicyRequest.safeParse({ userLimits: { tokensPerMinute: 1000, tokensPerDay: 100 } });
    expect(out.error!.issues).toEqual([expect.objectContaining({ path: ['userLimits', 'tokensPerMinute'], message: 'must be at most tokensPerDay (100): a minute cannot use more tokens than its day' })]);
    expect(GatewayPolicyRequest.safeParse({ userLimits: { tokensPerMinute: 100, tokensPerDay: 100 } }).success).toBe(true);
    expect(GatewayPolicy.safeParse({ userLimits: { tokensPerMinute: 1000, tokensPerDay: 100 } }).success).toBe(true);
  });

  it('refuses a key\'s limits.monthlyCostUsd under it', () => {
    expect(CreateApiKeyRequest.safeParse({ name: 'x', limits: { monthlyCostUsd: 4e-10 } }).success).toBe(false);
    expect(CreateApiKeyRequest.safeParse({ name: 'x', limits: { monthlyCostUsd: 0.000000001 } }).success).toBe(true);
    expect(CreateApiKeyRequest.safeParse({ name: 'x', limits: { monthlyCostUsd: 1, tokensPerHour: 5 } }).success).toBe(false);
  });
});
