import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient, ListUserPoolClientsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { CliError } from '../cli-error.js';
import { awsCallError } from './cognito-errors.js';

/** The platform stack's name: `STACK_IDS.platform` in lib/tessera-app.ts (not imported: that module loads aws-cdk-lib). */
export const PLATFORM_STACK_NAME = 'TesseraPlatform';

/** The platform user pool's region: the part of its id before `_` (`us-east-1_AbC123` → `us-east-1`). */
export function regionOfUserPool(userPoolId: string): string | undefined {
  return /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/.exec(userPoolId)?.[1];
}

/**
 * Checks the shape of a user pool id (`<region>_<letters and digits>`, Cognito's UserPoolIdType
 * pattern `[\w-]+_[0-9a-zA-Z]+`), naming `flag` in the error.
 * @throws CliError (exit 2) for a malformed id.
 */
export function checkUserPoolId(userPoolId: string, flag: string): string {
  if (!regionOfUserPool(userPoolId)) throw new CliError(`${flag} "${userPoolId}" is not a user pool id (<region>_<id>, e.g. us-east-1_AbC123): copy the TenantUserPoolId output of the ${PLATFORM_STACK_NAME} stack`);
  return userPoolId;
}

/**
 * The outputs of the platform stack (DescribeStacks with the caller's credentials), as a map of
 * OutputKey → OutputValue.
 * @throws CliError (exit 1) naming the stack, the region and the fix when the stack is missing or the call is refused.
 */
export async function platformStackOutputs(cloudFormation: CloudFormationClient, stackName: string, region: string): Promise<Record<string, string>> {
  try {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    return Object.fromEntries((stack?.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]));
  } catch (e) {
    const { name, message } = e as Error;
    if (name === 'ValidationError' && /does not exist/.test(message)) {
      throw new CliError(`CloudFormation DescribeStacks: no stack ${stackName} in ${region}: deploy the platform (npx cdk deploy ${stackName}), pass --region with the platform's home region, or pass --user-pool-id`, 1);
    }
    throw awsCallError('CloudFormation DescribeStacks', e, `the ${stackName} stack's outputs cannot be read; pass --user-pool-id instead`);
  }
}

/**
 * The platform user pool id: `explicit` (the flag), else the stack output `TenantUserPoolId`.
 * @throws CliError when neither gives one (a platform configured with an external IdP has no pool).
 */
export async function resolveUserPoolId(explicit: string | undefined, outputs: () => Promise<Record<string, string>>, stackName = PLATFORM_STACK_NAME): Promise<string> {
  if (explicit) return checkUserPoolId(explicit, '--user-pool-id');
  const id = (await outputs()).TenantUserPoolId;
  if (!id) throw new CliError(`the ${stackName} stack has no TenantUserPoolId output: the platform uses an external identity provider (gateway.jwt in the config), whose users are managed there; or pass --user-pool-id`, 1);
  return checkUserPoolId(id, `the ${stackName} output TenantUserPoolId`);
}

/**
 * The gateway's app client id: `explicit`, else the stack output `TenantUserPoolClientId`, else the
 * pool's only app client (ListUserPoolClients; the platform pool has one, `GatewayClient`). The
 * last fallback serves stacks deployed before the output existed.
 * @throws CliError when none of these gives exactly one client.
 */
export async function resolveClientId(explicit: string | undefined, outputs: () => Promise<Record<string, string>>, cognito: CognitoIdentityProviderClient, userPoolId: string): Promise<string> {
  if (explicit) return explicit;
  // A stack that cannot be read (no credentials, another region) still leaves the pool's own client list.
  const fromOutput = (await outputs().catch(() => ({} as Record<string, string>))).TenantUserPoolClientId;
  if (fromOutput) return fromOutput;
  let clients;
  try {
    clients = (await cognito.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }))).UserPoolClients ?? [];
  } catch (e) {
    throw awsCallError('Cognito ListUserPoolClients', e, 'pass --client-id (the TenantUserPoolClientId output)');
  }
  if (clients.length !== 1) throw new CliError(`user pool ${userPoolId} has ${clients.length} app clients and the platform stack no TenantUserPoolClientId output: pass --client-id`, 2);
  return clients[0].ClientId!;
}
