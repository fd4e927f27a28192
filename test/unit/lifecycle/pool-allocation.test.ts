import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { credentials, leased, setLifecycleEnv, state } from './support.js';
import { records, registryMock } from './registry-mock.js';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';

// Allocate network over the real control-table.ts, on an in-memory control table that can lose the answer of a write it
// applied: the SDK then sends the same request again (a timeout or a reset connection in AWS), as DynamoDB would see it.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/lifecycle/quota-check.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  tierTemplate: vi.fn(async () => ({ Resources: {} })),
  checkQuotas: vi.fn(async () => ({ findings: [], unchecked: [], shortfalls: [] })),
}));

const ddb = mockClient(DynamoDBDocumentClient);
const sts = mockClient(STSClient);
type Item = Record<string, unknown>;
const table = new Map<string, Item>();
/** Writes whose first answer is lost: each is applied, then sent again, and the second answer is the one the caller sees. */
let losing = 0;
const conditionFailed = (old?: Item) => Object.assign(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }), old ? {
  // ReturnValuesOnConditionCheckFailure ALL_OLD: the item as DynamoDB sends it (the document client does not unmarshall it)
  Item: Object.fromEntries(Object.entries(old).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: String(v) }])),
} : {});

/** The control table's expressions that Allocate network sends (both the ADD counter of before and the claim of now). */
function apply(input: { Key?: Item; Item?: Item; UpdateExpression?: string; ConditionExpression?: string; ExpressionAttributeValues?: Item; ReturnValuesOnConditionCheckFailure?: string }, put: boolean): unknown {
  const id = String((put ? input.Item : input.Key)!.id);
  const old = table.get(id);
  const values = input.ExpressionAttributeValues ?? {};
  if (put) {
    if (input.ConditionExpression === 'attribute_not_exists(id)' && old) throw conditionFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? old : undefined);
    table.set(id, { ...input.Item });
    return {};
  }
  if (input.UpdateExpression === 'ADD #n :one') {
    const next = Number(old?.next ?? 0) + 1;
    table.set(id, { ...old, id, next });
    return { Attributes: { next } };
  }
  if (input.UpdateExpression === 'SET #n = :after' && input.ConditionExpression === 'attribute_not_exists(#n) OR #n <= :index') {
    if (old?.next !== undefined && Number(old.next) > Number(values[':index'])) throw conditionFailed();
    table.set(id, { ...old, id, next: values[':after'] });
    return {};
  }
  throw new Error(`the fake control table does not know ${JSON.stringify(input)}`);
}
const write = (put: boolean) => (input: Parameters<typeof apply>[0]) => {
  if (losing > 0) {
    losing--;
    try {
      apply(input, put);
    } catch {
      // its answer is lost whatever it was
    }
  }
  return apply(input, put);
};

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions();
  records.clear();
  table.clear();
  losing = 0;
  ddb.reset();
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  ddb.on(GetCommand).callsFake((input: { Key: Item }) => ({ Item: table.get(String(input.Key.id)) }));
  ddb.on(ScanCommand).callsFake((input: { ExpressionAttributeValues: Item }) => ({ Items: [...table.values()].filter((i) => String(i.id).startsWith(String(input.ExpressionAttributeValues[':p']))) }));
  ddb.on(PutCommand).callsFake(write(true));
  ddb.on(UpdateCommand).callsFake(write(false));
});

describe('Allocate network: the pool counter under lost answers', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/allocate-network.js');
  const allocate = async (tenantId: string) => {
    records.set(tenantId, leased('onboard', { tenantId, vpcCidr: undefined }));
    return (await handler(state(tenantId))).vpcCidr;
  };

  // Faults pass (s24h): the counter was an `ADD next 1`; sent again after its answer was lost it counted twice, and the
  // block in between was handed to no one, for good.
  it('skips no block when every write of the allocation is sent again after its answer was lost', async () => {
    losing = Number.POSITIVE_INFINITY;
    await expect(allocate('acme')).resolves.toBe('10.64.0.0/22');
    await expect(allocate('globex')).resolves.toBe('10.64.4.0/22');
    expect(table.get('cidr-next#starter')).toEqual({ id: 'cidr-next#starter', next: 2 });
    expect([...table.values()].filter((i) => String(i.id).startsWith('cidr#'))).toEqual([
      { id: 'cidr#10.64.0.0/22', tenantId: 'acme' }, { id: 'cidr#10.64.4.0/22', tenantId: 'globex' },
    ]);
  });

  it('goes on from the counter an ADD counter left (blocks already handed out stay as they are), passing a block another tenant holds', async () => {
    // GIVEN a registry whose ADD counter handed out blocks 0 to 2, and block 3 claimed by initech (a claim ahead of the counter)
    table.set('cidr-next#starter', { id: 'cidr-next#starter', next: 3 });
    table.set('cidr#10.64.12.0/22', { id: 'cidr#10.64.12.0/22', tenantId: 'initech' });
    // WHEN / THEN acme gets block 4, and the counter stands past it
    await expect(allocate('acme')).resolves.toBe('10.64.16.0/22');
    expect(table.get('cidr-next#starter')?.next).toBe(5);
  });

  it('passes the counter once per block when two runs read the same index: the one that lost the claim moves on', async () => {
    // GIVEN globex claims block 0 between acme's read of the counter and acme's claim
    let first = true;
    ddb.on(PutCommand).callsFake((input: Parameters<typeof apply>[0]) => {
      if (first) {
        first = false;
        table.set('cidr#10.64.0.0/22', { id: 'cidr#10.64.0.0/22', tenantId: 'globex' });
      }
      return apply(input, true);
    });
    await expect(allocate('acme')).resolves.toBe('10.64.4.0/22');
    expect(table.get('cidr-next#starter')?.next).toBe(2);
  });
});
