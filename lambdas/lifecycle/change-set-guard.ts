import {
  ChangeSetNotFoundException,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  paginateDescribeChangeSet,
  ExecuteChangeSetCommand,
  type Change,
  type CloudFormationClient,
  type CreateChangeSetCommandInput,
  type DescribeChangeSetCommandOutput,
  type ResourceChangeDetail,
} from '@aws-sdk/client-cloudformation';
import { createHash } from 'node:crypto';
import { pages } from '../../lib/aws-pages.js';
import { isStatefulType, mayReplaceConditionally } from '../../lib/stateful-resources.js';
import type { DestructiveChange } from '../../lib/tenant-record.js';
import { StackFailedError } from '../shared/errors.js';

/**
 * Stack updates of the change and upgrade workflows go through a CloudFormation change set, which
 * is inspected before it runs: a change that would replace or remove a stateful resource
 * (lib/stateful-resources.ts) is refused unless the request carries `allowReplacement`.
 *
 * Which changes count as destructive (destructiveChanges), for a stateful type:
 * - `Modify` with `Replacement: True` — CloudFormation will create a new resource and delete the old;
 * - `Modify` with `Replacement: Conditional` — refused too: CloudFormation decides at execution
 *   time, from values it only knows then, and nothing can stop it once the change set runs; a
 *   guard that lets "maybe" through does not guard (CloudFormation User Guide, "Interpret change
 *   sets": Conditional = "may require replacement"); except for a type an Update never replaces (the namespace
 *   tier's Kubernetes manifest, `Custom::AWSCDK-EKS-KubernetesResource`: lib/stateful-resources.ts mayReplaceConditionally);
 * - `Remove` — the resource leaves the stack; even with a Retain policy (PolicyAction `Retain`)
 *   it is orphaned from the blueprint, so it is named as well;
 * - `Dynamic` — the action cannot be determined before execution: refused like Conditional;
 * - `Modify` that changes its `DeletionPolicy` or `UpdateReplacePolicy` (Details[].Target.Attribute), in place: the
 *   offboarding keeps the stores only through their Retain and Snapshot policies (delete-tenant-stacks.ts), and an
 *   allowed replacement keeps the old one through UpdateReplacePolicy; a version that turned one to Delete went through
 *   as an in-place change, and the next offboarding deleted the store (policyChanges).
 *
 * A nested stack (`AWS::CloudFormation::Stack`) that is modified, removed or dynamic counts as
 * destructive too: its own changes are in a nested change set this guard does not read, so it
 * cannot tell what happens to the stores inside. The blueprints have no nested stacks; a version
 * that adds one is refused until the guard reads nested change sets (IncludeNestedStacks).
 */
export function destructiveChanges(stack: string, changes: readonly Change[]): DestructiveChange[] {
  const out: DestructiveChange[] = [];
  for (const c of changes) {
    const r = c.ResourceChange;
    if (r?.ResourceType === NESTED_STACK && (r.Action === 'Modify' || r.Action === 'Remove' || r.Action === 'Dynamic')) {
      out.push({
        stack, logicalId: r.LogicalResourceId ?? '(unnamed)', type: NESTED_STACK, action: r.Action, ...(r.Replacement ? { replacement: r.Replacement } : {}),
        ...(r.PhysicalResourceId ? { physicalId: r.PhysicalResourceId } : {}), causes: ['nested stack: its changes are not inspected'],
      });
      continue;
    }
    if (!r || !isStatefulType(r.ResourceType)) continue;
    const replaces = r.Action === 'Modify' && (r.Replacement === 'True' || (r.Replacement === 'Conditional' && mayReplaceConditionally(r.ResourceType)));
    const policies = r.Action === 'Modify' ? policyChanges(r.Details) : [];
    if (!replaces && !policies.length && r.Action !== 'Remove' && r.Action !== 'Dynamic') continue;
    const causes = [...new Set([...(r.Details ?? [])
      .filter((d) => d.Target?.RequiresRecreation === 'Always' || d.Target?.RequiresRecreation === 'Conditionally')
      .map((d) => d.Target?.Name ?? d.Target?.Attribute ?? '')
      .filter(Boolean), ...policies])];
    out.push({
      stack,
      logicalId: r.LogicalResourceId ?? '(unnamed)',
      type: r.ResourceType!,
      ...(r.PhysicalResourceId ? { physicalId: r.PhysicalResourceId } : {}),
      action: r.Action!,
      ...(r.Replacement ? { replacement: r.Replacement } : {}),
      ...(r.PolicyAction ? { policyAction: r.PolicyAction } : {}),
      ...(causes.length ? { causes } : {}),
    });
  }
  return out;
}

const NESTED_STACK = 'AWS::CloudFormation::Stack';

/**
 * The resource policies a Modify changes: `DeletionPolicy` (what the offboarding's DeleteStack does with the store: the
 * blueprints' Retain and Snapshot keep it) and `UpdateReplacePolicy` (what an allowed replacement does with the old one).
 * CloudFormation names them in Details (ResourceTargetDefinition.Attribute), with their values only for a change set
 * created with IncludePropertyValues: a change either way is named, Retain to Delete and Delete to Retain alike.
 */
function policyChanges(details: readonly ResourceChangeDetail[] | undefined): string[] {
  return [...new Set((details ?? []).flatMap((d) => (d.Target?.Attribute === 'DeletionPolicy' || d.Target?.Attribute === 'UpdateReplacePolicy' ? [d.Target.Attribute] : [])))];
}

/** One destructive change in words: `Database (AWS::RDS::DBInstance): Modify, replacement True (DBInstanceIdentifier)`. */
export function describeDestructive(c: DestructiveChange): string {
  const policies = (c.causes ?? []).filter((x) => x === 'DeletionPolicy' || x === 'UpdateReplacePolicy');
  const how = c.action === 'Modify' && (c.replacement === 'True' || (c.replacement === 'Conditional' && mayReplaceConditionally(c.type))) ? `replacement ${c.replacement}`
    : c.action === 'Modify' ? `its ${policies.join(' and ')} change${policies.length > 1 ? '' : 's'} (what a stack deletion or a replacement does with it)`
      : c.action === 'Remove' ? `removal${c.policyAction ? `, policy ${c.policyAction}` : ''}` : 'action determined only at execution';
  return `${c.logicalId} (${c.type}): ${c.action}, ${how}${c.causes?.length ? ` (${c.causes.join(', ')})` : ''}`;
}

/**
 * Name of the change set of one execution's stack update: derived from the request token
 * (deploy-blueprint.ts requestToken), so every retry of the step finds the change set it created.
 * Change set names are 1-128 characters of `[a-zA-Z][-a-zA-Z0-9]*` (CloudFormation API reference,
 * CreateChangeSet).
 */
export function changeSetName(token: string): string {
  return `tessera-cs-${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;
}

/**
 * The reasons CloudFormation gives a change set that has nothing to do (status FAILED): "The
 * submitted information didn't contain changes. Submit different information to create a change
 * set." and, for an update of a stack whose template and parameters are the same, "No updates are
 * to be performed." Such a change set is success, not failure.
 */
export const EMPTY_CHANGE_SET = /didn't contain changes|No updates are to be performed/;

/** Thrown while the change set is still being created (CREATE_PENDING, CREATE_IN_PROGRESS); the state machine retries the step. */
export class ChangeSetPendingError extends Error {
  override readonly name = 'ChangeSetPending';
}

/** A change set with every page of its changes (DescribeChangeSet returns them 100 at most a page with NextToken). */
export async function describeChangeSet(cfn: CloudFormationClient, stack: string, name: string): Promise<DescribeChangeSetCommandOutput & { Changes: Change[] }> {
  const changes: Change[] = [];
  let first: DescribeChangeSetCommandOutput | undefined;
  for await (const page of paginateDescribeChangeSet(pages(cfn), { StackName: stack, ChangeSetName: name })) {
    first ??= page;
    changes.push(...(page.Changes ?? []));
  }
  return { ...first!, Changes: changes };
}

export type ChangeSetOutcome =
  | { outcome: 'UNCHANGED'; changeSetName: string }
  | { outcome: 'EXECUTED' | 'ALREADY_EXECUTED'; changeSetName: string; allowed: DestructiveChange[] }
  | { outcome: 'REFUSED'; changeSetName: string; refused: DestructiveChange[] };

export interface ChangeSetRequest {
  /** CreateChangeSet's stack input: StackName, TemplateURL, Parameters, Capabilities, Tags, RoleARN. */
  readonly input: Omit<CreateChangeSetCommandInput, 'ChangeSetName' | 'ChangeSetType' | 'ClientToken'>;
  /** The execution's request token: the change set's ClientToken and ExecuteChangeSet's ClientRequestToken (replays are the same operation). */
  readonly token: string;
  /** ExecuteChangeSet's RetainExceptOnCreate (tenant stacks). */
  readonly retainExceptOnCreate?: boolean;
  /** With a reason: destructive changes are let through (and returned as `allowed`). */
  readonly allowReplacement?: { reason: string };
  /** `REVERT_DRIFT`: a drift-aware change set that brings drifted resources back to the template (`--repair`). */
  readonly deploymentMode?: 'REVERT_DRIFT';
  /**
   * Called with the change set's name right before ExecuteChangeSet (not for a retry that finds it executing or executed):
   * the caller's last check that it may still start the update (deploy-blueprint.ts: a conditional write under the
   * execution's lease). When it throws, the change set is deleted, nothing is executed, and its error is thrown.
   * @default - none: executed without a check
   */
  readonly beforeExecute?: (changeSetName: string) => Promise<void>;
}

/**
 * Updates a stack through a change set: CreateChangeSet (UPDATE; AlreadyExists on a retry is the
 * same change set), DescribeChangeSet with every page, then
 * - still being created → ChangeSetPendingError (the step is retried after a Wait, no Lambda sleeps);
 * - FAILED because it has no changes (EMPTY_CHANGE_SET) → deleted, `UNCHANGED`;
 * - FAILED otherwise, or not executable (UNAVAILABLE, OBSOLETE, EXECUTE_FAILED) → StackFailedError with CloudFormation's reason;
 * - destructive changes (destructiveChanges) without `allowReplacement` → deleted, `REFUSED` with
 *   the resources (the stack is not touched);
 * - otherwise `beforeExecute` (when given; one that throws deletes the change set and throws its error), then
 *   ExecuteChangeSet (`EXECUTED`), or nothing when a retry finds it executing or executed (`ALREADY_EXECUTED`).
 */
export async function updateThroughChangeSet(cfn: CloudFormationClient, request: ChangeSetRequest): Promise<ChangeSetOutcome> {
  const stack = request.input.StackName!;
  const name = changeSetName(request.token);
  try {
    await cfn.send(new CreateChangeSetCommand({
      ...request.input, ChangeSetName: name, ChangeSetType: 'UPDATE', ClientToken: request.token,
      ...(request.deploymentMode ? { DeploymentMode: request.deploymentMode } : {}),
      Description: `Tessera ${request.deploymentMode === 'REVERT_DRIFT' ? 'repair' : 'change'} ${request.token}`.slice(0, 1024),
    }));
  } catch (e) {
    if ((e as Error).name !== 'AlreadyExistsException') throw e;
  }
  const cs = await describeChangeSet(cfn, stack, name);
  if (cs.Status === 'CREATE_PENDING' || cs.Status === 'CREATE_IN_PROGRESS') throw new ChangeSetPendingError(`change set ${name} of stack ${stack} is ${cs.Status}; inspecting it once it is created`);
  if (cs.Status === 'FAILED') {
    if (EMPTY_CHANGE_SET.test(cs.StatusReason ?? '')) {
      await deleteChangeSet(cfn, stack, name);
      return { outcome: 'UNCHANGED', changeSetName: name };
    }
    throw new StackFailedError(`change set ${name} of stack ${stack} failed: ${cs.StatusReason ?? 'no reason reported'}`);
  }
  if (cs.ExecutionStatus === 'EXECUTE_IN_PROGRESS' || cs.ExecutionStatus === 'EXECUTE_COMPLETE') {
    return { outcome: 'ALREADY_EXECUTED', changeSetName: name, allowed: request.allowReplacement ? destructiveChanges(stack, cs.Changes) : [] };
  }
  if (cs.ExecutionStatus !== 'AVAILABLE') {
    throw new StackFailedError(`change set ${name} of stack ${stack} cannot be executed: ${cs.ExecutionStatus ?? 'no execution status'}${cs.StatusReason ? `: ${cs.StatusReason}` : ''}`);
  }
  const destructive = destructiveChanges(stack, cs.Changes);
  if (destructive.length && !request.allowReplacement) {
    await deleteChangeSet(cfn, stack, name);
    return { outcome: 'REFUSED', changeSetName: name, refused: destructive };
  }
  if (request.beforeExecute) {
    try {
      await request.beforeExecute(name);
    } catch (e) {
      await deleteChangeSet(cfn, stack, name);
      throw e;
    }
  }
  await cfn.send(new ExecuteChangeSetCommand({
    StackName: stack, ChangeSetName: name, ClientRequestToken: request.token,
    ...(request.retainExceptOnCreate ? { RetainExceptOnCreate: true } : {}),
  }));
  return { outcome: 'EXECUTED', changeSetName: name, allowed: destructive };
}

/** DeleteChangeSet; one already gone is fine. */
async function deleteChangeSet(cfn: CloudFormationClient, stack: string, name: string): Promise<void> {
  try {
    await cfn.send(new DeleteChangeSetCommand({ StackName: stack, ChangeSetName: name }));
  } catch (e) {
    if (!(e instanceof ChangeSetNotFoundException) && (e as Error).name !== 'ChangeSetNotFoundException' && (e as Error).name !== 'ChangeSetNotFound') throw e;
  }
}
