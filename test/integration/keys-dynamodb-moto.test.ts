import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbApiKeyStore } from '../../lambdas/identity/stores/dynamodb-api-key-store.js';
import { apiKeyStoreBehaviour, keyRecord } from '../unit/identity/keys-store-behaviour.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

// DynamoDbApiKeyStore against moto's DynamoDB: the same behaviour table as the memory and file
// stores, each test on a fresh table with the keys table's key schema (partition `tenantId` S,
// sort `keyHash` S, on demand). What moto does not show: the tenant-data role's
// dynamodb:LeadingKeys condition (moto evaluates no IAM policy; test/isolation covers it with the
// policy simulator's rules), throttling (UnprocessedItems; the unit test covers the retry), and
// KMS encryption of the table.

let moto: MotoServer;
let ddb: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  moto = await startMoto();
  const client = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  ddb = new DynamoDBClient(client);
  doc = DynamoDBDocumentClient.from(ddb);
}, 90_000);
afterAll(async () => moto?.stop());

/** A new, empty keys table, as constructs will declare it. */
async function keysTable(): Promise<string> {
  const name = `tessera-api-keys-${++tables}`;
  await ddb.send(new CreateTableCommand({
    TableName: name, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'keyHash', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'keyHash', KeyType: 'RANGE' }],
  }));
  return name;
}

apiKeyStoreBehaviour('DynamoDbApiKeyStore (moto)', async () => {
  const asked: string[] = [];
  return new DynamoDbApiKeyStore(await keysTable(), async (tenantId) => (asked.push(tenantId), doc));
});

describe('DynamoDbApiKeyStore on moto: paging and items', () => {
  it('lists and deletes a tenant\'s keys across Query pages (items of ~1 MB in all)', async () => {
    const paged = DynamoDBDocumentClient.from(ddb);
    const queries: Array<{ ExclusiveStartKey?: unknown }> = [];
    paged.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') queries.push(args.input as never);
      return next(args);
    }, { step: 'initialize' });
    const store = new DynamoDbApiKeyStore(await keysTable(), async () => paged);
    // ~4 KB records: 300 of them pass Query's 1 MB page limit, so list and deleteAll must follow LastEvaluatedKey.
    const name = 'n'.repeat(128);
    const models = Array.from({ length: 100 }, (_, i) => `openai/model-${i}-${'x'.repeat(24)}`);
    for (let i = 0; i < 300; i++) await store.put(keyRecord('acme', new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(), { name, models }));
    const listed = await store.list('acme');
    expect(listed).toHaveLength(300);
    expect(listed[0]!.createdAt).toBe('2026-12-01T00:04:59.000Z');
    expect(queries.length).toBeGreaterThan(1); // moto pages at 1 MB, as DynamoDB does
    expect(queries.slice(1).every((q) => q.ExclusiveStartKey)).toBe(true);
    expect(await store.deleteAll('acme')).toBe(300);
    expect(await store.list('acme')).toEqual([]);
  }, 120_000);
});
