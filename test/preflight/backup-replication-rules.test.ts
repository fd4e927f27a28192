import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints, TierBlueprints } from '../../lib/preflight/blueprints.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { restoredDatabaseParameters } from '../../lib/preflight/run.js';
import { scheduleProblem } from '../../lib/preflight/backup-rules.js';
import { checkServiceRules, SERVICE_RULES, type RuleContext } from '../../lib/preflight/service-rules.js';
import { configWith } from '../support/config-with.js';
import { cachedBlueprints } from './support/cached-blueprints.js';

// The AWS Backup and S3 replication values AWS validates on create and update and moto stores as given
// (lib/preflight/backup-rules.ts, lib/preflight/s3-replication-rules.ts): every stack of every tier passes them (the
// default config, a DR tier at RPO 1 h and one at 24 h, the platform's own DR on: the hourly DR rule, the restore
// test, RTC replication, the audit bucket's replication), and a value AWS refuses, planted in a copy of a blueprint,
// fails the rule naming the stack, the resource and the value.
const DR = { platformDisasterRecovery: { region: 'us-west-2' }, tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } }, enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 24, rtoHours: 24 } } } };
const ACCOUNT = '333333333333';
const RULE_IDS = ['backup-cold-storage-90-days', 'backup-rule-start-window', 'backup-rule-schedule-hourly-at-most', 'backup-restore-testing-windows', 's3-replication-rule-settings'];

let plain: LoadedBlueprints;
let dr: LoadedBlueprints;

beforeAll(async () => {
  plain = await cachedBlueprints(configWith());
  dr = await cachedBlueprints(configWith(DR));
}, 300_000);

const tierOf = (l: LoadedBlueprints, name: string): TierBlueprints => l.tiers.find((t) => t.tierName === name)!;
const vpcCidrOf = (t: TierBlueprints) => `${t.tier.network.tenantCidrPool.split('/')[0]}/${t.tier.network.tenantVpcPrefixLength}`;
const rule = (id: string) => SERVICE_RULES.find((r) => r.id === id)!;

/**
 * The context the preflight gives the rules for tier `name` of `loaded` (lib/preflight/run.ts): the tier blueprint in
 * us-east-1, its DR and failover blueprints in the DR region, the platform stack; `plant` changes a copy of a template
 * (`tenant`, `dr`, `failover`, `platform`) first.
 */
function contextOf(loaded: LoadedBlueprints, name: string, plant: { on?: 'tenant' | 'dr' | 'failover' | 'platform'; change?: (t: CfnTemplate) => void } = {}): RuleContext {
  const t = tierOf(loaded, name);
  const copy = (which: 'tenant' | 'dr' | 'failover' | 'platform', template: CfnTemplate) => {
    const c = structuredClone(template);
    if (plant.on === which) plant.change!(c);
    return c;
  };
  const drRegion = 'us-west-2';
  const inst = instantiate(copy('tenant', t.tenant), { tenantId: 'acme', account: ACCOUNT, region: 'us-east-1', vpcCidr: vpcCidrOf(t) });
  const alsoDeployed = [
    ...(t.dr ? [{ blueprint: `${name}-dr.template.json`, inst: instantiate(copy('dr', t.dr), { tenantId: 'acme', account: ACCOUNT, region: drRegion, vpcCidr: vpcCidrOf(t) }), deployedBefore: [] }] : []),
    ...(t.failover ? [{ blueprint: `${name}-failover`, inst: instantiate(copy('failover', t.failover), { tenantId: 'acme', account: ACCOUNT, region: drRegion, vpcCidr: vpcCidrOf(t), parameters: restoredDatabaseParameters('acme', ACCOUNT, drRegion, 'aws') }), deployedBefore: [] }] : []),
  ];
  const platform = instantiate(copy('platform', loaded.platform), { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: loaded.config.platformAccountId, region: loaded.config.homeRegion, stackName: 'TesseraPlatform', lenient: true });
  return { inst, tierName: name, tier: t.tier, config: loaded.config, alsoDeployed, platform };
}
const violationsOf = async (ctx: RuleContext, id: string) => (await checkServiceRules(ctx, [rule(id)]))[0].violations;
const byType = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => r.Type === type) as Array<{ Properties: any }>;
const drRuleOf = (t: CfnTemplate) => byType(t, 'AWS::Backup::BackupPlan')[0].Properties.BackupPlan.BackupPlanRule.find((r: any) => r.RuleName === 'disaster-recovery');

describe('AWS Backup and S3 replication service rules', () => {
  it('are registered, and every stack of every tier passes them (default config; DR tiers at RPO 1 h and 24 h, the platform\'s DR on)', async () => {
    expect(SERVICE_RULES.map((r) => r.id)).toEqual(expect.arrayContaining(RULE_IDS));
    for (const loaded of [plain, dr]) {
      for (const t of loaded.tiers) {
        const results = await checkServiceRules(contextOf(loaded, t.tierName), RULE_IDS.map(rule));
        for (const r of results) expect(r.violations, `${t.tierName} ${r.rule.id}`).toEqual([]);
      }
    }
    // What they read is there: the hourly DR rule with its one-hour start window, the restore test, RTC and the audit replication.
    expect(drRuleOf(tierOf(dr, 'professional').tenant)).toMatchObject({ StartWindowMinutes: 60 });
    const applicable = (await checkServiceRules(contextOf(dr, 'professional'), RULE_IDS.map(rule))).map((r) => [r.rule.id, r.applicable]);
    expect(Object.fromEntries(applicable)).toEqual(Object.fromEntries(RULE_IDS.map((id) => [id, true])));
  });

  it('refuses a copy action that keeps cold-stored copies under 90 days there (the rule read only the rule\'s own Lifecycle)', async () => {
    const ctx = contextOf(dr, 'professional', { on: 'tenant', change: (t) => { drRuleOf(t).CopyActions[0].Lifecycle = { MoveToColdStorageAfterDays: 30, DeleteAfterDays: 35 }; } });
    expect(await violationsOf(ctx, 'backup-cold-storage-90-days')).toEqual([
      expect.stringMatching(/^DatabaseBackupPlan\w+ rule disaster-recovery copy action 0 \(to arn:aws:backup:us-west-2:333333333333:backup-vault:tessera-acme-dr\): DeleteAfterDays 35 < MoveToColdStorageAfterDays 30 \+ 90$/),
    ]);
  });

  it('refuses a start window under 60 minutes, naming the stack it is in (the failover blueprint\'s plan)', async () => {
    const ctx = contextOf(dr, 'professional', { on: 'failover', change: (t) => { byType(t, 'AWS::Backup::BackupPlan')[0].Properties.BackupPlan.BackupPlanRule[0].StartWindowMinutes = 30; } });
    expect(await violationsOf(ctx, 'backup-rule-start-window')).toEqual([expect.stringMatching(/^professional-failover: DatabaseBackupPlan\w+ rule daily: StartWindowMinutes 30 is not 60-52560000$/)]);
  });

  it('refuses a schedule more frequent than hourly, and one that is not a six-field cron expression', async () => {
    const every30 = contextOf(dr, 'professional', { on: 'tenant', change: (t) => { drRuleOf(t).ScheduleExpression = 'cron(0/30 * * * ? *)'; } });
    expect(await violationsOf(every30, 'backup-rule-schedule-hourly-at-most')).toEqual([expect.stringMatching(/^DatabaseBackupPlan\w+ rule disaster-recovery: ScheduleExpression "cron\(0\/30 \* \* \* \? \*\)" runs more often than hourly \(minutes field "0\/30"/)]);
    expect(scheduleProblem('rate(1 hour)')).toBe('"rate(1 hour)" is not a cron(...) expression');
    expect(scheduleProblem('cron(0 3 * * ?)')).toMatch(/has 5 fields, not 6/);
    expect(scheduleProblem('cron(7 0/1 * * ? *)')).toBeUndefined();
    expect(scheduleProblem('cron(60 3 * * ? *)')).toMatch(/more often than hourly/);
  });

  it('reads the platform stack\'s Backup plan too (the registry\'s hourly plan copied to the platform\'s DR Region), naming it', async () => {
    const registryPlan = (t: CfnTemplate) => byType(t, 'AWS::Backup::BackupPlan')[0].Properties.BackupPlan.BackupPlanRule[0];
    expect(registryPlan(dr.platform)).toMatchObject({ RuleName: 'hourly-copied-to-dr', ScheduleExpression: 'cron(0 * * * ? *)' });
    const ctx = contextOf(dr, 'starter', { on: 'platform', change: (t) => {
      registryPlan(t).ScheduleExpression = 'cron(0/15 * * * ? *)';
      registryPlan(t).StartWindowMinutes = 30;
      registryPlan(t).CopyActions[0].Lifecycle = { MoveToColdStorageAfterDays: 7, DeleteAfterDays: 35 };
    } });
    expect(await violationsOf(ctx, 'backup-rule-schedule-hourly-at-most')).toEqual([expect.stringMatching(/^TesseraPlatform: RegistryBackupPlan\w+ rule hourly-copied-to-dr: ScheduleExpression "cron\(0\/15 \* \* \* \? \*\)" runs more often than hourly/)]);
    expect(await violationsOf(ctx, 'backup-rule-start-window')).toEqual([expect.stringMatching(/^TesseraPlatform: RegistryBackupPlan\w+ rule hourly-copied-to-dr: StartWindowMinutes 30 is not 60-52560000$/)]);
    expect(await violationsOf(ctx, 'backup-cold-storage-90-days')).toEqual([expect.stringMatching(/^TesseraPlatform: RegistryBackupPlan\w+ rule hourly-copied-to-dr copy action 0 \(to arn:aws:backup:us-west-2:\d{12}:backup-vault:tessera-platform-dr\): DeleteAfterDays 35 < MoveToColdStorageAfterDays 7 \+ 90$/)]);
  });

  it('refuses restore testing windows out of AWS Backup\'s ranges', async () => {
    const ctx = contextOf(dr, 'enterprise', { on: 'tenant', change: (t) => {
      const plan = byType(t, 'AWS::Backup::RestoreTestingPlan')[0].Properties;
      plan.StartWindowHours = 169;
      plan.RecoveryPointSelection.SelectionWindowDays = 366;
      byType(t, 'AWS::Backup::RestoreTestingSelection')[0].Properties.ValidationWindowHours = 200;
    } });
    expect(await violationsOf(ctx, 'backup-restore-testing-windows')).toEqual([
      expect.stringMatching(/^RestoreTestingPlan\w* ?\w*: StartWindowHours 169 is not 1-168$/),
      expect.stringMatching(/: RecoveryPointSelection.SelectionWindowDays 366 is not 1-365$/),
      expect.stringMatching(/: ValidationWindowHours 200 is not 0-168$/),
    ]);
  });

  it('refuses S3 RTC without its metrics, a threshold other than 15 minutes, replicated delete markers under a tag filter, and SSE-KMS replicas without a key', async () => {
    const replicationRule = (t: CfnTemplate) => byType(t, 'AWS::S3::Bucket').find((b) => b.Properties.ReplicationConfiguration)!.Properties.ReplicationConfiguration.Rules[0];
    const noMetrics = contextOf(dr, 'professional', { on: 'tenant', change: (t) => { delete replicationRule(t).Destination.Metrics; } });
    expect(await violationsOf(noMetrics, 's3-replication-rule-settings')).toEqual([expect.stringMatching(/^StorageBucket\w+ replication rule tenant-data-to-dr-region: S3 RTC \(ReplicationTime Enabled\) without Metrics Enabled \(no Metrics\)$/)]);
    const threshold = contextOf(dr, 'professional', { on: 'tenant', change: (t) => { replicationRule(t).Destination.Metrics.EventThreshold.Minutes = 10; replicationRule(t).Destination.ReplicationTime.Time.Minutes = 20; } });
    expect(await violationsOf(threshold, 's3-replication-rule-settings')).toEqual([
      expect.stringMatching(/ReplicationTime.Time.Minutes 20: S3 RTC takes only 15$/),
      expect.stringMatching(/Metrics.EventThreshold.Minutes 10: S3 RTC needs 15$/),
    ]);
    const tagged = contextOf(dr, 'professional', { on: 'tenant', change: (t) => { replicationRule(t).Filter = { TagFilter: { Key: 'replicate', Value: 'yes' } }; delete replicationRule(t).Destination.EncryptionConfiguration; } });
    expect(await violationsOf(tagged, 's3-replication-rule-settings')).toEqual([
      expect.stringMatching(/DeleteMarkerReplication Enabled in a rule that filters on tags/),
      expect.stringMatching(/SseKmsEncryptedObjects Enabled without Destination.EncryptionConfiguration.ReplicaKmsKeyID$/),
    ]);
  });
});
