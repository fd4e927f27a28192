import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbResponseStore } from '../../../lambdas/inference/stores/dynamodb-response-store.js';
import { MemoryResponseStore } from '../../../lambdas/inference/stores/memory-response-store.js';
import { MAX_STORED_BYTES, ResponseTooLargeError, decodeStoredBody, type StoredResponse } from '../../../lambdas/inference/stores/response-store.js';

const now = () => Math.floor(Date.now() / 1000);
const item = (tenantId: string, responseId: string, expiresAt = now() + 3600): StoredResponse => ({
  tenantId, responseId, expiresAt, response: { id: responseId, object: 'response' }, inputItems: [{ id: 'msg_1', type: 'message' }], messages: [{ role: 'user', content: 'Hi' }],
});

describe('MemoryResponseStore', () => {
  it('returns a tenant\'s own response, never another tenant\'s', async () => {
    const s = new MemoryResponseStore();
    await s.put(item('acme', 'resp_1'));
    expect(await s.get('acme', 'resp_1')).toEqual(item('acme', 'resp_1', (await s.get('acme', 'resp_1'))!.expiresAt));
    expect(await s.get('globex', 'resp_1')).toBeUndefined();
    expect(await s.delete('globex', 'resp_1')).toBe(false);
    expect(await s.get('acme', 'resp_1')).toBeDefined();
  });

  it('an expired response is gone for get and delete', async () => {
    const s = new MemoryResponseStore();
    await s.put(item('acme', 'resp_old', now() - 1));
    expect(await s.get('acme', 'resp_old')).toBeUndefined();
    expect(await s.delete('acme', 'resp_old')).toBe(false);
  });

  it('delete answers whether there was one', async () => {
    const s = new MemoryResponseStore();
    await s.put(item('acme', 'resp_1'));
    expect(await s.delete('acme', 'resp_1')).toBe(true);
    expect(await s.delete('acme', 'resp_1')).toBe(false);
  });

  it('a body over the limit compressed is refused (the same limit as DynamoDB\'s item)', async () => {
    const big = { ...item('acme', 'resp_big'), messages: [{ role: 'user' as const, content: randomBytes(MAX_STORED_BYTES).toString('base64') }] };
    await expect(new MemoryResponseStore().put(big)).rejects.toBeInstanceOf(ResponseTooLargeError);
  });
});

describe('DynamoDbResponseStore (SDK mocked)', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const asked: string[] = [];
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
  const store = new DynamoDbResponseStore('tessera-responses', async (tenantId) => (asked.push(tenantId), doc));
  beforeEach(() => {
    ddb.reset();
    asked.length = 0;
  });
  afterAll(() => ddb.restore());

  it('puts the keys, expiresAt and the gzipped body, with the tenant\'s client', async () => {
    ddb.on(PutCommand).resolves({});
    await store.put(item('acme', 'resp_1', 2_000_000_000));
    const input = ddb.commandCalls(PutCommand)[0].args[0].input;
    expect(input).toMatchObject({ TableName: 'tessera-responses', Item: { tenantId: 'acme', responseId: 'resp_1', expiresAt: 2_000_000_000 } });
    expect(decodeStoredBody(input.Item!.body as Uint8Array)).toEqual({ response: { id: 'resp_1', object: 'response' }, inputItems: [{ id: 'msg_1', type: 'message' }], messages: [{ role: 'user', content: 'Hi' }] });
    expect(asked).toEqual(['acme']);
  });

  it('reads with the tenant key (consistent), and refuses an expired item DynamoDB has not deleted yet', async () => {
    const { encodeStoredBody } = await import('../../../lambdas/inference/stores/response-store.js');
    const body = encodeStoredBody(item('acme', 'resp_1'));
    ddb.on(GetCommand).resolvesOnce({ Item: { tenantId: 'acme', responseId: 'resp_1', expiresAt: now() + 60, body } }).resolvesOnce({ Item: { tenantId: 'acme', responseId: 'resp_1', expiresAt: now() - 60, body } });
    expect((await store.get('acme', 'resp_1'))?.response).toEqual({ id: 'resp_1', object: 'response' });
    expect(await store.get('acme', 'resp_1')).toBeUndefined();
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: 'tessera-responses', Key: { tenantId: 'acme', responseId: 'resp_1' }, ConsistentRead: true });
  });

  it('deletes only an existing, unexpired item; a failed condition is "not found"', async () => {
    ddb.on(DeleteCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    expect(await store.delete('acme', 'resp_1')).toBe(true);
    expect(await store.delete('acme', 'resp_1')).toBe(false);
    expect(ddb.commandCalls(DeleteCommand)[0].args[0].input).toMatchObject({ Key: { tenantId: 'acme', responseId: 'resp_1' }, ConditionExpression: 'attribute_exists(responseId) AND expiresAt > :now' });
  });

  it('an id no tenant can have asks for no session', async () => {
    expect(await store.get('../acme', 'resp_1')).toBeUndefined();
    expect(asked).toEqual([]);
  });
});
