import type { TenantRecord } from '../../../lib/tenant-record.js';
import { BudgetExhaustedError, periods, type BudgetLimits, type GatewayStore, type Reservation, type UsageSummary } from './gateway-store.js';

// Per tenant: Int32 [lock, minute id, count, hour id, count, day id, count]; Float64, for the day
// and the month, a current and a previous period of [period id, tokens, costUsd, requests].
const INTS = 7;
const NUMS = 16;
const DAY = 0;
const MONTH = 8;

const minuteOf = (now: Date) => Math.floor(now.getTime() / 60_000);
const dayId = (day: string) => Date.parse(`${day}T00:00:00Z`) / 86_400_000;
const monthId = (month: string) => Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7));

/**
 * The embedded store shared by the worker threads of `tessera serve --workers N`: MemoryStore's
 * semantics (rate windows, all-or-nothing reservations, settlement into the reservation's own
 * day and month) with the counters in one SharedArrayBuffer, each tenant's slot under an Atomics
 * lock, so budgets stay exact across the threads. Tenants are fixed when the buffer is allocated.
 */
export class SharedMemoryStore implements GatewayStore {
  private readonly ints: Int32Array;
  private readonly nums: Float64Array;
  private readonly slots = new Map<string, number>();
  private readonly tenants = new Map<string, TenantRecord>();

  /** A buffer for these tenants, to hand every thread (`workerData`). */
  static allocate(tenantCount: number): SharedArrayBuffer {
    const n = Math.max(1, tenantCount);
    return new SharedArrayBuffer(n * NUMS * 8 + n * INTS * 4);
  }

  constructor(buffer: SharedArrayBuffer, tenants: TenantRecord[]) {
    const n = Math.max(1, tenants.length);
    this.nums = new Float64Array(buffer, 0, n * NUMS);
    this.ints = new Int32Array(buffer, n * NUMS * 8, n * INTS);
    tenants.forEach((t, i) => {
      this.slots.set(t.tenantId, i);
      this.tenants.set(t.tenantId, t);
    });
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    return this.tenants.get(tenantId);
  }

  async countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date) {
    return this.locked(tenantId, (i) => {
      const minute = minuteOf(now);
      const ids = { minute, hour: Math.floor(minute / 60), day: Math.floor(minute / 1440) };
      const windows = (['minute', 'hour', 'day'] as const).map((window, k) => {
        const at = i * INTS + 1 + 2 * k;
        return { window, at, count: this.ints[at] === ids[window] ? this.ints[at + 1] : 0 };
      });
      const full = windows.find((w) => w.count >= limits[w.window]);
      if (full) return { ok: false as const, window: full.window, limit: limits[full.window] };
      for (const w of windows) {
        this.ints[w.at] = ids[w.window];
        this.ints[w.at + 1] = w.count + 1;
      }
      return { ok: true as const };
    }, { ok: true as const });
  }

  async reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date): Promise<Reservation> {
    const { day, month } = periods(now);
    return this.locked(tenantId, (i) => {
      const d = this.period(i, DAY, dayId(day), true)!;
      const m = this.period(i, MONTH, monthId(month), true)!;
      if (limits.dayTokens !== undefined && this.nums[d + 1] + tokens > limits.dayTokens) throw new BudgetExhaustedError('daily token budget', limits.dayTokens);
      if (limits.monthTokens !== undefined && this.nums[m + 1] + tokens > limits.monthTokens) throw new BudgetExhaustedError('monthly token budget', limits.monthTokens);
      if (limits.monthCostUsd !== undefined && this.nums[m + 2] + costUsd > limits.monthCostUsd) throw new BudgetExhaustedError('monthly cost budget', limits.monthCostUsd);
      for (const at of [d, m]) {
        this.nums[at + 1] += tokens;
        this.nums[at + 2] += costUsd;
        this.nums[at + 3] += 1;
      }
      return { tenantId, day, month, tokens, costUsd };
    }, { tenantId, day, month, tokens, costUsd });
  }

  async settle(r: Reservation, tokens: number, costUsd: number): Promise<void> {
    this.locked(r.tenantId, (i) => {
      for (const at of [this.period(i, DAY, dayId(r.day), false), this.period(i, MONTH, monthId(r.month), false)]) {
        if (at === undefined) continue; // a period two rollovers old: nothing left to correct
        this.nums[at + 1] += tokens - r.tokens;
        this.nums[at + 2] += costUsd - r.costUsd;
      }
    }, undefined);
  }

  async usage(tenantId: string, now: Date): Promise<UsageSummary> {
    const { day, month } = periods(now);
    const zero = { tokens: 0, costUsd: 0, requests: 0 };
    return this.locked(tenantId, (i) => {
      const read = (at: number | undefined) => (at === undefined ? { ...zero } : { tokens: this.nums[at + 1], costUsd: this.nums[at + 2], requests: this.nums[at + 3] });
      return { day: read(this.period(i, DAY, dayId(day), false)), month: read(this.period(i, MONTH, monthId(month), false)) };
    }, { day: { ...zero }, month: { ...zero } });
  }

  /** The index in `nums` of the period `id` (current or previous); with `roll`, a newer id starts a new current period. */
  private period(i: number, kind: typeof DAY | typeof MONTH, id: number, roll: boolean): number | undefined {
    const current = i * NUMS + kind;
    const previous = current + 4;
    if (this.nums[current] === id) return current;
    if (this.nums[previous] === id) return previous;
    if (!roll || this.nums[current] > id) return undefined;
    this.nums.copyWithin(previous, current, current + 4);
    this.nums.fill(0, current, current + 4);
    this.nums[current] = id;
    return current;
  }

  /** `fn` under the tenant's lock; `unknown` for a tenant this store does not hold. */
  private locked<T>(tenantId: string, fn: (slot: number) => T, unknown: T): T {
    const slot = this.slots.get(tenantId);
    if (slot === undefined) return unknown;
    const lock = slot * INTS;
    while (Atomics.compareExchange(this.ints, lock, 0, 1) !== 0) Atomics.wait(this.ints, lock, 1, 1);
    try {
      return fn(slot);
    } finally {
      Atomics.store(this.ints, lock, 0);
      Atomics.notify(this.ints, lock, 1);
    }
  }
}
