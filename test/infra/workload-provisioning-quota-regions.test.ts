import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { evaluate } from '../../lib/preflight/iam-eval.js';
import { scpsInForce } from '../../lib/preflight/scps.js';
import { WorkloadProvisioningStack } from '../../lib/workload-provisioning-stack.js';
import { configWith, newApp, template } from '../support/synth.js';

/**
 * The provisioning role's Service Quotas grant for a platform whose home Region is not us-east-1:
 * the quota check reads and raises a global (IAM) quota in us-east-1, the only Region in which
 * Service Quotas serves it (lib/quotas.ts quotaRegion), and every other quota in the home Region,
 * where the template is deployed (docs/deploying.md, "The workload account's provisioning role").
 * Evaluated with the IAM simulator harness (lib/preflight/iam-eval.ts) and the guardrail SCPs.
 */
const WORKLOAD = '333333333333';
const HOME = 'us-west-2';
const ROLE = `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`;

/** The template's policies as CloudFormation resolves them, deployed in `region` of the workload account. */
function policiesIn(allowedRegions: string[], region: string) {
  // The default base models' images moved to the home Region's registries (the config requires it).
  const baseModels = DEFAULT_CONFIG.fineTuning.baseModels.map((m) => JSON.parse(JSON.stringify(m).replaceAll('.us-east-1.', `.${HOME}.`)));
  const config = configWith({ homeRegion: HOME, allowedRegions, fineTuning: { baseModels } });
  const stack = new WorkloadProvisioningStack(newApp(), 'TesseraWorkloadProvisioning', { config, blueprintVersion: '0.0.0-test' });
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('Ref' in o) return ({ 'AWS::Partition': 'aws', 'AWS::Region': region, 'AWS::AccountId': WORKLOAD, BlueprintBucketName: 'bucket' } as Record<string, string>)[o.Ref as string] ?? o;
      if ('Fn::Join' in o) return (o['Fn::Join'] as [string, unknown[]])[1].map(resolve).join((o['Fn::Join'] as [string])[0]);
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
    }
    return v;
  };
  const policies = Object.values(template(stack).findResources('AWS::IAM::ManagedPolicy')) as Array<{ Properties: { ManagedPolicyName: string; PolicyDocument: unknown } }>;
  return { config, stack, policies: policies.map((p) => ({ name: p.Properties.ManagedPolicyName, policy: resolve(p.Properties.PolicyDocument) as { Version: string; Statement: unknown[] } })) };
}

const allowed = async (allowedRegions: string[], action: string, quotaRegion: string, quota: string) => {
  const { config, policies } = policiesIn(allowedRegions, HOME);
  const r = await evaluate({
    principalArn: ROLE, action, resource: `arn:aws:servicequotas:${quotaRegion}:${WORKLOAD}:${quota}`, resourceAccount: WORKLOAD,
    context: { 'aws:PrincipalArn': ROLE, 'aws:PrincipalAccount': WORKLOAD, 'aws:RequestedRegion': quotaRegion },
    identityPolicies: policies, scps: scpsInForce(config, 'vpc-mode'),
  });
  return r.allowed;
};

describe('the provisioning role grants Service Quotas where the quota check calls it (home Region us-west-2)', () => {
  it.each([
    ['servicequotas:GetServiceQuota', 'us-east-1', 'iam/L-FE177D64'],
    ['servicequotas:RequestServiceQuotaIncrease', 'us-east-1', 'iam/L-FE177D64'],
    ['servicequotas:ListRequestedServiceQuotaChangeHistoryByQuota', 'us-east-1', 'iam/L-FE177D64'],
    ['servicequotas:GetServiceQuota', HOME, 'vpc/L-F678F1CE'],
    ['servicequotas:RequestServiceQuotaIncrease', HOME, 'ec2/L-1216C47A'],
  ])('allows %s in %s on %s, with us-east-1 in allowedRegions', async (action, region, quota) => {
    expect(await allowed([HOME, 'us-east-1'], action, region, quota)).toBe(true);
  });

  it.each([
    // regional quotas only in the home Region; the global quota's grant names us-east-1, not the home Region
    ['servicequotas:RequestServiceQuotaIncrease', 'us-east-1', 'vpc/L-F678F1CE'],
    ['servicequotas:GetServiceQuota', 'us-east-1', 'ec2/L-1216C47A'],
    ['servicequotas:RequestServiceQuotaIncrease', HOME, 'iam/L-FE177D64'],
  ])('refuses %s in %s on %s', async (action, region, quota) => {
    expect(await allowed([HOME, 'us-east-1'], action, region, quota)).toBe(false);
  });

  it('keeps the IAM quota grant in the home Region when the region guardrail denies us-east-1 (the check then asks there)', async () => {
    expect(await allowed([HOME, 'eu-west-1'], 'servicequotas:GetServiceQuota', HOME, 'iam/L-FE177D64')).toBe(true);
    expect(await allowed([HOME, 'eu-west-1'], 'servicequotas:GetServiceQuota', 'us-east-1', 'iam/L-FE177D64')).toBe(false);
  });
});

describe('the provisioning role template is deployable only in the home Region', () => {
  it('carries a CloudFormation rule that refuses any other Region (its ARNs name the stack\'s Region)', () => {
    const { stack } = policiesIn([HOME, 'us-east-1'], HOME);
    const rules = template(stack).toJSON().Rules as Record<string, { Assertions: Array<{ Assert: unknown; AssertDescription: string }> }>;
    expect(rules.DeployedInHomeRegion.Assertions).toEqual([{
      Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, HOME] },
      AssertDescription: expect.stringContaining(`home Region ${HOME}`),
    }]);
  });
});
