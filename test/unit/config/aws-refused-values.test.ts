import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { catalogInstanceTypes, ec2Architecture } from '../../../lib/config/instance-catalog.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { LOG_RETENTION_DAYS, MAX_AUTOSCALED_ALLOCATED_GIB, minMaxAllocatedStorageGiB } from '../../../lib/config/schema.js';
import { configErrorOf } from '../../support/config-errors.js';

/**
 * Config values that pass zod's ranges but that AWS refuses at deploy time: each fails synth with
 * the key's path, the value and the rule.
 */
describe('config values AWS would refuse', () => {
  describe('database.maxAllocatedStorageGiB (RDS: at least 10% above allocated storage)', () => {
    it('the floor is allocated storage plus 10%, rounded up to a whole GiB', () => {
      expect(minMaxAllocatedStorageGiB(20)).toBe(22);
      expect(minMaxAllocatedStorageGiB(100)).toBe(110);
      expect(minMaxAllocatedStorageGiB(1000)).toBe(1100); // the RDS User Guide's example
      expect(minMaxAllocatedStorageGiB(25)).toBe(28); // 27.5 → 28
    });

    it.each([
      ['equal to allocated storage', 100, 100],
      ['one GiB under the floor', 100, 109],
      ['below allocated storage', 200, 150],
    ])('rejects a maximum %s', (_name, allocated, max) => {
      const message = configErrorOf({ tiers: { professional: { database: { allocatedStorageGiB: allocated, maxAllocatedStorageGiB: max } } } });
      expect(message).toContain(`tiers.professional.database.maxAllocatedStorageGiB = ${max}: ${max} GiB is less than 10% above allocatedStorageGiB (${allocated})`);
      expect(message).toMatch(/at least 10% greater than the allocated storage \(else "Invalid max storage size"\)/);
      expect(message).toContain(`set it to at least ${minMaxAllocatedStorageGiB(allocated)}`);
    });

    it('refuses an allocatedStorageGiB whose 10% floor is past RDS\'s 65,536 GiB, naming the largest that autoscales', () => {
      expect(MAX_AUTOSCALED_ALLOCATED_GIB).toBe(59578);
      expect(minMaxAllocatedStorageGiB(MAX_AUTOSCALED_ALLOCATED_GIB)).toBe(65536);
      expect(minMaxAllocatedStorageGiB(MAX_AUTOSCALED_ALLOCATED_GIB + 1)).toBe(65537);
      // Until 2026-12-07 the message was "set it (maxAllocatedStorageGiB) to at least 66000", a value the schema refuses too.
      const message = configErrorOf({ tiers: { professional: { database: { allocatedStorageGiB: 60000, maxAllocatedStorageGiB: 65536 } } } });
      expect(message).toContain('tiers.professional.database.allocatedStorageGiB = 60000: leaves no room for storage autoscaling: maxAllocatedStorageGiB must be at least 10% above it (66000), and RDS storage ends at 65536 GiB; set allocatedStorageGiB to at most 59578');
      expect(message).not.toContain('set it to at least 66000');
      expect(() => loadConfig({ overrides: { tiers: { professional: { database: { allocatedStorageGiB: 59578, maxAllocatedStorageGiB: 65536 } } } } })).not.toThrow();
    });

    it('accepts the floor itself and the default tiers (20/100, 100/500, 200/2000)', () => {
      expect(() => loadConfig({ overrides: { tiers: { professional: { database: { allocatedStorageGiB: 100, maxAllocatedStorageGiB: 110 } } } } })).not.toThrow();
      const tiers = loadConfig().tiers;
      expect(Object.values(tiers).map((t) => [t.database.allocatedStorageGiB, t.database.maxAllocatedStorageGiB])).toEqual([[20, 100], [100, 500], [200, 2000]]);
    });
  });
});

describe('log retentions (CloudWatch Logs: a fixed list of day counts)', () => {
  it('LOG_RETENTION_DAYS is exactly the list CDK offers as logs.RetentionDays (INFINITE aside)', () => {
    const cdk = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number' && v !== logs.RetentionDays.INFINITE);
    expect([...new Set(cdk)].sort((a, b) => a - b)).toEqual([...LOG_RETENTION_DAYS]);
  });

  // audit.logRetentionDays is the only config key that becomes a log retention (the trail's log
  // group, lib/platform-stack.ts); every other log group's retention is fixed in its construct.
  it.each([
    [0, '1'],
    [2, '1 or 3'],
    [366, '365 or 400'],
    [730, '545 or 731'],
    [3650, '3288 or 3653'],
    [3654, '3653'],
  ])('rejects audit.logRetentionDays = %s, naming the nearest accepted values (%s)', (days, nearest) => {
    const message = configErrorOf({ audit: { logRetentionDays: days } });
    expect(message).toContain(`audit.logRetentionDays = ${days}: ${days} days is not a retention CloudWatch Logs accepts (PutRetentionPolicy takes only 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653): use ${nearest}\n`.trimEnd());
  });

  it.each(LOG_RETENTION_DAYS.map((d) => [d]))('accepts audit.logRetentionDays = %s', (days) => {
    expect(loadConfig({ overrides: { audit: { logRetentionDays: days } } }).audit.logRetentionDays).toBe(days);
  });

  it('no config key other than audit.logRetentionDays feeds a log group retention', () => {
    // Every `retention:` / `logRetention:` given to a LogGroup or construct, from config: only the audit trail's.
    const fromConfig = grepSources(/(?:logRetention|retention|flowLogRetention)\s*:\s*(?:props\.)?(?:config|tier)\b[^,)}]*/g);
    expect(fromConfig).toEqual(['lib/platform-stack.ts: logRetention: config.audit.logRetentionDays']);
  });
});

describe('system node instance types (the AL2023 x86_64 AMI)', () => {
  it.each([
    ['sharedCluster.systemNodes.instanceType', { sharedCluster: { systemNodes: { instanceType: 'm7g.xlarge' } } }],
    ['tiers.enterprise.compute.systemNodes.instanceType', { tiers: { enterprise: { compute: { systemNodes: { instanceType: 'm7g.xlarge' } } } } }],
  ])('refuses a Graviton type for %s (CDK would die with AmiTypeDoesNotMatchInstanceArchitecture)', (path, overrides) => {
    const message = configErrorOf(overrides);
    expect(message).toContain(`${path} = "m7g.xlarge": is an AWS Graviton (arm64) type, but system nodes run the Amazon Linux 2023 x86_64 AMI (AL2023_x86_64_STANDARD)`);
    expect(message).toMatch(/use an x86_64 family, one of m6i, m7i, c7i, t3$/m);
  });

  it('still accepts every x86_64 general-purpose size, and still refuses sizes AWS does not sell', () => {
    for (const type of catalogInstanceTypes().general.filter((t) => ec2Architecture(t) === 'x86_64')) {
      expect(loadConfig({ overrides: { sharedCluster: { systemNodes: { instanceType: type } } } }).sharedCluster.systemNodes.instanceType).toBe(type);
    }
    expect(configErrorOf({ sharedCluster: { systemNodes: { instanceType: 'm7g.nano' } } })).toMatch(/sharedCluster\.systemNodes\.instanceType = "m7g\.nano": is not an EC2 instance type AWS sells/);
  });

  it('ec2Architecture agrees with CDK (the check that crashes synth) on every type of the catalog, and every GPU type is x86_64 like the GPU AMI types', () => {
    const { gpu, general } = catalogInstanceTypes();
    for (const type of [...gpu, ...general, 'a1.large', 'c7gn.xlarge', 'g5g.xlarge', 'r8g.large', 'p5en.48xlarge', 'gr6.4xlarge']) {
      const cdk = new ec2.InstanceType(type).architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64';
      expect([type, ec2Architecture(type)]).toEqual([type, cdk]);
    }
    expect(gpu.filter((t) => ec2Architecture(t) !== 'x86_64')).toEqual([]);
    expect(general.filter((t) => ec2Architecture(t) === 'arm64').map((t) => t.split('.')[0])).toContain('m7g');
  });
});

describe('GPU node groups\' instance types (EKS CreateNodegroup instanceTypes)', () => {
  it.each([
    ['sharedCluster.gpu.instanceTypes', { sharedCluster: { gpu: { instanceTypes: ['g5.2xlarge', 'g6.2xlarge', 'g5.2xlarge'] } } }],
    ['tiers.enterprise.compute.gpu.instanceTypes', { tiers: { enterprise: { compute: { gpu: { instanceTypes: ['g5.2xlarge', 'g5.2xlarge'] } } } } }],
  ])('refuses a type listed twice in %s (the config took it; doctor then named it twice)', (path, overrides) => {
    expect(configErrorOf(overrides)).toMatch(new RegExp(`${path.replace(/\./g, '\\.')}\\[\\d\\] = "g5\\.2xlarge": repeats g5\\.2xlarge \\(entry 0\\): list each instance type once`));
  });
});

describe('GPU node groups list at most 20 instance types (EKS CreateNodegroup: 0-20 instanceTypes)', () => {
  const types = ['g5', 'g6', 'g6e'].flatMap((f) => ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'].map((s) => `${f}.${s}`));
  it.each([
    ['sharedCluster.gpu.instanceTypes', (list: string[]) => ({ sharedCluster: { gpu: { instanceTypes: list } } })],
    ['tiers.enterprise.compute.gpu.instanceTypes', (list: string[]) => ({ tiers: { enterprise: { compute: { gpu: { instanceTypes: list } } } } })],
  ])('refuses 21 types in %s and accepts 20', (path, overrides) => {
    expect(types).toHaveLength(21);
    const message = configErrorOf(overrides(types));
    expect(message).toContain(`${path} = ["g5.xlarge",`);
    expect(message).toMatch(/: must list at most 20 instance types: EKS CreateNodegroup takes 0-20 instanceTypes/);
    expect(() => loadConfig({ overrides: overrides(types.slice(0, 20)) })).not.toThrow();
  });
});

describe('system node groups start with a node (CoreDNS, the CPU pods and the Cluster Autoscaler run there; nothing brings up the first)', () => {
  it.each([
    ['sharedCluster.systemNodes', 'minSize', { sharedCluster: { systemNodes: { minSize: 0, maxSize: 2 } } }],
    ['tiers.enterprise.compute.systemNodes', 'minSize', { tiers: { enterprise: { compute: { systemNodes: { minSize: 0, maxSize: 3 } } } } }],
    ['sharedCluster.systemNodes', 'desiredSize', { sharedCluster: { systemNodes: { minSize: 0, maxSize: 2, desiredSize: 0 } } }],
  ])('refuses %s starting at 0 nodes (named at %s)', (path, key, overrides) => {
    expect(configErrorOf(overrides)).toContain(`${path}.${key} = 0: starts the system node group with 0 nodes (desiredSize, else minSize, is the node count the group starts with, and nothing brings up its first node: the Cluster Autoscaler runs on these nodes itself), so CoreDNS and every CPU pod would stay Pending: set ${key} to at least 1`);
  });

  it('accepts minSize 0 with a desiredSize of at least 1, and the defaults (2 nodes)', () => {
    expect(loadConfig({ overrides: { sharedCluster: { systemNodes: { minSize: 0, maxSize: 2, desiredSize: 1 } } } }).sharedCluster.systemNodes.desiredSize).toBe(1);
    expect(loadConfig().sharedCluster.systemNodes.minSize).toBe(2);
  });
});

describe('compute subnets too small for the interface endpoints, EKS and a node', () => {
  it.each([
    // /24, 3 AZs with egress: 9 subnets of /28, 11 usable; 13 endpoints + 6 EKS + 16 = 35.
    ['enterprise', { tenantVpcPrefixLength: 24 }, 'a /24 VPC split into 9 subnets (data, compute, egress in each of 3 AZs) has /28 subnets with 11 usable addresses each (AWS reserves 5 per subnet), but each compute subnet needs 35: 13 interface endpoint network interfaces (one per endpoint per subnet) + 6 for the EKS control plane (EKS requires at least 6 per cluster subnet) + 16 for nodes and jobs', '/22'],
    ['enterprise', { tenantVpcPrefixLength: 23 }, 'a /23 VPC split into 9 subnets (data, compute, egress in each of 3 AZs) has /27 subnets with 27 usable addresses each', '/22'],
    // A shared tier that trains: the 8 workload endpoints (SageMaker jobs run there), no EKS.
    ['professional', { tenantVpcPrefixLength: 24, maxAzs: 3 }, 'a /24 VPC split into 9 subnets (data, compute, egress in each of 3 AZs) has /28 subnets with 11 usable addresses each (AWS reserves 5 per subnet), but each compute subnet needs 24: 8 interface endpoint network interfaces (one per endpoint per subnet) + 16 for nodes and jobs', '/23'],
  ])('refuses tiers.%s.network %o', (tier, network, rule, fits) => {
    const message = configErrorOf({ tiers: { [tier]: { network } } });
    expect(message).toContain(`tiers.${tier}.network.tenantVpcPrefixLength = ${network.tenantVpcPrefixLength}: ${rule}`);
    expect(message).toContain(`use a prefix length of ${fits} or less`);
  });

  it('accepts the smallest VPCs that fit, and any size for a tier whose compute subnets hold no endpoint', () => {
    expect(() => loadConfig({ overrides: { tiers: { enterprise: { network: { tenantVpcPrefixLength: 22 } } } } })).not.toThrow();
    expect(() => loadConfig({ overrides: { tiers: { professional: { network: { tenantVpcPrefixLength: 24 } } } } })).not.toThrow(); // 6 subnets of /27: 27 >= 24
    // starter: shared compute, no training, so no interface endpoint in its VPC.
    expect(() => loadConfig({ overrides: { tiers: { starter: { network: { tenantVpcPrefixLength: 24, maxAzs: 3, internetEgress: true } } } } })).not.toThrow();
  });

  it('refuses a platform VPC too small for the shared cluster, and says nothing of it when no tier uses the shared cluster', () => {
    expect(configErrorOf({ platformNetwork: { cidr: '10.0.0.0/27' } })).toContain(
      'platformNetwork.cidr = "10.0.0.0/27": is the shared cluster\'s VPC: a /27 VPC split into 4 subnets (data, compute in each of 2 AZs) has /29 subnets, smaller than the /28 AWS allows, but each compute subnet needs 35');
    expect(() => loadConfig({ overrides: { platformNetwork: { cidr: '10.0.0.0/24' } } })).not.toThrow();
    const noShared = { tiers: { starter: null, professional: null }, defaultTier: 'enterprise' };
    expect(() => loadConfig({ overrides: { ...noShared, platformNetwork: { cidr: '10.0.0.0/27' } } })).not.toThrow();
  });
});

describe('the platform VPC\'s CIDR (CreateVpc: /16 to /28)', () => {
  it.each(['172.16.0.0/12', '192.168.0.0/15'])('refuses platformNetwork.cidr = %s when a tier uses the shared cluster (it synthesized clean and failed at CreateVpc)', (cidr) => {
    const prefix = cidr.split('/')[1];
    expect(configErrorOf({ platformNetwork: { cidr } })).toContain(
      `platformNetwork.cidr = "${cidr}": is the shared cluster's VPC: a /${prefix} cannot be a VPC's CIDR block, CreateVpc accepts /16 (65,536 addresses) to /28 (16 addresses): use a prefix length from 16 to 28`);
  });

  it('accepts /16, and a larger range when no tier uses the shared cluster (then no platform VPC is built)', () => {
    expect(loadConfig({ overrides: { platformNetwork: { cidr: '172.16.0.0/16' } } }).platformNetwork.cidr).toBe('172.16.0.0/16');
    const noShared = { tiers: { starter: null, professional: null }, defaultTier: 'enterprise' };
    expect(() => loadConfig({ overrides: { ...noShared, platformNetwork: { cidr: '172.16.0.0/12' } } })).not.toThrow();
  });
});

describe('CIDRs in canonical form only (an octet or prefix with a leading zero is ambiguous)', () => {
  // inet_aton and many tools read 010 as octal 8, others as decimal 10 (Python's ipaddress refuses it
  // since 3.9.5, CVE-2021-29921); the config compared 010.0.0.0/16 as 10.0.0.0/16 and handed the
  // text as is to CreateVpc.
  it.each([
    ['platformNetwork.cidr', '010.0.0.0/16', { platformNetwork: { cidr: '010.0.0.0/16' } }],
    ['platformNetwork.cidr', '10.0.00.0/16', { platformNetwork: { cidr: '10.0.00.0/16' } }],
    ['platformNetwork.cidr', '10.0.0.0/016', { platformNetwork: { cidr: '10.0.0.0/016' } }],
    ['platformNetwork.cidr', '10.0.0.0/08', { tiers: { starter: null, professional: null }, defaultTier: 'enterprise', platformNetwork: { cidr: '10.0.0.0/08' } }],
    ['tiers.enterprise.network.tenantCidrPool', '10.128.000.0/16', { tiers: { enterprise: { network: { tenantCidrPool: '10.128.000.0/16' } } } }],
  ])('refuses %s = %s', (path, value, overrides) => {
    expect(configErrorOf(overrides)).toContain(`${path} = "${value}": must be an IPv4 network in CIDR form such as 10.0.0.0/16`);
  });

  it('still accepts canonical ranges, zero octets included', () => {
    expect(loadConfig({ overrides: { platformNetwork: { cidr: '10.0.0.0/16' } } }).platformNetwork.cidr).toBe('10.0.0.0/16');
    expect(loadConfig({ overrides: { platformNetwork: { cidr: '100.64.0.0/20' } } }).platformNetwork.cidr).toBe('100.64.0.0/20');
  });
});

describe('SageMaker instance types per API (CreateTrainingJob, CreateEndpointConfig: each its own enum)', () => {
  it.each([
    ['instanceTypes', 'ml.m7g.xlarge', 'training jobs: CreateTrainingJob (ResourceConfig.InstanceType) refuses it'],
    ['instanceTypes', 'ml.g4dn.metal', 'training jobs: CreateTrainingJob (ResourceConfig.InstanceType) refuses it'],
    ['endpointInstanceTypes', 'ml.t3.medium', 'endpoints: CreateEndpointConfig (ProductionVariant.InstanceType) refuses it'],
    ['endpointInstanceTypes', 'ml.p3dn.24xlarge', 'endpoints: CreateEndpointConfig (ProductionVariant.InstanceType) refuses it'],
    ['endpointInstanceTypes', 'ml.m7g.large', 'endpoints: CreateEndpointConfig (ProductionVariant.InstanceType) refuses it'],
  ])('refuses tiers.professional.training.%s = [%s] (the schema took it; SageMaker would refuse the job or endpoint)', (key, type, rule) => {
    expect(configErrorOf({ tiers: { professional: { training: { [key]: [type] } } } })).toContain(
      `tiers.professional.training.${key}[0] = "${type}": is not an instance type SageMaker offers for ${rule}`);
  });

  it.each(['ml.g5.2xlarge ', 'ml.G5.2xlarge', 'ml.g5'])('refuses %j saying the form with its ml. prefix (was "expected family.size, e.g. g4dn.xlarge", the EC2 form)', (type) => {
    const message = configErrorOf({ tiers: { professional: { training: { instanceTypes: [type] } } } });
    expect(message).toContain(`tiers.professional.training.instanceTypes[0] = ${JSON.stringify(type)}: is not a SageMaker instance type (expected ml.family.size, e.g. ml.`);
  });

  it('accepts every other type of the catalog for each, and each accepted type is in botocore\'s enum of that API (the API Reference\'s valid values)', () => {
    const enums = sageMakerEnums();
    const { gpu, general } = catalogInstanceTypes();
    const catalog = [...gpu, ...general, 'm5.large', 'm5.xlarge', 'm5.2xlarge', 'm5.4xlarge', 'm5.12xlarge', 'm5.24xlarge'].map((t) => `ml.${t}`);
    for (const [key, enumName] of [['instanceTypes', 'TrainingInstanceType'], ['endpointInstanceTypes', 'ProductionVariantInstanceType']] as const) {
      const accepted = catalog.filter((type) => { try { loadConfig({ overrides: { tiers: { professional: { training: { [key]: [type] } } } } }); return true; } catch { return false; } });
      expect(accepted.length).toBeGreaterThan(40);
      expect(accepted.filter((t) => !enums[enumName].includes(t)), `accepted but not in botocore ${enums.version}'s ${enumName}`).toEqual([]);
      // and the other way: a type refused must be one the API refuses (a newer botocore that adds one says so here)
      const refused = catalog.filter((t) => !accepted.includes(t));
      expect(refused.filter((t) => enums[enumName].includes(t)), `refused for ${key} but in botocore ${enums.version}'s ${enumName}: update SAGEMAKER_REFUSED or the catalog (lib/config/instance-catalog.ts)`).toEqual([]);
    }
  });
});

/**
 * SageMaker's instance-type enums from the botocore installed in .venv (node scripts/ensure-moto.mjs
 * installs moto, which brings it; its version is moto's choice, not pinned), with that version.
 * @throws Error naming what is missing (no .venv, no botocore, no such shape) and how to get it
 */
function sageMakerEnums(): Record<'TrainingInstanceType' | 'ProductionVariantInstanceType', string[]> & { version: string } {
  const lib = join(__dirname, '../../../.venv/lib');
  const python = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('python')) : undefined;
  const site = python && join(lib, python, 'site-packages');
  const dist = site && existsSync(site) ? readdirSync(site).find((d) => /^botocore-.*\.dist-info$/.test(d)) : undefined;
  if (!site || !dist) throw new Error(`no botocore in ${lib}/python*/site-packages: run node scripts/ensure-moto.mjs (moto brings botocore)`);
  const version = dist.replace(/^botocore-/, '').replace(/\.dist-info$/, '');
  const data = join(site, 'botocore/data/sagemaker');
  const model = JSON.parse(gunzipSync(readFileSync(join(data, readdirSync(data).sort().at(-1)!, 'service-2.json.gz'))).toString('utf8')) as { shapes: Record<string, { enum?: string[] }> };
  const shape = (name: string) => {
    const values = model.shapes[name]?.enum;
    if (!values) throw new Error(`botocore ${version}'s SageMaker model has no enum ${name} (renamed?): compare with the API Reference's valid values`);
    return values;
  };
  return { version, TrainingInstanceType: shape('TrainingInstanceType'), ProductionVariantInstanceType: shape('ProductionVariantInstanceType') };
}

describe('regions of another partition', () => {
  it.each([
    ['homeRegion', { homeRegion: 'cn-north-1', allowedRegions: ['cn-north-1'] }, '"cn-north-1"'],
    ['allowedRegions[1]', { allowedRegions: ['us-east-1', 'cn-northwest-1'] }, '"cn-northwest-1"'],
  ])('refuses an AWS China region at %s, with the reason (synth died later on the platform stack without a path)', (path, overrides, value) => {
    expect(configErrorOf(overrides)).toContain(`${path} = ${value}: is an AWS China region (partition aws-cn), which Tessera does not support: use a region of the aws partition`);
  });
});

describe('regions of the isolated and sovereign partitions (real region names, not typos)', () => {
  it.each([
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
    ['eusc-de-east-1', 'aws-eusc'],
  ])('refuses homeRegion %s naming its partition %s (was "must be an AWS region name such as us-east-1")', (r, partition) => {
    const message = configErrorOf({ homeRegion: r, allowedRegions: [r] });
    expect(message).toContain(`homeRegion = "${r}": is a region of the ${partition} partition, which Tessera does not support: use a region of the aws partition`);
    expect(message).not.toContain('must be an AWS region name');
  });

  it.each(['US-EAST-1', ' us-east-1', 'us-east-1 ', 'us-east', 'us-isob-east'])('still calls %j not a region name', (r) => {
    expect(configErrorOf({ homeRegion: r, allowedRegions: [r] })).toContain(`homeRegion = ${JSON.stringify(r)}: must be an AWS region name such as us-east-1`);
  });
});

function grepSources(pattern: RegExp): string[] {
  const root = join(__dirname, '../../..');
  const hits: string[] = [];
  for (const dir of ['lib', 'constructs', 'bin']) {
    for (const file of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join(root, dir, file), 'utf8');
      for (const m of text.matchAll(pattern)) hits.push(`${dir}/${file}: ${m[0].trim()}`);
    }
  }
  return hits.sort();
}
