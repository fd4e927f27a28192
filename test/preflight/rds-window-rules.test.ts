import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints, TierBlueprints } from '../../lib/preflight/blueprints.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { restoredDatabaseParameters } from '../../lib/preflight/run.js';
import { dailyWindow, weeklyRunMinutes, weeklyWindow } from '../../lib/preflight/rds-window-rules.js';
import { rdsOverrideProblem } from '../../lib/preflight/backup-rules.js';
import { checkServiceRules, SERVICE_RULES, type RuleContext } from '../../lib/preflight/service-rules.js';
import { rdsWindowsFor } from '../../lib/rds-windows.js';
import { configWith } from '../support/config-with.js';
import { cachedBlueprints } from './support/cached-blueprints.js';

// RDS's backup and maintenance windows (RDS refuses malformed, short or overlapping ones), the AWS Backup runs the
// maintenance window holds up (no backup starts in the hour before it or during it: a run whose whole start window falls
// there is lost, once a week), and the keys an RDS restore test may override (lib/preflight/rds-window-rules.ts,
// lib/preflight/backup-rules.ts). Every stack of every tier passes; a value AWS refuses or a window that loses a run,
// planted in a copy of a blueprint, fails the rule naming the resource and the value.
const DR = { tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } }, enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 24, rtoHours: 24 } } } };
const ACCOUNT = '333333333333';
const RULE_IDS = ['rds-backup-maintenance-windows', 'backup-runs-clear-rds-maintenance', 'backup-restore-testing-rds-overrides'];

let plain: LoadedBlueprints;
let dr: LoadedBlueprints;

beforeAll(async () => {
  plain = await cachedBlueprints(configWith());
  dr = await cachedBlueprints(configWith(DR));
}, 300_000);

const tierOf = (l: LoadedBlueprints, name: string): TierBlueprints => l.tiers.find((t) => t.tierName === name)!;
const vpcCidrOf = (t: TierBlueprints) => `${t.tier.network.tenantCidrPool.split('/')[0]}/${t.tier.network.tenantVpcPrefixLength}`;
const rule = (id: string) => SERVICE_RULES.find((r) => r.id === id)!;
const byType = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => r.Type === type) as Array<{ Properties: any }>;
const database = (t: CfnTemplate) => byType(t, 'AWS::RDS::DBInstance')[0].Properties;

/** The preflight's context for tier `name` (lib/preflight/run.ts), the tier blueprint changed by `change` first, its minute `minute`. */
function contextOf(loaded: LoadedBlueprints, name: string, change?: (t: CfnTemplate) => void, minute?: number): RuleContext {
  const t = tierOf(loaded, name);
  const tenant = structuredClone(t.tenant);
  change?.(tenant);
  const parameters = minute === undefined ? undefined : { BackupScheduleMinute: minute };
  const inst = instantiate(tenant, { tenantId: 'acme', account: ACCOUNT, region: 'us-east-1', vpcCidr: vpcCidrOf(t), parameters });
  const alsoDeployed = [
    ...(t.dr ? [{ blueprint: `${name}-dr.template.json`, inst: instantiate(t.dr, { tenantId: 'acme', account: ACCOUNT, region: 'us-west-2', vpcCidr: vpcCidrOf(t) }), deployedBefore: [] }] : []),
    ...(t.failover ? [{ blueprint: `${name}-failover`, inst: instantiate(t.failover, { tenantId: 'acme', account: ACCOUNT, region: 'us-west-2', vpcCidr: vpcCidrOf(t), parameters: restoredDatabaseParameters('acme', ACCOUNT, 'us-west-2', 'aws') }), deployedBefore: [] }] : []),
  ];
  return { inst, tierName: name, tier: t.tier, config: loaded.config, alsoDeployed };
}
const violationsOf = async (ctx: RuleContext, id: string) => (await checkServiceRules(ctx, [rule(id)]))[0].violations;

describe('RDS window and restore override service rules', () => {
  it('are registered, and every stack of every tier passes them (default config; DR tiers at RPO 1 h and 24 h, minutes 0 and 50)', async () => {
    expect(SERVICE_RULES.map((r) => r.id)).toEqual(expect.arrayContaining(RULE_IDS));
    for (const loaded of [plain, dr]) {
      for (const t of loaded.tiers) {
        for (const minute of loaded === dr ? [0, 50] : [undefined]) {
          const results = await checkServiceRules(contextOf(loaded, t.tierName, undefined, minute), RULE_IDS.map(rule));
          for (const r of results) expect(r.violations, `${t.tierName} ${minute} ${r.rule.id}`).toEqual([]);
        }
      }
    }
  });

  it('gives a DR tier\'s database windows placed by its backup minute (the FindInMap resolved), a default tier\'s none', () => {
    const windows = (minute: number) => {
      const inst = contextOf(dr, 'professional', undefined, minute).inst;
      const db = Object.values(inst.resources).find((r) => r.type === 'AWS::RDS::DBInstance')!;
      return [db.props.PreferredBackupWindow, db.props.PreferredMaintenanceWindow];
    };
    expect(windows(0)).toEqual(['00:15-00:45', 'sun:02:15-sun:02:45']);
    expect(windows(50)).toEqual(['01:05-01:35', 'sun:03:05-sun:03:35']);
    expect(database(tierOf(plain, 'professional').tenant).PreferredMaintenanceWindow).toBeUndefined();
  });

  it('refuses windows RDS refuses: malformed, under 30 minutes, overlapping', async () => {
    const overlap = contextOf(dr, 'professional', (t) => { database(t).PreferredBackupWindow = '02:00-02:30'; database(t).PreferredMaintenanceWindow = 'sun:02:15-sun:02:45'; });
    expect(await violationsOf(overlap, 'rds-backup-maintenance-windows')).toEqual([expect.stringMatching(/^DatabaseInstance\w+: PreferredBackupWindow 02:00-02:30 overlaps PreferredMaintenanceWindow sun:02:15-sun:02:45$/)]);
    const bad = contextOf(dr, 'professional', (t) => { database(t).PreferredBackupWindow = '2:00-2:30'; database(t).PreferredMaintenanceWindow = 'Sun:02:15-Sun:02:30'; });
    expect(await violationsOf(bad, 'rds-backup-maintenance-windows')).toEqual([
      expect.stringMatching(/PreferredBackupWindow "2:00-2:30" is not hh24:mi-hh24:mi$/),
      expect.stringMatching(/PreferredMaintenanceWindow "Sun:02:15-Sun:02:30" is 15 minutes, under 30$/),
    ]);
    // across midnight and across the week's end
    const crossing = contextOf(dr, 'professional', (t) => { database(t).PreferredBackupWindow = '23:50-00:20'; database(t).PreferredMaintenanceWindow = 'sun:23:45-mon:00:15'; });
    expect(await violationsOf(crossing, 'rds-backup-maintenance-windows')).toEqual([expect.stringMatching(/overlaps/)]);
  });

  it('refuses a maintenance window RDS picks at random, and one that swallows a run\'s whole start window', async () => {
    const random = contextOf(dr, 'professional', (t) => { delete database(t).PreferredMaintenanceWindow; delete database(t).PreferredBackupWindow; });
    const found = await violationsOf(random, 'backup-runs-clear-rds-maintenance');
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^DatabaseBackupPlan\w+: DatabaseInstance\w+ sets no PreferredMaintenanceWindow: .* the 60-minute start window of a run of rule disaster-recovery can fall wholly inside/)]));
    // a window starting 45 minutes past the 02:00 run: its blackout, 01:45-03:15, holds the whole 02:00-03:00 start window
    const swallowing = contextOf(dr, 'professional', (t) => { database(t).PreferredMaintenanceWindow = 'sun:02:45-sun:03:15'; database(t).PreferredBackupWindow = '00:15-00:45'; }, 0);
    expect(await violationsOf(swallowing, 'backup-runs-clear-rds-maintenance')).toEqual([
      expect.stringMatching(/^DatabaseBackupPlan\w+: rule disaster-recovery's run at sun 02:00 UTC \(start window 60 minutes\) lies wholly in the hour before DatabaseInstance\w+'s PreferredMaintenanceWindow sun:02:45-sun:03:15 or in it/),
    ]);
    // a default tier's rules start within AWS Backup's 8 hours: a random window holds none of them up
    expect(await violationsOf(contextOf(plain, 'professional'), 'backup-runs-clear-rds-maintenance')).toEqual([]);
  });

  it('refuses restore metadata keys AWS Backup does not override for RDS, and security groups that are not a JSON array', async () => {
    const selection = (t: CfnTemplate) => byType(t, 'AWS::Backup::RestoreTestingSelection')[0].Properties;
    const ctx = contextOf(dr, 'professional', (t) => { selection(t).RestoreMetadataOverrides = { DBSubnetGroupName: 'x', dbSubnetGroup: 'x', vpcSecurityGroupIds: 'sg-1' }; });
    expect(await violationsOf(ctx, 'backup-restore-testing-rds-overrides')).toEqual([
      expect.stringMatching(/^RestoreTesting\w+: RestoreMetadataOverrides key "dbSubnetGroup" is not an overridable RDS restore metadata key/),
      expect.stringMatching(/key "vpcSecurityGroupIds" is "sg-1", not a JSON array of security group ids in a string$/),
    ]);
    expect(rdsOverrideProblem('vpcsecuritygroupids', '["sg-1"]')).toBeUndefined();
    expect(rdsOverrideProblem('DbInstanceClass', 'db.t4g.micro')).toBeUndefined();
  });

  it('reads windows and schedules as RDS and AWS Backup write them', () => {
    expect(dailyWindow('23:45-00:15')).toEqual({ start: 23 * 60 + 45, length: 30 });
    expect(dailyWindow('24:00-00:30')).toMatch(/is not hh24:mi-hh24:mi/);
    expect(weeklyWindow('sun:23:45-mon:00:15')).toEqual({ start: 6 * 1440 + 23 * 60 + 45, length: 30 });
    expect(weeklyWindow('xyz:01:00-xyz:02:00')).toMatch(/is not ddd:hh24:mi/);
    expect(weeklyRunMinutes('cron(7 0/8 * * ? *)')?.slice(0, 3)).toEqual([7, 8 * 60 + 7, 16 * 60 + 7]);
    expect(weeklyRunMinutes('cron(5 4 1 * ? *)')).toHaveLength(7); // monthly: any weekday
    expect(weeklyRunMinutes('rate(1 hour)')).toBeUndefined();
  });

  it('places windows that lose no hourly run and do not overlap, for every minute', () => {
    for (let m = 0; m < 60; m += 1) {
      const w = rdsWindowsFor(m);
      const maintenance = weeklyWindow(w.maintenance) as { start: number; length: number };
      expect(dailyWindow(w.backup)).toMatchObject({ length: 30 });
      expect(maintenance.length).toBe(30);
      // the blackout (an hour before, then the window) never holds a whole hour starting at :m
      const blackoutStart = maintenance.start - 60;
      const firstRun = Math.ceil((blackoutStart - m) / 60) * 60 + m;
      expect(firstRun + 60, `minute ${m}`).toBeGreaterThan(maintenance.start + maintenance.length);
    }
    expect(() => rdsWindowsFor(60)).toThrow(/0 to 59, got 60/);
  });
});
