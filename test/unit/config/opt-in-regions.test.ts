import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

// s27e: a config with an account-isolation tier homed (or with its DR) in an opt-in region synthesized, and every
// onboarding of that tier would fail: the account CreateAccount makes has the region disabled, and Tessera enables none.
describe('config: account-isolation tiers and opt-in regions', () => {
  it('refuses an opt-in homeRegion while a tier isolates by account, naming the tier', () => {
    const message = configErrorOf({ homeRegion: 'eu-south-2', allowedRegions: ['eu-south-2', 'us-east-1'] });
    expect(message).toContain('homeRegion = "eu-south-2": is an opt-in region: disabled in every account until enabled');
    expect(message).toContain('the first onboarding of tier enterprise (isolation account) would fail');
  });

  it('refuses an opt-in DR region of an account tier at tiers.<tier>.disasterRecovery.region', () => {
    const message = configErrorOf({ allowedRegions: ['us-east-1', 'me-central-1'], tiers: { enterprise: { disasterRecovery: { region: 'me-central-1', rpoHours: 4, rtoHours: 12 } } } });
    expect(message).toContain('tiers.enterprise.disasterRecovery.region = "me-central-1": is an opt-in region');
    expect(message).toContain('tier enterprise isolates by account, and its first onboarding would fail deploying the tenant\'s DR stack there');
  });

  it('accepts an opt-in region for vpc tiers (the workload account is the team\'s to enable) and regions enabled by default', () => {
    expect(() => loadConfig({ overrides: { allowedRegions: ['us-east-1', 'me-central-1'], tiers: { professional: { disasterRecovery: { region: 'me-central-1', rpoHours: 4, rtoHours: 12 } } } } })).not.toThrow();
    expect(() => loadConfig({ overrides: { tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 12 } } } } })).not.toThrow();
  });
});
