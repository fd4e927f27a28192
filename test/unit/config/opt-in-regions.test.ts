import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { accountTierOptInRegions, tierOptInRegions } from '../../../lib/config/region-opt-in.js';
import { homedIn } from '../../support/config-with.js';

// refused an opt-in homeRegion while a tier isolated by account, and an opt-in DR region of an account tier: Tessera
// enabled no region in the accounts its onboarding creates. *Enable regions* enables them (account:EnableRegion), so
// the config takes them, and lists them for the grant (account:TargetRegion) and doctor (trusted access).
describe('config: account-isolation tiers and opt-in regions', () => {
  it('takes an opt-in homeRegion while a tier isolates by account, and lists it for that tier only', () => {
    const c = loadConfig({ overrides: homedIn('eu-south-2') });
    expect(tierOptInRegions(c.homeRegion, c.tiers.enterprise)).toEqual(['eu-south-2']);
    expect(tierOptInRegions(c.homeRegion, c.tiers.starter)).toEqual([]);
    expect(accountTierOptInRegions(c)).toEqual(['eu-south-2']);
  });

  it('takes an opt-in DR region of an account tier, listed after the home region', () => {
    const c = loadConfig({ overrides: { allowedRegions: ['us-east-1', 'me-central-1'], tiers: { enterprise: { disasterRecovery: { region: 'me-central-1', rpoHours: 4, rtoHours: 12 } } } } });
    expect(tierOptInRegions(c.homeRegion, c.tiers.enterprise)).toEqual(['me-central-1']);
    expect(accountTierOptInRegions(c)).toEqual(['me-central-1']);
  });

  it('lists none for the default config, nor for a VPC tier\'s opt-in DR region (the workload account is the team\'s to enable)', () => {
    expect(accountTierOptInRegions(loadConfig({}))).toEqual([]);
    const c = loadConfig({ overrides: { allowedRegions: ['us-east-1', 'me-central-1'], tiers: { professional: { disasterRecovery: { region: 'me-central-1', rpoHours: 4, rtoHours: 12 } } } } });
    expect(accountTierOptInRegions(c)).toEqual([]);
  });

  it('counts a region of the aws partition that aws-cdk-lib\'s table does not know yet as opt-in (every region launched after 20 March 2019 is)', () => {
    // ap-southeast-9: a name of the region shape the config takes (regionProblem) and CDK 2.276.0 does not list; AWS launches
    // no default region any more, so the account CreateAccount makes has it disabled, and the tier needs *Enable regions*.
    const c = loadConfig({ overrides: { allowedRegions: ['us-east-1', 'ap-southeast-9'], tiers: { enterprise: { disasterRecovery: { region: 'ap-southeast-9', rpoHours: 4, rtoHours: 12 } } } } });
    expect(tierOptInRegions(c.homeRegion, c.tiers.enterprise)).toEqual(['ap-southeast-9']);
    expect(accountTierOptInRegions(c)).toEqual(['ap-southeast-9']);
    expect(accountTierOptInRegions(loadConfig({ overrides: homedIn('ap-southeast-9') }))).toEqual(['ap-southeast-9']);
    // a region CDK knows keeps CDK's answer: us-west-2 is enabled by default
    const d = loadConfig({ overrides: { allowedRegions: ['us-east-1', 'us-west-2'], tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 12 } } } } });
    expect(accountTierOptInRegions(d)).toEqual([]);
  });
});
