import {
  CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand, type Parameter, type Stack,
} from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, EC2Client, type AvailabilityZone } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { chooseZones, EKS_UNSUPPORTED_ZONE_IDS } from '../../../lambdas/lifecycle/availability-zones.js';
import { credentials, leased, ownedTags, setLifecycleEnv, state } from './support.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

/**
 * The zone chooser against DescribeAvailabilityZones answers mocked with aws-sdk-client-mock: moto
 * (5.2.5) maps us-east-1's names to IDs one fixed way (use1-az3 is us-east-1e, the fifth zone; its
 * us-west-1 has no usw1-az2 and its ca-central-1 no cac1-az3), so it cannot give an account whose
 * first three zones hold one EKS does not support. Here us-east-1b is use1-az3, as it is in some accounts.
 */
const cfn = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

const zone = (letter: string, id: string, extra: Partial<AvailabilityZone> = {}): AvailabilityZone => ({
  ZoneName: `us-east-1${letter}`, ZoneId: id, ZoneType: 'availability-zone', State: 'available', RegionName: 'us-east-1', ...extra,
});
/** An account where the second zone by name is use1-az3; listed out of order, with a Local Zone and an impaired zone. */
const ACCOUNT_ZONES: AvailabilityZone[] = [
  zone('d', 'use1-az4'), zone('b', 'use1-az3'), zone('a', 'use1-az1'), zone('c', 'use1-az2'),
  { ZoneName: 'us-east-1-bos-1a', ZoneId: 'use1-bos1-az1', ZoneType: 'local-zone', State: 'available' },
  zone('e', 'use1-az5', { State: 'impaired' }),
];
const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });
const valueOf = (params: Parameter[] | undefined, key: string) => params?.find((p) => p.ParameterKey === key)?.ParameterValue;

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, ec2, sts]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  ec2.on(DescribeAvailabilityZonesCommand).callsFake((input: { ZoneNames?: string[] }) => ({
    AvailabilityZones: ACCOUNT_ZONES.filter((z) => !input.ZoneNames || input.ZoneNames.includes(z.ZoneName!)),
  }));
});

describe('chooseZones', () => {
  const client = () => new EC2Client({ region: 'us-east-1' });

  it('lists the EKS User Guide\'s unsupported zone IDs', () => {
    expect(EKS_UNSUPPORTED_ZONE_IDS).toEqual(['use1-az3', 'usw1-az2', 'cac1-az3']);
  });

  it('skips a zone EKS does not support among the first three for a dedicated-cluster tier, by zone ID, in name order', async () => {
    const chosen = await chooseZones(client(), { accountId: '333333333333', region: 'us-east-1', maxAzs: 3, dedicatedCluster: true, legacyStack: false });
    expect(chosen.zones).toEqual(['us-east-1a', 'us-east-1c', 'us-east-1d']);
    expect(chosen.excluded).toEqual([expect.objectContaining({ zoneName: 'us-east-1b', zoneId: 'use1-az3' })]);
    // asks for available Availability Zones only (no Local or Wavelength Zones)
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'zone-type', Values: ['availability-zone'] }, { Name: 'state', Values: ['available'] },
    ]);
  });

  it('keeps it for a tier without a dedicated cluster (what Fn::GetAZs gives), and for a stack onboarded before zones were recorded', async () => {
    for (const [dedicatedCluster, legacyStack] of [[false, false], [true, true]]) {
      const chosen = await chooseZones(client(), { accountId: '333333333333', region: 'us-east-1', maxAzs: 3, dedicatedCluster, legacyStack });
      expect(chosen.zones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
      expect(chosen.excluded).toEqual([]);
    }
  });

  it('fails, naming the account, region, zones seen and the ones excluded and why, when fewer than maxAzs are left', async () => {
    ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: [zone('a', 'use1-az1'), zone('b', 'use1-az3'), zone('c', 'use1-az2')] });
    const choice = chooseZones(client(), { accountId: '333333333333', region: 'us-east-1', maxAzs: 3, dedicatedCluster: true, legacyStack: false });
    await expect(choice).rejects.toMatchObject({ name: 'InvalidRequest' });
    await expect(choice).rejects.toThrow(/account 333333333333, region us-east-1: 2 usable Availability Zone\(s\) for a VPC across 3; available zones seen: us-east-1a \(use1-az1\), us-east-1b \(use1-az3\), us-east-1c \(use1-az2\); excluded us-east-1b: zone ID use1-az3 is one where Amazon EKS does not support clusters/);
  });
});

describe('Deploy blueprint passes the tenant VPC\'s zones (AvailabilityZones) and records them', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const standing = (extra: Partial<Stack> = {}): { Stacks: Stack[] } => ({ Stacks: [{
    StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(),
    Tags: ownedTags(), Parameters: [], ...extra,
  }] });
  const changeSetAccepted = () => {
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
  };

  it('onboarding a dedicated-cluster tenant: the first zones by name without the EKS-unsupported one, recorded before the create', async () => {
    records.set('acme', leased('onboard', { tier: 'enterprise', isolation: 'account' }));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1c,us-east-1d');
    expect(records.get('acme')!.availabilityZones).toEqual(['us-east-1a', 'us-east-1c', 'us-east-1d']);
  });

  it('onboarding a shared-compute tenant: the first maxAzs zones by name', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1b');
    expect(records.get('acme')!.availabilityZones).toEqual(['us-east-1a', 'us-east-1b']);
  });

  it('updating a tenant onboarded before zones were recorded: the zones Fn::GetAZs gave its stack (no exclusion, no subnet moves), recorded', async () => {
    records.set('acme', leased('upgrade', { tier: 'enterprise', isolation: 'account', blueprintVersion: '1.0.0' }));
    cfn.on(DescribeStacksCommand).resolves(standing());
    changeSetAccepted();
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }));
    expect(valueOf(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1a,us-east-1b,us-east-1c');
    expect(records.get('acme')!.availabilityZones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
  });

  it('reuses recorded zones on every later update, without asking EC2 for a tier without a dedicated cluster', async () => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1c', 'us-east-1d'] }));
    cfn.on(DescribeStacksCommand).resolves(standing());
    changeSetAccepted();
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }));
    expect(valueOf(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Parameters, 'AvailabilityZones')).toBe('us-east-1c,us-east-1d');
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)).toHaveLength(0);
  });

  it('refuses an update whose tier spans more zones than the tenant has recorded (a network migration)', async () => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1c', 'us-east-1d'] }));
    cfn.on(DescribeStacksCommand).resolves(standing());
    changeSetAccepted();
    await expect(deploy(state('acme', { blueprint: 'tenant', change: { tier: 'enterprise' } }))).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringMatching(/tenant acme's VPC is in 2 recorded Availability Zone\(s\) \(us-east-1c, us-east-1d\), and its tier's network.maxAzs is 3/),
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('refuses a change to a dedicated-cluster tier whose recorded zones include one EKS does not support (moving them would replace the subnets)', async () => {
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] }));
    cfn.on(DescribeStacksCommand).resolves(standing());
    changeSetAccepted();
    await expect(deploy(state('acme', { blueprint: 'tenant', change: { tier: 'enterprise' } }))).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringMatching(/account 333333333333, region us-east-1: tenant acme's VPC is in us-east-1b \(use1-az3\), where Amazon EKS does not support clusters/),
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });
});
