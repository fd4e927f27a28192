import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { managementAccountWarnings } from '../../../lib/config/management-account.js';
import { configErrorOf } from '../../support/config-errors.js';

const MANAGEMENT = '111122223333';

describe('the management account (SCPs do not apply there)', () => {
  it('refuses the workload account of VPC tenants as the management account, naming both keys and the id', () => {
    // GIVEN workloadAccountId equal to organization.managementAccountId, WHEN the config loads, THEN synth is refused at workloadAccountId
    const message = configErrorOf({ organization: { managementAccountId: MANAGEMENT }, workloadAccountId: MANAGEMENT });
    expect(message).toMatch(/workloadAccountId = "111122223333": is organization\.managementAccountId \(111122223333\): service control policies do not apply to the management account/);
    expect(message).toMatch(/set workloadAccountId to a member account/);
  });

  it('allows the platform in the management account (an organization trail), with a warning', () => {
    // GIVEN platformAccountId equal to the management account, WHEN the config loads, THEN it is valid and one warning names the key and id
    const config = loadConfig({ overrides: { organization: { managementAccountId: MANAGEMENT }, platformAccountId: MANAGEMENT } });
    expect(managementAccountWarnings(config)).toEqual([expect.stringMatching(/^platformAccountId = "111122223333": is organization\.managementAccountId: service control policies do not apply/)]);
  });

  it('warns about nothing when every account is a member account', () => {
    expect(managementAccountWarnings(loadConfig())).toEqual([]);
  });
});
