import { DescribeStackEventsCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ENV, requireEnv } from '../shared/environment.js';
import { StackFailedError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { cloudFormationFor, stackName, type BlueprintKind } from './blueprints.js';
import { describeStack } from './deploy-blueprint.js';
import type { LifecycleState } from './state.js';

const DONE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE']);

/** The first resource failure of the stack's latest operation: the reason an operator needs. */
export async function firstFailure(cfn: CloudFormationClient, name: string): Promise<string | undefined> {
  const out = await cfn.send(new DescribeStackEventsCommand({ StackName: name }));
  const failed = (out.StackEvents ?? []).filter((e) => e.ResourceStatus?.endsWith('_FAILED') && e.ResourceStatusReason).at(-1);
  return failed ? `${failed.LogicalResourceId} ${failed.ResourceStatus}: ${failed.ResourceStatusReason}` : undefined;
}

/** Polls the stack; on success records the tenant stack's outputs in the registry. */
export const handler = lifecycleHandler('Check blueprint', async (state: LifecycleState) => {
  const kind: BlueprintKind = state.blueprint ?? 'tenant';
  const record = await requireTenant(state.request.tenantId);
  const cfn = await cloudFormationFor(record, kind, 'check');
  const name = stackName(record.tenantId, kind);
  const stack = await describeStack(cfn, name);
  if (!stack) throw new StackFailedError(`stack ${name} does not exist`);
  const status = stack.StackStatus!;
  if (DONE.has(status)) {
    if (kind === 'tenant') {
      const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue ?? '']));
      await updateTenant(record.tenantId, {
        stackOutputs: outputs,
        blueprintVersion: outputs.BlueprintVersion ?? state.change?.blueprintVersion ?? requireEnv(ENV.blueprintVersion),
      });
    }
    return { state: 'COMPLETE' as const, status };
  }
  // Creating, updating or rolling back: wait for the final state.
  if (status.endsWith('_IN_PROGRESS')) return { state: 'IN_PROGRESS' as const, status };
  const reason = (await firstFailure(cfn, name)) ?? stack.StackStatusReason ?? 'no reason reported';
  throw new StackFailedError(`stack ${name} is ${status}: ${reason}`);
});
