import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { parseConfig } from '../../lib/config/load-config.js';
import { evaluate } from '../../lib/preflight/iam-eval.js';
import { identityOf } from '../../lib/preflight/identity.js';
import { instantiate, type InstantiatedResource, type InstantiatedTemplate } from '../../lib/preflight/instantiate.js';
import { namespaceDeployerInstance, namespaceStackName } from '../../lib/preflight/run.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME } from '../../lib/shared-cluster-parameters.js';
import { tenantRoleName } from '../../lib/tenant-naming.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';

/**
 * What the namespace deployer role (the CloudFormation service role of the namespace blueprints, in the
 * platform account) may attach to a tenant's pod-bridge role, through the IAM simulator over the
 * synthesized templates: the bridge policy its namespace blueprint creates, and nothing else (no AWS
 * managed policy, no other customer policy of the platform account). A bridge role is what a tenant's pods
 * run as; a wider policy on it would give them whatever that policy grants in the platform account. The bridge policy
 * itself may be any document named `tessera-*-namespace-*`: the bound on what it grants is the bridge roles' permissions
 * boundary (POD_BRIDGE_BOUNDARY_POLICY_NAME, constructs/shared-cluster.ts), which the deployer can neither leave out,
 * swap, remove nor edit (test/isolation/pod-bridge-boundary.test.ts shows what it holds a bridge role to).
 */

const PARTITION = 'aws';
const TENANT = 'acme';
let deployer: { arn: string; policies: ReturnType<typeof identityOf>['policies'] };
let namespace: InstantiatedTemplate;
let account: string;
let region: string;
/** The boundary policy in the platform stack, as instantiated: its ARN. */
let boundaryArn: string;

beforeAll(async () => {
  const config = parseConfig(structuredClone(DEFAULT_CONFIG), 'default');
  const loaded = await cachedBlueprints(config);
  account = config.platformAccountId;
  region = config.homeRegion;
  const tier = loaded.tiers.find((t) => t.namespace)!;
  const ns = namespaceDeployerInstance(loaded.namespaceDeployer!, account, region, PARTITION);
  const role = ns.platform.resources[loaded.namespaceDeployer!.roleLogicalId];
  deployer = { arn: role.arn, policies: identityOf(ns.platform, role).policies };
  boundaryArn = Object.values(ns.platform.resources).find((r) => r.type === 'AWS::IAM::ManagedPolicy' && r.props.ManagedPolicyName === POD_BRIDGE_BOUNDARY_POLICY_NAME)?.arn ?? 'none';
  namespace = instantiate(tier.namespace!, {
    tenantId: TENANT, vpcCidr: '10.112.0.0/22', account, region, partition: PARTITION, stackName: namespaceStackName(TENANT),
    parameters: { ...ns.parameters, TenantAccountId: '444444444444', TenantVpcCidr: '10.112.0.0/22' },
  });
}, 600_000);

const bridgeRole = () => Object.values(namespace.resources).find((r) => r.type === 'AWS::IAM::Role' && r.physicalId === tenantRoleName(TENANT, 'pod-bridge'))!;
/** The managed policies the namespace blueprint attaches to its bridge role (AWS::IAM::ManagedPolicy Roles). */
const attachedByBlueprint = (role: InstantiatedResource) => Object.values(namespace.resources)
  .filter((r) => r.type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.props.Roles ?? []).includes(role.physicalId));

/**
 * Whether the deployer may make IAM call `action` on `roleOrPolicyArn` with `context` (`iam:PolicyARN`,
 * `iam:PermissionsBoundary`: the boundary the request sets, or the one the role has, as IAM fills them).
 */
async function may(action: string, roleOrPolicyArn: string, context: Record<string, string> = {}): Promise<boolean> {
  const r = await evaluate({
    principalArn: deployer.arn, action, resource: roleOrPolicyArn, resourceAccount: account,
    context: {
      'aws:PrincipalArn': deployer.arn, 'aws:PrincipalAccount': account, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': region,
      'aws:SecureTransport': 'true', 'aws:ViaAWSService': 'false', ...context,
    },
    identityPolicies: deployer.policies, scps: [],
  });
  expect(r.result).not.toMatch(/^error/);
  return r.allowed;
}

/** Attach or detach `policyArn` on a role that has the bridge boundary (unless `roleBoundary` says otherwise; `null`: none). */
const mayAttach = (action: 'iam:AttachRolePolicy' | 'iam:DetachRolePolicy', roleArn: string, policyArn: string, roleBoundary: string | null = boundaryArn) =>
  may(action, roleArn, { 'iam:PolicyARN': policyArn, ...(roleBoundary === null ? {} : { 'iam:PermissionsBoundary': roleBoundary }) });

describe('namespace deployer role: policy attachments to a bridge role', () => {
  it('the blueprint attaches one policy to the bridge role, and no AWS managed policy (ManagedPolicyArns)', () => {
    const role = bridgeRole();
    expect(role).toBeDefined();
    expect(role.props.ManagedPolicyArns ?? []).toEqual([]);
    expect(role.props.Policies ?? []).toEqual([]);
    expect(attachedByBlueprint(role).map((p) => p.physicalId)).toEqual([expect.stringMatching(new RegExp(`^arn:aws:iam::${account}:policy/tessera-${TENANT}-namespace-`))]);
  });

  it('may attach and detach the bridge policy its blueprint creates', async () => {
    const role = bridgeRole();
    for (const policy of attachedByBlueprint(role)) {
      expect(await mayAttach('iam:AttachRolePolicy', role.arn, policy.physicalId), `attach ${policy.physicalId}`).toBe(true);
      expect(await mayAttach('iam:DetachRolePolicy', role.arn, policy.physicalId), `detach ${policy.physicalId}`).toBe(true);
    }
  });

  it('may not attach an AWS managed policy or another customer policy of the platform account', async () => {
    const role = bridgeRole();
    for (const policy of [
      `arn:${PARTITION}:iam::aws:policy/AdministratorAccess`,
      `arn:${PARTITION}:iam::aws:policy/AmazonS3FullAccess`,
      `arn:${PARTITION}:iam::${account}:policy/tessera-platform-operators`,
      `arn:${PARTITION}:iam::${account}:policy/TesseraPlatform-NamespaceDeployerPolicy-ABC123`,
    ]) {
      expect(await mayAttach('iam:AttachRolePolicy', role.arn, policy), `attach ${policy}`).toBe(false);
      expect(await mayAttach('iam:DetachRolePolicy', role.arn, policy), `detach ${policy}`).toBe(false);
    }
  });
});

describe('namespace deployer role: the bridge roles\' permissions boundary', () => {
  const otherBoundaries = () => [
    `arn:${PARTITION}:iam::aws:policy/AdministratorAccess`,
    `arn:${PARTITION}:iam::${account}:policy/tessera-${TENANT}-namespace-wide-open`,
    `arn:${PARTITION}:iam::444444444444:policy/${POD_BRIDGE_BOUNDARY_POLICY_NAME}`,
  ];

  it('the blueprint gives the bridge role the platform stack\'s boundary', () => {
    expect(boundaryArn).toBe(`arn:${PARTITION}:iam::${account}:policy/${POD_BRIDGE_BOUNDARY_POLICY_NAME}`);
    expect(bridgeRole().props.PermissionsBoundary).toBe(boundaryArn);
  });

  it('may create a bridge role, or set its boundary, only with that boundary', async () => {
    const role = bridgeRole();
    for (const action of ['iam:CreateRole', 'iam:PutRolePermissionsBoundary']) {
      expect(await may(action, role.arn, { 'iam:PermissionsBoundary': boundaryArn }), `${action} with the boundary`).toBe(true);
      expect(await may(action, role.arn), `${action} without a boundary`).toBe(false);
      for (const other of otherBoundaries()) expect(await may(action, role.arn, { 'iam:PermissionsBoundary': other }), `${action} with ${other}`).toBe(false);
    }
  });

  it('may not remove the boundary, nor change or delete the boundary policy', async () => {
    const role = bridgeRole();
    expect(await may('iam:DeleteRolePermissionsBoundary', role.arn, { 'iam:PermissionsBoundary': boundaryArn })).toBe(false);
    for (const action of ['iam:CreatePolicyVersion', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy', 'iam:CreatePolicy']) {
      expect(await may(action, boundaryArn), `${action} ${boundaryArn}`).toBe(false);
    }
  });

  it('attaches its bridge policy only to a bridge role that has the boundary, and detaches it from any', async () => {
    const role = bridgeRole();
    const [policy] = attachedByBlueprint(role);
    expect(await mayAttach('iam:AttachRolePolicy', role.arn, policy.physicalId, null), 'attach to a role without a boundary').toBe(false);
    for (const other of otherBoundaries()) expect(await mayAttach('iam:AttachRolePolicy', role.arn, policy.physicalId, other), `attach to a role with ${other}`).toBe(false);
    // A bridge role of an earlier blueprint version, without a boundary, can still be emptied and deleted.
    expect(await mayAttach('iam:DetachRolePolicy', role.arn, policy.physicalId, null)).toBe(true);
  });
});
