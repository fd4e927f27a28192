import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { BudgetExhaustedError } from '../../lambdas/inference/stores/gateway-store.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { expectTinyBudgetsRefuse, expectTinyRequestsCounted, TINY_USD } from '../support/tiny-cost-scenario.js';
import { concurrentExpected, concurrentSettles, expectLedgerScenario, settleLedgerScenario } from '../support/usage-ledger-scenario.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// The usage ledger by model and day on DynamoDB (moto): the same answers as the embedded stores
// (test/unit/inference/stores-model-usage.test.ts) from one Query of the usage table's
// model-usage index, and concurrent settles summed exactly by UpdateItem ADD. moto runs serial
// here: DynamoDB applies each ADD atomically, moto_server's threads do not (a settle lost under
// load in a full run with 3 workers); the settles are still sent at once, as from many Lambdas.
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

describe('DynamoDbStore (moto): the usage ledger by model and day', () => {
  it('keeps every settle with usage under its day and the model that answered, reported beside estimated', async () => {
    await settleLedgerScenario(store);
    await expectLedgerScenario(store);
  });

  it('sums 100 concurrent settles of one model-day exactly', async () => {
    expect(await concurrentSettles(store, 100, 'other')).toEqual(concurrentExpected(100));
  });

  it('writes one item per tenant, day and model, under the tenant-data role\'s LeadingKeys pattern, its index keys naming the tenant too', async () => {
    const doc = await unscopedDocumentClient()('t');
    const items = (await doc.send(new ScanCommand({ TableName: 'tessera-usage' }))).Items ?? [];
    const ledger = items.filter((i) => String(i.id).includes('#model#'));
    expect(ledger.map((i) => i.id).sort()).toEqual([
      'usage#other#model#2026-11-23#openai/gpt-4o-mini', 'usage#other#model#2026-12-02#openai/gpt-4o-mini',
      'usage#t#model#2026-10-31#openai/gpt-4o-mini', 'usage#t#model#2026-11-23#bedrock/anthropic.claude-3-haiku',
      'usage#t#model#2026-11-23#openai/gpt-4o-mini', 'usage#t#model#2026-11-24#openai/gpt-4o-mini',
    ]);
    for (const i of ledger) {
      expect(i.ledgerMonth).toBe(String(i.id).replace(/#model#(\d{4}-\d{2})-\d{2}#.*$/, '#model#$1'));
      expect(JSON.stringify(i).length).toBeLessThan(1000); // fixed counters: far from the 400 KB item size, whatever the traffic
    }
  });

  it('counts 100 embeddings of USD 0.0000004 at their true sum, USD 0.00004 (micro-dollars counted 0)', async () => {
    await expectTinyRequestsCounted(store);
  });

  it('refuses the sixth USD 0.0000004 request of a USD 0.000002 budget, the tenant\'s and a key\'s, after five that use it exactly (the condition in nano-dollars)', async () => {
    await expectTinyBudgetsRefuse(store);
  });

  it('reads items written in micro-dollars (costMicros, heldMicros) as before, adds the nano-dollars of after to them, and a cost budget counts both in the month of the upgrade', async () => {
    // tenant `other` in March 2027 as the version before nano-dollars left it: USD 1.999 used, its ledger item too.
    const doc = await unscopedDocumentClient()('other');
    const old = { tokens: 1000, costMicros: 1_999_000, requests: 3, heldTokens: 0, heldMicros: 0 };
    await doc.send(new PutCommand({ TableName: 'tessera-usage', Item: { id: 'usage#other#2027-03', ...old } }));
    await doc.send(new PutCommand({ TableName: 'tessera-usage', Item: { id: 'usage#other#2027-03-10', ...old } }));
    await doc.send(new PutCommand({
      TableName: 'tessera-usage',
      Item: {
        id: 'usage#other#model#2027-03-10#openai/gpt-4o-mini', day: '2027-03-10', model: 'openai/gpt-4o-mini', ledgerMonth: 'usage#other#model#2027-03', ledgerDay: '2027-03-10#openai/gpt-4o-mini',
        requests: 3, promptTokens: 800, completionTokens: 200, costMicros: 1_999_000, reportedRequests: 3, reportedTokens: 1000, estimatedTokens: 990,
      },
    }));
    const now = new Date('2027-03-10T12:00:00Z');
    expect(await store.usage('other', now)).toEqual({ day: { tokens: 1000, costUsd: 1.999, requests: 3 }, month: { tokens: 1000, costUsd: 1.999, requests: 3 }, held: { day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } } });
    expect((await store.modelUsage('other', '2027-03')).map((r) => [r.day, r.requests, r.costUsd])).toEqual([['2027-03-10', 3, 1.999]]);
    // A USD 2 budget has USD 0.001 left: 0.0006 fits, 0.0006 more does not, 0.0004 fits exactly, and then not one 20-token embedding.
    const limits = { monthCostUsd: 2 };
    const usage = { model: 'openai/gpt-4o-mini', promptTokens: 10, completionTokens: 0, reported: true, estimatedTokens: 10 };
    await store.settle(await store.reserve('other', 10, 0.0006, limits, now), 10, 0.0006, usage);
    await expect(store.reserve('other', 10, 0.0006, limits, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2, 'tenant'));
    await store.settle(await store.reserve('other', 10, 0.0004, limits, now), 10, 0.0004, usage);
    await expect(store.reserve('other', 20, TINY_USD, limits, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 2, 'tenant'));
    expect((await store.usage('other', now)).month).toEqual({ tokens: 1020, costUsd: 2, requests: 5 });
    expect((await store.modelUsage('other', '2027-03')).map((r) => [r.day, r.requests, r.costUsd])).toEqual([['2027-03-10', 5, 2]]);
    // The micro-dollars of before stay as they were; what came after is in nano-dollars.
    const item = (await doc.send(new GetCommand({ TableName: 'tessera-usage', Key: { id: 'usage#other#2027-03' }, ConsistentRead: true }))).Item;
    expect(item).toMatchObject({ costMicros: 1_999_000, heldMicros: 0, costNanos: 1_000_000, heldNanos: 0 });
  });
});
