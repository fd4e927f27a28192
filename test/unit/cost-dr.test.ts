import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/cli-error.js';
import { parseCostCommandLine } from '../../lib/cost/cli-options.js';
import { priceDisasterRecovery, type DrCost } from '../../lib/cost/dr-costs.js';
import { loadPriceTable, parsePriceTable, pricesInRegion, withAssumptions } from '../../lib/cost/price-table.js';
import type { CostLine } from '../../lib/cost/price-template.js';
import { DAYS_PER_MONTH, runsPerMonth } from '../../lib/cost/schedule.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';

const table = loadPriceTable('us-east-1');
const shipped = () => JSON.parse(readFileSync(new URL('../../lib/cost/prices-us-east-1.json', import.meta.url), 'utf8'));
const DR = { region: 'us-west-2', rpoHours: 1, rtoHours: 4 };

/**
 * A primary blueprint's DR resources as CloudFormation writes them (the shapes of lib/tenant-stack.ts's
 * synthesized template, trimmed): the tenant bucket's replication rule, a Backup plan with a daily rule
 * and a DR rule copying to the DR vault, a restore testing plan and selection, the database.
 */
function primaryTemplate(o: { rtc?: boolean; drSchedule?: string; drKeptDays?: number; copyRegion?: string; validationHours?: number } = {}): CfnTemplate {
  const rtc = o.rtc ?? true;
  const vaultArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:backup:${o.copyRegion ?? 'us-west-2'}:`, { Ref: 'AWS::AccountId' }, ':backup-vault:tessera-', { Ref: 'TenantId' }, '-dr']] };
  return {
    Parameters: { TenantId: { Type: 'String' } },
    Resources: {
      Bucket: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          VersioningConfiguration: { Status: 'Enabled' },
          ReplicationConfiguration: {
            Role: 'arn:aws:iam::123456789012:role/r',
            Rules: [{
              Id: 'to-dr', Status: 'Enabled', Priority: 1, Filter: { Prefix: '' },
              Destination: {
                Bucket: 'arn:aws:s3:::dr-bucket',
                ...(rtc ? { ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } }, Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } } } : {}),
              },
            }],
          },
        },
      },
      Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: 'db.t4g.medium', AllocatedStorage: '20', MultiAZ: true } },
      Plan: {
        Type: 'AWS::Backup::BackupPlan',
        Properties: {
          BackupPlan: {
            BackupPlanName: 'p',
            BackupPlanRule: [
              { RuleName: 'daily', ScheduleExpression: 'cron(0 3 * * ? *)', TargetBackupVault: 'v', Lifecycle: { DeleteAfterDays: 35 }, CopyActions: [{ DestinationBackupVaultArn: vaultArn, Lifecycle: { DeleteAfterDays: 35 } }] },
              {
                RuleName: 'disaster-recovery', ScheduleExpression: o.drSchedule ?? 'cron(0 0/2 * * ? *)', TargetBackupVault: 'v',
                Lifecycle: { DeleteAfterDays: o.drKeptDays ?? 1 }, CopyActions: [{ DestinationBackupVaultArn: vaultArn, Lifecycle: { DeleteAfterDays: o.drKeptDays ?? 1 } }],
              },
              { RuleName: 'monthly', ScheduleExpression: 'cron(0 4 1 * ? *)', TargetBackupVault: 'v', Lifecycle: { DeleteAfterDays: 365, MoveToColdStorageAfterDays: 30 } },
            ],
          },
        },
      },
      TestPlan: { Type: 'AWS::Backup::RestoreTestingPlan', Properties: { RestoreTestingPlanName: 'tessera_t_database', ScheduleExpression: 'cron(0 5 2 * ? *)', RecoveryPointSelection: { Algorithm: 'LATEST_WITHIN_WINDOW' } } },
      TestSelection: {
        Type: 'AWS::Backup::RestoreTestingSelection',
        Properties: { RestoreTestingPlanName: 'tessera_t_database', RestoreTestingSelectionName: 'database', ProtectedResourceType: 'RDS', IamRoleArn: 'arn:aws:iam::123456789012:role/t', ValidationWindowHours: o.validationHours ?? 2 },
      },
    },
  };
}

/** The DR blueprint's shape (lib/tenant-dr-stack.ts): key, alias, the replica bucket logging into its access-log bucket, the DR vault, the restore role. */
const drTemplate: CfnTemplate = {
  Parameters: { TenantId: { Type: 'String' } },
  Resources: {
    DrKey: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
    DrKeyAlias: { Type: 'AWS::KMS::Alias', Properties: { AliasName: 'alias/x', TargetKeyId: { Ref: 'DrKey' } } },
    DrLogs: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } },
    DrBucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: { Ref: 'DrLogs' } },
        LifecycleConfiguration: { Rules: [
          { Id: 'training', Status: 'Enabled', Prefix: 'training-data/', ExpirationInDays: 30 },
          { Id: 'noncurrent', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
        ] },
      },
    },
    DrVault: { Type: 'AWS::Backup::BackupVault', Properties: { BackupVaultName: 'v' } },
    RestoreRole: { Type: 'AWS::IAM::Role', Properties: {} },
  },
};

const lines = (c: DrCost, resource: string, item: RegExp): CostLine[] => c.extras.lines.filter((l) => l.resource === resource && item.test(l.item));
const one = (c: DrCost, resource: string, item: RegExp): CostLine => {
  const found = lines(c, resource, item);
  expect(found, `${resource} ${item}`).toHaveLength(1);
  return found[0]!;
};

describe('runsPerMonth: how often a Backup schedule fires in a 365/12-day month', () => {
  it('reads the schedules the blueprints use and the other cron and rate forms', () => {
    expect(runsPerMonth('cron(0 3 * * ? *)', 'x')).toBeCloseTo(DAYS_PER_MONTH, 10); // daily
    expect(runsPerMonth('cron(0 0/1 * * ? *)', 'x')).toBeCloseTo(730, 10); // hourly: the DR rule at rpoHours 1
    expect(runsPerMonth('cron(0 0/2 * * ? *)', 'x')).toBeCloseTo(365, 10); // every 2 h: rpoHours 3
    expect(runsPerMonth('cron(0 5 2 * ? *)', 'x')).toBe(1); // the monthly restore test
    expect(runsPerMonth('cron(0 4 1 * ? *)', 'x')).toBe(1);
    expect(runsPerMonth('cron(0 4 ? * MON-FRI *)', 'x')).toBeCloseTo((5 * DAYS_PER_MONTH) / 7, 10);
    expect(runsPerMonth('cron(0 4 1 1,7 ? *)', 'x')).toBeCloseTo(2 / 12, 10);
    expect(runsPerMonth('cron(0,30 * * * ? *)', 'x')).toBeCloseTo(48 * DAYS_PER_MONTH, 10);
    expect(runsPerMonth('rate(6 hours)', 'x')).toBeCloseTo(4 * DAYS_PER_MONTH, 10);
  });

  it('refuses what it cannot read, naming the resource and the expression', () => {
    expect(() => runsPerMonth('cron(0 3 * * ?)', 'resource Plan, rule daily')).toThrow(CliError);
    expect(() => runsPerMonth('cron(0 3 * * ?)', 'resource Plan, rule daily')).toThrow('cannot read the schedule "cron(0 3 * * ?)" of resource Plan, rule daily: expected cron(');
    expect(() => runsPerMonth('cron(0 25 * * ? *)', 'resource Plan')).toThrow(/"25" is outside 0-23/);
    expect(() => runsPerMonth('at(2026-12-01T00:00:00)', 'resource Plan')).toThrow(/cannot read the schedule/);
  });
});

describe('priceDisasterRecovery: the DR blueprint and the DR extras, quantities from the templates', () => {
  it('prices every DR extra line by hand (RTC on, a copy every 2 h kept 1 day, daily copies kept 35 days, a monthly restore test)', () => {
    // GIVEN / WHEN the default assumptions: bucket 100 GB, 20 GB/month written, 100,000 objects, database change 10 GB/month, restore 1 h
    const c = priceDisasterRecovery(primaryTemplate(), drTemplate, DR, table);
    // THEN S3 replication, billed at home: 20 GB x $0.02 transfer, 20 GB x $0.015 RTC, 4 replication metrics x $0.30
    expect(one(c, 'Bucket', /inter-region transfer/).monthlyUsd).toBeCloseTo(0.4, 10);
    expect(one(c, 'Bucket', /Replication Time Control \(15 min\), rule to-dr/).monthlyUsd).toBeCloseTo(0.3, 10);
    expect(one(c, 'Bucket', /replication metrics/).monthlyUsd).toBeCloseTo(1.2, 10);
    // In the DR bucket (us-west-2 = us-east-1): 100 thousand PUTs x $0.005; 100 GB + 20 GB x 30 days of noncurrent versions x $0.023
    const puts = one(c, 'DrBucket', /replication PUT requests/);
    expect(puts.monthlyUsd).toBeCloseTo(0.5, 10);
    expect(puts.regionNote).toBe('us-west-2 = us-east-1 (list, 2026-12-01)');
    const replica = one(c, 'DrBucket', /replica storage in us-west-2: .* noncurrent versions for 30 days \(the DR bucket's lifecycle\)/);
    expect(replica.monthlyUsd).toBeCloseTo((100 + 20 * (30 / DAYS_PER_MONTH)) * 0.023, 10);
    expect(replica.assumption).toMatch(/^100 GB of current objects .*\(drBucketDataGb\) \+ 20 GB\/month overwritten/);
    // Backup copies: 30.417 daily + 365 two-hourly copies a month, the month's 10 GB of changed blocks crossing once x $0.02
    const transfer = one(c, 'Plan', /cross-region copies to us-west-2: 395\.417 copies\/month \(daily 30\.417: cron\(0 3 \* \* \? \*\); disaster-recovery 365: cron\(0 0\/2 \* \* \? \*\)\)/);
    expect(transfer.monthlyUsd).toBeCloseTo(0.2, 10);
    // The DR vault: a full copy of the 20 GiB database, then 35 daily copies of 10/30.417 GB and 12 two-hourly copies of 10/365 GB
    expect(one(c, 'DrVault', /first full copy of the database \(20 GiB allocated\)/).monthlyUsd).toBeCloseTo(20 * 0.095, 10);
    const daily = one(c, 'DrVault', /35 copies of rule daily held \(30\.417\/month, kept 35 days\)/);
    expect(daily.monthlyUsd).toBeCloseTo(10 * (35 / DAYS_PER_MONTH) * 0.095, 10);
    const frequent = one(c, 'DrVault', /12 copies of rule disaster-recovery held \(365\/month, kept 1 day\) x 0\.027 GB changed each/);
    expect(frequent.monthlyUsd).toBeCloseTo(12 * (10 / 365) * 0.095, 10);
    // ... and the two-hourly rule's own 12 recovery points at home (the home vault's line covers daily and monthly ones only)
    const home = one(c, 'Plan', /^home vault: 12 recovery points of rule disaster-recovery held \(365\/month, kept 1 day\)/);
    expect(home.monthlyUsd).toBeCloseTo(12 * (10 / 365) * 0.095, 10);
    expect(home.regionNote).toBeUndefined();
    expect(lines(c, 'Plan', /^home vault: .* rule daily/)).toEqual([]);
    // The restore test: 1 a month, db.t4g.medium Single-AZ for 1 h + the 2 h validation window; its 20 GiB for 3 h; the job
    expect(one(c, 'TestSelection', /db\.t4g\.medium restore-test instance, Single-AZ: 1 test\/month .* \(1 h to restore \+ 2 h validation window\)/).monthlyUsd).toBeCloseTo(3 * 0.065, 10);
    expect(one(c, 'TestSelection', /20 GiB gp3 storage of the test instance for 3 h/).monthlyUsd).toBeCloseTo((20 * 3 / 730) * 0.115, 10);
    expect(one(c, 'TestPlan', /restore testing job/).monthlyUsd).toBe(1.5);
    // The DR blueprint: the DR key ($1); the buckets, vault, alias and role have no charge of their own
    expect(c.blueprint.lines.map((l) => [l.resource, l.monthlyUsd])).toEqual([['DrKey', 1]]);
    expect(c.blueprint.unpriced).toEqual([]);
    // Totals: the extras are the sum of their lines, the DR cost the blueprint plus the extras
    const extras = 0.4 + 0.3 + 1.2 + 0.5 + (100 + 20 * (30 / DAYS_PER_MONTH)) * 0.023 + 0.2 + 1.9 + 10 * (35 / DAYS_PER_MONTH) * 0.095 + 2 * 12 * (10 / 365) * 0.095
      + 3 * 0.065 + (20 * 3 / 730) * 0.115 + 1.5;
    expect(c.extras.monthlyUsd).toBe(Math.round(extras * 100) / 100);
    expect(c.monthlyUsd).toBe(Math.round((1 + c.extras.monthlyUsd) * 100) / 100);
    expect(c.extras.lines).toHaveLength(13); // 5 replication, 5 copy, 3 restore-test lines
  });

  it('reads RTC and metrics off the replication rule, and the copy frequency and retention off the plan', () => {
    // GIVEN no RTC (rpoHours >= 2), a DR copy every 6 h kept 2 days, a 4 h validation window
    const c = priceDisasterRecovery(primaryTemplate({ rtc: false, drSchedule: 'cron(0 0/6 * * ? *)', drKeptDays: 2, validationHours: 4 }), drTemplate, DR, table);
    // THEN no RTC and no metrics line, the transfer stays
    expect(lines(c, 'Bucket', /Replication Time Control|replication metrics/)).toEqual([]);
    expect(lines(c, 'Bucket', /inter-region transfer/)).toHaveLength(1);
    // 4 copies a day: 121.667 a month, 8 held (2 days), each 10 / 121.667 GB
    expect(one(c, 'Plan', /cross-region copies/).item).toContain('152.083 copies/month (daily 30.417: cron(0 3 * * ? *); disaster-recovery 121.667: cron(0 0/6 * * ? *))');
    expect(one(c, 'DrVault', /8 copies of rule disaster-recovery held \(121\.667\/month, kept 2 days\)/).quantity).toBeCloseTo(8 * (10 / 121.667), 2);
    expect(one(c, 'TestSelection', /restore-test instance/).quantity).toBe(5);
  });

  it('prices no copy to a vault in the home region: only cross-region copies are DR', () => {
    const c = priceDisasterRecovery(primaryTemplate({ copyRegion: 'us-east-1' }), drTemplate, DR, table);
    expect(c.extras.lines.filter((l) => l.resource === 'Plan' || l.resource === 'DrVault')).toEqual([]);
  });

  it('uses the DR region\'s figure where the table says it differs, and flags a region the table has not compared', () => {
    // GIVEN a table whose us-west-2 block says S3 Standard costs $0.025 there
    const raw = shipped();
    raw.regions['us-west-2'].prices['s3.standardGbMonth'] = { usd: 0.025, unit: 'GB-month', basis: 'list', source: 'https://aws.amazon.com/s3/pricing/' };
    raw.regions['us-west-2'].sameAsTable = raw.regions['us-west-2'].sameAsTable.filter((k: string) => k !== 's3.standardGbMonth');
    const differing = parsePriceTable(raw, 'test.json');
    const c = priceDisasterRecovery(primaryTemplate(), drTemplate, DR, differing);
    const replica = one(c, 'DrBucket', /replica storage/);
    expect(replica.unitUsd).toBe(0.025);
    expect(replica.regionNote).toBe('us-west-2 figure');
    expect(c.prices).toMatchObject({ status: 'compared', differs: ['s3.standardGbMonth'] });
    // GIVEN a DR region the table has no block for: the table's figures, each DR-region line flagged
    const far = priceDisasterRecovery(primaryTemplate(), drTemplate, { ...DR, region: 'eu-west-1' }, table);
    expect(far.prices.status).toBe('not compared');
    expect(far.blueprint.lines[0]!.regionNote).toBe('us-east-1 figure, not checked for eu-west-1');
    expect(one(far, 'DrVault', /first full copy/).regionNote).toBe('us-east-1 figure, not checked for eu-west-1');
    // the home-region charges (transfer, RTC, restore test) carry no region note
    expect(one(far, 'Bucket', /inter-region transfer/).regionNote).toBeUndefined();
  });

  it('follows --assume overrides: a 500 GB bucket stores 400 GB more replica', () => {
    const base = priceDisasterRecovery(primaryTemplate(), drTemplate, DR, table);
    const big = priceDisasterRecovery(primaryTemplate(), drTemplate, DR, withAssumptions(table, { drBucketDataGb: 500 }));
    expect(one(big, 'DrBucket', /replica storage/).monthlyUsd - one(base, 'DrBucket', /replica storage/).monthlyUsd).toBeCloseTo(400 * 0.023, 10);
    expect(withAssumptions(table, { drBucketDataGb: 500 }).assumptions.drBucketDataGb.why).toMatch(/^given with --assume \(table: 100\)/);
  });
});

describe('the table\'s other-region figures and --assume', () => {
  it('says how each DR-region figure relates to the table\'s', () => {
    const { table: west, check } = pricesInRegion(table, 'us-west-2');
    expect(check).toMatchObject({ region: 'us-west-2', status: 'compared', differs: [], retrieved: '2026-12-01', basis: 'list' });
    expect(check.same).toEqual(expect.arrayContaining(['kms.keyMonth', 's3.standardGbMonth', 's3.putRequest1k', 'backup.rdsSnapshotGbMonth']));
    expect(west.region).toBe('us-west-2');
    expect(west.prices['s3.interRegionTransferGb']).toMatchObject({ usd: 0.02, regionNote: 'us-east-1 figure, not checked for us-west-2' });
    expect(pricesInRegion(table, 'us-east-1').table).toBe(table);
  });

  it('refuses a regions block naming an unknown price key, naming the key path', () => {
    const raw = shipped();
    raw.regions['us-west-2'].sameAsTable.push('s3.glacierGbMonth');
    expect(() => parsePriceTable(raw, 'test.json')).toThrow(/price table test\.json is invalid: regions\.us-west-2\.sameAsTable\.\d+/);
  });

  it('parses --assume key=value (repeatable) and refuses unknown keys and bad values in house style', () => {
    expect(parseCostCommandLine(['--assume', 'drBucketDataGb=500', '--assume', 'restoreTestRestoreHours=2.5']).assumptions).toEqual({ drBucketDataGb: 500, restoreTestRestoreHours: 2.5 });
    expect(parseCostCommandLine([]).assumptions).toEqual({});
    expect(() => parseCostCommandLine(['--assume', 'drBucketDatGb=5'])).toThrow('--assume: unknown assumption "drBucketDatGb"; did you mean drBucketDataGb?');
    expect(() => parseCostCommandLine(['--assume', 'drBucketDataGb=-5'])).toThrow('--assume drBucketDataGb must be a decimal number >= 0 (e.g. 500 or 0.5), got "-5"');
    expect(() => parseCostCommandLine(['--assume', 'drBucketDataGb=1e23'])).toThrow('must be a decimal number');
    expect(() => parseCostCommandLine(['--assume', 'drBucketDataGb=100000000000'])).toThrow('--assume drBucketDataGb must be at most 1,000,000,000, got 100000000000');
  });

  it('refuses --assume sharedClusterTenants that is not a positive integer, and together with --shared-tenants (naming both)', () => {
    expect(parseCostCommandLine(['--assume', 'sharedClusterTenants=3']).assumptions).toEqual({ sharedClusterTenants: 3 });
    expect(() => parseCostCommandLine(['--assume', 'sharedClusterTenants=0'])).toThrow('--assume sharedClusterTenants must be a positive integer, got "0"');
    expect(() => parseCostCommandLine(['--assume', 'sharedClusterTenants=2.5'])).toThrow('--assume sharedClusterTenants must be a positive integer, got "2.5"');
    // The same count by --shared-tenants had no bound: 99999999999999999999999 was priced as 1e+23 tenants (not the number typed).
    expect(() => parseCostCommandLine(['--shared-tenants', '99999999999999999999999'])).toThrow('--shared-tenants must be at most 1,000,000,000, got 99999999999999999999999');
    expect(() => parseCostCommandLine(['--assume', 'sharedClusterTenants=1000000001'])).toThrow('--assume sharedClusterTenants must be at most 1,000,000,000, got 1000000001');
    expect(parseCostCommandLine(['--shared-tenants', '1000000000']).sharedTenants).toBe(1_000_000_000);
    expect(() => parseCostCommandLine(['--shared-tenants', '10', '--assume', 'sharedClusterTenants=3'])).toThrow('--shared-tenants 10 and --assume sharedClusterTenants=3 both set the tenants sharing the cluster: give one');
    expect(() => parseCostCommandLine(['--assume', 'drBucketDataGb'])).toThrow('--assume takes <key>=<value>, got "drBucketDataGb"');
    expect(() => withAssumptions(table, { drBucketDataGb: Number.NaN })).toThrow(CliError);
  });
});

