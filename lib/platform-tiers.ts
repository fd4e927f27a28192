import { drRegionOf } from './config/disaster-recovery.js';
import type { TierConfig } from './config/schema.js';

/** One tier of the platform config, as `GET /admin/tiers` answers it (lambdas/admin/tiers-routes.ts). */
export interface TierSummary {
  /** The tier's key under `tiers` of the platform config: what a tenant's `tier` names. */
  name: string;
  /** `account`: an AWS account per tenant; `vpc`: a VPC per tenant in the workload account. */
  isolation: TierConfig['isolation'];
  /** The region of the tier's disaster-recovery blueprint, or null for none (`disasterRecovery: none`, or absent). */
  drRegion: string | null;
}

/** The answer of `GET /admin/tiers`: every tier of the platform config, in the config's order. */
export interface TierList {
  tiers: TierSummary[];
}

/** The tiers of a platform config (`config.tiers`) as `GET /admin/tiers` answers them; nothing else of a tier is shown. */
export function tierList(tiers: Record<string, Pick<TierConfig, 'isolation' | 'disasterRecovery'>>): TierList {
  return { tiers: Object.entries(tiers).map(([name, t]) => ({ name, isolation: t.isolation, drRegion: drRegionOf(t) ?? null })) };
}
