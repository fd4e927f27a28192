import { drRegionOf } from '../../config/disaster-recovery.js';
import type { PlatformConfig, TierConfig } from '../../config/schema.js';

/** A Region where a tier's blueprint creates its database, cache and (dedicated compute) EKS node groups. */
export interface TierRegion {
  readonly tier: string;
  readonly config: TierConfig;
  readonly region: string;
  /**
   * `home`: the tier blueprint, which the lifecycle deploys in the platform's Region (into the
   * workload account for `isolation: vpc`, the tenant's own account for `account`);
   * `dr`: the failover blueprint (lib/tenant-failover-stack.ts), the tier blueprint again, which the
   * failover runbook deploys in `disasterRecovery.region` when the home Region is lost.
   */
  readonly role: 'home' | 'dr';
  /** The config key that chose the Region (named in a failure's fix). */
  readonly regionKey: string;
}

/**
 * Every (tier, Region) whose resources a tier's blueprints create: each tier in `homeRegion` (the
 * doctor's `--region`, which defaults to it: the lifecycle runs there and deploys every tier
 * blueprint in its own Region, lambdas/lifecycle/blueprints.ts), and each tier with disaster
 * recovery in its `disasterRecovery.region` too. `allowedRegions` says where tenants may be (the
 * region guardrail SCP), not where the lifecycle puts them, so it adds no Region of its own.
 */
export function tierRegions(config: PlatformConfig, homeRegion: string): TierRegion[] {
  const out: TierRegion[] = [];
  for (const [tier, t] of Object.entries(config.tiers)) {
    out.push({ tier, config: t, region: homeRegion, role: 'home', regionKey: 'homeRegion' });
    const dr = drRegionOf(t);
    if (dr && dr !== homeRegion) out.push({ tier, config: t, region: dr, role: 'dr', regionKey: `tiers.${tier}.disasterRecovery.region` });
  }
  return out;
}

/** How a line names where a tier's resource is: `tier enterprise (eu-west-3)` or `tier enterprise DR (eu-west-3)`. */
export const tierWhere = (t: TierRegion) => `tier ${t.tier}${t.role === 'dr' ? ' DR' : ''} (${t.region})`;

/** A small promise cache: each key's read is made once per doctor run, however many tiers share it. */
export function once<T>(): (key: string, read: () => Promise<T>) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key, read) => {
    if (!cache.has(key)) cache.set(key, read());
    return cache.get(key)!;
  };
}
