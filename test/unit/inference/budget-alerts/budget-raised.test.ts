import { describe, expect, it } from 'vitest';
import { BudgetAlerts } from '../../../../lambdas/inference/budget-alerts/budget-alerts.js';
import { memoryEvents } from '../../../../lambdas/inference/budget-alerts/local-events.js';
import { MemoryAlertMarkers } from '../../../../lambdas/inference/budget-alerts/markers.js';
import type { PipelineRequest } from '../../../../lambdas/inference/pipeline.js';
import type { BudgetLimits } from '../../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../../lambdas/inference/stores/memory-store.js';

const NOW = new Date('2026-12-14T09:30:00Z');
const request = (limits: BudgetLimits) => ({ caller: { tenantId: 'acme', tenant: { tier: 'starter' } }, policy: { limits, tier: {} } }) as unknown as Pick<PipelineRequest, 'caller' | 'policy'>;
async function call(store: MemoryStore, alerts: BudgetAlerts, r: ReturnType<typeof request>, tokens: number) {
  const reservation = await store.reserve('acme', tokens, 0, r.policy.limits, NOW);
  alerts.watch(reservation, r);
  await store.settle(reservation, tokens, 0);
  await alerts.afterSettle(reservation, tokens);
}

describe('a budget raised within its period (hostile review)', () => {
  it('after a raise from 1000 to 2000 tokens/day, reaching the new 100% (2000) sends an event', async () => {
    const store = new MemoryStore();
    const { emit, events } = memoryEvents();
    const markers = new MemoryAlertMarkers();
    const alerts = new BudgetAlerts({ store, markers, emit, now: () => NOW });
    await call(store, alerts, request({ dayTokens: 1000 }), 1000); // 50, 80, 100 of 1000
    expect(events.map((e) => e.detail.thresholdPercent)).toEqual([50, 80, 100]);
    // the operator raises the daily budget to 2000; a fresh Lambda (no in-memory cache), same markers
    const cold = new BudgetAlerts({ store, markers, emit, now: () => NOW });
    await call(store, cold, request({ dayTokens: 2000 }), 999); // 1999 of 2000
    await call(store, cold, request({ dayTokens: 2000 }), 1); // 2000 of 2000: the tenant is now refused (429)
    expect(events.some((e) => e.detail.limit === 2000 && e.detail.thresholdPercent === 100)).toBe(true);
  });
});
