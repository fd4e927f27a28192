import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TenantRecord, type LifecycleExecution, type TenantStatus } from '../../lib/tenant-record.js';
import { platformClient } from './aws-clients.js';
import { ENV, requireEnv } from './environment.js';

/** The tenant registry (DynamoDB). Every write is validated against the shared TenantRecord schema. */

const INDEX = { byStatus: 'by-status', byTier: 'by-tier' } as const;

function doc(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(platformClient(DynamoDBClient), { marshallOptions: { removeUndefinedValues: true } });
}
const table = () => requireEnv(ENV.registryTable);

export class TenantNotFoundError extends Error {
  override readonly name = 'TenantNotFound';
  constructor(tenantId: string) {
    super(`tenant "${tenantId}" is not in the registry`);
  }
}

export class TenantConflictError extends Error {
  override readonly name = 'TenantConflict';
}

export async function getTenant(tenantId: string): Promise<TenantRecord | undefined> {
  const out = await doc().send(new GetCommand({ TableName: table(), Key: { tenantId }, ConsistentRead: true }));
  return out.Item ? TenantRecord.parse(out.Item) : undefined;
}

export async function requireTenant(tenantId: string): Promise<TenantRecord> {
  const record = await getTenant(tenantId);
  if (!record) throw new TenantNotFoundError(tenantId);
  return record;
}

/** Creates the record; false when a record with this tenant id already exists. */
export async function putNewTenant(record: TenantRecord): Promise<boolean> {
  try {
    await doc().send(new PutCommand({ TableName: table(), Item: TenantRecord.parse(record), ConditionExpression: 'attribute_not_exists(tenantId)' }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

export interface UpdateOptions {
  /** Only update when the current status is one of these. */
  readonly expectStatus?: TenantStatus[];
}

/**
 * Sets the given attributes (undefined values remove them) and `updatedAt`. Throws
 * TenantConflict when `expectStatus` does not hold.
 */
export async function updateTenant(tenantId: string, changes: Partial<Omit<TenantRecord, 'tenantId'>>, options: UpdateOptions = {}): Promise<TenantRecord> {
  const sets: string[] = ['#updatedAt = :updatedAt'];
  const removes: string[] = [];
  const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':updatedAt': new Date().toISOString() };
  for (const [key, value] of Object.entries(changes)) {
    names[`#${key}`] = key;
    if (value === undefined) removes.push(`#${key}`);
    else {
      sets.push(`#${key} = :${key}`);
      values[`:${key}`] = value;
    }
  }
  let condition = 'attribute_exists(tenantId)';
  if (options.expectStatus?.length) {
    names['#status'] = 'status';
    condition += ` AND #status IN (${options.expectStatus.map((_, i) => `:expect${i}`).join(', ')})`;
    options.expectStatus.forEach((s, i) => (values[`:expect${i}`] = s));
  }
  try {
    const out = await doc().send(
      new UpdateCommand({
        TableName: table(),
        Key: { tenantId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return TenantRecord.parse(out.Attributes);
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) {
      const current = await getTenant(tenantId);
      if (!current) throw new TenantNotFoundError(tenantId);
      throw new TenantConflictError(`tenant "${tenantId}" is ${current.status}; this change needs ${options.expectStatus?.join(' or ')}`);
    }
    throw e;
  }
}

/** Records the step now running (shown by `tessera tenants watch`). */
export async function markStep(tenantId: string, step: string): Promise<void> {
  await updateTenant(tenantId, { currentStep: step });
}

/** The same execution: by its ARN when known (a re-run of a request is a new execution), else by request and kind. */
export function sameExecution(a: LifecycleExecution, b: Pick<LifecycleExecution, 'kind' | 'requestId' | 'executionArn'>): boolean {
  if (a.executionArn && b.executionArn) return a.executionArn === b.executionArn;
  return a.requestId === b.requestId && a.kind === b.kind;
}

/** Adds or updates the history entry of one lifecycle execution. */
export async function recordExecution(tenantId: string, entry: LifecycleExecution): Promise<TenantRecord> {
  const record = await requireTenant(tenantId);
  const executions = record.executions.filter((e) => !sameExecution(e, entry));
  executions.push(entry);
  return updateTenant(tenantId, { executions: executions.slice(-50) });
}

export async function listTenants(filter: { status?: TenantStatus; tier?: string } = {}): Promise<TenantRecord[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = filter.status || filter.tier
      ? await doc().send(new QueryCommand({
          TableName: table(),
          IndexName: filter.status ? INDEX.byStatus : INDEX.byTier,
          KeyConditionExpression: '#k = :v',
          ExpressionAttributeNames: { '#k': filter.status ? 'status' : 'tier' },
          ExpressionAttributeValues: { ':v': filter.status ?? filter.tier },
          ExclusiveStartKey: start,
        }))
      : await doc().send(new ScanCommand({ TableName: table(), ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const records = items.map((i) => TenantRecord.parse(i));
  const filtered = records.filter((r) => (!filter.status || r.status === filter.status) && (!filter.tier || r.tier === filter.tier));
  return filtered.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
}
