import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { config, credentials, leased, setLifecycleEnv, state, useConfig } from './support.js';
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
const sts = mockStrict(STSClient, 'sts', STSServiceException);
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
  if (input.UpdateExpression === 'SET #n = :after' && input.ConditionExpression === 'attribute_not_exists(#n) OR #n = :index') {
    if (old?.next !== undefined && Number(old.next) !== Number(values[':index'])) throw conditionFailed();
    table.set(id, { ...old, id, next: values[':after'] });
    return {};
  }
  // The released blocks' list (a string set; DynamoDB drops the attribute once the set is empty).
  if (input.UpdateExpression === 'ADD #b :c' && !input.ConditionExpression) {
    table.set(id, { ...old, id, blocks: new Set([...((old?.blocks as Set<string> | undefined) ?? []), ...(values[':c'] as Set<string>)]) });
    return {};
  }
  if (input.UpdateExpression === 'DELETE #b :c') {
    const blocks = new Set((old?.blocks as Set<string> | undefined) ?? []);
    if (input.ConditionExpression === 'contains(#b, :cidr)' && !blocks.has(String(values[':cidr']))) throw conditionFailed();
    if (input.ConditionExpression && input.ConditionExpression !== 'contains(#b, :cidr)') throw new Error(`the fake control table does not know ${JSON.stringify(input)}`);
    for (const c of values[':c'] as Set<string>) blocks.delete(c);
    const { blocks: _, ...rest } = old ?? { id };
    table.set(id, blocks.size ? { ...rest, id, blocks } : { ...rest, id });
    return {};
  }
  if (input.UpdateExpression === 'SET #n = :index' && input.ConditionExpression === '#n > :index') {
    if (old?.next === undefined || Number(old.next) <= Number(values[':index'])) throw conditionFailed();
    table.set(id, { ...old, id, next: values[':index'] });
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

/** Whether one item of a transaction meets its condition (the expressions the released blocks' transactions send). */
function meets(item: { Put?: Parameters<typeof apply>[0]; Update?: Parameters<typeof apply>[0]; ConditionCheck?: Parameters<typeof apply>[0] }): boolean {
  if (item.Put) return item.Put.ConditionExpression !== 'attribute_not_exists(id)' || !table.has(String(item.Put.Item!.id));
  if (item.ConditionCheck?.ConditionExpression === 'attribute_exists(id)') return table.has(String(item.ConditionCheck.Key!.id));
  if (item.Update?.ConditionExpression === 'contains(#b, :cidr)') {
    return ((table.get(String(item.Update.Key!.id))?.blocks as Set<string> | undefined) ?? new Set()).has(String(item.Update.ExpressionAttributeValues![':cidr']));
  }
  if (item.Update && !item.Update.ConditionExpression) return true;
  throw new Error(`the fake control table does not know ${JSON.stringify(item)}`);
}
/** TransactWriteItems: every condition first, then every write, or none and the reasons, as DynamoDB answers. */
function transact(input: { TransactItems: Array<Parameters<typeof meets>[0]> }): unknown {
  const reasons = input.TransactItems.map((item) => ({ Code: meets(item) ? 'None' : 'ConditionalCheckFailed' }));
  if (reasons.some((r) => r.Code !== 'None')) {
    throw new TransactionCanceledException({ message: 'Transaction cancelled, please refer cancellation reasons for specific reasons', $metadata: {}, CancellationReasons: reasons });
  }
  for (const item of input.TransactItems) {
    if (item.Put) table.set(String(item.Put.Item!.id), { ...item.Put.Item });
    if (item.Update) apply({ ...item.Update, ConditionExpression: undefined }, false);
  }
  return {};
}
/** The ranges claimed, in the table's order. */
const claims = () => [...table.values()].filter((i) => String(i.id).startsWith('cidr#'));
/** The starter tier's released blocks. */
const listed = () => [...((table.get('cidr-free#starter')?.blocks as Set<string> | undefined) ?? [])].sort();

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
  ddb.on(TransactWriteCommand).callsFake(transact);
  // releaseCidr: only the tenant's own claim
  ddb.on(DeleteCommand).callsFake((input: { Key: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
    const id = String(input.Key.id);
    if (input.ConditionExpression !== 'tenantId = :t') throw new Error(`the fake control table does not know ${JSON.stringify(input)}`);
    if (table.get(id)?.tenantId !== input.ExpressionAttributeValues?.[':t']) throw conditionFailed();
    table.delete(id);
    return {};
  });
});

describe('Allocate network: the pool counter under lost answers', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/allocate-network.js');
  const allocate = async (tenantId: string) => {
    records.set(tenantId, leased('onboard', { tenantId, vpcCidr: undefined }));
    return (await handler(state(tenantId))).vpcCidr;
  };

  // Faults pass: the counter was an `ADD next 1`; sent again after its answer was lost it counted twice, and the
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

  // Faults pass: the counter's first UpdateItem applied, its answer lost, and another tenant's allocation moving the
  // counter further before the SDK sends it again. The ADD counter of before counted acme's write twice around globex's
  // (acme got block 2, block 0 went to no one); the conditional SET past a claimed block is refused the second time.
  it('skips no block and gives none twice when the counter move\'s answer is lost and another tenant moves the counter before the retry', async () => {
    let lost = true;
    ddb.on(UpdateCommand).callsFake(async (input: Parameters<typeof apply>[0]) => {
      if (!lost) return apply(input, false);
      lost = false;
      try {
        apply(input, false); // the write happened; its answer is lost
      } catch {
        // lost whatever it was
      }
      await expect(allocate('globex')).resolves.toBe('10.64.4.0/22'); // another caller moves the counter meanwhile
      return apply(input, false); // the SDK sends the same request again
    });
    await expect(allocate('acme')).resolves.toBe('10.64.0.0/22');
    expect(table.get('cidr-next#starter')?.next).toBe(2);
    expect([...table.values()].filter((i) => String(i.id).startsWith('cidr#'))).toEqual([
      { id: 'cidr#10.64.0.0/22', tenantId: 'acme' }, { id: 'cidr#10.64.4.0/22', tenantId: 'globex' },
    ]);
    await expect(allocate('initech')).resolves.toBe('10.64.8.0/22');
  });

  // Faults pass: two runs of one tenant at once (a step run twice for one execution) each claim a block; the one
  // whose range was not recorded gives its claim back, but the counter had passed that block: it went to no one, for good.
  it('hands out the block one of two runs of the same tenant gave back, and then goes on past the blocks claimed after it', async () => {
    // GIVEN acme's second run scanned for its claims before the first claimed block 0, and runs once the first moved the counter
    let second = true;
    let blind = false;
    ddb.on(ScanCommand).callsFake((input: { ExpressionAttributeValues: Item }) => {
      if (blind) {
        blind = false;
        return { Items: [] };
      }
      return { Items: [...table.values()].filter((i) => String(i.id).startsWith(String(input.ExpressionAttributeValues[':p']))) };
    });
    ddb.on(UpdateCommand).callsFake(async (input: Parameters<typeof apply>[0]) => {
      const out = apply(input, false);
      if (second) {
        second = false;
        blind = true;
        await expect(handler(state('acme'))).resolves.toMatchObject({ vpcCidr: '10.64.4.0/22' }); // it claims block 1 and records it
      }
      return out;
    });
    // WHEN the first run finds block 1 recorded: its block 0 goes back
    await expect(allocate('acme')).resolves.toBe('10.64.4.0/22');
    expect(table.has('cidr#10.64.0.0/22')).toBe(false);
    // THEN the next tenant gets block 0, and the one after it block 2 (block 1 is acme's)
    await expect(allocate('globex')).resolves.toBe('10.64.0.0/22');
    await expect(allocate('initech')).resolves.toBe('10.64.8.0/22');
    expect([...table.values()].filter((i) => String(i.id).startsWith('cidr#'))).toEqual([
      { id: 'cidr#10.64.4.0/22', tenantId: 'acme' }, { id: 'cidr#10.64.0.0/22', tenantId: 'globex' }, { id: 'cidr#10.64.8.0/22', tenantId: 'initech' },
    ]);
    expect(table.get('cidr-next#starter')?.next).toBe(3);
  });

  it('does not carry the counter over a block given back while a run that read it earlier claims a later block', async () => {
    // GIVEN blocks 0 and 1 handed out (block 1's claim given back meanwhile, below), the counter at 2
    table.set('cidr-next#starter', { id: 'cidr-next#starter', next: 2 });
    table.set('cidr#10.64.0.0/22', { id: 'cidr#10.64.0.0/22', tenantId: 'initech' });
    let first = true;
    ddb.on(PutCommand).callsFake((input: Parameters<typeof apply>[0]) => {
      if (first) {
        // block 1 is given back between globex's read of the counter (2) and its claim of block 2: the counter goes back to 1
        first = false;
        table.set('cidr-next#starter', { id: 'cidr-next#starter', next: 1 });
      }
      return apply(input, true);
    });
    await expect(allocate('globex')).resolves.toBe('10.64.8.0/22');
    // THEN the counter still names block 1, handed out next; then block 3 (block 2 is globex's)
    expect(table.get('cidr-next#starter')?.next).toBe(1);
    await expect(allocate('acme')).resolves.toBe('10.64.4.0/22');
    await expect(allocate('hooli')).resolves.toBe('10.64.12.0/22');
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

describe('ranges given back at offboarding, and handed out again', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/allocate-network.js');
  const { releaseTenantNetwork } = await import('../../../lambdas/lifecycle/release-network.js');
  const allocate = async (tenantId: string) => {
    records.set(tenantId, leased('onboard', { tenantId, vpcCidr: undefined }));
    return (await handler(state(tenantId))).vpcCidr;
  };
  /** The offboarding's release of `tenantId`'s range (as *Delete tenant stacks* does once the stacks are gone), under the offboarding's lease. */
  const release = async (tenantId: string) => {
    records.set(tenantId, { ...records.get(tenantId)!, lease: leased('offboard', { tenantId }).lease, status: 'OFFBOARDING' });
    return releaseTenantNetwork(records.get(tenantId)!, 'arn:aws:states:us-east-1:111111111111:execution:tessera-offboard:x');
  };

  it('hands out a block given back below the counter before the counter\'s next, and the counter stays', async () => {
    // GIVEN acme, globex and initech hold blocks 0 to 2; globex is offboarded
    for (const t of ['acme', 'globex', 'initech']) await allocate(t);
    await expect(release('globex')).resolves.toEqual({ vpcCidr: '10.64.4.0/22', releasedAt: expect.any(String), executionArn: expect.stringContaining('tessera-offboard') });
    // THEN its claim is gone, the block listed, and the record says it was given back (its own vpcCidr removed)
    expect(claims().map((c) => c.id)).toEqual(['cidr#10.64.0.0/22', 'cidr#10.64.8.0/22']);
    expect(listed()).toEqual(['10.64.4.0/22']);
    expect(records.get('globex')!.vpcCidr).toBeUndefined();
    expect(records.get('globex')!.offboarding?.network?.vpcCidr).toBe('10.64.4.0/22');
    // WHEN two more tenants are onboarded, THEN the first gets globex's range and the next the counter's block 3
    await expect(allocate('hooli')).resolves.toBe('10.64.4.0/22');
    expect(listed()).toEqual([]);
    expect(table.get('cidr-next#starter')?.next).toBe(3);
    await expect(allocate('umbrella')).resolves.toBe('10.64.12.0/22');
  });

  it('onboards again into a pool of one block once its tenant is offboarded (before: NetworkPoolExhausted for good)', async () => {
    useConfig({ ...config, tiers: { ...config.tiers, starter: { ...config.tiers.starter, network: { ...config.tiers.starter.network, tenantCidrPool: '10.64.0.0/22' } } } });
    await expect(allocate('acme')).resolves.toBe('10.64.0.0/22');
    await expect(allocate('globex')).rejects.toMatchObject({
      name: 'NetworkPoolExhausted',
      message: 'tier starter: pool 10.64.0.0/22 has no free /22 left: all 1 are held by tenants now (this counts tenants at once: an offboarded tenant\'s range comes back to the pool); offboard a tenant of the tier, or widen tiers.starter.network.tenantCidrPool',
    });
    await release('acme');
    await expect(allocate('globex')).resolves.toBe('10.64.0.0/22');
    expect(claims()).toEqual([{ id: 'cidr#10.64.0.0/22', tenantId: 'globex' }]);
    await expect(allocate('initech')).rejects.toMatchObject({ name: 'NetworkPoolExhausted' });
  });

  it('gives one released block to one of two onboardings at once: the other gets the counter\'s block', async () => {
    // GIVEN block 0 given back, the counter at 2
    for (const t of ['acme', 'globex']) await allocate(t);
    await release('acme');
    // WHEN initech's claim of block 0 runs only after hooli, which read the same list, has claimed it
    let first = true;
    ddb.on(TransactWriteCommand).callsFake(async (input: Parameters<typeof transact>[0]) => {
      if (first) {
        first = false;
        await expect(allocate('hooli')).resolves.toBe('10.64.0.0/22');
      }
      return transact(input);
    });
    // THEN initech moves on to the counter's block, and no range is held twice
    await expect(allocate('initech')).resolves.toBe('10.64.8.0/22');
    expect(claims()).toEqual([{ id: 'cidr#10.64.4.0/22', tenantId: 'globex' }, { id: 'cidr#10.64.0.0/22', tenantId: 'hooli' }, { id: 'cidr#10.64.8.0/22', tenantId: 'initech' }]);
    expect(listed()).toEqual([]);
  });

  it('deletes only the holder\'s claim: a range another tenant holds stays its own, and the list entry is dropped by the next allocation', async () => {
    // GIVEN acme's record names block 1, which initech holds (its claim of block 0 is acme's own)
    await allocate('acme');
    table.set('cidr#10.64.4.0/22', { id: 'cidr#10.64.4.0/22', tenantId: 'initech' });
    table.set('cidr-next#starter', { id: 'cidr-next#starter', next: 2 });
    records.set('acme', { ...records.get('acme')!, vpcCidr: '10.64.4.0/22' });
    // WHEN acme is offboarded
    await expect(release('acme')).resolves.toMatchObject({ vpcCidr: '10.64.4.0/22', strayClaims: ['10.64.0.0/22'] });
    // THEN initech's claim stands; acme's own stray claim is gone
    expect(claims()).toEqual([{ id: 'cidr#10.64.4.0/22', tenantId: 'initech' }]);
    // AND the next onboarding gets the lowest free block and takes initech's off the list, claimed as it is
    await expect(allocate('hooli')).resolves.toBe('10.64.0.0/22');
    await expect(allocate('umbrella')).resolves.toBe('10.64.8.0/22');
    expect(listed()).toEqual([]);
    expect(claims().find((c) => c.id === 'cidr#10.64.4.0/22')).toEqual({ id: 'cidr#10.64.4.0/22', tenantId: 'initech' });
  });

  it('resumes a release that ended before its registry write, and once recorded does nothing again', async () => {
    await allocate('acme');
    // GIVEN a run that deleted the claim and listed the block, then ended before the registry write
    const updateTenant = vi.mocked(registryMock.updateTenant);
    updateTenant.mockRejectedValueOnce(Object.assign(new Error('Task timed out'), { name: 'Sandbox.Timedout' }));
    await expect(release('acme')).rejects.toThrow('Task timed out');
    expect(claims()).toEqual([]);
    expect(records.get('acme')!.offboarding?.network).toBeUndefined();
    // WHEN the offboarding is resumed, THEN it records the range (the record still names it), listed once
    await expect(release('acme')).resolves.toMatchObject({ vpcCidr: '10.64.0.0/22' });
    expect(listed()).toEqual(['10.64.0.0/22']);
    // AND a later run makes no call
    ddb.resetHistory();
    await expect(release('acme')).resolves.toMatchObject({ vpcCidr: '10.64.0.0/22' });
    expect(ddb.calls()).toHaveLength(0);
  });
});
