import { hash } from 'node:crypto';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import {
  BudgetExhaustedError, byId, minuteTokenLimits, periods, windows, SubjectCapacityError, TokenRateLimitError, type BudgetLimits, type CountResult, type GatewayStore, type ModelDayUsage, ModelUsageCapacityError, type Reservation, type SettledUsage, type Subject, type SubjectUsage,
  type SubjectUsageList, type UsageSummary, byTag, MAX_TAGS_PER_MONTH, type TagUsage, type TagUsageList,
} from './gateway-store.js';
import { tagsToRecord } from './tag-usage.js';
import { byDayThenModel, checkMonth, fromNanos, ledgerDelta, toNanos, withCacheCounters } from './model-usage.js';

// Per tenant: Int32 [lock, minute id, count, hour id, count, day id, count]; Float64, for the day
// and the month, a current and a previous period of [period id, tokens, cost, requests,
// held tokens, held cost] (held: by reservations not yet settled, UsageSummary.held), costs in
// integer nano-dollars (model-usage.ts NANO: a Float64 adds integers exactly up to 2^53).
const INTS = 7;
const PERIOD = 6;
const NUMS = 4 * PERIOD;
const DAY = 0;
const MONTH = 2 * PERIOD;
// Per subject slot (a tenant's users and keys, `capacity` slots per tenant, open addressing):
// Int32 [state (0 free, 1 used), kind (1 user, 2 key), id length, minute id, count, last month id],
// the same NUMS Float64 as a tenant's, and the id as up to ID_UNITS UTF-16 code units.
const SINTS = 6;
const ID_UNITS = 64;
// Tokens per minute: Float64 [minute id, tokens] per tenant and per subject slot (a counter of its current minute only).
const MTOK = 2;
const SLOT_BYTES = NUMS * 8 + MTOK * 8 + SINTS * 4 + ID_UNITS * 2;
const KIND = { user: 1, key: 2 } as const;
// Per ledger slot (a tenant's model-days, `modelDays` slots per tenant, open addressing):
// Float64 [requests, promptTokens, completionTokens, costNanos, reportedRequests, reportedTokens,
// estimatedTokens, cachedTokens, cacheWriteTokens] (LEDGER_FIELDS' order), Int32 [state (0 free, 1 used), day id, model id length],
// and the model id as up to MODEL_UNITS UTF-16 code units.
const LEDGER_FIELDS = ['requests', 'promptTokens', 'completionTokens', 'costNanos', 'reportedRequests', 'reportedTokens', 'estimatedTokens', 'cachedTokens', 'cacheWriteTokens'] as const;
const LNUMS = LEDGER_FIELDS.length;
const LINTS = 3;
const MODEL_UNITS = 192;
const LEDGER_SLOT_BYTES = LNUMS * 8 + LINTS * 4 + MODEL_UNITS * 2;

// Per tag slot (a tenant's request tags, TAG_SLOTS per tenant, open addressing): the same NUMS Float64 as a tenant's
// (held counters unused), Int32 [state (0 free, 1 used), tag length], and the tag as up to TAG_UNITS UTF-16 code units
// (request-tags.ts: at most 64 ASCII characters). Per tenant, Float64 [month id, requests with a tag past the month's limit].
const TAG_SLOTS = 2 * MAX_TAGS_PER_MONTH;
const TINTS = 2;
const TAG_UNITS = 64;
const TAG_SLOT_BYTES = NUMS * 8 + TINTS * 4 + TAG_UNITS * 2;
const TAG_TENANT_BYTES = TAG_SLOTS * TAG_SLOT_BYTES + 2 * 8;

/** Model-days each tenant's usage ledger holds at once, by default (16 models every day of two months): about 468 KiB per tenant. */
export const DEFAULT_MODEL_DAYS_PER_TENANT = 1024;

/** Subjects (users and keys) each tenant's region holds at once, by default: about 360 KiB per tenant. */
export const DEFAULT_SUBJECTS_PER_TENANT = 1024;

const minuteOf = (now: Date) => Math.floor(now.getTime() / 60_000);
/** The last value and result of a function of one string: a request asks for the same day and month several times. */
function lastOf<T>(f: (s: string) => T): (s: string) => T {
  let last: string | undefined;
  let result: T;
  return (s) => (s === last ? result : ((result = f(s)), (last = s), result));
}
const dayId = lastOf((day) => Date.parse(`${day}T00:00:00Z`) / 86_400_000);
const monthId = lastOf((month) => Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)));
const monthOf = (now: Date) => now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
/** The day id of the first day of the month before `month` (YYYY-MM): ledger slots of earlier days may be reused. */
const lastMonthStart = lastOf((month) => Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 2, 1) / 86_400_000);
const dayOf = (id: number) => new Date(id * 86_400_000).toISOString().slice(0, 10);

/**
 * The id a slot keeps: the id itself up to 64 UTF-16 units (key ids are 20, Cognito subs 36);
 * a longer one (some identity providers' `sub`) as `~` + its SHA-256 in base64url (44 units),
 * which counts it exactly and lists it by that digest.
 */
const slotId = (id: string) => (id.length <= ID_UNITS ? id : `~${hash('sha256', id, 'base64url')}`);

/**
 * The embedded store shared by the worker threads of `tessera serve --workers N`: MemoryStore's
 * semantics (rate windows, all-or-nothing reservations, settlement into the reservation's own
 * day and month) with the counters in one SharedArrayBuffer, each tenant's slot under an Atomics
 * lock, so budgets stay exact across the threads. Tenants are fixed when the buffer is allocated.
 *
 * Users and keys (subjects) live in a fixed table per tenant, under that tenant's lock: `capacity`
 * slots (DEFAULT_SUBJECTS_PER_TENANT unless allocated otherwise), found by linear probing from a
 * FNV-1a fingerprint of kind and id and compared by the id's code units. A slot whose subject was
 * last seen two months ago or earlier is reused for a new subject (its usage is of no period
 * anyone reads any more). With every slot taken by subjects of this or last month, a new subject is
 * refused (SubjectCapacityError, a 503 naming the capacity) rather than counted for the tenant
 * alone: that would let it past its own limits and leave its usage unattributed.
 *
 * The usage ledger (`modelUsage`) lives in a fixed table of `modelDays` slots per tenant
 * (DEFAULT_MODEL_DAYS_PER_TENANT unless allocated otherwise), one per day and model that answered,
 * under the same lock. A slot of a day before last month is reused. With every slot taken by days
 * of this or last month, a settle refuses the new model-day (ModelUsageCapacityError, after
 * settling the tenant's and subject's counters) rather than leave the request out unseen.
 *
 * Tokens per minute live in a Float64 pair [minute id, tokens] per tenant and per subject slot, checked and added in the
 * reservation's step under the tenant's lock, corrected by the settle while the pair is still of the reservation's minute.
 *
 * Usage by request tag (`tagUsage`) lives in a fixed table of TAG_SLOTS (twice MAX_TAGS_PER_MONTH) slots per tenant,
 * under the same lock (about 164 KiB a tenant): a tag's current and previous day and month, as a subject's. A month
 * records at most MAX_TAGS_PER_MONTH distinct tags (tagsToRecord), so this and last month's always fit.
 */
export class SharedMemoryStore implements GatewayStore {
  private readonly ints: Int32Array;
  private readonly nums: Float64Array;
  private readonly sints: Int32Array;
  private readonly snums: Float64Array;
  /** Tokens-per-minute counters, [minute id, tokens]: tenant `i`'s at `i * MTOK`, subject slot `s`'s at `(n + s) * MTOK`. */
  private readonly mtok: Float64Array;
  /** The tenants the buffer holds (the subjects' counters of `mtok` follow theirs). */
  private readonly tenantSlots: number;
  private readonly ids: Uint16Array;
  private readonly lnums: Float64Array;
  private readonly lints: Int32Array;
  private readonly lids: Uint16Array;
  private readonly tnums: Float64Array;
  private readonly unrecorded: Float64Array;
  private readonly tints: Int32Array;
  private readonly tids: Uint16Array;
  private readonly capacity: number;
  private readonly modelDays: number;
  private readonly slots = new Map<string, number>();
  private readonly tenants = new Map<string, TenantRecord>();

  /**
   * A buffer for these tenants, to hand every thread (`workerData`).
   * @param subjectsPerTenant users and keys each tenant's table holds (360 bytes each) @default DEFAULT_SUBJECTS_PER_TENANT
   * @param modelDaysPerTenant model-days each tenant's usage ledger holds (468 bytes each); the stores made on the buffer must be given the same @default DEFAULT_MODEL_DAYS_PER_TENANT
   */
  static allocate(tenantCount: number, subjectsPerTenant = DEFAULT_SUBJECTS_PER_TENANT, modelDaysPerTenant = DEFAULT_MODEL_DAYS_PER_TENANT): SharedArrayBuffer {
    const n = Math.max(1, tenantCount);
    return new SharedArrayBuffer(n * NUMS * 8 + n * MTOK * 8 + n * INTS * 4 + n * Math.max(1, subjectsPerTenant) * SLOT_BYTES + n * Math.max(1, modelDaysPerTenant) * LEDGER_SLOT_BYTES + n * TAG_TENANT_BYTES);
  }

  /** @param modelDaysPerTenant as given to `allocate` @default DEFAULT_MODEL_DAYS_PER_TENANT */
  constructor(buffer: SharedArrayBuffer, tenants: TenantRecord[], modelDaysPerTenant = DEFAULT_MODEL_DAYS_PER_TENANT) {
    const n = Math.max(1, tenants.length);
    this.modelDays = Math.max(1, modelDaysPerTenant);
    this.tenantSlots = n;
    const l = n * this.modelDays;
    const head = n * NUMS * 8 + n * MTOK * 8 + n * INTS * 4 + l * LEDGER_SLOT_BYTES + n * TAG_TENANT_BYTES;
    const t = n * TAG_SLOTS;
    this.capacity = Math.floor((buffer.byteLength - head) / (n * SLOT_BYTES));
    if (this.capacity < 1) throw new Error(`SharedMemoryStore: a buffer of ${buffer.byteLength} bytes holds no subject table and usage ledger of ${this.modelDays} model-days for ${n} tenants; allocate it with SharedMemoryStore.allocate(${n})`);
    const c = n * this.capacity;
    // Float64 regions first (8-byte aligned), then Int32, then UTF-16 ids.
    this.lnums = new Float64Array(buffer, 0, l * LNUMS);
    let at = l * LNUMS * 8;
    this.tnums = new Float64Array(buffer, at, t * NUMS);
    this.unrecorded = new Float64Array(buffer, (at += t * NUMS * 8), n * 2);
    at += n * 2 * 8;
    this.nums = new Float64Array(buffer, at, n * NUMS);
    this.snums = new Float64Array(buffer, (at += n * NUMS * 8), c * NUMS);
    this.mtok = new Float64Array(buffer, (at += c * NUMS * 8), (n + c) * MTOK);
    this.ints = new Int32Array(buffer, (at += (n + c) * MTOK * 8), n * INTS);
    this.sints = new Int32Array(buffer, (at += n * INTS * 4), c * SINTS);
    this.lints = new Int32Array(buffer, (at += c * SINTS * 4), l * LINTS);
    this.ids = new Uint16Array(buffer, (at += l * LINTS * 4), c * ID_UNITS);
    this.tints = new Int32Array(buffer, (at += c * ID_UNITS * 2), t * TINTS);
    this.lids = new Uint16Array(buffer, (at += t * TINTS * 4), l * MODEL_UNITS);
    this.tids = new Uint16Array(buffer, (at += l * MODEL_UNITS * 2), t * TAG_UNITS);
    tenants.forEach((t, i) => {
      this.slots.set(t.tenantId, i);
      this.tenants.set(t.tenantId, t);
    });
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    return this.tenants.get(tenantId);
  }

  async countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date, subject?: Subject): Promise<CountResult> {
    return this.locked(tenantId, (i): CountResult => {
      const minute = minuteOf(now);
      const ints = this.ints;
      // The minute, hour and day windows: [id, count] pairs at i * INTS + 1, + 3, + 5.
      const at = i * INTS + 1;
      const hour = Math.floor(minute / 60);
      const day = Math.floor(minute / 1440);
      const minuteCount = ints[at] === minute ? ints[at + 1] : 0;
      const hourCount = ints[at + 2] === hour ? ints[at + 3] : 0;
      const dayCount = ints[at + 4] === day ? ints[at + 5] : 0;
      if (minuteCount >= limits.minute) return { ok: false, window: 'minute', limit: limits.minute, scope: 'tenant' };
      if (hourCount >= limits.hour) return { ok: false, window: 'hour', limit: limits.hour, scope: 'tenant' };
      if (dayCount >= limits.day) return { ok: false, window: 'day', limit: limits.day, scope: 'tenant' };
      const rpm = subject?.limits?.requestsPerMinute;
      let s = -1;
      let count = 0;
      if (rpm !== undefined) {
        s = this.subjectSlot(i, subject!, monthOf(now), true)!;
        count = this.sints[s * SINTS + 3] === minute ? this.sints[s * SINTS + 4] : 0;
        if (count >= rpm) return { ok: false, window: 'minute', limit: rpm, scope: subject!.kind };
      }
      ints[at] = minute;
      ints[at + 1] = minuteCount + 1;
      ints[at + 2] = hour;
      ints[at + 3] = hourCount + 1;
      ints[at + 4] = day;
      ints[at + 5] = dayCount + 1;
      if (s >= 0) {
        this.sints[s * SINTS + 3] = minute;
        this.sints[s * SINTS + 4] = count + 1;
      }
      return { ok: true, counts: { minute: minuteCount + 1, hour: hourCount + 1, day: dayCount + 1, ...(s >= 0 ? { subjectMinute: count + 1 } : {}) } };
    }, { ok: true });
  }

  async reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date, subject?: Subject, minuteTokens = tokens): Promise<Reservation> {
    const { day, month } = periods(now);
    const reservation: Reservation = subject ? { tenantId, subject: { kind: subject.kind, id: subject.id }, day, month, tokens, costUsd } : { tenantId, day, month, tokens, costUsd };
    const cost = toNanos(costUsd);
    const mt = minuteTokens;
    // A reservation larger than a whole minute's limit can never fit: named first, as DynamoDB refuses it unsent.
    const tooLarge = minuteTokenLimits(limits, subject).find((t) => mt > t.limit);
    if (tooLarge) throw new TokenRateLimitError(tooLarge.limit, 0, mt, tooLarge.scope);
    return this.locked(tenantId, (i) => {
      const nums = this.nums;
      const d = this.period(nums, i * NUMS + DAY, dayId(day), true)!;
      const m = this.period(nums, i * NUMS + MONTH, monthId(month), true)!;
      if (limits.dayTokens !== undefined && nums[d + 1] + tokens > limits.dayTokens) throw new BudgetExhaustedError('daily token budget', limits.dayTokens);
      if (limits.monthTokens !== undefined && nums[m + 1] + tokens > limits.monthTokens) throw new BudgetExhaustedError('monthly token budget', limits.monthTokens);
      if (limits.monthCostUsd !== undefined && nums[m + 2] + cost > toNanos(limits.monthCostUsd)) throw new BudgetExhaustedError('monthly cost budget', limits.monthCostUsd);
      let sd = -1;
      let sm = -1;
      if (subject) {
        const s = this.subjectSlot(i, subject, monthId(month), true)!;
        const snums = this.snums;
        sd = this.period(snums, s * NUMS + DAY, dayId(day), true)!;
        sm = this.period(snums, s * NUMS + MONTH, monthId(month), true)!;
        const own = subject.limits;
        if (own?.tokensPerDay !== undefined && snums[sd + 1] + tokens > own.tokensPerDay) throw new BudgetExhaustedError('daily token budget', own.tokensPerDay, subject.kind);
        if (own?.monthlyCostUsd !== undefined && snums[sm + 2] + cost > toNanos(own.monthlyCostUsd)) throw new BudgetExhaustedError('monthly cost budget', own.monthlyCostUsd, subject.kind);
      }
      // Tokens per minute, after the budgets (a refusal for both names the budget, as DynamoDB's does).
      const minute = minuteOf(now);
      const tpm = minuteTokenLimits(limits, subject).map(({ limit, scope }) => {
        const at = (scope === 'tenant' ? i : this.tenantSlots + this.subjectSlot(i, subject!, monthId(month), true)!) * MTOK;
        const used = this.mtok[at] === minute ? this.mtok[at + 1] : 0;
        // 0 tokens (a moderation, an image) pass a minute that a settle took past its limit: they count nothing on it.
        if (mt > 0 && used + mt > limit) throw new TokenRateLimitError(limit, used, mt, scope);
        return { at, used, scope };
      });
      if (sd >= 0) {
        add(this.snums, sd, tokens, cost, 1, tokens, cost);
        add(this.snums, sm, tokens, cost, 1, tokens, cost);
      }
      add(nums, d, tokens, cost, 1, tokens, cost);
      add(nums, m, tokens, cost, 1, tokens, cost);
      for (const t of tpm) (this.mtok[t.at] = minute), (this.mtok[t.at + 1] = t.used + mt);
      const tenantTpm = tpm.find((t) => t.scope === 'tenant');
      const subjectTpm = tpm.find((t) => t.scope !== 'tenant');
      const committed = {
        day: nums[d + 1], month: nums[m + 1], ...(sd >= 0 ? { subjectDay: this.snums[sd + 1] } : {}),
        ...(tenantTpm ? { minute: tenantTpm.used + mt } : {}), ...(subjectTpm ? { subjectMinute: subjectTpm.used + mt } : {}),
      };
      return { ...reservation, committed, ...(tpm.length ? { minuteTokens: { minute: windows(now).minute, tenant: !!tenantTpm, subject: !!subjectTpm, tokens: mt } } : {}) };
    }, reservation);
  }

  async settle(r: Reservation, tokens: number, costUsd: number, usage?: SettledUsage): Promise<void> {
    const t = tokens - r.tokens;
    const reserved = toNanos(r.costUsd);
    const c = toNanos(costUsd) - reserved;
    const full = this.locked(r.tenantId, (i): ModelUsageCapacityError | undefined => {
      const refused = usage && this.record(i, r, usage, costUsd);
      if (usage && r.tags?.length) this.recordTags(i, r, tokens, toNanos(costUsd));
      // A period two rollovers old is not found: nothing left to correct.
      for (const at of [this.period(this.nums, i * NUMS + DAY, dayId(r.day), false), this.period(this.nums, i * NUMS + MONTH, monthId(r.month), false)]) {
        if (at !== undefined) add(this.nums, at, t, c, 0, -r.tokens, -reserved);
      }
      const s = r.subject ? this.subjectSlot(i, r.subject, 0, false) : undefined;
      // The minute's counters: corrected while still that minute's; once it ended, what the request used beyond what it
      // counted there goes on the current minute (a stream admitted at 59.9 s is not free of the minute it ends in).
      const m = r.minuteTokens;
      const minute = m && Date.parse(`${m.minute}:00Z`) / 60_000;
      const current = minuteOf(new Date());
      const onMinute = tokens - (m?.tokens ?? r.tokens);
      for (const at of [m?.tenant ? i * MTOK : -1, m?.subject && s !== undefined ? (this.tenantSlots + s) * MTOK : -1]) {
        if (at < 0) continue;
        if (current === minute) {
          if (this.mtok[at] === minute) this.mtok[at + 1] += onMinute;
        } else if (onMinute > 0) {
          if (this.mtok[at] === current) this.mtok[at + 1] += onMinute;
          else (this.mtok[at] = current), (this.mtok[at + 1] = onMinute);
        }
      }
      if (s === undefined) return refused;
      for (const at of [this.period(this.snums, s * NUMS + DAY, dayId(r.day), false), this.period(this.snums, s * NUMS + MONTH, monthId(r.month), false)]) {
        if (at !== undefined) add(this.snums, at, t, c, 0, -r.tokens, -reserved);
      }
      return refused;
    }, undefined);
    if (full) throw full;
  }

  async minuteTokens(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<number> {
    return this.locked(tenantId, (i) => {
      const s = subject ? this.subjectSlot(i, subject, 0, false) : undefined;
      if (subject && s === undefined) return 0;
      const at = (s === undefined ? i : this.tenantSlots + s) * MTOK;
      return this.mtok[at] === minuteOf(now) ? this.mtok[at + 1] : 0;
    }, 0);
  }

  async modelUsage(tenantId: string, month: string): Promise<ModelDayUsage[]> {
    checkMonth(month);
    const prefix = `${month}-`;
    return this.locked(tenantId, (i) => {
      const rows: ModelDayUsage[] = [];
      for (let j = 0; j < this.modelDays; j++) {
        const s = i * this.modelDays + j;
        if (this.lints[s * LINTS] !== 1) continue;
        const day = dayOf(this.lints[s * LINTS + 1]);
        if (!day.startsWith(prefix)) continue;
        const model = String.fromCharCode(...this.lids.subarray(s * MODEL_UNITS, s * MODEL_UNITS + this.lints[s * LINTS + 2]));
        const v = (k: number) => this.lnums[s * LNUMS + k];
        rows.push(withCacheCounters({ day, model, requests: v(0), promptTokens: v(1), completionTokens: v(2), costUsd: fromNanos(v(3)), reportedRequests: v(4), reportedTokens: v(5), estimatedTokens: v(6) }, { cachedTokens: v(7), cacheWriteTokens: v(8) }));
      }
      return rows.sort(byDayThenModel);
    }, []);
  }

  /**
   * Adds a settled request to its model-day slot of tenant `i`'s ledger (under the tenant's lock):
   * found by linear probing from a FNV-1a fingerprint of day and model; a new model-day takes the
   * first free slot of its probe sequence, or else the first slot of a day before last month.
   * @returns the refusal when there is no such slot or the model id is longer than a slot holds (nothing recorded)
   */
  private record(i: number, r: Reservation, usage: SettledUsage, costUsd: number): ModelUsageCapacityError | undefined {
    const model = usage.model;
    if (model.length > MODEL_UNITS) return new ModelUsageCapacityError(r.tenantId, this.modelDays, model, `a model id longer than ${MODEL_UNITS} characters does not fit a slot`);
    const day = dayId(r.day);
    const stale = lastMonthStart(r.month);
    let h = 0x811c9dc5 ^ day;
    for (let k = 0; k < model.length; k++) h = Math.imul(h ^ model.charCodeAt(k), 0x01000193);
    const start = (h >>> 0) % this.modelDays;
    let match = -1;
    let free = -1;
    let reusable = -1;
    for (let step = 0; step < this.modelDays; step++) {
      const s = i * this.modelDays + ((start + step) % this.modelDays);
      const at = s * LINTS;
      if (this.lints[at] === 0) {
        free = s;
        break; // the probe sequence ends at the first free slot: the model-day is not further on
      }
      if (this.lints[at + 1] === day && this.lints[at + 2] === model.length && this.sameModel(s, model)) {
        match = s;
        break;
      }
      if (reusable < 0 && this.lints[at + 1] < stale) reusable = s;
    }
    let s = match;
    if (s < 0) {
      s = reusable >= 0 ? reusable : free;
      if (s < 0) return new ModelUsageCapacityError(r.tenantId, this.modelDays, model);
      this.lints.set([1, day, model.length], s * LINTS);
      this.lnums.fill(0, s * LNUMS, s * LNUMS + LNUMS);
      for (let k = 0; k < model.length; k++) this.lids[s * MODEL_UNITS + k] = model.charCodeAt(k);
    }
    const d = ledgerDelta(usage, costUsd);
    LEDGER_FIELDS.forEach((f, k) => (this.lnums[s * LNUMS + k] += d[f]));
    return undefined;
  }

  /**
   * Counts a settled request under its tags of the reservation's day and month in tenant `i`'s tag table (under the
   * tenant's lock; tagsToRecord: up to MAX_TAGS_PER_MONTH distinct tags a month). A tag's slot is found by linear
   * probing from a FNV-1a fingerprint of the tag; a new one takes the first free slot of its probe sequence, or else the
   * first slot of a tag not counted this or last month (TAG_SLOTS is twice the monthly limit: one is always there for a
   * request of the current month). A request with a tag left out counts once in the month's `unrecorded`.
   */
  private recordTags(i: number, r: Reservation, tokens: number, costNanos: number): void {
    const month = monthId(r.month);
    const inMonth = (s: number, m: number) => this.period(this.tnums, s * NUMS + MONTH, m, false) !== undefined;
    const found = new Map<string, { slot: number; reusable: number }>();
    for (const tag of r.tags ?? []) found.set(tag, this.tagSlot(i, tag, month));
    const known = (tag: string) => found.get(tag)!.slot >= 0 && inMonth(found.get(tag)!.slot, month);
    let distinct = 0;
    if (!(r.tags ?? []).every(known)) for (let j = 0; j < TAG_SLOTS; j++) if (this.tints[(i * TAG_SLOTS + j) * TINTS] === 1 && inMonth(i * TAG_SLOTS + j, month)) distinct++;
    const { recorded, dropped } = tagsToRecord(r.tags ?? [], known, distinct);
    let left = dropped;
    for (const tag of recorded) {
      let { slot } = found.get(tag)!;
      if (slot < 0) {
        slot = this.tagSlot(i, tag, month).reusable; // again: a tag of this request may have taken the first one
        if (slot < 0) {
          left = true;
          continue;
        }
        this.tints.set([1, tag.length], slot * TINTS);
        this.tnums.fill(0, slot * NUMS, slot * NUMS + NUMS);
        for (let k = 0; k < tag.length; k++) this.tids[slot * TAG_UNITS + k] = tag.charCodeAt(k);
      }
      for (const at of [this.period(this.tnums, slot * NUMS + DAY, dayId(r.day), true), this.period(this.tnums, slot * NUMS + MONTH, month, true)]) {
        if (at !== undefined) add(this.tnums, at, tokens, costNanos, 1, 0, 0);
      }
    }
    if (!left) return;
    const u = i * 2;
    if (this.unrecorded[u] < month) this.unrecorded.set([month, 0], u);
    if (this.unrecorded[u] === month) this.unrecorded[u + 1] += 1;
  }

  /**
   * The global slot of tag `tag` of tenant `i` (`slot`, -1 when absent) and, for a new one, the slot it would take
   * (`reusable`: the first free slot of its probe sequence, else the first of a tag not counted in `month` or the month
   * before it; -1 when none).
   */
  private tagSlot(i: number, tag: string, month: number): { slot: number; reusable: number } {
    let h = 0x811c9dc5;
    for (let k = 0; k < tag.length; k++) h = Math.imul(h ^ tag.charCodeAt(k), 0x01000193);
    const start = (h >>> 0) % TAG_SLOTS;
    let reusable = -1;
    for (let step = 0; step < TAG_SLOTS; step++) {
      const s = i * TAG_SLOTS + ((start + step) % TAG_SLOTS);
      if (this.tints[s * TINTS] === 0) return { slot: -1, reusable: reusable >= 0 ? reusable : s };
      if (this.tints[s * TINTS + 1] === tag.length && this.sameTag(s, tag)) return { slot: s, reusable: -1 };
      const current = s * NUMS + MONTH;
      if (reusable < 0 && this.tnums[current] < month - 1 && this.tnums[current + PERIOD] < month - 1) reusable = s;
    }
    return { slot: -1, reusable };
  }

  private sameTag(s: number, tag: string): boolean {
    const base = s * TAG_UNITS;
    for (let k = 0; k < tag.length; k++) if (this.tids[base + k] !== tag.charCodeAt(k)) return false;
    return true;
  }

  async tagUsage(tenantId: string, now: Date): Promise<TagUsageList> {
    const { day, month } = periods(now);
    return this.locked(tenantId, (i): TagUsageList => {
      const tags: TagUsage[] = [];
      for (let j = 0; j < TAG_SLOTS; j++) {
        const s = i * TAG_SLOTS + j;
        if (this.tints[s * TINTS] !== 1 || this.period(this.tnums, s * NUMS + MONTH, monthId(month), false) === undefined) continue;
        const tag = String.fromCharCode(...this.tids.subarray(s * TAG_UNITS, s * TAG_UNITS + this.tints[s * TINTS + 1]));
        const used = this.read(this.tnums, s * NUMS, dayId(day), monthId(month));
        tags.push({ tag, day: used.day, month: used.month });
      }
      return { tags: tags.sort(byTag), unrecorded: this.unrecorded[i * 2] === monthId(month) ? this.unrecorded[i * 2 + 1] : 0 };
    }, { tags: [], unrecorded: 0 });
  }

  private sameModel(s: number, model: string): boolean {
    const base = s * MODEL_UNITS;
    for (let k = 0; k < model.length; k++) if (this.lids[base + k] !== model.charCodeAt(k)) return false;
    return true;
  }

  async usage(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<UsageSummary> {
    const { day, month } = periods(now);
    const zero = { tokens: 0, costUsd: 0, requests: 0 };
    const none = () => ({ day: { tokens: 0, costUsd: 0 }, month: { tokens: 0, costUsd: 0 } });
    return this.locked(tenantId, (i): UsageSummary => {
      if (!subject) return { ...this.read(this.nums, i * NUMS, dayId(day), monthId(month)), held: this.readHeld(this.nums, i * NUMS, dayId(day), monthId(month)) };
      const s = this.subjectSlot(i, subject, 0, false);
      return s === undefined ? { day: { ...zero }, month: { ...zero }, held: none() }
        : { ...this.read(this.snums, s * NUMS, dayId(day), monthId(month)), held: this.readHeld(this.snums, s * NUMS, dayId(day), monthId(month)) };
    }, { day: { ...zero }, month: { ...zero }, held: none() });
  }

  async usageBy(tenantId: string, now: Date, kind: Subject['kind']): Promise<SubjectUsageList> {
    const { day, month } = periods(now);
    const subjects = this.locked(tenantId, (i) => {
      const found: SubjectUsage[] = [];
      for (let j = 0; j < this.capacity; j++) {
        const s = i * this.capacity + j;
        const at = s * SINTS;
        if (this.sints[at] !== 1 || this.sints[at + 1] !== KIND[kind]) continue;
        if (this.period(this.snums, s * NUMS + MONTH, monthId(month), false) === undefined) continue; // nothing reserved this month
        const used = this.read(this.snums, s * NUMS, dayId(day), monthId(month));
        const id = String.fromCharCode(...this.ids.subarray(s * ID_UNITS, s * ID_UNITS + this.sints[at + 2]));
        found.push({ kind, id, ...used });
      }
      return found;
    }, []);
    return { subjects: subjects.sort(byId), incomplete: false };
  }

  /** Day and month usage of the NUMS-number block at `base`. */
  private read(nums: Float64Array, base: number, day: number, month: number): UsageSummary {
    return { day: counterAt(nums, this.period(nums, base + DAY, day, false)), month: counterAt(nums, this.period(nums, base + MONTH, month, false)) };
  }

  /** What reservations in flight hold of the day and month of the block at `base`. */
  private readHeld(nums: Float64Array, base: number, day: number, month: number): NonNullable<UsageSummary['held']> {
    return { day: heldAt(nums, this.period(nums, base + DAY, day, false)), month: heldAt(nums, this.period(nums, base + MONTH, month, false)) };
  }

  /** The index in `nums` of the period `id` (current or previous) of the block at `current`; with `roll`, a newer id starts a new current period. */
  private period(nums: Float64Array, current: number, id: number, roll: boolean): number | undefined {
    const previous = current + PERIOD;
    if (nums[current] === id) return current;
    if (nums[previous] === id) return previous;
    if (!roll || nums[current] > id) return undefined;
    nums.copyWithin(previous, current, current + PERIOD);
    nums.fill(0, current, current + PERIOD);
    nums[current] = id;
    return current;
  }

  /**
   * The global slot index of a subject of tenant `i` (under the tenant's lock). With `create`, a
   * new subject takes the first free slot of its probe sequence, or else the first slot whose
   * subject was last seen before last month, and every slot it touches notes `month` as last seen.
   * @throws SubjectCapacityError when `create` finds neither
   */
  private subjectSlot(i: number, subject: Pick<Subject, 'kind' | 'id'>, month: number, create: boolean): number | undefined {
    const id = slotId(subject.id);
    const kind = KIND[subject.kind];
    let h = 0x811c9dc5 ^ kind;
    for (let k = 0; k < id.length; k++) h = Math.imul(h ^ id.charCodeAt(k), 0x01000193);
    const start = (h >>> 0) % this.capacity;
    let reusable = -1;
    let free = -1;
    for (let step = 0; step < this.capacity; step++) {
      const s = i * this.capacity + ((start + step) % this.capacity);
      const at = s * SINTS;
      if (this.sints[at] === 0) {
        free = s;
        break; // the probe sequence ends at the first free slot: the id is not further on
      }
      if (this.sints[at + 1] === kind && this.sints[at + 2] === id.length && this.sameId(s, id)) {
        if (create && this.sints[at + 5] < month) this.sints[at + 5] = month;
        return s;
      }
      if (reusable < 0 && this.sints[at + 5] < month - 1) reusable = s;
    }
    if (!create) return undefined;
    const s = reusable >= 0 ? reusable : free;
    if (s < 0) throw new SubjectCapacityError([...this.slots].find(([, v]) => v === i)![0], this.capacity);
    const at = s * SINTS;
    this.sints.set([1, kind, id.length, 0, 0, month], at);
    this.snums.fill(0, s * NUMS, s * NUMS + NUMS);
    this.mtok.fill(0, (this.tenantSlots + s) * MTOK, (this.tenantSlots + s + 1) * MTOK);
    for (let k = 0; k < id.length; k++) this.ids[s * ID_UNITS + k] = id.charCodeAt(k);
    return s;
  }

  private sameId(s: number, id: string): boolean {
    const base = s * ID_UNITS;
    for (let k = 0; k < id.length; k++) if (this.ids[base + k] !== id.charCodeAt(k)) return false;
    return true;
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

/** Adds to the [id, tokens, cost, requests, held tokens, held cost] period at `at` (costs in nano-dollars). */
function add(nums: Float64Array, at: number, tokens: number, costNanos: number, requests: number, heldTokens: number, heldNanos: number): void {
  nums[at + 1] += tokens;
  nums[at + 2] += costNanos;
  nums[at + 3] += requests;
  nums[at + 4] += heldTokens;
  nums[at + 5] += heldNanos;
}

/** What reservations in flight hold of the period at index `p` (none below 0), cost in USD. */
function heldAt(nums: Float64Array, p: number | undefined): { tokens: number; costUsd: number } {
  return p === undefined ? { tokens: 0, costUsd: 0 } : { tokens: Math.max(0, nums[p + 4]), costUsd: fromNanos(Math.max(0, nums[p + 5])) };
}

/** The counters of the period at index `p` of `nums` (zeros when it has none). */
function counterAt(nums: Float64Array, p: number | undefined): { tokens: number; costUsd: number; requests: number } {
  return p === undefined ? { tokens: 0, costUsd: 0, requests: 0 } : { tokens: nums[p + 1], costUsd: fromNanos(nums[p + 2]), requests: nums[p + 3] };
}
