import { DescribeAvailabilityZonesCommand, DescribeInstanceTypeOfferingsCommand, DescribeSubnetsCommand, EC2Client, type AvailabilityZone, type InstanceTypeOffering, type _InstanceType, EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { nodeTypeOfferChecks } from '../../../lib/cli/doctor/node-type-offer-checks.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
/** us-east-1 of one account: six zones, use1-az3 among them (EKS refuses it). */
const ZONES = [
  ['us-east-1a', 'use1-az4'], ['us-east-1b', 'use1-az6'], ['us-east-1c', 'use1-az1'], ['us-east-1d', 'use1-az2'], ['us-east-1e', 'use1-az3'], ['us-east-1f', 'use1-az5'],
].map(([ZoneName, ZoneId]): AvailabilityZone => ({ ZoneName, ZoneId, ZoneType: 'availability-zone', State: 'available', OptInStatus: 'opt-in-not-required', RegionName: 'us-east-1' }));
const ALL_IDS = ZONES.map((z) => z.ZoneId!);

/** Instance type → zone IDs offering it; the answer by name maps through ZONES. */
function offer(byId: Record<string, string[]>) {
  ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake((input: { LocationType: string; Filters: Array<{ Values: string[] }> }) => {
    const wanted = input.Filters[0].Values;
    const InstanceTypeOfferings: InstanceTypeOffering[] = Object.entries(byId).filter(([t]) => wanted.includes(t)).flatMap(([InstanceType, ids]) => ids.map((id) => ({
      InstanceType: InstanceType as _InstanceType, LocationType: input.LocationType as 'availability-zone', Location: input.LocationType === 'availability-zone-id' ? id : ZONES.find((z) => z.ZoneId === id)!.ZoneName!,
    })));
    return { InstanceTypeOfferings };
  });
}

beforeEach(() => {
  ec2.reset();
  mockSts();
  ec2.on(DescribeAvailabilityZonesCommand).callsFake((input: { ZoneNames?: string[] }) => ({ AvailabilityZones: input.ZoneNames ? ZONES.filter((z) => input.ZoneNames!.includes(z.ZoneName!)) : ZONES }));
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: ZONES.map((z) => ({ AvailabilityZone: z.ZoneName, AvailabilityZoneId: z.ZoneId, DefaultForAz: true })) });
});

describe('doctor: the zones offer the EKS node groups\' instance types', () => {
  it('passes types offered everywhere: the shared cluster by zone name in the platform account, the dedicated tier by zone ID', async () => {
    offer({ 'm7i.xlarge': ALL_IDS, 'g5.2xlarge': ALL_IDS, 'g6.2xlarge': ALL_IDS, 'g5.4xlarge': ALL_IDS, 'p4d.24xlarge': ALL_IDS });
    const lines = await nodeTypeOfferChecks(testContext());
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['instance-offer:shared-cluster:system-nodes', 'pass'], ['instance-offer:shared-cluster:gpu', 'pass'],
      ['instance-offer:system-nodes:enterprise:us-east-1', 'pass'], ['instance-offer:gpu:enterprise:us-east-1', 'pass'],
    ]);
    expect(lines[1]).toMatchObject({ title: 'EC2 g5.2xlarge, g6.2xlarge shared cluster gpu', detail: 'offered in each zone of the platform VPC: us-east-1a, us-east-1b (Fn::GetAZs)', account: PLATFORM });
    // use1-az3 is left out: EKS refuses it, so no tenant VPC of a dedicated tier is there
    expect(lines[3].detail).toBe('offered in every usable zone of us-east-1 (use1-az4, use1-az6, use1-az1, use1-az2, use1-az5)');
    const calls = ec2.commandCalls(DescribeInstanceTypeOfferingsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { LocationType: 'availability-zone', Filters: [{ Name: 'instance-type', Values: ['m7i.xlarge', 'g5.2xlarge', 'g6.2xlarge'] }], MaxResults: 1000 },
      { LocationType: 'availability-zone-id', Filters: [{ Name: 'instance-type', Values: ['m7i.xlarge', 'g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge'] }], MaxResults: 1000 },
    ]);
    expect(await accessKeyOf(ec2.commandCalls(DescribeInstanceTypeOfferingsCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
    expect(await accessKeyOf(ec2.commandCalls(DescribeInstanceTypeOfferingsCommand)[1])).toBe('AKIA-caller');
  });

  it('fails a shared-cluster type one of the platform VPC\'s zones does not offer, naming the key, the type, the zone and the Region', async () => {
    // g6.2xlarge not in use1-az6 (us-east-1b in this account), one of the two zones of the platform VPC
    offer({ 'm7i.xlarge': ALL_IDS, 'g5.2xlarge': ALL_IDS, 'g6.2xlarge': ALL_IDS.filter((z) => z !== 'use1-az6'), 'g5.4xlarge': ALL_IDS, 'p4d.24xlarge': ALL_IDS });
    const [system, gpu] = await nodeTypeOfferChecks(testContext());
    expect(system.status).toBe('pass');
    expect(gpu).toMatchObject({ status: 'fail', region: 'us-east-1', account: PLATFORM });
    expect(gpu.detail).toMatch(/^sharedCluster\.gpu\.instanceTypes: g6\.2xlarge not in us-east-1b \(the platform VPC's zones in us-east-1: us-east-1a, us-east-1b, from Fn::GetAZs\); EKS refuses a node group with an instance type some subnet's zone does not offer/);
    expect(gpu.fix).toBe(`in sharedCluster.gpu.instanceTypes, use types offered in us-east-1a, us-east-1b, or pin availabilityZones.us-east-1 to zones that offer g6.2xlarge (in account ${PLATFORM}: aws ec2 describe-instance-type-offerings --region us-east-1 --location-type availability-zone --filters Name=instance-type,Values=g6.2xlarge --query "InstanceTypeOfferings[].Location" --output text)`);
  });

  it('checks the pinned zones when availabilityZones lists them', async () => {
    offer({ 'm7i.xlarge': ALL_IDS, 'g5.2xlarge': ALL_IDS, 'g6.2xlarge': ['use1-az4', 'use1-az1'], 'g5.4xlarge': ALL_IDS, 'p4d.24xlarge': ALL_IDS });
    const config = testConfig({ availabilityZones: { 'us-east-1': ['us-east-1a', 'us-east-1c'] } });
    const [, gpu] = await nodeTypeOfferChecks(testContext(config));
    expect(gpu).toMatchObject({ status: 'pass', detail: 'offered in each zone of the platform VPC: us-east-1a, us-east-1c (availabilityZones.us-east-1)' });
  });

  it('warns for a dedicated tier\'s type some usable zone lacks, and fails one offered in fewer zones than the tenant VPC spans', async () => {
    // p4d.24xlarge: 4 of the 5 usable zone IDs (not use1-az5); maxAzs of enterprise is 3
    offer({ 'm7i.xlarge': ALL_IDS, 'g5.2xlarge': ALL_IDS, 'g6.2xlarge': ALL_IDS, 'g5.4xlarge': ALL_IDS, 'p4d.24xlarge': ['use1-az1', 'use1-az2', 'use1-az4', 'use1-az6'] });
    let gpu = (await nodeTypeOfferChecks(testContext())).find((l) => l.id === 'instance-offer:gpu:enterprise:us-east-1')!;
    expect(gpu).toMatchObject({ status: 'warn', region: 'us-east-1', title: 'EC2 g5.2xlarge, g5.4xlarge, p4d.24xlarge tier enterprise (us-east-1) gpu' });
    expect(gpu.detail).toMatch(/^tiers\.enterprise\.compute\.gpu\.instanceTypes: p4d\.24xlarge is not offered in use1-az5 \(the usable zone IDs of us-east-1: use1-az4, use1-az6, use1-az1, use1-az2, use1-az5\); a tenant VPC spans 3 of them, chosen by name in the new account/);
    // m7i.xlarge in 2 zones only: no tenant VPC of 3 zones can hold the system node group
    ec2.reset();
    ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: ZONES });
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: ZONES.map((z) => ({ AvailabilityZone: z.ZoneName, AvailabilityZoneId: z.ZoneId, DefaultForAz: true })) });
    offer({ 'm7i.xlarge': ['use1-az1', 'use1-az3', 'use1-az4'], 'g5.2xlarge': ALL_IDS, 'g6.2xlarge': ALL_IDS, 'g5.4xlarge': ALL_IDS, 'p4d.24xlarge': ALL_IDS });
    const lines = await nodeTypeOfferChecks(testContext());
    const system = lines.find((l) => l.id === 'instance-offer:system-nodes:enterprise:us-east-1')!;
    expect(system.status).toBe('fail');
    expect(system.detail).toMatch(/^tiers\.enterprise\.compute\.systemNodes\.instanceType: m7i\.xlarge is offered in 2 of 5 zones \(not in use1-az6, use1-az2, use1-az5\), fewer than tiers\.enterprise\.network\.maxAzs \(3\) the tenant VPC spans/);
    expect(system.fix).toBe('remove m7i.xlarge from tiers.enterprise.compute.systemNodes.instanceType or use types offered in at least 3 zones of us-east-1: aws ec2 describe-instance-type-offerings --region us-east-1 --location-type availability-zone-id --filters Name=instance-type,Values=m7i.xlarge --query "InstanceTypeOfferings[].Location" --output text');
    // the shared cluster's system nodes (m7i.xlarge too) are in us-east-1a (use1-az4) and us-east-1b (use1-az6): az6 lacks it
    expect(lines[0]).toMatchObject({ id: 'instance-offer:shared-cluster:system-nodes', status: 'fail' });
    gpu = lines.find((l) => l.id === 'instance-offer:gpu:enterprise:us-east-1')!;
    expect(gpu.status).toBe('pass');
  });

  it('checks a dedicated tier in its DR Region too, and skips GPU node groups of maxSize 0', async () => {
    offer({ 'm7i.xlarge': ALL_IDS });
    const config = testConfig({
      sharedCluster: { gpu: { minSize: 0, maxSize: 0 } },
      tiers: { professional: { compute: { quota: { gpus: 0 } } }, enterprise: { compute: { gpu: { minSize: 0, maxSize: 0 } }, disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 8 } } },
    });
    const lines = await nodeTypeOfferChecks(testContext(config));
    expect(lines.map((l) => [l.id, l.region])).toEqual([
      ['instance-offer:shared-cluster:system-nodes', 'us-east-1'],
      ['instance-offer:system-nodes:enterprise:us-east-1', 'us-east-1'],
      ['instance-offer:system-nodes:enterprise:us-west-2', 'us-west-2'],
    ]);
    expect(lines[2].title).toBe('EC2 m7i.xlarge tier enterprise DR (us-west-2) system-nodes');
  });

  it('ends a listing whose next page has the NextToken it was asked with, instead of asking for ever', async () => {
    // The SDK's paginators stop on an absent token only (stopOnSameToken is off by default). The fake
    // gives up after 50 pages so that the old code ends too.
    let calls = 0;
    ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake((input: { LocationType: string; Filters: Array<{ Values: string[] }> }) => ({
      InstanceTypeOfferings: input.Filters[0].Values.flatMap((t) => ZONES.map((z) => ({ InstanceType: t as _InstanceType, LocationType: input.LocationType as 'availability-zone', Location: input.LocationType === 'availability-zone-id' ? z.ZoneId : z.ZoneName }))),
      ...(++calls < 50 ? { NextToken: 'same' } : {}),
    }));
    const lines = await nodeTypeOfferChecks(testContext());
    expect(lines.map((l) => l.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(ec2.commandCalls(DescribeInstanceTypeOfferingsCommand)).toHaveLength(4); // 2 listings (by name, by zone ID), 2 pages each
  });

  it('a refused or throttled read is a warning that the check could not be done', async () => {
    ec2.on(DescribeInstanceTypeOfferingsCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    const lines = await nodeTypeOfferChecks(testContext());
    expect(lines.map((l) => l.status)).toEqual(['warn', 'warn', 'warn', 'warn']);
    expect(lines[2].detail).toMatch(/^could not check whether us-east-1 offers tiers\.enterprise\.compute\.systemNodes\.instanceType: ec2:DescribeInstanceTypeOfferings \/ ec2:DescribeAvailabilityZones failed: UnauthorizedOperation: You are not authorized to perform this operation\. /);
    expect(lines[2].fix).toMatch(/^grant ec2:DescribeInstanceTypeOfferings and ec2:DescribeAvailabilityZones to your credentials, or look yourself: aws ec2 describe-instance-type-offerings /);
    ec2.on(DescribeInstanceTypeOfferingsCommand).rejects(awsError('RequestLimitExceeded', 'Request limit exceeded.', 503));
    const [shared] = await nodeTypeOfferChecks(testContext());
    expect(shared).toMatchObject({ status: 'warn', account: PLATFORM });
    expect(shared.detail).toMatch(/^could not check whether the platform VPC's zones offer sharedCluster\.systemNodes\.instanceType: .*RequestLimitExceeded/);
    expect(shared.fix).toMatch(/^rerun doctor, or look yourself: /);
  });
});
