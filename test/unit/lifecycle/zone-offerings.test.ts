import { CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand, type Parameter, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DescribeInstanceTypeOfferingsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { chooseZones } from '../../../lambdas/lifecycle/availability-zones.js';
import { leased, offeringsIn, ownedTags, state } from './support.js';
import { records, registryMock } from './registry-mock.js';
import { accountZone, resetZoneDeployMocks } from './zone-deploy-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

/**
 * A dedicated-cluster tenant's zones are chosen among those that offer every instance type of its EKS
 * node groups (DescribeInstanceTypeOfferings by zone name in the tenant's account), answers mocked with
 * aws-sdk-client-mock: moto answers from its copy of AWS's offerings, where us-east-1's first three
 * zones offer the enterprise tier's types, so it cannot show a zone without p4d.24xlarge among them.
 * The enterprise tier (DEFAULT_CONFIG): system nodes m7i.xlarge, GPU g5.2xlarge, g5.4xlarge, p4d.24xlarge, maxAzs 3.
 */
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);

const ENTERPRISE_TYPES = ['m7i.xlarge', 'g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge'];
const zone = accountZone;
/** us-east-1b is use1-az3 here (EKS does not support it), as it is in some accounts. */
const ACCOUNT_ZONES = [zone('a', 'use1-az1'), zone('b', 'use1-az3'), zone('c', 'use1-az2'), zone('d', 'use1-az4'), zone('e', 'use1-az5'), zone('f', 'use1-az6')];
const NAMES = ACCOUNT_ZONES.map((z) => z.ZoneName!);
const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });
const valueOf = (params: Parameter[] | undefined, key: string) => params?.find((p) => p.ParameterKey === key)?.ParameterValue;
const where = { accountId: '333333333333', region: 'us-east-1' };
const seen = ACCOUNT_ZONES.map((z) => ({ zoneName: z.ZoneName!, zoneId: z.ZoneId! }));
/** Instance type → the zones offering it: every zone of NAMES but those `lacking` lists for it. */
const offered = (lacking: Record<string, string[]> = {}) => new Map(ENTERPRISE_TYPES.map((t) => [t, new Set(NAMES.filter((n) => !lacking[n]?.includes(t)))]));

beforeEach(() => {
  resetZoneDeployMocks({ cfn, ec2, sts, s3 }, ACCOUNT_ZONES);
});

describe('chooseZones with the node groups\' instance type offerings', () => {
  it('skips a zone that lacks p4d.24xlarge, still in name order, saying which type it lacks (all offering: the first by name; no dedicated cluster: not looked at)', () => {
    const all = chooseZones(seen, { ...where, maxAzs: 3, dedicatedCluster: true, offered: offered() });
    expect(all.zones.map((z) => z.zoneName)).toEqual(['us-east-1a', 'us-east-1c', 'us-east-1d']);
    expect(all.excluded.map((z) => z.zoneName)).toEqual(['us-east-1b']);
    const shared = chooseZones(seen, { ...where, maxAzs: 2, dedicatedCluster: false, offered: offered({ 'us-east-1a': ['p4d.24xlarge'] }) });
    expect(shared.zones.map((z) => z.zoneName)).toEqual(['us-east-1a', 'us-east-1b']);
    const chosen = chooseZones(seen, { ...where, maxAzs: 3, dedicatedCluster: true, offered: offered({ 'us-east-1c': ['p4d.24xlarge'] }) });
    expect(chosen.zones.map((z) => z.zoneName)).toEqual(['us-east-1a', 'us-east-1d', 'us-east-1e']);
    expect(chosen.excluded).toEqual([
      expect.objectContaining({ zoneName: 'us-east-1b' }),
      { zoneName: 'us-east-1c', zoneId: 'use1-az2', reason: expect.stringMatching(/EC2 does not offer p4d\.24xlarge there \(DescribeInstanceTypeOfferings\)$/) },
    ]);
  });

  it('fails when too few zones are left, naming the region, each zone left out and the types it lacks', () => {
    const lacking = { 'us-east-1a': ['p4d.24xlarge'], 'us-east-1d': ['p4d.24xlarge', 'g5.4xlarge'], 'us-east-1e': ['p4d.24xlarge'], 'us-east-1f': ['m7i.xlarge'] };
    const choice = () => chooseZones(seen, { ...where, maxAzs: 3, dedicatedCluster: true, offered: offered(lacking) });
    expect(choice).toThrow(expect.objectContaining({ name: 'InvalidRequest' }));
    expect(choice).toThrow(/^account 333333333333, region us-east-1: 1 usable Availability Zone\(s\) for a VPC across 3; /);
    expect(choice).toThrow(/excluded us-east-1a: .*does not offer p4d\.24xlarge there .*; us-east-1b: zone ID use1-az3 .*; us-east-1d: .*does not offer g5\.4xlarge, p4d\.24xlarge there .*; us-east-1e: .*p4d\.24xlarge there .*; us-east-1f: .*does not offer m7i\.xlarge there/);
    expect(choice).toThrow(/; every zone must offer each node-group instance type, since the tenant's EKS node groups span every zone of the VPC \(EKS User Guide, managed node groups\): m7i\.xlarge, g5\.2xlarge, g5\.4xlarge, p4d\.24xlarge$/);
    // the failure's reason is clipped at 2,000 characters (catch-reason.ts): the whole message fits
    expect(() => choice()).toThrow(expect.objectContaining({ message: expect.stringMatching(/^[^]{1,2000}$/) }));
  });
});

describe('Deploy blueprint chooses a dedicated-cluster tenant\'s zones by its node groups\' instance type offerings', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const onboarding = (extra: Record<string, unknown> = {}) => {
    records.set('acme', leased('onboard', { tier: 'enterprise', isolation: 'account', ...extra }));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
  };
  const nothingDeployed = () => {
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  };

  it('reads every page of the offerings (LocationType availability-zone, the tier\'s node-group types) and skips the zone without p4d.24xlarge; none for a tier without a dedicated cluster', async () => {
    records.set('shared', leased('onboard', { tenantId: 'shared' }));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake(offeringsIn(NAMES, { 'us-east-1a': ['p4d.24xlarge'] }));
    await deploy(state('shared', { blueprint: 'tenant' }));
    expect(ec2.commandCalls(DescribeInstanceTypeOfferingsCommand)).toHaveLength(0);
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1b');
    cfn.reset();
    ec2.resetHistory();
    onboarding();
    // two pages: us-east-1c's p4d.24xlarge would be on the second, and it has none
    const all = offeringsIn(NAMES, { 'us-east-1c': ['p4d.24xlarge'] });
    ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake((input: { NextToken?: string; Filters?: Array<{ Name?: string; Values?: string[] }> }) => {
      const items = all(input).InstanceTypeOfferings;
      return input.NextToken === 'page-2' ? { InstanceTypeOfferings: items.slice(10) } : { InstanceTypeOfferings: items.slice(0, 10), NextToken: 'page-2' };
    });
    await deploy(state('acme', { blueprint: 'tenant' }));
    const calls = ec2.commandCalls(DescribeInstanceTypeOfferingsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ LocationType: 'availability-zone', Filters: [{ Name: 'instance-type', Values: ENTERPRISE_TYPES }] });
    expect(calls[1].NextToken).toBe('page-2');
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1d,us-east-1e');
    expect(records.get('acme')).toMatchObject({ availabilityZones: ['us-east-1a', 'us-east-1d', 'us-east-1e'], availabilityZoneIds: ['use1-az1', 'use1-az4', 'use1-az5'] });
  });

  it('fails the onboarding before any stack operation when too few zones offer the types, naming the region, zones and missing types', async () => {
    onboarding();
    ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake(offeringsIn(NAMES, { 'us-east-1a': ['p4d.24xlarge'], 'us-east-1c': ['p4d.24xlarge'], 'us-east-1d': ['p4d.24xlarge'], 'us-east-1e': ['p4d.24xlarge'] }));
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringMatching(/region us-east-1: 1 usable Availability Zone\(s\) for a VPC across 3; .*us-east-1a: .*does not offer p4d\.24xlarge there/),
    });
    nothingDeployed();
    expect(records.get('acme')!.availabilityZones).toBeUndefined();
  });

  it('fails with the call, account, region and the grant to add when DescribeInstanceTypeOfferings is refused', async () => {
    onboarding({ accountId: '444444444444' });
    ec2.on(DescribeInstanceTypeOfferingsCommand).rejects(new EC2ServiceException({ name: 'UnauthorizedOperation', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'You are not authorized to perform this operation.' }));
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toThrow(
      /^account 444444444444, region us-east-1: ec2:DescribeInstanceTypeOfferings was refused \(UnauthorizedOperation: You are not authorized to perform this operation\.\), .*grant ec2:DescribeInstanceTypeOfferings \(Resource "\*"/);
    nothingDeployed();
  });

  it('keeps recorded zones a stack stands on (a re-deploy: no offerings asked, even where one now lacks a type), and chooses again, by offerings, those no stack stands on (a first create that failed)', async () => {
    records.set('acme', leased('upgrade', { tier: 'enterprise', isolation: 'account', blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az1', 'use1-az2', 'use1-az4'] }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags(), Parameters: [] }] });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake(offeringsIn(NAMES, { 'us-east-1c': ['p4d.24xlarge'] }));
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }));
    expect(valueOf(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1c,us-east-1d');
    expect(ec2.commandCalls(DescribeInstanceTypeOfferingsCommand)).toHaveLength(0);
    // the same zones recorded, no stack (the first create failed): us-east-1c lacks p4d.24xlarge, so chosen again
    cfn.reset();
    onboarding({ availabilityZones: ['us-east-1a', 'us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az1', 'use1-az2', 'use1-az4'] });
    ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake(offeringsIn(NAMES, { 'us-east-1c': ['p4d.24xlarge'] }));
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1d,us-east-1e');
    expect(records.get('acme')!.availabilityZones).toEqual(['us-east-1a', 'us-east-1d', 'us-east-1e']);
  });
});
