import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { configWith } from '../../support/config-with.js';

/**
 * `business`: professional's settings under another name, with a pool of its own (pools must be
 * disjoint). Its tenant network is cut as professional's (a /20, 2 AZs, egress), so a tenant keeps
 * its VPC and subnets moving between the two; the default tiers' networks all differ, and a move
 * between them is a migration (lambdas/lifecycle/tier-migration.ts).
 */
export function businessTier(): PlatformConfig['tiers'][string] {
  const tier = structuredClone(DEFAULT_CONFIG.tiers.professional);
  tier.network.tenantCidrPool = '10.128.0.0/12';
  return tier;
}

/** The default config with `business` added: the one config of the files that move a tenant between tiers (one blueprint synthesis for them all, disk-cached). */
export function configWithBusinessTier(): PlatformConfig {
  return configWith({ tiers: { business: businessTier() } });
}
