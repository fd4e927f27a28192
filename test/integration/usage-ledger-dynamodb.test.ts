import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
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
});
