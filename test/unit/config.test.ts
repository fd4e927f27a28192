import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { ConfigError, loadConfig, refuseUnknownContextKeys } from '../../lib/config/load-config.js';
import { PlatformConfigSchema } from '../../lib/config/schema.js';
import { configErrorOf } from '../support/config-errors.js';
import { tempDir } from '../support/temp-dirs.js';

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
    ['unknown tier', { defaultTier: 'gold' }, /defaultTier = "gold": is not a defined tier: set it to one of starter, professional, enterprise, or define it under tiers/],
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
      /tiers\.professional\.network\.tenantCidrPool = "10\.64\.0\.0\/10": overlaps the default tier's pool tiers\.starter\.network\.tenantCidrPool \(10\.64\.0\.0\/12\)/,
    ],
    [
      'a tenant pool overlapping the platform VPC',
      { platformNetwork: { cidr: '10.96.0.0/16' } },
      // s22: led by the user's key, not the default's (it read `embedded default: tiers.enterprise.network.tenantCidrPool …`).
      /^  - context tessera:config: platformNetwork\.cidr = "10\.96\.0\.0\/16": overlaps the default tier's pool tiers\.enterprise\.network\.tenantCidrPool \(10\.96\.0\.0\/12\); the shared cluster \(platform VPC\) reaches tenant VPCs by their ranges .*which cannot join overlapping ranges/m,
    ],
    ['a malformed CIDR', { platformNetwork: { cidr: '10.0.0/16' } }, /platformNetwork\.cidr = "10\.0\.0\/16": must be an IPv4 network in CIDR form/],
    ['a CIDR with host bits set', { platformNetwork: { cidr: '10.0.0.1/16' } }, /platformNetwork\.cidr = "10\.0\.0\.1\/16": has host bits set: 10\.0\.0\.1 is not the first address of a \/16; write the \/16 that holds it, 10\.0\.0\.0\/16/],
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
    ['the shared cluster on a GPU AMI without the device plugin (its chart and image are out of the egress-less platform VPC\'s reach)', { sharedCluster: { gpu: { amiType: 'AL2023_x86_64_NVIDIA' } } }, /sharedCluster\.gpu\.amiType = "AL2023_x86_64_NVIDIA": must be BOTTLEROCKET_x86_64_NVIDIA: AL2023 NVIDIA nodes need the NVIDIA device plugin/],
    ['a dedicated cluster on a GPU AMI without the device plugin', { tiers: { enterprise: { compute: { gpu: { amiType: 'AL2023_x86_64_NVIDIA' } } } } }, /tiers\.enterprise\.compute\.gpu\.amiType = "AL2023_x86_64_NVIDIA": must be BOTTLEROCKET_x86_64_NVIDIA/],
    ['an unknown isolation mode', { tiers: { starter: { isolation: 'cluster' } } }, /tiers\.starter\.isolation = "cluster"/],
    ['a tier VPC larger than its pool', { tiers: { starter: { network: { tenantCidrPool: '10.64.0.0/20', tenantVpcPrefixLength: 18 } } } }, /tiers\.starter\.network\.tenantVpcPrefixLength = 18: must be at least the pool's prefix length \(\/20\)/],
    // An external quarantine SCP is named by id, the id its IAM grant's ARN carries (never its name).
    ['an external quarantine SCP given by name', { organization: { externalQuarantinePolicies: [{ policyId: 'QuarantineAccounts' }] } }, /organization\.externalQuarantinePolicies\[0\]\.policyId = "QuarantineAccounts": must be an SCP id such as p-examplepolicy1 .*not its name or ARN/],
    ['FullAWSAccess as an external quarantine SCP', { organization: { externalQuarantinePolicies: [{ policyId: 'p-FullAWSAccess' }] } }, /organization\.externalQuarantinePolicies\[0\]\.policyId = "p-FullAWSAccess": is the AWS managed FullAWSAccess/],
    ['an external quarantine SCP listed twice', { organization: { externalQuarantinePolicies: [{ policyId: 'p-lzaquarantine1' }, { policyId: 'p-lzaquarantine1' }] } }, /organization\.externalQuarantinePolicies\[1\]\.policyId = "p-lzaquarantine1": lists p-lzaquarantine1 twice \(also at \[0\]\)/],
  ])('rejects %s', (_name, overrides, expected) => {
    expect(configErrorOf(overrides)).toMatch(expected);
  });

  it('reports every problem at once, not only the first', () => {
    const message = configErrorOf({ platformAccountId: '1', homeRegion: 'eu-west-1' });
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

  it('refuses an empty file, or one whose top is not a mapping, naming the file alone (new user 8)', () => {
    const dir = tempDir('tessera-config-');
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '# nothing yet\n');
    expect(() => loadConfig({ file: empty })).toThrow(`Invalid Tessera config (${empty}):\n  - is empty: a config file is a mapping of the keys it sets`);
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- homeRegion: us-east-1\n');
    expect(() => loadConfig({ file: list })).toThrow(`Invalid Tessera config (${list}):\n  - must be a mapping of keys at its top, not a list`);
  });

  it('rejects context overrides that are not JSON', () => {
    expect(() => loadConfig({ overrides: '{tiers:' })).toThrow(/context tessera:config.*is not valid JSON/s);
  });

  // Issue 13: strict config. GIVEN a config file with a mistake, THEN synth fails with one line
  // naming the file, the dotted path, the value and the fix (the nearest known key for a typo).
  describe('strict keys', () => {
    /** The error of the default merged with a YAML file written from `yaml` (the file is `tessera.yaml`). */
    function fileError(yaml: string): { message: string; file: string } {
      const file = join(tempDir('tessera-config-'), 'tessera.yaml');
      writeFileSync(file, yaml);
      try {
        loadConfig({ file });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return { message: (e as Error).message, file };
      }
      throw new Error(`expected ${JSON.stringify(yaml)} to be rejected`);
    }
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

    it.each([
      ['a nested typo', 'organization:\n  managmentAccountId: "444444444444"\n',
        'organization.managmentAccountId = "444444444444": is not a key of organization; did you mean `managementAccountId`?'],
      ['a top-level typo', 'homeRegoin: us-west-2\n',
        'homeRegoin = "us-west-2": is not a top-level key; did you mean `homeRegion`?'],
      ['a tier-level typo', 'tiers:\n  starter:\n    databse:\n      port: 5439\n',
        'tiers.starter.databse = {"port":5439}: is not a key of tiers.starter; did you mean `database`?'],
      ['a typo inside a tier section', 'tiers:\n  starter:\n    database:\n      multiAZ: true\n',
        'tiers.starter.database.multiAZ = true: is not a key of tiers.starter.database; did you mean `multiAz`?'],
      ['a typo in a dedicated cluster\'s GPU node group', 'tiers:\n  enterprise:\n    compute:\n      gpu:\n        maxSzie: 8\n',
        'tiers.enterprise.compute.gpu.maxSzie = 8: is not a key of tiers.enterprise.compute.gpu; did you mean `maxSize`?'],
      ['a typo in a list entry', 'gateway:\n  models:\n    - { id: openai/gpt-4o, upstream: gpt-4o, inputPricePer1k: 0.0025, outputPricePer1k: 0.01, maxOutputToken: 100 }\n',
        'gateway.models[0].maxOutputToken = 100: is not a key of gateway.models[0]; did you mean `maxOutputTokens`?'],
      ['an uppercase tier name', 'tiers:\n  Gold:\n    isolation: vpc\n',
        'tiers.Gold = {"isolation":"vpc"}: a tier name must be a lower-case DNS label of 2-31 characters: a-z, 0-9 and "-", starting with a letter and not ending with "-" (it becomes part of stack, role, DNS names and Kubernetes labels); rename it to `gold`'],
      ['an uppercase default tier', 'defaultTier: Starter\n',
        'defaultTier = "Starter": is not a valid tier name: a tier name must be a lower-case DNS label of 2-31 characters'],
      ['a null that removes nothing (misspelt tier)', 'tiers:\n  startr: null\n',
        'tiers.startr = null: removes nothing, tiers has no key "startr"; did you mean `starter`?'],
      ['a tier\'s key at the top level (deleteDefaultVpcs)', 'deleteDefaultVpcs: true\n',
        'deleteDefaultVpcs = true: is not a top-level key; it is a tier\'s key: put it under each tier it applies to, tiers.<tier>.deleteDefaultVpcs (this config\'s tiers: starter, professional, enterprise)'],
      ['a tier\'s key straight under tiers (ebsEncryptionByDefault)', 'tiers:\n  ebsEncryptionByDefault: true\n',
        'tiers.ebsEncryptionByDefault = true: is a tier\'s key, not a tier: `tiers` holds tiers by name; put it under each tier it applies to, tiers.<tier>.ebsEncryptionByDefault (this config\'s tiers: starter, professional, enterprise)'],
      ['a tier\'s key inside a tier section', 'tiers:\n  enterprise:\n    compute:\n      ebsEncryptionByDefault: true\n',
        'tiers.enterprise.compute.ebsEncryptionByDefault = true: is not a key of tiers.enterprise.compute; remove it or use one of mode, kubernetesVersion, systemNodes, gpu; or, a key of the tier itself, move it up to tiers.enterprise.ebsEncryptionByDefault'],
      ['a tier\'s key in another section', 'fineTuning:\n  deleteDefaultVpcs: true\n',
        'fineTuning.deleteDefaultVpcs = true: is not a key of fineTuning; it is a tier\'s key: put it under each tier it applies to, tiers.<tier>.deleteDefaultVpcs (this config\'s tiers: starter, professional, enterprise)'],
      ['an unknown key with no near match', 'organization:\n  costCenter: ai\n',
        'organization.costCenter = "ai": is not a key of organization; remove it or use one of managementAccountId, organizationId, rootId, quarantineOuName, suspendedOuName'],
    ])('rejects %s, naming the file, the path and the fix', (_name, yaml, expected) => {
      // WHEN
      const { message, file } = fileError(yaml);
      // THEN
      expect(message).toMatch(new RegExp(`^  - ${esc(file)}: ${esc(expected)}`, 'm'));
    });

    it('reports a misspelt tier override once, with the tier it most likely means', () => {
      const { message, file } = fileError('tiers:\n  profesional:\n    limits:\n      tokensPerDay: 5\n');
      expect(message.split('\n').filter((l) => l.includes('tiers.profesional'))).toEqual([
        `  - ${file}: tiers.profesional = {"limits":{"tokensPerDay":5}}: is a new tier missing required sections; did you mean \`professional\`? (to change a tier, use its name; a new tier must define isolation, network, database, cache, compute, limits, models and training)`,
      ]);
    });

    it('refuses a tier name ending in "-" (a Kubernetes label value must end alphanumeric) and a training tier with no base model', () => {
      expect(configErrorOf({ tiers: { 'ab-': structuredClone(DEFAULT_CONFIG.tiers.starter) } })).toMatch(/tiers\.ab- = .*not ending with "-".*rename it to `ab`/);
      expect(configErrorOf({ tiers: { professional: { training: { baseModels: [] } } } })).toMatch(/tiers\.professional\.training\.baseModels = \[\]: must name at least one base model \(or "\*"\) while training\.enabled is true/);
    });

    it('refuses a GovCloud region with the reason, instead of a synth that fails later without a path', () => {
      expect(configErrorOf({ homeRegion: 'us-gov-west-1', allowedRegions: ['us-gov-west-1'] })).toMatch(/homeRegion = "us-gov-west-1": is an AWS GovCloud region \(partition aws-us-gov\), which Tessera does not support yet/);
    });

    it('refuses two catalog models with one id (the second would be unreachable, its prices ignored)', () => {
      const models = [...DEFAULT_CONFIG.gateway.models, { ...DEFAULT_CONFIG.gateway.models[0]!, inputPricePer1k: 1 }];
      const duplicate = DEFAULT_CONFIG.gateway.models.length;
      expect(configErrorOf({ gateway: { models } })).toContain(`gateway.models[${duplicate}].id = "bedrock/anthropic.claude-3-5-haiku": duplicates model "bedrock/anthropic.claude-3-5-haiku" (entry 0)`);
    });

    it('suggests the nearest tier for a defaultTier that names none', () => {
      expect(configErrorOf({ defaultTier: 'startr' })).toMatch(/defaultTier = "startr": is not a defined tier: set it to one of starter, professional, enterprise, or define it under tiers; did you mean `starter`\?/);
    });

    it('reports an invalid tier name once, not once per missing key of its body', () => {
      const { message } = fileError('tiers:\n  Gold:\n    isolation: vpc\n');
      expect(message.split('\n').filter((l) => l.includes('tiers.Gold'))).toHaveLength(1);
    });

    it('names the context key when the typo comes from -c tessera:config', () => {
      expect(configErrorOf({ organization: { managmentAccountId: '444444444444' } }))
        .toMatch(/^ {2}- context tessera:config: organization\.managmentAccountId = "444444444444": is not a key of organization; did you mean `managementAccountId`\?$/m);
    });

    it('of known keys as near, suggests one the mapping does not set yet (gpu: gpus missing, cpu already set)', () => {
      // Before, `gpu` (one edit from both) was told `did you mean \`cpu\`?`, a key the quota already had.
      // A tier of its own (a copy of professional, as `tessera config defaults --tier professional` prints it), so no
      // default `gpus` merges under the quota.
      const gpuTeam = { ...structuredClone(DEFAULT_CONFIG.tiers.professional), network: { ...DEFAULT_CONFIG.tiers.professional.network, tenantCidrPool: '10.128.0.0/12' } };
      const message = configErrorOf({ tiers: { 'gpu-team': { ...gpuTeam, compute: { mode: 'shared', quota: { cpu: 16, memoryGiB: 64, gpu: 4, pods: 100 } } } } });
      expect(message).toMatch(/tiers\.gpu-team\.compute\.quota\.gpu = 4: is not a key of tiers\.gpu-team\.compute\.quota; did you mean `gpus`\?$/m);
      // A key the mapping sets stays the answer when it is the nearest: `cpuu` is one edit from cpu, two from gpus.
      expect(configErrorOf({ tiers: { professional: { compute: { mode: 'shared', quota: { cpu: 32, cpuu: 4, memoryGiB: 128, gpus: 2, pods: 200 } } } } }))
        .toMatch(/quota\.cpuu = 4: is not a key of tiers\.professional\.compute\.quota; did you mean `cpu`\?$/m);
    });

    it('names the source of each problem when file and context both have one', () => {
      const file = join(tempDir('tessera-config-'), 'tessera.yaml');
      writeFileSync(file, 'homeRegoin: us-west-2\n');
      expect(() => loadConfig({ file, overrides: { platformAcountId: '444444444444' } })).toThrow(
        new RegExp(`${esc(file)}: homeRegoin = .*\\n.*context tessera:config: platformAcountId = "444444444444": is not a top-level key; did you mean \`platformAccountId\`\\?`),
      );
    });

    it.each([
      ['a number given as a string', { gateway: { upstreamRetries: '3' } }, /gateway\.upstreamRetries = "3": must be a number, not the string "3": write 3 without quotes/],
      ['"Infinity" given as a string (no "without quotes": unquoted it is a string in YAML too)', { gateway: { upstreamRetries: 'Infinity' } }, /gateway\.upstreamRetries = "Infinity": must be a number, not the string "Infinity"(?!: write)/],
      ['an account id YAML read as a number', { platformAccountId: 12345678901 }, /platformAccountId = 12345678901: must be a string, not the number 12345678901: quote it/],
      ['a scalar where a list belongs', { allowedRegions: 'us-east-1' }, /allowedRegions = "us-east-1": must be a list, not the string "us-east-1": write it as a list, e\.g\. \["us-east-1"\]/],
      ['a misspelt enum value', { tiers: { starter: { isolation: 'vcp' } } }, /tiers\.starter\.isolation = "vcp": must be one of "account", "vpc"; did you mean `vpc`\?/],
      ['a misspelt compute mode', { tiers: { starter: { compute: { mode: 'shard' } } } }, /tiers\.starter\.compute\.mode = "shard": must be one of "none", "shared", "dedicated"; did you mean `shared`\?/],
      ['a number below its minimum', { audit: { objectLockRetentionDays: 0 } }, /audit\.objectLockRetentionDays = 0: must be at least 1/],
      ['an empty list', { gateway: { models: [] } }, /gateway\.models = \[\]: must list at least 1 item: add one/],
      ['a required key removed with null', { organization: { rootId: null } }, /organization\.rootId = \(missing\): is required: set it to a string/],
      ['a malformed role name', { roles: { provisioningRoleName: 'team/Provisioning' } }, /roles\.provisioningRoleName = "team\/Provisioning": must be an IAM role name: 1-64 characters of letters, digits and \+=,\.@_-, without a path/],
    ])('says what to do for %s', (_name, overrides, expected) => {
      expect(configErrorOf(overrides)).toMatch(expected);
    });

    it('allows a dedicated tier without GPUs (maxSize 0) and still refuses maxSize 0 for system nodes', () => {
      expect(loadConfig({ overrides: { tiers: { enterprise: { compute: { gpu: { minSize: 0, maxSize: 0 } } } } } }).tiers.enterprise.compute)
        .toMatchObject({ mode: 'dedicated', gpu: { minSize: 0, maxSize: 0 } });
      expect(configErrorOf({ tiers: { enterprise: { compute: { systemNodes: { minSize: 0, maxSize: 0 } } } } })).toMatch(/tiers\.enterprise\.compute\.systemNodes\.maxSize = 0: must be at least 1/);
    });

    it('keeps parsing the config the Lambdas embed (JSON of the parsed config) under strict objects', () => {
      // GIVEN the config as constructs embed it (JSON.stringify of the loaded config)
      const embedded = JSON.stringify(loadConfig());
      // WHEN a Lambda parses it THEN it round-trips
      expect(PlatformConfigSchema.parse(JSON.parse(embedded))).toEqual(JSON.parse(embedded));
    });
  });

  describe('context keys', () => {
    it('refuses a tessera: key the app does not read, naming it, the nearest key and the known keys', () => {
      // GIVEN `npx cdk synth -c tessera:configfile=good.yaml` (lower-case f) beside cdk.json's flags
      const context = { 'tessera:configfile': 'good.yaml', '@aws-cdk/core:checkSecretUsage': true };
      // WHEN the app checks its context THEN it refuses, instead of synthesizing the embedded default
      expect(() => refuseUnknownContextKeys(context)).toThrow(ConfigError);
      expect(() => refuseUnknownContextKeys(context)).toThrow(
        'context key tessera:configfile is not one Tessera reads; did you mean `tessera:configFile`? (known keys: tessera:configFile, tessera:config, tessera:bundlingLogLevel)',
      );
    });

    it('names every unknown key, with no guess when none is close', () => {
      const error = (() => { try { refuseUnknownContextKeys({ 'tessera:bundlingLoglevel': 'info', 'tessera:region': 'us-east-1' }); return undefined; } catch (e) { return e as ConfigError; } })();
      expect(error?.problems).toEqual([
        'context key tessera:bundlingLoglevel is not one Tessera reads; did you mean `tessera:bundlingLogLevel`? (known keys: tessera:configFile, tessera:config, tessera:bundlingLogLevel)',
        'context key tessera:region is not one Tessera reads (known keys: tessera:configFile, tessera:config, tessera:bundlingLogLevel)',
      ]);
    });

    it('accepts the keys it reads and keys that are not Tessera\'s', () => {
      expect(() => refuseUnknownContextKeys({ 'tessera:configFile': 'a.yaml', 'tessera:config': '{}', 'tessera:bundlingLogLevel': 'info', 'aws:cdk:bundling-stacks': [], 'other:configfile': 'x' })).not.toThrow();
    });
  });
});
