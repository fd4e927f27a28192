/**
 * Each tenant's own Kubernetes identity on the shared cluster: the role `tessera-<tenant>-namespace-kubectl` (created by the
 * tenant's namespace stack, constructs/tenant-namespace.ts), which EKS maps through an access entry to `AmazonEKSEditPolicy`
 * at namespace scope, the tenant's namespace `tenant-<tenant>` only; the platform's namespace kubectl handler
 * (constructs/namespace-kubectl-provider.ts) assumes it to apply that tenant's namespaced objects.
 *
 * Why a second handler: aws-eks-v2's kubectl handler (the shared cluster's `KubectlProvider`) takes no `RoleArn` (its
 * `apply` runs `aws eks update-kubeconfig --name <cluster>` as its own execution role, which aws-eks-v2 makes cluster admin:
 * `grantClusterAdmin('ClusterAdminRoleAccess', …)`); aws-eks (v1)'s handler, the one this platform runs for tenants, runs
 * `aws eks update-kubeconfig --role-arn <RoleArn>` with the custom resource's `RoleArn`, so kubectl acts as that role.
 * Sources: aws-cdk-lib `custom-resource-handlers/dist/aws-eks{,-v2}/kubectl-handler/apply/__init__.py`,
 * `aws-eks-v2/lib/cluster.js` (2.276.0).
 */

import { tenantNamespace } from './tenant-naming.js';

/** `tessera-<tenant>-namespace-kubectl` (at most 8 + 24 + 18 = 50 characters: IAM's role names take 64). */
export function namespaceKubectlRoleName(tenantId: string): string {
  return `tessera-${tenantId}-namespace-kubectl`;
}

/**
 * The name of the platform's namespace kubectl handler role: the one principal every tenant's kubectl role trusts, and the only
 * role allowed `sts:AssumeRole` on `tessera-*-namespace-kubectl`. Outside `tessera-*`, so no role pattern a namespace deployer
 * holds (`tessera-*-pod-bridge`, `tessera-<tenant>-namespace-kubectl`) names it.
 */
export const NAMESPACE_KUBECTL_HANDLER_ROLE_NAME = 'TesseraNamespaceKubectlHandler';

/**
 * The EKS access policy of a tenant's kubectl role, at namespace scope. The EKS User Guide ("Review access policy
 * permissions") says access policies are "similar to the Kubernetes user-facing cluster roles"; `edit` writes ServiceAccounts and
 * NetworkPolicies (what the namespaced manifest holds, lib/namespace-manifests.ts) and no Role or RoleBinding, and neither
 * `edit` nor `admin` writes ResourceQuota or LimitRange (read only) or the cluster-scoped Namespace: those stay on the
 * shared cluster's own kubectl provider (the `Objects` manifest). Source of the roles: Kubernetes "Using RBAC Authorization",
 * User-facing roles.
 */
export const NAMESPACE_KUBECTL_ACCESS_POLICY = 'AmazonEKSEditPolicy';

/** ARN of {@link NAMESPACE_KUBECTL_ACCESS_POLICY} (`arn:<partition>:eks::aws:cluster-access-policy/<name>`, EKS API Reference). */
export function namespaceKubectlAccessPolicyArn(partition: string): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/${NAMESPACE_KUBECTL_ACCESS_POLICY}`;
}

/** The Kubernetes kinds a tenant's kubectl role applies (namespaced, within {@link NAMESPACE_KUBECTL_ACCESS_POLICY}); the rest go through the shared provider. */
export const TENANT_APPLIED_KINDS: ReadonlySet<string> = new Set(['ServiceAccount', 'NetworkPolicy']);

/** One IAM policy statement, as IAM takes it. */
export interface PolicyStatementJson {
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** What {@link namespaceKubectlDeployerStatements} names (strings, or CDK tokens for the shared deployer's). */
export interface NamespaceKubectlGrantScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** The shared cluster's name. */
  readonly clusterName: string;
  /** A tenant id (the tenant's own deployer) or `*` (the shared deployer, every tenant's boundary). */
  readonly tenant: string;
  /** The namespace kubectl provider's service token (constructs/namespace-kubectl-provider.ts). */
  readonly serviceToken: string;
}

/**
 * What a namespace deployer needs for its tenant's Kubernetes identity, and no more:
 * - the kubectl role `tessera-<tenant>-namespace-kubectl` (create, tag, delete, read; the CloudFormation handlers' calls for a
 *   role with no policy). No PutRolePolicy, AttachRolePolicy or PassRole: the role holds no AWS permission. Its trust is the
 *   blueprint's (the handler role only); UpdateAssumeRolePolicy is denied outright (`KeepTheKubectlRoleTrust`);
 * - its access entry on the shared cluster, created only for that role (`eks:principalArn`), of type STANDARD
 *   (`eks:accessEntryType`), with no Kubernetes groups and no username of the template's choosing (`eks:kubernetesGroups`,
 *   `eks:username` absent: a group is how an entry reaches RBAC bindings other than the access policy's); the access policy
 *   associated only as `AmazonEKSEditPolicy` (`eks:policyArn`) at namespace scope (`eks:accessScope`) on the tenant's
 *   namespace alone (`eks:namespaces`, every value `tenant-<tenant>`, and present). Keys: Service Authorization Reference,
 *   Amazon EKS (CreateAccessEntry: eks:principalArn, eks:accessEntryType, eks:kubernetesGroups, eks:username;
 *   Associate/DisassociateAccessPolicy: eks:policyArn, eks:accessScope, eks:namespaces). The access entry's ARN names the
 *   role (`access-entry/<cluster>/role/<account>/<role name>/<uuid>`), so the other calls are held to the tenant's by resource;
 * - the namespace kubectl provider (lambda:InvokeFunction).
 * The permissions listed are the AWS::EKS::AccessEntry and AWS::IAM::Role handlers' (cfn-lint's provider schemas).
 * @param scope where, and for which tenant (`*`: every tenant, the shared deployer's pattern)
 * @returns the statements (Sids `NamespaceKubectl…`, `KeepTheKubectlRoleTrust`)
 */
export function namespaceKubectlDeployerStatements(scope: NamespaceKubectlGrantScope): PolicyStatementJson[] {
  const { partition, region, account, clusterName, tenant } = scope;
  const role = `arn:${partition}:iam::${account}:role/${namespaceKubectlRoleName(tenant)}`;
  const entries = `arn:${partition}:eks:${region}:${account}:access-entry/${clusterName}/role/${account}/${namespaceKubectlRoleName(tenant)}/*`;
  const cluster = `arn:${partition}:eks:${region}:${account}:cluster/${clusterName}`;
  return [
    { Sid: 'NamespaceKubectlRole', Effect: 'Allow', Action: ['iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies'], Resource: role },
    { Sid: 'KeepTheKubectlRoleTrust', Effect: 'Deny', Action: ['iam:UpdateAssumeRolePolicy'], Resource: role },
    {
      Sid: 'NamespaceKubectlAccessEntry', Effect: 'Allow', Action: ['eks:CreateAccessEntry'], Resource: cluster,
      Condition: { ArnLike: { 'eks:principalArn': role }, StringEquals: { 'eks:accessEntryType': 'STANDARD' }, Null: { 'eks:kubernetesGroups': 'true', 'eks:username': 'true' } },
    },
    {
      Sid: 'NamespaceKubectlEditInTheTenantNamespaceOnly', Effect: 'Allow', Action: ['eks:AssociateAccessPolicy', 'eks:DisassociateAccessPolicy'], Resource: entries,
      Condition: {
        StringEquals: { 'eks:policyArn': namespaceKubectlAccessPolicyArn(partition), 'eks:accessScope': 'namespace' },
        'ForAllValues:StringLike': { 'eks:namespaces': [tenantNamespace(tenant)] },
        Null: { 'eks:namespaces': 'false' },
      },
    },
    {
      Sid: 'NamespaceKubectlAccessEntryUpdateWithoutGroups', Effect: 'Allow', Action: ['eks:UpdateAccessEntry'], Resource: entries,
      Condition: { Null: { 'eks:kubernetesGroups': 'true', 'eks:username': 'true' } },
    },
    { Sid: 'NamespaceKubectlAccessEntries', Effect: 'Allow', Action: ['eks:DescribeAccessEntry', 'eks:ListAssociatedAccessPolicies', 'eks:DeleteAccessEntry', 'eks:TagResource', 'eks:UntagResource'], Resource: entries },
    { Sid: 'NamespaceKubectlProvider', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: scope.serviceToken },
  ];
}
