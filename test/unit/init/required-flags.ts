import type { InitFlags } from '../../../lib/cli/init/collect-answers.js';

/**
 * A full set of the required flags of `tessera init`, with ids that are no placeholders; `accountEmail` is required while an
 * account-isolation tier is kept (the default's enterprise).
 */
export const REQUIRED_FLAGS: Required<Pick<InitFlags, 'managementAccountId' | 'organizationId' | 'rootId' | 'platformAccountId' | 'workloadAccountId' | 'homeRegion' | 'allowedRegions' | 'accountEmail'>> = {
  managementAccountId: '123456789012',
  organizationId: 'o-a1b2c3d4e5',
  rootId: 'r-ab12',
  platformAccountId: '234567890123',
  workloadAccountId: '345678901234',
  homeRegion: 'eu-west-1',
  allowedRegions: 'eu-west-1,eu-central-1',
  accountEmail: 'aws+tessera-{tenantId}@platform.acme.test',
};
