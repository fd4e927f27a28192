import type { GpuNodeGroupConfig } from './config/schema.js';

/** An EKS managed node group of a cluster: its instance types and the config key that lists them. */
export interface NodeGroup {
  /** `system-nodes` or `gpu`. */
  readonly name: string;
  /** The config key of its instance types, e.g. `tiers.enterprise.compute.gpu.instanceTypes`. */
  readonly key: string;
  readonly instanceTypes: readonly string[];
}

/**
 * The EKS managed node groups of a cluster (`prefix`: the config key of its compute, e.g.
 * `tiers.enterprise.compute`): the system group (`systemNodes.instanceType`), and the GPU group
 * (`gpu.instanceTypes`) unless its maxSize is 0 (then there is none: constructs/gpu-node-group.ts).
 * Both span every private subnet of the VPC, so every zone of it must offer each of their types.
 */
export function nodeGroups(prefix: string, systemType: string, gpu: GpuNodeGroupConfig): NodeGroup[] {
  const groups: NodeGroup[] = [{ name: 'system-nodes', key: `${prefix}.systemNodes.instanceType`, instanceTypes: [systemType] }];
  if (gpu.maxSize > 0) groups.push({ name: 'gpu', key: `${prefix}.gpu.instanceTypes`, instanceTypes: gpu.instanceTypes });
  return groups;
}
