import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/inference/cors-origin-index-handler.js';
import { allowedOriginsOf, CORS_ORIGINS_BY_TENANT_INDEX, CORS_ORIGINS_TABLE_ENV, indexChange } from '../../../lambdas/inference/cors-origin-index.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';

const TABLE = 'tessera-gateway-cors-origins';
const ddb = mockClient(DynamoDBDocumentClient);
const previous = process.env[CORS_ORIGINS_TABLE_ENV];
beforeEach(() => {
  ddb.reset();
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(PutCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  process.env[CORS_ORIGINS_TABLE_ENV] = TABLE;
});
afterAll(() => {
  if (previous === undefined) delete process.env[CORS_ORIGINS_TABLE_ENV];
  else process.env[CORS_ORIGINS_TABLE_ENV] = previous;
});

const image = (tenantId: string, status: string, allowedOrigins?: unknown) => ({ tenantId, status, ...(allowedOrigins !== undefined ? { gateway: { allowedOrigins } } : {}) });
let seq = 100;
/** A record as Lambda hands it over from a DynamoDB stream with NEW_AND_OLD_IMAGES. */
function streamRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', tenantId: string, oldImage?: object, newImage?: object): DynamoDBRecord {
  return {
    eventID: `e${seq}`, eventName, eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:222222222222:table/tessera-tenants/stream/2026-12-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1796083200, Keys: marshall({ tenantId }) as never, SequenceNumber: String(seq++), SizeBytes: 200, StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...(oldImage ? { OldImage: marshall(oldImage) as never } : {}), ...(newImage ? { NewImage: marshall(newImage) as never } : {}),
    },
  };
}
const puts = () => ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
const deletes = () => ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input);

describe('allowedOriginsOf', () => {
  it('is the image\'s gateway.allowedOrigins, distinct and sorted', () => {
    expect(allowedOriginsOf(image('acme', 'ACTIVE', ['https://b.example', 'https://a.example', 'https://b.example']))).toEqual({ origins: ['https://a.example', 'https://b.example'], invalid: [] });
  });

  it('is none without a policy, without the list, for an OFFBOARDED tenant and for a deleted record', () => {
    expect(allowedOriginsOf(image('acme', 'ACTIVE')).origins).toEqual([]);
    expect(allowedOriginsOf({ tenantId: 'acme', status: 'ACTIVE', gateway: { fallbacks: [] } }).origins).toEqual([]);
    expect(allowedOriginsOf(image('acme', 'OFFBOARDED', ['https://a.example'])).origins).toEqual([]);
    expect(allowedOriginsOf(undefined).origins).toEqual([]);
  });

  it('keeps a SUSPENDED or OFFBOARDING tenant\'s origins (the gateway refuses its calls; resuming needs no re-indexing)', () => {
    for (const status of ['SUSPENDED', 'OFFBOARDING']) expect(allowedOriginsOf(image('acme', status, ['https://a.example'])).origins).toEqual(['https://a.example']);
  });

  it('never indexes what is not an origin as the policy schema defines it (written around the admin API)', () => {
    const r = allowedOriginsOf(image('acme', 'ACTIVE', ['https://ok.example', 'https://App.example', 'https://a.example/path', '*', 'null', 42]));
    expect(r).toEqual({ origins: ['https://ok.example'], invalid: ['https://App.example', 'https://a.example/path', '*', 'null', 42] });
    expect(allowedOriginsOf(image('acme', 'ACTIVE', 'https://a.example'))).toEqual({ origins: [], invalid: ['https://a.example'] });
  });
});

describe('indexChange', () => {
  it('puts every origin the new image allows and deletes those only the old one (or the index) has', () => {
    const change = indexChange('acme', image('acme', 'ACTIVE', ['https://a.example', 'https://b.example']), image('acme', 'ACTIVE', ['https://b.example', 'https://c.example']), ['https://stray.example', 'https://c.example']);
    expect(change).toEqual({ tenantId: 'acme', put: ['https://b.example', 'https://c.example'], delete: ['https://a.example', 'https://stray.example'] });
  });

  it('deletes everything for a removed record and puts everything for a new one', () => {
    expect(indexChange('acme', image('acme', 'ACTIVE', ['https://a.example']), undefined)).toEqual({ tenantId: 'acme', put: [], delete: ['https://a.example'] });
    expect(indexChange('acme', undefined, image('acme', 'REQUESTED', ['https://a.example']))).toEqual({ tenantId: 'acme', put: ['https://a.example'], delete: [] });
  });
});

describe('the stream handler (aws-sdk-client-mock)', () => {
  it('reads its table from the variable the router reads (GATEWAY_ENV.corsOriginsTable)', () => {
    expect(CORS_ORIGINS_TABLE_ENV).toBe(GATEWAY_ENV.corsOriginsTable);
  });

  it('writes one item { origin, tenantId } per allowed origin and deletes the removed ones, after asking the by-tenant index', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ tenantId: 'acme', origin: 'https://old.example' }] });
    const out = await handler({ Records: [streamRecord('MODIFY', 'acme', image('acme', 'ACTIVE', ['https://old.example']), image('acme', 'ACTIVE', ['https://new.example']))] });
    expect(out).toEqual({ batchItemFailures: [] });
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({ TableName: TABLE, IndexName: CORS_ORIGINS_BY_TENANT_INDEX, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': 'acme' } });
    expect(puts()).toEqual([{ TableName: TABLE, Item: { origin: 'https://new.example', tenantId: 'acme' } }]);
    expect(deletes()).toEqual([{ TableName: TABLE, Key: { origin: 'https://old.example', tenantId: 'acme' } }]);
  });

  it('reads every page of the tenant\'s index items', async () => {
    ddb.on(QueryCommand).resolvesOnce({ Items: [{ tenantId: 'acme', origin: 'https://p1.example' }], LastEvaluatedKey: { tenantId: 'acme', origin: 'https://p1.example' } })
      .resolvesOnce({ Items: [{ tenantId: 'acme', origin: 'https://p2.example' }] });
    await handler({ Records: [streamRecord('REMOVE', 'acme', image('acme', 'ACTIVE', []))] });
    expect(ddb.commandCalls(QueryCommand)[1].args[0].input.ExclusiveStartKey).toEqual({ tenantId: 'acme', origin: 'https://p1.example' });
    expect(deletes().map((d) => d.Key!.origin)).toEqual(['https://p1.example', 'https://p2.example']);
  });

  it('stops at the first failing record and reports it and every later one, in order, so Lambda replays from there', async () => {
    ddb.on(PutCommand, { Item: { origin: 'https://b.example', tenantId: 'globex' } }).rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));
    const records = [
      streamRecord('INSERT', 'acme', undefined, image('acme', 'ACTIVE', ['https://a.example'])),
      streamRecord('INSERT', 'globex', undefined, image('globex', 'ACTIVE', ['https://b.example'])),
      streamRecord('MODIFY', 'acme', image('acme', 'ACTIVE', ['https://a.example']), image('acme', 'ACTIVE', [])),
    ];
    const out = await handler({ Records: records });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: records[1].dynamodb!.SequenceNumber }, { itemIdentifier: records[2].dynamodb!.SequenceNumber }]);
    // The third record (acme's later change) was not applied ahead of the failed one.
    expect(deletes()).toEqual([]);
  });

  it('fails the record when the index cannot be read (the Query), without writing', async () => {
    ddb.on(QueryCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:Query'), { name: 'AccessDeniedException' }));
    const r = streamRecord('INSERT', 'acme', undefined, image('acme', 'ACTIVE', ['https://a.example']));
    expect(await handler({ Records: [r] })).toEqual({ batchItemFailures: [{ itemIdentifier: r.dynamodb!.SequenceNumber }] });
    expect(puts()).toEqual([]);
  });

  it('skips a record without a tenantId key (none exists in the registry) and goes on', async () => {
    const odd = streamRecord('INSERT', 'acme', undefined, image('acme', 'ACTIVE', ['https://a.example']));
    odd.dynamodb!.Keys = marshall({ id: 'x' }) as never;
    const ok = streamRecord('INSERT', 'globex', undefined, image('globex', 'ACTIVE', ['https://g.example']));
    expect(await handler({ Records: [odd, ok] })).toEqual({ batchItemFailures: [] });
    expect(puts()).toEqual([{ TableName: TABLE, Item: { origin: 'https://g.example', tenantId: 'globex' } }]);
  });

  it('changes nothing for a registry write that leaves the origins as they are (beyond re-putting them)', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ tenantId: 'acme', origin: 'https://a.example' }] });
    const same = image('acme', 'ACTIVE', ['https://a.example']);
    await handler({ Records: [streamRecord('MODIFY', 'acme', same, { ...same, currentStep: 'Wire tenant' })] });
    expect(deletes()).toEqual([]);
    expect(puts()).toEqual([{ TableName: TABLE, Item: { origin: 'https://a.example', tenantId: 'acme' } }]);
  });
});
