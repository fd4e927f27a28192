import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import { countsLine } from '../../lib/preflight/format.js';
import { namespaceDeployerInstance, tierPasses, type PreflightReport } from '../../lib/preflight/run.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { ProviderSchemas } from '../../lib/preflight/provider-schemas.js';
import { BLUEPRINT_VERSION_TAG, resourceTags, stackTagsFor } from '../../lib/preflight/tags.js';
import { ACCOUNT_BASELINE_FILE_NAME, TENANT_ID_TAG, TIER_TAG } from '../../lib/tenant-naming.js';
import { VERSION_TAG } from '../../lambdas/lifecycle/blueprints.js';
import { describeDrTierPreflight } from './dr-tier.js';
import { describeInfrastructureBudgetPreflight } from './infrastructure-budget-tier.js';
import { describeSelfTest } from './self-test.js';
import { defaultPreflight } from './support/default-preflight.js';

// The CI gate of issue 9: every tier of the default config deploys as far as the offline
// preflight can tell. One blueprint build and one preflight run for the whole file, shared with
// the self-test (self-test.ts: planted defects against this run as control) and the DR tier's
// preflight (dr-tier.ts), registered at the end: in one process they share the IAM simulator's
// memoized answers, which is most of a run's cost.
let loaded: LoadedBlueprints;
let report: PreflightReport;
const schemas = new ProviderSchemas();

beforeAll(async () => {
  ({ loaded, report } = await defaultPreflight());
  for (const t of report.tiers) console.log(countsLine(t));
}, 120_000);

describe('deploy preflight of the default config', () => {
  it('finds the account baseline with the blueprint execution role', () => {
    expect(report.baselinePresent).toBe(true);
    for (const t of report.tiers) expect(t.blockers).toEqual([]);
  });

  it('checks every tier, every namespace blueprint and the account baseline\'s own deploy', () => {
    expect(report.tiers.map((t) => t.tierName).sort()).toEqual(Object.keys(loaded.config.tiers).sort());
    for (const t of report.tiers) {
      const tier = loaded.config.tiers[t.tierName];
      expect(t.blueprints.map((b) => b.blueprint)).toEqual([
        `${t.tierName}.template.json`, ...(tier.compute.mode === 'shared' ? [`${t.tierName}-namespace.template.json`] : []), ACCOUNT_BASELINE_FILE_NAME,
      ]);
      for (const b of t.blueprints) expect(b.counts.evaluated).toBeGreaterThan(0);
      expect(t.blueprints.at(-1)!.deployer).toBe(`arn:aws:iam::333333333333:role/${loaded.config.roles.provisioningRoleName}`);
    }
  });

  it('puts the stack tags Deploy blueprint sets on the requests (the tag keys agree with the lifecycle)', () => {
    expect(BLUEPRINT_VERSION_TAG).toBe(VERSION_TAG);
    expect(Object.keys(stackTagsFor('tenant', { tenantId: 'acme', tierName: 'starter', version: '1.0.0' }))).toEqual([TENANT_ID_TAG, TIER_TAG, VERSION_TAG]);
    // The tenant key carries the stack's tags and its own; a map-shaped tag property (the vault's) is read too.
    const inst = instantiate(loaded.tiers[0].tenant, { tenantId: 'acme', vpcCidr: '10.0.0.0/22', account: '333333333333', region: loaded.config.homeRegion });
    const stackTags = stackTagsFor('tenant', { tenantId: 'acme', tierName: loaded.tiers[0].tierName, version: loaded.blueprintVersion });
    const of = (type: string) => resourceTags(Object.values(inst.resources).find((r) => r.type === type)!, schemas, stackTags);
    expect(of('AWS::KMS::Key')).toMatchObject({ [TENANT_ID_TAG]: 'acme', [TIER_TAG]: loaded.tiers[0].tierName, [VERSION_TAG]: loaded.blueprintVersion });
    expect(of('AWS::Backup::BackupVault')).toMatchObject({ [TENANT_ID_TAG]: 'acme' });
    expect(of('AWS::EC2::SubnetRouteTableAssociation')).toEqual({}); // not taggable
  });

  it('denies no handler permission of any blueprint', () => {
    const denied = report.tiers.flatMap((t) => t.blueprints.flatMap((b) => b.checks.filter((c) => c.outcome === 'denied').map((c) => `${b.blueprint} ${c.logicalId} ${c.handler} ${c.action} on ${c.resource}: ${c.detail}`)));
    expect(denied).toEqual([]);
  });

  it('hands the namespace blueprint both kubectl providers, the tenants\' one from the platform\'s NamespaceKubectl nested stack, whose handler role it reads', () => {
    const { platform, parameters } = namespaceDeployerInstance(loaded.namespaceDeployer!, '111111111111', 'us-east-1', 'aws');
    expect(parameters.NamespaceKubectlServiceToken).toMatch(/^arn:aws:lambda:us-east-1:111111111111:function:TesseraPlatform-NamespaceKubectl/);
    expect(parameters.KubectlServiceToken).toMatch(/^arn:aws:lambda:us-east-1:111111111111:function:TesseraPlatform-SharedCompute/);
    expect(Object.values(platform.resources).filter((r) => r.type === 'AWS::Lambda::Function')).toHaveLength(2);
    // The platform's resources the isolation check and the platform-principals rule read include the nested stack's: the
    // role every tenant's kubectl role trusts.
    const roles = Object.values(loaded.platform.Resources).filter((r) => r.Type === 'AWS::IAM::Role').map((r) => (r.Properties as { RoleName?: unknown } | undefined)?.RoleName);
    expect(roles).toContain('TesseraNamespaceKubectlHandler');
  });

  it('checks a trust change of every role but a pod-bridge or kubectl role, whose trust the platform fixes (the namespace deployer is denied it)', () => {
    const trustChanges = report.tiers.flatMap((t) => t.blueprints.flatMap((b) => b.checks.filter((c) => c.action === 'iam:UpdateAssumeRolePolicy').map((c) => ({ blueprint: b.blueprint, ...c }))));
    const bridge = trustChanges.filter((c) => c.blueprint.endsWith('-namespace.template.json'));
    expect(bridge.length).toBeGreaterThan(0);
    for (const c of bridge) expect(c, `${c.blueprint} ${c.logicalId}`).toMatchObject({ outcome: 'not-exercised', detail: expect.stringContaining('pod-bridge or kubectl role\'s trust') });
    const others = trustChanges.filter((c) => !c.blueprint.endsWith('-namespace.template.json'));
    expect(others.length).toBeGreaterThan(0);
    for (const c of others) expect(c.outcome, `${c.blueprint} ${c.logicalId}`).toBe('allowed');
  });

  it('lets no physical name collide across tenants in one account and region, and every name fits its schema', () => {
    for (const t of report.tiers) {
      expect(t.collisions, t.tierName).toEqual([]);
      expect(t.nameViolations, t.tierName).toEqual([]);
    }
  });

  it('passes every service rule', () => {
    const failed = report.tiers.flatMap((t) => t.rules.filter((r) => r.violations.length).map((r) => `${t.tierName} ${r.rule.id}: ${r.violations.join('; ')}`));
    expect(failed).toEqual([]);
    // The dedicated tier exercises every rule but the restore test's windows and RDS overrides: only a DR tier has a
    // restore test (dr-tier.ts checks those rules on one).
    expect(report.tiers.find((t) => t.isolation === 'account')?.rules.filter((r) => !r.applicable).map((r) => r.rule.id)).toEqual(['backup-restore-testing-windows', 'backup-restore-testing-rds-overrides']);
  });

  it('admits every deploy-time service role through the SCPs in force, and evaluates every action', () => {
    for (const t of report.tiers) {
      expect(t.serviceRoles.denials, t.tierName).toEqual([]);
      expect(t.serviceRoles.errors, t.tierName).toEqual([]);
      expect(t.serviceRoles.unknownServices, t.tierName).toEqual([]);
      expect(t.serviceRoles.roles).toBeGreaterThan(0);
    }
  });

  it('retains data stores with RetainExceptOnCreate or Snapshot, never plain Retain (decision 5)', () => {
    for (const t of report.tiers) {
      expect(t.retained.length).toBeGreaterThan(0);
      expect(t.plainRetain.map((r) => r.logicalId), t.tierName).toEqual([]);
    }
  });

  it('gives the CLI\'s verdict (tierPasses) PASS for every tier', () => {
    for (const t of report.tiers) expect(tierPasses(t), t.tierName).toBe(true);
  });

  it('checks the platform stack\'s Region too: the shared cluster\'s node groups are offered in homeRegion', () => {
    expect(report.platform).toEqual({ region: loaded.config.homeRegion, violations: [] });
  });

  it('prints a quota table per tier and names what binds the shared workload account', () => {
    for (const t of report.tiers) {
      console.log(t.quotas.markdown);
      expect(t.quotas.markdown).toContain('VPCs per Region');
      if (t.isolation === 'vpc') expect(t.quotas.binding).toBeDefined();
    }
  });
});

describeSelfTest();
describeDrTierPreflight();
describeInfrastructureBudgetPreflight();
