import { DeleteStackCommand, type CloudFormationClientResolvedConfig, type DeleteStackCommandInput, type ServiceInputTypes, type ServiceOutputTypes, type Stack } from '@aws-sdk/client-cloudformation';
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
