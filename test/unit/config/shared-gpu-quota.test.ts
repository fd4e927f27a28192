import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { catalogInstanceTypes, ec2GpuCount } from '../../../lib/config/instance-catalog.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

describe("a shared tier's quota.gpus against the shared cluster's GPU node group", () => {
  it('refuses GPUs in a shared tier when the shared cluster has no GPU node group (sharedCluster.gpu.maxSize 0), naming both keys and values', () => {
    // GIVEN a shared cluster without GPUs, and the default professional tier (quota.gpus 2)
    const message = configErrorOf({ sharedCluster: { gpu: { minSize: 0, maxSize: 0 } } });
    // THEN synth refuses it, led by the key the config set (the tier's quota is the embedded default's), naming the tier's key and value and the fix
    expect(message).toMatch(/context tessera:config: sharedCluster\.gpu\.maxSize = 0: leaves the shared cluster without a GPU node group, but tier professional lets each tenant request 2 GPUs \(tiers\.professional\.compute\.quota\.gpus = 2\), so a tenant using its quota would have GPU pods Pending forever: set tiers\.professional\.compute\.quota\.gpus to 0, or raise sharedCluster\.gpu\.maxSize/);
    // starter (quota.gpus 0) asks for none, so it is not named
    expect(message).not.toMatch(/tier starter/);
  });

  it('leads with the tier\'s quota.gpus when the config set it', () => {
    const message = configErrorOf({ sharedCluster: { gpu: { minSize: 0, maxSize: 0 } }, tiers: { professional: { compute: { quota: { gpus: 1 } } } } });
    expect(message).toMatch(/context tessera:config: tiers\.professional\.compute\.quota\.gpus = 1: lets each tenant of tier professional request 1 GPU, but sharedCluster\.gpu\.maxSize is 0: the shared cluster has no GPU node group, so a tenant using its quota would have GPU pods Pending forever: set tiers\.professional\.compute\.quota\.gpus to 0, or raise sharedCluster\.gpu\.maxSize/);
  });

  it('refuses a quota larger than maxSize × the GPUs of the largest instance type, and accepts exactly that many', () => {
    // GIVEN one g5.12xlarge (4 GPUs) at most
    const cluster = { gpu: { instanceTypes: ['g5.2xlarge', 'g5.12xlarge'], minSize: 0, maxSize: 1 } };
    expect(configErrorOf({ sharedCluster: cluster, tiers: { professional: { compute: { quota: { gpus: 5 } } } } }))
      .toMatch(/tiers\.professional\.compute\.quota\.gpus = 5: lets each tenant of tier professional request 5 GPUs, but the shared cluster holds at most 4 \(sharedCluster\.gpu\.maxSize 1 × 4 GPUs of g5\.12xlarge, the largest of sharedCluster\.gpu\.instanceTypes\), .*: set tiers\.professional\.compute\.quota\.gpus to at most 4, or raise sharedCluster\.gpu\.maxSize \(or list a type with more GPUs/);
    const tier = loadConfig({ overrides: { sharedCluster: cluster, tiers: { professional: { compute: { quota: { gpus: 4 } } } } } }).tiers.professional.compute;
    expect(tier).toMatchObject({ mode: 'shared', quota: { gpus: 4 } });
  });

  it('accepts a shared cluster without GPUs when no shared tier promises any, and the default config as it is', () => {
    const noGpus = loadConfig({ overrides: { sharedCluster: { gpu: { minSize: 0, maxSize: 0 } }, tiers: { professional: { compute: { quota: { gpus: 0 } } } } } });
    expect(noGpus.sharedCluster.gpu.maxSize).toBe(0);
    // The default: professional's 2 GPUs against 4 nodes of 1 GPU (g5.2xlarge, g6.2xlarge)
    expect(DEFAULT_CONFIG.tiers.professional.compute).toMatchObject({ quota: { gpus: 2 } });
    expect(loadConfig().sharedCluster.gpu).toMatchObject({ maxSize: 4, instanceTypes: ['g5.2xlarge', 'g6.2xlarge'] });
  });

  it('knows the GPU count of every GPU type of the catalog', () => {
    for (const type of catalogInstanceTypes().gpu) expect(ec2GpuCount(type), type).toBeGreaterThanOrEqual(1);
    expect([ec2GpuCount('g5.2xlarge'), ec2GpuCount('g4dn.12xlarge'), ec2GpuCount('g6e.48xlarge'), ec2GpuCount('p3.8xlarge'), ec2GpuCount('p4d.24xlarge'), ec2GpuCount('p5.4xlarge')]).toEqual([1, 4, 8, 4, 8, 1]);
    expect(ec2GpuCount('m7i.xlarge')).toBeUndefined();
  });
});
