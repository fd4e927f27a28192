import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { runPreflight, tierPasses, type PreflightReport } from '../../lib/preflight/run.js';
import { configWith } from '../support/config-with.js';
import { saveDiskAnswers, useDiskAnswers } from './support/answer-store.js';
import { cachedBlueprints } from './support/cached-blueprints.js';
import { defaultPreflight } from './support/default-preflight.js';

// A DR tier's primary blueprint adds S3 replication (its role passed to S3) and a Backup
// restore-testing plan: the account baseline's execution role must allow both, or the first
// create of a DR tenant fails. Only the DR tier is checked (the default tiers: preflight.test.ts).
// Registered by describeDrTierPreflight() in preflight.test.ts's process, after the default run:
// most of the IAM simulator's requests are the same as that run's, and memoized.
const DR_TIER = 'professional';
let loaded: LoadedBlueprints;
let report: PreflightReport;

/** Registers the DR tier's preflight suite in the calling test file (preflight.test.ts). */
export function describeDrTierPreflight(): void {
  describe('deploy preflight of a DR tier', () => {
    beforeAll(async () => {
      await defaultPreflight(); // its memoized simulator answers first
      const all = await cachedBlueprints(configWith({ tiers: { [DR_TIER]: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 24 } } } }));
      loaded = { ...all, tiers: all.tiers.filter((t) => t.tierName === DR_TIER) };
      useDiskAnswers(); // the simulator's answers of the last run for the requests that did not change (./support/answer-store.ts)
      report = await runPreflight(loaded);
      saveDiskAnswers();
    }, 120_000);

    it('checks the DR tier\'s replication and restore testing, and denies no handler permission', () => {
      const tenant = report.tiers[0].blueprints.find((b) => b.blueprint === `${DR_TIER}.template.json`)!;
      expect(tenant.checks.some((c) => c.action === 'iam:PassRole' && /dr-replication/.test(c.resource))).toBe(true);
      expect(tenant.checks.some((c) => c.action === 'backup:CreateRestoreTestingPlan')).toBe(true);
      const denied = report.tiers.flatMap((t) => t.blueprints.flatMap((b) => b.checks.filter((c) => c.outcome === 'denied').map((c) => `${b.blueprint} ${c.logicalId} ${c.action} on ${c.resource}`)));
      expect(denied).toEqual([]);
      expect(tierPasses(report.tiers[0])).toBe(true);
      // The restore test's windows, which no default tier has, are checked here (lib/preflight/backup-rules.ts).
      expect(report.tiers[0].rules.find((x) => x.rule.id === 'backup-restore-testing-windows')).toMatchObject({ applicable: true, violations: [] });
      // Its restore test's RDS overrides and its database's windows (placed by the backup minute) too (lib/preflight/rds-window-rules.ts).
      for (const id of ['backup-restore-testing-rds-overrides', 'rds-backup-maintenance-windows', 'backup-runs-clear-rds-maintenance']) expect(report.tiers[0].rules.find((x) => x.rule.id === id), id).toMatchObject({ applicable: true, violations: [] });
    });

    it('checks the failover blueprint (runbook steps 5 and 8) and step 7\'s modify of the restored instance as the execution role in the DR region, and denies nothing', () => {
      const failover = report.tiers[0].blueprints.find((b) => b.blueprint.startsWith(`${DR_TIER}-failover `))!;
      expect(failover.deployerName).toBe(loaded.config.roles.blueprintExecutionRoleName);
      expect(failover.counts.evaluated).toBeGreaterThan(0);
      const evaluated = failover.checks.filter((c) => c.outcome === 'allowed' || c.outcome === 'denied');
      // every regional request of the failover stack is in the DR region
      expect(evaluated.filter((c) => /^arn:aws:[a-z0-9-]+:us-east-1:/.test(c.resource)).map((c) => `${c.logicalId} ${c.action} ${c.resource}`)).toEqual([]);
      expect(evaluated.some((c) => c.type === 'AWS::EC2::VPC' && c.resource.includes(':us-west-2:'))).toBe(true);
      // step 7: ModifyDBInstance on the restored instance, its managed secret, and the rebuilt tenant key through Secrets Manager
      const restored = evaluated.filter((c) => c.logicalId === 'RestoredDatabase');
      expect(restored.find((c) => c.handler === 'update' && c.action === 'rds:ModifyDBInstance')).toMatchObject({ resource: `arn:aws:rds:us-west-2:${loaded.config.workloadAccountId}:db:tessera-acme-restored`, outcome: 'allowed' });
      expect(restored.some((c) => c.action === 'secretsmanager:CreateSecret' && c.outcome === 'allowed')).toBe(true);
      expect(restored.filter((c) => c.action.startsWith('kms:GenerateDataKey (via secretsmanager')).map((c) => c.outcome)).toEqual(['allowed', 'allowed']);
      // step 8's conditional grants on the restored instance are part of what was checked
      expect(failover.checks.some((c) => c.logicalId.startsWith('RestoredDatabaseAccess'))).toBe(true);
      expect(failover.checks.filter((c) => c.outcome === 'denied')).toEqual([]);
    });

    it('checks the principals of the failover stack\'s key policy against the home stack\'s roles (a role no stack creates is a finding)', async () => {
      const rule = (r: PreflightReport) => r.tiers[0].rules.find((x) => x.rule.id === 'resource-policy-principals-exist')!;
      expect(rule(report).violations).toEqual([]);
      // The DR and failover stacks' aws:PrincipalArn conditions naming platform roles too.
      expect(report.tiers[0].rules.find((x) => x.rule.id === 'platform-principal-conditions-match')).toMatchObject({ applicable: true, violations: [] });
      const renamed = await runPreflight(loaded, {
        mutate: (kind, _tier, t) => (kind === 'failover' ? JSON.parse(JSON.stringify(t).replaceAll('"-admin"', '"-administrator"')) : t),
      });
      expect(rule(renamed).violations).toEqual([expect.stringMatching(new RegExp(`^${DR_TIER}-failover: Key\\w+ \\(AWS::KMS::Key\\) names arn:aws:iam::\\d{12}:role/tessera-acme-administrator in its KeyPolicy, which neither this stack nor a stack deployed before it creates$`))]);
    });

    it('denies the failover steps with the execution role\'s regional statements limited to the home region (the role before this change)', async () => {
      const homeOnly = await runPreflight(loaded, { mutate: (kind, _tier, t) => (kind === 'baseline' ? withoutDrRegionInRegionalStatements(t) : t) });
      const denied = (name: string) => homeOnly.tiers[0].blueprints.find((b) => b.blueprint.startsWith(name))!.checks.filter((c) => c.outcome === 'denied');
      const failoverDenied = denied(`${DR_TIER}-failover `);
      expect(failoverDenied.some((c) => c.logicalId === 'RestoredDatabase' && c.action === 'rds:ModifyDBInstance')).toBe(true);
      expect(failoverDenied.some((c) => c.logicalId === 'RestoredDatabase' && c.action === 'secretsmanager:CreateSecret')).toBe(true);
      expect(failoverDenied.some((c) => c.action === 'ec2:CreateVpc')).toBe(true);
      // the DR blueprint and the tier blueprint keep passing: only the failover needs the DR region's regional statements
      expect(denied(`${DR_TIER}-dr.template.json`)).toEqual([]);
      expect(denied(`${DR_TIER}.template.json`)).toEqual([]);
    }, 120_000);

    it('checks the DR blueprint too, as the execution role in the DR region, and denies nothing there', () => {
      const dr = report.tiers[0].blueprints.find((b) => b.blueprint === `${DR_TIER}-dr.template.json`)!;
      expect(dr.counts.evaluated).toBeGreaterThan(0);
      expect(dr.checks.some((c) => c.resource.includes(':us-west-2:'))).toBe(true);
      expect(dr.checks.filter((c) => c.outcome === 'denied')).toEqual([]);
    });
  });
}

/**
 * The account baseline with the DR region (us-west-2) taken out of the execution role's regional
 * policies (every policy but `…-DisasterRecovery`): its resources, its aws:RequestedRegion and
 * kms:ViaService values.
 */
function withoutDrRegionInRegionalStatements(template: CfnTemplate): CfnTemplate {
  const inDr = (v: unknown) => JSON.stringify(v).includes('us-west-2');
  for (const r of Object.values(template.Resources as Record<string, { Type: string; Properties: any }>)) {
    if (r.Type !== 'AWS::IAM::ManagedPolicy' || JSON.stringify(r.Properties.ManagedPolicyName).endsWith('-DisasterRecovery"')) continue;
    for (const st of r.Properties.PolicyDocument.Statement as any[]) {
      if (Array.isArray(st.Resource)) st.Resource = st.Resource.filter((x: unknown) => !inDr(x));
      for (const key of ['kms:ViaService', 'aws:RequestedRegion']) {
        const values = st.Condition?.StringEquals?.[key];
        if (Array.isArray(values)) st.Condition.StringEquals[key] = values.filter((x: unknown) => !inDr(x));
      }
    }
  }
  return template;
}
