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
  it('adds up the prompt-cache reads and writes of a model-day, and leaves them off a row that had none', async () => {
    const s = make();
    const at = new Date('2026-11-23T12:00:00Z');
    const usage = (cachedTokens: number, cacheWriteTokens: number) => ({ model: 'openai/gpt-5.4-mini', promptTokens: 1000, completionTokens: 0, reported: true, estimatedTokens: 1000, cachedTokens, cacheWriteTokens });
    await s.settle(await s.reserve('t', 1000, 0.001, {}, at), 1000, 0.0001425, usage(900, 0));
    await s.settle(await s.reserve('t', 1000, 0.001, {}, at), 1000, 0.0005, usage(200, 100));
    await s.settle(await s.reserve('t', 1000, 0.001, {}, at), 1000, 0.00075, { model: 'openai/gpt-4o-mini', promptTokens: 1000, completionTokens: 0, reported: true, estimatedTokens: 1000 });
    expect(await s.modelUsage('t', '2026-11')).toEqual([
      { day: '2026-11-23', model: 'openai/gpt-4o-mini', requests: 1, promptTokens: 1000, completionTokens: 0, costUsd: 0.00075, reportedRequests: 1, reportedTokens: 1000, estimatedTokens: 1000 },
      { day: '2026-11-23', model: 'openai/gpt-5.4-mini', requests: 2, promptTokens: 2000, completionTokens: 0, costUsd: 0.0006425, reportedRequests: 2, reportedTokens: 2000, estimatedTokens: 2000, cachedTokens: 1100, cacheWriteTokens: 100 },
    ]);
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
