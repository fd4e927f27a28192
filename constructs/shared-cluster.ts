import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeDeployTimeFunction, wildcardResourceFinding } from '../lib/compliance.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import type { NamespaceDeployerScope } from '../lib/namespace-deployer.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME, POD_IDENTITY_SERVICE, SHARED_CLUSTER_PARAMETERS } from '../lib/shared-cluster-parameters.js';
import { SHARED_CLUSTER_VPC_ENDPOINTS } from '../lib/vpc-layout.js';
import { tenantRoleName } from '../lib/tenant-naming.js';
import { namespaceKubectlDeployerStatements, namespaceKubectlRoleName } from '../lib/namespace-kubectl.js';
import { guardKubectlHandler, V2_KUBECTL_HANDLER } from './guarded-kubectl-handler.js';
import { CLUSTER_AUTOSCALER_GPU_LABEL } from '../lib/cluster-autoscaler.js';
import { ClusterAutoscaler } from './cluster-autoscaler.js';
import { KubernetesCluster, SYSTEM_NODE_LABELS } from './kubernetes-cluster.js';
import { NamespaceKubectlProvider } from './namespace-kubectl-provider.js';
import { Network } from './network.js';

/**
 * The guard in front of the shared cluster's (cluster-admin) kubectl handler: `tenant_manifest_guard.handler` runs a tenant
 * namespace stack's request only when its manifest is that tenant's Namespace, ResourceQuota and LimitRange
 * (lambdas/namespace-kubectl/tenant_manifest_guard.py), and the platform's own requests as before.
 */
export const SHARED_KUBECTL_GUARD = 'tenant_manifest_guard';

export interface SharedClusterProps {
  /** The shared-cluster section of the platform config. */
  readonly cluster: PlatformConfig['sharedCluster'];
  /** The platform VPC range. */
  readonly cidr: string;
  readonly maxAzs: number;
  /** Zones to place the VPC in (the first `maxAzs`). @default - the first `maxAzs` of `Fn::GetAZs` at deploy time */
  readonly availabilityZones?: string[];
  /** Encrypts Kubernetes secrets, control-plane logs and flow logs. */
  readonly encryptionKey: kms.IKey;
  /** Role ARNs granted cluster admin (platform operators). */
  readonly adminRoleArns: string[];
  /**
   * Cluster name.
   * @default 'tessera-shared'
   */
  readonly clusterName?: string;
  /**
   * Where the tenants' namespace kubectl provider goes (its handler, role, policy, AWS CLI layer, provider framework and
   * its parameter), with the kubectl layer it shares with the cluster's own provider: the platform gives it a nested
   * stack of its own, since TesseraPlatform is close to CloudFormation's 500 resources (docs/measured.md "Room in
   * TesseraPlatform"). What it reads of the cluster (the compute subnets, the cluster security group) becomes that
   * stack's parameters, and what the cluster reads of it (the layer, the provider's service token) its outputs.
   * @default this construct
   */
  readonly namespaceKubectlScope?: Construct;
  /**
   * Where the cluster's Cluster Autoscaler goes (constructs/cluster-autoscaler.ts: its image cache, Pod Identity role,
   * policy and association, its manifest): the platform gives it a nested stack of its own in Operations, for TesseraPlatform's room
   * under CloudFormation's 500 resources (docs/measured.md "Room in TesseraPlatform"); what it reads of the cluster (its
   * name, the kubectl provider's service token) becomes that stack's parameters. Not the namespace kubectl scope: the
   * cluster's provider reads the kubectl layer there, and the manifest reads the provider (a cycle).
   * @default this construct
   */
  readonly clusterAutoscalerScope?: Construct;
}


/**
 * The platform's shared EKS cluster, home of the namespaces of shared-compute tenants: its own
 * private VPC (no NAT; endpoints only), the same hardened cluster as a dedicated tenant gets, a
 * kubectl provider so namespace blueprints can apply manifests, and SSM parameters that hand the
 * cluster and provider to those blueprints.
 */
export class SharedCluster extends Construct {
  readonly network: Network;
  readonly kubernetes: KubernetesCluster;
  /**
   * The shared CloudFormation service role of the namespace blueprints: the role of the namespace stacks deployed before each
   * tenant got its own (lib/namespace-deployer.ts), kept for them until their next update moves them (docs/upgrading-and-teardown.md).
   */
  readonly namespaceDeployerRole: iam.Role;
  /**
   * What the lifecycle needs to make each tenant's own namespace deployer: the shared deployer's policy (their permissions
   * boundary), the cluster, its kubectl provider and the bridge roles' boundary.
   */
  readonly namespaceDeployerScope: NamespaceDeployerScope;
  /**
   * The permissions boundary of every tenant's pod-bridge role (`POD_BRIDGE_BOUNDARY_POLICY_NAME`): whatever policy is attached
   * to a bridge role, it can do no more than chain to a tenant workload role, whose trust admits only its own tenant's bridge.
   */
  readonly podBridgeBoundary: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: SharedClusterProps) {
    super(scope, id);
    const clusterName = props.clusterName ?? 'tessera-shared';
    const prefixLength = Number(props.cidr.split('/')[1]);

    this.network = new Network(this, 'Network', {
      cidr: props.cidr,
      prefixLength,
      maxAzs: props.maxAzs,
      availabilityZones: props.availabilityZones,
      internetEgress: false,
      encryptionKey: props.encryptionKey,
      flowLogGroupName: `/tessera/platform/${clusterName}/vpc-flow-logs`,
      // Both endpoint sets (a private cluster), as the config's address check assumes.
      ...SHARED_CLUSTER_VPC_ENDPOINTS,
    });

    // The kubectl layer both kubectl providers run with sits with the namespace one: unnamed and stateless, so moving it
    // there replaces nothing (a new layer version; the cluster's handler is updated in place), and TesseraPlatform trades
    // it for the nested stack's own resource (docs/measured.md "Room in TesseraPlatform").
    const namespaceKubectlScope = props.namespaceKubectlScope ?? this;
    const kubectlLayer = new KubectlV34Layer(namespaceKubectlScope, 'KubectlLayer');
    const kubectlSubnets = this.network.vpc.selectSubnets(this.network.computeSubnets).subnets;
    this.kubernetes = new KubernetesCluster(this, 'Kubernetes', {
      clusterName,
      kubernetesVersion: props.cluster.kubernetesVersion,
      vpc: this.network.vpc,
      subnets: this.network.computeSubnets,
      encryptionKey: props.encryptionKey,
      systemNodes: props.cluster.systemNodes,
      gpu: props.cluster.gpu,
      adminRoleArns: props.adminRoleArns,
      // Pods of every shared-compute tenant share these nodes: none may reach the node role through IMDS.
      nodesSharedByTenants: true,
      // The autoscaler below waits for a new GPU node's device plugin instead of adding another node.
      gpuNodeLabels: { ...CLUSTER_AUTOSCALER_GPU_LABEL },
      kubectl: { layer: kubectlLayer, subnets: kubectlSubnets },
    });
    const cluster = this.kubernetes.cluster;
    this.acknowledgeKubectlProvider(cluster);

    // What grows the node groups from their desiredSize up to maxSize when pods are Pending, and back down: the GPU group from
    // 0 (the default) when a tenant's GPU pod asks for one (docs/configuration.md "GPU nodes come and go").
    new ClusterAutoscaler(props.clusterAutoscalerScope ?? this, 'ClusterAutoscaler', {
      cluster, clusterName, kubernetesVersion: props.cluster.kubernetesVersion, kubernetesVersionKey: 'sharedCluster.kubernetesVersion', nodeSelector: SYSTEM_NODE_LABELS,
    });

    // No NVIDIA device plugin chart: the config allows only Bottlerocket NVIDIA GPU nodes, which ship it
    // (lib/config/schema.ts: the platform VPC has no egress to fetch a chart or its image).

    // Not KubectlProvider.getKubectlProvider(this, ...): that makes its scope wait for the kubectl
    // barrier, and this scope holds the cluster itself.
    const provider = cluster.kubectlProvider;
    if (!provider) throw new Error(`SharedCluster ${clusterName} has no kubectl provider`);
    // Cluster admin, invoked by every namespace deployer: a tenant stack's manifest is held to that tenant's own objects.
    guardKubectlHandler(provider.node.findChild('Handler') as lambda.Function, V2_KUBECTL_HANDLER, SHARED_KUBECTL_GUARD,
      'onEvent handler of the shared cluster kubectl provider (aws-eks-v2, cluster admin): a tenant namespace stack only its own Namespace, ResourceQuota, LimitRange');
    const parameter = (id: string, name: string, value: string) =>
      new ssm.StringParameter(this, id, { parameterName: name, stringValue: value, description: `Tessera shared cluster: ${id}` });
    parameter('ClusterNameParameter', SHARED_CLUSTER_PARAMETERS.ClusterName, cluster.clusterName);
    parameter('KubectlServiceTokenParameter', SHARED_CLUSTER_PARAMETERS.KubectlServiceToken, provider.serviceToken);
    // The tenants' namespaced objects go through a handler that acts as each tenant's namespace-scoped kubectl role
    // (lib/namespace-kubectl.ts), not as the cluster admin the provider above is.
    const namespaceKubectl = new NamespaceKubectlProvider(namespaceKubectlScope, 'NamespaceKubectl', {
      clusterName, vpc: this.network.vpc, subnets: kubectlSubnets, securityGroup: cluster.clusterSecurityGroup, kubectlLayer,
    });
    // Beside the provider, so its token is read there (not through one more output of the nested stack).
    new ssm.StringParameter(namespaceKubectlScope, 'NamespaceKubectlServiceTokenParameter', {
      parameterName: SHARED_CLUSTER_PARAMETERS.NamespaceKubectlServiceToken, stringValue: namespaceKubectl.serviceToken,
      description: 'Tessera shared cluster: NamespaceKubectlServiceTokenParameter',
    });
    this.podBridgeBoundary = this.bridgeBoundary();
    const deployer = this.deployerRole(cluster, { kubectl: provider.serviceToken, namespaceKubectl: namespaceKubectl.serviceToken }, this.podBridgeBoundary);
    this.namespaceDeployerRole = deployer.role;
    this.namespaceDeployerScope = {
      boundaryArn: deployer.policy.managedPolicyArn, clusterArn: cluster.clusterArn, kubectlServiceToken: provider.serviceToken,
      namespaceKubectlServiceToken: namespaceKubectl.serviceToken, podBridgeBoundaryArn: this.podBridgeBoundary.managedPolicyArn,
    };
  }

  /**
   * The bridge roles' permissions boundary: AWS allows a bridge session only what both its policies and this boundary allow
   * ("Permissions boundaries for IAM entities", IAM User Guide), and this allows only `sts:AssumeRole` and `sts:TagSession` on
   * roles named `tessera-*-workload` (Pod Identity's chain to the tenant's workload role). No data action of any service is
   * in it, so a bridge policy of any content (the namespace deployer may create any document named `tessera-*-namespace-*`)
   * reaches no bucket, table or key; each workload role's trust admits only its own tenant's bridge role (constructs/tenant-roles.ts).
   */
  private bridgeBoundary(): iam.ManagedPolicy {
    const stack = Stack.of(this);
    const workloadRoles = stack.formatArn({ service: 'iam', region: '', account: '*', resource: 'role', resourceName: tenantRoleName('*', 'workload') });
    const boundary = new iam.ManagedPolicy(this, 'PodBridgeBoundary', {
      managedPolicyName: POD_BRIDGE_BOUNDARY_POLICY_NAME,
      description: 'Permissions boundary of every tenant pod-bridge role: chaining to tenant workload roles only',
      statements: [
        new iam.PolicyStatement({ sid: 'ChainToTenantWorkloadRolesOnly', actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [workloadRoles] }),
      ],
    });
    acknowledge(boundary, [wildcardResourceFinding(this, workloadRoles)],
      'A permissions boundary shared by every tenant\'s bridge role, attached to no role as a policy: it only caps them at chaining to tessera-<tenant>-workload roles, in whichever account holds the tenant; each of those roles trusts only its own tenant\'s bridge role.');
    return boundary;
  }

  /**
   * What a namespace blueprint creates: the bridge role and its policy, the Pod Identity association, the manifests. The policy is
   * the shared role's own and the permissions boundary of every tenant's namespace deployer (lib/namespace-deployer.ts), whose
   * inline policy narrows each tenant pattern here to its tenant.
   */
  private deployerRole(cluster: eks.Cluster, serviceTokens: { kubectl: string; namespaceKubectl: string }, boundary: iam.ManagedPolicy): { role: iam.Role; policy: iam.ManagedPolicy } {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'NamespaceDeployerRole', {
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': stack.account } }),
      description: 'CloudFormation service role of the tenant namespace blueprints',
    });
    const bridgeRoles = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: tenantRoleName('*', 'pod-bridge') });
    const bridgePolicies = stack.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: 'tessera-*-namespace-*' });
    const associations = stack.formatArn({ service: 'eks', resource: 'podidentityassociation', resourceName: `${cluster.clusterName}/*` });
    const policy = new iam.ManagedPolicy(this, 'NamespaceDeployerPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'BridgeRoles',
          actions: ['iam:DeleteRole', 'iam:GetRole', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateRole',
            'iam:UpdateRoleDescription', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies'],
          resources: [bridgeRoles],
        }),
        // A bridge role is passed only to EKS Pod Identity (the association's roleArn): iam:PassedToService is listed for
        // PassRole in the Service Authorization Reference, and pods.eks.amazonaws.com is the service EKS documents for it.
        new iam.PolicyStatement({
          sid: 'PassBridgeRolesToPodIdentityOnly',
          actions: ['iam:PassRole'],
          resources: [bridgeRoles],
          conditions: { StringEquals: { 'iam:PassedToService': POD_IDENTITY_SERVICE } },
        }),
        // A bridge role's trust is the namespace blueprint's, fixed by the platform: pods.eks.amazonaws.com of this account
        // and cluster, only with its own namespace's session tag. That trust is what makes an association of another
        // namespace (EKS creates one for any namespace the request names: no condition key names it) useless: EKS Auth's
        // AssumeRole carries the association's namespace as kubernetes-namespace, which no other tenant's bridge admits.
        // UpdateAssumeRolePolicy takes no condition key on the new document (only iam:PermissionsBoundary), so it is denied
        // outright: no released namespace blueprint has changed a bridge trust (0.1.0 to 0.4.0); a version that does must
        // lift this deny in the same release. It stops an update in place only: DeleteRole, then CreateRole of the same name
        // with the boundary, replaces the trust whole (no key names it); each tenant's own deployer (lib/namespace-deployer.ts,
        // under this policy as its boundary) may do so to its own tenant's bridge role only. The kubectl provider this role
        // invokes is cluster admin, behind a guard that holds each namespace stack's manifest to its own tenant's objects
        // (SHARED_KUBECTL_GUARD; code, not IAM: docs/isolation.md).
        new iam.PolicyStatement({
          sid: 'KeepTheBridgeTrust',
          effect: iam.Effect.DENY,
          actions: ['iam:UpdateAssumeRolePolicy'],
          resources: [bridgeRoles],
        }),
        // The name of a bridge policy limits which policy, not what it grants: the bound is the bridge roles' permissions
        // boundary. A bridge role is created, or given a boundary, only with that one (iam:PermissionsBoundary, listed for
        // both actions in the Service Authorization Reference), as the IAM User Guide's delegation example does.
        new iam.PolicyStatement({
          sid: 'BridgeRolesWithTheBoundaryOnly',
          actions: ['iam:CreateRole', 'iam:PutRolePermissionsBoundary'],
          resources: [bridgeRoles],
          conditions: { StringEquals: { 'iam:PermissionsBoundary': boundary.managedPolicyArn } },
        }),
        // A bridge role gets its namespace blueprint's own bridge policy and nothing else: not an AWS managed policy
        // (AdministratorAccess) nor another customer policy of the platform account, and only while it has the boundary.
        // iam:PolicyARN and iam:PermissionsBoundary are listed for both actions in the Service Authorization Reference
        // (test/isolation/condition-keys.test.ts checks it). Detaching needs no boundary: a role of an earlier blueprint
        // version, without one, can still be deleted.
        new iam.PolicyStatement({
          sid: 'BridgePolicyAttachments',
          actions: ['iam:AttachRolePolicy'],
          resources: [bridgeRoles],
          conditions: { ArnLike: { 'iam:PolicyARN': bridgePolicies }, StringEquals: { 'iam:PermissionsBoundary': boundary.managedPolicyArn } },
        }),
        new iam.PolicyStatement({
          sid: 'BridgePolicyDetachments',
          actions: ['iam:DetachRolePolicy'],
          resources: [bridgeRoles],
          conditions: { ArnLike: { 'iam:PolicyARN': bridgePolicies } },
        }),
        // Denied outright, whatever else is ever granted: removing the boundary, and editing the boundary policy itself.
        new iam.PolicyStatement({
          sid: 'KeepTheBridgeBoundary',
          effect: iam.Effect.DENY,
          actions: ['iam:DeleteRolePermissionsBoundary'],
          resources: [bridgeRoles],
        }),
        new iam.PolicyStatement({
          sid: 'LeaveTheBridgeBoundaryAlone',
          effect: iam.Effect.DENY,
          actions: ['iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion'],
          resources: [boundary.managedPolicyArn],
        }),
        new iam.PolicyStatement({
          sid: 'BridgePolicies',
          actions: ['iam:CreatePolicy', 'iam:DeletePolicy', 'iam:GetPolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion', 'iam:ListPolicyVersions', 'iam:TagPolicy', 'iam:ListEntitiesForPolicy'],
          resources: [bridgePolicies],
        }),
        // Associations on the shared cluster only. EKS offers no condition key on an association's namespace, service account or
        // roles (CreatePodIdentityAssociation is authorized on the cluster with only aws:RequestTag and aws:TagKeys; Update and
        // Delete on the association with only aws:ResourceTag): which role an association names is held by PassRole above
        // (bridge roles, to Pod Identity), and which namespace can use it by that role's fixed trust. Tagging acts on
        // associations, not on the cluster.
        new iam.PolicyStatement({
          sid: 'PodIdentityAssociationsOnTheSharedCluster',
          actions: ['eks:CreatePodIdentityAssociation'],
          resources: [cluster.clusterArn],
        }),
        new iam.PolicyStatement({
          sid: 'PodIdentityAssociations',
          actions: ['eks:DeletePodIdentityAssociation', 'eks:DescribePodIdentityAssociation', 'eks:UpdatePodIdentityAssociation', 'eks:TagResource', 'eks:UntagResource'],
          resources: [associations],
        }),
        new iam.PolicyStatement({ sid: 'KubectlProvider', actions: ['lambda:InvokeFunction'], resources: [serviceTokens.kubectl] }),
        // Each tenant's Kubernetes identity: its kubectl role and namespace-scoped access entry (lib/namespace-kubectl.ts).
        ...namespaceKubectlDeployerStatements({
          partition: stack.partition, region: stack.region, account: stack.account, clusterName: cluster.clusterName, tenant: '*', serviceToken: serviceTokens.namespaceKubectl,
        }).map((s) => iam.PolicyStatement.fromJson(s)),
        new iam.PolicyStatement({
          sid: 'SharedClusterParameters', actions: ['ssm:GetParameters'],
          resources: Object.values(SHARED_CLUSTER_PARAMETERS).map((name) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) })),
        }),
      ],
    });
    acknowledge(policy, [bridgeRoles, bridgePolicies, associations].map((arn) => wildcardResourceFinding(this, arn)), 'Namespace blueprints create one bridge role, one bridge policy and one Pod Identity association per tenant at run time; the patterns admit only those names, on the shared cluster only.');
    const kubectlRoles = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: namespaceKubectlRoleName('*') });
    const kubectlEntries = `arn:${stack.partition}:eks:${stack.region}:${stack.account}:access-entry/${cluster.clusterName}/role/${stack.account}/${namespaceKubectlRoleName('*')}/*`;
    acknowledge(policy, [kubectlRoles, kubectlEntries].map((arn) => wildcardResourceFinding(this, arn)), 'Namespace blueprints create one kubectl role and one access entry for it per tenant at run time; the patterns admit only tessera-<tenant>-namespace-kubectl roles and their entries on the shared cluster, each mapped to AmazonEKSEditPolicy in its own namespace only (the conditions).');
    return { role, policy };
  }

  private acknowledgeKubectlProvider(cluster: eks.Cluster): void {
    acknowledge(cluster, ['Annotation::@aws-cdk/aws-eks:isolatedSubnetsForKubectlPrivateSubnets'],
      'The kubectl provider runs in the isolated compute subnets on purpose: the platform VPC has no internet route, and the Network construct provides the STS, EKS, ECR, S3 and Logs endpoints it needs.');
    const provider = cluster.node.findChild('KubectlProvider');
    const vpcExecution = 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';
    const basicExecution = 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
    const handler = provider.node.findChild('Handler');
    const stack = Stack.of(this);
    const handlerLogicalId = stack.getLogicalId(handler.node.defaultChild as CfnElement);
    acknowledgeDeployTimeFunction(handler, {
      purpose: 'The shared cluster kubectl handler (aws-cdk-lib aws-eks-v2)',
      managedPolicyFindings: [
        basicExecution, vpcExecution,
        'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]',
        `AwsSolutions::AwsSolutions-IAM4[Policy::{"Fn::If":["${stack.getLogicalId(handler.node.findChild('HasEcrPublic') as CfnElement)}",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]`,
      ],
    });
    acknowledgeDeployTimeFunction(provider.node.findChild('Provider').node.findChild('framework-onEvent'), {
      purpose: 'The shared cluster kubectl provider framework (aws-cdk-lib custom-resources)',
      managedPolicyFindings: [basicExecution, vpcExecution],
      wildcards: {
        findings: [`AwsSolutions::AwsSolutions-IAM5[Resource::<${handlerLogicalId}.Arn>:*]`],
        reason: 'it invokes the one kubectl handler function, any of its versions (the ARN suffix), and nothing else.',
      },
    });
  }
}
