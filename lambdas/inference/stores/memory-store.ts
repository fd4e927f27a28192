import type { TenantRecord } from '../../../lib/tenant-record.js';
import { BudgetExhaustedError, periods, windows, type BudgetLimits, type GatewayStore, type Reservation, type UsageSummary } from './gateway-store.js';

interface Counter { tokens: number; costUsd: number; requests: number }

/**
 * The embedded store of `tessera serve`: same semantics as the DynamoDB store. Node runs one
 * request's check-and-add without interleaving (no await between them), which is what makes it exact.
 */
export class MemoryStore implements GatewayStore {
  private readonly tenants = new Map<string, TenantRecord>();
  private readonly counters = new Map<string, Counter>();
  private readonly requests = new Map<string, number>();

  putTenant(record: TenantRecord): void {
    this.tenants.set(record.tenantId, record);
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    return this.tenants.get(tenantId);
  }

  async countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date) {
    const w = windows(now);
    const keys = { minute: `${tenantId}#m#${w.minute}`, hour: `${tenantId}#h#${w.hour}`, day: `${tenantId}#d#${w.day}` };
    for (const window of ['minute', 'hour', 'day'] as const) {
      if ((this.requests.get(keys[window]) ?? 0) >= limits[window]) return { ok: false as const, window, limit: limits[window] };
    }
    for (const key of Object.values(keys)) this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    return { ok: true as const };
  }

  private counter(key: string): Counter {
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = { tokens: 0, costUsd: 0, requests: 0 }));
    return c;
  }

  async reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date): Promise<Reservation> {
    const { day, month } = periods(now);
    const d = this.counter(`${tenantId}#${day}`);
    const m = this.counter(`${tenantId}#${month}`);
    if (limits.dayTokens !== undefined && d.tokens + tokens > limits.dayTokens) throw new BudgetExhaustedError('daily token budget', limits.dayTokens);
    if (limits.monthTokens !== undefined && m.tokens + tokens > limits.monthTokens) throw new BudgetExhaustedError('monthly token budget', limits.monthTokens);
    if (limits.monthCostUsd !== undefined && m.costUsd + costUsd > limits.monthCostUsd) throw new BudgetExhaustedError('monthly cost budget', limits.monthCostUsd);
    for (const c of [d, m]) {
      c.tokens += tokens;
      c.costUsd += costUsd;
      c.requests += 1;
    }
    return { tenantId, day, month, tokens, costUsd };
  }

  async settle(r: Reservation, tokens: number, costUsd: number): Promise<void> {
    for (const key of [`${r.tenantId}#${r.day}`, `${r.tenantId}#${r.month}`]) {
      const c = this.counter(key);
      c.tokens += tokens - r.tokens;
      c.costUsd += costUsd - r.costUsd;
    }
  }

  async usage(tenantId: string, now: Date): Promise<UsageSummary> {
    const { day, month } = periods(now);
    return { day: { ...this.counter(`${tenantId}#${day}`) }, month: { ...this.counter(`${tenantId}#${month}`) } };
  }
}
