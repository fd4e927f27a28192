import { describe, expect, it } from 'vitest';
import { BudgetAlerts } from '../../../../lambdas/inference/budget-alerts/budget-alerts.js';
import { memoryEvents } from '../../../../lambdas/inference/budget-alerts/local-events.js';
import { MemoryAlertMarkers } from '../../../../lambdas/inference/budget-alerts/markers.js';
import { localTenant } from '../../../../lambdas/inference/local-gateway.js';
import type { PipelineRequest } from '../../../../lambdas/inference/pipeline.js';
import type { GatewayStore, Subject } from '../../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../../lambdas/inference/stores/memory-store.js';
import { SharedMemoryStore } from '../../../../lambdas/inference/stores/shared-memory-store.js';

// Hostile review: the usage a threshold is judged on is what settled, not what reservations still in
// flight hold. A chat without max_tokens reserves the model's whole output (16,384 tokens for
// gpt-4o-mini): five at once held 66,000 of a 100,000-token day while 1,500 were used, and the first
// settle sent "50% reached" (and claimed the period's only 50% marker).
const NOW = new Date('2026-12-14T09:30:00Z');
const stores: Array<[string, () => GatewayStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SharedMemoryStore', () => new SharedMemoryStore(SharedMemoryStore.allocate(1), [localTenant('acme', 'starter')])],
];
const request = (limits: Record<string, number>) => ({ caller: { tenantId: 'acme', tenant: { tier: 'starter' } }, policy: { limits, tier: {} } }) as unknown as Pick<PipelineRequest, 'caller' | 'policy'>;

describe.each(stores)('%s: budget alerts judge settled usage, not reservations in flight', (_name, make) => {
  it('five concurrent chats, each reserving 16,484 tokens and using 300, send nothing on a 100,000-token day; the real 50% later sends once', async () => {
    const store = make();
    const { emit, events } = memoryEvents();
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
    const r = request({ dayTokens: 100_000 });
    const rs = await Promise.all(Array.from({ length: 5 }, () => store.reserve('acme', 16_484, 0, r.policy.limits, NOW)));
    for (const x of rs) alerts.watch(x, r);
    for (const x of rs) {
      await store.settle(x, 300, 0);
      await alerts.afterSettle(x, 300);
    }
    expect(events).toEqual([]);
    expect((await store.usage('acme', NOW)).day.tokens).toBe(1_500);
    // 48,500 more, settled: 50,000 used, and the 50% event says so.
    const big = await store.reserve('acme', 48_500, 0, r.policy.limits, NOW);
    alerts.watch(big, r);
    await store.settle(big, 48_500, 0);
    await alerts.afterSettle(big, 48_500);
    expect(events.map((e) => [e.detail.thresholdPercent, e.detail.used])).toEqual([[50, 50_000]]);
  });

  it('a key\'s cost budget likewise: a reservation in flight is not spending', async () => {
    const store = make();
    const { emit, events } = memoryEvents();
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
    const key: Subject = { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 1 } };
    const r = request({});
    const held = await store.reserve('acme', 10, 0.9, {}, NOW, key); // in flight
    const x = await store.reserve('acme', 10, 0.05, {}, NOW, key);
    alerts.watch(x, r, key);
    await store.settle(x, 10, 0.01);
    await alerts.afterSettle(x, 10);
    expect(events).toEqual([]);
    await store.settle(held, 10, 0.6);
    alerts.watch(held, r, key);
    await alerts.afterSettle(held, 10);
    expect(events.map((e) => [e.detail.scope, e.detail.thresholdPercent])).toEqual([['key', 50]]);
  });
});
