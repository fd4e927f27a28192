import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { parseConfig } from '../../lib/config/load-config.js';
import { evaluate } from '../../lib/preflight/iam-eval.js';
import { identityOf } from '../../lib/preflight/identity.js';
import { instantiate, type InstantiatedResource, type InstantiatedTemplate } from '../../lib/preflight/instantiate.js';
import { namespaceDeployerInstance, namespaceStackName } from '../../lib/preflight/run.js';
import { tenantRoleName } from '../../lib/tenant-naming.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';

/**
 * What the namespace deployer role (the CloudFormation service role of the namespace blueprints, in the
 * platform account) may attach to a tenant's pod-bridge role, through the IAM simulator over the
 * synthesized templates: the bridge policy its namespace blueprint creates, and nothing else (no AWS
 * managed policy, no other customer policy of the platform account). A bridge role is what a tenant's pods
 * run as; a wider policy on it would give them whatever that policy grants in the platform account.
 */

const PARTITION = 'aws';
const TENANT = 'acme';
let deployer: { arn: string; policies: ReturnType<typeof identityOf>['policies'] };
let namespace: InstantiatedTemplate;
let account: string;
let region: string;

beforeAll(async () => {
  const config = parseConfig(structuredClone(DEFAULT_CONFIG), 'default');
  const loaded = await cachedBlueprints(config);
  account = config.platformAccountId;
  region = config.homeRegion;
  const tier = loaded.tiers.find((t) => t.namespace)!;
  const ns = namespaceDeployerInstance(loaded.namespaceDeployer!, account, region, PARTITION);
  const role = ns.platform.resources[loaded.namespaceDeployer!.roleLogicalId];
  deployer = { arn: role.arn, policies: identityOf(ns.platform, role).policies };
  namespace = instantiate(tier.namespace!, {
    tenantId: TENANT, vpcCidr: '10.112.0.0/22', account, region, partition: PARTITION, stackName: namespaceStackName(TENANT),
    parameters: { ...ns.parameters, TenantAccountId: '444444444444', TenantVpcCidr: '10.112.0.0/22' },
  });
}, 600_000);

const bridgeRole = () => Object.values(namespace.resources).find((r) => r.type === 'AWS::IAM::Role' && r.physicalId === tenantRoleName(TENANT, 'pod-bridge'))!;
/** The managed policies the namespace blueprint attaches to its bridge role (AWS::IAM::ManagedPolicy Roles). */
const attachedByBlueprint = (role: InstantiatedResource) => Object.values(namespace.resources)
  .filter((r) => r.type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.props.Roles ?? []).includes(role.physicalId));

async function mayAttach(action: 'iam:AttachRolePolicy' | 'iam:DetachRolePolicy', roleArn: string, policyArn: string): Promise<boolean> {
  const r = await evaluate({
    principalArn: deployer.arn, action, resource: roleArn, resourceAccount: account,
    context: {
      'aws:PrincipalArn': deployer.arn, 'aws:PrincipalAccount': account, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': region,
      'aws:SecureTransport': 'true', 'aws:ViaAWSService': 'false', 'iam:PolicyARN': policyArn,
    },
    identityPolicies: deployer.policies, scps: [],
  });
  expect(r.result).not.toMatch(/^error/);
  return r.allowed;
}

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
