import { BackupClient, paginateListBackupVaults } from '@aws-sdk/client-backup';
import { CloudFormationClient, paginateListStacks, type StackStatus } from '@aws-sdk/client-cloudformation';
import {
  DescribeAddressesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  paginateDescribeInternetGateways,
  paginateDescribeNatGateways,
  paginateDescribeNetworkInterfaces,
  paginateDescribeSecurityGroups,
  paginateDescribeVpcEndpoints,
  paginateDescribeVpcs,
} from '@aws-sdk/client-ec2';
import { ElastiCacheClient, paginateDescribeCacheClusters } from '@aws-sdk/client-elasticache';
import { EKSClient, paginateListClusters } from '@aws-sdk/client-eks';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { GetAccountSummaryCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeAccountAttributesCommand, RDSClient } from '@aws-sdk/client-rds';
import type { AwsCredentialIdentity } from '@smithy/types';
import { pages, pagesOf } from '../../lib/aws-pages.js';
import { clientWith, lazy } from '../shared/aws-clients.js';

/**
 * What the target account uses now of each quota of lib/quotas.ts, one small function per rule
 * key, measured with the provisioning session in the Lambda's region. Units are the quota's:
 * resources counted the way the quota counts them (AWS sources in each rule's `source`).
 * Rules scoped to one VPC are not measured: the tenant's VPC is new, it uses 0 of them.
 * Rules without a function here (S3 buckets 10,000, KMS keys 100,000, log groups 1,000,000 by
 * default) are not measured; the check reports them as unmeasured.
 */

export interface UsageClients {
  ec2: () => EC2Client;
  rds: () => RDSClient;
  iam: () => IAMClient;
  elasticache: () => ElastiCacheClient;
  eks: () => EKSClient;
  backup: () => BackupClient;
  cfn: () => CloudFormationClient;
  events: () => EventBridgeClient;
}

/** Clients made on first use, with the tenant account's credentials. */
export function usageClients(credentials: AwsCredentialIdentity): UsageClients {
  return {
    ec2: lazy(() => clientWith(EC2Client, credentials)),
    rds: lazy(() => clientWith(RDSClient, credentials)),
    iam: lazy(() => clientWith(IAMClient, credentials)),
    elasticache: lazy(() => clientWith(ElastiCacheClient, credentials)),
    eks: lazy(() => clientWith(EKSClient, credentials)),
    backup: lazy(() => clientWith(BackupClient, credentials)),
    cfn: lazy(() => clientWith(CloudFormationClient, credentials)),
    events: lazy(() => clientWith(EventBridgeClient, credentials)),
  };
}

export type UsageFn = (c: UsageClients) => Promise<number>;

async function countPages<T>(pages: AsyncIterable<T>, items: (page: T) => unknown[] | undefined): Promise<number> {
  let n = 0;
  for await (const page of pages) n += items(page)?.length ?? 0;
  return n;
}

/**
 * Account-wide answers read once per set of clients (one quota check: quota-check.ts makes the
 * clients per check): RDS's DescribeAccountAttributes serves the three RDS rules and IAM's
 * GetAccountSummary the two IAM rules, each one call per check instead of one per rule. A failed
 * call is shared too (the rules it serves fail alike, as the same call would fail again).
 */
const accountAnswers = new WeakMap<UsageClients, Map<string, Promise<unknown>>>();
function once<T>(c: UsageClients, key: string, read: () => Promise<T>): Promise<T> {
  let answers = accountAnswers.get(c);
  if (!answers) accountAnswers.set(c, (answers = new Map()));
  let answer = answers.get(key) as Promise<T> | undefined;
  if (!answer) answers.set(key, (answer = read()));
  return answer;
}

/** RDS's own account quota usage (DescribeAccountAttributes → AccountQuotas[].Used), by RDS quota name. */
async function rdsUsed(c: UsageClients, ...names: string[]): Promise<number> {
  const out = await once(c, 'rds-account-attributes', () => c.rds().send(new DescribeAccountAttributesCommand({})));
  return (out.AccountQuotas ?? []).filter((q) => names.includes(q.AccountQuotaName ?? '')).reduce((n, q) => n + Number(q.Used ?? 0), 0);
}

/** IAM's account summary entry (GetAccountSummary → SummaryMap). */
async function iamSummary(c: UsageClients, entry: 'Roles' | 'Policies'): Promise<number> {
  const out = await once(c, 'iam-account-summary', () => c.iam().send(new GetAccountSummaryCommand({})));
  return Number(out.SummaryMap?.[entry] ?? 0);
}

/** Stacks CloudFormation counts against the stack quota: every stack not yet deleted. */
const LIVE_STACK_STATUSES: StackStatus[] = [
  'CREATE_IN_PROGRESS', 'CREATE_FAILED', 'CREATE_COMPLETE', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_FAILED', 'ROLLBACK_COMPLETE', 'DELETE_IN_PROGRESS', 'DELETE_FAILED',
  'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_FAILED', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_IN_PROGRESS', 'IMPORT_ROLLBACK_FAILED', 'IMPORT_ROLLBACK_COMPLETE',
];

/** Most NAT gateways (pending or available) in one Availability Zone: the per-AZ quota binds in the fullest AZ. */
async function natGatewaysInFullestAz(c: UsageClients): Promise<number> {
  const subnets: string[] = [];
  for await (const page of paginateDescribeNatGateways(pages(c.ec2()), { Filter: [{ Name: 'state', Values: ['pending', 'available'] }] })) {
    for (const nat of page.NatGateways ?? []) if (nat.SubnetId) subnets.push(nat.SubnetId);
  }
  if (!subnets.length) return 0;
  const out = await c.ec2().send(new DescribeSubnetsCommand({ SubnetIds: [...new Set(subnets)] }));
  const azOf = new Map((out.Subnets ?? []).map((s) => [s.SubnetId!, s.AvailabilityZone ?? 'unknown']));
  const perAz = new Map<string, number>();
  for (const s of subnets) perAz.set(azOf.get(s) ?? 'unknown', (perAz.get(azOf.get(s) ?? 'unknown') ?? 0) + 1);
  return Math.max(0, ...perAz.values());
}

/** Usage of each rule of lib/quotas.ts (QUOTA_RULES[].key) in the account and region. */
export const USAGE: Readonly<Record<string, UsageFn>> = {
  'vpcs-per-region': (c) => countPages(paginateDescribeVpcs(pages(c.ec2()), {}), (p) => p.Vpcs),
  'internet-gateways-per-region': (c) => countPages(paginateDescribeInternetGateways(pages(c.ec2()), {}), (p) => p.InternetGateways),
  'elastic-ips-per-region': async (c) => (await c.ec2().send(new DescribeAddressesCommand({ Filters: [{ Name: 'domain', Values: ['vpc'] }] }))).Addresses?.length ?? 0,
  'nat-gateways-per-az': natGatewaysInFullestAz,
  'gateway-endpoints-per-region': (c) => countPages(
    paginateDescribeVpcEndpoints(pages(c.ec2()), { Filters: [{ Name: 'vpc-endpoint-type', Values: ['Gateway'] }] }),
    (p) => p.VpcEndpoints?.filter((e) => !['deleted', 'deleting', 'Deleted', 'Deleting'].includes(e.State ?? '')),
  ),
  'security-groups-per-region': (c) => countPages(paginateDescribeSecurityGroups(pages(c.ec2()), {}), (p) => p.SecurityGroups),
  'network-interfaces-per-region': (c) => countPages(paginateDescribeNetworkInterfaces(pages(c.ec2()), {}), (p) => p.NetworkInterfaces),
  'rds-db-instances': (c) => rdsUsed(c, 'DBInstances'),
  'rds-db-subnet-groups': (c) => rdsUsed(c, 'DBSubnetGroups'),
  'rds-parameter-groups': (c) => rdsUsed(c, 'DBParameterGroups', 'DBClusterParameterGroups'),
  'elasticache-nodes-per-region': async (c) => {
    let nodes = 0;
    for await (const page of paginateDescribeCacheClusters(pages(c.elasticache()), {})) nodes += (page.CacheClusters ?? []).reduce((n, cl) => n + (cl.NumCacheNodes ?? 0), 0);
    return nodes;
  },
  'eks-clusters-per-region': (c) => countPages(paginateListClusters(pages(c.eks()), {}), (p) => p.clusters),
  'iam-roles-per-account': (c) => iamSummary(c, 'Roles'),
  'iam-customer-managed-policies-per-account': (c) => iamSummary(c, 'Policies'),
  'backup-vaults': (c) => countPages(paginateListBackupVaults(pages(c.backup()), {}), (p) => p.BackupVaultList),
  'cloudformation-stacks': (c) => countPages(paginateListStacks(pages(c.cfn()), { StackStatusFilter: LIVE_STACK_STATUSES }), (p) => p.StackSummaries),
  // EventBridge publishes no paginator for ListRules.
  'eventbridge-rules-per-bus': (c) => countPages(pagesOf((token: string | undefined) => c.events().send(new ListRulesCommand({ NextToken: token })), (out) => out.NextToken), (p) => p.Rules),
};
