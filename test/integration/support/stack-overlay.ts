import type { Parameter, Stack, StackEvent, StackResourceSummary, Tag } from '@aws-sdk/client-cloudformation';
import { randomUUID } from 'node:crypto';
import type { DeployedResource } from './resource-deleters.js';

/**
 * Stacks in a state moto cannot represent (it never rolls back, and a failed delete makes its stack
 * vanish): ROLLBACK_COMPLETE, ROLLBACK_FAILED, DELETE_FAILED. The emulation answers DescribeStacks
 * and DescribeStackEvents for them from here, with the events CloudFormation would have
 * recorded, newest first as AWS returns them.
 */
export type EmulatedStatus = 'ROLLBACK_COMPLETE' | 'ROLLBACK_FAILED' | 'DELETE_FAILED';

export interface EmulatedStack {
  readonly stackId: string;
  readonly stackName: string;
  status: EmulatedStatus;
  reason?: string;
  readonly creationTime: Date;
  /** When its last deletion began (DELETE_FAILED): AWS's DescribeStacks `DeletionTime`, set anew by each DeleteStack that starts one. */
  deletionTime?: Date;
  readonly description?: string;
  readonly parameters?: Parameter[];
  readonly tags?: Tag[];
  readonly roleArn?: string;
  /** Events of this stack's emulated operations, newest first. */
  readonly events: StackEvent[];
  /** Its resources as ListStackResources reports them after a rollback (DELETE_SKIPPED, DELETE_COMPLETE, DELETE_FAILED). */
  summaries?: StackResourceSummary[];
}

/** A resource as ListStackResources reports it, with its final status. */
export function summary(r: DeployedResource, status: string): StackResourceSummary {
  return { LogicalResourceId: r.logicalId, PhysicalResourceId: r.physicalId, ResourceType: r.type, ResourceStatus: status as StackResourceSummary['ResourceStatus'], LastUpdatedTimestamp: new Date() };
}

export class StackOverlay {
  private readonly stacks = new Map<string, EmulatedStack>();

  private static key(account: string, stackName: string): string {
    return `${account}/${stackName}`;
  }

  /** The emulated stack named `nameOrId` (a stack name or a stack id) in `account`. */
  get(account: string, nameOrId: string): EmulatedStack | undefined {
    const byName = this.stacks.get(StackOverlay.key(account, nameOrId));
    if (byName || !nameOrId.startsWith('arn:')) return byName;
    return [...this.stacks.values()].find((s) => s.stackId === nameOrId);
  }

  set(account: string, stack: EmulatedStack): void {
    this.stacks.set(StackOverlay.key(account, stack.stackName), stack);
  }

  delete(account: string, nameOrId: string): void {
    const stack = this.get(account, nameOrId);
    if (stack) this.stacks.delete(StackOverlay.key(account, stack.stackName));
  }

  /** Records an event (newest first); `token` is the ClientRequestToken of the operation it belongs to, as AWS records it. */
  static event(stack: Pick<EmulatedStack, 'stackId' | 'stackName' | 'events'>, e: { logicalId?: string; type?: string; physicalId?: string; status: string; reason?: string; token?: string }): void {
    stack.events.unshift({
      StackId: stack.stackId,
      StackName: stack.stackName,
      EventId: randomUUID(),
      LogicalResourceId: e.logicalId ?? stack.stackName,
      PhysicalResourceId: e.physicalId ?? (e.logicalId ? undefined : stack.stackId),
      ResourceType: e.type ?? 'AWS::CloudFormation::Stack',
      Timestamp: new Date(),
      ResourceStatus: e.status as StackEvent['ResourceStatus'],
      ResourceStatusReason: e.reason,
      ...(e.token ? { ClientRequestToken: e.token } : {}),
    });
  }

  /** The stack as DescribeStacks returns it. */
  static describe(stack: EmulatedStack): Stack {
    return {
      StackId: stack.stackId,
      StackName: stack.stackName,
      StackStatus: stack.status,
      StackStatusReason: stack.reason,
      CreationTime: stack.creationTime,
      ...(stack.deletionTime ? { DeletionTime: stack.deletionTime } : {}),
      Description: stack.description,
      Parameters: stack.parameters,
      Tags: stack.tags,
      RoleARN: stack.roleArn,
    };
  }
}
