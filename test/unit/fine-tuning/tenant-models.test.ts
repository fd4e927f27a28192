import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoDbTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
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
