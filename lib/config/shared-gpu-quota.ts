import type { z } from 'zod';
import { ec2GpuCount } from './instance-catalog.js';

interface SharedGpuConfig {
  readonly sharedCluster: { readonly gpu: { readonly maxSize: number; readonly instanceTypes: readonly string[] } };
  readonly tiers: Record<string, { readonly compute: { readonly mode: string; readonly quota?: { readonly gpus: number } } }>;
}

/**
 * Refuses a shared-compute tier whose `quota.gpus` the shared cluster can never give one tenant.
 *
 * A shared tier's `compute.quota.gpus` becomes the `requests.nvidia.com/gpu` of its tenants' namespace ResourceQuota
 * (lib/namespace-manifests.ts): the quota admits pods asking for that many GPUs, and the scheduler places them only
 * on a node advertising them, a node of the shared cluster's GPU node group (constructs/gpu-node-group.ts). With
 * `sharedCluster.gpu.maxSize` 0 there is no such node group, and with fewer than `quota.gpus` GPUs at full scale
 * (`maxSize` nodes of the largest type of `sharedCluster.gpu.instanceTypes`, {@link ec2GpuCount}) there never are
 * enough: the tenant's pods stay Pending forever, while the tier's contract says they can run. The node group's
 * size between `minSize` and `maxSize` is the operator's to change (EKS UpdateNodegroupConfig) without a deploy, so
 * `maxSize` is the ceiling checked; more GPUs than that take a config change, which is checked again.
 * Issues at `tiers.<tier>.compute.quota.gpus`, naming `sharedCluster.gpu.maxSize` and both values; each carries the same
 * problem told from `sharedCluster.gpu.maxSize` (`params.leadWith`), which config-issues.ts prints instead when the config
 * file set that key and the tier's quota is the embedded default's.
 */
export function checkSharedTierGpus(c: SharedGpuConfig, ctx: z.RefinementCtx): void {
  const { maxSize, instanceTypes } = c.sharedCluster.gpu;
  const counts = instanceTypes.map((t) => ({ type: t, gpus: ec2GpuCount(t) ?? 0 }));
  const largest = counts.reduce((a, b) => (b.gpus > a.gpus ? b : a), { type: '', gpus: 0 });
  const capacity = maxSize * largest.gpus;
  for (const [name, tier] of Object.entries(c.tiers)) {
    const gpus = tier.compute.mode === 'shared' ? tier.compute.quota?.gpus ?? 0 : 0;
    if (gpus <= capacity) continue;
    const key = `tiers.${name}.compute.quota.gpus`;
    const fix = `set ${key} to ${capacity === 0 ? '0' : `at most ${capacity}`}, or raise sharedCluster.gpu.maxSize${maxSize > 0 ? ' (or list a type with more GPUs in sharedCluster.gpu.instanceTypes)' : ''}`;
    const why = maxSize === 0
      ? 'but sharedCluster.gpu.maxSize is 0: the shared cluster has no GPU node group'
      : `but the shared cluster holds at most ${capacity} (sharedCluster.gpu.maxSize ${maxSize} × ${largest.gpus} GPU${largest.gpus === 1 ? '' : 's'} of ${largest.type}, the largest of sharedCluster.gpu.instanceTypes)`;
    const pending = 'so a tenant using its quota would have GPU pods Pending forever';
    const asked = `${gpus} GPU${gpus === 1 ? '' : 's'}`;
    // Told from sharedCluster.gpu.maxSize when that is the key the config file set (config-issues.ts, leadWith).
    const fromCluster = maxSize === 0
      ? `leaves the shared cluster without a GPU node group, but tier ${name} lets each tenant request ${asked} (${key} = ${gpus}), ${pending}: ${fix}`
      : `lets the shared cluster hold at most ${capacity} GPUs (${maxSize} × ${largest.gpus} of ${largest.type}, the largest of sharedCluster.gpu.instanceTypes), but tier ${name} lets each tenant request ${asked} (${key} = ${gpus}), ${pending}: ${fix}`;
    ctx.addIssue({
      code: 'custom',
      path: ['tiers', name, 'compute', 'quota', 'gpus'],
      message: `lets each tenant of tier ${name} request ${asked}, ${why}, ${pending}: ${fix}`,
      params: { leadWith: { path: ['sharedCluster', 'gpu', 'maxSize'], message: fromCluster } },
    });
  }
}
