import { describe, expect, it } from 'vitest';
import { formatCostReport } from '../../lib/cost/format.js';
import { loadPriceTable } from '../../lib/cost/price-table.js';
import { costTiers, type CostReport, type TierCost } from '../../lib/cost/tier-costs.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';
import { configWith } from '../support/config-with.js';

/**
 * `npm run cost` on a config with two DR tiers, built as the CLI builds it (lib/preflight/blueprints.ts,
 * through the test synth cache: test/preflight/support/cached-blueprints.ts):
 * professional with RPO 1 h (RTC, a copy every hour), enterprise with RPO 3 h (no RTC, a copy every
 * 2 h), both to us-west-2; starter stays without DR. The default config is the baseline.
 */
const table = loadPriceTable('us-east-1');
const tier = (r: CostReport, name: string): TierCost => r.tiers.find((t) => t.tier === name)!;
const defaults = costTiers(await cachedBlueprints(configWith(), '0.0.0-test'), table);
const withDr = costTiers(await cachedBlueprints(configWith({
  tiers: {
    professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } },
    enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 3, rtoHours: 24 } },
  },
}), '0.0.0-test'), table);
const DAYS = 365 / 12;

describe('npm run cost: a DR tier\'s figure', () => {
  it('leaves the tiers without DR, and the shared cluster, exactly as they are without any DR tier', () => {
    expect(tier(withDr, 'starter')).toEqual(tier(defaults, 'starter'));
    expect(withDr.sharedCluster).toEqual(defaults.sharedCluster);
    for (const t of defaults.tiers) expect(t.disasterRecovery, t.tier).toBeUndefined();
    expect(tier(withDr, 'starter').disasterRecovery).toBeUndefined();
    // and the default report keeps its columns: the DR column appears only with a DR tier
    expect(formatCostReport(defaults)).not.toMatch(/DISASTER RECOVERY|disaster recovery to/);
    expect(formatCostReport(defaults)).toMatch(/^TIER +ISOLATION +COMPUTE +BLUEPRINT +NAMESPACE +SHARED CLUSTER SHARE +FIXED PER MONTH$/m);
  });

  it('prices the professional DR tier (RPO 1 h, RTO 4 h): $1.00 DR blueprint + $18.09 extras, nothing NOT PRICED', () => {
    const t = tier(withDr, 'professional');
    const dr = t.disasterRecovery!;
    expect(dr).toMatchObject({ region: 'us-west-2', rpoHours: 1, rtoHours: 4, prices: { status: 'compared', differs: [] } });
    expect(dr.blueprint.unpriced).toEqual([]);
    expect(t.blueprint.unpriced).toEqual([]);
    // The DR blueprint: its KMS key, $1.00 in us-west-2 (= us-east-1)
    expect(dr.blueprint.monthlyUsd).toBe(1);
    // The extras, with the default assumptions (bucket 100 GB, 20 GB/month written, 100,000 objects; database change 10 GB/month; restore 1 h):
    //   S3: transfer 20 x $0.02 = 0.40, RTC 20 x $0.015 = 0.30, 4 metrics x $0.30 = 1.20, PUTs 100 x $0.005 = 0.50,
    //       replica (100 + 20 x 30/30.417) GB x $0.023 = 2.754
    //   Backup: transfer 10 x $0.02 = 0.20; DR vault: full copy 100 GiB x $0.095 = 9.50, 35 daily copies 10 x 35/30.417 x $0.095 = 1.093,
    //       24 hourly copies (kept 1 day) 10 x 1/30.417 x $0.095 = 0.031; at home the same 24 hourly recovery points = 0.031;
    //       the monthly copy (kept 1 day, as the DR run it stands in for) 10 x 1/30.417 x $0.095 = 0.031
    //   Restore test: db.m7g.large 3 h x $0.168 = 0.504, 100 GiB for 3 h 100 x 3/730 x $0.115 = 0.047, one job $1.50
    //   = 18.092
    expect(dr.extras.monthlyUsd).toBe(18.09);
    expect(dr.monthlyUsd).toBe(19.09);
    const items = dr.extras.lines.map((l) => l.item);
    expect(items).toContain('S3 Replication Time Control (15 min), rule tenant-data-to-dr-region');
    expect(items.find((i) => i.startsWith('cross-region copies'))).toBe('cross-region copies to us-west-2: 761.417 copies/month (daily 30.417: cron(0 3 * * ? *); disaster-recovery 730: cron(0 0/1 * * ? *); monthly 1: cron(0 4 1 * ? *)), each incremental to the previous copy there');
    expect(items).toContain('DR vault (us-west-2): 24 copies of rule disaster-recovery held (730/month, kept 1 day) x 0.014 GB changed each');
    expect(items).toContain('DR vault (us-west-2): 0.033 copies of rule monthly held (1/month, kept 1 day) x 10 GB changed each');
    expect(items.find((i) => i.includes('restore-test instance'))).toMatch(/^db\.m7g\.large restore-test instance, Single-AZ: 1 test\/month \(cron\(0 5 2 \* \? \*\)\) x \(1 h to restore \+ 2 h validation window\)$/);
    // The tier's total: primary + namespace + shared-cluster share + DR
    expect(t.fixedMonthlyUsd).toBeCloseTo(t.blueprint.monthlyUsd + t.namespace!.monthlyUsd + t.sharedCluster!.monthlyUsd + dr.monthlyUsd, 2);
  });

  it('prices the enterprise DR tier (RPO 3 h, RTO 24 h): no RTC, a copy every 2 h, $1.00 + $27.07', () => {
    const t = tier(withDr, 'enterprise');
    const dr = t.disasterRecovery!;
    expect(dr.extras.lines.filter((l) => /Replication Time Control|replication metrics/.test(l.item))).toEqual([]);
    expect(dr.extras.lines.find((l) => l.item.startsWith('cross-region copies'))!.item).toContain('396.417 copies/month (daily 30.417: cron(0 3 * * ? *); disaster-recovery 365: cron(0 0/2 * * ? *); monthly 1: cron(0 4 1 * ? *))');
    // transfer 0.40 + PUTs 0.50 + replica 2.754 + copy transfer 0.20 + full copy 200 GiB x $0.095 = 19.00 + daily 1.093
    // + 12 two-hourly copies 12 x 10/365 x $0.095 = 0.031 in the DR vault and as many at home + db.r7g.xlarge 3 h x $0.478 = 1.434
    // + 200 GiB for 3 h = 0.095 + job 1.50 + the monthly copy kept 1 day 10 x 1/30.417 x $0.095 = 0.031 = 27.069
    const expected = 0.4 + 0.5 + (100 + 20 * (30 / DAYS)) * 0.023 + 0.2 + 200 * 0.095 + 10 * (35 / DAYS) * 0.095 + 2 * 12 * (10 / 365) * 0.095 + 3 * 0.478 + (200 * 3 / 730) * 0.115 + 1.5
      + 10 * (1 / DAYS) * 0.095;
    expect(dr.extras.monthlyUsd).toBe(Math.round(expected * 100) / 100);
    expect(dr.extras.monthlyUsd).toBe(27.07);
    expect(dr.monthlyUsd).toBe(28.07);
    expect(t.fixedMonthlyUsd).toBeCloseTo(t.blueprint.monthlyUsd + dr.monthlyUsd, 2);
  });

  it('prints the DR sections, the DR column and where the DR region\'s prices come from', () => {
    const text = formatCostReport(withDr);
    expect(text).toMatch(/^TIER +ISOLATION +COMPUTE +BLUEPRINT +NAMESPACE +SHARED CLUSTER SHARE +DISASTER RECOVERY +FIXED PER MONTH$/m);
    expect(text).toMatch(/^professional +vpc +shared +\$[\d,.]+ +\$0\.00 +\$[\d.]+ \(1\/10\) +\$19\.09 \(us-west-2\) +\$[\d,.]+$/m);
    expect(text).toMatch(/^starter +vpc +shared +\$[\d.]+ +\$0\.00 +\$[\d.]+ \(1\/10\) +- +\$[\d.]+$/m);
    expect(text).toContain('  disaster recovery to us-west-2 (RPO 1 h, RTO 4 h): $19.09 per month = DR blueprint $1.00 + DR extras $18.09');
    expect(text).toMatch(/^ {4}prices in us-west-2: us-west-2 = us-east-1 for kms\.keyMonth, .*\(list, 2026-12-01\); none differs/m);
    expect(text).toMatch(/^ {2}DR blueprint \(us-west-2\): \$1\.00 per month: KMS \$1\.00$/m);
    expect(text).toMatch(/replica storage in us-west-2: .* +\$2\.75 +published, assumed\*, us-west-2 = us-east-1 \(list, 2026-12-01\)$/m);
    expect(text).not.toContain('NOT PRICED');
    // the assumptions behind the DR lines are listed with the others
    expect(text).toMatch(/^ {2}databaseChangeGbPerMonth +10 GB of changed database blocks per month/m);
  });
});
