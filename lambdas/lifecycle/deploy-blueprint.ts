import { CreateStackCommand, DescribeStacksCommand, UpdateStackCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { ENV, requireEnv } from '../shared/environment.js';
import { StackBusyError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { cloudFormationFor, parameters, stackName, templateUrl, type BlueprintKind } from './blueprints.js';
import type { LifecycleState } from './state.js';

export async function describeStack(cfn: CloudFormationClient, name: string): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    return out.Stacks?.[0];
  } catch (e) {
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
    throw e;
  }
}

/**
 * Creates the tenant's stack from the tier blueprint's template URL, or updates it to the target
 * tier/version. Idempotent: a stack already being created or updated is left to finish.
 */
export const handler = lifecycleHandler('Deploy blueprint', async (state: LifecycleState) => {
  const kind: BlueprintKind = state.blueprint ?? 'tenant';
  const record = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? record.tier;
  const version = state.change?.blueprintVersion ?? requireEnv(ENV.blueprintVersion);
  const cfn = await cloudFormationFor(record, kind, 'deploy');
  const name = stackName(record.tenantId, kind);
  const input = {
    StackName: name,
    TemplateURL: templateUrl(tier, kind, version),
    Parameters: parameters(record, kind),
    Capabilities: ['CAPABILITY_NAMED_IAM' as const],
    Tags: [{ Key: 'tessera:tenant-id', Value: record.tenantId }, { Key: 'tessera:tier', Value: tier }, { Key: 'tessera:blueprint-version', Value: version }],
    // Namespace stacks run under a CloudFormation service role scoped to namespace resources;
    // tenant stacks run with the provisioning session of the tenant's account.
    RoleARN: kind === 'namespace' ? process.env[ENV.namespaceDeployerRoleArn] : undefined,
  };
  const existing = await describeStack(cfn, name);
  if (!existing) {
    await cfn.send(new CreateStackCommand({ ...input, EnableTerminationProtection: true, OnFailure: 'ROLLBACK', ClientRequestToken: `${state.request.requestId}-${kind}`.slice(0, 128) }));
  } else if (existing.StackStatus?.endsWith('_IN_PROGRESS')) {
    if (existing.StackStatus.startsWith('DELETE')) throw new StackBusyError(`stack ${name} is being deleted; deploying again once it is gone`);
    // already being created or updated: the check step waits for it
  } else if (existing.StackStatus === 'ROLLBACK_COMPLETE') {
    throw new StackBusyError(`stack ${name} is ROLLBACK_COMPLETE from an earlier attempt and must be deleted first`);
  } else {
    try {
      await cfn.send(new UpdateStackCommand(input));
    } catch (e) {
      if (!/No updates are to be performed/.test((e as Error).message)) throw e;
    }
  }
  if (kind === 'tenant') await updateTenant(record.tenantId, { stackName: name });
  return { stackName: name, kind };
});
