import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { GpuNodeGroupConfig } from '../lib/config/schema.js';
import { GPU_LABELS, GPU_TAINT_KEY, GPU_TAINT_VALUE } from '../lib/gpu-scheduling.js';

export interface GpuNodeGroupProps extends GpuNodeGroupConfig {
  readonly cluster: eks.ICluster;
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
}

/** The taint every GPU node carries, so only pods that tolerate it (and ask for a GPU) land there. */
export const GPU_TAINT = { key: GPU_TAINT_KEY, value: GPU_TAINT_VALUE, effect: eks.TaintEffect.NO_SCHEDULE } as const;
export { GPU_LABELS };

/**
 * A managed node group of NVIDIA GPU instances: the AMI type is always explicit (the EKS default
 * for GPU instances is the end-of-life AL2 GPU AMI), nodes are tainted `nvidia.com/gpu:NoSchedule`,
 * labelled, with a large root disk for model weights and container images. A group whose
 * `maxSize` is 0 is a tier without GPUs: no node group is created.
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
      instanceTypes: props.instanceTypes.map((t) => new ec2.InstanceType(t)),
      capacityType: eks.CapacityType.ON_DEMAND,
      diskSize: props.diskSizeGiB,
      minSize: props.minSize,
      maxSize: props.maxSize,
      desiredSize: props.desiredSize ?? props.minSize,
      taints: [GPU_TAINT],
      labels: { ...GPU_LABELS, ...props.labels },
      enableNodeAutoRepair: true,
      nodeRole: props.nodeRole,
    });
  }
}
