import { describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ModelUsageCapacityError, type GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { SharedMemoryStore } from '../../../lambdas/inference/stores/shared-memory-store.js';
import { expectTinyBudgetsRefuse, expectTinyRequestsCounted } from '../../support/tiny-cost-scenario.js';
import { concurrentExpected, concurrentSettles, expectLedgerScenario, settleLedgerScenario } from '../../support/usage-ledger-scenario.js';

// The usage ledger by model and day on the two embedded stores: the same answers (and the same as
// DynamoDB's on moto: test/integration/usage-ledger-dynamodb.test.ts).
const tenants = [localTenant('other', 'enterprise'), localTenant('t', 'enterprise')];
const stores: Array<[string, () => GatewayStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SharedMemoryStore', () => new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants)],
];

describe.each(stores)('%s: the usage ledger by model and day', (_name, make) => {
  it('keeps every settle with usage under its day and the model that answered, reported beside estimated', async () => {
    const s = make();
    await settleLedgerScenario(s);
    await expectLedgerScenario(s);
  });

  it('sums 200 concurrent settles of one model-day exactly', async () => {
    expect(await concurrentSettles(make(), 200)).toEqual(concurrentExpected(200));
  });

  it('counts 100 embeddings of USD 0.0000004 at their true sum, USD 0.00004 (micro-dollars counted 0)', async () => {
    await expectTinyRequestsCounted(make());
  });

  it('refuses the sixth USD 0.0000004 request of a USD 0.000002 budget, the tenant\'s and a key\'s, after five that use it exactly', async () => {
    await expectTinyBudgetsRefuse(make());
  });
});

describe('SharedMemoryStore: the bounded ledger', () => {
  const mini = (prompt: number) => ({ model: 'openai/gpt-4o-mini', promptTokens: prompt, completionTokens: 0, reported: false, estimatedTokens: prompt });

  it('refuses a new model-day when every slot holds a day of this or last month, after settling the budgets, and reuses a slot of an older day', async () => {
    const s = new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length, 4, 2), tenants, 2);
    const september = await s.reserve('t', 10, 0, {}, new Date('2026-09-30T12:00:00Z'));
    await s.settle(september, 1, 0, mini(1));
    const october = await s.reserve('t', 10, 0, {}, new Date('2026-10-01T12:00:00Z'));
    await s.settle(october, 2, 0, mini(2));
    // November: September is two months back, so its slot takes the new day.
    const nov23 = await s.reserve('t', 10, 0, {}, new Date('2026-11-23T12:00:00Z'));
    await s.settle(nov23, 3, 0, mini(3));
    expect(await s.modelUsage('t', '2026-09')).toEqual([]);
    expect((await s.modelUsage('t', '2026-10')).map((r) => r.promptTokens)).toEqual([2]);
    const nov24 = await s.reserve('t', 10, 0, {}, new Date('2026-11-24T12:00:00Z'));
    await expect(s.settle(nov24, 4, 0, mini(4))).rejects.toEqual(new ModelUsageCapacityError('t', 2, 'openai/gpt-4o-mini'));
    // The budgets were settled all the same; the same model-day as before still fits.
    expect((await s.usage('t', new Date('2026-11-24T12:00:00Z'))).day.tokens).toBe(4);
    await s.settle(await s.reserve('t', 10, 0, {}, new Date('2026-11-23T13:00:00Z')), 5, 0, mini(5));
    expect((await s.modelUsage('t', '2026-11')).map((r) => [r.day, r.requests, r.promptTokens])).toEqual([['2026-11-23', 2, 8]]);
    // The other tenant's ledger is its own.
    await s.settle(await s.reserve('other', 10, 0, {}, new Date('2026-11-24T12:00:00Z')), 1, 0, mini(1));
  });

  it('refuses a model id longer than a slot holds, naming it', async () => {
    const s = new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants);
    const long = `openai-compatible/${'x'.repeat(200)}`;
    const r = await s.reserve('t', 10, 0, {}, new Date('2026-11-23T12:00:00Z'));
    await expect(s.settle(r, 1, 0, { ...mini(1), model: long })).rejects.toThrow(/longer than 192 characters .*openai-compatible\/x+ was settled but not recorded by model/);
  });

  it('shares the ledger between stores made on the same buffer (the worker threads)', async () => {
    const buffer = SharedMemoryStore.allocate(tenants.length);
    const a = new SharedMemoryStore(buffer, tenants);
    const b = new SharedMemoryStore(buffer, tenants);
    const now = new Date('2026-11-23T12:00:00Z');
    await a.settle(await a.reserve('t', 10, 0, {}, now), 1, 0, mini(1));
    await b.settle(await b.reserve('t', 10, 0, {}, now), 2, 0, mini(2));
    expect((await a.modelUsage('t', '2026-11')).map((r) => [r.requests, r.promptTokens])).toEqual([[2, 3]]);
    // The subject table keeps its size beside the ledger.
    expect(await b.usage('t', now)).toMatchObject({ day: { tokens: 3, requests: 2 } });
  });
});
