import { describe, expect, it } from 'vitest';
import { budgetAlertsOf } from '../../../lib/config/budget-alerts-config.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { findPlaceholders } from '../../../lib/config/placeholders.js';
import { configErrorOf } from '../../support/config-errors.js';

describe('tiers.<tier>.budgetAlerts', () => {
  it('absent: 50, 80 and 100 percent, no mail', () => {
    expect(budgetAlertsOf(loadConfig().tiers.starter!)).toEqual({ thresholdsPercent: [50, 80, 100], emailTenantAdmins: false });
  });

  it('given: its thresholds, the rest defaulted', () => {
    const config = loadConfig({ overrides: { tiers: { starter: { budgetAlerts: { thresholdsPercent: [75, 90] } } } } });
    expect(budgetAlertsOf(config.tiers.starter!)).toEqual({ thresholdsPercent: [75, 90], emailTenantAdmins: false });
  });

  it.each([
    ['not ascending', { thresholdsPercent: [80, 50] }, /tiers\.starter\.budgetAlerts\.thresholdsPercent\[1\] = 50: is 50, not above the one before it \(80\)/],
    ['twice', { thresholdsPercent: [50, 50] }, /tiers\.starter\.budgetAlerts\.thresholdsPercent\[1\] = 50: is 50, not above/],
    ['over 100', { thresholdsPercent: [50, 120] }, /tiers\.starter\.budgetAlerts\.thresholdsPercent\[1\] = 120/],
    ['0', { thresholdsPercent: [0] }, /tiers\.starter\.budgetAlerts\.thresholdsPercent\[0\] = 0/],
    ['not whole', { thresholdsPercent: [50.5] }, /tiers\.starter\.budgetAlerts\.thresholdsPercent\[0\] = 50\.5: must be whole percents/],
    ['mail without a sender', { emailTenantAdmins: true }, /tiers\.starter\.budgetAlerts\.senderEmail.*is required when emailTenantAdmins is true/],
    ['a sender that is no address', { emailTenantAdmins: true, senderEmail: 'alerts' }, /tiers\.starter\.budgetAlerts\.senderEmail = "alerts"/],
    ['an unknown key', { thresholds: [50] }, /tiers\.starter\.budgetAlerts/],
  ])('refuses %s, naming the path', (_name, budgetAlerts, expected) => {
    expect(configErrorOf({ tiers: { starter: { budgetAlerts } } })).toMatch(expected);
  });

  it('suggests, for a missing sender, an address that synth takes, not a placeholder it refuses', () => {
    const message = configErrorOf({ tiers: { starter: { budgetAlerts: { emailTenantAdmins: true } } } });
    const suggested = /e\.g\. (\S+@[^\s,;)]+)/.exec(message)?.[1];
    expect(suggested, message).toBeDefined();
    const layer = { tiers: { starter: { budgetAlerts: { emailTenantAdmins: true, senderEmail: suggested } } } };
    const config = loadConfig({ overrides: layer });
    expect(config.tiers.starter!.budgetAlerts!.senderEmail).toBe(suggested);
    expect(findPlaceholders(layer, [{ name: 'embedded default', value: {} }, { name: 'tessera.config.yaml', value: layer }])).toEqual([]);
  });
});
