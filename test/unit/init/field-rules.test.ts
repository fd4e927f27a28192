import { describe, expect, it } from 'vitest';
import {
  InvalidValue, parseAccountId, parseAllowedRegions, parseBucketName, parseOrganizationId, parseProviderSecretFlag, parseRegion, parseRootId,
  parseSecretId, parseTiers, parseZones, splitZonesFlag,
} from '../../../lib/cli/init/field-rules.js';

/** Each value `tessera init` takes is checked with the schema's rule as it is parsed; placeholders are refused. */
describe('init field rules', () => {
  it.each([
    ['account id', parseAccountId, '123456789012', '123456789012'],
    ['account id, trimmed', parseAccountId, ' 012345678901 ', '012345678901'],
    ['organization id', parseOrganizationId, 'o-a1b2c3d4e5', 'o-a1b2c3d4e5'],
    ['root id', parseRootId, 'r-ab12', 'r-ab12'],
    ['region', parseRegion, 'eu-west-1', 'eu-west-1'],
    ['bucket', parseBucketName, 'my-weights.bucket', 'my-weights.bucket'],
    ['bucket as s3:// URI', parseBucketName, 's3://my-weights/', 'my-weights'],
    ['secret name', parseSecretId, 'tessera/providers/openai-prod', 'tessera/providers/openai-prod'],
  ])('accepts a good %s', (_what, parse, raw, parsed) => {
    // WHEN / THEN
    expect((parse as (raw: string) => string)(raw)).toBe(parsed);
  });

  it.each([
    ['account id of 5 digits', parseAccountId, '12345', /12-digit AWS account id/],
    ['account id with letters', parseAccountId, '12345678901a', /12-digit AWS account id/],
    ['placeholder management account', parseAccountId, '111111111111', /placeholder of the embedded default/],
    ['placeholder platform account', parseAccountId, '222222222222', /placeholder/],
    ['placeholder workload account', parseAccountId, '333333333333', /placeholder/],
    ['upper-case organization id', parseOrganizationId, 'o-A1B2C3D4E5', /AWS Organizations id such as o-/],
    ['short organization id', parseOrganizationId, 'o-abc', /AWS Organizations id/],
    ['placeholder organization id', parseOrganizationId, 'o-exampleorg1', /placeholder/],
    ['root id without r-', parseRootId, 'ab12', /root id such as r-ab12/],
    ['placeholder root id', parseRootId, 'r-ex01', /placeholder/],
    ['region name', parseRegion, 'Virginia', /AWS region name such as us-east-1/],
    ['region without number', parseRegion, 'us-east', /AWS region name/],
    ['GovCloud region (not supported yet)', parseRegion, 'us-gov-west-1', /GovCloud region \(partition aws-us-gov\), which Tessera does not support yet/],
    ['bucket with upper case', parseBucketName, 'Weights', /S3 bucket name/],
    ['bucket with a prefix', parseBucketName, 's3://weights/models/', /without a prefix/],
    ['bucket like an IP address', parseBucketName, '192.168.1.1', /S3 bucket name/],
    ['bucket with ..', parseBucketName, 'a..b', /S3 bucket name/],
    ['bucket with reserved suffix', parseBucketName, 'weights-s3alias', /S3 bucket name/],
    ['placeholder bucket', parseBucketName, 'tessera-base-models-222222222222', /placeholder bucket/],
    ['secret name with a space', parseSecretId, 'tessera/providers/my secret', /secret name under tessera\/providers\//],
    ['secret outside tessera/providers/ (the router may not read it)', parseSecretId, 'prod/openai', /under tessera\/providers\/ \(the router's ProviderKeys grant/],
    ['secret ARN (a name under tessera/providers/ is the rule)', parseSecretId, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/openai', /under tessera\/providers\//],
    ['secret ARN in the placeholder account', parseSecretId, 'arn:aws:secretsmanager:us-east-1:111111111111:secret:x', /embedded default's placeholder 111111111111/],
  ])('refuses a bad %s', (_what, parse, raw, message) => {
    // WHEN / THEN
    expect(() => (parse as (raw: string) => string)(raw)).toThrow(InvalidValue);
    expect(() => (parse as (raw: string) => string)(raw)).toThrow(message);
  });

  describe('allowed regions', () => {
    it('splits, trims and keeps the order', () => {
      expect(parseAllowedRegions(' us-east-1, us-west-2 ,', 'us-east-1')).toEqual(['us-east-1', 'us-west-2']);
    });
    it.each([
      ['', /at least one region/],
      ['us-east-1,west', /"west" must be an AWS region name/],
      ['us-east-1,us-east-1', /repeats us-east-1/],
      ['us-west-2', /must include the home region us-east-1/],
    ])('refuses %j', (raw, message) => {
      expect(() => parseAllowedRegions(raw, 'us-east-1')).toThrow(message);
    });
  });

  describe('availability zones', () => {
    it('splits a --availability-zones value into its region and zones', () => {
      expect(splitZonesFlag('us-east-1=us-east-1a,us-east-1b,us-east-1c')).toEqual({ region: 'us-east-1', zones: 'us-east-1a,us-east-1b,us-east-1c' });
    });
    it.each([
      ['us-east-1a,us-east-1b', /<region>=<zone>,<zone>/],
      ['useast=us-east-1a', /AWS region name/],
    ])('refuses the flag value %j', (raw, message) => {
      expect(() => splitZonesFlag(raw)).toThrow(message);
    });
    it('accepts zones of the region, two for the home region', () => {
      expect(parseZones('eu-west-1a, eu-west-1c', 'eu-west-1', 'eu-west-1')).toEqual(['eu-west-1a', 'eu-west-1c']);
      expect(parseZones('us-west-1b', 'us-west-1', 'eu-west-1')).toEqual(['us-west-1b']);
    });
    it.each([
      ['', /at least one zone of eu-west-1/],
      ['eu-west-1', /Availability Zone name such as us-east-1a/],
      ['eu-west-2a,eu-west-2b', /"eu-west-2a" is not a zone of eu-west-1/],
      ['eu-west-1a,eu-west-1a', /repeats eu-west-1a/],
      ['eu-west-1a', /lists 1 zone\(s\) of the home region, but the platform VPC spans 2/],
    ])('refuses %j for the home region eu-west-1', (raw, message) => {
      expect(() => parseZones(raw, 'eu-west-1', 'eu-west-1')).toThrow(message);
    });
  });

  describe('tiers', () => {
    it('keeps the named default tiers in the default order', () => {
      expect(parseTiers('enterprise, starter')).toEqual(['starter', 'enterprise']);
    });
    it.each([
      ['', /at least one of the default tiers: starter, professional, enterprise/],
      ['Starter', /is not a valid tier name: a tier name must be a lower-case DNS label/],
      ['gold', /"gold" is not a default tier/],
      ['starter,starter', /repeats starter/],
    ])('refuses %j', (raw, message) => {
      expect(() => parseTiers(raw)).toThrow(message);
    });
  });

  describe('provider secrets', () => {
    it('parses <provider>=<secret>', () => {
      expect(parseProviderSecretFlag('huggingface=tessera/providers/hf-prod')).toEqual({ provider: 'huggingface', secretId: 'tessera/providers/hf-prod' });
    });
    it.each(['bedrock=x', 'openai', 'openai=has space'])('refuses %j', (raw) => {
      expect(() => parseProviderSecretFlag(raw)).toThrow(InvalidValue);
    });
  });
});
