import { createHash } from 'node:crypto';
import type { Stack } from '@aws-sdk/client-cloudformation';

/**
 * The `ClientRequestToken` of a DeleteStack Tessera sends: `tessera-delete-<24 hex>-<16 hex>` (56 characters, within
 * CloudFormation's 1-128 of `[a-zA-Z][-a-zA-Z0-9]*`: API reference, DeleteStack). CloudFormation takes a DeleteStack sent
 * again with the same token as the same request ("so that CloudFormation knows that you're not attempting to delete a
 * stack with the same name": a retry after a lost answer, the SDK's own retry of a timed-out send) and stamps the
 * deletion's stack events with it, so the deletion reads as Tessera's (stack-events.ts runningOperation,
 * deploy-blueprint.ts describeForeignOperation: `tessera-` is another Tessera execution's operation).
 *
 * Deterministic: the same for every retry of one ask (the stack read as it was) and different for each ask meant as a
 * new one, which a reused token would turn into a no-op (the same request: test/integration/support/cloudformation-emulation.ts
 * emulates it so). The first part hashes the operation (the execution's ARN, its request id where none); the second the
 * stack as read before the call: its `StackId` (a stack created again under the name is another stack), the
 * `StackStatus`, `DeletionTime` (taken to be set anew by each deletion attempt, so that a stack whose earlier deletion failed is
 * asked again by a new request: see below) and `LastUpdatedTime`, and the state asking. So *Delete tenant stacks*' second ask of a
 * stack its first ask left DELETE_FAILED, a later attempt of *Deploy blueprint* at a dead stack whose deletion failed
 * again, or *Record failure*'s deletion of a stack *Deploy blueprint* asked to delete in the same execution, is a new
 * request, not taken for the first one. What it protects is a retry that read the stack unchanged (the SDK's retry of
 * a send whose answer was lost, or Step Functions' of the step before the deletion shows in DescribeStacks).
 *
 * What the API reference documents (DeleteStack ClientRequestToken; StackEvent ClientRequestToken): a retry is recognised
 * by its token, and every event of the operation carries it; DeleteStack may also answer TokenAlreadyExistsException,
 * which an identical retry is taken not to meet (the emulation answers it as the first request). Not documented: that
 * each deletion attempt sets `DeletionTime` anew (Stack.DeletionTime: "the time the stack was deleted"). Where it does
 * not, the one ask that relies on it, a later attempt of the same step of the same execution at a stack whose deletion
 * failed again from DELETE_FAILED (*Deploy blueprint*'s dead stack, retried on StackBusy), is taken for the earlier ask and
 * starts no deletion: the step answers StackBusy until its retries run out; nothing is deleted twice. Two executions (a
 * second offboarding, a retry after a failure) never share a token: its first part is the execution's ARN. moto records
 * neither the token on stack events nor DeletionTime (the integration tests' cloudformation-emulation.ts emulates both).
 * @param operation the execution's ARN, or its request id where it has none
 * @param stack the stack as DescribeStacks answered just before the call (StackName where it has no StackId)
 * @param step the state that asks (e.g. `Delete tenant stacks`)
 */
export function deleteStackToken(operation: string, stack: Pick<Stack, 'StackName' | 'StackId' | 'StackStatus' | 'DeletionTime' | 'LastUpdatedTime'>, step: string): string {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  const read = [stack.StackId ?? stack.StackName ?? '', stack.StackStatus ?? '', stack.DeletionTime?.toISOString() ?? '', stack.LastUpdatedTime?.toISOString() ?? '', step];
  return `tessera-delete-${hash(operation).slice(0, 24)}-${hash(read.join('\n')).slice(0, 16)}`;
}

/**
 * The `StackName` of a DeleteStack of a stack Tessera described first: its `StackId` (the stack's ARN), which DeleteStack
 * takes as well as the name ("The name or the unique stack ID that's associated with the stack": API reference,
 * DeleteStack). By ID the call can only delete the stack that was read: once that stack is deleted, a DeleteStack by its
 * ID does nothing (the ID names the deleted stack, not whichever stack has the name since). By name, a late DeleteStack
 * (a step that read the stack dead, then was slow to send) deleted the stack someone else had created under the name
 * meanwhile: two onboardings sharing the account baseline both read it ROLLBACK_COMPLETE, one deleted it and created it
 * again, and the other's DeleteStack then deleted that new create. The same holds for a tenant's own stacks, where the
 * lease guards the name but not a stack another execution of the tenant created once this one lost it.
 * @param stack the stack as DescribeStacks answered (CloudFormation always gives its `StackId`; its `StackName` where a
 *   caller's read has none)
 */
export function deleteStackTarget(stack: Pick<Stack, 'StackName' | 'StackId'>): string {
  const target = stack.StackId ?? stack.StackName;
  if (!target) throw new Error('a stack read without StackId or StackName cannot be deleted');
  return target;
}
