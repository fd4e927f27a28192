import {
  DeleteInternetGatewayCommand, DeleteSubnetCommand, DeleteVpcCommand, DescribeEgressOnlyInternetGatewaysCommand, DescribeInternetGatewaysCommand,
  DescribeNetworkAclsCommand, DescribeNetworkInterfacesCommand, DescribeRegionsCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand, DescribeVpcEndpointsCommand, DescribeVpcPeeringConnectionsCommand, DescribeVpcsCommand, DescribeVpnGatewaysCommand,
  DetachInternetGatewayCommand, EC2Client, EC2ServiceException, type State,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { DEFAULT_VPC_ACTIONS, DEFAULT_VPC_SESSION_POLICY, deleteDefaultVpc, deleteDefaultVpcs } from '../../../lambdas/lifecycle/default-vpcs.js';
import { deployedLifecycleHandlers } from '../../../lib/lifecycle-handlers.js';
import { defaultVpcLines } from '../../../lib/cli/format.js';
import { PlatformConfigSchema } from '../../../lib/config/schema.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { configWith } from '../../support/config-with.js';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, leased, setLifecycleEnv, state, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);

const VPC = 'vpc-0default0000001';
const ec2Error = (name: string, message: string, status = 400) => new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
/** A brand-new account's default VPC in a region: one internet gateway, two default subnets, no network interface. */
function freshDefaultVpc(): void {
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: VPC, IsDefault: true, CidrBlock: '172.31.0.0/16' }] });
  ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
  ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [{ InternetGatewayId: 'igw-0001', Attachments: [{ VpcId: VPC }] }] });
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-a', VpcId: VPC, DefaultForAz: true }, { SubnetId: 'subnet-b', VpcId: VPC, DefaultForAz: true }] });
  // What DeleteVpc removes itself: the default security group, the main route table, the default network ACL.
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-default', GroupName: 'default', VpcId: VPC }] });
  ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [{ RouteTableId: 'rtb-main', VpcId: VPC, Associations: [{ Main: true, RouteTableAssociationId: 'rtbassoc-1' }] }] });
  ec2.on(DescribeNetworkAclsCommand).resolves({ NetworkAcls: [{ NetworkAclId: 'acl-default', VpcId: VPC, IsDefault: true }] });
  ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  ec2.on(DescribeVpcPeeringConnectionsCommand).resolves({ VpcPeeringConnections: [] });
  ec2.on(DescribeEgressOnlyInternetGatewaysCommand).resolves({ EgressOnlyInternetGateways: [] });
  ec2.on(DescribeVpnGatewaysCommand).resolves({ VpnGateways: [] });
  ec2.on(DetachInternetGatewayCommand).resolves({});
  ec2.on(DeleteInternetGatewayCommand).resolves({});
  ec2.on(DeleteSubnetCommand).resolves({});
  ec2.on(DeleteVpcCommand).resolves({});
}
/** The EC2 commands sent, in order, as `Name id`. */
const sent = () => ec2.calls().map((c) => {
  const input = c.args[0].input as Record<string, unknown>;
  return [c.args[0].constructor.name.replace(/Command$/, ''), input.InternetGatewayId ?? input.SubnetId ?? input.VpcId ?? ''].join(' ').trim();
});

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions();
  records.clear();
  ec2.reset();
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
});

describe('deleteDefaultVpc (EC2 DeleteVpc: gateways and subnets first)', () => {
  it('detaches and deletes the internet gateway, deletes each subnet, then the VPC, and says DELETED', async () => {
    // GIVEN a new account's default VPC
    freshDefaultVpc();
    // WHEN
    const outcome = await deleteDefaultVpc(new EC2Client({ region: 'eu-west-1' }), 'eu-west-1');
    // THEN in EC2's order, the VPC found by the isDefault filter
    expect(outcome).toEqual({ region: 'eu-west-1', state: 'DELETED', vpcId: VPC });
    expect(ec2.commandCalls(DescribeVpcsCommand)[0].args[0].input.Filters).toEqual([{ Name: 'isDefault', Values: ['true'] }]);
    expect(sent().filter((c) => !c.startsWith('Describe'))).toEqual([
      'DetachInternetGateway igw-0001', 'DeleteInternetGateway igw-0001', 'DeleteSubnet subnet-a', 'DeleteSubnet subnet-b', `DeleteVpc ${VPC}`,
    ]);
    expect(ec2.commandCalls(DetachInternetGatewayCommand)[0].args[0].input).toEqual({ InternetGatewayId: 'igw-0001', VpcId: VPC });
  });

  it('says NONE and deletes nothing in a region without a default VPC', async () => {
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [] });
    expect(await deleteDefaultVpc(new EC2Client({ region: 'us-west-2' }), 'us-west-2')).toEqual({ region: 'us-west-2', state: 'NONE' });
    expect(sent()).toEqual(['DescribeVpcs']);
  });

  it('keeps a default VPC with a network interface in it (in use), deleting nothing, and names the interface', async () => {
    freshDefaultVpc();
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-0abc', VpcId: VPC }] });
    const outcome = await deleteDefaultVpc(new EC2Client({ region: 'us-east-1' }), 'us-east-1');
    expect(outcome).toMatchObject({ region: 'us-east-1', state: 'KEPT', vpcId: VPC, reason: expect.stringContaining('eni-0abc') });
    expect(sent()).toEqual(['DescribeVpcs', `DescribeNetworkInterfaces`]);
  });

  // EC2 answers a VPC endpoint's State in lower case (`available`), which the SDK's State type spells `Available`.
  // EC2's DeleteVpc answers DependencyViolation for each of these (moto's delete_vpc checks only some): none has a network
  // interface, and the internet gateway and subnets of a VPC kept for them must stay.
  it.each([
    ['a security group of its own', () => ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-default', GroupName: 'default', VpcId: VPC }, { GroupId: 'sg-web', GroupName: 'web', VpcId: VPC }] }), 'security group sg-web (web)'],
    ['a route table that is not the main one', () => ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [{ RouteTableId: 'rtb-main', VpcId: VPC, Associations: [{ Main: true }] }, { RouteTableId: 'rtb-private', VpcId: VPC, Associations: [{ Main: false, SubnetId: 'subnet-a' }] }] }), 'route table rtb-private'],
    ['a network ACL of its own', () => ec2.on(DescribeNetworkAclsCommand).resolves({ NetworkAcls: [{ NetworkAclId: 'acl-default', VpcId: VPC, IsDefault: true }, { NetworkAclId: 'acl-strict', VpcId: VPC, IsDefault: false }] }), 'network ACL acl-strict'],
    ['an S3 gateway endpoint', () => ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [{ VpcEndpointId: 'vpce-s3', VpcId: VPC, VpcEndpointType: 'Gateway', ServiceName: 'com.amazonaws.us-east-1.s3', State: 'available' as State }] }), 'VPC endpoint vpce-s3 (com.amazonaws.us-east-1.s3)'],
    ['an active peering connection it accepted', () => ec2.on(DescribeVpcPeeringConnectionsCommand).resolves({ VpcPeeringConnections: [{ VpcPeeringConnectionId: 'pcx-1', RequesterVpcInfo: { VpcId: 'vpc-other' }, AccepterVpcInfo: { VpcId: VPC }, Status: { Code: 'active' } }] }), 'peering connection pcx-1 (active)'],
    ['an egress-only internet gateway', () => ec2.on(DescribeEgressOnlyInternetGatewaysCommand).resolves({ EgressOnlyInternetGateways: [{ EgressOnlyInternetGatewayId: 'eigw-1', Attachments: [{ VpcId: VPC, State: 'attached' }] }] }), 'egress-only internet gateway eigw-1'],
    ['an attached virtual private gateway', () => ec2.on(DescribeVpnGatewaysCommand).resolves({ VpnGateways: [{ VpnGatewayId: 'vgw-1', VpcAttachments: [{ VpcId: VPC, State: 'attached' }] }] }), 'virtual private gateway vgw-1'],
  ])('keeps a default VPC with %s whole: names it and deletes nothing (not its gateway, not its subnets)', async (_, given, named) => {
    freshDefaultVpc();
    given();
    const outcome = await deleteDefaultVpc(new EC2Client({ region: 'us-east-1' }), 'us-east-1');
    expect(outcome).toMatchObject({ region: 'us-east-1', state: 'KEPT', vpcId: VPC, reason: expect.stringContaining(named) });
    expect(sent().filter((c) => !c.startsWith('Describe'))).toEqual([]);
  });

  it('deletes a default VPC whose peering connections are over or another VPC\'s, and whose gateways are another VPC\'s (lists checked, not only filtered: moto ignores these filters)', async () => {
    freshDefaultVpc();
    ec2.on(DescribeVpcPeeringConnectionsCommand).resolves({ VpcPeeringConnections: [
      { VpcPeeringConnectionId: 'pcx-old', RequesterVpcInfo: { VpcId: VPC }, AccepterVpcInfo: { VpcId: 'vpc-other' }, Status: { Code: 'deleted' } },
      { VpcPeeringConnectionId: 'pcx-theirs', RequesterVpcInfo: { VpcId: 'vpc-a' }, AccepterVpcInfo: { VpcId: 'vpc-b' }, Status: { Code: 'active' } },
    ] });
    ec2.on(DescribeEgressOnlyInternetGatewaysCommand).resolves({ EgressOnlyInternetGateways: [{ EgressOnlyInternetGatewayId: 'eigw-2', Attachments: [{ VpcId: 'vpc-tenant', State: 'attached' }] }] });
    ec2.on(DescribeVpnGatewaysCommand).resolves({ VpnGateways: [{ VpnGatewayId: 'vgw-2', VpcAttachments: [{ VpcId: VPC, State: 'detached' }] }] });
    expect(await deleteDefaultVpc(new EC2Client({ region: 'us-east-1' }), 'us-east-1')).toEqual({ region: 'us-east-1', state: 'DELETED', vpcId: VPC });
  });

  it('says UNREACHABLE when EC2 refuses a look for what holds the VPC, having deleted nothing', async () => {
    freshDefaultVpc();
    ec2.on(DescribeVpcPeeringConnectionsCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    expect(await deleteDefaultVpc(new EC2Client({ region: 'us-east-1' }), 'us-east-1')).toMatchObject({ state: 'UNREACHABLE', vpcId: VPC });
    expect(sent().filter((c) => !c.startsWith('Describe'))).toEqual([]);
  });

  it('says KEPT with EC2\'s DependencyViolation and the call it answered (something made between the look and the call)', async () => {
    freshDefaultVpc();
    ec2.on(DeleteVpcCommand).rejects(ec2Error('DependencyViolation', `The vpc '${VPC}' has dependencies and cannot be deleted.`));
    const outcome = await deleteDefaultVpc(new EC2Client({ region: 'us-east-1' }), 'us-east-1');
    expect(outcome).toEqual({ region: 'us-east-1', state: 'KEPT', vpcId: VPC, reason: `DeleteVpc ${VPC}: DependencyViolation: The vpc '${VPC}' has dependencies and cannot be deleted.` });
  });

  it('says UNREACHABLE when EC2 refuses the caller in the region (a region-deny SCP), and tries nothing more there', async () => {
    ec2.on(DescribeVpcsCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation. with an explicit deny in a service control policy', 403));
    const outcome = await deleteDefaultVpc(new EC2Client({ region: 'ap-south-1' }), 'ap-south-1');
    expect(outcome).toMatchObject({ region: 'ap-south-1', state: 'UNREACHABLE', reason: expect.stringMatching(/^DescribeVpcs: UnauthorizedOperation: .*service control policy/) });
    expect(sent()).toEqual(['DescribeVpcs']);
  });

  it('counts what an earlier, stopped run deleted as deleted (a run again after a failure finishes the job)', async () => {
    freshDefaultVpc();
    ec2.on(DetachInternetGatewayCommand).rejects(ec2Error('Gateway.NotAttached', 'resource igw-0001 is not attached to network vpc'));
    ec2.on(DeleteSubnetCommand, { SubnetId: 'subnet-a' }).rejects(ec2Error('InvalidSubnetID.NotFound', "The subnet ID 'subnet-a' does not exist"));
    expect(await deleteDefaultVpc(new EC2Client({ region: 'us-east-1' }), 'us-east-1')).toEqual({ region: 'us-east-1', state: 'DELETED', vpcId: VPC });
    expect(sent()).toContain(`DeleteVpc ${VPC}`);
  });

  it('throws any other EC2 error (the step fails and is run again), not a silent KEPT', async () => {
    freshDefaultVpc();
    ec2.on(DeleteSubnetCommand).rejects(new EC2ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'An internal error has occurred' }));
    await expect(deleteDefaultVpc(new EC2Client({ region: 'us-east-1', maxAttempts: 1 }), 'us-east-1')).rejects.toThrow(/internal error/);
    expect(sent()).not.toContain(`DeleteVpc ${VPC}`);
  });

  it('works through every region given, one outcome each in their order', async () => {
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [] });
    const { outcomes, failure } = await deleteDefaultVpcs((region) => new EC2Client({ region }), ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'sa-east-1'], 2);
    expect(outcomes.map((o) => `${o.region} ${o.state}`)).toEqual(['eu-west-1 NONE', 'us-east-1 NONE', 'us-west-2 NONE', 'ap-south-1 NONE', 'sa-east-1 NONE']);
    expect(failure).toBeUndefined();
  });

  it('settles every region when one fails: the others\' outcomes and the first failure, no call left under way', async () => {
    // GIVEN us-east-1's DescribeVpcs failing past the SDK's retries, the other regions with a default VPC each
    freshDefaultVpc();
    const failing = new EC2ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'An internal error has occurred' });
    const clientFor = (region: string) => {
      const client = new EC2Client({ region, maxAttempts: 1 });
      if (region === 'us-east-1') client.send = (async () => { throw failing; }) as never;
      return client;
    };
    const { outcomes, failure } = await deleteDefaultVpcs(clientFor, ['eu-west-1', 'us-east-1', 'us-west-2'], 1);
    // THEN the region after the failed one was worked on too
    expect(outcomes.map((o) => `${o.region} ${o.state}`)).toEqual(['eu-west-1 DELETED', 'us-west-2 DELETED']);
    expect(failure).toEqual({ region: 'us-east-1', error: failing });
  });
});

describe('Delete default VPCs (the onboarding step)', () => {
  const run = async () => (await import('../../../lambdas/lifecycle/delete-default-vpcs.js')).handler(state('ent') as never);
  const enterprise = () => records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: '444444444444', vpcCidr: undefined }));

  it('makes no call for a tier without deleteDefaultVpcs', async () => {
    enterprise();
    expect(await run()).toEqual({ skipped: true });
    expect(sts.calls()).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
    expect(records.get('ent')!.defaultVpcs).toBeUndefined();
  });

  it('deletes in every region the account has enabled and allowedRegions lists, as the provisioning role narrowed to the EC2 actions, and records each region', async () => {
    // GIVEN enterprise with deleteDefaultVpcs (allowedRegions us-east-1, us-west-2), and an account with four regions enabled, each with its default VPC
    useConfig(configWith({ tiers: { enterprise: { deleteDefaultVpcs: true } } }));
    enterprise();
    ec2.on(DescribeRegionsCommand).resolves({ Regions: [{ RegionName: 'us-west-2' }, { RegionName: 'us-east-1' }, { RegionName: 'ap-south-1' }, { RegionName: 'eu-west-1' }] });
    freshDefaultVpc();
    const regionOf = async (c: { thisValue?: { config: { region: () => Promise<string> } } }) => c.thisValue!.config.region();
    // WHEN
    const out = await run();
    // THEN one provisioning session with the session policy (through the management account's session, as every
    // tenant-account step: the first AssumeRole), DescribeRegions without AllRegions
    const sessions = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(sessions.map((s) => s.RoleSessionName)).toEqual(['tessera-lifecycle', 'tessera-ent-default-vpcs']);
    const assume = sessions[1];
    expect(assume.RoleArn).toBe('arn:aws:iam::444444444444:role/TesseraProvisioning');
    expect(JSON.parse(assume.Policy!)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [...DEFAULT_VPC_ACTIONS], Resource: '*' }] });
    expect(assume.Policy).toBe(DEFAULT_VPC_SESSION_POLICY);
    expect(ec2.commandCalls(DescribeRegionsCommand)[0].args[0].input).toEqual({});
    // AND no EC2 call into a region outside allowedRegions (the guardrail SCP denies them all): those only recorded
    const called = await Promise.all(ec2.calls().filter((c) => !(c.args[0] instanceof DescribeRegionsCommand)).map((c) => regionOf(c as never)));
    expect([...new Set(called)].sort()).toEqual(['us-east-1', 'us-west-2']);
    expect(out).toEqual({ deleted: ['us-east-1', 'us-west-2'], none: [], kept: [], unreachable: [], outside: ['ap-south-1', 'eu-west-1'] });
    const recorded = records.get('ent')!.defaultVpcs!;
    expect(recorded.regions).toEqual(['us-east-1', 'us-west-2'].map((region) => ({ region, state: 'DELETED', vpcId: VPC })));
    expect(recorded.outsideAllowedRegions).toEqual(['ap-south-1', 'eu-west-1']);
    expect(Date.parse(recorded.checkedAt)).not.toBeNaN();
  });
});

describe('Delete default VPCs failing in one region, then run again', () => {
  const run = async () => (await import('../../../lambdas/lifecycle/delete-default-vpcs.js')).handler(state('ent') as never);

  it('records what it deleted before it fails, and the run again keeps those regions DELETED (not NONE)', async () => {
    // GIVEN enterprise with deleteDefaultVpcs (allowedRegions us-east-1, us-west-2), a default VPC in each, and
    // us-west-2's DeleteSubnet failing with a server error past the SDK's retries
    useConfig(configWith({ tiers: { enterprise: { deleteDefaultVpcs: true } } }));
    records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: '444444444444', vpcCidr: undefined }));
    ec2.on(DescribeRegionsCommand).resolves({ Regions: [{ RegionName: 'us-east-1' }, { RegionName: 'us-west-2' }] });
    freshDefaultVpc();
    const deletedIn = new Set<string>();
    ec2.on(DeleteVpcCommand).callsFake(async (_input, getClient) => { deletedIn.add(await getClient().config.region()); return {}; });
    ec2.on(DeleteSubnetCommand).callsFake(async (_input, getClient) => {
      if ((await getClient().config.region()) === 'us-west-2') throw new EC2ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'An internal error has occurred' });
      return {};
    });
    // WHEN the step runs: it fails
    await expect(run()).rejects.toThrow(/internal error/);
    // THEN us-east-1's deletion is on the record already
    expect(deletedIn).toEqual(new Set(['us-east-1']));
    expect(records.get('ent')!.defaultVpcs!.regions).toEqual([{ region: 'us-east-1', state: 'DELETED', vpcId: VPC }]);
    // WHEN run again: us-east-1 has no default VPC any more, us-west-2's goes
    ec2.reset();
    ec2.on(DescribeRegionsCommand).resolves({ Regions: [{ RegionName: 'us-east-1' }, { RegionName: 'us-west-2' }] });
    freshDefaultVpc();
    ec2.on(DescribeVpcsCommand).callsFake(async (_input, getClient) => ((await getClient().config.region()) === 'us-east-1' ? { Vpcs: [] } : { Vpcs: [{ VpcId: VPC, IsDefault: true }] }));
    await run();
    // THEN the record says what the step did in each region
    expect(records.get('ent')!.defaultVpcs!.regions).toEqual([{ region: 'us-east-1', state: 'DELETED', vpcId: VPC }, { region: 'us-west-2', state: 'DELETED', vpcId: VPC }]);
  });
});

describe('deleteDefaultVpcs in the config and the platform', () => {
  it('is refused on a vpc isolation tier, naming the key', () => {
    const config = structuredClone(DEFAULT_CONFIG) as Record<string, any>;
    config.tiers.starter.deleteDefaultVpcs = true;
    const parsed = PlatformConfigSchema.safeParse(config);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain('tiers.starter.deleteDefaultVpcs');
  });

  it('deploys the step only when a tier asks for it', () => {
    expect(deployedLifecycleHandlers(configWith())).not.toContain('delete-default-vpcs');
    expect(deployedLifecycleHandlers(configWith({ tiers: { enterprise: { deleteDefaultVpcs: true } } }))).toContain('delete-default-vpcs');
  });

  it('tenants show counts each outcome and names the regions that need a look', () => {
    expect(defaultVpcLines({ checkedAt: '2026-12-07T00:00:00.000Z', regions: [
      { region: 'eu-west-1', state: 'DELETED', vpcId: 'vpc-1' }, { region: 'us-east-1', state: 'KEPT', vpcId: 'vpc-2', reason: 'in use: network interface eni-1 is in it' },
      { region: 'ap-south-1', state: 'UNREACHABLE', reason: 'DescribeVpcs: UnauthorizedOperation: denied' },
    ], outsideAllowedRegions: ['ap-east-1', 'sa-east-1'] })).toEqual([
      ['default VPC', '1 DELETED, 0 NONE, 1 KEPT, 1 UNREACHABLE of 3 regions (2026-12-07T00:00:00.000Z); 2 regions outside allowedRegions not touched'],
      '  us-east-1 KEPT vpc-2: in use: network interface eni-1 is in it',
      '  ap-south-1 UNREACHABLE: DescribeVpcs: UnauthorizedOperation: denied',
    ]);
  });
});
