import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeUserPoolCommand, type UserPoolType } from '@aws-sdk/client-cognito-identity-provider';
import type { AwsClients } from './clients.js';
import type { DoctorContext } from './types.js';

/** The platform stack's name and its output naming the tenant user pool (lib/tessera-app.ts, lib/platform-stack.ts). */
export const PLATFORM_STACK = 'TesseraPlatform';
export const USER_POOL_OUTPUT = 'TenantUserPoolId';

/**
 * What the platform account says of the deployed tenant user pool, by the step that answered:
 * - `stack`: DescribeStacks of TesseraPlatform failed (`error`: a ValidationError "does not exist" when it is not deployed);
 * - `output`: the stack has no TenantUserPoolId output (`stackStatus`);
 * - `pool`: DescribeUserPool of `poolId` failed (`error`);
 * - `found`: the pool as DescribeUserPool answered it.
 */
export type DeployedUserPool =
  | { readonly step: 'stack'; readonly error: unknown }
  | { readonly step: 'output'; readonly stackStatus?: string }
  | { readonly step: 'pool'; readonly poolId: string; readonly error: unknown }
  | { readonly step: 'found'; readonly poolId: string; readonly pool?: UserPoolType };

/** One look-up per doctor run: the checks that read the pool (cognito-user-pool, cognito-email-deployed) share it. */
const lookups = new WeakMap<DoctorContext, Promise<DeployedUserPool>>();

/**
 * The deployed tenant user pool (TesseraPlatform output TenantUserPoolId, then DescribeUserPool), read once per doctor
 * run with the platform account's clients; each check words the outcome its own way. Never throws: a failed call is
 * the outcome of its step.
 * Calls (platform account, home Region): cloudformation:DescribeStacks, cognito-idp:DescribeUserPool.
 */
export function deployedUserPool(ctx: DoctorContext, clients: Pick<AwsClients, 'cloudFormation' | 'cognito'>): Promise<DeployedUserPool> {
  let lookup = lookups.get(ctx);
  if (!lookup) {
    lookup = lookUp(clients);
    lookups.set(ctx, lookup);
  }
  return lookup;
}

async function lookUp(clients: Pick<AwsClients, 'cloudFormation' | 'cognito'>): Promise<DeployedUserPool> {
  let poolId: string | undefined;
  try {
    const stack = (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: PLATFORM_STACK }))).Stacks?.[0];
    poolId = stack?.Outputs?.find((o) => o.OutputKey === USER_POOL_OUTPUT)?.OutputValue;
    if (!poolId) return { step: 'output', stackStatus: stack?.StackStatus };
  } catch (error) {
    return { step: 'stack', error };
  }
  try {
    return { step: 'found', poolId, pool: (await clients.cognito.send(new DescribeUserPoolCommand({ UserPoolId: poolId }))).UserPool };
  } catch (error) {
    return { step: 'pool', poolId, error };
  }
}
