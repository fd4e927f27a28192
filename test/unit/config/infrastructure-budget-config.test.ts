import { describe, expect, it } from 'vitest';
import { budgetNotificationsKey, infrastructureBudgetName, isInfrastructureBudgetName } from '../../../lib/config/infrastructure-budget.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

const emails = ['platform-costs@your-company.com'];

describe('tiers.<tier>.infrastructureBudget', () => {
  it('given a limit and subscribers: thresholds 80 and 100 percent, actual spend only; absent on the other tiers: no budget', () => {
    const config = loadConfig({ overrides: { tiers: { enterprise: { infrastructureBudget: { monthlyLimitUsd: 25000, subscriberEmails: emails } } } } });
    expect(config.tiers.enterprise!.infrastructureBudget).toEqual({ monthlyLimitUsd: 25000, thresholdsPercent: [80, 100], forecasted: false, subscriberEmails: emails });
    expect(config.tiers.starter!.infrastructureBudget).toBeUndefined();
  });

  it('takes thresholds over 100 percent and cents, five thresholds with forecasts (ten notifications)', () => {
    const budget = { monthlyLimitUsd: 1234.5, thresholdsPercent: [50, 80, 100, 120, 150], forecasted: true, subscriberEmails: emails };
    expect(loadConfig({ overrides: { tiers: { starter: { infrastructureBudget: budget } } } }).tiers.starter!.infrastructureBudget).toEqual(budget);
  });

  it.each([
    ['no limit', { subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.monthlyLimitUsd/],
    ['a limit of 0', { monthlyLimitUsd: 0, subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.monthlyLimitUsd = 0: must be more than 0/],
    ['a limit below a cent', { monthlyLimitUsd: 10.005, subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.monthlyLimitUsd = 10\.005: must be in whole cents/],
    ['a limit of a billionth of a dollar, no whole cent', { monthlyLimitUsd: 0.000000001, subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.monthlyLimitUsd = 1e-9: must be in whole cents/],
    ['a limit as a string', { monthlyLimitUsd: '100', subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.monthlyLimitUsd = "100"/],
    ['no subscriber', { monthlyLimitUsd: 100, subscriberEmails: [] }, /tiers\.starter\.infrastructureBudget\.subscriberEmails.*at least one address/],
    ['subscribers left out', { monthlyLimitUsd: 100 }, /tiers\.starter\.infrastructureBudget\.subscriberEmails/],
    ['eleven subscribers', { monthlyLimitUsd: 100, subscriberEmails: Array.from({ length: 11 }, (_, i) => `ops${i}@your-company.com`) }, /tiers\.starter\.infrastructureBudget\.subscriberEmails.*at most 10 addresses/],
    ['a subscriber that is no address', { monthlyLimitUsd: 100, subscriberEmails: ['ops'] }, /tiers\.starter\.infrastructureBudget\.subscriberEmails\[0\] = "ops": must be an email address/],
    ['a subscriber twice', { monthlyLimitUsd: 100, subscriberEmails: ['ops@your-company.com', 'Ops@your-company.com'] }, /tiers\.starter\.infrastructureBudget\.subscriberEmails\[1\] = "Ops@your-company.com": repeats/],
    ['thresholds not ascending', { monthlyLimitUsd: 100, thresholdsPercent: [100, 80], subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.thresholdsPercent\[1\] = 80: is 80, not above the one before it \(100\)/],
    ['a threshold of 0', { monthlyLimitUsd: 100, thresholdsPercent: [0], subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.thresholdsPercent\[0\] = 0: must be at least 0\.1/],
    ['a threshold below CloudFormation\'s 0.1', { monthlyLimitUsd: 100, thresholdsPercent: [0.05, 80], subscriberEmails: emails }, /thresholdsPercent\[0\] = 0\.05: must be at least 0\.1/],
    ['a threshold above CloudFormation\'s 1000000000', { monthlyLimitUsd: 100, thresholdsPercent: [2_000_000_000], subscriberEmails: emails }, /thresholdsPercent\[0\] = 2000000000: must be at most 1000000000/],
    ['no threshold', { monthlyLimitUsd: 100, thresholdsPercent: [], subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.thresholdsPercent.*at least one threshold/],
    ['eleven thresholds', { monthlyLimitUsd: 100, thresholdsPercent: Array.from({ length: 11 }, (_, i) => 10 * (i + 1)), subscriberEmails: emails }, /tiers\.starter\.infrastructureBudget\.thresholdsPercent.*makes 11 notifications.*more than the 10 AWS Budgets keeps per budget/],
    ['six thresholds with forecasts', { monthlyLimitUsd: 100, thresholdsPercent: [50, 60, 70, 80, 90, 100], forecasted: true, subscriberEmails: emails }, /makes 12 notifications \(6 thresholds, each ACTUAL and FORECASTED\).*list at most 5 thresholds or set forecasted: false/],
  ])('refuses %s, naming the path', (_name, infrastructureBudget, expected) => {
    expect(configErrorOf({ tiers: { starter: { infrastructureBudget } } })).toMatch(expected);
  });

  it('names the budget after the tenant and its notifications key, within the 100 characters of a Budgets name', () => {
    const key = budgetNotificationsKey([{ notification: { threshold: 80 } }]);
    expect(key).toMatch(/^[0-9a-f]{8}$/);
    expect(budgetNotificationsKey([{ notification: { threshold: 80 } }])).toBe(key);
    expect(budgetNotificationsKey([{ notification: { threshold: 90 } }])).not.toBe(key);
    expect(infrastructureBudgetName('acme', key)).toBe(`tessera-acme-infrastructure-${key}`);
    expect(infrastructureBudgetName('a'.repeat(24), key).length).toBeLessThanOrEqual(100);
    expect(isInfrastructureBudgetName('acme', `tessera-acme-infrastructure-${key}`)).toBe(true);
    expect(isInfrastructureBudgetName('acme', 'tessera-acme-infrastructure')).toBe(true);
    expect(isInfrastructureBudgetName('acme', `tessera-acme-x-infrastructure-${key}`)).toBe(false);
  });
});
