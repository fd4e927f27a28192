import {
  CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, type Parameter, type Stack, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeInstanceTypeOfferingsCommand, DescribeSubnetsCommand, EC2Client, type AvailabilityZone, EC2ServiceException } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { chooseZones, EKS_UNSUPPORTED_ZONE_IDS, getAzsZones, regionZones } from '../../../lambdas/lifecycle/availability-zones.js';
import { blueprintObject, offeringsIn, leased, ownedTags, standingSubnets, state } from './support.js';
import { records, registryMock } from './registry-mock.js';
import { accountZone, resetZoneDeployMocks } from './zone-deploy-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

/**
 * The zone chooser against DescribeAvailabilityZones answers mocked with aws-sdk-client-mock: moto
 * (5.2.5) maps us-east-1's names to IDs one fixed way (use1-az3 is us-east-1e, the fifth zone; its
 * us-west-1 has no usw1-az2 and its ca-central-1 no cac1-az3), so it cannot give an account whose
 * first three zones hold one EKS does not support. Here us-east-1b is use1-az3, as it is in some accounts.
 * The blueprint catalog's templates (S3 GetObject) are mocked too: a template without AvailabilityZones stands
 * for an older published version.
 */
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);

const zone = accountZone;
/** An account where the second zone by name is use1-az3; listed out of order, with a Local Zone and an impaired zone. */
const ACCOUNT_ZONES: AvailabilityZone[] = [
  zone('d', 'use1-az4'), zone('b', 'use1-az3'), zone('a', 'use1-az1'), zone('c', 'use1-az2'),
  { ZoneName: 'us-east-1-bos-1a', ZoneId: 'use1-bos1-az1', ZoneType: 'local-zone', State: 'available' },
  zone('e', 'use1-az5', { State: 'impaired' }),
  // an opt-in zone the account has not opted into, and a Wavelength Zone it has
  zone('f', 'use1-az6', { OptInStatus: 'not-opted-in' }),
  { ZoneName: 'us-east-1-wl1-bos-wlz-1', ZoneId: 'use1-wl1-bos-wlz1', ZoneType: 'wavelength-zone', State: 'available', OptInStatus: 'opted-in' },
];
const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });
const valueOf = (params: Parameter[] | undefined, key: string) => params?.find((p) => p.ParameterKey === key)?.ParameterValue;

beforeEach(() => {
  resetZoneDeployMocks({ cfn, ec2, sts, s3 }, ACCOUNT_ZONES);
  // every zone offers every node-group type (the offering-aware choice has its own tests below)
  ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake(offeringsIn(ACCOUNT_ZONES.map((z) => z.ZoneName!)));
});

describe('chooseZones', () => {
  const client = () => new EC2Client({ region: 'us-east-1' });
  const where = { accountId: '333333333333', region: 'us-east-1' };

  it('ends a subnet listing whose page answers the token it was asked with (the loop asked for ever)', async () => {
    ec2.reset();
    let calls = 0;
    ec2.on(DescribeSubnetsCommand).callsFake(async () => {
      if (++calls > 5) throw new Error(`DescribeSubnets asked ${calls} times for the same page`);
      return { Subnets: [{ SubnetId: 'subnet-a', AvailabilityZone: 'us-east-1a', AvailabilityZoneId: 'use1-az1', DefaultForAz: true }], NextToken: 'same' };
    });
    const zones = await getAzsZones(new EC2Client({ region: 'us-east-1' }));
    expect(calls).toBe(2);
    expect(zones).toEqual([{ zoneName: 'us-east-1a', zoneId: 'use1-az1' }]);
  });

  it('lists the EKS User Guide\'s unsupported zone IDs', () => {
    expect(EKS_UNSUPPORTED_ZONE_IDS).toEqual(['use1-az3', 'usw1-az2', 'cac1-az3']);
  });

  it('takes Availability Zones only: available, opt-in not required or opted in (no Local or Wavelength Zone, no impaired zone, no zone not opted into), by name', async () => {
    const zones = await regionZones(client());
    expect(zones.map((z) => z.zoneName)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d']);
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'zone-type', Values: ['availability-zone'] }, { Name: 'state', Values: ['available'] }, { Name: 'opt-in-status', Values: ['opt-in-not-required', 'opted-in'] },
    ]);
  });

  it('skips a zone EKS does not support among the first three for a dedicated-cluster tier, by zone ID, in name order', async () => {
    const chosen = chooseZones(await regionZones(client()), { ...where, maxAzs: 3, dedicatedCluster: true });
    expect(chosen.zones.map((z) => z.zoneName)).toEqual(['us-east-1a', 'us-east-1c', 'us-east-1d']);
    expect(chosen.excluded).toEqual([expect.objectContaining({ zoneName: 'us-east-1b', zoneId: 'use1-az3' })]);
  });

  it('keeps it for a tier without a dedicated cluster (what Fn::GetAZs gives)', async () => {
    const chosen = chooseZones(await regionZones(client()), { ...where, maxAzs: 3, dedicatedCluster: false });
    expect(chosen.zones.map((z) => z.zoneName)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(chosen.excluded).toEqual([]);
  });

  it('fails, naming the account, region, zones seen and the ones excluded and why, when fewer than maxAzs are left', () => {
    const seen = [{ zoneName: 'us-east-1a', zoneId: 'use1-az1' }, { zoneName: 'us-east-1b', zoneId: 'use1-az3' }, { zoneName: 'us-east-1c', zoneId: 'use1-az2' }];
    const choice = () => chooseZones(seen, { ...where, maxAzs: 3, dedicatedCluster: true });
    expect(choice).toThrow(expect.objectContaining({ name: 'InvalidRequest' }));
    expect(choice).toThrow(/account 333333333333, region us-east-1: 2 usable Availability Zone\(s\) for a VPC across 3; available zones seen: us-east-1a \(use1-az1\), us-east-1b \(use1-az3\), us-east-1c \(use1-az2\); excluded us-east-1b: zone ID use1-az3 is one where Amazon EKS does not support clusters/);
  });
});

describe('Deploy blueprint passes the tenant VPC\'s zones (AvailabilityZones), records them, and checks them on every path', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const standing = (extra: Partial<Stack> = {}): { Stacks: Stack[] } => ({ Stacks: [{
    StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(),
    Tags: ownedTags(), Parameters: [], ...extra,
  }] });
  const changeSetAccepted = () => {
    cfn.on(DescribeStacksCommand).resolves(standing());
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
  };
  /** The standing stack's subnets, subnet n of each group in zones[n-1]. */
  const subnetsIn = (zones: string[]) => {
    const { resources, subnets } = standingSubnets(zones);
    cfn.on(ListStackResourcesCommand).resolves(resources);
    ec2.on(DescribeSubnetsCommand).resolves(subnets);
  };
  const changeSetParameters = () => cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Parameters;
  const refused = async (run: Promise<unknown>, message: RegExp) => {
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(message) });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
  };

  it('onboarding a dedicated-cluster tenant: the first zones by name without the EKS-unsupported one, recorded (names and IDs) before the create', async () => {
    records.set('acme', leased('onboard', { tier: 'enterprise', isolation: 'account' }));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1c,us-east-1d');
    expect(records.get('acme')).toMatchObject({ availabilityZones: ['us-east-1a', 'us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az1', 'use1-az2', 'use1-az4'] });
  });

  it('onboarding a shared-compute tenant: the first maxAzs zones by name', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1b');
    expect(records.get('acme')!.availabilityZones).toEqual(['us-east-1a', 'us-east-1b']);
  });

  // defect 1 of the first attempt (ce46d6e passed AvailabilityZones to every tenant template)
  it('passes no AvailabilityZones to a template that does not declare it: a repair or a pinned upgrade to an older published version (CloudFormation: "Parameters: [AvailabilityZones] do not exist in the template")', async () => {
    s3.on(GetObjectCommand, { Key: 'blueprints/0.9.0/starter.template.json' }).resolves(blueprintObject(['TenantId', 'VpcCidr', 'DatabaseDeletionProtection']));
    for (const change of [{ repair: true }, { blueprintVersion: '0.9.0' }]) {
      cfn.reset();
      records.set('acme', leased('change', { blueprintVersion: '0.9.0', availabilityZones: ['us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az2', 'use1-az4'] }));
      changeSetAccepted();
      // the account's default subnets are in us-east-1c and us-east-1d: Fn::GetAZs gives those, where the tenant's subnets are
      ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-d', AvailabilityZone: 'us-east-1d', DefaultForAz: true }, { SubnetId: 'subnet-c', AvailabilityZone: 'us-east-1c', DefaultForAz: true }] });
      await deploy(state('acme', { blueprint: 'tenant', change: { ...change, blueprintVersion: '0.9.0' } }));
      expect(changeSetParameters()!.map((p) => p.ParameterKey)).toEqual(['TenantId', 'VpcCidr', 'DatabaseDeletionProtection']);
      expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.TemplateURL).toMatch(/blueprints\/0\.9\.0\/starter\.template\.json$/);
    }
    // the template read is the one deployed
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['blueprints/0.9.0/starter.template.json', 'blueprints/0.9.0/starter.template.json']);
  });

  // defect 2 of the first attempt (ce46d6e re-derived a legacy tenant's zones: the first maxAzs available by name today)
  it('updating a tenant onboarded before zones were recorded: the zones its standing subnets are in, in subnet order (not today\'s first zones by name), recorded', async () => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0' }));
    changeSetAccepted();
    // its subnet 1 in us-east-1c, subnet 2 in us-east-1a: us-east-1b was impaired (or us-east-1a new) when it was created
    subnetsIn(['us-east-1c', 'us-east-1a']);
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }));
    expect(valueOf(changeSetParameters(), 'AvailabilityZones')).toBe('us-east-1c,us-east-1a');
    expect(records.get('acme')).toMatchObject({ availabilityZones: ['us-east-1c', 'us-east-1a'], availabilityZoneIds: ['use1-az2', 'use1-az1'] });
    expect(cfn.commandCalls(ListStackResourcesCommand)[0].args[0].input.StackName).toBe('tessera-acme');
    // a filter, not SubnetIds: a subnet missing after drift is skipped instead of failing the call
    expect(ec2.commandCalls(DescribeSubnetsCommand)[0].args[0].input.Filters).toEqual([{ Name: 'subnet-id', Values: ['subnet-data1', 'subnet-data2', 'subnet-compute1', 'subnet-compute2'] }]);
  });

  it('reuses recorded zones on every later update, without asking EC2 when their IDs are recorded', async () => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az2', 'use1-az4'] }));
    changeSetAccepted();
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }));
    expect(valueOf(changeSetParameters(), 'AvailabilityZones')).toBe('us-east-1c,us-east-1d');
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)).toHaveLength(0);
    expect(cfn.commandCalls(ListStackResourcesCommand)).toHaveLength(0);
  });

  // defect 4 of the first attempt (ce46d6e refused fewer recorded zones only)
  it('refuses a zone count other than the tier\'s maxAzs, fewer or more (subnets would be added or removed)', async () => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az1', 'use1-az2', 'use1-az4'] }));
    changeSetAccepted();
    await refused(deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } })),
      /tenant acme's VPC is in 3 Availability Zone\(s\) \(us-east-1a, us-east-1c, us-east-1d; as recorded\), and tier starter's network.maxAzs is 2/);
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az2', 'use1-az4'] }));
    await refused(deploy(state('acme', { blueprint: 'tenant', change: { tier: 'enterprise' } })), /in 2 Availability Zone\(s\) .*tier enterprise's network.maxAzs is 3/);
    // a standing stack's subnet count, the same
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0' }));
    subnetsIn(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    await refused(deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } })), /in 3 Availability Zone\(s\) \(us-east-1a, us-east-1b, us-east-1c; where its standing stack's subnets are\)/);
  });

  // defect 3 of the first attempt (ce46d6e checked only a tier change of a tenant with recorded zones)
  it('refuses a dedicated-cluster tier in a zone EKS does not support on every path, naming zone, zone ID, account and region, before any stack operation', async () => {
    const message = /account 333333333333, region us-east-1: tenant acme's VPC is in us-east-1b \(zone ID use1-az3\) .*where Amazon EKS does not support clusters/;
    // a tier change INTO a dedicated tier of a tenant onboarded before zones were recorded (its subnets read from the stack): the path ce46d6e missed
    records.set('acme', leased('change', { tier: 'professional', isolation: 'account', blueprintVersion: '1.0.0' }));
    changeSetAccepted();
    subnetsIn(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    await refused(deploy(state('acme', { blueprint: 'tenant', change: { tier: 'enterprise' } })), message);
    // the standing zones are recorded even so: the admin API refuses the next request up front
    expect(records.get('acme')).toMatchObject({ availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az3', 'use1-az2'] });
    // with recorded zones: a tier change, an upgrade, a rolling upgrade's run, a repair of a dedicated-cluster tenant
    for (const [kind, change] of [['change', { tier: 'enterprise' }], ['upgrade', { blueprintVersion: '2.0.0' }], ['change', { repair: true, blueprintVersion: '1.0.0' }]] as const) {
      cfn.reset();
      changeSetAccepted();
      records.set('acme', leased(kind, { tier: 'tier' in change ? 'professional' : 'enterprise', isolation: 'account', blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] }));
      await refused(deploy(state('acme', { blueprint: 'tenant', kind, change })), message);
    }
    // a re-run of an onboarding whose first attempt recorded them (the stack gone): nothing stands in them, so they
    // are chosen again (without the unsupported zone) and recorded, not refused
    cfn.reset();
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    records.set('acme', leased('onboard', { tier: 'enterprise', isolation: 'account', availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az3', 'use1-az2'] }));
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1c,us-east-1d');
    expect(records.get('acme')).toMatchObject({ availabilityZones: ['us-east-1a', 'us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az1', 'use1-az2', 'use1-az4'] });
  });

  it('checks an older template without the parameter too: a create from it takes Fn::GetAZs\' first zones, refused for a dedicated tier when one is unsupported', async () => {
    s3.on(GetObjectCommand).resolves(blueprintObject(['TenantId', 'VpcCidr', 'DatabaseDeletionProtection']));
    records.set('acme', leased('onboard', { tier: 'enterprise', isolation: 'account' }));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    await refused(deploy(state('acme', { blueprint: 'tenant' })), /us-east-1b \(zone ID use1-az3\) \(the first by name, as Fn::GetAZs gives them/);
    expect(records.get('acme')!.availabilityZones).toBeUndefined();
  });
});
