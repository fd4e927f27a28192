import { existsSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BudgetAlerts, type EmitEvent } from '../../../../lambdas/inference/budget-alerts/budget-alerts.js';
import { memoryEvents } from '../../../../lambdas/inference/budget-alerts/local-events.js';
import { FileAlertMarkers, MemoryAlertMarkers } from '../../../../lambdas/inference/budget-alerts/markers.js';
import type { PipelineRequest } from '../../../../lambdas/inference/pipeline.js';
import type { BudgetLimits, Subject } from '../../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../../lambdas/inference/stores/memory-store.js';
import { openTempFiles } from '../../../support/file-state-leaks.js';
import { tempDir } from '../../../support/temp-dirs.js';

const NOW = new Date('2026-12-14T09:30:00Z');

/** The parts of a pipeline request budget alerts read. */
const request = (limits: BudgetLimits, thresholdsPercent?: number[]) => ({
  caller: { tenantId: 'acme', tenant: { tier: 'starter' } },
  policy: { limits, tier: thresholdsPercent ? { budgetAlerts: { thresholdsPercent, emailTenantAdmins: false } } : {} },
}) as unknown as Pick<PipelineRequest, 'caller' | 'policy'>;

/** Reserve `tokens`, settle them, and let budget alerts look: as the pipeline does for one request. */
async function call(store: MemoryStore, alerts: BudgetAlerts, r: ReturnType<typeof request>, tokens: number, subject?: Subject, costUsd = 0) {
  const reservation = await store.reserve('acme', tokens, costUsd, r.policy.limits, NOW, subject);
  alerts.watch(reservation, r, subject);
  await store.settle(reservation, tokens, costUsd);
  await alerts.afterSettle(reservation, tokens);
}

describe('BudgetAlerts', () => {
  it('one event per threshold of the tenant\'s daily budget, in order, each once', async () => {
    const store = new MemoryStore();
    const { emit, events } = memoryEvents();
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
    const r = request({ dayTokens: 1000 });
    for (const tokens of [400, 100, 200, 100, 150, 50]) await call(store, alerts, r, tokens); // 400, 500, 700, 800, 950, 1000
    expect(events.map((e) => [e['detail-type'], e.source, e.detail.thresholdPercent, e.detail.used])).toEqual([
      ['Tenant Budget Threshold Reached', 'tessera.lifecycle', 50, 500],
      ['Tenant Budget Threshold Reached', 'tessera.lifecycle', 80, 800],
      ['Tenant Budget Threshold Reached', 'tessera.lifecycle', 100, 1000],
    ]);
    expect(events[0]!.detail).toMatchObject({ tenantId: 'acme', tier: 'starter', scope: 'tenant', budgetId: 'day-tokens', limit: 1000, periodId: '2026-12-14' });
  });

  it('a step past several thresholds sends each; a key\'s cost budget alerts as the key\'s', async () => {
    const store = new MemoryStore();
    const { emit, events } = memoryEvents();
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
    const key: Subject = { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 2 } };
    await call(store, alerts, request({ dayTokens: 1_000_000 }), 10, key, 1.7);
    expect(events.map((e) => [e.detail.scope, e.detail.keyId, e.detail.budgetId, e.detail.thresholdPercent])).toEqual([
      ['key', 'key_0123456789abcdef', 'month-cost', 50], ['key', 'key_0123456789abcdef', 'month-cost', 80],
    ]);
  });

  it('a cost budget\'s threshold is reached at its exact nano-dollar: USD 0.088 of a USD 0.11 budget is 80%', async () => {
    const store = new MemoryStore();
    const { emit, events } = memoryEvents();
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
    const key: Subject = { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 0.11 } };
    await call(store, alerts, request({ dayTokens: 1_000_000 }), 10, key, 0.088);
    expect(events.map((e) => [e.detail.budgetId, e.detail.thresholdPercent, e.detail.used])).toEqual([['month-cost', 50, 0.088], ['month-cost', 80, 0.088]]);
  });

  it('the tier\'s own thresholds; none ([]) sends nothing; no budget sends nothing', async () => {
    const store = new MemoryStore();
    const { emit, events } = memoryEvents();
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, now: () => NOW });
    await call(store, alerts, request({ dayTokens: 100 }, [90]), 95);
    await call(store, alerts, request({ monthTokens: 100 }, []), 5); // 100 of 100 this month, no thresholds
    await call(store, alerts, request({}), 100);
    expect(events.map((e) => [e.detail.budgetId, e.detail.thresholdPercent])).toEqual([['day-tokens', 90]]);
  });

  it('a released reservation (0 tokens) checks nothing', async () => {
    const store = new MemoryStore();
    let reads = 0;
    const counting = { usage: (...a: Parameters<MemoryStore['usage']>) => { reads++; return store.usage(...a); } };
    const alerts = new BudgetAlerts({ store: counting, markers: new MemoryAlertMarkers(), emit: async () => undefined });
    const r = request({ dayTokens: 10 });
    const reservation = await store.reserve('acme', 9, 0, r.policy.limits, NOW);
    alerts.watch(reservation, r);
    await store.settle(reservation, 0, 0);
    await alerts.afterSettle(reservation, 0);
    expect(reads).toBe(0);
  });

  it('an event that cannot be sent is logged and its marker released: the next request sends it', async () => {
    const store = new MemoryStore();
    const sent: unknown[] = [];
    let fail = true;
    const emit: EmitEvent = async (_t, detail) => { if (fail) throw new Error('EventBridge rejected it'); sent.push(detail); };
    const logged: Array<Record<string, unknown>> = [];
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit, log: (e) => logged.push(e) });
    const r = request({ dayTokens: 100 });
    await call(store, alerts, r, 60);
    expect(sent).toEqual([]);
    expect(logged[0]).toMatchObject({ level: 'ERROR', message: expect.stringMatching(/not sent; its marker is released/), marker: 'usage#acme#alert#tenant#day-tokens#2026-12-14#100#50' });
    fail = false;
    await call(store, alerts, r, 1);
    expect(sent).toMatchObject([{ thresholdPercent: 50, used: 61 }]);
  });

  it('concurrent requests across many processes (each its own BudgetAlerts) sharing the markers: exactly one event per threshold', async () => {
    const store = new MemoryStore();
    const { emit, events } = memoryEvents();
    const markers = new FileAlertMarkers(tempDir('tessera-test-budget-markers-'));
    const processes = Array.from({ length: 8 }, () => new BudgetAlerts({ store, markers, emit }));
    const r = request({ dayTokens: 1000 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => call(store, processes[i % 8]!, r, 25))); // 40 × 25 = 1000
    expect(events.map((e) => e.detail.thresholdPercent).sort()).toEqual([100, 50, 80]);
  });

  it('idle() waits for every check started, which never throws to the caller', async () => {
    const store = new MemoryStore();
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const sent: unknown[] = [];
    const alerts = new BudgetAlerts({ store, markers: new MemoryAlertMarkers(), emit: async (_t, d) => { await gate; sent.push(d); } });
    const r = request({ dayTokens: 10 });
    const reservation = await store.reserve('acme', 10, 0, r.policy.limits, NOW);
    await store.settle(reservation, 10, 0); // as the pipeline does: afterSettle follows the settle
    alerts.watch(reservation, r);
    void alerts.afterSettle(reservation, 10);
    let idle = false;
    const waiting = alerts.idle().then(() => (idle = true));
    await new Promise((ok) => setTimeout(ok, 20));
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(sent).toHaveLength(3);
  });
});

describe('markers', () => {
  it('file markers: one claim wins among concurrent ones; release makes it claimable again', async () => {
    const markers = new FileAlertMarkers(tempDir('tessera-test-budget-markers-'));
    const until = new Date('2026-12-16T00:00:00Z');
    const wins = await Promise.all(Array.from({ length: 20 }, () => markers.claim('acme', 'usage#acme#alert#tenant#day-tokens#2026-12-14#80', until)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    await markers.release('acme', 'usage#acme#alert#tenant#day-tokens#2026-12-14#80');
    expect(await markers.claim('acme', 'usage#acme#alert#tenant#day-tokens#2026-12-14#80', until)).toBe(true);
    expect(await markers.claim('acme', `usage#acme#alert#user#${'x'.repeat(256)}#day-tokens#2026-12-14#80`, until)).toBe(true); // a long id is hashed into a file name
  });

  // s47l: the marker's FileHandle was closed only after a write that succeeded: one that threw left it to garbage
  // collection (Node's DEP0137 warning), and the empty marker file kept the alert from ever being claimed again.
  it('file markers: a claim whose write fails (a full disk) closes and removes its marker, which the next claim takes', async () => {
    const dir = tempDir('tessera-test-budget-markers-');
    const markers = new FileAlertMarkers(dir);
    const until = new Date('2026-12-16T00:00:00Z');
    const probe = await open(join(dir, 'probe'), 'w');
    const handles = Object.getPrototypeOf(probe) as { writeFile(data: string): Promise<void> };
    await probe.close();
    const write = vi.spyOn(handles, 'writeFile').mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    try {
      await expect(markers.claim('acme', 'usage#acme#alert#tenant#day-tokens#2026-12-14#50', until)).rejects.toThrow('ENOSPC');
      // (a FileHandle's `close` is its own property, not its prototype's: the descriptors open under the directory are counted)
      expect([...openTempFiles()].filter((f) => f.includes(dir))).toEqual([]);
    } finally {
      write.mockRestore();
    }
    expect(readdirSync(dir)).toEqual(['probe']);
    expect(await markers.claim('acme', 'usage#acme#alert#tenant#day-tokens#2026-12-14#50', until)).toBe(true);
    expect(existsSync(join(dir, encodeURIComponent('usage#acme#alert#tenant#day-tokens#2026-12-14#50')))).toBe(true);
  });

  it('memory markers forget an expired claim', async () => {
    const markers = new MemoryAlertMarkers();
    expect(await markers.claim('acme', 'm', new Date(Date.now() - 1))).toBe(true);
    expect(await markers.claim('acme', 'm', new Date(Date.now() + 60_000))).toBe(true);
    expect(await markers.claim('acme', 'm', new Date(Date.now() + 60_000))).toBe(false);
  });
});

describe('lambdaBudgetAlerts', () => {
  it('is off (undefined, one warning) without TESSERA_EVENT_BUS, and on with it', async () => {
    const { lambdaBudgetAlerts } = await import('../../../../lambdas/inference/budget-alerts/lambda-budget-alerts.js');
    const bus = process.env.TESSERA_EVENT_BUS;
    const table = process.env.TESSERA_USAGE_TABLE;
    try {
      delete process.env.TESSERA_EVENT_BUS;
      expect(await lambdaBudgetAlerts(new MemoryStore(), async () => { throw new Error('not used'); })).toBeUndefined();
      Object.assign(process.env, { TESSERA_EVENT_BUS: 'tessera-lifecycle', TESSERA_USAGE_TABLE: 'tessera-usage' });
      expect(await lambdaBudgetAlerts(new MemoryStore(), async () => { throw new Error('not used'); })).toBeInstanceOf(BudgetAlerts);
    } finally {
      if (bus === undefined) delete process.env.TESSERA_EVENT_BUS; else process.env.TESSERA_EVENT_BUS = bus;
      if (table === undefined) delete process.env.TESSERA_USAGE_TABLE; else process.env.TESSERA_USAGE_TABLE = table;
    }
  });
});
