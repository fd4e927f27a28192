import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { instantiate, type InstantiatedTemplate } from '../../lib/preflight/instantiate.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { QUARANTINE_SCP_ARN_PARAMETER } from '../../lib/quarantine-scp-parameter.js';
import { appTemplates } from '../support/default-app.js';

/**
 * IAM's size limits, counted as IAM counts them (characters of the JSON document, whitespace not
 * counted): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 * "Managed policy size: cannot exceed 6,144 characters"; "Role policy size: the total aggregate
 * policy size (the sum size of all inline policies) … cannot exceed 10,240 characters"; "Role
 * trust policy length: 2,048 characters" (the default quota); "Managed policies attached to an IAM
 * role: 10" (the default quota). IAM refuses the CreatePolicy, PutRolePolicy, CreateRole or
 * AttachRolePolicy that would pass them, so the stack's first create fails.
 */
const MANAGED_POLICY_LIMIT = 6144;
const ROLE_INLINE_LIMIT = 10240;
const TRUST_POLICY_LIMIT = 2048;
const ATTACHED_POLICIES_LIMIT = 10;

/** Longest Region names of the commercial partition are 14 characters (ap-northeast-1, ap-southeast-2…). */
const HOME = 'ap-northeast-1';
const DR = 'ap-northeast-3';
/** The longest tenant id TENANT_ID_PATTERN (lib/tenant-naming.ts) admits: 24 characters. */
const LONGEST_TENANT_ID = 'a123456789-123456789-xyz';
const ACCOUNT = '333333333333';

/**
 * The default config homed in Tokyo with DR (platform and every tier) in Osaka: every ARN as long as
 * a Region name makes it. The images and bucket names of the default config name us-east-1, which
 * synth refuses outside the home region, so every us-east-1 of the default config becomes HOME.
 */
const TOKYO_CONFIG = JSON.parse(JSON.stringify({
  homeRegion: 'us-east-1',
  allowedRegions: ['us-east-1', 'us-west-2'],
  fineTuning: DEFAULT_CONFIG.fineTuning,
  platformDisasterRecovery: { region: 'us-west-2' },
  tiers: Object.fromEntries(Object.keys(DEFAULT_CONFIG.tiers).map((tier) => [tier, { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } }])),
}).replaceAll('us-east-1', HOME).replaceAll('us-west-2', DR)) as Record<string, unknown>;

/**
 * The longest ids Organizations' patterns admit (API reference: Organization.Id `^o-[a-z0-9]{10,32}$`,
 * PolicySummary.Id `^p-[0-9a-zA-Z_]{8,128}$`), so the SCP ARNs the lifecycle's grants name are as long as they can be.
 */
const LONGEST_ORGANIZATION_ID = `o-${'a'.repeat(32)}`;
const longestPolicyId = (n: number) => `p-${String(n).repeat(128)}`;
const MANAGEMENT = '111111111111';

const size = (doc: unknown) => JSON.stringify(doc).replace(/\s/g, '').length;

/** Every IAM size a template's resolved resources pass, as `<what>: <size> > <limit>`. */
function oversized(label: string, inst: InstantiatedTemplate): string[] {
  const out: string[] = [];
  const inline = new Map<string, number>();
  const attached = new Map<string, number>();
  const resources = Object.values(inst.resources);
  const roles = resources.filter((r) => r.type === 'AWS::IAM::Role');
  for (const r of resources) {
    const p = r.props as { PolicyDocument?: unknown; AssumeRolePolicyDocument?: unknown; Policies?: Array<{ PolicyDocument: unknown }>; Roles?: string[]; ManagedPolicyArns?: unknown[] };
    if (r.type === 'AWS::IAM::ManagedPolicy') {
      if (size(p.PolicyDocument) > MANAGED_POLICY_LIMIT) out.push(`${label} ${r.logicalId} (managed policy): ${size(p.PolicyDocument)} > ${MANAGED_POLICY_LIMIT}`);
      for (const name of p.Roles ?? []) attached.set(name, (attached.get(name) ?? 0) + 1);
    }
    if (r.type === 'AWS::IAM::Role') {
      if (size(p.AssumeRolePolicyDocument) > TRUST_POLICY_LIMIT) out.push(`${label} ${r.logicalId} (trust policy): ${size(p.AssumeRolePolicyDocument)} > ${TRUST_POLICY_LIMIT}`);
      inline.set(r.logicalId, (inline.get(r.logicalId) ?? 0) + (p.Policies ?? []).reduce((n, x) => n + size(x.PolicyDocument), 0));
      attached.set(r.name!, (attached.get(r.name!) ?? 0) + (p.ManagedPolicyArns ?? []).length);
    }
    if (r.type === 'AWS::IAM::Policy') {
      for (const name of p.Roles ?? []) {
        const role = roles.find((x) => x.name === name);
        if (role) inline.set(role.logicalId, (inline.get(role.logicalId) ?? 0) + size(p.PolicyDocument));
      }
    }
  }
  for (const [role, n] of inline) if (n > ROLE_INLINE_LIMIT) out.push(`${label} ${role} (inline policies together): ${n} > ${ROLE_INLINE_LIMIT}`);
  for (const [role, n] of attached) if (n > ATTACHED_POLICIES_LIMIT) out.push(`${label} role ${role} (managed policies attached): ${n} > ${ATTACHED_POLICIES_LIMIT}`);
  return out;
}

describe('IAM policy sizes once resolved (the longest tenant id, 14-character Regions, names CloudFormation generates)', () => {
  it('keeps every managed policy, inline policy set, trust policy and role\'s attached policies of the platform and the blueprints within IAM\'s limits', async () => {
    // GIVEN the app homed in ap-northeast-1 with DR in ap-northeast-3 (platform and every tier)
    const built = await appTemplates(TOKYO_CONFIG);
    const json = (t: { toJSON(): unknown }) => t.toJSON() as CfnTemplate;
    // WHEN each template is resolved as CloudFormation would: the platform (with its FunctionPolicies
    // nested stack's policies) as TesseraPlatform, the blueprints for the longest tenant id
    const platform = instantiate(json(built.platformWithPolicies), { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: '222222222222', region: HOME, stackName: 'TesseraPlatform', lenient: true });
    const tenant = (t: CfnTemplate, region: string) => instantiate(t, { tenantId: LONGEST_TENANT_ID, vpcCidr: '10.64.0.0/22', account: ACCOUNT, region });
    const found = [
      ...oversized('TesseraPlatform', platform),
      ...oversized('TesseraPlatformDr', instantiate(json(built.platformDr!), { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: '222222222222', region: DR, stackName: 'TesseraPlatformDr', lenient: true })),
      ...oversized('account baseline', instantiate(json(built.accountBaseline), { tenantId: 'baseline', vpcCidr: '10.0.0.0/16', account: ACCOUNT, region: HOME, stackName: 'TesseraAccountBaseline' })),
      ...oversized('workload provisioning', instantiate(json(built.workloadProvisioning), { tenantId: 'provisioning', vpcCidr: '10.0.0.0/16', account: ACCOUNT, region: HOME, stackName: 'TesseraWorkloadProvisioning', lenient: true, parameters: { BlueprintBucketName: 'tesseraplatform-blueprintsbucket51aa9b17-0123456789abc' } })),
      ...Object.entries(built.blueprints).flatMap(([tier, t]) => oversized(`${tier}`, tenant(json(t), HOME))),
      ...Object.entries(built.drBlueprints).flatMap(([tier, t]) => oversized(`${tier}-dr`, tenant(json(t), DR))),
      ...Object.entries(built.failoverBlueprints).flatMap(([tier, t]) => oversized(`${tier}-failover`, tenant(json(t), DR))),
    ];
    // THEN none passes its limit
    expect(found).toEqual([]);
    // and the platform was resolved with the names CloudFormation generates (64-character function names)
    expect(Object.values(platform.resources).filter((r) => r.type === 'AWS::Lambda::Function' && r.name?.length === 64).length).toBeGreaterThan(30);
  }, 360_000);

  it('keeps them within IAM\'s limits when the platform account is the management account (the lifecycle functions hold the Organizations statements themselves, with tessera-quarantine and 4 external SCPs by ARN)', async () => {
    // GIVEN the Tokyo app with the platform in the management account, the longest organization id, and the most
    // external quarantine SCPs the config admits (4), each with the longest id
    const built = await appTemplates({
      ...TOKYO_CONFIG,
      platformAccountId: MANAGEMENT,
      organization: { managementAccountId: MANAGEMENT, organizationId: LONGEST_ORGANIZATION_ID, externalQuarantinePolicies: [1, 2, 3, 4].map((n) => ({ policyId: longestPolicyId(n) })) },
    });
    const template = built.platformWithPolicies.toJSON() as CfnTemplate;
    // and tessera-quarantine's ARN, as TesseraPlatform reads it from SSM, with the longest id
    const quarantineParameter = Object.entries(template.Parameters ?? {}).find(([, p]) => p.Type === 'AWS::SSM::Parameter::Value<String>' && p.Default === QUARANTINE_SCP_ARN_PARAMETER)?.[0];
    expect(quarantineParameter).toBeDefined();
    const quarantineArn = `arn:aws:organizations::${MANAGEMENT}:policy/${LONGEST_ORGANIZATION_ID}/service_control_policy/${longestPolicyId(0)}`;
    // WHEN TesseraPlatform is resolved as CloudFormation would, in the management account
    const platform = instantiate(template, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: MANAGEMENT, region: HOME, stackName: 'TesseraPlatform', lenient: true, parameters: { [quarantineParameter!]: quarantineArn } });
    // THEN the lifecycle's policies name those ARNs (the case is the one meant) and none passes its limit
    const policies = Object.values(platform.resources).filter((r) => r.type === 'AWS::IAM::ManagedPolicy').map((r) => JSON.stringify((r.props as { PolicyDocument: unknown }).PolicyDocument));
    expect(policies.filter((p) => p.includes(quarantineArn) && p.includes(`service_control_policy/${longestPolicyId(4)}`)).length).toBeGreaterThan(0);
    expect(oversized('TesseraPlatform (platform = management)', platform)).toEqual([]);
  }, 360_000);
});
