import { z } from 'zod';
import { nearest } from './nearest.js';

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
/**
 * The message for an `rpoHours`/`rtoHours` that is not a number: missing, or of another type. A quoted number
 * (`rpoHours: "1"`, YAML's string) is named as the string it is, with the fix, as the config's other numbers are
 * (config-issues.ts `invalid_type`): "must be whole hours, 1-24" alone left the reader to find the quotes.
 * @param input the value given (undefined when the key is missing)
 * @param range the allowed hours, e.g. `1-24`
 */
function hoursTypeError(input: unknown, range: string): string {
  if (input === undefined) return `required: whole hours, ${range}`;
  if (typeof input === 'string' && input.trim() !== '' && Number.isFinite(Number(input))) return `must be whole hours, ${range}, a number, not the string ${JSON.stringify(input)}: write ${input.trim()} without quotes`;
  return `must be whole hours, ${range}`;
}

const DisasterRecoveryTargetSchema = z.strictObject({
  region: z.string().min(1),
  rpoHours: z.number({ error: (issue) => hoursTypeError(issue.input, '1-24') }).int('must be whole hours').min(1, 'must be at least 1 (AWS Backup schedules a rule at most hourly)').max(24, 'must be at most 24 (the DR copy runs at least daily)'),
  rtoHours: z.number({ error: (issue) => hoursTypeError(issue.input, '1-168') }).int('must be whole hours').min(1, 'must be at least 1').max(168, 'must be at most 168 (a week)'),
});

/**
 * A schema of `'none'` or a target object (`target`, a strict object), for the DR keys of the config. Not a `z.union`:
 * a union that fails reports only "Invalid input" at the key, and a bad `rpoHours` must be named at
 * `disasterRecovery.rpoHours` with its rule. The target's issues are re-raised at their own paths: an unknown key as
 * `is not a key of <what>` with the nearest known one, a missing key as `required`, the others with the target
 * schema's message.
 * @param target the object form's schema
 * @param shape how the message names the object form, e.g. `{ region, rpoHours, rtoHours }`
 */
export function noneOrTarget<T extends z.ZodObject>(target: T, shape: string): z.ZodCustom<'none' | z.infer<T>> {
  return z.custom<'none' | z.infer<T>>().superRefine((value, ctx) => {
    if (value === 'none') return;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `must be "none" or ${shape}` });
      return;
    }
    const parsed = target.safeParse(value);
    if (parsed.success) return;
    const known = Object.keys(target.shape);
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const guess = nearest(key, known);
          ctx.addIssue({ code: 'custom', path: [...issue.path, key], input: (value as Record<string, unknown>)[key], message: `is not a key of ${shape}${guess ? `; did you mean \`${guess}\`?` : ''}` });
        }
      } else if (issue.code === 'invalid_type' && (value as Record<string, unknown>)[String(issue.path[0])] === undefined && !issue.message.startsWith('required')) {
        ctx.addIssue({ code: 'custom', path: issue.path, message: `is required: set it (the keys are ${shape})` });
      } else {
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      }
    }
  });
}

/** A tier's `disasterRecovery`: `'none'` or `{ region, rpoHours, rtoHours }` ({@link noneOrTarget}). */
export const DisasterRecoveryConfigSchema = noneOrTarget(DisasterRecoveryTargetSchema, '{ region, rpoHours, rtoHours }');
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
 * the RPO, and the runs stay evenly spaced across midnight (`cron(m 0/N * * ? *)`, m the tenant's backup minute: lib/backup-schedule-minute.ts). With `rpoHours`
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
