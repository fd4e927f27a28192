import { z } from 'zod';

/**
 * A tier's disaster recovery (`tiers.<tier>.disasterRecovery`):
 *
 * - `'none'` (@default, also when absent): the tenant's data stays in the home region, as it always
 *   has. The choice for residency-bound tenants; their blueprint has no DR resource at all.
 * - `{ region, rpoHours, rtoHours }`: a second, small blueprint in `region` (lib/tenant-dr-stack.ts:
 *   a DR key of the tenant, a DR bucket, a DR Backup vault), the tenant bucket replicating into it
 *   and the database's recovery points copied to it at least every `rpoHours`.
 *   - `region`: one of `allowedRegions`, not `homeRegion` (checked by the platform schema, which
 *     knows both: `checkDisasterRecoveryRegions`).
 *   - `rpoHours`: the most data, in hours, the tier may lose in a regional disaster; whole hours
 *     from 1 to 24 (AWS Backup runs a rule at most hourly; a tier that tolerates more than a day
 *     is served by the daily copy at 24).
 *   - `rtoHours`: the time, in hours, to bring the tenant back in the DR region; whole hours from
 *     1 to 168. The blueprints do not enforce it: it is the promise the failover runbook is
 *     measured against.
 */
const DisasterRecoveryTargetSchema = z.strictObject({
  region: z.string().min(1),
  rpoHours: z.number({ error: (issue) => (issue.input === undefined ? 'required: whole hours, 1-24' : 'must be whole hours, 1-24') }).int('must be whole hours').min(1, 'must be at least 1 (AWS Backup schedules a rule at most hourly)').max(24, 'must be at most 24 (the DR copy runs at least daily)'),
  rtoHours: z.number({ error: (issue) => (issue.input === undefined ? 'required: whole hours, 1-168' : 'must be whole hours, 1-168') }).int('must be whole hours').min(1, 'must be at least 1').max(168, 'must be at most 168 (a week)'),
});
type DisasterRecoveryTargetShape = z.infer<typeof DisasterRecoveryTargetSchema>;

/**
 * `'none'` or the target object. Not a `z.union`: a union that fails reports only "invalid input" at
 * the key, and a bad `rpoHours` must be named at `disasterRecovery.rpoHours` with its rule.
 */
export const DisasterRecoveryConfigSchema = z.custom<'none' | DisasterRecoveryTargetShape>().superRefine((value, ctx) => {
  if (value === 'none') return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be "none" or { region, rpoHours, rtoHours }' });
    return;
  }
  const parsed = DisasterRecoveryTargetSchema.safeParse(value);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});
export type DisasterRecoveryConfig = z.infer<typeof DisasterRecoveryConfigSchema>;
/** A DR tier's settings, the non-`none` form. */
export type DisasterRecoveryTarget = Exclude<DisasterRecoveryConfig, 'none'>;

/** A tier's DR target, or undefined for `none` (or absent). */
export function disasterRecoveryOf(tier: { disasterRecovery?: DisasterRecoveryConfig }): DisasterRecoveryTarget | undefined {
  const dr = tier.disasterRecovery;
  return dr === undefined || dr === 'none' ? undefined : dr;
}

/**
 * The DR region of a tier, or undefined when the tier has no disaster recovery (the contract's `drRegionOf`). Only the
 * region is read: a tier as `GET /admin/tiers` shows it (`{ region }`) will do.
 */
export function drRegionOf(tier: { disasterRecovery?: 'none' | Pick<DisasterRecoveryTarget, 'region'> }): string | undefined {
  const dr = tier.disasterRecovery;
  return dr === undefined || dr === 'none' ? undefined : dr.region;
}

/**
 * AWS Backup hours between two DR recovery points of the database: the largest divisor of 24 that is
 * at most `rpoHours - 1`, so that an hour is left for the snapshot and its cross-region copy within
 * the RPO, and the runs stay evenly spaced across midnight (`cron(0 0/N * * ? *)`). With `rpoHours`
 * 1 it is 1 (AWS Backup's shortest schedule), and the copy's minutes come on top of the hour.
 */
export function drBackupIntervalHours(rpoHours: number): number {
  const budget = Math.max(1, rpoHours - 1);
  return [24, 12, 8, 6, 4, 3, 2, 1].find((h) => h <= budget)!;
}

/**
 * Whether S3 Replication Time Control applies: for `rpoHours` 1. RTC's SLA replicates 99.99% of
 * objects within 15 minutes; without it S3 replicates most objects within minutes but promises no
 * bound. An RPO of one hour leaves no room for an unbounded lag; from two hours on the unbounded
 * but usually seconds-long lag is accepted, and RTC's per-GB charge is saved.
 * Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
 */
export function usesReplicationTimeControl(rpoHours: number): boolean {
  return rpoHours <= 1;
}

interface RegionsConfig {
  homeRegion: string;
  allowedRegions: string[];
  tiers: Record<string, { disasterRecovery?: DisasterRecoveryConfig }>;
}

/** The platform schema's check of every tier's DR region: in `allowedRegions`, not `homeRegion`; issues name `tiers.<tier>.disasterRecovery.region`. */
export function checkDisasterRecoveryRegions(c: RegionsConfig, ctx: z.RefinementCtx): void {
  for (const [name, tier] of Object.entries(c.tiers)) {
    const region = drRegionOf(tier);
    if (region === undefined) continue;
    const path = ['tiers', name, 'disasterRecovery', 'region'];
    if (region === c.homeRegion) {
      ctx.addIssue({ code: 'custom', path, message: `is the home region (${c.homeRegion}): a DR region must be another region, or set disasterRecovery to "none"` });
    } else if (!c.allowedRegions.includes(region)) {
      ctx.addIssue({ code: 'custom', path, message: `is outside allowedRegions (${c.allowedRegions.join(', ')}): add it to allowedRegions or choose one of them` });
    }
  }
}
