import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../lib/config/schema.js';
import type { LoadedBlueprints, TierBlueprints } from '../../lib/preflight/blueprints.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { platformRegionViolations, regionAvailabilityViolations } from '../../lib/preflight/region-availability.js';
import { RegionOfferings } from '../../lib/preflight/region-offerings.js';
import { SERVICE_RULES } from '../../lib/preflight/service-rules.js';
import { configWith, homedIn } from '../support/config-with.js';
import { cachedBlueprints } from './support/cached-blueprints.js';

// offered-in-region (lib/preflight/region-availability.ts over cfn-lint 1.58.0's Region data): what a Region lacks
// of what a tier's stacks create fails the preflight, naming the stack, the resource and the config key, instead of
// failing a tenant's first create there. The blueprints are the default config's and a DR tier's (the synth cache
// preflight.test.ts fills); Regions picked from cfn-lint's data: il-central-1 has no AWS::S3Vectors::VectorBucket,
// ca-west-1 sells no db.t4g.medium (starter) and no cache.m7g (professional), us-west-1 no g5 or p4d.
const DR_TIER = 'professional';
const offerings = new RegionOfferings();
let loaded: LoadedBlueprints;
let drLoaded: LoadedBlueprints;

beforeAll(async () => {
  loaded = await cachedBlueprints(configWith());
  drLoaded = await cachedBlueprints(configWith({ tiers: { [DR_TIER]: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 24 } } } }));
}, 120_000);

const tierOf = (l: LoadedBlueprints, name: string): TierBlueprints => l.tiers.find((t) => t.tierName === name)!;
const inRegion = (template: CfnTemplate, region: string) => instantiate(template, {
  tenantId: 'acme', vpcCidr: '10.0.0.0/22', account: '333333333333', region, lenient: true, // The namespace blueprint's parameters (those the preflight gives it; the others have defaults).
  parameters: Object.fromEntries(Object.entries({ TenantVpcCidr: '10.0.0.0/22', TenantAccountId: '333333333333' }).filter(([k]) => template.Parameters?.[k])),
});
/** The tier blueprint of `tierName` deployed in `region`, with `config` as the platform's. */
const tenantIn = (tierName: string, region: string, config: PlatformConfig) =>
  regionAvailabilityViolations([{ blueprint: `${tierName}.template.json`, inst: inRegion(tierOf(loaded, tierName).tenant, region) }], tierName, config.tiers[tierName], config, offerings);

describe('offered-in-region', () => {
  it('passes every stack of every default tier in the home Region, and a DR tier\'s DR and failover stacks in its DR region', () => {
    const config = loaded.config;
    for (const t of loaded.tiers) {
      const stacks = [{ blueprint: `${t.tierName}.template.json`, inst: inRegion(t.tenant, config.homeRegion) }, ...(t.namespace ? [{ blueprint: `${t.tierName}-namespace.template.json`, inst: inRegion(t.namespace, config.homeRegion) }] : [])];
      expect(regionAvailabilityViolations(stacks, t.tierName, t.tier, config, offerings), t.tierName).toEqual([]);
    }
    const dr = tierOf(drLoaded, DR_TIER);
    const stacks = [{ blueprint: `${DR_TIER}-dr.template.json`, inst: inRegion(dr.dr!, 'us-west-2') }, { blueprint: `${DR_TIER}-failover`, inst: inRegion(dr.failover!, 'us-west-2') }];
    expect(regionAvailabilityViolations(stacks, DR_TIER, dr.tier, drLoaded.config, offerings)).toEqual([]);
  });

  it('refuses a home Region without S3 Vectors, naming the vector bucket of every tier and homeRegion (no key turns the vector stores off)', () => {
    const config = configWith(homedIn('il-central-1'));
    for (const t of loaded.tiers) {
      const lines = tenantIn(t.tierName, 'il-central-1', config);
      expect(lines.filter((l) => l.includes('AWS::S3Vectors::VectorBucket')), t.tierName).toEqual([
        expect.stringMatching(new RegExp(`^${t.tierName}\\.template\\.json \\(il-central-1\\): \\w+ \\(AWS::S3Vectors::VectorBucket\\) resource type AWS::S3Vectors::VectorBucket does not exist in il-central-1: choose a Region that has AWS::S3Vectors::VectorBucket \\(homeRegion\\)$`)),
      ]);
    }
  });

  it('refuses an instance class or node type the Region does not sell, naming the property, the value and the tier\'s config key', () => {
    const config = configWith(homedIn('ca-west-1'));
    expect(tenantIn('starter', 'ca-west-1', config)).toEqual([
      expect.stringMatching(/^starter\.template\.json \(ca-west-1\): DatabaseInstance\w+ \(AWS::RDS::DBInstance\) DBInstanceClass db\.t4g\.medium is not offered in ca-west-1: set tiers\.starter\.database\.instanceClass to one offered in ca-west-1, or choose another Region \(homeRegion\)$/),
    ]);
    expect(tenantIn('professional', 'ca-west-1', config)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^professional\.template\.json \(ca-west-1\): CacheReplicationGroup\w+ \(AWS::ElastiCache::ReplicationGroup\) CacheNodeType cache\.m7g\.large is not offered in ca-west-1: set tiers\.professional\.cache\.nodeType to one offered in ca-west-1/),
    ]));
    // The GPU node group's instance types, each with its index in the config.
    const gpu = tenantIn('enterprise', 'us-west-1', configWith(homedIn('us-west-1'))).filter((l) => l.includes('(AWS::EKS::Nodegroup) InstanceTypes['));
    expect(gpu).toEqual([
      expect.stringMatching(/ComputeGpuNodesNodegroup\w+ \(AWS::EKS::Nodegroup\) InstanceTypes\[0\] g5\.2xlarge is not offered in us-west-1: set tiers\.enterprise\.compute\.gpu\.instanceTypes\[0\]/),
      expect.stringMatching(/InstanceTypes\[1\] g5\.4xlarge is not offered in us-west-1: set tiers\.enterprise\.compute\.gpu\.instanceTypes\[1\]/),
      expect.stringMatching(/InstanceTypes\[2\] p4d\.24xlarge is not offered in us-west-1: set tiers\.enterprise\.compute\.gpu\.instanceTypes\[2\]/),
    ]);
  });

  it('refuses a SageMaker endpoint instance type of a training tier that the Region does not host, naming training.endpointInstanceTypes[i]', () => {
    // eu-west-3 (enabled by default) hosts no ml.g5 endpoint in cfn-lint 1.58.0's data: every fine-tuned model of the
    // professional tier (ml.g5.xlarge) and the enterprise tier (ml.g5.2xlarge, ml.g5.12xlarge) would fail to deploy there.
    const config = configWith(homedIn('eu-west-3'));
    const endpointLines = (tierName: string) => tenantIn(tierName, 'eu-west-3', config).filter((l) => l.includes('endpointInstanceTypes'));
    expect(endpointLines('professional')).toEqual([
      'professional.template.json (eu-west-3): SageMaker endpoint instance type ml.g5.xlarge (tiers.professional.training.endpointInstanceTypes[0]: the endpoints the tier\'s fine-tuned models are deployed to at run time) is not offered in eu-west-3: set tiers.professional.training.endpointInstanceTypes[0] to one offered in eu-west-3, or set tiers.professional.training.enabled to false, or choose another Region (homeRegion)',
    ]);
    expect(endpointLines('enterprise')).toEqual([
      expect.stringContaining('ml.g5.2xlarge (tiers.enterprise.training.endpointInstanceTypes[0]'),
      expect.stringContaining('ml.g5.12xlarge (tiers.enterprise.training.endpointInstanceTypes[1]'),
    ]);
    // A tier that does not train deploys no endpoint: starter (training.enabled false) has nothing to check.
    expect(endpointLines('starter')).toEqual([]);
    expect(offerings.sageMakerHostingInstanceTypeOffered('us-east-1', 'ml.g5.xlarge')).toBe(true);
    expect(offerings.sageMakerHostingInstanceTypeOffered('xx-east-9', 'ml.g5.xlarge')).toBeUndefined();
  });

  it('checks a DR tier\'s failover stack in its DR region, naming tiers.<tier>.disasterRecovery.region', () => {
    const config = configWith({ allowedRegions: ['us-east-1', 'us-west-2', 'il-central-1'], tiers: { [DR_TIER]: { disasterRecovery: { region: 'il-central-1', rpoHours: 4, rtoHours: 24 } } } });
    const dr = tierOf(drLoaded, DR_TIER);
    const lines = regionAvailabilityViolations([{ blueprint: `${DR_TIER}-failover`, inst: inRegion(dr.failover!, 'il-central-1') }], DR_TIER, config.tiers[DR_TIER], config, offerings);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${DR_TIER}-failover \\(il-central-1\\): \\w+ \\(AWS::S3Vectors::VectorBucket\\) .*: choose a Region that has AWS::S3Vectors::VectorBucket \\(tiers\\.${DR_TIER}\\.disasterRecovery\\.region\\)$`)));
  });

  it('reports a Region cfn-lint has no data for rather than passing it', () => {
    expect(tenantIn('starter', 'xx-east-9', loaded.config)).toEqual([
      expect.stringMatching(/^starter\.template\.json \(xx-east-9, the preflight's --region\): cfn-lint \(.+\) has no Region data for xx-east-9: a Region newer than the pinned cfn-lint; update cfn-lint in requirements-dev\.txt$/),
    ]);
  });

  it('checks the platform stack in homeRegion: the shared cluster\'s node group instance types, named by their sharedCluster key', () => {
    // TesseraPlatform (with its nested stacks) as the preflight instantiates it (lib/preflight/run.ts): always in homeRegion.
    const platformIn = (region: string) => instantiate(loaded.platform, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: '222222222222', region, stackName: 'TesseraPlatform', lenient: true });
    const config = loaded.config;
    expect(config.sharedCluster.gpu.instanceTypes).toEqual(['g5.2xlarge', 'g6.2xlarge']);
    expect(platformRegionViolations(platformIn('us-east-1'), config, offerings)).toEqual([]);
    // us-west-1 (enabled by default) sells neither default GPU type: the first cdk deploy of TesseraPlatform failed at the GPU node group.
    expect(platformRegionViolations(platformIn('us-west-1'), config, offerings)).toEqual([
      expect.stringMatching(/^TesseraPlatform \(us-west-1\): SharedComputeKubernetesGpuNodesNodegroup\w+ \(AWS::EKS::Nodegroup\) InstanceTypes\[0\] g5\.2xlarge is not offered in us-west-1: set sharedCluster\.gpu\.instanceTypes\[0\] to one offered in us-west-1, or choose another Region \(homeRegion\)$/),
      expect.stringMatching(/ InstanceTypes\[1\] g6\.2xlarge is not offered in us-west-1: set sharedCluster\.gpu\.instanceTypes\[1\] /),
    ]);
    // ca-west-1 sells no m7i: the system node group, named by its own key.
    expect(platformRegionViolations(platformIn('ca-west-1'), config, offerings)).toContainEqual(
      expect.stringMatching(/^TesseraPlatform \(ca-west-1\): SharedComputeKubernetesClusterNodegroupSystemNodes\w+ \(AWS::EKS::Nodegroup\) InstanceTypes\[0\] m7i\.xlarge is not offered in ca-west-1: set sharedCluster\.systemNodes\.instanceType to one offered in ca-west-1/));
    expect(platformRegionViolations(platformIn('xx-east-9'), config, offerings)).toEqual([expect.stringMatching(/^TesseraPlatform \(xx-east-9\): cfn-lint \(.+\) has no Region data for xx-east-9/)]);
  });

  it('reads the DB instance class data per engine (an Aurora-only class is not sold for postgres)', () => {
    expect(offerings.dbInstanceClassOffered('us-east-1', { Engine: 'postgres' }, 'db.t4g.medium')).toBe(true);
    expect(offerings.dbInstanceClassOffered('us-east-1', { Engine: 'Postgres' }, 'db.serverless')).toBe(false);
    expect(offerings.dbInstanceClassOffered('us-east-1', { Engine: 'no-such-engine' }, 'db.t4g.medium')).toBeUndefined();
  });

  it('is a service rule over the tier blueprint and the tier\'s other stacks', async () => {
    const rule = SERVICE_RULES.find((r) => r.id === 'offered-in-region')!;
    const config = configWith(homedIn('ca-west-1'));
    const t = tierOf(loaded, 'starter');
    const namespace = { blueprint: 'starter-namespace.template.json', inst: inRegion(t.namespace!, 'ca-west-1'), deployedBefore: [] };
    const violations = await rule.check({ inst: inRegion(t.tenant, 'ca-west-1'), tierName: 'starter', tier: config.tiers.starter, config, alsoDeployed: [namespace] });
    expect(violations).toEqual([expect.stringMatching(/^starter\.template\.json \(ca-west-1\): DatabaseInstance\w+ .* db\.t4g\.medium/)]);
  });
});
