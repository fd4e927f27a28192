import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoDbTenantModels } from '../../../lambdas/fine-tuning/stores/dynamodb-tenant-models.js';
import type { GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import type { FineTunedModel, TenantRecord } from '../../../lib/tenant-record.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * The registry's `fineTunedModels` as DELETE /v1/models/{model} changes it on DynamoDB, with a replica
 * that lags (what an eventually consistent GetItem, the gateway's read, may answer): the table is a small
 * fake behind aws-sdk-client-mock that applies `REMOVE fineTunedModels[i]` under its condition.
 */
const doc = mockClient(DynamoDBDocumentClient);
const model = (s: string): FineTunedModel => ({ id: `ft:llama-3.1-8b-instruct:acme:${s}`, baseModel: 'llama-3.1-8b-instruct', jobId: `ftjob-${s.repeat(24)}`, endpointName: `acme-ft-${s}`, createdAt: '2026-12-01T00:00:00.000Z' });

let current: TenantRecord;
let lagging: TenantRecord;
const reader = { getTenant: async () => structuredClone(lagging) } as unknown as GatewayStore;
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
const models = () => dynamoDbTenantModels('tessera-tenants', reader, async () => client);

beforeEach(() => {
  doc.reset();
  doc.on(GetCommand).callsFake(async (input) => ({ Item: structuredClone(input.ConsistentRead ? current : lagging) }));
  doc.on(UpdateCommand).callsFake(async (input) => {
    const at = Number(/REMOVE fineTunedModels\[(\d+)\]/.exec(input.UpdateExpression!)![1]);
    if (current.fineTunedModels?.[at]?.id !== input.ExpressionAttributeValues![':id']) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    current = { ...current, fineTunedModels: current.fineTunedModels!.filter((_, i) => i !== at) };
    return {};
  });
});

describe('dynamoDbTenantModels.removeFineTunedModel reads the record strongly consistent', () => {
  it('after a concurrent deletion shifted the positions, a lagging read does not make it fail (a 500 once SageMaker had deleted the endpoint)', async () => {
    // GIVEN models a and b; a was just removed by a concurrent DELETE, which a lagging replica does not show yet
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('b')] });
    lagging = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('a'), model('b')] });
    // WHEN b is removed (the old code read the lagging record 5 times: position 1 each time, its condition failed, it threw)
    await expect(models().removeFineTunedModel('acme', model('b').id)).resolves.toBe(true);
    // THEN b is out of the record
    expect(current.fineTunedModels).toEqual([]);
    for (const call of doc.commandCalls(GetCommand)) expect(call.args[0].input).toMatchObject({ ConsistentRead: true });
  });

  it('a lagging read that does not list the model yet does not answer "not listed" (a 404 after SageMaker deleted its endpoint, the model still listed)', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('c')] });
    lagging = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [] });
    await expect(models().removeFineTunedModel('acme', model('c').id)).resolves.toBe(true);
    expect(current.fineTunedModels).toEqual([]);
  });

  it('a model listed twice (two deliveries of one Completed event each appended it, each having read the record without it) leaves the record entirely, as in memory (serve)', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('f'), model('g'), model('f')] });
    lagging = current;
    // the old code removed the first only: the model stayed listed and routed to the endpoint just deleted
    await expect(models().removeFineTunedModel('acme', model('f').id)).resolves.toBe(true);
    expect(current.fineTunedModels).toEqual([model('g')]);
  });

  it('the SDK\'s own retry of the removal refused by its condition, after the first attempt took the model out (its answer lost): true, not "not listed" (a 404 for the delete that removed it)', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('h'), model('i')] });
    lagging = current;
    // The next removal is carried out and answered with the condition's refusal after `attempts` attempts: attempt 2 is
    // the SDK's own retry of a first attempt whose answer was lost (a 500, a reset connection); attempt 1 a concurrent removal.
    let attempts: number | undefined = 2;
    doc.on(UpdateCommand).callsFake(async (input) => {
      const at = Number(/REMOVE fineTunedModels\[(\d+)\]/.exec(input.UpdateExpression!)![1]);
      const refused = current.fineTunedModels?.[at]?.id !== input.ExpressionAttributeValues![':id'];
      if (!refused) current = { ...current, fineTunedModels: current.fineTunedModels!.filter((_, i) => i !== at) };
      if (refused || attempts !== undefined) {
        const error = Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: attempts ?? 1 } });
        attempts = undefined;
        throw error;
      }
      return {};
    });
    await expect(models().removeFineTunedModel('acme', model('h').id)).resolves.toBe(true);
    expect(current.fineTunedModels).toEqual([model('i')]);

    // ...while a first attempt refused (a concurrent removal took it out) is still "not listed by this call": false
    attempts = 1;
    await expect(models().removeFineTunedModel('acme', model('i').id)).resolves.toBe(false);
    expect(current.fineTunedModels).toEqual([]);
  });

  it('a model the record does not list is false, without an update', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('d')] });
    lagging = current;
    await expect(models().removeFineTunedModel('acme', model('e').id)).resolves.toBe(false);
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('dynamoDbTenantModels: a registry write that met a key write\'s status check (a transaction holding the item)', () => {
  const conflict = () => Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' });

  it('adds and removes the model all the same: the write, not applied, is sent again (the SDK does not retry TransactionConflictException)', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('f')] });
    lagging = current;
    doc.on(UpdateCommand).rejectsOnce(conflict()).resolvesOnce({}).rejectsOnce(conflict()).callsFake(async () => {
      current = { ...current, fineTunedModels: [] };
      return {};
    });
    await models().addFineTunedModel(trainedTenant('acme', 'enterprise', '444444444444'), model('g'));
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(2);
    await expect(models().removeFineTunedModel('acme', model('f').id)).resolves.toBe(true);
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(4);
  });
});

describe('dynamoDbTenantModels.addFineTunedModel lists a model once, whatever runs at the same time', () => {
  const refusal = () => Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

  /**
   * DynamoDB's evaluation of the add's condition on `current`: the terms the add writes (attribute_exists,
   * attribute_not_exists, size() =, a list entry's id <>, one parenthesised OR), joined by AND.
   */
  function holds(expression: string, names: Record<string, string>, values: Record<string, unknown>): boolean {
    const attribute = (path: string): unknown => {
      const [, name, index, field] = /^([#\w]+)(?:\[(\d+)\])?(?:\.(\w+))?$/.exec(path.trim())!;
      let value: unknown = (current as unknown as Record<string, unknown>)[names[name] ?? name];
      if (index !== undefined) value = (value as unknown[] | undefined)?.[Number(index)];
      if (field !== undefined) value = (value as Record<string, unknown> | undefined)?.[field];
      return value;
    };
    const term = (t: string): boolean => {
      t = t.trim();
      if (t.startsWith('(') && t.endsWith(')')) return t.slice(1, -1).split(' OR ').some(term);
      let m = /^attribute_(not_)?exists\((.+)\)$/.exec(t);
      if (m) return (attribute(m[2]) === undefined) === (m[1] !== undefined);
      m = /^size\((.+)\) = (:\w+)$/.exec(t);
      if (m) return (attribute(m[1]) as unknown[] | undefined)?.length === values[m[2]];
      m = /^(.+) <> (:\w+)$/.exec(t);
      if (m) return attribute(m[1]) !== undefined && attribute(m[1]) !== values[m[2]];
      throw new Error(`the fake does not know the term ${t}`);
    };
    return expression.split(' AND ').every(term);
  }

  /** The registry item on DynamoDB: the add's list_append applied under its condition. */
  function appendsUnderItsCondition() {
    doc.on(UpdateCommand).callsFake(async (input) => {
      expect(input.UpdateExpression).toMatch(/^SET (#f|fineTunedModels) = list_append\(if_not_exists\((#f|fineTunedModels), :none\), :m\), updatedAt = :at$/);
      if (!holds(input.ConditionExpression!, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues!)) throw refusal();
      current = { ...current, fineTunedModels: [...(current.fineTunedModels ?? []), ...(input.ExpressionAttributeValues![':m'] as FineTunedModel[])] };
      return {};
    });
  }

  it('two settles of one job at once (two endpoint events, or a look and an event), each having read the record without the model: listed once (before: twice)', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('a')] });
    lagging = current;
    const stale = structuredClone(current);
    // Both read the record before either writes (the second read waits for the first).
    let reads = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => { bothRead = resolve; });
    doc.on(GetCommand).callsFake(async (input) => {
      const item = structuredClone(input.ConsistentRead ? current : lagging);
      if (++reads === 2) bothRead();
      if (reads <= 2) await barrier;
      return { Item: item };
    });
    appendsUnderItsCondition();

    await Promise.all([models().addFineTunedModel(stale, model('b')), models().addFineTunedModel(stale, model('b'))]);

    expect(current.fineTunedModels!.map((m) => m.id)).toEqual([model('a').id, model('b').id]);
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(2); // the second refused by its condition, then the record read again lists it
  });

  it("the second write's ConditionalCheckFailed is success, not an error, once the record read again lists the model", async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [] });
    const without = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('a')] });
    const withIt = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: [model('a'), model('b')] });
    doc.on(GetCommand).resolvesOnce({ Item: without }).resolvesOnce({ Item: without }).resolves({ Item: withIt });
    doc.on(UpdateCommand).resolvesOnce({}).rejects(refusal());
    const stale = trainedTenant('acme', 'enterprise', '444444444444');

    await models().addFineTunedModel(stale, model('b'));
    await expect(models().addFineTunedModel(stale, model('b'))).resolves.toBeUndefined();

    const update = doc.commandCalls(UpdateCommand)[1].args[0].input;
    expect(update.ConditionExpression).toBe('attribute_exists(tenantId) AND size(#f) = :n AND #f[0].id <> :id');
    expect(update.ExpressionAttributeNames).toEqual({ '#f': 'fineTunedModels' });
    expect(update.ExpressionAttributeValues).toMatchObject({ ':n': 1, ':id': model('b').id });
    for (const call of doc.commandCalls(GetCommand)) expect(call.args[0].input).toMatchObject({ ConsistentRead: true });
  });

  it('another model added between its read and its write: read again and added (both listed); a record with no list yet gets one', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444');
    let first = true;
    doc.on(GetCommand).callsFake(async () => {
      const item = structuredClone(current);
      // a concurrent deployment of model c lands right after this add's first read
      if (first) current = { ...current, fineTunedModels: [model('c')] };
      first = false;
      return { Item: item };
    });
    appendsUnderItsCondition();
    await models().addFineTunedModel(trainedTenant('acme', 'enterprise', '444444444444'), model('d'));
    expect(current.fineTunedModels!.map((m) => m.id)).toEqual([model('c').id, model('d').id]);
    expect(doc.commandCalls(UpdateCommand).map((c) => c.args[0].input.ConditionExpression)).toEqual([
      'attribute_exists(tenantId) AND (attribute_not_exists(#f) OR size(#f) = :n)',
      'attribute_exists(tenantId) AND size(#f) = :n AND #f[0].id <> :id',
    ]);
  });

  it('a long list: the condition checks the last 100 ids with the size, and stays under DynamoDB\'s 4 KB an expression', async () => {
    current = trainedTenant('acme', 'enterprise', '444444444444', { fineTunedModels: Array.from({ length: 150 }, (_, i) => model(`m${i}`)) });
    lagging = current;
    appendsUnderItsCondition();
    await models().addFineTunedModel(trainedTenant('acme', 'enterprise', '444444444444'), model('new'));
    const condition = doc.commandCalls(UpdateCommand)[0].args[0].input.ConditionExpression!;
    expect(condition.length).toBeLessThan(4096);
    expect(condition).toContain('#f[149].id <> :id AND #f[148].id');
    expect(condition).toMatch(/#f\[50\]\.id <> :id$/);
    expect(current.fineTunedModels).toHaveLength(151);
  });

  it('a record that is gone: an error naming the tenant, no write', async () => {
    doc.on(GetCommand).resolves({});
    await expect(models().addFineTunedModel(trainedTenant('acme', 'enterprise', '444444444444'), model('x'))).rejects.toThrow('tenant "acme" is not in the registry');
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
