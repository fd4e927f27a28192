import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackZones, configuredZones } from '../../../lib/config/availability-zones.js';
import { ConfigError, loadConfig, loadConfigReport } from '../../../lib/config/load-config.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * Issue 13, item 2: no placeholder reaches a deployment. The embedded default marks its
 * placeholders; a config file (a real deployment) that leaves any in force is refused with each
 * key to set; the default alone still loads (offline synth) and reports them.
 */
const OWN_BASE_MODELS = [{
  id: 'llama-3.1-8b-instruct',
  trainingImage: '763104351884.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04',
  servingImage: '763104351884.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-tgi-inference:2.3.0-tgi2.2.0-gpu-py310-cu121-ubuntu22.04',
  weightsS3Uri: 's3://acme-base-models-555555555555/llama-3.1-8b-instruct/',
  inputPricePer1k: 0.0002, outputPricePer1k: 0.0002, maxOutputTokens: 4096,
}];
const COMPLETE = {
  organization: { managementAccountId: '444444444444', organizationId: 'o-abcdefghij', rootId: 'r-abcd', accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' },
  platformAccountId: '555555555555',
  workloadAccountId: '666666666666',
  homeRegion: 'us-west-2',
  fineTuning: { baseModels: OWN_BASE_MODELS },
};

function writeConfig(value: unknown): string {
  const file = join(tempDir('tessera-config-'), 'tessera.config.yaml');
  writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

function refusal(file: string): string {
  try {
    loadConfigReport({ file }, { refusePlaceholders: true });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`expected ${file} to be refused`);
}

describe('placeholders of the embedded default', () => {
  it('the default alone loads and reports every placeholder it holds', () => {
    const { placeholders } = loadConfigReport();
    expect(placeholders.map((p) => p.path)).toEqual([
      'organization.managementAccountId', 'organization.organizationId', 'organization.rootId', 'organization.accountEmail',
      'platformAccountId', 'workloadAccountId', 'fineTuning.baseModels',
    ]);
  });

  it('refuses the default\'s tenant-account root email while a tier uses account isolation, and only then', () => {
    // GIVEN a complete file that leaves organization.accountEmail to the embedded default
    const { accountEmail: _, ...organization } = COMPLETE.organization;
    const file = writeConfig({ ...COMPLETE, organization });
    // WHEN loaded for synth THEN the default's enterprise tier (account isolation) needs an address of the platform's
    expect(refusal(file)).toContain(`embedded default: organization.accountEmail = "aws+tessera-{tenantId}@example.com": is a placeholder of the embedded default; set the root email of the tenant accounts, an address of your platform team's with {tenantId} (e.g. aws+tessera-{tenantId}@<your domain>) in ${file}`);
    // AND a platform of VPC tiers alone creates no account: the placeholder is no concern of it
    const vpcOnly = writeConfig({ ...COMPLETE, organization, tiers: { enterprise: null }, defaultTier: 'starter' });
    expect(loadConfigReport({ file: vpcOnly }, { refusePlaceholders: true }).placeholders).toEqual([]);
  });

  it('a complete config file has none and loads with refusal on', () => {
    expect(loadConfigReport({ file: writeConfig(COMPLETE) }, { refusePlaceholders: true }).placeholders).toEqual([]);
  });

  it('refuses a file that leaves placeholders, naming the file and each key to set', () => {
    // GIVEN a file that sets the management and platform accounts only
    const file = writeConfig({ organization: { managementAccountId: '444444444444' }, platformAccountId: '555555555555' });
    // WHEN loaded for synth THEN every remaining placeholder is a line naming its key and the file
    const message = refusal(file);
    expect(message).toContain('placeholders remain, so it cannot be deployed');
    for (const line of [
      `organization.organizationId = "o-exampleorg1": is a placeholder of the embedded default; set your organization id (o-…) in ${file}`,
      `organization.rootId = "r-ex01": is a placeholder of the embedded default; set your organization root id (r-…) in ${file}`,
      `workloadAccountId = "333333333333": is a placeholder of the embedded default; set the workload account id in ${file}`,
      'fineTuning.baseModels = [2 entries of the embedded default]: is a placeholder of the embedded default; set your base models: each with id, trainingImage and servingImage',
    ]) expect(message).toContain(line);
    expect(message).not.toContain('managementAccountId =');
    // AND each line is led by the layer the value came from, as the config's other errors are
    expect(message).toContain(`embedded default: workloadAccountId = "333333333333"`);
  });

  it('catches a placeholder copied into the file, not only one left in force', () => {
    // GIVEN the file restates the default's bucket in the placeholder platform account
    const copied = structuredClone(COMPLETE);
    copied.fineTuning.baseModels[0]!.weightsS3Uri = 's3://tessera-base-models-222222222222/llama-3.1-8b-instruct/';
    expect(refusal(writeConfig(copied))).toMatch(/fineTuning\.baseModels\[0\]\.weightsS3Uri = "s3:\/\/tessera-base-models-222222222222\/llama-3\.1-8b-instruct\/": is a placeholder of the embedded default; replace it with a value without the embedded default's placeholder 222222222222 in /);
  });

  it('refuses the placeholder account id set explicitly in the file', () => {
    const file = writeConfig({ ...COMPLETE, workloadAccountId: '333333333333' });
    // the file set it: the line names the file as its source, and the key's own advice (new user 6),
    // to replace what the file set rather than to set it (new user 7)
    expect(refusal(file)).toContain(`${file}: workloadAccountId = "333333333333": is a placeholder of the embedded default; replace it with the workload account id in ${file}`);
  });

  it('lets context overrides alone load (offline synth) and reports what remains', () => {
    const { placeholders } = loadConfigReport({ overrides: { homeRegion: 'us-west-2', fineTuning: { baseModels: OWN_BASE_MODELS } } });
    expect(placeholders.map((p) => p.path)).toEqual(['organization.managementAccountId', 'organization.organizationId', 'organization.rootId', 'organization.accountEmail', 'platformAccountId', 'workloadAccountId']);
  });

  it('refuses base-model images outside the home region (SageMaker pulls from the job\'s region)', () => {
    expect(() => loadConfig({ overrides: { homeRegion: 'us-west-2' } })).toThrow(
      /fineTuning\.baseModels\[0\]\.trainingImage = "763104351884\.dkr\.ecr\.us-east-1\.amazonaws\.com\/[^"]+: is in us-east-1, but SageMaker pulls images from the region of the job \(homeRegion us-west-2\): use the image's us-west-2 registry \(763104351884\.dkr\.ecr\.us-west-2\.amazonaws\.com\)/);
  });
});

describe('availability zones from config', () => {
  it('defaults to deploy-time zones (no pinned list) and stand-in names for CDK', () => {
    const config = loadConfig();
    expect(configuredZones(config, 'us-east-1')).toBeUndefined();
    expect(stackZones(config, 'ap-northeast-1')).toEqual(['ap-northeast-1a', 'ap-northeast-1b', 'ap-northeast-1c']);
  });

  it('uses the zones the config pins', () => {
    const config = loadConfig({ overrides: { availabilityZones: { 'us-east-1': ['us-east-1b', 'us-east-1d'] } } });
    expect(configuredZones(config, 'us-east-1')).toEqual(['us-east-1b', 'us-east-1d']);
    expect(stackZones(config, 'us-east-1')).toEqual(['us-east-1b', 'us-east-1d']);
  });

  it.each([
    ['a region outside allowedRegions', { 'eu-west-1': ['eu-west-1a'] }, /availabilityZones\.eu-west-1 = \["eu-west-1a"\]: names a region outside allowedRegions \(us-east-1, us-west-2\): remove it or add the region to allowedRegions/],
    ['a zone of another region', { 'us-east-1': ['us-east-1a', 'us-west-2b'] }, /availabilityZones\.us-east-1\[1\] = "us-west-2b": is not a zone of us-east-1: write us-east-1 followed by the zone letter, e\.g\. us-east-1a/],
    ['a zone twice', { 'us-east-1': ['us-east-1a', 'us-east-1a'] }, /availabilityZones\.us-east-1\[1\] = "us-east-1a": repeats us-east-1a: list each zone once/],
    ['fewer home zones than the platform VPC spans', { 'us-east-1': ['us-east-1a'] }, /availabilityZones\.us-east-1 = \["us-east-1a"\]: lists 1 zone\(s\), fewer than platformNetwork\.maxAzs \(2\) the platform VPC spans/],
    ['not a zone name', { 'us-east-1': ['use1-az1', 'us-east-1b'] }, /availabilityZones\.us-east-1\[0\] = "use1-az1": must be an Availability Zone name such as us-east-1a/],
  ])('refuses %s', (_name, availabilityZones, expected) => {
    expect(() => loadConfig({ overrides: { availabilityZones } })).toThrow(expected);
  });
});
