import { describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { gpuInstanceTypesFor, type InstanceTypeOffered } from '../../../lib/cli/init/gpu-instance-types.js';
import { RegionOfferings } from '../../../lib/preflight/region-offerings.js';

// The Region data the preflight's offered-in-region rule reads (cfn-lint 1.58.0): eu-west-1 sells g5.2xlarge, g5.4xlarge
// and p4d.24xlarge but not g6.2xlarge; us-east-1 all four; us-west-1 none of them but g4dn.2xlarge; mx-central-1 no GPU type.
const data = new RegionOfferings();
const offered: InstanceTypeOffered = (region, type) => data.ec2InstanceTypeOffered(region, type);
const ALL_TIERS = ['starter', 'professional', 'enterprise'];

describe('the GPU instance types tessera init writes for the home region', () => {
  it('keeps the default lists in us-east-1, which offers every default GPU type (nothing to write)', () => {
    expect(gpuInstanceTypesFor('us-east-1', ALL_TIERS, offered)).toEqual([]);
  });

  it('drops g6.2xlarge from the shared cluster in eu-west-1 and keeps the enterprise list, which eu-west-1 offers whole', () => {
    expect(gpuInstanceTypesFor('eu-west-1', ALL_TIERS, offered)).toEqual([
      { key: 'sharedCluster.gpu.instanceTypes', from: ['g5.2xlarge', 'g6.2xlarge'], to: ['g5.2xlarge'] },
    ]);
  });

  it('substitutes a type of as many GPUs where the region offers none of a list (us-west-1: g4dn.2xlarge)', () => {
    expect(gpuInstanceTypesFor('us-west-1', ALL_TIERS, offered)).toEqual([
      { key: 'sharedCluster.gpu.instanceTypes', from: ['g5.2xlarge', 'g6.2xlarge'], to: ['g4dn.2xlarge'] },
      // g5.4xlarge → g4dn.4xlarge; p4d.24xlarge (8 GPUs) → g4dn.metal, the one 8-GPU type us-west-1 sells
      { key: 'tiers.enterprise.compute.gpu.instanceTypes', from: ['g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge'], to: ['g4dn.2xlarge', 'g4dn.4xlarge', 'g4dn.metal'] },
    ]);
  });

  it('checks only the node groups of the tiers kept: no shared cluster without a shared tier', () => {
    expect(gpuInstanceTypesFor('us-west-1', ['enterprise'], offered).map((c) => c.key)).toEqual(['tiers.enterprise.compute.gpu.instanceTypes']);
    expect(gpuInstanceTypesFor('us-west-1', ['starter'], offered).map((c) => c.key)).toEqual(['sharedCluster.gpu.instanceTypes']);
  });

  it('takes a type the data has no entry for as offered', () => {
    expect(gpuInstanceTypesFor('xx-east-9', ALL_TIERS, () => undefined)).toEqual([]);
  });

  it('refuses a home region that offers no GPU type of as many GPUs, naming the key and the way out', () => {
    let error: unknown;
    try {
      gpuInstanceTypesFor('mx-central-1', ALL_TIERS, offered);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toMatch(/^home region mx-central-1 offers none of the default's GPU instance types for sharedCluster\.gpu\.instanceTypes \(g5\.2xlarge, g6\.2xlarge\) and no other GPU type of as many GPUs .*: choose another home region, or write the config for one and set sharedCluster\.gpu\.maxSize to 0/);
  });
});
