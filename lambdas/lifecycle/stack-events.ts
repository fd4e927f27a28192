import { DescribeStackEventsCommand, paginateDescribeStackEvents, type CloudFormationClient, type StackEvent } from '@aws-sdk/client-cloudformation';
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
  let pages = 0;
  for await (const page of paginateDescribeStackEvents({ client: cfn }, { StackName: stackName })) {
    events.push(...(page.StackEvents ?? []));
    if (++pages >= maxPages) break;
  }
  return events;
}

/** The failed events with a reason on the stack's latest page of events (newest first). */
async function failedEvents(cfn: CloudFormationClient, name: string): Promise<StackEvent[]> {
  const out = await cfn.send(new DescribeStackEventsCommand({ StackName: name }));
  return (out.StackEvents ?? []).filter((e) => e.ResourceStatus?.endsWith('_FAILED') && e.ResourceStatusReason);
}

const describeFailure = (e: StackEvent | undefined) => (e ? `${e.LogicalResourceId} ${e.ResourceStatus}: ${e.ResourceStatusReason}` : undefined);

/** The first resource failure of the stack's latest operation: the reason an operator needs. */
export async function firstFailure(cfn: CloudFormationClient, name: string): Promise<string | undefined> {
  return describeFailure((await failedEvents(cfn, name)).at(-1));
}

/** The newest failure of a resource (not of the stack itself): why a deletion failed. */
export async function latestResourceFailure(cfn: CloudFormationClient, name: string): Promise<string | undefined> {
  return describeFailure((await failedEvents(cfn, name)).find((e) => e.LogicalResourceId !== e.StackName));
}

/** CloudFormation's answer to an update that would change nothing. */
export const noUpdates = (e: unknown) => /No updates are to be performed/.test((e as Error).message);
/** UpdateStack on a stack another caller is changing right now (CloudFormation answers ValidationError). */
export const stackBusy = (e: unknown) => (e as Error).name === 'ValidationError' && /_IN_PROGRESS state and can ?not be updated/.test((e as Error).message);

/** `Db (AWS::RDS::DBInstance) tessera-acme-db DELETE_FAILED: reason` — how errors and events name a left-behind resource. */
export function describeLeftBehind(r: LeftBehindResource): string {
  return `${r.logicalId} (${r.type})${r.physicalId ? ` ${r.physicalId}` : ''} ${r.status}${r.reason ? `: ${r.reason}` : ''}`;
}
