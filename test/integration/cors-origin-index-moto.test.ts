import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBatch } from '../../lambdas/inference/cors-origin-index-handler.js';
import { CORS_ORIGINS_BY_TENANT_INDEX } from '../../lambdas/inference/cors-origin-index.js';
import { StreamReader } from './support/dynamodb-stream.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

// The origin index's maintainer against moto's DynamoDB and DynamoDB Streams: registry writes
// made with the SDK, their stream records read from moto's stream (as Lambda's event source
// mapping would hand them), the handler's Puts, Deletes and by-tenant Query made on moto's
// index table (the platform stack's keys and index). What moto does not show: Lambda's
// checkpointing and retries (the failure test replays the batch from the reported record, as
// Lambda does), and KMS encryption of the tables.

const REGISTRY = 'tessera-tenants';
const INDEX = 'tessera-gateway-cors-origins';
let moto: MotoServer;
let doc: DynamoDBDocumentClient;
let stream: StreamReader;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SESSION_TOKEN: '', AWS_REGION: 'us-east-1' });
  const ddb = new DynamoDBClient({ endpoint: moto.endpoint });
  doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const registry = await ddb.send(new CreateTableCommand({
    TableName: REGISTRY, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }], StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }));
  await ddb.send(new CreateTableCommand({
    TableName: INDEX, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'origin', AttributeType: 'S' }, { AttributeName: 'tenantId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'origin', KeyType: 'HASH' }, { AttributeName: 'tenantId', KeyType: 'RANGE' }],
    GlobalSecondaryIndexes: [{ IndexName: CORS_ORIGINS_BY_TENANT_INDEX, KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'origin', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
  }));
  stream = new StreamReader(moto.endpoint, registry.TableDescription!.LatestStreamArn!);
}, 90_000);
afterAll(async () => moto?.stop());

const record = (tenantId: string, status: string, allowedOrigins?: string[]) => ({
  tenantId, name: tenantId, tier: 'starter', isolation: 'vpc', adminEmail: `ops@${tenantId}.example.com`, status, requestId: `req-${tenantId}-0001`,
  createdAt: '2026-12-01T00:00:00.000Z', updatedAt: new Date().toISOString(), stackOutputs: {}, executions: [],
  ...(allowedOrigins ? { gateway: { fallbacks: [], auditPromptText: false, allowedOrigins } } : {}),
});
const setOrigins = (tenantId: string, origins: string[]) => doc.send(new UpdateCommand({
  TableName: REGISTRY, Key: { tenantId }, UpdateExpression: 'SET #g.#o = :o, updatedAt = :u',
  ExpressionAttributeNames: { '#g': 'gateway', '#o': 'allowedOrigins' }, ExpressionAttributeValues: { ':o': origins, ':u': new Date().toISOString() },
}));

/** The whole index, as sorted `origin tenant` lines. */
async function index(): Promise<string[]> {
  const out = await doc.send(new ScanCommand({ TableName: INDEX }));
  for (const item of out.Items ?? []) expect(Object.keys(item).sort()).toEqual(['origin', 'tenantId']); // the agreed item shape, nothing more
  return (out.Items ?? []).map((i) => `${i.origin} ${i.tenantId}`).sort();
}

/** Hands the stream's new records to the handler in one batch, as the event source mapping does. */
async function deliver(): Promise<DynamoDBRecord[]> {
  const records = await stream.next();
  expect(records.length).toBeGreaterThan(0);
  for (const r of records) expect(r).toMatchObject({ eventSource: 'aws:dynamodb', dynamodb: { StreamViewType: 'NEW_AND_OLD_IMAGES', Keys: { tenantId: { S: expect.any(String) } } } });
  expect(await processBatch(records, doc, INDEX)).toEqual({ batchItemFailures: [] });
  return records;
}

describe('CORS origin index, maintained from the registry stream (moto)', () => {
  it('indexes each origin a tenant allows, one item per (origin, tenant)', async () => {
    await doc.send(new PutCommand({ TableName: REGISTRY, Item: record('acme', 'ACTIVE', ['https://app.acme.example', 'https://shared.example']) }));
    await doc.send(new PutCommand({ TableName: REGISTRY, Item: record('globex', 'ACTIVE', ['https://shared.example']) }));
    await doc.send(new PutCommand({ TableName: REGISTRY, Item: record('initech', 'ACTIVE', []) }));
    const records = await deliver();
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT']);
    expect(await index()).toEqual(['https://app.acme.example acme', 'https://shared.example acme', 'https://shared.example globex']);
    // What the router asks (lambdas/inference/stores/dynamodb-cors-origins.ts): any item for the origin.
    const hit = await doc.send(new QueryCommand({ TableName: INDEX, KeyConditionExpression: '#o = :o', ExpressionAttributeNames: { '#o': 'origin' }, ExpressionAttributeValues: { ':o': 'https://shared.example' }, Limit: 1 }));
    expect(hit.Items).toHaveLength(1);
  });

  it('follows a changed policy: an origin removed loses its item, one added gains one; other tenants keep theirs', async () => {
    await setOrigins('acme', ['https://shared.example', 'https://new.acme.example']);
    const [r] = await deliver();
    expect(r.eventName).toBe('MODIFY');
    expect(await index()).toEqual(['https://new.acme.example acme', 'https://shared.example acme', 'https://shared.example globex']);
  });

  it('is idempotent: the same records delivered again change nothing', async () => {
    await setOrigins('globex', ['https://globex.example']);
    const records = await deliver();
    const after = await index();
    expect(await processBatch(records, doc, INDEX)).toEqual({ batchItemFailures: [] });
    expect(await processBatch([...records, ...records], doc, INDEX)).toEqual({ batchItemFailures: [] });
    expect(await index()).toEqual(after);
    expect(after).toEqual(['https://globex.example globex', 'https://new.acme.example acme', 'https://shared.example acme']);
  });

  it('lets the newest image decide when one tenant changes several times in one batch', async () => {
    await setOrigins('initech', ['https://one.initech.example']);
    await setOrigins('initech', ['https://two.initech.example']);
    await setOrigins('initech', ['https://two.initech.example', 'https://three.initech.example']);
    await deliver();
    expect((await index()).filter((l) => l.endsWith(' initech'))).toEqual(['https://three.initech.example initech', 'https://two.initech.example initech']);
  });

  it('reports the failed record and every later one; the replay Lambda makes from there converges on the newest image', async () => {
    await setOrigins('initech', ['https://four.initech.example']);
    await setOrigins('initech', []);
    const records = await stream.next();
    expect(records).toHaveLength(2);
    // The first DynamoDB write of the batch fails (throttling, say), the rest would succeed.
    const failing = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: moto.endpoint }));
    let failed = false;
    failing.middlewareStack.add((next, context) => async (args) => {
      if (!failed && context.commandName !== 'QueryCommand') {
        failed = true;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
      }
      return next(args);
    }, { step: 'initialize', name: 'failOnce' });
    const result = await processBatch(records, failing, INDEX);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.dynamodb!.SequenceNumber));
    // Lambda checkpoints at the lowest reported sequence number and delivers from there, in order.
    const lowest = result.batchItemFailures.map((f) => f.itemIdentifier).sort()[0];
    expect(await processBatch(records.filter((r) => r.dynamodb!.SequenceNumber! >= lowest), failing, INDEX)).toEqual({ batchItemFailures: [] });
    expect((await index()).filter((l) => l.endsWith(' initech'))).toEqual([]);
  });

  it('removes every origin of a tenant that is OFFBOARDED, and of one whose record is deleted', async () => {
    await doc.send(new UpdateCommand({ TableName: REGISTRY, Key: { tenantId: 'acme' }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'OFFBOARDED' } }));
    await deliver();
    expect(await index()).toEqual(['https://globex.example globex']);
    await doc.send(new DeleteCommand({ TableName: REGISTRY, Key: { tenantId: 'globex' } }));
    const [r] = await deliver();
    expect(r.eventName).toBe('REMOVE');
    expect(await index()).toEqual([]);
  });

  it('repairs the index: an item no image allows (a lost Delete) goes at the tenant\'s next change, a lost Put comes back', async () => {
    await doc.send(new PutCommand({ TableName: REGISTRY, Item: record('hooli', 'ACTIVE', ['https://hooli.example']) }));
    await deliver();
    await doc.send(new PutCommand({ TableName: INDEX, Item: { origin: 'https://stale.hooli.example', tenantId: 'hooli' } }));
    await doc.send(new DeleteCommand({ TableName: INDEX, Key: { origin: 'https://hooli.example', tenantId: 'hooli' } }));
    await doc.send(new UpdateCommand({ TableName: REGISTRY, Key: { tenantId: 'hooli' }, UpdateExpression: 'SET currentStep = :s', ExpressionAttributeValues: { ':s': 'Wire tenant' } }));
    await deliver();
    expect(await index()).toEqual(['https://hooli.example hooli']);
  });
});
