import type { TenantRecord } from '../../../lib/tenant-record.js';
import {
  BudgetExhaustedError, byId, minuteTokenLimits, periods, TokenRateLimitError, windows, type BudgetLimits, type CountResult, type GatewayStore, type ModelDayUsage, type Reservation, type RequestCounts, type SettledUsage, type Subject,
  type SubjectUsageList, type UsageSummary, type HeldUsage, byTag, type TagUsageList,
} from './gateway-store.js';
import { tagsToRecord } from './tag-usage.js';
import { byDayThenModel, CACHE_COUNTERS, checkMonth, emptyModelDay, fromNanos, ledgerDelta, toNanos, withCacheCounters } from './model-usage.js';

/** A period's counters, cost in integer nano-dollars (model-usage.ts NANO: added exactly, as DynamoDB does). */
interface Counter { tokens: number; costNanos: number; requests: number }

/** One user's or key's counters: its current minute's requests and tokens (each with its minute), and its usage per day and per month. */
interface SubjectCounters { minute: string; minuteRequests: number; tokenMinute?: MinuteTokens; days: Map<string, Counter>; months: Map<string, Counter> }

/** A tokens-per-minute counter: the UTC minute (`2026-12-07T06:05`) and its tokens (reserved and settled). */
interface MinuteTokens { minute: string; tokens: number }

/** The counter `c` as of `minute`: a counter of an earlier minute starts again at 0. */
const minuteCounter = (c: MinuteTokens | undefined, minute: string): MinuteTokens => (c?.minute === minute ? c : { minute, tokens: 0 });

const ZERO: Readonly<Counter> = { tokens: 0, costNanos: 0, requests: 0 };

/** A counter as UsageSummary has it: cost in USD. */
const summary = (c: Readonly<Counter> | undefined) => ({ tokens: c?.tokens ?? 0, costUsd: fromNanos(c?.costNanos ?? 0), requests: c?.requests ?? 0 });

/**
 * The embedded store of `tessera serve`: same semantics as the DynamoDB store. Node runs one
 * request's check-and-add without interleaving (no await between them), which is what makes it
 * exact, for the tenant's counters and the subject's alike (both are checked before either is added to).
 */
export class MemoryStore implements GatewayStore {
  private readonly tenants = new Map<string, TenantRecord>();
  private readonly counters = new Map<string, Counter>();
  private readonly requests = new Map<string, number>();
  /** Per tenant, its tokens-per-minute counter (only while its tier has `tokensPerMinute`): the current minute's alone. */
  private readonly tenantMinuteTokens = new Map<string, MinuteTokens>();
  /** Per tenant, its users' and its keys' counters by id (two maps: a user id may look like a key id). */
  private readonly subjects = new Map<string, { user: Map<string, SubjectCounters>; key: Map<string, SubjectCounters> }>();
  /** Tokens and cost (nano-dollars) held by reservations not yet settled, by the counter keys of `counters` and of subjects (heldKey). */
  private readonly held = new Map<string, { tokens: number; costNanos: number }>();
  /** Per tenant, its usage ledger by `<day>\n<model>`, costs in nano-dollars (summed exactly, as DynamoDB does). */
  private readonly ledger = new Map<string, Map<string, { row: ModelDayUsage; costNanos: number; cache: { cachedTokens: number; cacheWriteTokens: number } }>>();

  /** Per tenant and UTC month (`<tenant>\n<YYYY-MM>`), its request tags' counters by day and for the month, and the requests with a tag past the month's limit. */
  private readonly tagLedger = new Map<string, { tags: Map<string, { days: Map<string, Counter>; month: Counter }>; unrecorded: number }>();

  putTenant(record: TenantRecord): void {
    this.tenants.set(record.tenantId, record);
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    return this.tenants.get(tenantId);
  }

  async countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date, subject?: Subject): Promise<CountResult> {
    const w = windows(now);
    const keys = this.windowKeys(tenantId, w);
    for (const window of ['minute', 'hour', 'day'] as const) {
      if ((this.requests.get(keys[window]) ?? 0) >= limits[window]) return { ok: false, window, limit: limits[window], scope: 'tenant' };
    }
    const rpm = subject?.limits?.requestsPerMinute;
    let s: SubjectCounters | undefined;
    if (rpm !== undefined) {
      s = this.subject(tenantId, subject!, true)!;
      if (s.minute !== w.minute) (s.minute = w.minute), (s.minuteRequests = 0);
      if (s.minuteRequests >= rpm) return { ok: false, window: 'minute', limit: rpm, scope: subject!.kind };
    }
    const counts: RequestCounts = { minute: 0, hour: 0, day: 0 };
    for (const window of ['minute', 'hour', 'day'] as const) this.requests.set(keys[window], (counts[window] = (this.requests.get(keys[window]) ?? 0) + 1));
    if (s) counts.subjectMinute = s.minuteRequests += 1;
    return { ok: true, counts };
  }

  /** The last tenant's request-counter keys, for its windows object (one per minute): built once, not per request. */
  private lastKeys: { tenantId: string; w: ReturnType<typeof windows>; keys: Readonly<{ minute: string; hour: string; day: string }> } | undefined;

  private windowKeys(tenantId: string, w: ReturnType<typeof windows>): Readonly<{ minute: string; hour: string; day: string }> {
    const last = this.lastKeys;
    if (last !== undefined && last.w === w && last.tenantId === tenantId) return last.keys;
    const keys = Object.freeze({ minute: `${tenantId}#m#${w.minute}`, hour: `${tenantId}#h#${w.hour}`, day: `${tenantId}#d#${w.day}` });
    this.lastKeys = { tenantId, w, keys };
    return keys;
  }

  private counter(key: string): Counter {
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = { ...ZERO }));
    return c;
  }

  private subject(tenantId: string, subject: Pick<Subject, 'kind' | 'id'>, create: boolean): SubjectCounters | undefined {
    let own = this.subjects.get(tenantId);
    if (!own) {
      if (!create) return undefined;
      this.subjects.set(tenantId, (own = { user: new Map(), key: new Map() }));
    }
    let s = own[subject.kind].get(subject.id);
    if (!s && create) own[subject.kind].set(subject.id, (s = { minute: '', minuteRequests: 0, days: new Map(), months: new Map() }));
    return s;
  }

  async reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date, subject?: Subject, minuteTokens = tokens): Promise<Reservation> {
    const { day, month } = periods(now);
    const cost = toNanos(costUsd);
    const mt = minuteTokens;
    // A reservation larger than a whole minute's limit can never fit: named first, as DynamoDB refuses it unsent.
    const tooLarge = minuteTokenLimits(limits, subject).find((t) => mt > t.limit);
    if (tooLarge) throw new TokenRateLimitError(tooLarge.limit, 0, mt, tooLarge.scope);
    const d = this.counter(`${tenantId}#${day}`);
    const m = this.counter(`${tenantId}#${month}`);
    if (limits.dayTokens !== undefined && d.tokens + tokens > limits.dayTokens) throw new BudgetExhaustedError('daily token budget', limits.dayTokens);
    if (limits.monthTokens !== undefined && m.tokens + tokens > limits.monthTokens) throw new BudgetExhaustedError('monthly token budget', limits.monthTokens);
    if (limits.monthCostUsd !== undefined && m.costNanos + cost > toNanos(limits.monthCostUsd)) throw new BudgetExhaustedError('monthly cost budget', limits.monthCostUsd);
    const touched = [d, m];
    if (subject) {
      const s = this.subject(tenantId, subject, true)!;
      const sd = periodCounter(s.days, day);
      const sm = periodCounter(s.months, month);
      const own = subject.limits;
      if (own?.tokensPerDay !== undefined && sd.tokens + tokens > own.tokensPerDay) throw new BudgetExhaustedError('daily token budget', own.tokensPerDay, subject.kind);
      if (own?.monthlyCostUsd !== undefined && sm.costNanos + cost > toNanos(own.monthlyCostUsd)) throw new BudgetExhaustedError('monthly cost budget', own.monthlyCostUsd, subject.kind);
      touched.push(sd, sm);
    }
    // Tokens per minute, after the budgets (a refusal for both names the budget, as DynamoDB's does).
    const minute = windows(now).minute;
    const tpm = minuteTokenLimits(limits, subject).map(({ limit, scope }) => {
      const c = scope === 'tenant' ? minuteCounter(this.tenantMinuteTokens.get(tenantId), minute) : minuteCounter(this.subject(tenantId, subject!, true)!.tokenMinute, minute);
      // 0 tokens (a moderation, an image) pass a minute that a settle took past its limit: they count nothing on it.
      if (mt > 0 && c.tokens + mt > limit) throw new TokenRateLimitError(limit, c.tokens, mt, scope);
      return { c, scope };
    });
    for (const { c, scope } of tpm) {
      c.tokens += mt;
      if (scope === 'tenant') this.tenantMinuteTokens.set(tenantId, c);
      else this.subject(tenantId, subject!, true)!.tokenMinute = c;
    }
    const tenantTpm = tpm.find((t) => t.scope === 'tenant')?.c.tokens;
    const subjectTpm = tpm.find((t) => t.scope !== 'tenant')?.c.tokens;
    const onMinute = tpm.length ? { minuteTokens: { minute, tenant: tenantTpm !== undefined, subject: subjectTpm !== undefined, tokens: mt } } : {};
    for (const c of touched) {
      c.tokens += tokens;
      c.costNanos += cost;
      c.requests += 1;
    }
    this.hold(heldKeys(tenantId, day, month, subject), tokens, cost);
    const committed = {
      day: d.tokens, month: m.tokens, ...(subject ? { subjectDay: touched[2].tokens } : {}), // touched[2]: the subject's day
      ...(tenantTpm !== undefined ? { minute: tenantTpm } : {}), ...(subjectTpm !== undefined ? { subjectMinute: subjectTpm } : {}),
    };
    return subject ? { tenantId, subject: { kind: subject.kind, id: subject.id }, day, month, tokens, costUsd, committed, ...onMinute } : { tenantId, day, month, tokens, costUsd, committed, ...onMinute };
  }

  async settle(r: Reservation, tokens: number, costUsd: number, usage?: SettledUsage): Promise<void> {
    if (usage) this.record(r, usage, costUsd);
    if (usage && r.tags?.length) this.recordTags(r, tokens, costUsd);
    const touched = [this.counter(`${r.tenantId}#${r.day}`), this.counter(`${r.tenantId}#${r.month}`)];
    const s = r.subject && this.subject(r.tenantId, r.subject, true)!;
    if (s) touched.push(periodCounter(s.days, r.day), periodCounter(s.months, r.month));
    const reserved = toNanos(r.costUsd);
    for (const c of touched) {
      c.tokens += tokens - r.tokens;
      c.costNanos += toNanos(costUsd) - reserved;
    }
    this.hold(heldKeys(r.tenantId, r.day, r.month, r.subject), -r.tokens, -reserved);
    // The minute's counters: corrected while still that minute's; once it ended, what the request used beyond what it
    // counted there goes on the current minute (a stream admitted at 59.9 s is not free of the minute it ends in).
    const m = r.minuteTokens;
    if (m) {
      const onMinute = tokens - (m.tokens ?? r.tokens);
      const current = windows(new Date()).minute;
      const corrected = (c: MinuteTokens | undefined): MinuteTokens | undefined => {
        if (current === m.minute) return c?.minute === m.minute ? ((c.tokens += onMinute), c) : c;
        if (onMinute <= 0) return c;
        const now = minuteCounter(c, current);
        return (now.tokens += onMinute), now;
      };
      if (m.tenant) {
        const c = corrected(this.tenantMinuteTokens.get(r.tenantId));
        if (c) this.tenantMinuteTokens.set(r.tenantId, c);
      }
      if (m.subject && s) s.tokenMinute = corrected(s.tokenMinute);
    }
  }

  /** Adds `tokens` and `costNanos` (nano-dollars) to what reservations hold on each of `keys`. */
  private hold(keys: string[], tokens: number, costNanos: number): void {
    for (const k of keys) {
      const h = this.held.get(k) ?? { tokens: 0, costNanos: 0 };
      h.tokens += tokens;
      h.costNanos += costNanos;
      if (h.tokens === 0 && h.costNanos === 0) this.held.delete(k);
      else this.held.set(k, h);
    }
  }

  private heldOf(key: string): HeldUsage {
    const h = this.held.get(key);
    return h ? { tokens: Math.max(0, h.tokens), costUsd: fromNanos(Math.max(0, h.costNanos)) } : { tokens: 0, costUsd: 0 };
  }

  async modelUsage(tenantId: string, month: string): Promise<ModelDayUsage[]> {
    checkMonth(month);
    return [...(this.ledger.get(tenantId)?.values() ?? [])]
      .filter(({ row }) => row.day.startsWith(`${month}-`))
      .map(({ row, costNanos, cache }) => withCacheCounters({ ...row, costUsd: fromNanos(costNanos) }, cache))
      .sort(byDayThenModel);
  }

  /** Adds a settled request to its model-day row of the ledger. */
  private record(r: Reservation, usage: SettledUsage, costUsd: number): void {
    let rows = this.ledger.get(r.tenantId);
    if (!rows) this.ledger.set(r.tenantId, (rows = new Map()));
    const key = `${r.day}\n${usage.model}`;
    let e = rows.get(key);
    if (!e) rows.set(key, (e = { row: emptyModelDay(r.day, usage.model), costNanos: 0, cache: { cachedTokens: 0, cacheWriteTokens: 0 } }));
    const d = ledgerDelta(usage, costUsd);
    e.costNanos += d.costNanos;
    for (const k of CACHE_COUNTERS) e.cache[k] += d[k];
    for (const k of ['requests', 'promptTokens', 'completionTokens', 'reportedRequests', 'reportedTokens', 'estimatedTokens'] as const) e.row[k] += d[k];
  }

  /** Counts a settled request under its tags of the reservation's day and month (tagsToRecord: up to MAX_TAGS_PER_MONTH a month). */
  private recordTags(r: Reservation, tokens: number, costUsd: number): void {
    const key = `${r.tenantId}\n${r.month}`;
    let month = this.tagLedger.get(key);
    if (!month) this.tagLedger.set(key, (month = { tags: new Map(), unrecorded: 0 }));
    const own = month.tags;
    const { recorded, dropped } = tagsToRecord(r.tags ?? [], (t) => own.has(t), own.size);
    if (dropped) month.unrecorded += 1;
    for (const tag of recorded) {
      let t = own.get(tag);
      if (!t) own.set(tag, (t = { days: new Map(), month: { ...ZERO } }));
      for (const c of [periodCounter(t.days, r.day), t.month]) {
        c.tokens += tokens;
        c.costNanos += toNanos(costUsd);
        c.requests += 1;
      }
    }
  }

  async tagUsage(tenantId: string, now: Date): Promise<TagUsageList> {
    const { day, month } = periods(now);
    const m = this.tagLedger.get(`${tenantId}\n${month}`);
    const tags = [...(m?.tags ?? [])].map(([tag, t]) => ({ tag, day: summary(t.days.get(day)), month: summary(t.month) }));
    return { tags: tags.sort(byTag), unrecorded: m?.unrecorded ?? 0 };
  }

  async minuteTokens(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<number> {
    const c = subject ? this.subject(tenantId, subject, false)?.tokenMinute : this.tenantMinuteTokens.get(tenantId);
    return c?.minute === windows(now).minute ? c.tokens : 0;
  }

  async usage(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<UsageSummary> {
    const { day, month } = periods(now);
    const [hd, hm] = heldKeys(tenantId, day, month, subject).slice(subject ? 2 : 0);
    const held = { day: this.heldOf(hd), month: this.heldOf(hm) };
    if (subject) {
      const s = this.subject(tenantId, subject, false);
      return { day: summary(s?.days.get(day)), month: summary(s?.months.get(month)), held };
    }
    return { day: summary(this.counters.get(`${tenantId}#${day}`)), month: summary(this.counters.get(`${tenantId}#${month}`)), held };
  }

  async usageBy(tenantId: string, now: Date, kind: Subject['kind']): Promise<SubjectUsageList> {
    const { day, month } = periods(now);
    const subjects = [...(this.subjects.get(tenantId)?.[kind] ?? new Map<string, SubjectCounters>())]
      .filter(([, s]) => s.months.has(month))
      .map(([id, s]) => ({ kind, id, day: summary(s.days.get(day)), month: summary(s.months.get(month)) }));
    return { subjects: subjects.sort(byId), incomplete: false };
  }
}

/** The held-usage keys of a reservation: the tenant's day and month, then (with a subject) the subject's. */
function heldKeys(tenantId: string, day: string, month: string, subject?: Pick<Subject, 'kind' | 'id'>): string[] {
  const keys = [`${tenantId}#${day}`, `${tenantId}#${month}`];
  if (subject) keys.push(`${tenantId}\n${subject.kind}\n${subject.id}\n${day}`, `${tenantId}\n${subject.kind}\n${subject.id}\n${month}`);
  return keys;
}

function periodCounter(map: Map<string, Counter>, period: string): Counter {
  let c = map.get(period);
  if (!c) map.set(period, (c = { ...ZERO }));
  return c;
}
