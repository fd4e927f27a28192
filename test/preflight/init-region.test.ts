import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runInit } from '../../lib/cli/init-command.js';
import { loadConfigReport } from '../../lib/config/load-config.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { platformRegionViolations, regionAvailabilityViolations } from '../../lib/preflight/region-availability.js';
import { RegionOfferings } from '../../lib/preflight/region-offerings.js';
import { tempDir } from '../support/temp-dirs.js';
import { REQUIRED_FLAGS } from '../unit/init/required-flags.js';
import { cachedBlueprints } from './support/cached-blueprints.js';

// `tessera init` picks the GPU instance types for the home region from the preflight's Region data: the config it
// writes passes the preflight's offered-in-region rule there, over the synthesized platform stack and every tier's
// stacks (until 2026-12-07 an eu-west-1 config failed it at sharedCluster.gpu.instanceTypes[1], g6.2xlarge).
const offerings = new RegionOfferings();

describe("tessera init's config in its home region, through the preflight's offered-in-region rule", () => {
  it.each(['eu-west-1', 'us-east-1'])('passes in %s', async (region) => {
    // GIVEN the config init writes for the region
    const output = join(tempDir('tessera-test-init-region-'), 'tessera.config.yaml');
    const sink = new Writable({ write(_chunk, _enc, done) { done(); } });
    await runInit({ ...REQUIRED_FLAGS, homeRegion: region, allowedRegions: region, output, yes: true }, { input: new PassThrough(), output: sink, interactive: false });
    const config = loadConfigReport({ file: output }, { refusePlaceholders: true }).config;
    // WHEN its blueprints are built and instantiated in the home region, as the preflight does (lib/preflight/run.ts)
    const loaded = await cachedBlueprints(config);
    const inRegion = (template: Parameters<typeof instantiate>[0], tenantId: string, vpcCidr: string, stackName?: string) =>
      instantiate(template, { tenantId, vpcCidr, account: '333333333333', region, lenient: true, ...(stackName ? { stackName } : {}),
        parameters: Object.fromEntries(Object.entries({ TenantVpcCidr: vpcCidr, TenantAccountId: '333333333333' }).filter(([k]) => template.Parameters?.[k])) });
    // THEN the platform stack (the shared cluster's node groups) and every tier's stacks are offered there
    expect(platformRegionViolations(inRegion(loaded.platform, 'platform', '10.0.0.0/16', 'TesseraPlatform'), config, offerings)).toEqual([]);
    for (const t of loaded.tiers) {
      const stacks = [{ blueprint: `${t.tierName}.template.json`, inst: inRegion(t.tenant, 'acme', '10.0.0.0/22') }, ...(t.namespace ? [{ blueprint: `${t.tierName}-namespace.template.json`, inst: inRegion(t.namespace, 'acme', '10.0.0.0/22') }] : [])];
      expect(regionAvailabilityViolations(stacks, t.tierName, t.tier, config, offerings), t.tierName).toEqual([]);
    }
    expect(config.sharedCluster.gpu.instanceTypes).toEqual(region === 'eu-west-1' ? ['g5.2xlarge'] : ['g5.2xlarge', 'g6.2xlarge']);
  }, 240_000);
});
