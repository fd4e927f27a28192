import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { acquireSlot, claimCidr, nextPoolIndex } from '../../../lambdas/shared/control-table.js';
import { listTenants, putNewTenant, updateTenant } from '../../../lambdas/shared/registry.js';
import { setLifecycleEnv, tenant } from './support.js';

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

  it('explains a refused transition with the current status', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: tenant({ status: 'OFFBOARDED' }) });
    await expect(updateTenant('acme', { status: 'ACTIVE' }, { expectStatus: ['SUSPENDED'] })).rejects.toMatchObject({ name: 'TenantConflict', message: 'tenant "acme" is OFFBOARDED; this change needs SUSPENDED' });
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

  it('hands out pool indexes from an atomic counter and claims a CIDR once', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { next: 3 } });
    await expect(nextPoolIndex('starter')).resolves.toBe(2);
    ddb.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await expect(claimCidr('10.64.8.0/22', 'acme')).resolves.toBe(true);
    await expect(claimCidr('10.64.8.0/22', 'globex')).resolves.toBe(false);
  });
});
