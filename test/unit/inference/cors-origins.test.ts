import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayPolicy } from '../../../lib/tenant-record.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { CachedCorsOrigins, NO_ORIGINS, tenantOrigins, type CorsOrigins } from '../../../lambdas/inference/stores/cors-origins.js';
import { DynamoDbCorsOrigins } from '../../../lambdas/inference/stores/dynamodb-cors-origins.js';

const APP = 'https://app.example.com';

describe('the origin index of tessera serve (tenants of the embedded registry)', () => {
  it('allows an origin some tenant lists, in serialized form, and nothing else', async () => {
    const index = tenantOrigins([
      localTenant('acme', 'starter', { gateway: GatewayPolicy.parse({ allowedOrigins: [APP, 'http://localhost:5173'] }) }),
      localTenant('globex', 'starter', { gateway: GatewayPolicy.parse({ allowedOrigins: ['https://globex.example.com:443'] }) }),
      localTenant('initech', 'starter'),
    ]);
    expect(await index.allows(APP)).toBe(true);
    expect(await index.allows('http://localhost:5173')).toBe(true);
    expect(await index.allows('https://globex.example.com')).toBe(true);
    expect(await index.allows('https://other.example.com')).toBe(false);
  });

  it('leaves out OFFBOARDED tenants (the platform index drops them too); a suspended tenant keeps its origins', async () => {
    const index = tenantOrigins([
      localTenant('gone', 'starter', { status: 'OFFBOARDED', gateway: GatewayPolicy.parse({ allowedOrigins: ['https://gone.example.com'] }) }),
      localTenant('paused', 'starter', { status: 'SUSPENDED', gateway: GatewayPolicy.parse({ allowedOrigins: ['https://paused.example.com'] }) }),
    ]);
    expect(await index.allows('https://gone.example.com')).toBe(false);
    expect(await index.allows('https://paused.example.com')).toBe(true);
  });

  it('NO_ORIGINS allows nothing', async () => {
    expect(await NO_ORIGINS.allows(APP)).toBe(false);
  });
});

describe('CachedCorsOrigins', () => {
  const counting = (answer: (o: string) => Promise<boolean>) => {
    const calls: string[] = [];
    const inner: CorsOrigins = { allows: (o) => (calls.push(o), answer(o)) };
    return { inner, calls };
  };

  it('reuses answers (positive and negative) for the TTL, then asks again', async () => {
    let now = 0;
    const { inner, calls } = counting(async (o) => o === APP);
    const cache = new CachedCorsOrigins(inner, 60_000, 1000, () => now);
    expect(await cache.allows(APP)).toBe(true);
    expect(await cache.allows('https://x.example.com')).toBe(false);
    now = 59_999;
    expect(await cache.allows(APP)).toBe(true);
    expect(await cache.allows('https://x.example.com')).toBe(false);
    expect(calls).toHaveLength(2);
    now = 60_000;
    await cache.allows(APP);
    expect(calls).toEqual([APP, 'https://x.example.com', APP]);
  });

  it('makes one lookup for concurrent preflights of one origin', async () => {
    const { inner, calls } = counting(async () => true);
    const cache = new CachedCorsOrigins(inner);
    await Promise.all(Array.from({ length: 20 }, () => cache.allows(APP)));
    expect(calls).toHaveLength(1);
  });

  it('does not keep a failed lookup', async () => {
    let fail = true;
    const { inner, calls } = counting(async () => { if (fail) throw new Error('throttled'); return true; });
    const cache = new CachedCorsOrigins(inner);
    await expect(cache.allows(APP)).rejects.toThrow('throttled');
    fail = false;
    expect(await cache.allows(APP)).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('keeps at most maxEntries origins (any Origin can be sent), dropping the oldest', async () => {
    const { inner, calls } = counting(async () => false);
    const cache = new CachedCorsOrigins(inner, 60_000, 2);
    for (const o of ['https://a.test', 'https://b.test', 'https://c.test']) await cache.allows(o);
    await cache.allows('https://c.test');
    await cache.allows('https://a.test');
    expect(calls).toEqual(['https://a.test', 'https://b.test', 'https://c.test', 'https://a.test']);
  });
  it('forgets the least recently used origin first: an origin asked again stays', async () => {
    const { inner, calls } = counting(async () => false);
    const cache = new CachedCorsOrigins(inner, 60_000, 2);
    await cache.allows('https://a.test');
    await cache.allows('https://b.test');
    await cache.allows('https://a.test'); // a is now the most recently used
    await cache.allows('https://c.test'); // b goes
    await cache.allows('https://a.test');
    await cache.allows('https://b.test');
    expect(calls).toEqual(['https://a.test', 'https://b.test', 'https://c.test', 'https://b.test']);
  });

  it('refuses a maxEntries that is no positive integer, naming it', () => {
    expect(() => new CachedCorsOrigins(NO_ORIGINS, 60_000, 0)).toThrow(new RangeError('maxEntries must be a positive integer, got 0'));
  });
});

describe('DynamoDbCorsOrigins (the platform index: partition key origin, sort key tenantId)', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  afterEach(() => ddb.reset());
  const index = () => new DynamoDbCorsOrigins('tessera-cors-origins', async () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })));

  it('queries the origin with Limit 1 and allows it when an item exists', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ origin: APP }] });
    expect(await index().allows(APP)).toBe(true);
    const calls = ddb.commandCalls(QueryCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toMatchObject({
      TableName: 'tessera-cors-origins', KeyConditionExpression: '#o = :o', ExpressionAttributeNames: { '#o': 'origin' }, ExpressionAttributeValues: { ':o': APP }, Limit: 1,
    });
  });

  it('on a miss, also asks for the form with the scheme\'s default port that a policy may hold', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':o': 'https://app.example.com:443' } }).resolves({ Items: [{ origin: 'https://app.example.com:443' }] });
    expect(await index().allows(APP)).toBe(true);
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues![':o'])).toEqual([APP, 'https://app.example.com:443']);
  });

  it('an origin with an explicit port is asked once; no item means not allowed', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(await index().allows('http://localhost:5173')).toBe(false);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });

  it('translates a refused Query into one line naming the table, the call and the fix', async () => {
    ddb.on(QueryCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:Query'), { name: 'AccessDeniedException' }));
    await expect(index().allows(APP)).rejects.toThrow(/^DynamoDB Query on the CORS origin index tessera-cors-origins failed \(AccessDeniedException: .*\); the router role needs dynamodb:Query on this table$/);
    ddb.on(QueryCommand).rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }));
    await expect(index().allows(APP)).rejects.toThrow(/the table does not exist: check TESSERA_CORS_ORIGINS_TABLE on the router/);
  });
});
