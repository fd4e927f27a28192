import {
  CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, ListStacksCommand, type Stack, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, type AvailabilityZone, type Subnet, EC2ServiceException } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { blueprintObject, leased, ownedTags, standingSubnets, state } from './support.js';
import { records, registryMock } from './registry-mock.js';
import { accountZone, resetZoneDeployMocks } from './zone-deploy-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

// Regressions found by a hostile review of the tenant zones work (3399315): older templates without AvailabilityZones,
// drifted subnets, recorded zones with no stack, and the zone count of a pinned older version.
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const zone = accountZone;
// us-east-1b is use1-az3 in this account (EKS-unsupported)
const ACCOUNT_ZONES: AvailabilityZone[] = [zone('a', 'use1-az1'), zone('b', 'use1-az3'), zone('c', 'use1-az2'), zone('d', 'use1-az4')];
const OLD = ['TenantId', 'VpcCidr', 'DatabaseDeletionProtection', 'GpuNodesMinSize', 'GpuNodesDesiredSize'];

beforeEach(() => {
  resetZoneDeployMocks({ cfn, ec2, sts, s3 }, ACCOUNT_ZONES);
});

describe('tenant zones: regressions', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const standing = (): { Stacks: Stack[] } => ({ Stacks: [{
    StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags(), Parameters: [],
  }] });
  const changeSetAccepted = () => {
    cfn.on(DescribeStacksCommand).resolves(standing());
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
  };

  it('A1: a dedicated tenant recorded in a,c,d (b = use1-az3 skipped) deployed with an older template (no AvailabilityZones: Fn::GetAZs gives a,b,c) is refused before any stack operation', async () => {
    s3.on(GetObjectCommand, { Key: 'blueprints/0.9.0/enterprise.template.json' }).resolves(blueprintObject(OLD));
    records.set('acme', leased('change', { tier: 'enterprise', isolation: 'account', blueprintVersion: '1.0.0',
      availabilityZones: ['us-east-1a', 'us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az1', 'use1-az2', 'use1-az4'] }));
    changeSetAccepted();
    const run = deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '0.9.0' } }));
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/us-east-1a, us-east-1c, us-east-1d \(as recorded\).*Fn::GetAZs, which here gives us-east-1a, us-east-1b, us-east-1c .*would move the subnets \(us-east-1c → us-east-1b, us-east-1d → us-east-1c\)/) });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('A2: a shared tenant recorded in a,c (chosen while b was impaired) deployed with an older template (Fn::GetAZs: a,b) is refused: its c subnets would move to b', async () => {
    s3.on(GetObjectCommand, { Key: 'blueprints/0.9.0/starter.template.json' }).resolves(blueprintObject(OLD));
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az2'] }));
    changeSetAccepted();
    const run = deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '0.9.0' } }));
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/us-east-1a, us-east-1c \(as recorded\).*gives us-east-1a, us-east-1b .*us-east-1c → us-east-1b/) });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('A2 (no default subnet, b impaired): Fn::GetAZs gives all zones, the impaired one too (a, b): the rollback is refused, its c subnets would move to b', async () => {
    ec2.on(DescribeAvailabilityZonesCommand).callsFake((input: { ZoneNames?: string[]; Filters?: Array<{ Name: string; Values: string[] }> }) => {
      const all = [zone('a', 'use1-az1'), zone('b', 'use1-az3', { State: 'impaired' }), zone('c', 'use1-az2'), zone('d', 'use1-az4')];
      const state = input.Filters?.find((f) => f.Name === 'state')?.Values;
      return { AvailabilityZones: all.filter((z) => (!input.ZoneNames || input.ZoneNames.includes(z.ZoneName!)) && (!state || state.includes(z.State!))) };
    });
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [] }); // the default VPC was deleted
    s3.on(GetObjectCommand, { Key: 'blueprints/0.9.0/starter.template.json' }).resolves(blueprintObject(OLD, 2));
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az2'] }));
    changeSetAccepted();
    const run = deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '0.9.0' } }));
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/gives us-east-1a, us-east-1b .*us-east-1c → us-east-1b/) });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('A2 (default subnets): Fn::GetAZs gives only the zones with a default subnet (a, c): the same tenant\'s rollback goes through, nothing moves', async () => {
    s3.on(GetObjectCommand, { Key: 'blueprints/0.9.0/starter.template.json' }).resolves(blueprintObject(OLD, 2));
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', availabilityZones: ['us-east-1a', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az2'] }));
    changeSetAccepted();
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [
      { SubnetId: 'subnet-def-c', AvailabilityZone: 'us-east-1c', AvailabilityZoneId: 'use1-az2', DefaultForAz: true },
      { SubnetId: 'subnet-def-a', AvailabilityZone: 'us-east-1a', AvailabilityZoneId: 'use1-az1', DefaultForAz: true },
    ] });
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '0.9.0' } }));
    expect(ec2.commandCalls(DescribeSubnetsCommand)[0].args[0].input.Filters).toEqual([{ Name: 'default-for-az', Values: ['true'] }]);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Parameters?.map((p) => p.ParameterKey)).not.toContain('AvailabilityZones');
  });

  // EC2 DescribeSubnets: SubnetIds with an ID that does not exist fails the whole call (InvalidSubnetID.NotFound);
  // the filter subnet-id returns the subnets that match.
  const describeSubnets = (subnets: { Subnets: Subnet[] }, gone: readonly string[]) => (input: { SubnetIds?: string[]; Filters?: Array<{ Name: string; Values: string[] }> }) => {
    const missing = input.SubnetIds?.find((id) => gone.includes(id));
    if (missing) throw Object.assign(new Error(`The subnet ID '${missing}' does not exist`), { name: 'InvalidSubnetID.NotFound', $fault: 'client' });
    const ids = input.Filters?.find((f) => f.Name === 'subnet-id')?.Values ?? input.SubnetIds;
    if (!ids) return { Subnets: [] }; // default-for-az: no default subnet
    return { Subnets: subnets.Subnets.filter((sn) => ids.includes(sn.SubnetId!) && !gone.includes(sn.SubnetId!)) };
  };

  it('A3: a legacy tenant whose subnet was replaced by hand (drift): the missing subnet is skipped, its zone index known from the other group\'s; the repair reaches CloudFormation with the standing zones', async () => {
    records.set('acme', leased('change', { blueprintVersion: '1.0.0' }));
    changeSetAccepted();
    const { resources, subnets } = standingSubnets(['us-east-1a', 'us-east-1c']);
    cfn.on(ListStackResourcesCommand).resolves(resources);
    ec2.on(DescribeSubnetsCommand).callsFake(describeSubnets(subnets, ['subnet-data2']));
    await deploy(state('acme', { blueprint: 'tenant', change: { repair: true, blueprintVersion: '1.0.0' } }));
    expect(ec2.commandCalls(DescribeSubnetsCommand)[0].args[0].input).toEqual({ Filters: [{ Name: 'subnet-id', Values: ['subnet-data1', 'subnet-data2', 'subnet-compute1', 'subnet-compute2'] }] });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Parameters?.find((p) => p.ParameterKey === 'AvailabilityZones')?.ParameterValue).toBe('us-east-1a,us-east-1c');
    expect(records.get('acme')?.availabilityZones).toEqual(['us-east-1a', 'us-east-1c']);
  });

  it('A3 (a zone index lost): no subnet of a zone index survives: refused (InvalidRequest, terminal) naming their logical IDs, before any stack operation', async () => {
    records.set('acme', leased('change', { blueprintVersion: '1.0.0' }));
    changeSetAccepted();
    const { resources, subnets } = standingSubnets(['us-east-1a', 'us-east-1c']);
    cfn.on(ListStackResourcesCommand).resolves(resources);
    ec2.on(DescribeSubnetsCommand).callsFake(describeSubnets(subnets, ['subnet-data2', 'subnet-compute2']));
    const run = deploy(state('acme', { blueprint: 'tenant', change: { repair: true, blueprintVersion: '1.0.0' } }));
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/zone index 1 .*NetworkVpcdataSubnet2SubnetA1B2C3D4 \(subnet-data2\), NetworkVpccomputeSubnet2SubnetA1B2C3D4 \(subnet-compute2\)/) });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('B1: an onboarding re-run whose first attempt recorded zones but left no stack, after the tier\'s maxAzs changed (here: 3 recorded, starter has 2): nothing stands, so nothing migrates; it should re-choose, not refuse as a network migration', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    cfn.on(ListStacksCommand).resolves({ StackSummaries: [] }); // no earlier attempt's stack to complete (completeFailedRollbacks)
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    const rec = leased('onboard', { availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az3', 'use1-az2'] });
    records.set('acme', { ...rec, executions: [{ ...rec.executions[0], executionArn: 'arn:aws:states:us-east-1:222222222222:execution:x:first', status: 'FAILED' }, ...rec.executions] });
    let error: unknown;
    try { await deploy(state('acme', { blueprint: 'tenant' })); } catch (e) { error = e; }
    expect((error as Error | undefined)?.stack).toBeUndefined();
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(1);
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters?.find((p) => p.ParameterKey === 'AvailabilityZones')?.ParameterValue).toBe('us-east-1a,us-east-1b');
    expect(records.get('acme')).toMatchObject({ availabilityZones: ['us-east-1a', 'us-east-1b'], availabilityZoneIds: ['use1-az1', 'use1-az3'] });
  });

  it('B2: an onboarding re-run with recorded zones but no stack, one of them now impaired: CreateStack still gets the impaired zone', async () => {
    ec2.on(DescribeAvailabilityZonesCommand).callsFake((input: { ZoneNames?: string[] }) => ({
      AvailabilityZones: [zone('a', 'use1-az1'), zone('b', 'use1-az3', { State: 'impaired' }), zone('c', 'use1-az2'), zone('d', 'use1-az4')].filter((z) => !input.ZoneNames || input.ZoneNames.includes(z.ZoneName!)),
    }));
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    records.set('acme', leased('onboard', { availabilityZones: ['us-east-1a', 'us-east-1b'], availabilityZoneIds: ['use1-az1', 'use1-az3'] }));
    await deploy(state('acme', { blueprint: 'tenant' }));
    const v = cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters?.find((p) => p.ParameterKey === 'AvailabilityZones')?.ParameterValue;
    expect(v).toBe('us-east-1a,us-east-1c');
    expect(records.get('acme')).toMatchObject({ availabilityZones: ['us-east-1a', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az2'] });
  });

  it('B3: recorded zones, no stack, still fit (count, state, EKS): kept as recorded', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    records.set('acme', leased('onboard', { availabilityZones: ['us-east-1c', 'us-east-1d'], availabilityZoneIds: ['use1-az2', 'use1-az4'] }));
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters?.find((p) => p.ParameterKey === 'AvailabilityZones')?.ParameterValue).toBe('us-east-1c,us-east-1d');
  });

  it('C1: a drift repair of a tenant on an older version whose template has 3 zones (published when starter had maxAzs 3; today 2): the repair re-applies that same template, nothing moves, yet it is refused against today\'s config', async () => {
    // the 0.9.0 template: no AvailabilityZones parameter, its subnets in Fn::GetAZs' first 3 (a, b, c)
    s3.on(GetObjectCommand, { Key: 'blueprints/0.9.0/starter.template.json' }).resolves(blueprintObject(OLD, 3));
    records.set('acme', leased('change', { blueprintVersion: '0.9.0' }));
    changeSetAccepted();
    const { resources, subnets } = standingSubnets(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    cfn.on(ListStackResourcesCommand).resolves(resources);
    ec2.on(DescribeSubnetsCommand).callsFake(describeSubnets(subnets, []));
    let error: unknown;
    try { await deploy(state('acme', { blueprint: 'tenant', change: { repair: true, blueprintVersion: '0.9.0' } })); } catch (e) { error = e; }
    expect((error as Error | undefined)?.stack).toBeUndefined();
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  it('C2: the same tenant pinned to the current version, whose template has 2 zones: refused, naming the template\'s count', async () => {
    s3.on(GetObjectCommand).resolves(blueprintObject(undefined, 2));
    records.set('acme', leased('change', { blueprintVersion: '0.9.0' }));
    changeSetAccepted();
    const { resources, subnets } = standingSubnets(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    cfn.on(ListStackResourcesCommand).resolves(resources);
    ec2.on(DescribeSubnetsCommand).callsFake(describeSubnets(subnets, []));
    const run = deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '1.0.0' } }));
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/3 Availability Zone\(s\).*the template deployed \(tier starter, version 1\.0\.0\) places its subnets in 2/) });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });
});
