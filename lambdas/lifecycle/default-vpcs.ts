import {
  DeleteInternetGatewayCommand, DeleteSubnetCommand, DeleteVpcCommand, DescribeRegionsCommand, DescribeVpcsCommand, DetachInternetGatewayCommand,
  paginateDescribeInternetGateways, paginateDescribeNetworkInterfaces, paginateDescribeSubnets, type EC2Client,
} from '@aws-sdk/client-ec2';
import type { DefaultVpcOutcome } from '../../lib/tenant-record.js';
import { DEFAULT_VPC_BLOCKER_ACTIONS, defaultVpcBlockers } from './default-vpc-blockers.js';

/**
 * Deleting a tenant account's default VPCs (AFT's `aft_feature_delete_default_vpcs_enabled`, LZA's `defaultVpc.delete`),
 * with EC2's own rules: DeleteVpc "must detach or delete all gateways and resources that are associated with the VPC
 * before you can delete it", and deletes the VPC's default security group, network ACL and main route table itself
 * (EC2 API Reference, DeleteVpc). A default VPC is "one per Region" (Amazon VPC User Guide, Default VPCs), found by the
 * `isDefault` filter of DescribeVpcs.
 */

/** The EC2 actions the step needs, and the only ones its provisioning session may use (its STS session policy). */
export const DEFAULT_VPC_ACTIONS = [
  'ec2:DescribeRegions', 'ec2:DescribeVpcs', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInternetGateways', 'ec2:DescribeSubnets',
  ...DEFAULT_VPC_BLOCKER_ACTIONS, 'ec2:DetachInternetGateway', 'ec2:DeleteInternetGateway', 'ec2:DeleteSubnet', 'ec2:DeleteVpc',
] as const;

/**
 * The session policy of *Delete default VPCs*' provisioning session (STS AssumeRole `Policy`): the role Organizations
 * creates in a vended account has AdministratorAccess, and a session policy leaves the session only what both allow.
 * No EC2 condition key tells a default VPC from another (Service Authorization Reference, Amazon EC2), so `Resource`
 * is `*`; what is deleted is decided by the `isDefault` filter in {@link deleteDefaultVpc}.
 */
export const DEFAULT_VPC_SESSION_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: [...DEFAULT_VPC_ACTIONS], Resource: '*' }],
});

/** EC2 error codes that say the caller may not act in the region (an SCP's region deny, a region not enabled). */
const UNREACHABLE = new Set(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException', 'AuthFailure', 'OptInRequired', 'InvalidClientTokenId']);
/** EC2 error codes that say a resource is gone already: an earlier run, stopped after the call, deleted it. */
const GONE = new Set(['InvalidInternetGatewayID.NotFound', 'Gateway.NotAttached', 'InvalidSubnetID.NotFound', 'InvalidVpcID.NotFound']);

/**
 * The regions enabled in the account of `ec2`'s credentials: DescribeRegions without `AllRegions` "displays only the
 * Regions that are enabled for your account" (EC2 API Reference, DescribeRegions), opt-in regions not opted into left out.
 * @returns region names, sorted
 */
export async function enabledRegions(ec2: EC2Client): Promise<string[]> {
  const out = await ec2.send(new DescribeRegionsCommand({}));
  return (out.Regions ?? []).map((r) => r.RegionName ?? '').filter(Boolean).sort();
}

/**
 * The regions of a tenant account a baseline step calls (*Delete default VPCs*, *Enable EBS encryption by default*):
 * those enabled in the account (enabledRegions) and in the config's `allowedRegions`; `outside`, the enabled ones that
 * are not, where nothing is called (the guardrail SCP `DenyOutsideAllowedRegions` denies every call there).
 * @param allowedRegions the platform config's `allowedRegions`
 * @returns both lists, sorted
 */
export async function accountRegions(ec2: EC2Client, allowedRegions: readonly string[]): Promise<{ regions: string[]; outside: string[] }> {
  const enabled = await enabledRegions(ec2);
  const allowed = new Set(allowedRegions);
  return { regions: enabled.filter((r) => allowed.has(r)), outside: enabled.filter((r) => !allowed.has(r)) };
}

/** The error's EC2 code (`name`), and `call` before its message, for a record's `reason`. */
function said(call: string, e: unknown): { code: string; reason: string } {
  const err = e as { name?: string; message?: string };
  return { code: err.name ?? 'Error', reason: `${call}: ${err.name ?? 'Error'}: ${err.message ?? String(e)}` };
}

/** Runs `call`; an error code of GONE counts as done (the resource is deleted already). */
async function idempotent(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    if (!GONE.has((e as Error).name)) throw e;
  }
}

/**
 * Deletes the default VPC of the region of `ec2`: DescribeVpcs (`isDefault` true); a VPC with any network interface
 * (an instance, a NAT gateway, an interface endpoint, a Lambda function or database placed in it), or with anything else
 * DeleteVpc refuses for (default-vpc-blockers.ts: a security group, route table or network ACL of its own, a gateway
 * endpoint, a peering connection, an egress-only or virtual private gateway), is in use and kept, untouched. Otherwise each internet gateway attached to it is detached and deleted, each of its subnets deleted, then
 * the VPC (its default security group, network ACL and main route table go with it). A resource an earlier run deleted
 * counts as deleted. Safe to run again: a region with no default VPC is `NONE`.
 * @param region the region of `ec2`, recorded in the outcome
 * @returns `DELETED` with `vpcId`; `NONE`; `KEPT` with `reason` (in use, naming what uses it; or EC2's
 *   DependencyViolation naming the call, for what was made between the look and the call); `UNREACHABLE` with EC2's answer when it refuses the caller in the region (an SCP's region deny)
 * @throws any other EC2 error (throttling past the SDK's retries, a server error): the step fails and is run again
 */
export async function deleteDefaultVpc(ec2: EC2Client, region: string): Promise<DefaultVpcOutcome> {
  let vpcId: string | undefined;
  let call = 'DescribeVpcs';
  try {
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
    vpcId = vpcs.Vpcs?.find((v) => v.IsDefault)?.VpcId;
    if (!vpcId) return { region, state: 'NONE' };
    const byVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
    call = 'DescribeNetworkInterfaces';
    const interfaces: string[] = [];
    for await (const page of paginateDescribeNetworkInterfaces({ client: ec2 }, { Filters: byVpc })) {
      interfaces.push(...(page.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId ?? ''));
      if (interfaces.length) break;
    }
    if (interfaces.length) return { region, state: 'KEPT', vpcId, reason: `in use: network interface ${interfaces.join(', ')} is in it; delete what uses it, or keep the VPC` };
    // What DeleteVpc would refuse for and has no interface (a peering, a gateway endpoint, a route table of its own):
    // found before the gateway and subnets are deleted, so a VPC kept is kept whole.
    call = 'Describe (what else holds the VPC)';
    const blockers = await defaultVpcBlockers(ec2, vpcId);
    if (blockers.length) return { region, state: 'KEPT', vpcId, reason: `in use: ${blockers.join(', ')}; EC2's DeleteVpc refuses a VPC with these (DependencyViolation): delete them, or keep the VPC` };
    call = 'DescribeInternetGateways';
    const gateways: string[] = [];
    for await (const page of paginateDescribeInternetGateways({ client: ec2 }, { Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] })) {
      gateways.push(...(page.InternetGateways ?? []).map((g) => g.InternetGatewayId ?? '').filter(Boolean));
    }
    for (const gateway of gateways) {
      call = `DetachInternetGateway ${gateway}`;
      await idempotent(() => ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: gateway, VpcId: vpcId })));
      call = `DeleteInternetGateway ${gateway}`;
      await idempotent(() => ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: gateway })));
    }
    call = 'DescribeSubnets';
    const subnets: string[] = [];
    for await (const page of paginateDescribeSubnets({ client: ec2 }, { Filters: byVpc })) {
      subnets.push(...(page.Subnets ?? []).map((s) => s.SubnetId ?? '').filter(Boolean));
    }
    for (const subnet of subnets) {
      call = `DeleteSubnet ${subnet}`;
      await idempotent(() => ec2.send(new DeleteSubnetCommand({ SubnetId: subnet })));
    }
    call = `DeleteVpc ${vpcId}`;
    await idempotent(() => ec2.send(new DeleteVpcCommand({ VpcId: vpcId })));
    return { region, state: 'DELETED', vpcId };
  } catch (e) {
    const { code, reason } = said(call, e);
    if (code === 'DependencyViolation') return { region, state: 'KEPT', ...(vpcId ? { vpcId } : {}), reason };
    if (UNREACHABLE.has(code)) return { region, state: 'UNREACHABLE', ...(vpcId ? { vpcId } : {}), reason };
    throw e;
  }
}

/** What {@link deleteDefaultVpcs} settled: the outcomes of the regions done, and the first region whose work threw. */
export interface DefaultVpcsRun {
  /** One outcome per region that finished, in the order of `regions` (all of them when `failure` is absent). */
  readonly outcomes: DefaultVpcOutcome[];
  /** The first region (in the order of `regions`) whose {@link deleteDefaultVpc} threw, and what it threw. */
  readonly failure?: { readonly region: string; readonly error: unknown };
}

/**
 * {@link deleteDefaultVpc} in each of `regions`, at most `concurrency` regions at a time. A region whose work throws does
 * not stop the others: every region is settled before this returns, so what was deleted is known (and recorded) even
 * when the step then fails, and no call is still under way when it does.
 * @param clientFor the EC2 client of a region (the tenant account's session)
 * @param concurrency regions worked on at once @default 4
 * @returns the outcomes of the regions that finished and the first failure, if any (never throws)
 */
export async function deleteDefaultVpcs(clientFor: (region: string) => EC2Client, regions: readonly string[], concurrency = 4): Promise<DefaultVpcsRun> {
  const settled: Array<DefaultVpcOutcome | { error: unknown }> = new Array(regions.length);
  let next = 0;
  const worker = async () => {
    while (next < regions.length) {
      const i = next++;
      try {
        settled[i] = await deleteDefaultVpc(clientFor(regions[i]), regions[i]);
      } catch (error) {
        settled[i] = { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, regions.length) }, worker));
  const failed = settled.findIndex((s) => 'error' in s);
  const outcomes = settled.filter((s): s is DefaultVpcOutcome => !('error' in s));
  return failed < 0 ? { outcomes } : { outcomes, failure: { region: regions[failed], error: (settled[failed] as { error: unknown }).error } };
}

/**
 * A run's outcomes as the registry keeps them, given what an earlier run recorded: a region an earlier run deleted the
 * default VPC of (`DELETED`) that this run finds without one (`NONE`) stays `DELETED` with its `vpcId`, so a run again
 * after a failure does not hide what the step deleted.
 * @param outcomes this run's @param earlier the record's `defaultVpcs.regions` @default []
 */
export function withEarlierDeletions(outcomes: readonly DefaultVpcOutcome[], earlier: readonly DefaultVpcOutcome[] = []): DefaultVpcOutcome[] {
  return outcomes.map((o) => (o.state === 'NONE' ? earlier.find((e) => e.region === o.region && e.state === 'DELETED') ?? o : o));
}
