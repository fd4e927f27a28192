import { DescribeStackEventsCommand, paginateDescribeStackEvents, type CloudFormationClient, type Stack, type StackEvent } from '@aws-sdk/client-cloudformation';
import { pages } from '../../lib/aws-pages.js';
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
  let read = 0;
  for await (const page of paginateDescribeStackEvents(pages(cfn), { StackName: stackName })) {
    events.push(...(page.StackEvents ?? []));
    if (++read >= maxPages) break;
  }
  return events;
}

/** The operation a stack is in, as its own newest event tells it (runningOperation). */
export interface RunningOperation {
  /** The event's ClientRequestToken: the token of the call that started the operation; absent when that call gave none. */
  token?: string;
  /** The stack's status the event records (the stack's StackStatus now). */
  status: string;
  at?: Date;
  reason?: string;
}

/**
 * The operation a stack is in (StackStatus `*_IN_PROGRESS`), from the stack's own newest event
 * (logical id = the stack's name, not one of its resources' and not a nested stack's), read newest
 * first through DescribeStackEvents' pages (NextToken; a large update writes hundreds of resource
 * events after its first) up to `maxPages`. CloudFormation gives every event of one operation the
 * ClientRequestToken of the call that started it: CreateStack's, UpdateStack's, ExecuteChangeSet's
 * (not CreateChangeSet's ClientToken), and the automatic rollback of a failed create or update
 * carries that same token; a RollbackStack, ContinueUpdateRollback or CancelUpdateStack is a call
 * of its own with its own token; the console's look like `Console-UpdateStack-<uuid>`; a call
 * without one leaves the events without. Undefined when the stack's newest own event is not of its
 * current status (events lag behind DescribeStacks) or none is found: the operation is not known.
 */
export async function runningOperation(cfn: CloudFormationClient, stack: Stack, maxPages = 10): Promise<RunningOperation | undefined> {
  let read = 0;
  for await (const page of paginateDescribeStackEvents(pages(cfn), { StackName: stack.StackName })) {
    const own = (page.StackEvents ?? []).find((e) => e.LogicalResourceId === stack.StackName && (!e.ResourceType || e.ResourceType === 'AWS::CloudFormation::Stack')
      && (!e.PhysicalResourceId || !stack.StackId || e.PhysicalResourceId === stack.StackId));
    if (own) {
      if (own.ResourceStatus !== stack.StackStatus) return undefined;
      return { token: own.ClientRequestToken || undefined, status: own.ResourceStatus!, ...(own.Timestamp ? { at: own.Timestamp } : {}), ...(own.ResourceStatusReason ? { reason: own.ResourceStatusReason } : {}) };
    }
    if (++read >= maxPages) break;
  }
  return undefined;
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

/**
 * The way out of a stack left `UPDATE_ROLLBACK_FAILED` (an update failed, then its rollback): CloudFormation refuses
 * every update and change set of it until its rollback is continued (ContinueUpdateRollback, with `--resources-to-skip`
 * for the resources that cannot roll back; AWS CloudFormation User Guide, "Continue rolling back an update"; without --role-arn it runs as the stack's own role), and no
 * Tessera operation deletes a live tenant's stack. Named in every failure that meets one.
 */
export function continueRollbackAdvice(stack: string, region?: string): string {
  return `it runs neither the version before the update nor the one after, and CloudFormation refuses any update of it until its rollback is continued: `
    + `aws cloudformation continue-update-rollback --stack-name ${stack}${region ? ` --region ${region}` : ''} [--resources-to-skip <the logical ids that failed>], `
    + 'then run the change again (or offboard the tenant)';
}
