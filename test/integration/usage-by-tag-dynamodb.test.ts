import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { expectConcurrentAtLimit, expectTagLimit, expectTagScenario, settleTagged, settleTagScenario } from '../support/tag-usage-scenario.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// Usage by request tag on DynamoDB (moto): the same answers as the embedded stores (test/unit/inference/stores-tag-usage.test.ts)
// from one Query of the ledger index's tag partition; the month's distinct tags bounded by the registry item's condition.
// moto runs serial, as in usage-ledger-dynamodb.test.ts.
let moto: MotoServer;
let store: DynamoDbStore;

beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  await createGatewayTables([localTenant('t', 'enterprise'), localTenant('other', 'enterprise')]);
  store = new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient());
});
afterAll(async () => {
  await moto?.stop();
});

describe('DynamoDbStore (moto): usage by request tag', () => {
  it('counts a settle with usage under each of its tags, today and this month; none without tags or without usage', async () => {
    await settleTagScenario(store);
    await expectTagScenario(store);
  });

  it('writes one item per tenant, day and tag under the tenant-data role\'s LeadingKeys pattern, and a month registry of at most the limit of tags', async () => {
    const doc = await unscopedDocumentClient()('t');
    const items = (await doc.send(new ScanCommand({ TableName: 'tessera-usage' }))).Items ?? [];
    expect(items.filter((i) => String(i.id).includes('#tag#')).map((i) => [i.id, i.ledgerMonth, i.ledgerDay]).sort()).toEqual([
      ['usage#other#tag#2026-11-23#checkout', 'usage#other#tag#2026-11', '2026-11-23#checkout'],
      ['usage#t#tag#2026-10-31#checkout', 'usage#t#tag#2026-10', '2026-10-31#checkout'],
      ['usage#t#tag#2026-11-23#checkout', 'usage#t#tag#2026-11', '2026-11-23#checkout'],
      ['usage#t#tag#2026-11-23#env=prod', 'usage#t#tag#2026-11', '2026-11-23#env=prod'],
      ['usage#t#tag#2026-11-24#checkout', 'usage#t#tag#2026-11', '2026-11-24#checkout'],
    ]);
    expect(items.find((i) => i.id === 'usage#t#tags#2026-11')!.tags).toEqual(new Set(['checkout', 'env=prod']));
  });

  it('records at most MAX_TAGS_PER_MONTH distinct tags a month and counts the requests with a tag past it', async () => {
    await expectTagLimit(store, 't', '2026-05'); // and June, which no other test here uses
  }, 120_000);

  it('records exactly the limit\'s last 6 tags of 20 new ones settled at once (the registry\'s condition refuses the rest, read and sent again), and counts the other 14 requests', async () => {
    await expectConcurrentAtLimit(store, 'other', '2026-04');
  }, 120_000);

  it('counts a tag of another tenant\'s item put in this tenant\'s partition of the index under neither (ownTagItem)', async () => {
    const doc = await unscopedDocumentClient()('other');
    const at = new Date('2026-08-03T00:00:00Z');
    await settleTagged(store, 'other', at, ['sneaky'], 10, 0.5);
    await doc.send(new UpdateCommand({ TableName: 'tessera-usage', Key: { id: 'usage#other#tag#2026-08-03#sneaky' }, UpdateExpression: 'SET ledgerMonth = :pk', ExpressionAttributeValues: { ':pk': 'usage#t#tag#2026-08' } }));
    expect((await store.tagUsage('t', at)).tags).toEqual([]);
  });

  it('sums 50 concurrent settles of new and known tags exactly (each settle one transaction with the month registry\'s condition)', async () => {
    const at = new Date('2026-07-15T00:00:00Z');
    await Promise.all(Array.from({ length: 50 }, (_, i) => settleTagged(store, 't', at, ['checkout', `job:${i % 5}`], 10, 0.000001)));
    const listed = await store.tagUsage('t', at);
    expect(listed.tags.map((t) => [t.tag, t.month.requests])).toEqual([['checkout', 50], ['job:0', 10], ['job:1', 10], ['job:2', 10], ['job:3', 10], ['job:4', 10]]);
    expect(listed.tags[0].month).toEqual({ tokens: 500, costUsd: 0.00005, requests: 50 });
  });
});
