import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eksv1 from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { renderNamespaceManifests, type NamespaceQuota } from '../lib/namespace-manifests.js';
import { NAMESPACE_KUBECTL_HANDLER_ROLE_NAME, namespaceKubectlAccessPolicyArn, namespaceKubectlRoleName, TENANT_APPLIED_KINDS } from '../lib/namespace-kubectl.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME, POD_IDENTITY_SERVICE } from '../lib/shared-cluster-parameters.js';
import { roleArn, tenantNamespace, tenantRoleName } from '../lib/tenant-naming.js';

export interface TenantNamespaceProps {
  /** The shared cluster, with its kubectl provider (cluster admin): applies the Namespace, ResourceQuota and LimitRange. */
  readonly cluster: eks.ICluster;
  /**
   * Service token of the platform's namespace kubectl provider (constructs/namespace-kubectl-provider.ts): applies the
   * namespaced objects (ServiceAccount, NetworkPolicies) as this tenant's own kubectl role.
   */
  readonly namespaceKubectlServiceToken: string;
  readonly tenantId: string;
  readonly tierName: string;
  /** ResourceQuota of the namespace. */
  readonly quota: NamespaceQuota;
  /** ARN of the tenant's workload role (in the tenant's or the workload account): the Pod Identity target. */
  readonly workloadRoleArn: string;
  /** The tenant's VPC range: the only private destination its pods may reach, on `dataPorts`. */
  readonly tenantVpcCidr: string;
  /** Ports of the tenant's database and cache. */
  readonly dataPorts: number[];
  /** The shared cluster's VPC range (interface endpoints). */
  readonly platformVpcCidr: string;
  /**
   * Service account that receives the tenant's AWS role.
   * @default 'workload'
   */
  readonly serviceAccount?: string;
}

/**
 * A tenant's namespace on the shared cluster: ResourceQuota (CPU, memory, `nvidia.com/gpu`, pods,
 * no load balancers or node ports), LimitRange, restricted Pod Security, default-deny
 * NetworkPolicies with narrow allowances, and a Pod Identity association whose bridge role only
 * sessions tagged with this namespace can use, chaining to the tenant's workload role. The bridge role has the platform's
 * permissions boundary (`POD_BRIDGE_BOUNDARY_POLICY_NAME`, constructs/shared-cluster.ts), which the platform stack creates
 * before any namespace blueprint: whatever policy it is given, it can only chain to a workload role.
 */
export class TenantNamespace extends Construct {
  readonly namespace: string;
  readonly bridgeRole: iam.Role;
  /** The tenant's Kubernetes identity on the shared cluster (`tessera-<tenant>-namespace-kubectl`, lib/namespace-kubectl.ts). */
  readonly kubectlRole: iam.Role;

  constructor(scope: Construct, id: string, props: TenantNamespaceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.namespace = tenantNamespace(props.tenantId);
    const serviceAccount = props.serviceAccount ?? 'workload';
    const namespaceTag = { 'aws:PrincipalTag/kubernetes-namespace': this.namespace };

    const manifests = renderNamespaceManifests({
      namespace: this.namespace,
      tenantId: props.tenantId,
      tier: props.tierName,
      quota: props.quota,
      tenantVpcCidr: props.tenantVpcCidr,
      dataPorts: props.dataPorts,
      platformVpcCidr: props.platformVpcCidr,
      serviceAccount,
    });
    // The Namespace (cluster-scoped), ResourceQuota and LimitRange (which no EKS access policy writes at namespace scope) go
    // through the shared provider. No pruning: through blueprint 0.9.0 this manifest held the namespaced objects too, and an
    // upgrade's apply with --prune would delete them (they now belong to TenantObjects below).
    const objects = new eks.KubernetesManifest(this, 'Objects', {
      cluster: props.cluster, manifest: manifests.filter((o) => !TENANT_APPLIED_KINDS.has(o.kind)), overwrite: true, prune: false,
    });

    // The tenant's own Kubernetes identity: a role with no AWS permission, trusted only by the namespace kubectl handler, and
    // mapped by an access entry to AmazonEKSEditPolicy in this namespace only (lib/namespace-kubectl.ts).
    this.kubectlRole = new iam.Role(this, 'KubectlRole', {
      roleName: namespaceKubectlRoleName(props.tenantId),
      description: 'Kubernetes identity of one tenant namespace stack: AmazonEKSEditPolicy in the tenant namespace only',
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.ArnPrincipal(roleArn(Aws.PARTITION, Aws.ACCOUNT_ID, NAMESPACE_KUBECTL_HANDLER_ROLE_NAME)),
    });
    const access = new eks.CfnAccessEntry(this, 'KubectlAccess', {
      clusterName: props.cluster.clusterName,
      principalArn: this.kubectlRole.roleArn,
      type: 'STANDARD',
      accessPolicies: [{ policyArn: namespaceKubectlAccessPolicyArn(Aws.PARTITION), accessScope: { type: 'namespace', namespaces: [this.namespace] } }],
    });
    const asTenant = eksv1.Cluster.fromClusterAttributes(this, 'AsTenant', {
      clusterName: props.cluster.clusterName,
      kubectlProvider: eksv1.KubectlProvider.fromKubectlProviderAttributes(this, 'NamespaceKubectl', {
        functionArn: props.namespaceKubectlServiceToken,
        kubectlRoleArn: this.kubectlRole.roleArn,
        handlerRole: iam.Role.fromRoleName(this, 'NamespaceKubectlHandler', NAMESPACE_KUBECTL_HANDLER_ROLE_NAME),
      }),
    });
    // Retained: CloudFormation never deletes it. A rollback of the upgrade that adds it would otherwise delete (kubectl
    // delete) the ServiceAccount and NetworkPolicies the old Objects manifest had just re-applied; at offboarding, deleting the
    // Namespace (Objects) deletes them.
    const tenantObjects = new eksv1.KubernetesManifest(this, 'TenantObjects', {
      cluster: asTenant, manifest: manifests.filter((o) => TENANT_APPLIED_KINDS.has(o.kind)), overwrite: true, removalPolicy: RemovalPolicy.RETAIN,
    });
    tenantObjects.node.addDependency(objects, access);

    const clusterArn = stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: props.cluster.clusterName });
    this.bridgeRole = new iam.Role(this, 'BridgeRole', {
      roleName: tenantRoleName(props.tenantId, 'pod-bridge'),
      description: 'Pod Identity bridge: lets pods of one tenant namespace chain to the tenant workload role',
      maxSessionDuration: Duration.hours(1),
      permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(this, 'BridgeBoundary', POD_BRIDGE_BOUNDARY_POLICY_NAME),
      assumedBy: new iam.SessionTagsPrincipal(
        new iam.ServicePrincipal(POD_IDENTITY_SERVICE).withConditions({
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:RequestTag/kubernetes-namespace': this.namespace },
          ArnEquals: { 'aws:SourceArn': clusterArn },
        }),
      ),
    });
    new iam.ManagedPolicy(this, 'BridgePolicy', {
      roles: [this.bridgeRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'ChainToTenantWorkloadRoleFromTenantNamespaceOnly',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          resources: [props.workloadRoleArn],
          conditions: { StringEquals: namespaceTag },
        }),
      ],
    });

    new eks.CfnPodIdentityAssociation(this, 'PodIdentity', {
      clusterName: props.cluster.clusterName,
      namespace: this.namespace,
      serviceAccount,
      roleArn: this.bridgeRole.roleArn,
      targetRoleArn: props.workloadRoleArn,
    });
  }
}
