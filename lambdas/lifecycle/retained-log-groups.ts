import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';

/**
 * A log group a tenant blueprint names (`LogGroupName`) and keeps when an update removes it (DeletionPolicy
 * RetainExceptOnCreate, lib/retain-except-on-create.ts) cannot be added back by a later update while the kept one is
 * there: the dedicated cluster's control-plane logs (`/aws/eks/tessera-<id>/cluster`, constructs/kubernetes-cluster.ts)
 * leave the stack when a tenant moves to a tier of shared compute and stay in the account; a move back to a dedicated
 * tier makes CloudFormation create the log group again, and its create handler fails: "A create handler MUST return
 * FAILED with an AlreadyExists error code if the resource already existed prior to the create request" (CloudFormation
 * CLI user guide, "Resource type handler contract"; AWS::Logs::LogGroup's primary identifier is LogGroupName), so the
 * update rolls back. *Deploy blueprint* asks CloudWatch Logs, before the change set, about each log group the template
 * it deploys adds (a logical id the template the stack was deployed from lacks), in the tenant's account.
 */

/** One named log group a template adds that is already in the account. */
export interface TakenLogGroup {
  /** Logical id in the template deployed (`ComputeControlPlaneLogsBBC709BA`). */
  readonly logicalId: string;
  /** The log group's name with the tenant's id in it (`/aws/eks/tessera-acme/cluster`). */
  readonly name: string;
}

/**
 * The name a blueprint gives a resource, with the stack's `TenantId` parameter put in: a plain string, or
 * `Fn::Join` of strings and `{ Ref: 'TenantId' }` (how aws-cdk-lib renders `` `/aws/eks/tessera-${tenantId}/cluster` ``).
 * Undefined for any other form (another intrinsic): not compared.
 */
export function tenantResourceName(value: unknown, tenantId: string): string | undefined {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  if (!Array.isArray(join) || join.length !== 2 || typeof join[0] !== 'string' || !Array.isArray(join[1])) return undefined;
  const parts: string[] = [];
  for (const part of join[1] as unknown[]) {
    if (typeof part === 'string') parts.push(part);
    else if ((part as { Ref?: unknown } | null)?.Ref === 'TenantId') parts.push(tenantId);
    else return undefined;
  }
  return parts.join(join[0]);
}

/**
 * The log groups `to` names that `from` does not have (by logical id) and that CloudWatch Logs already has
 * (DescribeLogGroups by the name as prefix, the exact name matched), in logical-id order.
 * @param from logical id → `LogGroupName` of the template the stack was deployed from (blueprints.ts logGroupNamesOf)
 * @param to the same of the template about to be deployed
 */
export async function takenLogGroups(logs: CloudWatchLogsClient, tenantId: string, from: Record<string, unknown>, to: Record<string, unknown>): Promise<TakenLogGroup[]> {
  const out: TakenLogGroup[] = [];
  for (const logicalId of Object.keys(to).filter((id) => !(id in from)).sort()) {
    const name = tenantResourceName(to[logicalId], tenantId);
    if (!name) continue;
    const found = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
    if (found.logGroups?.some((g) => g.logGroupName === name)) out.push({ logicalId, name });
  }
  return out;
}

/** The refusal in words: each log group, why CloudFormation would fail, and what the operator can do. */
export function describeTakenLogGroups(tenantId: string, target: string, taken: readonly TakenLogGroup[]): string {
  const each = taken.map((t) => `${t.logicalId} (AWS::Logs::LogGroup) would be created with LogGroupName ${t.name}, which is already in the tenant's account`);
  return `${target}: tenant ${tenantId}'s stack cannot take it: ${each.join('; ')} (kept there when an earlier update removed it: its DeletionPolicy keeps it). `
    + 'CloudFormation fails the create of a resource whose name is taken (AlreadyExists) and rolls the update back; '
    + `export what the log group holds if it is needed, delete it (aws logs delete-log-group --log-group-name ${taken[0].name}${taken.length > 1 ? ', and the others' : ''}) and run the change again, or keep the tenant on a tier without it`;
}
