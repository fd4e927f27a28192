/**
 * What disaster recovery adds to a tier's monthly cost (lib/tenant-dr-stack.ts, issue 17):
 * - the DR blueprint, priced at the DR region's figures (`pricesInRegion`: the table's `regions`
 *   block says where they equal the home region's and where they differ);
 * - the usage-priced extras the primary blueprint's DR settings cause, each quantity read from the
 *   template where it says it (replication rule and its RTC and metrics, the Backup plan's copy rules,
 *   their schedules and retention, the restore testing plan's schedule and validation window, the
 *   database's class and storage) and sized by a named, overridable assumption where it does not
 *   (bucket size and change, objects written, database change, restore duration).
 * Plain template JSON in, no aws-cdk-lib.
 */
import { CliError } from '../cli/cli-error.js';
import type { CfnResource, CfnTemplate, CfnValue } from '../preflight/cfn-template.js';
import { resourcesOfType } from '../preflight/cfn-template.js';
import { pricesInRegion, type AssumptionKey, type PriceTable, type RegionalPriceEntry, type RegionPriceCheck } from './price-table.js';
import { costLine, num, priceTemplate, round, sum, type CostLine, type TemplateCost } from './price-template.js';
import { DAYS_PER_MONTH, runsPerMonth } from './schedule.js';

/**
 * S3 publishes four replication metrics per rule with metrics on (ReplicationLatency,
 * BytesPendingReplication, OperationsPendingReplication, OperationsFailedReplication), billed as
 * CloudWatch custom metrics. Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html
 */
export const REPLICATION_METRICS_PER_RULE = 4;

/** Noncurrent versions of a replica bucket without a noncurrent expiration are assumed held this long. */
const NONCURRENT_DAYS_WITHOUT_EXPIRATION = 365;

export interface DrTarget {
  /** The tier's DR region. */
  readonly region: string;
  readonly rpoHours: number;
  readonly rtoHours: number;
}

export interface DrCost extends DrTarget {
  /** How the DR region's figures relate to the table's. */
  readonly prices: RegionPriceCheck;
  /** The DR blueprint at the DR region's figures. */
  readonly blueprint: TemplateCost;
  /** Usage-priced lines DR adds: replication, Backup copies and the DR vault they fill, restore tests. */
  readonly extras: TemplateCost;
  /** blueprint + extras, USD per month. */
  readonly monthlyUsd: number;
}

/**
 * Prices a DR tier's disaster recovery.
 * @param primary the tier blueprint (home region), whose replication, copy rules and restore tests are priced
 * @param dr the DR blueprint, deployed in `target.region`
 * @param table the home region's table (with any `--assume` overrides applied)
 * @throws CliError when a schedule cannot be read or the table lacks the database's instance class
 */
export function priceDisasterRecovery(primary: CfnTemplate, dr: CfnTemplate, target: DrTarget, table: PriceTable): DrCost {
  const regional = pricesInRegion(table, target.region);
  const blueprint = priceTemplate(dr, regional.table);
  const lines = [
    ...replicationLines(primary, dr, target.region, table, regional.table),
    ...copyLines(primary, dr, target.region, table, regional.table),
    ...restoreTestLines(primary, table),
  ];
  const extras: TemplateCost = { lines, monthlyUsd: sum(lines), unpriced: [] };
  return { ...target, prices: regional.check, blueprint, extras, monthlyUsd: round(blueprint.monthlyUsd + extras.monthlyUsd) };
}

type Props = Record<string, CfnValue>;
const obj = (v: CfnValue | undefined): Props => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: CfnValue | undefined): CfnValue[] => (Array.isArray(v) ? v : []);
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 3 });

/** `"<value> <unit> (<key>)"`, the text of a line's assumption. */
function assumed(table: PriceTable, key: AssumptionKey, extra = ''): string {
  const a = table.assumptions[key];
  return `${a.value} ${a.unit} (${key})${extra}`;
}

/**
 * The bucket of the DR blueprint that replicas land in: its versioned bucket that no other bucket
 * logs into (the other one is its access-log bucket).
 */
function replicaBucket(dr: CfnTemplate): [string, CfnResource] | undefined {
  const buckets = resourcesOfType(dr, 'AWS::S3::Bucket');
  const logTargets = new Set(buckets.map(([, b]) => JSON.stringify(obj(b.Properties?.LoggingConfiguration).DestinationBucketName ?? null)));
  const replicas = buckets.filter(([id, b]) => obj(b.Properties?.VersioningConfiguration).Status === 'Enabled' && !logTargets.has(JSON.stringify({ Ref: id })));
  return replicas.length === 1 ? replicas[0] : undefined;
}

/** Days a noncurrent version stays in `bucket`: its lifecycle's whole-bucket NoncurrentVersionExpiration. */
function noncurrentDays(bucket: CfnResource | undefined): number | undefined {
  const rules = arr(obj(bucket?.Properties?.LifecycleConfiguration).Rules).map(obj);
  const days = rules.filter((r) => r.Status === 'Enabled' && !r.Prefix && !r.Filter).map((r) => num(obj(r.NoncurrentVersionExpiration).NoncurrentDays)).filter((d) => d > 0);
  return days.length ? Math.min(...days) : undefined;
}

/** Every enabled replication rule of the primary's buckets: transfer, RTC, metrics, PUTs, replica storage. */
function replicationLines(primary: CfnTemplate, dr: CfnTemplate, region: string, home: PriceTable, there: PriceTable): CostLine[] {
  const out: CostLine[] = [];
  const a = home.assumptions;
  const replica = replicaBucket(dr);
  for (const [id, bucket] of resourcesOfType(primary, 'AWS::S3::Bucket')) {
    const rules = arr(obj(bucket.Properties?.ReplicationConfiguration).Rules).map(obj).filter((r) => r.Status === 'Enabled');
    for (const rule of rules) {
      const name = typeof rule.Id === 'string' ? `rule ${rule.Id}` : 'replication rule';
      const dest = obj(rule.Destination);
      const change = a.drBucketChangeGbPerMonth.value;
      out.push(costLine(id, bucket.Type, `S3 replication to ${region} (${name}): inter-region transfer`, change, 'GB transferred', home.prices['s3.interRegionTransferGb'], assumed(home, 'drBucketChangeGbPerMonth')));
      const rtc = obj(dest.ReplicationTime);
      if (rtc.Status === 'Enabled') {
        out.push(costLine(id, bucket.Type, `S3 Replication Time Control (${num(obj(rtc.Time).Minutes)} min), ${name}`, change, 'GB replicated', home.prices['s3.replicationTimeControlGb'], assumed(home, 'drBucketChangeGbPerMonth')));
      }
      if (obj(dest.Metrics).Status === 'Enabled') {
        out.push(costLine(id, bucket.Type, `S3 replication metrics, ${name} (${REPLICATION_METRICS_PER_RULE} CloudWatch metrics)`, REPLICATION_METRICS_PER_RULE, 'metric-months', home.prices['cloudwatch.customMetricMonth']));
      }
      const [replicaId, replicaRes] = replica ?? [id, bucket];
      out.push(costLine(replicaId, replicaRes.Type, `replication PUT requests into the DR bucket (${region})`, a.drBucketObjectsPerMonth.value / 1000, 'thousand requests', there.prices['s3.putRequest1k'], assumed(home, 'drBucketObjectsPerMonth')));
      const days = noncurrentDays(replica?.[1]);
      const heldDays = days ?? NONCURRENT_DAYS_WITHOUT_EXPIRATION;
      const gb = a.drBucketDataGb.value + change * (heldDays / DAYS_PER_MONTH);
      out.push(costLine(replicaId, replicaRes.Type,
        `replica storage in ${region}: current objects + noncurrent versions for ${heldDays} days${days === undefined ? ' (no noncurrent expiration: a year assumed)' : ' (the DR bucket\'s lifecycle)'}`,
        gb, 'GB-months', there.prices['s3.standardGbMonth'], `${assumed(home, 'drBucketDataGb')} + ${a.drBucketChangeGbPerMonth.value} GB/month overwritten (drBucketChangeGbPerMonth) x ${fmt(heldDays / DAYS_PER_MONTH)} months`));
    }
  }
  return out;
}

/** The region a Backup vault ARN names, when it is written out (`arn:…:backup:<region>:…`). */
function vaultRegion(arn: CfnValue | undefined): string | undefined {
  return /:backup:([a-z]{2}-[a-z]+-\d):/.exec(JSON.stringify(arn ?? null))?.[1];
}

/** A Backup plan rule that copies its recovery points to another region. */
export interface CopyRule {
  readonly name: string;
  /** The rule's ScheduleExpression. */
  readonly schedule: string;
  /** Recovery points (and copies) per month (lib/cost/schedule.ts). */
  readonly runsPerMonth: number;
  /** Days a copy stays in the DR vault. */
  readonly keptDays: number;
}

/**
 * Rules of a Backup plan that copy to a vault in another region than `homeRegion` (the region written
 * in the destination vault ARN), with their schedule and the copies' retention: the copy action's
 * DeleteAfterDays, else the rule's, else a year.
 * @throws CliError when a rule's schedule cannot be read
 */
export function crossRegionCopyRules(planId: string, plan: CfnResource, homeRegion: string, parameters: CfnTemplate['Parameters'] = {}): CopyRule[] {
  const rules = arr(obj(plan.Properties?.BackupPlan).BackupPlanRule).map(obj);
  return rules.flatMap((rule) => {
    const copies = arr(rule.CopyActions).map(obj).filter((c) => {
      const region = vaultRegion(c.DestinationBackupVaultArn);
      return region !== undefined && region !== homeRegion;
    });
    if (!copies.length) return [];
    const name = String(rule.RuleName);
    const schedule = scheduleExpression(rule.ScheduleExpression, parameters);
    const kept = num(obj(copies[0]!.Lifecycle).DeleteAfterDays) || num(obj(rule.Lifecycle).DeleteAfterDays) || NONCURRENT_DAYS_WITHOUT_EXPIRATION;
    return [{ name, schedule, runsPerMonth: runsPerMonth(schedule, `resource ${planId}, rule ${name}`), keptDays: kept }];
  });
}

/**
 * A schedule expression as a string: a plain one as it is; a DR tier's (`Fn::Join` of `cron(`, the `BackupScheduleMinute`
 * parameter, and the rest: lib/backup-schedule-minute.ts) with each `Ref` to a parameter replaced by its `Default`. The
 * minute past the hour changes when a rule runs, not how often, so the default stands for every tenant's.
 * Anything else is returned as JSON, which runsPerMonth then refuses, naming it.
 */
function scheduleExpression(value: CfnValue | undefined, parameters: CfnTemplate['Parameters'] = {}): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, CfnValue[]] } | undefined)?.['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    const parts = join[1].map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string } | null)?.Ref;
      const fallback = ref !== undefined ? parameters?.[ref]?.Default : undefined;
      return fallback !== undefined ? String(fallback) : undefined;
    });
    if (parts.every((p) => p !== undefined)) return parts.join(join[0]);
  }
  return JSON.stringify(value ?? null);
}

/** Allocated storage of the template's DB instances, GiB. */
function allocatedGib(template: CfnTemplate): number {
  return resourcesOfType(template, 'AWS::RDS::DBInstance').reduce((n, [, db]) => n + num(db.Properties?.AllocatedStorage), 0);
}

/**
 * The Backup plan's cross-region copies: the transfer of each copy (incremental to the previous copy in
 * the DR region), and the DR vault they fill: a first full copy of the database, then each copy rule's
 * recovery points, each holding the blocks changed since the previous one, for as long as the rule keeps them;
 * and at home, the recovery points of a rule that runs more often than daily (the home vault's own line,
 * `backupStorageFactor`, covers the daily and monthly ones).
 * Sources: https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html (first copy in full,
 * then incremental), https://aws.amazon.com/backup/pricing/ (cross-region data transfer, storage by GB-month).
 */
function copyLines(primary: CfnTemplate, dr: CfnTemplate, region: string, home: PriceTable, there: PriceTable): CostLine[] {
  const out: CostLine[] = [];
  const change = home.assumptions.databaseChangeGbPerMonth.value;
  const drVaults = resourcesOfType(dr, 'AWS::Backup::BackupVault');
  const gib = allocatedGib(primary);
  for (const [id, plan] of resourcesOfType(primary, 'AWS::Backup::BackupPlan')) {
    const rules = crossRegionCopyRules(id, plan, home.region, primary.Parameters);
    if (!rules.length) continue;
    const copies = rules.reduce((n, r) => n + r.runsPerMonth, 0);
    const each = rules.map((r) => `${r.name} ${fmt(r.runsPerMonth)}: ${r.schedule}`).join('; ');
    out.push(costLine(id, plan.Type, `cross-region copies to ${region}: ${fmt(copies)} copies/month (${each}), each incremental to the previous copy there`,
      change, 'GB transferred', home.prices['backup.crossRegionTransferGb'], assumed(home, 'databaseChangeGbPerMonth', ': every changed block crosses once')));
    const [vaultId, vault] = drVaults.length === 1 ? drVaults[0]! : [id, plan];
    out.push(costLine(vaultId, vault.Type, `DR vault (${region}): first full copy of the database (${gib} GiB allocated)`, gib, 'GB-months', there.prices['backup.rdsSnapshotGbMonth']));
    for (const r of rules) {
      const held = (r.runsPerMonth * r.keptDays) / DAYS_PER_MONTH;
      const perCopy = change / r.runsPerMonth;
      if (r.runsPerMonth > DAYS_PER_MONTH + 1e-9) {
        // The home vault's line (backupStorageFactor) covers daily and monthly recovery points; a rule running
        // more often than daily keeps recovery points of its own at home too, as long as its copies (a copy keeps its source's expiration).
        out.push(costLine(id, plan.Type, `home vault: ${fmt(held)} recovery points of rule ${r.name} held (${fmt(r.runsPerMonth)}/month, kept ${r.keptDays} day${r.keptDays === 1 ? '' : 's'}) x ${fmt(perCopy)} GB changed each`,
          held * perCopy, 'GB-months', home.prices['backup.rdsSnapshotGbMonth'], assumed(home, 'databaseChangeGbPerMonth', ` / ${fmt(r.runsPerMonth)} recovery points`)));
      }
      out.push(costLine(vaultId, vault.Type, `DR vault (${region}): ${fmt(held)} copies of rule ${r.name} held (${fmt(r.runsPerMonth)}/month, kept ${r.keptDays} day${r.keptDays === 1 ? '' : 's'}) x ${fmt(perCopy)} GB changed each`,
        held * perCopy, 'GB-months', there.prices['backup.rdsSnapshotGbMonth'], assumed(home, 'databaseChangeGbPerMonth', ` / ${fmt(r.runsPerMonth)} copies`)));
    }
  }
  return out;
}

/**
 * The restore testing plan's RDS tests: the test instance (the database's class, Single-AZ: AWS Backup
 * restores a snapshot with RestoreDBInstanceFromDBSnapshot, whose MultiAZ defaults to false, and the
 * selection's metadata overrides set no MultiAZ) for the restore's duration plus the validation window,
 * its storage for as long, and the restore testing job. Restoring an RDS snapshot has no per-GB charge.
 * Sources: https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
function restoreTestLines(primary: CfnTemplate, table: PriceTable): CostLine[] {
  const out: CostLine[] = [];
  const plans = resourcesOfType(primary, 'AWS::Backup::RestoreTestingPlan');
  const dbs = resourcesOfType(primary, 'AWS::RDS::DBInstance');
  for (const [id, selection] of resourcesOfType(primary, 'AWS::Backup::RestoreTestingSelection')) {
    const p = selection.Properties ?? {};
    if (p.ProtectedResourceType !== 'RDS' || !dbs.length) continue;
    const planName = JSON.stringify(p.RestoreTestingPlanName);
    const [planId, plan] = plans.find(([, x]) => JSON.stringify(x.Properties?.RestoreTestingPlanName) === planName) ?? plans[0] ?? [];
    if (!plan || !planId) continue;
    const schedule = scheduleExpression(plan.Properties?.ScheduleExpression, primary.Parameters);
    const runs = runsPerMonth(schedule, `resource ${planId}`);
    const [dbId, db] = dbs[0]!;
    const cls = String(db.Properties?.DBInstanceClass);
    const entry: RegionalPriceEntry | undefined = table.rdsPostgresInstanceHour[cls];
    if (!entry) throw new CliError(`no price for ${cls} in the ${table.region} price table (rdsPostgresInstanceHour."${cls}"), needed by resource ${dbId}`);
    const restore = table.assumptions.restoreTestRestoreHours.value;
    const validation = num(p.ValidationWindowHours);
    const hours = runs * (restore + validation);
    out.push(costLine(id, selection.Type, `${cls} restore-test instance, Single-AZ: ${fmt(runs)} test/month (${schedule}) x (${restore} h to restore + ${validation} h validation window)`,
      hours, 'instance-hours', entry, assumed(table, 'restoreTestRestoreHours')));
    const gib = num(db.Properties?.AllocatedStorage);
    out.push(costLine(id, selection.Type, `${gib} GiB gp3 storage of the test instance for ${fmt(hours)} h`, (gib * hours) / table.hoursPerMonth, 'GB-months', table.prices['rds.gp3GbMonth'], assumed(table, 'restoreTestRestoreHours')));
    out.push(costLine(planId, plan.Type, `AWS Backup restore testing job (${schedule})`, runs, 'jobs', table.prices['backup.restoreTestJob']));
  }
  return out;
}
