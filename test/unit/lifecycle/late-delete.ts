import {
  DeleteStackCommand, DescribeStacksCommand, UpdateTerminationProtectionCommand, type CloudFormationClientResolvedConfig, type DeleteStackCommandInput, type ServiceInputTypes, type ServiceOutputTypes, type Stack,
  type UpdateTerminationProtectionCommandInput,
} from '@aws-sdk/client-cloudformation';
import type { AwsStub } from 'aws-sdk-client-mock';

/**
 * CloudFormation's DeleteStack (API reference, DeleteStack: StackName is "the name or the unique stack ID") for a step
 * whose DeleteStack arrives late: between its DescribeStacks (the stack `read`, dead) and its DeleteStack, someone else
 * (another onboarding in the account, the next holder of the tenant) deleted that stack and created it again under its
 * name (`recreated`: the same name, another StackId). DeleteStack by name then deletes the stack that has the name now
 * (`recreated`); by the StackId read, nothing: that stack is deleted already. Registered on `cfn` for every DeleteStack
 * (the stub's last handler wins); a DeleteStack of another stack deletes nothing the returned list names.
 * @param read the stack as the step described it (its StackName and StackId)
 * @returns the StackIds of the stacks each DeleteStack deleted, in order (empty when the late delete deleted nothing)
 */
export function deletesAfterRecreate(cfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, CloudFormationClientResolvedConfig>, read: Pick<Stack, 'StackName' | 'StackId'>): { deleted: string[]; recreated: string } {
  const recreated = `${read.StackId}-created-again`;
  const deleted: string[] = [];
  cfn.on(DeleteStackCommand).callsFake((input: DeleteStackCommandInput) => {
    // The stack named read.StackName now is `recreated`; `read.StackId` names the deleted one (DeleteStack of it does nothing).
    if (input.StackName === read.StackName || input.StackName === recreated) deleted.push(recreated);
    return {};
  });
  return { deleted, recreated };
}

/**
 * CloudFormation's UpdateTerminationProtection (API reference: StackName is "the name or unique ID of the stack") for a
 * step whose lift arrives late, in the race of deletesAfterRecreate: the stack `read` (protected, dead) was deleted and
 * created again (protected) under its name. By name the lift switches off the protection of the stack created again
 * (`unprotected` names it); by the StackId read it is refused, as CloudFormation refuses an update of a stack that is
 * gone (a ValidationError: the API reference names no error of the operation's own), and DescribeStacks by that ID
 * answers it DELETE_COMPLETE (CloudFormation keeps a deleted stack readable by its ID). Registered on `cfn` for every
 * UpdateTerminationProtection and for DescribeStacks by `read.StackId` (a matcher with its input: it wins over the
 * test's DescribeStacks without one).
 * @returns the StackIds of the stacks whose protection a lift switched off, in order (empty when the late lift did nothing)
 */
export function liftsAfterRecreate(cfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, CloudFormationClientResolvedConfig>, read: Pick<Stack, 'StackName' | 'StackId'>): { unprotected: string[]; recreated: string } {
  const recreated = `${read.StackId}-created-again`;
  const unprotected: string[] = [];
  cfn.on(UpdateTerminationProtectionCommand).callsFake((input: UpdateTerminationProtectionCommandInput) => {
    if (input.StackName === read.StackId) throw Object.assign(new Error(`Stack [${read.StackId}] does not exist`), { name: 'ValidationError' });
    if (input.StackName === read.StackName || input.StackName === recreated) unprotected.push(recreated);
    return { StackId: recreated };
  });
  cfn.on(DescribeStacksCommand, { StackName: read.StackId }).resolves({ Stacks: [{ ...read, StackName: read.StackName!, StackStatus: 'DELETE_COMPLETE', CreationTime: new Date(), DeletionTime: new Date() }] });
  return { unprotected, recreated };
}
