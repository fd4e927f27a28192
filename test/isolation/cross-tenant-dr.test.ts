import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import type { LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import type { IsolationReport } from '../../lib/preflight/isolation/check.js';
import { tierEstates } from '../../lib/preflight/isolation/tier-estates.js';
import { shapeOf } from '../../lib/preflight/isolation/tier-shapes.js';
import { RELEASE_CONFIGS } from '../../lib/released-blueprints.js';
import { attemptsOn } from '../../lib/preflight/isolation/attempts.js';
import { drRestoreRoleName } from '../../lib/tenant-naming.js';
import { configWith } from '../support/config-with.js';
import { bothWays, cachedBlueprints, checkTiers, expectControlsAllowed, expectNoneAllowed, reportVerifiedAfterAll, TENANTS } from './support/cross-tenant.js';

// The cross-tenant isolation check (lib/preflight/isolation/) for DR tiers: no default tier has disaster
// recovery, so the release config `full` (professional, a VPC tier, and enterprise, an account tier, with a DR
// region) is checked here. Each tenant's estate then holds its DR blueprint (DR key, DR bucket, DR vault, restore
// role) and its failover blueprint (`TesseraTenantFailover-<tier>`, as the failover runbook deploys it), both in
// the DR region: their roles are principals against the other tenant's resources, their resources (and the
// copies AWS Backup keeps in the DR vault) are attempted by the other tenant's principals, and their roles have
// positive controls on their own stack.
const DR_TIERS = ['professional', 'enterprise'];
const config = configWith(RELEASE_CONFIGS.full);
let loaded: LoadedBlueprints;
let reports: Map<string, IsolationReport[]>;

reportVerifiedAfterAll();
beforeAll(async () => {
  loaded = await cachedBlueprints(config);
  reports = await checkTiers(loaded, DR_TIERS.map((tierName) => ({ tierName, shape: shapeOf(config.tiers[tierName]) })));
}, 900_000);

const drRegion = () => (config.tiers.professional.disasterRecovery as { region: string }).region;

describe('cross-tenant isolation of DR tiers, their DR and failover blueprints included', () => {
  it('puts each tenant\'s DR and failover stacks in its estate, in the DR region and the tenant\'s account', () => {
    for (const tierName of DR_TIERS) {
      const tier = loaded.tiers.find((t) => t.tierName === tierName)!;
      expect(tier.dr, tierName).toBeDefined();
      expect(tier.failover, tierName).toBeDefined();
      const [a, b] = tierEstates(loaded, tier, TENANTS);
      for (const e of [a, b]) {
        expect(e.drStacks.map((s) => [s.env.region, s.env.account]), tierName).toEqual([[drRegion(), e.account], [drRegion(), e.account]]);
        const drRoles = e.principals.filter((p) => e.drStacks.includes(p.inst)).map((p) => p.roleName);
        expect(drRoles, tierName).toContain(drRestoreRoleName(e.tenantId));
        // The failover blueprint's service roles (flow logs, RDS monitoring, backup, training events).
        expect(drRoles.length, tierName).toBeGreaterThanOrEqual(5);
        expect(e.runtime.drCopies.map((c) => c.region), tierName).toEqual([drRegion(), drRegion()]);
      }
    }
  });

  it('attempts the other tenant\'s DR bucket, DR key, DR vault and DR-vault copies', () => {
    for (const tierName of DR_TIERS) {
      const tier = loaded.tiers.find((t) => t.tierName === tierName)!;
      const [, b] = tierEstates(loaded, tier, TENANTS);
      const dr = b.drStacks[0];
      const of = (type: string) => Object.values(dr.resources).filter((r) => r.type === type).map((r) => r.arn);
      const labels = attemptsOn(b, tierEstates(loaded, tier, TENANTS)[0]).map((x) => x.label);
      for (const arn of [...of('AWS::S3::Bucket'), ...of('AWS::KMS::Key'), ...of('AWS::Backup::BackupVault'), b.runtime.drCopies[0].recoveryPointArn, b.runtime.drCopies[0].dbSnapshotArn]) {
        expect(labels.some((l) => l.includes(arn)), `${tierName}: ${arn}`).toBe(true);
      }
    }
  });

  it('checks both DR tiers', () => {
    expect([...reports.keys()].sort()).toEqual([...DR_TIERS].sort());
  });

  it('allows no principal of one tenant any sensitive action on the other tenant\'s resources', () => {
    expectNoneAllowed(reports);
  });

  it('allows every positive control, the DR and failover roles\' on their own stacks included', () => {
    expectControlsAllowed(reports);
  });

  it('finds a planted defect: a DR restore role widened to every recovery point and snapshot of the account', async () => {
    const tiers = loaded.tiers.map((t) => {
      if (t.tierName !== 'professional') return t;
      const dr = structuredClone(t.dr!) as CfnTemplate;
      const policy = Object.values(dr.Resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties).includes('"TheDrVault"'))!;
      const statements = (policy.Properties as { PolicyDocument: { Statement: Array<Record<string, unknown>> } }).PolicyDocument.Statement;
      statements.push({ Sid: 'Widened', Effect: 'Allow', Action: ['backup:DeleteRecoveryPoint', 'rds:DeleteDBSnapshot'], Resource: '*' });
      return { ...t, dr };
    });
    const [r] = await bothWays({ ...loaded, tiers }, 'professional');
    const victim = tierEstates(loaded, loaded.tiers.find((t) => t.tierName === 'professional')!, TENANTS)[1];
    const restoreRole = drRestoreRoleName(TENANTS[0]);
    const found = r.allowed.filter((f) => f.principal === restoreRole).map((f) => f.attempt);
    // The victim's recovery points and snapshots in the shared workload account: home region and DR region.
    expect(found).toEqual(expect.arrayContaining([
      `backup:DeleteRecoveryPoint ${victim.runtime.recoveryPointArn}`,
      ...victim.runtime.drCopies.map((c) => `backup:DeleteRecoveryPoint ${c.recoveryPointArn}`),
      ...victim.runtime.drCopies.map((c) => `rds:DeleteDBSnapshot ${c.dbSnapshotArn}`),
    ]));
    expect(r.allowed.every((f) => f.principal === restoreRole)).toBe(true);
  });
});
