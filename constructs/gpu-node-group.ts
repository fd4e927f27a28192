import { Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { GpuNodeGroupConfig } from '../lib/config/schema.js';
import { GPU_LABELS, GPU_TAINT_KEY, GPU_TAINT_VALUE } from '../lib/gpu-scheduling.js';
import { dataVolumeDevice, nodeLaunchTemplate } from './node-launch-template.js';

export interface GpuNodeGroupProps extends GpuNodeGroupConfig {
  readonly cluster: eks.ICluster;
  /**
   * Kubernetes minor version of the nodes: the cluster's, so that a version change of the cluster's
   * blueprint also moves the nodes (see {@link pinNodegroupVersion}).
   */
  readonly kubernetesVersion: string;
  /** Subnets of the nodes; private. */
  readonly subnets: ec2.SubnetSelection;
  /**
   * Extra node labels.
   * @default - only the accelerator labels
   */
  readonly labels?: Record<string, string>;
  /**
   * IAM role of the nodes.
   * @default - a role created by the node group
   */
  readonly nodeRole?: iam.IRole;
  /**
   * Whether the nodes get a launch template that keeps the instance metadata service to the node itself (IMDSv2 only,
   * hop limit 1: constructs/node-launch-template.ts), with the `diskSizeGiB` volume in it instead of the node group's
   * `diskSize` (EKS refuses both together).
   * @default false - no launch template: `diskSize` on the node group, EKS's metadata options
   */
  readonly nodeMetadataForNodesOnly?: boolean;
}

/** The taint every GPU node carries, so only pods that tolerate it (and ask for a GPU) land there. */
export const GPU_TAINT = { key: GPU_TAINT_KEY, value: GPU_TAINT_VALUE, effect: eks.TaintEffect.NO_SCHEDULE } as const;
export { GPU_LABELS };

/**
 * A managed node group of NVIDIA GPU instances: the AMI type is always explicit (the EKS default
 * for GPU instances is the end-of-life AL2 GPU AMI), nodes are tainted `nvidia.com/gpu:NoSchedule`,
 * labelled, with a large root disk for model weights and container images. A group whose
 * `maxSize` is 0 is a tier without GPUs: no node group is created.
 *
 * `instanceTypes` is a priority list, not a set of classes offered side by side: with On-Demand
 * capacity EKS "use[s] the order of instance types passed in the API to determine which instance
 * type to use first" (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html),
 * so the later types are launched only when the earlier ones have no capacity.
 */
export class GpuNodeGroup extends Construct {
  /** The managed node group; absent when `maxSize` is 0 (no GPUs). */
  readonly nodegroup?: eks.Nodegroup;

  constructor(scope: Construct, id: string, props: GpuNodeGroupProps) {
    super(scope, id);
    // minSize and desiredSize may be blueprint parameters (tokens): AWS checks those at deploy time.
    if (!Token.isUnresolved(props.minSize) && props.minSize > props.maxSize) {
      throw new Error(`GpuNodeGroup minSize (${props.minSize}) must not exceed maxSize (${props.maxSize})`);
    }
    if (props.maxSize === 0) return;
    this.nodegroup = new eks.Nodegroup(this, 'Nodegroup', {
      cluster: props.cluster,
      subnets: props.subnets,
      amiType: props.amiType as eks.NodegroupAmiType,
      // The instance types go on the L1 below, not here: aws-eks-v2 matches the AMI type against its own
      // list of GPU families (aws-cdk-lib 2.276: P2-P4de, G3-G6e, Inf), which lacks P5, P5e and P5en, and
      // so refuses BOTTLEROCKET_x86_64_NVIDIA for a p5.48xlarge ("The specified AMI does not match the
      // instance types architecture") although EKS documents both NVIDIA AMI types for p5, p5e and p5en
      // (https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html). The config has
      // already checked the types (lib/config/instance-catalog.ts gpuInstanceTypeProblem: x86_64 GPU
      // families of the catalog, which that page lists for both AMI types).
      capacityType: eks.CapacityType.ON_DEMAND,
      diskSize: props.nodeMetadataForNodesOnly ? undefined : props.diskSizeGiB,
      launchTemplateSpec: props.nodeMetadataForNodesOnly
        ? nodeLaunchTemplate(this, 'LaunchTemplate', { dataVolume: { deviceName: dataVolumeDevice(props.amiType), sizeGiB: props.diskSizeGiB } })
        : undefined,
      minSize: props.minSize,
      maxSize: props.maxSize,
      desiredSize: props.desiredSize ?? props.minSize,
      taints: [GPU_TAINT],
      labels: { ...GPU_LABELS, ...props.labels },
      enableNodeAutoRepair: true,
      nodeRole: props.nodeRole,
    });
    (this.nodegroup.node.defaultChild as eks.CfnNodegroup).instanceTypes = [...props.instanceTypes];
    pinNodegroupVersion(this.nodegroup, props.kubernetesVersion);
  }
}

/**
 * Sets a managed node group's `Version` (aws-eks-v2's Nodegroup has no prop for it) to the cluster's
 * Kubernetes version.
 *
 * Without it the node group is created at the cluster's version but never follows it: CloudFormation
 * sees no change on the node group when the cluster's version changes, and EKS's UpdateNodegroupVersion
 * documents "If no version is specified, then the Kubernetes version of the node group does not change".
 * The next cluster upgrade is then refused: "If your cluster has managed node groups attached to it, all
 * of your node groups' Kubernetes versions must match the cluster's Kubernetes version in order to update
 * the cluster to a new Kubernetes version" (UpdateClusterVersion,
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterVersion.html).
 * With it, a blueprint that changes the version updates the cluster first (the node group refers to it)
 * and then the node group (a rolling node replacement; forceUpdateEnabled is aws-eks-v2's default).
 *
 * No `ReleaseVersion` and no launch template with a custom AMI are set here, so nothing pins the AMI:
 * EKS takes "the latest available AMI version for the node group's current Kubernetes version"
 * (CreateNodegroup/UpdateNodegroupVersion releaseVersion,
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupVersion.html). Whoever adds
 * a custom-AMI launch template must drop `Version`: EKS refuses both together ("don't specify version,
 * or the node group deployment will fail"). The only value EKS accepts for `Version` at creation is
 * the cluster's (CreateNodegroup version).
 */
export function pinNodegroupVersion(nodegroup: eks.Nodegroup, kubernetesVersion: string): void {
  (nodegroup.node.defaultChild as eks.CfnNodegroup).version = kubernetesVersion;
}
