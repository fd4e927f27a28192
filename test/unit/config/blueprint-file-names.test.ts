import { describe, expect, it } from 'vitest';
import { blueprintFileName } from '../../../lib/config/blueprint-file-names.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

/** The default starter tier (vpc, shared compute) under a pool of its own, as a new tier. */
const newTier = () => {
  const tier = structuredClone(loadConfig({}).tiers.starter!) as { network: { tenantCidrPool: string } };
  tier.network.tenantCidrPool = '10.160.0.0/12';
  return tier;
};

describe('tier names and the blueprint catalog\'s files', () => {
  it.each([
    ['account-baseline', /tiers\.account-baseline = .*account-baseline\.template\.json, which is the platform's own account-baseline\.template\.json/],
    ['workload-provisioning-role', /tiers\.workload-provisioning-role = .*which is the platform's own workload-provisioning-role\.template\.json/],
    ['starter-namespace', /tiers\.starter-namespace = .*starter-namespace\.template\.json, which is tier starter's namespace blueprint/],
    ['enterprise-dr', /tiers\.enterprise-dr = .*enterprise-dr\.template\.json, which is tier enterprise's dr blueprint/],
  ])('refuses a tier named %s, whose tenant blueprint would replace another template in the catalog', (name, expected) => {
    expect(configErrorOf({ tiers: { [name]: newTier() } })).toMatch(expected);
  });

  it('takes a tier whose name only looks alike (no other tier before the suffix), its files its own', () => {
    const config = loadConfig({ overrides: { tiers: { 'gold-dr': newTier() } } });
    expect(Object.keys(config.tiers)).toContain('gold-dr');
    expect(blueprintFileName('gold-dr', 'tenant')).toBe('gold-dr.template.json');
  });
});
