import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { ConfigError, loadConfig } from '../../lib/config/load-config.js';
import { tempDir } from '../support/temp-dirs.js';

/** The error a config override produces, as text (fails the test when none is thrown). */
function errorOf(overrides: unknown): string {
  try {
    loadConfig({ overrides });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(overrides)} to be rejected`);
}

describe('platform config', () => {
  it('the embedded default is valid and defines the three default tiers', () => {
    // WHEN
    const config = loadConfig();
    // THEN
    expect(Object.keys(config.tiers)).toEqual(['starter', 'professional', 'enterprise']);
    expect(config.tiers.enterprise.isolation).toBe('account');
    expect(config.tiers.enterprise.compute).toMatchObject({ mode: 'dedicated', gpu: { minSize: 1, maxSize: 5, diskSizeGiB: 200 } });
    expect(config.tiers.starter.limits).toMatchObject({ requestsPerMinute: 100, requestsPerHour: 1_000, requestsPerDay: 10_000 });
  });

  // GIVEN an invalid override, THEN synth fails naming the key path and the bad value.
  it.each([
    ['unknown tier', { defaultTier: 'gold' }, /defaultTier = "gold": is not a defined tier \(tiers: starter, professional, enterprise\)/],
    [
      'an instance type AWS does not sell',
      { tiers: { enterprise: { compute: { gpu: { instanceTypes: ['g5.2xlarge', 'p4d.xlarge'] } } } } },
      /tiers\.enterprise\.compute\.gpu\.instanceTypes\[1\] = "p4d\.xlarge": is not an EC2 GPU instance type AWS sells: p4d comes only as p4d\.24xlarge/,
    ],
    [
      'an unknown GPU family',
      { sharedCluster: { gpu: { instanceTypes: ['x9.large'] } } },
      /sharedCluster\.gpu\.instanceTypes\[0\] = "x9\.large": .*family "x9" is not one of/,
    ],
    [
      'GPU min greater than max',
      { tiers: { enterprise: { compute: { gpu: { minSize: 6, maxSize: 5 } } } } },
      /tiers\.enterprise\.compute\.gpu\.minSize = 6: must not exceed maxSize \(5\)/,
    ],
    [
      'overlapping CIDRs between tiers',
      { tiers: { professional: { network: { tenantCidrPool: '10.64.0.0/10' } } } },
      /tiers\.professional\.network\.tenantCidrPool = "10\.64\.0\.0\/10": overlaps tiers\.starter\.network\.tenantCidrPool \(10\.64\.0\.0\/12\)/,
    ],
    [
      'a tenant pool overlapping the platform VPC',
      { platformNetwork: { cidr: '10.96.0.0/16' } },
      /tiers\.enterprise\.network\.tenantCidrPool = "10\.96\.0\.0\/12": overlaps platformNetwork\.cidr \(10\.96\.0\.0\/16\)/,
    ],
    ['a malformed CIDR', { platformNetwork: { cidr: '10.0.0.1/16' } }, /platformNetwork\.cidr = "10\.0\.0\.1\/16": must be an IPv4 network in CIDR form/],
    ['a malformed account id', { platformAccountId: '12345' }, /platformAccountId = "12345": must be a 12-digit AWS account id/],
    ['a malformed management account id', { organization: { managementAccountId: 'abc' } }, /organization\.managementAccountId = "abc": must be a 12-digit/],
    ['a region outside the allowed list', { homeRegion: 'eu-west-1' }, /homeRegion = "eu-west-1": is outside allowedRegions \(us-east-1, us-west-2\)/],
    ['a malformed region', { allowedRegions: ['us-east-1', 'mars-1'] }, /allowedRegions\[1\] = "mars-1": must be an AWS region name/],
    ['a database on the default port', { tiers: { starter: { database: { port: 5432 } } } }, /tiers\.starter\.database\.port = 5432: must not be PostgreSQL's default port 5432/],
    ['a cache on the default port', { tiers: { starter: { cache: { port: 6379 } } } }, /tiers\.starter\.cache\.port = 6379: must not be Valkey's default port 6379/],
    ['an RDS class AWS does not sell', { tiers: { starter: { database: { instanceClass: 'db.t4g.huge' } } } }, /tiers\.starter\.database\.instanceClass = "db\.t4g\.huge": is not an RDS instance type AWS sells/],
    ['a Multi-AZ cache without replicas', { tiers: { professional: { cache: { replicasPerShard: 0 } } } }, /tiers\.professional\.cache\.replicasPerShard = 0: must be at least 1 when cache\.multiAz is true/],
    ['shared compute for an account-isolated tier', { tiers: { enterprise: { compute: { mode: 'shared', quota: { cpu: 1, memoryGiB: 1, gpus: 0, pods: 1 } } } } }, /tiers\.enterprise\.compute\.mode = "shared": cannot be "shared" for an account-isolated tier/],
    ['a tenant-admin role pattern that starts with a wildcard', { roles: { tenantAdminRoleNamePatterns: ['*'] } }, /roles\.tenantAdminRoleNamePatterns\[0\] = "\*": must start with a literal path or name, not "\/" or a wildcard: a leading wildcard would admit any platform-account role able to tag itself/],
    ['a tenant-admin role pattern with a leading slash', { roles: { tenantAdminRoleNamePatterns: ['/okta/TesseraTenantAdmin-*'] } }, /roles\.tenantAdminRoleNamePatterns\[0\] = "\/okta\/TesseraTenantAdmin-\*": must start with a literal path or name/],
    ['a tenant-admin role given as an ARN', { roles: { tenantAdminRoleNamePatterns: ['arn:aws:iam::222222222222:role/okta/Admin'] } }, /must be the role's path and name after "role\/" \(e\.g\. "okta\/TesseraTenantAdmin-\*"\), not its ARN/],
    ['a dedicated cluster in a VPC-isolated tier (shared workload account)', { tiers: { enterprise: { isolation: 'vpc' } } }, /tiers\.enterprise\.compute\.mode = "dedicated": cannot be "dedicated" for a VPC-isolated tier: .*AmazonEKS_CNI_Policy.*use isolation "account"/],
    ['a dedicated cluster on a GPU AMI without the device plugin', { tiers: { enterprise: { compute: { gpu: { amiType: 'AL2023_x86_64_NVIDIA' } } } } }, /tiers\.enterprise\.compute\.gpu\.amiType = "AL2023_x86_64_NVIDIA": must be BOTTLEROCKET_x86_64_NVIDIA/],
    ['an unknown isolation mode', { tiers: { starter: { isolation: 'cluster' } } }, /tiers\.starter\.isolation = "cluster"/],
    ['a tier VPC larger than its pool', { tiers: { starter: { network: { tenantCidrPool: '10.64.0.0/20', tenantVpcPrefixLength: 18 } } } }, /tiers\.starter\.network\.tenantVpcPrefixLength = 18: must be at least the pool's prefix length \(\/20\)/],
  ])('rejects %s', (_name, overrides, expected) => {
    expect(errorOf(overrides)).toMatch(expected);
  });

  it('reports every problem at once, not only the first', () => {
    const message = errorOf({ platformAccountId: '1', homeRegion: 'eu-west-1' });
    expect(message).toMatch(/platformAccountId = "1"/);
    expect(message).toMatch(/homeRegion = "eu-west-1"/);
  });

  it('merges a YAML file and then context overrides over the default', () => {
    // GIVEN
    const dir = tempDir('tessera-config-');
    const file = join(dir, 'tessera.yaml');
    writeFileSync(file, 'platformAccountId: "444444444444"\ntiers:\n  starter: null\n  enterprise:\n    compute:\n      gpu:\n        maxSize: 8\ndefaultTier: professional\n');
    // WHEN
    const config = loadConfig({ file, overrides: JSON.stringify({ workloadAccountId: '555555555555' }) });
    // THEN
    expect(config.platformAccountId).toBe('444444444444');
    expect(config.workloadAccountId).toBe('555555555555');
    expect(Object.keys(config.tiers)).toEqual(['professional', 'enterprise']);
    expect(config.tiers.enterprise.compute).toMatchObject({ gpu: { maxSize: 8, minSize: 1 } });
    expect(config.organization).toEqual(DEFAULT_CONFIG.organization);
  });

  it('names the file when it cannot be read or parsed', () => {
    const dir = tempDir('tessera-config-');
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'tiers: [unclosed');
    expect(() => loadConfig({ file: join(dir, 'missing.yaml') })).toThrow(/missing\.yaml.*cannot read the config file/s);
    expect(() => loadConfig({ file: broken })).toThrow(/broken\.yaml.*is not valid YAML\/JSON/s);
  });

  it('rejects context overrides that are not JSON', () => {
    expect(() => loadConfig({ overrides: '{tiers:' })).toThrow(/context tessera:config.*is not valid JSON/s);
  });
});
