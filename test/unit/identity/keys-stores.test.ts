import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbApiKeyStore } from '../../../lambdas/identity/stores/dynamodb-api-key-store.js';
import { FileApiKeyStore } from '../../../lambdas/identity/stores/file-api-key-store.js';
import { MemoryApiKeyStore } from '../../../lambdas/identity/stores/memory-api-key-store.js';
import { tempDir } from '../../support/temp-dirs.js';
import { apiKeyStoreBehaviour, keyRecord } from './keys-store-behaviour.js';

const ddb = mockClient(DynamoDBDocumentClient);
afterAll(() => ddb.restore());
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/**
 * The keys table behind the mocked SDK, with DynamoDB's semantics for the calls the store makes:
 * keys (tenantId, keyHash), condition expressions attribute_(not_)exists(keyHash), Query on a
 * partition (begins_with on the sort key, sorted by it, pages of 10 with LastEvaluatedKey,
 * ProjectionExpression), UpdateItem SET, BatchWriteItem deletes (the first call of each
 * deleteAll leaves its last 2 requests unprocessed, as a throttled table does).
 */
function fakeKeysTable(): { asked: string[] } {
  const items = new Map<string, Record<string, unknown>>();
  const id = (k: { tenantId: unknown; keyHash: unknown }) => `${String(k.tenantId)}\n${String(k.keyHash)}`;
  const asked: string[] = [];
  let batches = 0;
  ddb.reset();
  ddb.on(GetCommand).callsFake((input) => ({ Item: structuredClone(items.get(id(input.Key))) }));
  ddb.on(PutCommand).callsFake((input) => {
    if (input.ConditionExpression === 'attribute_not_exists(keyHash)' && items.has(id(input.Item))) throw conditionFailed();
    for (const v of Object.values(input.Item)) if (v === undefined) throw new Error('Pass options.removeUndefinedValues=true to remove undefined values');
    items.set(id(input.Item), structuredClone(input.Item));
    return {};
  });
  ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const values = input.ExpressionAttributeValues!;
    const all = [...items.values()].filter((i) => i.tenantId === values[':t'] && (values[':p'] === undefined || String(i.keyHash).startsWith(String(values[':p']))))
      .sort((a, b) => String(a.keyHash).localeCompare(String(b.keyHash)));
    const from = input.ExclusiveStartKey ? all.findIndex((i) => i.keyHash === input.ExclusiveStartKey!.keyHash) + 1 : 0;
    const page = all.slice(from, from + 10);
    const fields = input.ProjectionExpression?.split(',').map((f) => f.trim());
    return {
      Items: page.map((i) => structuredClone(fields ? Object.fromEntries(fields.map((f) => [f, i[f]])) : i)),
      LastEvaluatedKey: from + 10 < all.length ? { tenantId: page.at(-1)!.tenantId, keyHash: page.at(-1)!.keyHash } : undefined,
    };
  });
  ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
    const item = items.get(id(input.Key as never));
    if (!item) throw conditionFailed();
    // claimRotation's condition: attribute_not_exists(rotatedTo) AND attribute_not_exists(revokedAt)
    for (const attr of ['rotatedTo', 'revokedAt']) if (input.ConditionExpression?.includes(`attribute_not_exists(${attr})`) && item[attr] !== undefined) throw conditionFailed();
    for (const [name, attr] of Object.entries(input.ExpressionAttributeNames!)) item[attr] = input.ExpressionAttributeValues![`:${name.slice(1)}`];
    return {};
  });
  ddb.on(BatchWriteCommand).callsFake((input) => {
    const [table, requests] = Object.entries(input.RequestItems!)[0]! as [string, Array<{ DeleteRequest?: { Key?: Record<string, unknown> } }>];
    const keep = batches++ === 0 ? requests.slice(-2) : [];
    for (const r of requests.slice(0, requests.length - keep.length)) items.delete(id(r.DeleteRequest!.Key as never));
    return { UnprocessedItems: keep.length ? { [table]: keep } : {} };
  });
  return { asked };
}

apiKeyStoreBehaviour('MemoryApiKeyStore', () => new MemoryApiKeyStore());
apiKeyStoreBehaviour('FileApiKeyStore', () => new FileApiKeyStore(tempDir('tessera-keys-')));
apiKeyStoreBehaviour('DynamoDbApiKeyStore (SDK mocked)', () => {
  const { asked } = fakeKeysTable();
  return new DynamoDbApiKeyStore('tessera-api-keys', async (tenantId) => (asked.push(tenantId), doc), { sleep: async () => undefined });
});

describe('FileApiKeyStore files', () => {
  it('keeps one JSON file per key at <dir>/<tenantId>/<keyHash>.json, readable by its owner only, with no temp or lock file left', async () => {
    const dir = tempDir('tessera-keys-');
    const store = new FileApiKeyStore(dir);
    const r = keyRecord('acme');
    await store.put(r);
    await store.update('acme', r.keyHash, { lastUsedAt: '2026-12-01T12:00:00.000Z' });
    const file = join(dir, 'acme', `${r.keyHash}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...r, lastUsedAt: '2026-12-01T12:00:00.000Z' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'acme'))).toEqual([`${r.keyHash}.json`]);
  });

  it('two stores on one directory (two worker threads) see each other\'s writes at once: no cache', async () => {
    const dir = tempDir('tessera-keys-');
    const [one, two] = [new FileApiKeyStore(dir), new FileApiKeyStore(dir)];
    const r = keyRecord('acme');
    await one.put(r);
    expect(await two.get('acme', r.keyHash)).toEqual(r);
    await two.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' });
    expect((await one.get('acme', r.keyHash))?.revokedAt).toBe('2026-12-01T13:00:00.000Z');
  });

  it('concurrent updates of one record from two stores lose no field (the per-record lock)', async () => {
    const dir = tempDir('tessera-keys-');
    const [one, two] = [new FileApiKeyStore(dir), new FileApiKeyStore(dir)];
    const r = keyRecord('acme');
    await one.put(r);
    const uses = Array.from({ length: 20 }, (_, i) => one.update('acme', r.keyHash, { lastUsedAt: new Date(Date.UTC(2026, 11, 1, 12, i)).toISOString() }));
    await Promise.all([...uses, two.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' })]);
    const after = await one.get('acme', r.keyHash);
    expect(after?.revokedAt).toBe('2026-12-01T13:00:00.000Z');
    expect(after?.lastUsedAt).toBeDefined();
    expect(readdirSync(join(dir, 'acme'))).toEqual([`${r.keyHash}.json`]);
  });

  it('breaks a lock left by a worker that died holding it', async () => {
    const dir = tempDir('tessera-keys-');
    const store = new FileApiKeyStore(dir);
    const r = keyRecord('acme');
    await store.put(r);
    const lock = join(dir, 'acme', `${r.keyHash}.json.lock`);
    writeFileSync(lock, '');
    const { utimesSync } = await import('node:fs');
    utimesSync(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await store.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' });
    expect((await store.get('acme', r.keyHash))?.revokedAt).toBe('2026-12-01T13:00:00.000Z');
    expect(existsSync(lock)).toBe(false);
  });

  it('a file that is not a record is named in the error, not returned', async () => {
    const dir = tempDir('tessera-keys-');
    const store = new FileApiKeyStore(dir);
    const r = keyRecord('acme');
    await store.put(r);
    writeFileSync(join(dir, 'acme', `${r.keyHash}.json`), JSON.stringify({ ...r, role: 'root' }));
    await expect(store.get('acme', r.keyHash)).rejects.toThrow(new RegExp(`${r.keyHash}\\.json is not a valid record \\(fields: role\\)`));
  });

  it('a tenant id that is not one names no file: put refuses, reads find nothing', async () => {
    const store = new FileApiKeyStore(tempDir('tessera-keys-'));
    await expect(store.put({ ...keyRecord('acme'), tenantId: '..' })).rejects.toThrow(/not a tenant id and key hash/);
    expect(await store.list('..')).toEqual([]);
    expect(await store.deleteAll('../..')).toBe(0);
  });
});

describe('DynamoDbApiKeyStore calls (SDK mocked)', () => {
  let asked: string[];
  const store = new DynamoDbApiKeyStore('tessera-api-keys', async (tenantId) => (asked.push(tenantId), doc), { sleep: async () => undefined });
  beforeEach(() => {
    ({ asked } = fakeKeysTable());
  });

  it('get is one consistent GetItem by {tenantId, keyHash} with the tenant\'s client', async () => {
    const r = keyRecord('acme');
    await store.put(r);
    asked.length = 0;
    await store.get('acme', r.keyHash);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([{ TableName: 'tessera-api-keys', Key: { tenantId: 'acme', keyHash: r.keyHash }, ConsistentRead: true }]);
    expect(asked).toEqual(['acme']);
  });

  it('an id no tenant can have, or a hash that is not one, asks for no session and sends nothing', async () => {
    expect(await store.get('../acme', 'a'.repeat(64))).toBeUndefined();
    expect(await store.get('acme', 'not-a-hash')).toBeUndefined();
    expect(await store.findById('acme', 'key_zz')).toBeUndefined();
    expect(await store.list('ACME')).toEqual([]);
    expect(asked).toEqual([]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('put is a PutItem conditioned on attribute_not_exists(keyHash), without undefined attributes', async () => {
    const r = { ...keyRecord('acme'), expiresAt: undefined, limits: { tokensPerDay: 5, requestsPerMinute: undefined } };
    await store.put(r);
    const input = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(keyHash)');
    expect(Object.keys(input.Item!)).not.toContain('expiresAt');
    expect(input.Item!.limits).toStrictEqual({ tokensPerDay: 5 }); // toStrictEqual: an undefined key counts
  });

  it('findById queries the partition with begins_with on the id\'s 16 hex', async () => {
    const r = keyRecord('acme');
    await store.put(r);
    expect(await store.findById('acme', r.keyId)).toEqual(r);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
      TableName: 'tessera-api-keys', ConsistentRead: true, KeyConditionExpression: 'tenantId = :t AND begins_with(keyHash, :p)',
      ExpressionAttributeValues: { ':t': 'acme', ':p': r.keyId.slice(4) }, ExclusiveStartKey: undefined,
    });
  });

  it('list follows LastEvaluatedKey through every page', async () => {
    for (let i = 0; i < 23; i++) await store.put(keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString()));
    expect(await store.list('acme')).toHaveLength(23);
    const queries = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries).toHaveLength(3);
    expect(queries[1]!.ExclusiveStartKey).toMatchObject({ tenantId: 'acme' });
  });

  it('update is an UpdateItem SET conditioned on the item existing; a failed condition is no error', async () => {
    const r = keyRecord('acme');
    await store.update('acme', r.keyHash, { revokedAt: '2026-12-01T13:00:00.000Z' });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: 'tessera-api-keys', Key: { tenantId: 'acme', keyHash: r.keyHash }, UpdateExpression: 'SET #revokedAt = :revokedAt',
      ConditionExpression: 'attribute_exists(keyHash)', ExpressionAttributeNames: { '#revokedAt': 'revokedAt' }, ExpressionAttributeValues: { ':revokedAt': '2026-12-01T13:00:00.000Z' },
    });
    await store.update('acme', r.keyHash, {});
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('deleteAll queries key attributes only, deletes 25 a batch, and sends unprocessed items again', async () => {
    for (let i = 0; i < 30; i++) await store.put(keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString()));
    expect(await store.deleteAll('acme')).toBe(30);
    expect(ddb.commandCalls(QueryCommand).every((c) => c.args[0].input.ProjectionExpression === 'tenantId, keyHash')).toBe(true);
    const batches = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!['tessera-api-keys']!.length);
    expect(batches).toEqual([25, 2, 5]);
    expect(await store.list('acme')).toEqual([]);
  });

  it('deleteAll gives up after 8 attempts of a batch that stays unprocessed, saying how many are left', async () => {
    await store.put(keyRecord('acme'));
    ddb.on(BatchWriteCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    await expect(store.deleteAll('acme')).rejects.toThrow(/BatchWriteItem on tessera-api-keys left 1 of tenant acme's key records undeleted after 8 attempts/);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(8);
  });

  it('AWS errors other than a failed condition reach the caller', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), { name: 'AccessDeniedException' }));
    await expect(store.put(keyRecord('acme'))).rejects.toThrow(/not authorized/);
  });
});
