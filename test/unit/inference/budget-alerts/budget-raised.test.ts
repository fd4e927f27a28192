import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../../lib/config/load-config.js';
import { BudgetAlerts } from '../../../../lambdas/inference/budget-alerts/budget-alerts.js';
import { memoryEvents } from '../../../../lambdas/inference/budget-alerts/local-events.js';
import { MemoryAlertMarkers } from '../../../../lambdas/inference/budget-alerts/markers.js';
import { RequestPipeline, type PipelineRequest } from '../../../../lambdas/inference/pipeline.js';
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

describe('a budget lowered below its usage within the period (hostile review, hops)', () => {
  /** A pipeline request as Pipeline.reserve reads it (a user's, with the tier's request rate). */
  const refused = (limits: BudgetLimits) => ({ ...request(limits), caller: { tenantId: 'acme', tenant: { tier: 'starter' }, userId: 'u-1' }, audit: { path: '/v1/chat/completions' }, policy: { limits, tier: {}, gateway: {}, rate: { minute: 60, hour: 600, day: 6000 } } }) as unknown as PipelineRequest;
  const FREE = { id: 'openai/free', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 } as never;

  it('the refused request sends the lowered budget\'s thresholds (no request settles against it, so none was sent), and nothing usage has not reached', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    try {
      const store = new MemoryStore();
      const { emit, events } = memoryEvents();
      const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
      const pipeline = new RequestPipeline(loadConfig(), store, {} as never, (async () => undefined) as never, alerts);
      await call(store, alerts, request({ dayTokens: 1000 }), 600); // 60% of 1000
      // A request refused for its own size: 600 + 500 > 1000, but usage is at 60%: no 80% nor 100%.
      await expect(pipeline.reserve(refused({ dayTokens: 1000 }), FREE, 500, 0)).rejects.toMatchObject({ status: 429 });
      await alerts.idle();
      expect(events.map((e) => [e.detail.limit, e.detail.thresholdPercent])).toEqual([[1000, 50]]);
      // The tier's tokensPerDay lowered to 500: 600 used, every request refused (429) and none settles.
      await expect(pipeline.reserve(refused({ dayTokens: 500 }), FREE, 10, 0)).rejects.toMatchObject({ status: 429 });
      await alerts.idle();
      expect(events.map((e) => [e.detail.limit, e.detail.thresholdPercent, e.detail.used])).toEqual([[1000, 50, 600], [500, 50, 600], [500, 80, 600], [500, 100, 600]]);
      // Once each: the next refusals send nothing more, and read nothing for it (only the 429's own x-ratelimit read).
      const reads = vi.spyOn(store, 'usage');
      await expect(pipeline.reserve(refused({ dayTokens: 500 }), FREE, 10, 0)).rejects.toMatchObject({ status: 429 });
      await alerts.idle();
      expect(events).toHaveLength(4);
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
