import { GetInstanceProfileCommand, GetPolicyCommand, GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { CfnTemplate } from './support/derive-moto-blueprint.js';
import { evaluateString } from './support/named-resources.js';

/**
 * IAM's account-wide names, checked before a stack is handed to moto, for the failover test
 * (failover-rebuild.test.ts). IAM user, group, role and policy names are unique within the account,
 * whatever the region a stack is created in
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html, RoleName), so CloudFormation
 * fails a create whose template names a role, managed policy or instance profile that exists. moto's IAM
 * refuses the name too (EntityAlreadyExists), but its CloudFormation, run as a server, answers a
 * template of many resources that hits it with an HTTP 500 page that names nothing, and leaves a
 * stack of that name DescribeStacks cannot read; this check gives the refusal AWS gives, naming the
 * resource and the name, without creating anything.
 */

/** One fixed IAM name of a template that already exists in the account. */
export interface TakenIamName {
  readonly logicalId: string;
  readonly type: string;
  readonly name: string;
}

const NAME_PROPERTIES: Record<string, { property: string; exists: (iam: IAMClient, name: string, account: string) => Promise<boolean> }> = {
  'AWS::IAM::Role': { property: 'RoleName', exists: (iam, name) => found(iam.send(new GetRoleCommand({ RoleName: name }))) },
  'AWS::IAM::ManagedPolicy': {
    property: 'ManagedPolicyName',
    exists: (iam, name, account) => found(iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${account}:policy/${name}` }))),
  },
  'AWS::IAM::InstanceProfile': { property: 'InstanceProfileName', exists: (iam, name) => found(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))) },
};

async function found(request: Promise<unknown>): Promise<boolean> {
  try {
    await request;
    return true;
  } catch (e) {
    if ((e as Error).name === 'NoSuchEntityException' || (e as Error).name === 'NoSuchEntity') return false;
    throw e;
  }
}

/**
 * The template's fixed IAM names (RoleName, ManagedPolicyName, InstanceProfileName, evaluated with the
 * stack's parameters and pseudo parameters) that already exist in `account`.
 * @throws Error when a fixed name cannot be evaluated from parameters alone (the check would be blind to it)
 */
export async function takenIamNames(template: CfnTemplate, parameters: Record<string, string>, iam: IAMClient, pseudo: { account: string; region: string; partition?: string }): Promise<TakenIamName[]> {
  const values = { ...parameters, 'AWS::AccountId': pseudo.account, 'AWS::Region': pseudo.region, 'AWS::Partition': pseudo.partition ?? 'aws' };
  const taken: TakenIamName[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const kind = NAME_PROPERTIES[resource.Type];
    const raw = kind ? (resource.Properties as Record<string, unknown> | undefined)?.[kind.property] : undefined;
    if (!kind || raw === undefined) continue;
    const name = evaluateString(raw, values);
    if (name === undefined) throw new Error(`${logicalId}.${kind.property}: cannot evaluate ${JSON.stringify(raw)} from the parameters`);
    if (await kind.exists(iam, name, pseudo.account)) taken.push({ logicalId, type: resource.Type, name });
  }
  return taken;
}
