import { drRegionOf } from './config/disaster-recovery.js';
import type { TierConfig } from './config/schema.js';

/** What a tenant's VPC and subnets are cut from (lambdas/lifecycle/tier-migration.ts SUBNET_LAYOUT_FIELDS): `tiers.<tier>.network`'s. */
export interface TierNetworkSummary {
  /** The prefix length of each tenant's VPC range (16-24). */
  tenantVpcPrefixLength: number;
  /** How many Availability Zones a tenant's VPC spans (2-3). */
  maxAzs: number;
  /** Whether the VPC has public egress subnets (NAT gateways). */
  internetEgress: boolean;
}

/** One tier of the platform config, as `GET /admin/tiers` answers it (lambdas/admin/tiers-routes.ts). */
export interface TierSummary {
  /** The tier's key under `tiers` of the platform config: what a tenant's `tier` names. */
  name: string;
  /** `account`: an AWS account per tenant; `vpc`: a VPC per tenant in the workload account. */
  isolation: TierConfig['isolation'];
  /** The region of the tier's disaster-recovery blueprint, or null for none (`disasterRecovery: none`, or absent). */
  drRegion: string | null;
  /**
   * The tier's tenant network as far as a tier change reads it: a change between tiers whose networks differ here is a
   * migration the admin API refuses (tier-migration.ts migrationRefusal). Absent from an admin API deployed before it.
   */
  network?: TierNetworkSummary;
  /** `compute.mode`: `dedicated` (an EKS cluster per tenant) or `shared`. Absent from an admin API deployed before it. */
  computeMode?: TierConfig['compute']['mode'];
}

/** The answer of `GET /admin/tiers`: every tier of the platform config, in the config's order. */
export interface TierList {
  tiers: TierSummary[];
  /** The admin API's region (AWS_REGION), which names a tenant's zones in a refusal; absent from an admin API deployed before it. */
  region?: string;
  /**
   * Whether an onboarding that leaves `inviteAdmin` out invites its tenant's first admin into the platform's Cognito pool
   * (lib/tenant-record.ts invitesByDefault: true with the platform's own pool), so that a client can check the address as
   * the admin API does (adminInviteProblem). Absent from an admin API deployed before it.
   */
  invitesAdmin?: boolean;
  /**
   * The platform's blueprint version (TesseraPlatform's, ENV.blueprintVersion): every deployment publishes its version for
   * every tier of its config, so it is the blueprint catalog's newest for each tier (`tessera platform health` names the
   * tenants on older ones). Absent from an admin API deployed before it.
   */
  blueprintVersion?: string;
}

/**
 * The tiers of a platform config (`config.tiers`) as `GET /admin/tiers` answers them: name, isolation, DR region, the
 * network fields a tier change reads, and the compute mode; nothing else of a tier is shown.
 * @param region the admin API's region (AWS_REGION), or undefined to leave it out
 * @param invitesAdmin TierList.invitesAdmin, or undefined to leave it out
 */
export function tierList(tiers: Record<string, Pick<TierConfig, 'isolation' | 'disasterRecovery' | 'network' | 'compute'>>, region?: string, invitesAdmin?: boolean): TierList {
  return {
    tiers: Object.entries(tiers).map(([name, t]) => ({
      name, isolation: t.isolation, drRegion: drRegionOf(t) ?? null,
      network: { tenantVpcPrefixLength: t.network.tenantVpcPrefixLength, maxAzs: t.network.maxAzs, internetEgress: t.network.internetEgress },
      computeMode: t.compute.mode,
    })),
    ...(region ? { region } : {}),
    ...(invitesAdmin !== undefined ? { invitesAdmin } : {}),
  };
}

/**
 * The tiers of `GET /admin/tiers` as the tier-change rule reads a config's (tier-migration.ts migrationRefusal), by name:
 * only the tiers the answer gives a network for (an admin API deployed before it gives none: that rule cannot be run on them).
 */
export function migrationTiers(tiers: readonly TierSummary[]): Record<string, { isolation: TierConfig['isolation']; network: TierNetworkSummary; compute?: { mode: TierConfig['compute']['mode'] } }> {
  return Object.fromEntries(tiers.flatMap((t) => (t.network ? [[t.name, { isolation: t.isolation, network: t.network, ...(t.computeMode ? { compute: { mode: t.computeMode } } : {}) }]] : [])));
}
