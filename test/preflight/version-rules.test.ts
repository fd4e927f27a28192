import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints, TierBlueprints } from '../../lib/preflight/blueprints.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { restoredDatabaseParameters } from '../../lib/preflight/run.js';
import { postgresFamilyOf } from '../../lib/preflight/version-rules.js';
import { checkServiceRules, SERVICE_RULES, type RuleContext } from '../../lib/preflight/service-rules.js';
import { configWith } from '../support/config-with.js';
import { cachedBlueprints } from './support/cached-blueprints.js';

// Versions RDS and EKS require to agree within a stack, which moto does not check (lib/preflight/version-rules.ts): the
// PostgreSQL instance's parameter group family and its engine version; a managed node group's Version and its cluster's.
// Every stack of every tier passes (the default config, and a DR tier's failover stack with its own database and
// cluster); a mismatch planted in a copy of a blueprint fails the rule naming the resources and the versions.
const DR_TIER = 'enterprise';
const ACCOUNT = '333333333333';
const RULE_IDS = ['rds-parameter-group-family', 'eks-nodegroup-version-is-cluster-version'];

let plain: LoadedBlueprints;
let dr: LoadedBlueprints;

beforeAll(async () => {
  plain = await cachedBlueprints(configWith());
  dr = await cachedBlueprints(configWith({ tiers: { [DR_TIER]: { disasterRecovery: { region: 'us-west-2', rpoHours: 24, rtoHours: 24 } } } }));
}, 300_000);

const tierOf = (l: LoadedBlueprints, name: string): TierBlueprints => l.tiers.find((t) => t.tierName === name)!;
const vpcCidrOf = (t: TierBlueprints) => `${t.tier.network.tenantCidrPool.split('/')[0]}/${t.tier.network.tenantVpcPrefixLength}`;
const rule = (id: string) => SERVICE_RULES.find((r) => r.id === id)!;
const byType = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => r.Type === type) as Array<{ Properties: any }>;

/** The rules' context for tier `name` (lib/preflight/run.ts): the tier blueprint in us-east-1, its failover blueprint in us-west-2; `change` edits a copy of the tier blueprint first. */
function contextOf(loaded: LoadedBlueprints, name: string, change?: (t: CfnTemplate) => void): RuleContext {
  const t = tierOf(loaded, name);
  const tenant = structuredClone(t.tenant);
  change?.(tenant);
  const inst = instantiate(tenant, { tenantId: 'acme', account: ACCOUNT, region: 'us-east-1', vpcCidr: vpcCidrOf(t) });
  const alsoDeployed = t.failover ? [{ blueprint: `${name}-failover`, inst: instantiate(structuredClone(t.failover), { tenantId: 'acme', account: ACCOUNT, region: 'us-west-2', vpcCidr: vpcCidrOf(t), parameters: restoredDatabaseParameters('acme', ACCOUNT, 'us-west-2', 'aws') }), deployedBefore: [] }] : [];
  return { inst, tierName: name, tier: t.tier, config: loaded.config, alsoDeployed };
}
const violationsOf = async (ctx: RuleContext, id: string) => (await checkServiceRules(ctx, [rule(id)]))[0];

describe('version rules', () => {
  it('are registered, and every stack of every tier passes them (the failover stack\'s database and cluster too)', async () => {
    expect(SERVICE_RULES.map((r) => r.id)).toEqual(expect.arrayContaining(RULE_IDS));
    for (const loaded of [plain, dr]) {
      for (const t of loaded.tiers) {
        for (const r of await checkServiceRules(contextOf(loaded, t.tierName), RULE_IDS.map(rule))) expect(r.violations, `${t.tierName} ${r.rule.id}`).toEqual([]);
      }
    }
    // What they compare is there: a custom parameter group on the instance, node groups with a Version on the cluster's.
    const enterprise = tierOf(plain, DR_TIER).tenant;
    expect(byType(enterprise, 'AWS::RDS::DBParameterGroup')[0].Properties.Family).toBe(`postgres${plain.config.tiers[DR_TIER].database.engineMajorVersion}`);
    const compute = plain.config.tiers[DR_TIER].compute;
    expect(compute.mode).toBe('dedicated');
    const k8s = compute.mode === 'dedicated' ? compute.kubernetesVersion : undefined;
    expect(byType(enterprise, 'AWS::EKS::Nodegroup').map((n) => n.Properties.Version)).toEqual([k8s, k8s]);
  });

  it('refuses a PostgreSQL instance on a parameter group of another major version\'s family', async () => {
    const result = await violationsOf(contextOf(plain, 'starter', (t) => { byType(t, 'AWS::RDS::DBParameterGroup')[0].Properties.Family = 'postgres16'; }), 'rds-parameter-group-family');
    expect(result.violations).toEqual([expect.stringMatching(/^DatabaseInstance\w+ \(EngineVersion 17\) uses DatabaseParameters\w+ of family postgres16, not postgres17$/)]);
    expect(postgresFamilyOf('17.4')).toBe('postgres17');
    expect(postgresFamilyOf('16')).toBe('postgres16');
    expect(postgresFamilyOf('')).toBeUndefined();
  });

  it('refuses a node group created on another Kubernetes version than its cluster\'s', async () => {
    const result = await violationsOf(contextOf(plain, DR_TIER, (t) => { byType(t, 'AWS::EKS::Nodegroup')[0].Properties.Version = '1.34'; }), 'eks-nodegroup-version-is-cluster-version');
    expect(result.violations).toEqual([expect.stringMatching(/^ComputeCluster\w*Nodegroup\w+ Version 1\.34 is not its cluster ComputeCluster\w+'s 1\.35$/)]);
    // A tier without a dedicated cluster has no node group: not applicable, not passed.
    expect((await violationsOf(contextOf(plain, 'starter'), 'eks-nodegroup-version-is-cluster-version')).applicable).toBe(false);
  });
});
