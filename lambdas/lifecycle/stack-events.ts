import { DescribeStackEventsCommand, type CloudFormationClient, type StackEvent } from '@aws-sdk/client-cloudformation';
import type { LeftBehindResource } from '../../lib/tenant-record.js';

/**
 * Resources a stack's operations left in the account, from its events (newest first, as
 * DescribeStackEvents returns them): each resource's latest event, kept when it is
 * `DELETE_SKIPPED` (a Retain policy: CloudFormation leaves it by design) or `DELETE_FAILED`.
 * With `RetainExceptOnCreate` a rolled-back create skips nothing, so any entry here is a finding.
 */
export function leftBehindFrom(stack: string, events: readonly StackEvent[]): LeftBehindResource[] {
  const latest = new Map<string, StackEvent>();
  for (const e of events) {
    if (!e.LogicalResourceId || e.ResourceType === 'AWS::CloudFormation::Stack' || latest.has(e.LogicalResourceId)) continue;
    latest.set(e.LogicalResourceId, e);
  }
  return [...latest.values()]
    .filter((e) => e.ResourceStatus === 'DELETE_SKIPPED' || e.ResourceStatus === 'DELETE_FAILED')
    .map((e) => ({
      stack,
      logicalId: e.LogicalResourceId!,
      type: e.ResourceType ?? 'unknown',
      physicalId: e.PhysicalResourceId || undefined,
      status: e.ResourceStatus as LeftBehindResource['status'],
      reason: e.ResourceStatusReason || undefined,
    }))
    .sort((a, b) => a.logicalId.localeCompare(b.logicalId));
}

/** Every event of a stack, newest first (DescribeStackEvents pages of 100), up to `maxPages`. */
export async function stackEvents(cfn: CloudFormationClient, stackName: string, maxPages = 10): Promise<StackEvent[]> {
  const events: StackEvent[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token }));
    events.push(...(out.StackEvents ?? []));
    token = out.NextToken;
  } while (token && ++pages < maxPages);
  return events;
}

/** `Db (AWS::RDS::DBInstance) tessera-acme-db DELETE_FAILED: reason` — how errors and events name a left-behind resource. */
export function describeLeftBehind(r: LeftBehindResource): string {
  return `${r.logicalId} (${r.type})${r.physicalId ? ` ${r.physicalId}` : ''} ${r.status}${r.reason ? `: ${r.reason}` : ''}`;
}
