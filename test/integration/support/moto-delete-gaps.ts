import {
  DeleteFlowLogsCommand, DeleteInternetGatewayCommand, DeleteNatGatewayCommand, DeleteRouteTableCommand, DeleteVpcEndpointsCommand,
  DescribeAddressesCommand, DescribeInternetGatewaysCommand, DescribeRouteTablesCommand, DetachInternetGatewayCommand, DisassociateRouteTableCommand,
  EC2Client, ReleaseAddressCommand,
} from '@aws-sdk/client-ec2';
import {
  DeletePolicyCommand, DetachGroupPolicyCommand, DetachRolePolicyCommand, DetachUserPolicyCommand, IAMClient, ListEntitiesForPolicyCommand,
} from '@aws-sdk/client-iam';
import type { AwsCredentialIdentity } from '@smithy/types';
import { harnessHttp } from './harness-http.js';
import type { MotoCloudFormation } from './moto-cloudformation.js';
import type { DeployedResource } from './resource-deleters.js';

/**
 * The deletions CloudFormation's handlers make and moto's CloudFormation skips: for the resource
 * types whose moto model has no delete (moto-cloudformation.ts `deletes`), moto's DeleteStack
 * leaves the resource in place, and what depends on it then fails: a role keeps its managed
 * policy (IAM DeleteConflict), a VPC keeps its route tables (EC2 DependencyViolation). Before
 * moto deletes a stack's resources, the emulation deletes these by API, as their handlers would,
 * in an order that frees what they hold (policies before roles, associations before route
 * tables, NAT gateways before their addresses, the gateway attachment before the gateway).
 */

type Deleter = (resources: DeployedResource[], credentials: AwsCredentialIdentity) => Promise<void>;

const ec2 = (credentials: AwsCredentialIdentity) => new EC2Client(harnessHttp({ credentials }));

/** Detaches a managed policy from every role, user and group, then deletes it (the AWS::IAM::ManagedPolicy delete handler). */
export async function releaseManagedPolicy(policyArn: string, credentials: AwsCredentialIdentity): Promise<void> {
  const iam = new IAMClient(harnessHttp({ credentials }));
  const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: policyArn }));
  for (const r of entities.PolicyRoles ?? []) await iam.send(new DetachRolePolicyCommand({ PolicyArn: policyArn, RoleName: r.RoleName }));
  for (const u of entities.PolicyUsers ?? []) await iam.send(new DetachUserPolicyCommand({ PolicyArn: policyArn, UserName: u.UserName }));
  for (const g of entities.PolicyGroups ?? []) await iam.send(new DetachGroupPolicyCommand({ PolicyArn: policyArn, GroupName: g.GroupName }));
  await iam.send(new DeletePolicyCommand({ PolicyArn: policyArn }));
}

/** In deletion order. moto's physical ids: a route table id for an association, the VPC id for a gateway attachment, the public IP for an EIP. */
const DELETERS: Array<[type: string, deleter: Deleter]> = [
  ['AWS::IAM::ManagedPolicy', async (rs, c) => { for (const r of rs) await releaseManagedPolicy(r.physicalId, c); }],
  ['AWS::EC2::FlowLog', async (rs, c) => { await ec2(c).send(new DeleteFlowLogsCommand({ FlowLogIds: rs.map((r) => r.physicalId) })); }],
  ['AWS::EC2::VPCEndpoint', async (rs, c) => { await ec2(c).send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: rs.map((r) => r.physicalId) })); }],
  ['AWS::EC2::SubnetRouteTableAssociation', async (rs, c) => {
    const tables = (await ec2(c).send(new DescribeRouteTablesCommand({ RouteTableIds: [...new Set(rs.map((r) => r.physicalId))] }))).RouteTables ?? [];
    for (const a of tables.flatMap((t) => t.Associations ?? []).filter((a) => !a.Main && a.SubnetId)) {
      await ec2(c).send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId }));
    }
  }],
  ['AWS::EC2::RouteTable', async (rs, c) => { for (const r of rs) await ec2(c).send(new DeleteRouteTableCommand({ RouteTableId: r.physicalId })); }],
  ['AWS::EC2::NatGateway', async (rs, c) => { for (const r of rs) await ec2(c).send(new DeleteNatGatewayCommand({ NatGatewayId: r.physicalId })); }],
  ['AWS::EC2::EIP', async (rs, c) => {
    const addresses = (await ec2(c).send(new DescribeAddressesCommand({ PublicIps: rs.map((r) => r.physicalId) }))).Addresses ?? [];
    for (const a of addresses) await ec2(c).send(new ReleaseAddressCommand({ AllocationId: a.AllocationId }));
  }],
  ['AWS::EC2::VPCGatewayAttachment', async (rs, c) => {
    const vpcs = new Set(rs.map((r) => r.physicalId));
    const gateways = (await ec2(c).send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [...vpcs] }] }))).InternetGateways ?? [];
    for (const g of gateways) for (const a of g.Attachments ?? []) if (vpcs.has(a.VpcId!)) await ec2(c).send(new DetachInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId, VpcId: a.VpcId }));
  }],
  ['AWS::EC2::InternetGateway', async (rs, c) => { for (const r of rs) await ec2(c).send(new DeleteInternetGatewayCommand({ InternetGatewayId: r.physicalId })); }],
];

/** Types moto leaves that go with the resource holding them (a route with its table, a rule with its group): nothing to do. */
const GO_WITH_THEIR_PARENT = new Set(['AWS::EC2::Route', 'AWS::EC2::SecurityGroupIngress']);

/**
 * Deletes, among `resources` (all about to be deleted), those moto would leave; throws for a type
 * moto cannot delete and no deleter here knows, naming it.
 */
export async function deleteWhatMotoLeaves(resources: readonly DeployedResource[], credentials: AwsCredentialIdentity, moto: MotoCloudFormation): Promise<void> {
  const left = resources.filter((r) => !moto.deletes(r.type) && !GO_WITH_THEIR_PARENT.has(r.type));
  const unknown = [...new Set(left.map((r) => r.type))].filter((t) => !DELETERS.some(([type]) => type === t));
  if (unknown.length) throw new Error(`moto's CloudFormation cannot delete ${unknown.join(', ')}, and the emulation has no deleter for it (test/integration/support/moto-delete-gaps.ts)`);
  for (const [type, deleter] of DELETERS) {
    const mine = left.filter((r) => r.type === type && r.physicalId);
    if (mine.length) await deleter(mine, credentials);
  }
}
