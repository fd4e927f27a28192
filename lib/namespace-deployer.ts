/**
 * The namespace deployer of one tenant: `tessera-<tenant>-namespace-deployer`, the CloudFormation service role of that tenant's
 * namespace stack (`tessera-<tenant>-namespace`, platform account), created by the lifecycle at the stack's first deploy
 * (lambdas/lifecycle/namespace-deployer.ts) and deleted after the stack at offboarding.
 *
 * Two policies bound it: its permissions boundary is the platform's shared namespace deployer policy
 * (`NamespaceDeployerPolicy`, constructs/shared-cluster.ts: bridge roles `tessera-*-pod-bridge`, the shared cluster, its kubectl
 * provider), so whatever inline policy the lifecycle writes (its `iam:CreateRole` and `iam:PutRolePolicy` are conditioned on
 * that boundary, `iam:PermissionsBoundary`) the role can do no more than the shared deployer; and its one inline policy
 * ({@link namespaceDeployerPolicy}) names that tenant's own bridge role, bridge policy and Pod Identity associations, so it
 * can do no more for another tenant than for none. AWS allows a session of the role only what both allow ("Permissions
 * boundaries for IAM entities", IAM User Guide).
 */
import { POD_IDENTITY_SERVICE, SHARED_CLUSTER_PARAMETERS } from './shared-cluster-parameters.js';
import { TENANT_ID_TAG } from './tenant-naming.js';
import { parsePolicyDocument } from './iam-policy-document.js';
import { namespaceKubectlDeployerStatements } from './namespace-kubectl.js';

/** The service principal of CloudFormation, the one a namespace deployer trusts. */
const CLOUDFORMATION_SERVICE = 'cloudformation.amazonaws.com';

/** The inline policy of every per-tenant namespace deployer (PutRolePolicy's PolicyName). */
export const NAMESPACE_DEPLOYER_POLICY_NAME = 'TenantNamespaceStack';

/**
 * Logical id of the namespace blueprint's bridge policy (constructs/tenant-namespace.ts `BridgePolicy`, the same in every
 * released version, 0.1.0 to 0.6.0). The policy has no name in the template, so CloudFormation names it
 * `<stack>-<logical id>-<random>`: a tenant's is `tessera-<tenant>-namespace-NamespaceBridgePolicy…`. The capital `N` after
 * `-namespace-` is what keeps another tenant's out of the pattern: tenant ids are lower case (TENANT_ID_PATTERN), so the
 * policies of tenant `acme-namespace-x` (`tessera-acme-namespace-x-namespace-…`) do not match acme's.
 */
export const BRIDGE_POLICY_LOGICAL_PREFIX = 'NamespaceBridgePolicy';

/** `tessera-<tenant>-namespace-deployer` (at most 8 + 24 + 19 = 51 characters: IAM's role names take 64). */
export function namespaceDeployerRoleName(tenantId: string): string {
  return `tessera-${tenantId}-namespace-deployer`;
}

/**
 * Whether a role's trust policy (GetRole's `AssumeRolePolicyDocument`, URL-encoded JSON, or plain JSON) lets no one but
 * CloudFormation assume it: every `Allow` statement's principal is the service `cloudformation.amazonaws.com` alone (no
 * `AWS`, `Federated` or `*` principal, no `NotPrincipal`), and there is one. Conditions are not compared (they only
 * narrow), so a trust namespaceDeployerTrust words otherwise later still counts.
 */
export function trustsOnlyCloudFormation(document: string | undefined): boolean {
  const policy = parsePolicyDocument(document);
  const statements = (Array.isArray(policy?.Statement) ? policy.Statement : policy?.Statement ? [policy.Statement] : []) as Array<Record<string, unknown>>;
  const allows = statements.filter((s) => s.Effect === 'Allow');
  const cloudFormationOnly = (p: unknown) => p !== null && typeof p === 'object' && !Array.isArray(p)
    && Object.keys(p).length === 1 && [(p as { Service?: unknown }).Service].flat().every((v) => v === CLOUDFORMATION_SERVICE)
    && [(p as { Service?: unknown }).Service].flat().length > 0;
  return allows.length > 0 && allows.every((s) => s.NotPrincipal === undefined && cloudFormationOnly(s.Principal));
}

/** Where the shared cluster is, as the platform stack hands it to the lifecycle (`TESSERA_NAMESPACE_DEPLOYER_SCOPE`, JSON). */
export interface NamespaceDeployerScope {
  /** ARN of the shared namespace deployer policy: every per-tenant deployer's permissions boundary. */
  readonly boundaryArn: string;
  /** ARN of the shared EKS cluster (`arn:<partition>:eks:<region>:<account>:cluster/<name>`). */
  readonly clusterArn: string;
  /** The cluster's kubectl provider (a Lambda function ARN, cluster admin): the namespace blueprint's Namespace, ResourceQuota and LimitRange go through it. */
  readonly kubectlServiceToken: string;
  /**
   * The tenants' namespace kubectl provider (a Lambda function ARN, constructs/namespace-kubectl-provider.ts): the namespace
   * blueprint's namespaced objects go through it, as the tenant's own kubectl role (lib/namespace-kubectl.ts).
   */
  readonly namespaceKubectlServiceToken: string;
  /** ARN of the bridge roles' permissions boundary (`TesseraPodBridgeBoundary`). */
  readonly podBridgeBoundaryArn: string;
}

/** What {@link namespaceDeployerPolicy} reads of the scope: the deployer boundary is the role's, not its policy's. */
export type NamespaceDeployerPolicyScope = Pick<NamespaceDeployerScope, 'clusterArn' | 'kubectlServiceToken' | 'namespaceKubectlServiceToken' | 'podBridgeBoundaryArn'>;

/** An IAM policy document as IAM takes it. */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: Array<{ Sid: string; Effect: 'Allow' | 'Deny'; Action: string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string | string[]>> }>;
}

/**
 * The trust of a per-tenant deployer: CloudFormation of the platform account only (`aws:SourceAccount`), as the shared
 * deployer's. Which stack it serves is held by who may pass it: only the lifecycle (`iam:PassRole` to
 * `cloudformation.amazonaws.com`), which passes each tenant's own to that tenant's namespace stack.
 * @param account the platform account (12 digits)
 */
export function namespaceDeployerTrust(account: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'CloudFormationOfThePlatformAccount', Effect: 'Allow', Principal: { Service: CLOUDFORMATION_SERVICE }, Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:SourceAccount': account } },
    }],
  };
}

/**
 * The inline policy of tenant `tenantId`'s namespace deployer: the shared deployer's statements (constructs/shared-cluster.ts)
 * with every tenant pattern narrowed to this tenant.
 * - its bridge role `tessera-<tenant>-pod-bridge` by name (no wildcard: `acme`'s does not match `acme-2`'s), created only with
 *   the bridge boundary, passed only to EKS Pod Identity;
 * - its bridge policy, `tessera-<tenant>-namespace-NamespaceBridgePolicy*` ({@link BRIDGE_POLICY_LOGICAL_PREFIX});
 * - Pod Identity associations of the shared cluster tagged `tessera:tenant-id` = the tenant: created only with that tag in the
 *   request (`aws:RequestTag`, the one key CreatePodIdentityAssociation takes besides `aws:TagKeys`), described, updated and
 *   deleted only with it on the association (`aws:ResourceTag`, the one key of the `podidentityassociation` resource type;
 *   Service Authorization Reference, Amazon EKS). The namespace blueprint tags its association so (the stack's
 *   `tessera:tenant-id` tag, every released version) and the lifecycle tags the stack so too. Tagging: only an association
 *   whose tenant tag, if any, is this tenant's, and never to another tenant's tag (`StringEqualsIfExists`: at create EKS may
 *   authorize the tags on the new, untagged association); untagging never removes the tenant tag;
 * - the kubectl provider and the shared cluster's SSM parameters, as the shared deployer;
 * - its tenant's Kubernetes identity: its kubectl role and that role's access entry, `AmazonEKSEditPolicy` in its namespace only,
 *   and the namespace kubectl provider (namespaceKubectlDeployerStatements, lib/namespace-kubectl.ts, with this tenant's id).
 * The boundary denies what the shared deployer's denies (UpdateAssumeRolePolicy and DeleteRolePermissionsBoundary on bridge
 * roles, changes to the bridge boundary policy); nothing here allows them.
 * @param tenantId a tenant id (TENANT_ID_PATTERN)
 * The one source of what the policy holds: the lifecycle writes it (lambdas/lifecycle/namespace-deployer.ts) and `tessera doctor`
 * compares each deployer's with it (lib/cli/doctor/namespace-deployer-checks.ts).
 * @param scope the shared cluster and the bridge boundary ({@link NamespaceDeployerPolicyScope}; the lifecycle passes its whole
 *   {@link NamespaceDeployerScope})
 * @throws Error when `scope.clusterArn` is not an EKS cluster ARN
 */
export function namespaceDeployerPolicy(tenantId: string, scope: NamespaceDeployerPolicyScope): PolicyDocument {
  const m = /^arn:([^:]+):eks:([^:]+):(\d{12}):cluster\/(.+)$/.exec(scope.clusterArn);
  if (!m) throw new Error(`not an EKS cluster ARN: ${scope.clusterArn}`);
  const [, partition, region, account, clusterName] = m;
  const iam = (resource: string) => `arn:${partition}:iam::${account}:${resource}`;
  const bridgeRole = iam(`role/tessera-${tenantId}-pod-bridge`);
  const bridgePolicies = iam(`policy/tessera-${tenantId}-namespace-${BRIDGE_POLICY_LOGICAL_PREFIX}*`);
  const associations = `arn:${partition}:eks:${region}:${account}:podidentityassociation/${clusterName}/*`;
  const tenantTag = `aws:ResourceTag/${TENANT_ID_TAG}`;
  const requestTag = `aws:RequestTag/${TENANT_ID_TAG}`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'BridgeRole', Effect: 'Allow', Action: ['iam:DeleteRole', 'iam:GetRole', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies'], Resource: bridgeRole },
      { Sid: 'PassBridgeRoleToPodIdentityOnly', Effect: 'Allow', Action: ['iam:PassRole'], Resource: bridgeRole, Condition: { StringEquals: { 'iam:PassedToService': POD_IDENTITY_SERVICE } } },
      { Sid: 'BridgeRoleWithTheBoundaryOnly', Effect: 'Allow', Action: ['iam:CreateRole', 'iam:PutRolePermissionsBoundary'], Resource: bridgeRole, Condition: { StringEquals: { 'iam:PermissionsBoundary': scope.podBridgeBoundaryArn } } },
      { Sid: 'BridgePolicyAttachment', Effect: 'Allow', Action: ['iam:AttachRolePolicy'], Resource: bridgeRole, Condition: { ArnLike: { 'iam:PolicyARN': bridgePolicies }, StringEquals: { 'iam:PermissionsBoundary': scope.podBridgeBoundaryArn } } },
      { Sid: 'BridgePolicyDetachment', Effect: 'Allow', Action: ['iam:DetachRolePolicy'], Resource: bridgeRole, Condition: { ArnLike: { 'iam:PolicyARN': bridgePolicies } } },
      { Sid: 'BridgePolicy', Effect: 'Allow', Action: ['iam:CreatePolicy', 'iam:DeletePolicy', 'iam:GetPolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion', 'iam:ListPolicyVersions', 'iam:TagPolicy', 'iam:ListEntitiesForPolicy'], Resource: bridgePolicies },
      { Sid: 'CreateTheTenantsAssociations', Effect: 'Allow', Action: ['eks:CreatePodIdentityAssociation'], Resource: scope.clusterArn, Condition: { StringEquals: { [requestTag]: tenantId } } },
      { Sid: 'TheTenantsAssociations', Effect: 'Allow', Action: ['eks:DeletePodIdentityAssociation', 'eks:DescribePodIdentityAssociation', 'eks:UpdatePodIdentityAssociation'], Resource: associations, Condition: { StringEquals: { [tenantTag]: tenantId } } },
      { Sid: 'TagTheTenantsAssociations', Effect: 'Allow', Action: ['eks:TagResource'], Resource: associations, Condition: { StringEqualsIfExists: { [tenantTag]: tenantId, [requestTag]: tenantId } } },
      { Sid: 'UntagTheTenantsAssociations', Effect: 'Allow', Action: ['eks:UntagResource'], Resource: associations, Condition: { StringEquals: { [tenantTag]: tenantId }, 'ForAllValues:StringNotEquals': { 'aws:TagKeys': [TENANT_ID_TAG] } } },
      { Sid: 'KubectlProvider', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: scope.kubectlServiceToken },
      { Sid: 'SharedClusterParameters', Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: Object.values(SHARED_CLUSTER_PARAMETERS).map((name) => `arn:${partition}:ssm:${region}:${account}:parameter${name}`) },
      ...namespaceKubectlDeployerStatements({ partition, region, account, clusterName, tenant: tenantId, serviceToken: scope.namespaceKubectlServiceToken }),
    ],
  };
}
