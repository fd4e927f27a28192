import {
  DescribeVpnGatewaysCommand, paginateDescribeEgressOnlyInternetGateways, paginateDescribeNetworkAcls, paginateDescribeRouteTables,
  paginateDescribeSecurityGroups, paginateDescribeVpcEndpoints, paginateDescribeVpcPeeringConnections, type EC2Client,
} from '@aws-sdk/client-ec2';

/**
 * What keeps EC2's DeleteVpc from deleting a default VPC without a network interface in it. DeleteVpc "must detach or
 * delete all gateways and resources that are associated with the VPC before you can delete it. For example, you must
 * ... delete all security groups associated with the VPC (except the default one), delete all route tables associated
 * with the VPC (except the default one), and so on" (EC2 API Reference, DeleteVpc); its answer is `DependencyViolation`.
 * These have no network interface (DescribeNetworkInterfaces does not find them), so each is looked for by itself,
 * before anything of the VPC is deleted: a VPC that someone peered, gave an S3 gateway endpoint or a route table of its
 * own keeps its internet gateway and subnets (they were deleted first, then DeleteVpc refused the VPC).
 */

/** The EC2 actions {@link defaultVpcBlockers} calls (the session policy of *Delete default VPCs* lists them). */
export const DEFAULT_VPC_BLOCKER_ACTIONS = [
  'ec2:DescribeSecurityGroups', 'ec2:DescribeRouteTables', 'ec2:DescribeNetworkAcls', 'ec2:DescribeVpcEndpoints',
  'ec2:DescribeVpcPeeringConnections', 'ec2:DescribeEgressOnlyInternetGateways', 'ec2:DescribeVpnGateways',
] as const;

/** Peering connection states that hold the VPC (EC2 VpcPeeringConnectionStateReasonCode); `deleted`, `rejected`, `failed`, `expired` do not. */
const PEERING_HELD = ['initiating-request', 'pending-acceptance', 'provisioning', 'active', 'deleting'];
/** VPC endpoint states that are gone (EC2 State); any other holds the VPC. */
const ENDPOINT_GONE = new Set(['deleted', 'Deleted', 'rejected', 'Rejected', 'failed', 'Failed', 'expired', 'Expired']);
/** Gateway attachment states that hold the VPC (EC2 AttachmentStatus). */
const ATTACHED = new Set(['attaching', 'attached', 'detaching']);

/**
 * The resources in or attached to `vpcId` that DeleteVpc would answer `DependencyViolation` for and that have no network
 * interface: a security group other than `default`, a route table that is not the main one, a network ACL that is not
 * the default one, a VPC endpoint (a gateway endpoint has no interface), a peering connection not yet deleted, rejected
 * or expired (either side), an egress-only internet gateway, an attached virtual private gateway. Each list is also
 * checked here, not only by the call's filter (moto's DescribeVpcPeeringConnections and
 * DescribeEgressOnlyInternetGateways ignore filters).
 * @param ec2 the region's EC2 client @param vpcId the default VPC
 * @returns each as `<kind> <id>`, in that order; `[]` when DeleteVpc needs only the internet gateway and subnets gone
 * @throws the EC2 error of a call (deleteDefaultVpc turns a refusal into UNREACHABLE)
 */
export async function defaultVpcBlockers(ec2: EC2Client, vpcId: string): Promise<string[]> {
  const byVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
  const found: string[] = [];
  for await (const page of paginateDescribeSecurityGroups({ client: ec2 }, { Filters: byVpc })) {
    for (const g of page.SecurityGroups ?? []) if (g.VpcId === vpcId && g.GroupName !== 'default') found.push(`security group ${g.GroupId} (${g.GroupName})`);
  }
  for await (const page of paginateDescribeRouteTables({ client: ec2 }, { Filters: byVpc })) {
    for (const t of page.RouteTables ?? []) if (t.VpcId === vpcId && !(t.Associations ?? []).some((a) => a.Main)) found.push(`route table ${t.RouteTableId}`);
  }
  for await (const page of paginateDescribeNetworkAcls({ client: ec2 }, { Filters: byVpc })) {
    for (const acl of page.NetworkAcls ?? []) if (acl.VpcId === vpcId && !acl.IsDefault) found.push(`network ACL ${acl.NetworkAclId}`);
  }
  for await (const page of paginateDescribeVpcEndpoints({ client: ec2 }, { Filters: byVpc })) {
    for (const e of page.VpcEndpoints ?? []) if (e.VpcId === vpcId && !ENDPOINT_GONE.has(String(e.State))) found.push(`VPC endpoint ${e.VpcEndpointId} (${e.ServiceName})`);
  }
  for await (const page of paginateDescribeVpcPeeringConnections({ client: ec2 }, { Filters: [{ Name: 'status-code', Values: PEERING_HELD }] })) {
    for (const p of page.VpcPeeringConnections ?? []) {
      const ours = p.RequesterVpcInfo?.VpcId === vpcId || p.AccepterVpcInfo?.VpcId === vpcId;
      if (ours && PEERING_HELD.includes(String(p.Status?.Code))) found.push(`peering connection ${p.VpcPeeringConnectionId} (${p.Status?.Code})`);
    }
  }
  for await (const page of paginateDescribeEgressOnlyInternetGateways({ client: ec2 }, {})) {
    for (const g of page.EgressOnlyInternetGateways ?? []) {
      if ((g.Attachments ?? []).some((a) => a.VpcId === vpcId && ATTACHED.has(String(a.State)))) found.push(`egress-only internet gateway ${g.EgressOnlyInternetGatewayId}`);
    }
  }
  // DescribeVpnGateways has no pagination (EC2 API Reference).
  const vpn = await ec2.send(new DescribeVpnGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }));
  for (const g of vpn.VpnGateways ?? []) {
    if ((g.VpcAttachments ?? []).some((a) => a.VpcId === vpcId && ATTACHED.has(String(a.State)))) found.push(`virtual private gateway ${g.VpnGatewayId}`);
  }
  return found;
}
