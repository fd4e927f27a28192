import { drRegionOf } from './disaster-recovery.js';
import { isOptInRegion } from './region.js';

/** The parts of a tier {@link tierOptInRegions} reads. */
interface TierRegions {
  readonly isolation: string;
  readonly disasterRecovery?: 'none' | { readonly region: string };
}

/**
 * The opt-in regions ({@link isOptInRegion}: launched after 20 March 2019, disabled in an account until enabled; a region
 * aws-cdk-lib's table does not know yet counts as one) an
 * account of `tier` needs: `homeRegion` (the account baseline, the tenant blueprint) and the tier's
 * `disasterRecovery.region` (the DR blueprint), each when it is opt-in. Only for `isolation: account`: a VPC tier's tenants
 * are in the workload account, whose regions the platform team enables (doctor: region-opt-in-checks.ts); the accounts
 * the onboarding creates (Organizations CreateAccount) have every opt-in region disabled, and *Enable regions*
 * (lambdas/lifecycle/enable-regions.ts) enables these before the first call into them.
 * Source: AWS Account Management Reference Guide, "Specify which AWS Regions your account can use",
 * https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
 * @returns the regions, home region first, without duplicates; empty for a VPC tier or when none is opt-in
 */
export function tierOptInRegions(homeRegion: string, tier: TierRegions): string[] {
  if (tier.isolation !== 'account') return [];
  const dr = drRegionOf(tier);
  return [...new Set([homeRegion, ...(dr ? [dr] : [])])].filter(isOptInRegion);
}

/**
 * The opt-in regions in which a tenant's own account holds its resources, as its record says ({@link isOptInRegion}):
 * `homeRegion` (the baseline, the tenant stack) and the recorded DR region (`disasterRecovery.region`, the DR stack, also one
 * kept RETAINED after a move to a tier without DR), each when it is opt-in; only for `isolation: account` (a VPC tenant's
 * resources are in the workload account, whose regions the platform team keeps enabled). The offboarding enables these
 * again before its first call into them (*Enable regions*): someone may have disabled one in the tenant's account since the
 * onboarding, and "the act of disabling a Region will remove all IAM access to any resources that reside in that Region"
 * (AWS Account Management API Reference, DisableRegion, https://docs.aws.amazon.com/accounts/latest/reference/API_DisableRegion.html;
 * re-enabling it makes them reachable again: "Enable or disable AWS Regions in your account",
 * https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
 * @returns the regions, home region first, without duplicates; empty for a VPC tenant or when none is opt-in
 */
export function tenantOptInRegions(homeRegion: string, record: { readonly isolation?: string; readonly disasterRecovery?: { readonly region?: string } }): string[] {
  if (record.isolation !== 'account') return [];
  const dr = record.disasterRecovery?.region;
  return [...new Set([homeRegion, ...(dr ? [dr] : [])])].filter(isOptInRegion);
}

/**
 * Every opt-in region any account tier of the config needs ({@link tierOptInRegions} over `tiers`), sorted: the regions
 * the lifecycle's `account:EnableRegion` grant is limited to (`account:TargetRegion`), and whether the organization needs
 * trusted access for `account.amazonaws.com` (doctor). Empty for the default config.
 */
export function accountTierOptInRegions(c: { homeRegion: string; tiers: Record<string, TierRegions> }): string[] {
  return [...new Set(Object.values(c.tiers).flatMap((t) => tierOptInRegions(c.homeRegion, t)))].sort();
}
