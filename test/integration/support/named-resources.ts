import type { AwsCredentialIdentity } from '@smithy/types';
import type { CfnTemplate } from './derive-moto-blueprint.js';
import { harnessHttp } from './harness-http.js';
import { CloudWatchLogsClient, CreateLogGroupCommand, DeleteLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';

/**
 * Resources a template gives a fixed physical name, with that name evaluated for one stack
 * operation, for the types whose names collide across stacks in the blueprints (log groups, kept
 * by their DeletionPolicy). The rollback emulation uses it to tell which resource moto refused as
 * "already exists" (moto's CloudFormation does not say), and to step the existing one aside while
 * moto completes the stack it left half-created (see cloudformation-emulation.ts).
 */

export interface NamedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly name: string;
}

interface NamedType {
  readonly nameProperty: string;
  exists(name: string, credentials: AwsCredentialIdentity): Promise<boolean>;
  create(name: string, credentials: AwsCredentialIdentity): Promise<void>;
  delete(name: string, credentials: AwsCredentialIdentity): Promise<void>;
}

/**
 * One CloudWatch Logs client per credentials object, region and endpoint (a new SDK client costs
 * ~1.3 ms of CPU more on its first call; every CreateStack of a blueprint with log groups asks once
 * per log group). Weak: a client goes with its session's credentials.
 */
const logsClients = new WeakMap<AwsCredentialIdentity, Map<string, CloudWatchLogsClient>>();
function logs(credentials: AwsCredentialIdentity): CloudWatchLogsClient {
  let byEnv = logsClients.get(credentials);
  if (!byEnv) logsClients.set(credentials, (byEnv = new Map()));
  const key = `${process.env.AWS_REGION ?? ''} ${process.env.AWS_ENDPOINT_URL ?? ''}`;
  let client = byEnv.get(key);
  if (!client) byEnv.set(key, (client = new CloudWatchLogsClient(harnessHttp({ credentials }))));
  return client;
}

const NAMED_TYPES: Record<string, NamedType> = {
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    exists: async (name, credentials) => {
      const out = await logs(credentials).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      return (out.logGroups ?? []).some((g) => g.logGroupName === name);
    },
    create: async (name, credentials) => {
      await logs(credentials).send(new CreateLogGroupCommand({ logGroupName: name }));
    },
    delete: async (name, credentials) => {
      await logs(credentials).send(new DeleteLogGroupCommand({ logGroupName: name }));
    },
  },
};

/**
 * A string-valued template expression evaluated from parameters and pseudo parameters (`Ref`,
 * `Fn::Join`, `Fn::Sub` without resource references); undefined when it needs anything else.
 */
export function evaluateString(value: unknown, values: Record<string, string>): string | undefined {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return values[o.Ref];
  if (Array.isArray(o['Fn::Join'])) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    const evaluated = parts.map((p) => evaluateString(p, values));
    return evaluated.every((p) => p !== undefined) ? evaluated.join(sep) : undefined;
  }
  if (typeof o['Fn::Sub'] === 'string') {
    let missing = false;
    const out = (o['Fn::Sub'] as string).replace(/\$\{([^}!]+)\}/g, (_, name: string) => values[name] ?? ((missing = true), ''));
    return missing ? undefined : out;
  }
  return undefined;
}

/** The named resources of the known types in `template`, names evaluated with `values` (parameters and pseudo parameters). */
export function namedResources(template: CfnTemplate, values: Record<string, string>): NamedResource[] {
  const out: NamedResource[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const type = NAMED_TYPES[resource.Type];
    const name = type && evaluateString(resource.Properties?.[type.nameProperty], values);
    if (name) out.push({ logicalId, type: resource.Type, name });
  }
  return out;
}

export async function namedResourceExists(r: NamedResource, credentials: AwsCredentialIdentity): Promise<boolean> {
  return NAMED_TYPES[r.type].exists(r.name, credentials);
}

export async function deleteNamedResource(r: NamedResource, credentials: AwsCredentialIdentity): Promise<void> {
  await NAMED_TYPES[r.type].delete(r.name, credentials);
}

export async function createNamedResource(r: NamedResource, credentials: AwsCredentialIdentity): Promise<void> {
  await NAMED_TYPES[r.type].create(r.name, credentials);
}
