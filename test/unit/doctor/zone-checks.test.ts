import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { platformZoneChecks } from '../../../lib/cli/doctor/zone-checks.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
/** us-east-1 of an account whose first zones by name include use1-az3 (names map to IDs per account). */
const ZONES = [
  ['us-east-1a', 'use1-az3'], ['us-east-1b', 'use1-az1'], ['us-east-1c', 'use1-az2'], ['us-east-1d', 'use1-az4'], ['us-east-1e', 'use1-az6'],
].map(([ZoneName, ZoneId]) => ({ ZoneName, ZoneId, ZoneType: 'availability-zone', State: 'available', OptInStatus: 'opt-in-not-required' }));
const byName = (input: { ZoneNames?: string[] }) => ({ AvailabilityZones: input.ZoneNames ? ZONES.filter((z) => input.ZoneNames!.includes(z.ZoneName)) : ZONES });

beforeEach(() => {
  ec2.reset();
  mockSts();
  ec2.on(DescribeAvailabilityZonesCommand).callsFake(byName);
});

describe('doctor: the platform VPC\'s zones (shared EKS cluster)', () => {
  it('fails when Fn::GetAZs\'s first zones include a zone ID EKS refuses, with zones to pin', async () => {
    // GIVEN default subnets in every zone (Fn::GetAZs: those zones by name) and maxAzs 2 (the default)
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: ZONES.map((z) => ({ AvailabilityZone: z.ZoneName, AvailabilityZoneId: z.ZoneId, DefaultForAz: true })) });
    const [line] = await platformZoneChecks(testContext(testConfig({ platformNetwork: { cidr: '10.0.0.0/16', maxAzs: 2 } })));
    expect(line).toMatchObject({ id: 'platform-zones', status: 'fail', account: PLATFORM, region: 'us-east-1' });
    expect(line.detail).toBe('us-east-1a (use1-az3), us-east-1b (use1-az1) from Fn::GetAZs (availabilityZones.us-east-1 not set): EKS refuses cluster subnets in us-east-1a (use1-az3), so cdk deploy of TesseraPlatform (the shared cluster) would fail with UnsupportedAvailabilityZoneException');
    expect(line.fix).toBe(`pin zones whose IDs are not use1-az3, usw1-az2, cac1-az3 in the config: availabilityZones: { us-east-1: [us-east-1b, us-east-1c] } (names and IDs in account ${PLATFORM}: aws ec2 describe-availability-zones --region us-east-1 --query "AvailabilityZones[].[ZoneName,ZoneId]" --output text)`);
    // read in the platform account, through its lookup role
    expect(await accessKeyOf(ec2.commandCalls(DescribeSubnetsCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
  });

  it('passes pinned zones EKS supports, checking the first maxAzs by name', async () => {
    const config = testConfig({ platformNetwork: { cidr: '10.0.0.0/16', maxAzs: 2 }, availabilityZones: { 'us-east-1': ['us-east-1b', 'us-east-1c', 'us-east-1a'] } });
    const [line] = await platformZoneChecks(testContext(config));
    expect([line.status, line.detail]).toEqual(['pass', 'us-east-1b (use1-az1), us-east-1c (use1-az2) from availabilityZones.us-east-1: none is a zone ID EKS refuses']);
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)[0].args[0].input).toEqual({ ZoneNames: ['us-east-1b', 'us-east-1c'] });
    expect(ec2.commandCalls(DescribeSubnetsCommand)).toHaveLength(0);
  });

  it('fails pinned zones that hold a refused zone ID', async () => {
    const config = testConfig({ platformNetwork: { cidr: '10.0.0.0/16', maxAzs: 2 }, availabilityZones: { 'us-east-1': ['us-east-1a', 'us-east-1d'] } });
    const [line] = await platformZoneChecks(testContext(config));
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/^us-east-1a \(use1-az3\), us-east-1d \(use1-az4\) from availabilityZones\.us-east-1: EKS refuses cluster subnets in us-east-1a \(use1-az3\)/);
  });

  it('without default subnets, Fn::GetAZs is every usable zone by name', async () => {
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    const [line] = await platformZoneChecks(testContext(testConfig({ platformNetwork: { cidr: '10.0.0.0/16', maxAzs: 3 } })));
    expect(line.detail).toMatch(/^us-east-1a \(use1-az3\), us-east-1b \(use1-az1\), us-east-1c \(use1-az2\) from Fn::GetAZs/);
    expect(line.fix).toContain('availabilityZones: { us-east-1: [us-east-1b, us-east-1c, us-east-1d] }');
  });

  it('fails when Fn::GetAZs returns fewer zones than platformNetwork.maxAzs (a two-zone region such as us-west-1), naming the maxAzs that fits', async () => {
    // GIVEN an account whose region offers two zones, and maxAzs 3: the VPC's third subnet would select index 2
    const two = ZONES.slice(1, 3);
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: two.map((z) => ({ AvailabilityZone: z.ZoneName, AvailabilityZoneId: z.ZoneId, DefaultForAz: true })) });
    ec2.on(DescribeAvailabilityZonesCommand).callsFake(() => ({ AvailabilityZones: two }));
    const [line] = await platformZoneChecks(testContext(testConfig({ platformNetwork: { cidr: '10.0.0.0/16', maxAzs: 3 } })));
    expect(line).toMatchObject({ id: 'platform-zones', status: 'fail', account: PLATFORM, region: 'us-east-1' });
    expect(line.detail).toBe('Fn::GetAZs (availabilityZones.us-east-1 not set) returns 2 zone(s) in this account, us-east-1b (use1-az1), us-east-1c (use1-az2), fewer than platformNetwork.maxAzs (3): TesseraPlatform\'s VPC selects a subnet zone by index up to 2, so cdk deploy fails with "Fn::Select cannot select nonexistent value at index 2"');
    expect(line.fix).toMatch(/^set platformNetwork\.maxAzs to 2 or less \(zones in account 555555555555: aws ec2 describe-availability-zones/);
  });

  it('makes no call without a tier of shared compute', async () => {
    // the default's enterprise tier alone (dedicated compute)
    const base = testConfig();
    const config = { ...base, tiers: { enterprise: base.tiers.enterprise } };
    expect(config.tiers.enterprise.compute.mode).toBe('dedicated');
    const lines = await platformZoneChecks(testContext(config));
    expect(lines).toEqual([{ id: 'platform-zones', title: 'Platform VPC zones', status: 'pass', detail: 'no tier of shared compute: no platform VPC or shared EKS cluster', account: PLATFORM, region: 'us-east-1' }]);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('a refused call is a fail naming it, with the command to read the IDs', async () => {
    ec2.on(DescribeSubnetsCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    const [line] = await platformZoneChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/ec2:DescribeSubnets/);
    expect(line.fix).toMatch(/^grant ec2:DescribeAvailabilityZones and ec2:DescribeSubnets, or check the zone IDs in account 555555555555: aws ec2 describe-availability-zones/);
  });
});
