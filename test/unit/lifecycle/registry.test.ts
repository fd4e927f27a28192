import { ConditionalCheckFailedException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { acquireSlot, claimCidr, claimClosure, nextPoolIndex, passPoolIndex, requeueClosure, returnPoolIndex, setClosureAside } from '../../../lambdas/shared/control-table.js';
import { deleteHeldTenant, getTenant, withExecution, listTenants, markStep, putNewTenant, recordRefusal, requireTenant, stepContext, updateTenant } from '../../../lambdas/shared/registry.js';
import { lifecycleHandler } from '../../../lambdas/shared/handler.js';
import { GATEWAY_POLICY_ENTRIES, HISTORY_ENTRIES, type LifecycleExecution } from '../../../lib/tenant-record.js';
import { EXECUTION_ARN, LEASED_AT, leased, OTHER_EXECUTION_ARN, setLifecycleEnv, tenant } from './support.js';

const ddb = mockClient(DynamoDBDocumentClient);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  setLifecycleEnv();
  ddb.reset();
});

describe('registry', () => {
  it('registers a tenant id once (conditional put)', async () => {
    ddb.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await expect(putNewTenant(tenant())).resolves.toBe(true);
    await expect(putNewTenant(tenant())).resolves.toBe(false);
    expect(ddb.commandCalls(PutCommand)[0].args[0].input).toMatchObject({ TableName: 'tessera-tenants', ConditionExpression: 'attribute_not_exists(tenantId)' });
  });

  it('refuses to write a record that breaks the schema', async () => {
    await expect(putNewTenant(tenant({ adminEmail: 'nope' }))).rejects.toThrow(/email/i);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('sets and removes attributes, guarded by the expected status', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: tenant({ status: 'SUSPENDED' }) });
    await updateTenant('acme', { status: 'SUSPENDED', currentStep: undefined }, { expectStatus: ['ACTIVE'] });
    const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.UpdateExpression).toBe('SET #updatedAt = :updatedAt, #status = :status REMOVE #currentStep');
    expect(input.ConditionExpression).toBe('attribute_exists(tenantId) AND #status IN (:expect0)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':status': 'SUSPENDED', ':expect0': 'ACTIVE' });
  });

  it('sends a write again that met a transaction in flight on the record (a key write\'s or a token revocation\'s status fence): not applied, the SDK does not retry it', async () => {
    // DynamoDbApiKeyStore.put and DynamoDbUserTokenRevocations.revoke hold the registry item in a TransactWriteItems (ConditionCheck):
    // an UpdateItem of it meanwhile fails TransactionConflictException (DynamoDB Developer Guide, "Transaction conflict handling").
    const conflict = () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });
    ddb.on(UpdateCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({ Attributes: tenant({ gateway: undefined }) });
    await expect(updateTenant('acme', { currentStep: undefined }, { holder: null })).resolves.toMatchObject({ tenantId: 'acme' });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(3);
    ddb.reset();
    ddb.on(UpdateCommand).rejects(conflict());
    await expect(updateTenant('acme', { currentStep: undefined }, { holder: null })).rejects.toBeInstanceOf(TransactionConflictException);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(5); // CONFLICT_RETRIES retries
  });

  it('explains a refused transition with the current status', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: tenant({ status: 'OFFBOARDED' }) });
    // One sentence naming the tenant, its status and what is allowed (it said `is OFFBOARDED; this change needs SUSPENDED`).
    await expect(updateTenant('acme', { status: 'ACTIVE' }, { expectStatus: ['SUSPENDED'] })).rejects.toMatchObject({
      name: 'TenantConflict', message: 'tenant "acme" is OFFBOARDED now, so this change cannot be made: an offboarded tenant is only kept to be read (tessera tenants show acme)',
    });
    ddb.on(GetCommand).resolves({ Item: tenant({ status: 'SUSPENDED' }) });
    await expect(updateTenant('acme', { drift: undefined }, { expectStatus: ['ACTIVE', 'UPDATING'] })).rejects.toMatchObject({
      name: 'TenantConflict', message: 'tenant "acme" is SUSPENDED now, so this change cannot be made: it is made only while the tenant is ACTIVE or UPDATING',
    });
  });

  it('makes every write of a step conditional on the step\'s execution holding the lease; `holder: null` writes without it', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: leased('onboard') });
    // WHEN a step writes (its execution in the step context), then a daily job (holder: null) inside the same context
    await stepContext.run({ executionArn: EXECUTION_ARN }, async () => {
      await updateTenant('acme', { vpcCidr: '10.64.0.0/22' });
      await updateTenant('acme', { gpuCapacity: undefined }, { holder: null });
    });
    // THEN
    const [step, job] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(step.ConditionExpression).toBe('attribute_exists(tenantId) AND #lease.#holder = :holder');
    expect(step.ExpressionAttributeNames).toMatchObject({ '#lease': 'lease', '#holder': 'executionArn' });
    expect(step.ExpressionAttributeValues).toMatchObject({ ':holder': EXECUTION_ARN });
    expect(job.ConditionExpression).toBe('attribute_exists(tenantId)');
    expect(job.ExpressionAttributeValues).not.toHaveProperty(':holder');
  });

  it('names the operation that holds the tenant when a step\'s write is refused (TenantBusy)', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: leased('change', {}, OTHER_EXECUTION_ARN) });
    await expect(updateTenant('acme', { stackName: 'tessera-acme' }, { holder: EXECUTION_ARN })).rejects.toMatchObject({
      name: 'TenantBusy',
      message: `tenant "acme" is held by another operation: change (execution ${OTHER_EXECUTION_ARN}, request req-acme-0001, since ${LEASED_AT}); execution ${EXECUTION_ARN} no longer holds it`,
    });
    ddb.on(GetCommand).resolves({ Item: tenant({ status: 'ACTIVE' }) });
    await expect(updateTenant('acme', { stackName: 'tessera-acme' }, { holder: EXECUTION_ARN })).rejects.toMatchObject({
      name: 'TenantBusy', message: `tenant "acme" is not held by execution ${EXECUTION_ARN} (status ACTIVE); it may not change the tenant`,
    });
  });

  it('guards a read-modify-write with the updatedAt it read (RegistryContention when someone wrote meanwhile)', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: tenant({ updatedAt: '2026-11-30T00:00:01.000Z' }) });
    await expect(updateTenant('acme', { vpcCidr: '10.64.4.0/22' }, { holder: null, expectUpdatedAt: '2026-11-23T00:00:00.000Z' })).rejects.toMatchObject({ name: 'RegistryContention' });
    const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('attribute_exists(tenantId) AND #updatedAt = :observedUpdatedAt');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':observedUpdatedAt': '2026-11-23T00:00:00.000Z' });
  });

  it('records a refusal in lastRefusal alone: no lease condition, updatedAt untouched (a holder\'s read-modify-write is not made to fail), false for a tenant not registered or OFFBOARDED', async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    const refusal = { kind: 'change' as const, requestId: 'req-1', executionArn: EXECUTION_ARN, step: 'Begin change', reason: 'TenantBusy: busy', at: '2026-12-05T00:00:00.000Z' };
    await expect(stepContext.run({ executionArn: EXECUTION_ARN }, () => recordRefusal('acme', refusal))).resolves.toBe(true);
    await expect(recordRefusal('ghost', refusal)).resolves.toBe(false);
    const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input).toEqual({
      TableName: 'tessera-tenants', Key: { tenantId: 'acme' }, UpdateExpression: 'SET #lastRefusal = :refusal', ConditionExpression: 'attribute_exists(tenantId) AND #status <> :offboarded',
      ExpressionAttributeNames: { '#lastRefusal': 'lastRefusal', '#status': 'status' }, ExpressionAttributeValues: { ':refusal': refusal, ':offboarded': 'OFFBOARDED' },
    });
  });

  it('deletes only a record its holder created and still holds in the given status', async () => {
    ddb.on(DeleteCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await expect(deleteHeldTenant('acme', EXECUTION_ARN, 'REQUESTED')).resolves.toBe(true);
    await expect(deleteHeldTenant('acme', EXECUTION_ARN, 'REQUESTED')).resolves.toBe(false);
    expect(ddb.commandCalls(DeleteCommand)[0].args[0].input).toMatchObject({
      Key: { tenantId: 'acme' }, ConditionExpression: '#lease.#holder = :holder AND #status = :status', ExpressionAttributeValues: { ':holder': EXECUTION_ARN, ':status': 'REQUESTED' },
    });
  });

  it('lists by status through the status index', async () => {
    ddb.on(QueryCommand).resolves({ Items: [tenant({ tenantId: 'zeta', status: 'ACTIVE' }), tenant({ tenantId: 'alpha', status: 'ACTIVE' })] });
    const list = await listTenants({ status: 'ACTIVE' });
    expect(list.map((t) => t.tenantId)).toEqual(['alpha', 'zeta']);
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({ IndexName: 'by-status', ExpressionAttributeValues: { ':v': 'ACTIVE' } });
  });
});

describe('control table', () => {
  it('takes a slot only while fewer than the cap are held (re-entrant for the holder)', async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await expect(acquireSlot('acme', 5)).resolves.toBe(true);
    await expect(acquireSlot('globex', 5)).resolves.toBe(false);
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toMatchObject({
      UpdateExpression: 'ADD holders :h',
      ConditionExpression: 'attribute_not_exists(holders) OR size(holders) < :cap OR contains(holders, :holder)',
      ExpressionAttributeValues: { ':cap': 5, ':holder': 'acme' },
    });
  });

  it('reads the pool counter (0 before any block), moves it past a claimed block one block at a time, back to a block given back, and claims a CIDR once', async () => {
    ddb.on(GetCommand).resolvesOnce({ Item: { id: 'cidr-next#starter', next: 3 } }).resolvesOnce({});
    await expect(nextPoolIndex('starter')).resolves.toBe(3);
    await expect(nextPoolIndex('starter')).resolves.toBe(0);
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).toMatchObject({ Key: { id: 'cidr-next#starter' }, ConsistentRead: true });
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await passPoolIndex('starter', 3);
    await passPoolIndex('starter', 3); // sent again after a lost answer, or another run passed it: left as it is
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toMatchObject({
      Key: { id: 'cidr-next#starter' }, UpdateExpression: 'SET #n = :after', ConditionExpression: 'attribute_not_exists(#n) OR #n = :index',
      ExpressionAttributeValues: { ':index': 3, ':after': 4 },
    });
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await returnPoolIndex('starter', 1);
    await returnPoolIndex('starter', 1); // the counter is at or before block 1 already: left as it is
    expect(ddb.commandCalls(UpdateCommand)[2].args[0].input).toMatchObject({
      Key: { id: 'cidr-next#starter' }, UpdateExpression: 'SET #n = :index', ConditionExpression: '#n > :index', ExpressionAttributeValues: { ':index': 1 },
    });
    ddb.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await expect(claimCidr('10.64.8.0/22', 'acme')).resolves.toBe(true);
    await expect(claimCidr('10.64.8.0/22', 'globex')).resolves.toBe(false);
  });
});

describe('claimCidr', () => {
  // Faults pass: a conditional PutItem the SDK sent again after its answer was lost fails its own condition; the
  // claim was read as another tenant's, and the range stayed claimed for the tenant, unused, never given back.
  it('takes a claim the tenant holds already as its own (a retried put whose first attempt took effect), another tenant\'s as taken', async () => {
    const held = (tenantId: string) => Object.assign(conditionFailed(), { Item: { id: { S: 'cidr#10.64.8.0/22' }, tenantId: { S: tenantId } } });
    ddb.on(PutCommand).rejectsOnce(held('acme')).rejectsOnce(held('globex'));
    await expect(claimCidr('10.64.8.0/22', 'acme')).resolves.toBe(true);
    await expect(claimCidr('10.64.8.0/22', 'acme')).resolves.toBe(false);
    expect(ddb.commandCalls(PutCommand)[0].args[0].input).toMatchObject({ ConditionExpression: 'attribute_not_exists(id)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
  });
});

describe('claimClosure', () => {
  // Faults pass: a claim whose answer was lost fails its own condition on the SDK's retry (no longer QUEUED); read
  // as another worker's, the entry sat claimed and untried, then was counted a failed attempt (ClosureInterrupted).
  it('takes a claim with its own claimedAt as its own (a retried update whose first attempt took effect), another run\'s as taken', async () => {
    const now = new Date('2026-12-01T00:00:00.000Z');
    const held = (claimedAt: string) => Object.assign(conditionFailed(), { Item: { id: { S: 'closure#111100000001' }, status: { S: 'CLOSING' }, claimedAt: { S: claimedAt } } });
    ddb.on(UpdateCommand).rejectsOnce(held(now.toISOString())).rejectsOnce(held('2026-11-30T23:59:59.000Z'));
    await expect(claimClosure('111100000001', now)).resolves.toBe(true);
    await expect(claimClosure('111100000001', now)).resolves.toBe(false);
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toMatchObject({ ConditionExpression: '#s = :queued', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
  });
});

describe('requeueClosure, setClosureAside', () => {
  // Faults pass: the settling write whose answer was lost fails its own condition on the SDK's retry (the claim is
  // gone); read as another run's settlement, nothing was recorded on the tenant, whose accountClosure missed that error.
  const settledBy = (token: string, status: string, attempts: number) => Object.assign(conditionFailed(), {
    Item: { id: { S: 'closure#111100000001' }, status: { S: status }, attempts: { N: String(attempts) }, lastError: { S: 'AccessDeniedException: no' }, settledBy: { S: token } },
  });
  /** The write applied and its answer lost: the SDK's retry (the same request, the same token) meets the entry it left. */
  const lostAnswer = (status: string, attempts: number) => (input: { ExpressionAttributeValues: Record<string, string> }) => {
    throw settledBy(input.ExpressionAttributeValues[':token'], status, attempts);
  };

  it('know their own write, sent again after its answer was lost, by its token: the attempts it left', async () => {
    ddb.on(UpdateCommand).callsFakeOnce(lostAnswer('QUEUED', 2)).callsFakeOnce(lostAnswer('NEEDS_OPERATOR', 5));
    await expect(requeueClosure('111100000001', '2026-12-01T00:00:00.000Z', 'AccessDeniedException: no')).resolves.toBe(2);
    await expect(setClosureAside('111100000001', '2026-12-01T00:00:00.000Z', 'AccessDeniedException: no')).resolves.toBe(5);
    const [requeue, aside] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(requeue).toMatchObject({
      UpdateExpression: 'SET #s = :queued, lastError = :error, settledBy = :token ADD attempts :one REMOVE closedAt, claimedAt',
      ConditionExpression: '#s = :closing AND claimedAt = :claimedAt', ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ExpressionAttributeValues: { ':token': expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    expect(aside.UpdateExpression).toBe('SET #s = :aside, lastError = :error, settledBy = :token ADD attempts :one REMOVE closedAt, claimedAt');
    expect(aside.ExpressionAttributeValues![':token']).not.toBe(requeue.ExpressionAttributeValues![':token']);
  });

  it('answer undefined (settled elsewhere) when another run\'s write settled the claim, or an entry without a token', async () => {
    ddb.on(UpdateCommand).rejectsOnce(settledBy('another-run', 'QUEUED', 2)).rejectsOnce(conditionFailed()).rejectsOnce(settledBy('another-run', 'NEEDS_OPERATOR', 5));
    await expect(requeueClosure('111100000001', '2026-12-01T00:00:00.000Z', 'AccessDeniedException: no')).resolves.toBeUndefined();
    await expect(requeueClosure('111100000001', undefined)).resolves.toBeUndefined();
    await expect(setClosureAside('111100000001', '2026-12-01T00:00:00.000Z', 'AccessDeniedException: no')).resolves.toBeUndefined();
  });

  it('answer the attempts the write left', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { attempts: 3 } });
    await expect(requeueClosure('111100000001', undefined)).resolves.toBe(3);
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toMatchObject({
      UpdateExpression: 'SET #s = :queued, settledBy = :token REMOVE closedAt, claimedAt', ConditionExpression: '#s = :closing AND attribute_not_exists(claimedAt)',
    });
  });
});

describe('a step\'s first read of its tenant', () => {
  it('is answered by the record its markStep wrote (UpdateItem ALL_NEW): one UpdateItem and no GetItem', async () => {
    // GIVEN a step that reads its tenant first thing (most steps do)
    ddb.on(UpdateCommand).resolves({ Attributes: leased('onboard', { currentStep: 'Wire tenant' }) });
    ddb.on(GetCommand).resolves({ Item: leased('onboard') });
    const step = lifecycleHandler('Wire tenant', async (state: { request: { tenantId: string } }) => (await requireTenant(state.request.tenantId)).currentStep);
    // WHEN
    const seen = await step({ executionArn: EXECUTION_ARN, request: { tenantId: 'acme' } } as never);
    // THEN the step saw the record as written, without reading it again
    expect(seen).toBe('Wire tenant');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('reads DynamoDB for every later read, after any write of the step, for another tenant, and outside a step', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: leased('onboard') });
    ddb.on(GetCommand).resolves({ Item: leased('onboard', { vpcCidr: '10.64.8.0/22' }) });
    await stepContext.run({ executionArn: EXECUTION_ARN }, async () => {
      await markStep('acme', 'Allocate network');
      await getTenant('acme'); // the marked record (no GetItem)
      await getTenant('acme'); // a second read: DynamoDB
      await markStep('acme', 'Allocate network');
      await updateTenant('acme', { vpcCidr: '10.64.8.0/22' });
      expect((await getTenant('acme'))?.vpcCidr).toBe('10.64.8.0/22'); // after the step's own write: DynamoDB
      await markStep('acme', 'Allocate network');
      await getTenant('globex'); // another tenant: DynamoDB, and the marked record is gone
      await getTenant('acme');
    });
    await markStep('acme', 'Allocate network');
    await getTenant('acme'); // outside a step nothing is kept
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key)).toEqual([{ tenantId: 'acme' }, { tenantId: 'acme' }, { tenantId: 'globex' }, { tenantId: 'acme' }, { tenantId: 'acme' }]);
  });
});

describe('withExecution: the history at its cap', () => {
  const policyWrite = (v: number): LifecycleExecution => ({
    kind: 'gateway-policy', requestId: `gateway-policy-v${v}`, startedAt: new Date(Date.parse('2026-12-01T00:00:00Z') + v * 60_000).toISOString(), status: 'SUCCEEDED',
  });
  const change: LifecycleExecution = { kind: 'change', requestId: 'key-1', executionArn: EXECUTION_ARN, startedAt: '2026-11-30T23:00:00.000Z', status: 'RUNNING', actor: 'admin:alice', change: { tier: 'business' } };

  const suspend = (i: number): LifecycleExecution => ({
    kind: 'suspend', requestId: `key-s${i}`, executionArn: `${EXECUTION_ARN}-s${i}`, startedAt: new Date(Date.parse('2026-11-01T00:00:00Z') + i * 60_000).toISOString(), endedAt: new Date(Date.parse('2026-11-01T00:00:30Z') + i * 60_000).toISOString(), status: 'SUCCEEDED', actor: 'admin:bob',
  });

  it('50 policy writes after a running change\'s entry: the change\'s entry stays with what it was asked and by whom, the last GATEWAY_POLICY_ENTRIES policy writes are kept', () => {
    let record = tenant({ executions: [policyWrite(0), change] });
    for (let v = 1; v <= 50; v++) record = { ...record, executions: withExecution(record, policyWrite(v)) };
    expect(record.executions).toHaveLength(GATEWAY_POLICY_ENTRIES + 1);
    // Before: the change's entry was dropped once 50 later entries were written (and its ending wrote it again without them)
    expect(record.executions.find((e) => e.executionArn === EXECUTION_ARN)).toEqual(change);
    expect(record.executions.filter((e) => e.kind === 'gateway-policy').map((e) => e.requestId)).toEqual(Array.from({ length: GATEWAY_POLICY_ENTRIES }, (_, i) => `gateway-policy-v${50 - GATEWAY_POLICY_ENTRIES + 1 + i}`));
    // Its ending replaces it at the end, and keeps it
    const ended = withExecution(record, { ...change, status: 'SUCCEEDED', endedAt: '2026-12-01T02:00:00.000Z' });
    expect(ended).toHaveLength(GATEWAY_POLICY_ENTRIES + 1);
    expect(ended.at(-1)).toMatchObject({ executionArn: EXECUTION_ARN, status: 'SUCCEEDED', actor: 'admin:alice', change: { tier: 'business' } });
  });

  it('policy writes never push out an ended operation\'s entry: 50 finished operations, then 100 policy writes, keep all 50 (their Idempotency-Keys and ended executions still known) and the last 20 writes', () => {
    let record = tenant({ executions: Array.from({ length: HISTORY_ENTRIES }, (_, i) => suspend(i)) });
    for (let v = 1; v <= 100; v++) record = { ...record, executions: withExecution(record, policyWrite(v)) };
    // Before: after 50 policy writes no operation's entry was left (one cap of 50 for both)
    expect(record.executions.filter((e) => e.kind === 'suspend').map((e) => e.requestId)).toEqual(Array.from({ length: HISTORY_ENTRIES }, (_, i) => `key-s${i}`));
    expect(record.executions.filter((e) => e.kind === 'gateway-policy').map((e) => e.requestId)).toEqual(Array.from({ length: GATEWAY_POLICY_ENTRIES }, (_, i) => `gateway-policy-v${100 - GATEWAY_POLICY_ENTRIES + 1 + i}`));
    // A 51st operation drops the oldest operation's entry, no policy write's
    const next = withExecution(record, suspend(HISTORY_ENTRIES));
    expect(next.filter((e) => e.kind === 'suspend').map((e) => e.requestId)).toEqual(Array.from({ length: HISTORY_ENTRIES }, (_, i) => `key-s${i + 1}`));
    expect(next.filter((e) => e.kind === 'gateway-policy')).toHaveLength(GATEWAY_POLICY_ENTRIES);
  });

  it('under the caps nothing goes; with every older entry ended, the oldest of each kind goes as before', () => {
    const fewer = tenant({ executions: Array.from({ length: 10 }, (_, i) => policyWrite(i)) });
    expect(withExecution(fewer, policyWrite(10))).toHaveLength(11);
    const full = tenant({ executions: Array.from({ length: GATEWAY_POLICY_ENTRIES }, (_, i) => policyWrite(i)) });
    expect(withExecution(full, policyWrite(GATEWAY_POLICY_ENTRIES)).map((e) => e.requestId)).toEqual(Array.from({ length: GATEWAY_POLICY_ENTRIES }, (_, i) => `gateway-policy-v${i + 1}`));
    const operations = tenant({ executions: Array.from({ length: HISTORY_ENTRIES }, (_, i) => suspend(i)) });
    expect(withExecution(operations, suspend(HISTORY_ENTRIES)).map((e) => e.requestId)).toEqual(Array.from({ length: HISTORY_ENTRIES }, (_, i) => `key-s${i + 1}`));
  });
});
