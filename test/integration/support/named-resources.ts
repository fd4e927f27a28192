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
  /** Which of `names` exist now, asked in one listing (paged) instead of one call per name. */
  existing(names: readonly string[], credentials: AwsCredentialIdentity): Promise<Set<string>>;
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
    // A stack's log groups share most of their names (`/tessera/<tenant>/…`): one listing of that
    // prefix, every page, answers for all of them what a DescribeLogGroups per name would.
    existing: async (names, credentials) => {
      const prefix = commonPrefix(names);
      const found = new Set<string>();
      let nextToken: string | undefined;
      do {
        const out = await logs(credentials).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix || undefined, nextToken }));
        for (const g of out.logGroups ?? []) if (g.logGroupName !== undefined) found.add(g.logGroupName);
        nextToken = out.nextToken;
      } while (nextToken);
      return new Set(names.filter((n) => found.has(n)));
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

/** The longest string every one of `names` starts with ('' for none). */
function commonPrefix(names: readonly string[]): string {
  let prefix = names[0] ?? '';
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * The resources of `named` that exist now, in `named`'s order: what {@link namedResourceExists}
 * answers for each, asked with one listing per type (the emulation asks before every CreateStack:
 * six log groups per tenant stack were six DescribeLogGroups, ~180 of lifecycle.test.ts's requests).
 */
export async function namedResourcesExisting(named: readonly NamedResource[], credentials: AwsCredentialIdentity): Promise<NamedResource[]> {
  const byType = new Map<string, Set<string>>();
  for (const type of new Set(named.map((r) => r.type))) {
    byType.set(type, await NAMED_TYPES[type].existing(named.filter((r) => r.type === type).map((r) => r.name), credentials));
  }
  return named.filter((r) => byType.get(r.type)!.has(r.name));
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
