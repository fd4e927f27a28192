import { type CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';
import type { GpuNodeGroupConfig } from '../lib/config/schema.js';
import { ClusterAddons } from './cluster-addons.js';
import { GpuNodeGroup, pinNodegroupVersion } from './gpu-node-group.js';
import { nodeLaunchTemplate } from './node-launch-template.js';

export interface KubernetesClusterProps {
  /** Cluster name; also names the control-plane log group `/aws/eks/<name>/cluster`. */
  readonly clusterName: string;
  /** Kubernetes minor version, e.g. `1.34`. */
  readonly kubernetesVersion: string;
  readonly vpc: ec2.IVpc;
  /** Subnets of the control-plane ENIs and the nodes; private. */
  readonly subnets: ec2.SubnetSelection;
  /** Envelope-encrypts Kubernetes secrets and the control-plane logs. */
  readonly encryptionKey: kms.IKey;
  /** System (non-GPU) node group: CoreDNS, agents, CPU workloads. */
  readonly systemNodes: { instanceType: string; minSize: number; maxSize: number; desiredSize?: number };
  /** The GPU node group. */
  readonly gpu: GpuNodeGroupConfig;
  /** Role ARNs granted cluster admin through EKS access entries. */
  readonly adminRoleArns: string[];
  /**
   * A kubectl provider (a Lambda in `subnets`, reaching the private endpoint) so that manifests
   * and Helm charts can be applied through CloudFormation.
   * @default - no kubectl provider (the cluster is managed through the EKS API only)
   */
  readonly kubectl?: { layer: lambda.ILayerVersion; subnets: ec2.ISubnet[] };
  /**
   * Control-plane log retention.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether pods of several tenants share the nodes (the shared cluster): then both node groups get a launch template
   * that keeps the instance metadata service to the node itself (IMDSv2 only, hop limit 1; NODE_METADATA_OPTIONS in
   * constructs/node-launch-template.ts says why), and the GPU group's disk moves into it.
   * @default false - EKS's own launch template: the metadata options of EKS and the AMI (a dedicated cluster's pods are one tenant's)
   */
  readonly nodesSharedByTenants?: boolean;
  /**
   * Extra labels of the GPU nodes (the Cluster Autoscaler's GPU label where the cluster runs one).
   * @default - only the accelerator labels (constructs/gpu-node-group.ts)
   */
  readonly gpuNodeLabels?: Record<string, string>;
}

/** Labels of the system nodes: where the platform's own pods (the Cluster Autoscaler) are scheduled. */
export const SYSTEM_NODE_LABELS: Readonly<Record<string, string>> = { 'tessera.io/pool': 'system' };

const NODE_MANAGED_POLICIES = ['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryPullOnly', 'AmazonEKS_CNI_Policy'];

const ALL_CONTROL_PLANE_LOGS = [
  eks.ClusterLoggingTypes.API,
  eks.ClusterLoggingTypes.AUDIT,
  eks.ClusterLoggingTypes.AUTHENTICATOR,
  eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
  eks.ClusterLoggingTypes.SCHEDULER,
];

/**
 * An EKS cluster (aws-eks-v2: native AWS::EKS::Cluster, access entries instead of aws-auth) with a
 * private endpoint only, all five control-plane log types into a KMS-encrypted log group,
 * Kubernetes secrets envelope-encrypted, the network policy agent and Pod Identity agent on,
 * a system node group and a tainted GPU node group.
 */
export class KubernetesCluster extends Construct {
  readonly cluster: eks.Cluster;
  readonly gpuNodes: GpuNodeGroup;
  /**
   * The readiness marker aws-eks-v2 puts beside the cluster: an `AWS::SSM::Parameter` (String
   * `aws:cdk:eks:kubectl-ready`, a name CloudFormation generates: `CFN-<logical id>-<suffix>`) that
   * Kubernetes objects of the cluster depend on. aws-eks-v2 declares it as a plain CfnResource, which
   * `Tags.of(...)` does not reach (TagManager.isTaggable is false): a stack that tags its resources sets
   * its `Tags` (a JSON map for this type) itself.
   */
  readonly kubectlReadyBarrier: CfnResource;

  constructor(scope: Construct, id: string, props: KubernetesClusterProps) {
    super(scope, id);
    const version = eks.KubernetesVersion.of(props.kubernetesVersion);

    // Created before the cluster so EKS writes into an encrypted, retained group.
    const controlPlaneLogs = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${props.clusterName}/cluster`,
      encryptionKey: props.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The cluster's service role, on the service-role path: EKS acts through it (ENIs, load balancers)
    // while the tenant's account may still be fenced by the quarantine SCP.
    // Confused-deputy conditions EKS documents for the cluster role: aws:SourceArn = this cluster (its
    // name is fixed, so the ARN is known before it exists), aws:SourceAccount = its account
    // (https://docs.aws.amazon.com/eks/latest/userguide/cross-service-confused-deputy-prevention.html).
    const stack = Stack.of(this);
    const clusterRole = new iam.Role(this, 'ClusterRole', {
      path: SERVICE_ROLE_PATH,
      assumedBy: new iam.ServicePrincipal('eks.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: props.clusterName }) },
      }),
      description: `Control plane of EKS cluster ${props.clusterName}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSClusterPolicy')],
    });
    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      role: clusterRole,
      version,
      vpc: props.vpc,
      vpcSubnets: [props.subnets],
      endpointAccess: eks.EndpointAccess.PRIVATE,
      clusterLogging: ALL_CONTROL_PLANE_LOGS,
      secretsEncryptionKey: props.encryptionKey,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      bootstrapClusterCreatorAdminPermissions: false,
      kubectlProviderOptions: props.kubectl ? { kubectlLayer: props.kubectl.layer, privateSubnets: props.kubectl.subnets } : undefined,
    });
    this.cluster.node.defaultChild!.node.addDependency(controlPlaneLogs);
    this.kubectlReadyBarrier = this.cluster.node.findChild('KubectlReadyBarrier') as CfnResource;

    const cfnCluster = this.cluster.node.defaultChild as CfnResource;
    acknowledge(cfnCluster, ['CloudFormation-Validate::W9009'],
      'EncryptionConfig.Resources=["secrets"] is the only value EKS accepts for envelope encryption; the CloudFormation schema merely marks the property deprecated.');
    acknowledge(clusterRole, ['AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]'],
      'EKS requires its cluster service role to carry the AWS-managed AmazonEKSClusterPolicy; AWS evolves it with the control plane.');

    // One node role for both node groups, so its managed policies are reviewed in one place.
    // Trusts EC2 without aws:SourceArn / aws:SourceAccount: EC2 documents neither for the role of an
    // instance profile (the EKS node role page trusts the bare principal:
    // https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html), and EKS's confused-deputy
    // page covers the cluster role only. Its reach is bounded by its AWS-managed policies and by who may pass it.
    const nodeRole = new iam.Role(this, 'NodeRole', {
      path: SERVICE_ROLE_PATH,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Nodes of EKS cluster ${props.clusterName}`,
      managedPolicies: NODE_MANAGED_POLICIES.map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    acknowledge(nodeRole, NODE_MANAGED_POLICIES.map((name) => `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`),
      'The three AWS-managed policies EKS documents for managed node groups (kubelet registration, image pulls, VPC CNI); pods get AWS access only through Pod Identity roles, never through this node role.');

    for (const [i, arn] of props.adminRoleArns.entries()) {
      this.cluster.grantAccess(`Admin${i}`, arn, [
        eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER }),
      ]);
    }

    new ClusterAddons(this, 'Addons', { cluster: this.cluster });

    // EKS updates a node group with a launch template only if it was created with one, and CloudFormation updates
    // LaunchTemplate in place (not a create-only property): a node group of its own, under another logical id, is
    // what lets a deployed shared cluster take the template (CloudFormation creates it, then deletes the old group).
    // Source: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-eks-nodegroup.html
    // (the GPU group is replaced anyway: its DiskSize, create-only, moves into the template).
    const systemNodes = this.cluster.addNodegroupCapacity(props.nodesSharedByTenants ? 'SystemNodesHostOnlyMetadata' : 'SystemNodes', {
      subnets: props.subnets,
      // x86_64 only: the config refuses Graviton system nodes (systemNodeInstanceTypeProblem, lib/config/instance-catalog.ts).
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      instanceTypes: [new ec2.InstanceType(props.systemNodes.instanceType)],
      minSize: props.systemNodes.minSize,
      maxSize: props.systemNodes.maxSize,
      desiredSize: props.systemNodes.desiredSize ?? props.systemNodes.minSize,
      labels: { ...SYSTEM_NODE_LABELS },
      nodeRole,
      enableNodeAutoRepair: true,
      launchTemplateSpec: props.nodesSharedByTenants ? nodeLaunchTemplate(this, 'SystemNodesLaunchTemplate') : undefined,
    });
    // Both node groups follow the cluster's version (see pinNodegroupVersion).
    pinNodegroupVersion(systemNodes, props.kubernetesVersion);

    this.gpuNodes = new GpuNodeGroup(this, 'GpuNodes', {
      ...props.gpu, cluster: this.cluster, kubernetesVersion: props.kubernetesVersion, subnets: props.subnets, nodeRole,
      nodeMetadataForNodesOnly: props.nodesSharedByTenants, labels: props.gpuNodeLabels,
    });
  }
}
