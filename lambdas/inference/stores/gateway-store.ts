import type { SubjectLimits } from '../../../lib/identity/subject-limits.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';

/**
 * What the gateway keeps between requests: tenant records (read), request counters and budgets.
 * One interface, three implementations with one semantics: in memory (`tessera serve`, no AWS),
 * in shared memory (`tessera serve --workers N`) and DynamoDB (Lambda; conditional writes in one
 * transaction make it exact across concurrent invocations).
 *
 * Every request counts for its tenant and for one subject inside it (the calling user or key):
 * the subject's limits (SubjectLimits: requests per minute, tokens per day, monthly cost) are
 * checked in the same all-or-nothing step as the tenant's, and its usage is kept beside the
 * tenant's (attribution) whether it has limits or not.
 */
export interface BudgetLimits {
  /** Tokens per day (tier) and per month (tenant policy). */
  dayTokens?: number;
  /**
   * Tokens per UTC minute (the tier's `tokensPerMinute`, OpenAI's TPM): checked in the reservation's step, on the
   * minute's counter (reserved and settled tokens of requests admitted in that minute). @default - no such limit
   */
  minuteTokens?: number;
  monthTokens?: number;
  monthCostUsd?: number;
}

/** Whose limit ran out: the tenant's, the calling user's or the calling key's. */
export type LimitScope = 'tenant' | 'user' | 'key';

/**
 * Who inside the tenant a request counts for: a user (JWT `sub`) or an API key (`key_…`). Its
 * usage is kept beside the tenant's, and its limits (when any) checked in the same transaction.
 */
export interface Subject {
  kind: 'user' | 'key';
  id: string;
  limits?: SubjectLimits;
}

export interface Reservation {
  readonly tenantId: string;
  /** The user or key the reservation also counts for. */
  readonly subject?: { kind: Subject['kind']; id: string };
  readonly day: string;
  readonly month: string;
  readonly tokens: number;
  readonly costUsd: number;
  /**
   * The tokens counted (used and held) on the token budgets' counters once this reservation was
   * added: the tenant's day and month, and the subject's day when it has one. Set by the stores
   * that add under one lock (memory, shared memory), where it is known in the request; DynamoDB's
   * reservation is a TransactWriteItems, which returns no attributes, so it has none (reading the
   * items for it would cost reads on every accepted request). @default - not known
   */
  readonly committed?: { readonly day: number; readonly month: number; readonly subjectDay?: number; readonly minute?: number; readonly subjectMinute?: number };
  /**
   * The tokens-per-minute counters the reservation was added to (only those with a limit: the tenant's when
   * BudgetLimits.minuteTokens was given, the subject's when it has `tokensPerMinute`) and their UTC minute
   * (`2026-12-07T06:05`), and `tokens`, what was added to them (reserve's `minuteTokens`; @default the reservation's
   * `tokens`): its settle replaces those by the real usage, in that minute. @default - none (no TPM limit)
   */
  readonly minuteTokens?: { readonly minute: string; readonly tenant: boolean; readonly subject: boolean; readonly tokens?: number };
  /**
   * The request's tags (`x-tessera-tags`, request-tags.ts: at most 16, each 1-64 ASCII characters, none twice): a settle
   * with usage also counts the request under each of them (`tagUsage`). Set by the pipeline, not by the stores.
   * @default - none (the request counts under no tag)
   */
  readonly tags?: readonly string[];
}

export interface UsageSummary {
  day: { tokens: number; costUsd: number; requests: number };
  month: { tokens: number; costUsd: number; requests: number };
  /**
   * What reservations not yet settled hold of `day` and `month` (included in their counters, which
   * budgets are checked against): the counters less these are what settled. Budget alerts judge
   * thresholds on that (budget-alerts.ts), so a burst of requests each reserving its whole output
   * does not read as spending. Absent from `usageBy`'s subjects.
   */
  held?: { day: HeldUsage; month: HeldUsage };
}

/**
 * One request's reads of `GatewayStore.usage` for a fixed day and month: the tenant's, or with
 * `subject` that user's or key's. The pipeline hands one to the readers of a refused request (the
 * budget-alert check, the 429's `x-ratelimit-*` headers) so that each item is read once (usageReads).
 */
export type UsageRead = (subject?: Pick<Subject, 'kind' | 'id'>) => Promise<UsageSummary>;

/**
 * A UsageRead of `store` for the day and month of `now` that reads the tenant's usage, and each
 * subject's, at most once, however many readers ask: later ones share the first one's promise (and
 * its failure). Made per request: usage read once is not served to another request.
 */
export function usageReads(store: Pick<GatewayStore, 'usage'>, tenantId: string, now: Date): UsageRead {
  const reads = new Map<string, Promise<UsageSummary>>();
  return (subject) => {
    const key = subject ? `${subject.kind}#${subject.id}` : '';
    let read = reads.get(key);
    if (!read) reads.set(key, (read = store.usage(tenantId, now, subject)));
    return read;
  };
}

/** Tokens and cost held by reservations in flight. */
export interface HeldUsage { tokens: number; costUsd: number }

/** One user's or key's usage today and this month (`usageBy`). */
export interface SubjectUsage extends UsageSummary {
  kind: Subject['kind'];
  id: string;
}

/** The subjects of a tenant that used the gateway this month, with their usage. */
export interface SubjectUsageList {
  subjects: SubjectUsage[];
  /**
   * true when the store could not record every subject of the month for listing (DynamoDB: the
   * tenant's month item reached DynamoDB's 400 KB item size); counting and limits are unaffected.
   */
  incomplete: boolean;
}

/** One request tag's usage today and this month (`tagUsage`): the settled requests that produced usage and carried it. */
export interface TagUsage {
  tag: string;
  day: { tokens: number; costUsd: number; requests: number };
  month: { tokens: number; costUsd: number; requests: number };
}

/** A tenant's usage by request tag this month. */
export interface TagUsageList {
  /** Every tag recorded this month, sorted by tag. */
  tags: TagUsage[];
  /**
   * Settled requests of this month that carried a tag past MAX_TAGS_PER_MONTH (a tag new to the month when the month
   * already had that many): counted under the tags the month has, not under that one. 0 when every tag was recorded.
   */
  unrecorded: number;
}

/**
 * The most distinct request tags a tenant's usage is counted under in one UTC month, in every store. A request tags
 * up to 16 of the caller's choosing (request-tags.ts), so without a bound a tenant sending random tags would make the
 * ledger grow without end; past it a request still counts under its tags the month already has, and once in
 * TagUsageList.unrecorded for the others (`GET /v1/usage?group_by=tag` then says `incomplete`). Per month, not per day:
 * the answer is the month to date, and the in-memory stores keep a tag's day and month beside each other.
 */
export const MAX_TAGS_PER_MONTH = 256;

/** Sorts tag usage by tag (stable listings). */
export const byTag = (a: TagUsage, b: TagUsage) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

/** One model's gateway usage for a tenant on one UTC day. Costs in USD (micro-dollar precision). */
export interface ModelDayUsage {
  /** The UTC day of the request's reservation: `2026-11-23`. */
  day: string;
  /** Catalog id of the model that answered (after fallbacks): `openai/gpt-4o-mini`. */
  model: string;
  /** Settled requests that produced usage. */
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Requests whose usage the provider reported (not estimated by the gateway). */
  reportedRequests: number;
  /** Provider-reported total tokens of those requests. */
  reportedTokens: number;
  /** The gateway's own count (o200k, lambdas/inference/token-count.ts) of the same requests' prompt and completion. */
  estimatedTokens: number;
  /**
   * Of `promptTokens`, those the provider read from its prompt cache (priced at the catalog's `cachedInputPricePer1k`),
   * and those it wrote to it (at `cacheWritePricePer1k`): part of the prompt, not added to it.
   * @default - absent when none (a row of a model or day without cache tokens, or written before they were counted: 0)
   */
  cachedTokens?: number;
  cacheWriteTokens?: number;
}

/**
 * What a settled request used, by the model that answered: it goes to the usage ledger
 * (`modelUsage`). Settles without it (a released reservation: nothing was produced) record nothing there.
 */
export interface SettledUsage {
  /** Catalog id of the model that answered (after fallbacks). */
  model: string;
  /** The prompt and completion tokens billed: the provider's when it reported them, else the gateway's count. */
  promptTokens: number;
  completionTokens: number;
  /** Whether the provider reported the usage (else the tokens above are the gateway's count). */
  reported: boolean;
  /**
   * The gateway's own o200k count of the same prompt and completion. Kept (in `estimatedTokens`)
   * only for reported requests, beside the provider's count, for reconciliation.
   */
  estimatedTokens: number;
  /**
   * Of `promptTokens`, those the provider read from and wrote to its prompt cache (reported-usage.ts cacheTokensOf:
   * within the prompt), as `costUsd` priced them. @default 0
   */
  cachedTokens?: number;
  cacheWriteTokens?: number;
}

/**
 * The requests counted in each window of an admitted request, this one included: the tenant's
 * minute, hour and day, and the subject's minute when it has a `requestsPerMinute` limit.
 */
export interface RequestCounts { minute: number; hour: number; day: number; subjectMinute?: number }

/**
 * The result of countRequest: admitted, or the first window that is full and whose it is. An
 * admission carries the windows' counts where the store knows them in the request (the memory and
 * shared-memory stores, which count under one lock); DynamoDB's count is a TransactWriteItems,
 * which returns no attributes, so its admissions carry none.
 */
export type CountResult = { ok: true; counts?: RequestCounts } | { ok: false; window: 'minute' | 'hour' | 'day'; limit: number; scope: LimitScope };

export type BudgetName = 'daily token budget' | 'monthly token budget' | 'monthly cost budget';

export class BudgetExhaustedError extends Error {
  constructor(readonly budget: BudgetName, readonly limit: number, readonly scope: LimitScope = 'tenant') {
    super(`${scope} ${budget} exhausted`);
  }
}

/**
 * A tokens-per-minute limit (the tier's `tokensPerMinute`, a user's or key's `tokensPerMinute`) has less left in the
 * current UTC minute than the request's reservation: nothing was reserved or counted.
 */
export class TokenRateLimitError extends Error {
  /**
   * @param limit the tokens-per-minute limit
   * @param used the minute's tokens before this request (reserved and settled), as the store saw them at the refusal
   * @param requested the request's reservation (input estimate + completion limit)
   */
  constructor(readonly limit: number, readonly used: number, readonly requested: number, readonly scope: LimitScope = 'tenant') {
    super(`${scope} tokens per minute exhausted: limit ${limit}, used ${used}, requested ${requested}`);
  }
}

/**
 * The tokens-per-minute checks of a reservation of `tokens`, the tenant's first: `[limit, scope]` of each limit that
 * applies (BudgetLimits.minuteTokens, the subject's `tokensPerMinute`).
 */
export function minuteTokenLimits(limits: BudgetLimits, subject?: Subject): Array<{ limit: number; scope: LimitScope }> {
  const out: Array<{ limit: number; scope: LimitScope }> = [];
  if (limits.minuteTokens !== undefined) out.push({ limit: limits.minuteTokens, scope: 'tenant' });
  const own = subject?.limits?.tokensPerMinute;
  if (own !== undefined) out.push({ limit: own, scope: subject!.kind });
  return out;
}

/**
 * The embedded multi-thread store holds a bounded number of subjects per tenant and had no room
 * for a new one (shared-memory-store.ts): the request is refused, never counted without its
 * subject (which would let the subject past its own limits).
 */
export class SubjectCapacityError extends Error {
  constructor(readonly tenantId: string, readonly capacity: number) {
    super(`the gateway's store holds at most ${capacity} users and keys of tenant ${tenantId} active in this or last month, and all are taken`);
  }
}

/**
 * The embedded multi-thread store holds a bounded number of model-days per tenant in its usage
 * ledger (shared-memory-store.ts) and had no room for a new one, or the model id is longer than a
 * slot holds: the settle refuses to record the request rather than leave it out of the ledger
 * unseen (the tenant's and the subject's counters are settled before it is thrown).
 */
export class ModelUsageCapacityError extends Error {
  constructor(readonly tenantId: string, readonly capacity: number, readonly model: string, reason = 'all are taken') {
    super(`the gateway's store holds at most ${capacity} model-days of tenant ${tenantId}'s usage ledger for this and last month, and ${reason}: the use of ${model} was settled but not recorded by model`);
  }
}

export interface GatewayStore {
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  /**
   * Counts a request in the tenant's current minute/hour/day windows and, when the subject has a
   * `requestsPerMinute` limit, in the subject's current minute, all or nothing: past any limit
   * nothing is counted and the first full window is named with its scope.
   * @throws SubjectCapacityError (shared-memory store only) when no slot is left for a new subject
   */
  countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date, subject?: Subject): Promise<CountResult>;
  /**
   * Reserves tokens and cost against every budget of the tenant and of the subject (its
   * `tokensPerDay` and `monthlyCostUsd`), all or nothing; the subject's day and month usage is
   * counted even when it has no limits. With a tokens-per-minute limit (`limits.minuteTokens`, the
   * subject's `tokensPerMinute`), the tokens are also added to that minute's counter in the same
   * all-or-nothing step, admitted while the counter plus `minuteTokens` stays within the limit; a reservation of 0
   * minute tokens (a moderation, an image) is never refused by a minute (it is still settled on it).
   * @param minuteTokens the tokens the tokens-per-minute limits count at admission: the input plus the completion limit
   *   the caller (or the tenant's cap) set, without the model's maximum the budgets reserve when none was set, as OpenAI's
   *   TPM counts `max_tokens` only when sent @default tokens
   * @throws TokenRateLimitError first when `minuteTokens` alone exceed a tokens-per-minute limit (used 0: it can never fit)
   * @throws BudgetExhaustedError naming the budget and its scope (the budgets are checked before the minutes: a refusal for both names the budget)
   * @throws TokenRateLimitError naming the limit, the minute's tokens and the scope
   * @throws SubjectCapacityError (shared-memory store only) when no slot is left for a new subject
   */
  reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date, subject?: Subject, minuteTokens?: number): Promise<Reservation>;
  /**
   * Replaces a reservation by what was actually used (which may be less, or, if the estimate was
   * short, more), for the tenant and the reservation's subject, and on its tokens-per-minute counters
   * of the reservation's minute (`minuteTokens`) while that UTC minute lasts (by the clock at the settle); once it ended,
   * what the request used beyond what it counted there is added to the current minute's counters instead (a shortfall
   * is given back to no one: a past minute admits nothing more); with `usage`, also adds the request
   * to the usage ledger of the reservation's day and the model that answered (`modelUsage`).
   * `tokens` and `costUsd` are what `usage` bills: `promptTokens + completionTokens` and their cost.
   * With `usage` and the reservation's `tags`, also counts the request (once, its tokens and cost) under each tag of
   * the reservation's day and month (`tagUsage`), up to MAX_TAGS_PER_MONTH distinct tags a month.
   * @throws ModelUsageCapacityError (shared-memory store only) when the tenant's ledger has no slot
   *   left for a new model-day; the tenant's and the subject's counters are settled all the same
   */
  settle(reservation: Reservation, tokens: number, costUsd: number, usage?: SettledUsage): Promise<void>;
  /**
   * The tokens counted on the tenant's tokens-per-minute counter of the UTC minute of `now` (reserved and settled), with
   * `subject` that user's or key's own; 0 when the minute has none (no request counted on it, or no such limit).
   */
  minuteTokens(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<number>;
  /** The tenant's usage today and this month; with `subject`, that user's or key's own. */
  usage(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<UsageSummary>;
  /** Every user (or key) of the tenant that reserved this month, with its day and month usage, sorted by id. */
  usageBy(tenantId: string, now: Date, kind: Subject['kind']): Promise<SubjectUsageList>;
  /**
   * Every model-day of the tenant's `month` (`2026-11`), sorted by day then model: the usage
   * ledger that settles with a SettledUsage fill.
   * @throws RangeError naming `month` when it is not `YYYY-MM`
   */
  modelUsage(tenantId: string, month: string): Promise<ModelDayUsage[]>;
  /**
   * The tenant's usage by request tag today and this month (the UTC day and month of `now`): every tag that settled
   * requests with usage carried this month, and how many carried a tag past MAX_TAGS_PER_MONTH. A request with two
   * tags counts under each, so the tags' sums may exceed the tenant's; a request without tags counts under none.
   */
  tagUsage(tenantId: string, now: Date): Promise<TagUsageList>;
}

/** The UTC day and month of `now` (`2026-12-01`, `2026-12`): one frozen object per minute, not one per call. */
export const periods = (now: Date): Readonly<{ day: string; month: string }> => {
  const iso = isoToTheMinute(now);
  return (minutePeriods ??= Object.freeze({ day: iso.slice(0, 10), month: iso.slice(0, 7) }));
};
/** The UTC minute, hour and day of `now` (`2026-12-01T14:05`, `2026-12-01T14`, `2026-12-01`): one frozen object per minute. */
export const windows = (now: Date): Readonly<{ minute: string; hour: string; day: string }> => {
  const iso = isoToTheMinute(now);
  return (minuteWindows ??= Object.freeze({ minute: iso.slice(0, 16), hour: iso.slice(0, 13), day: iso.slice(0, 10) }));
};

/** periods() and windows() of the minute isoToTheMinute last formatted (undefined until asked). */
let minutePeriods: Readonly<{ day: string; month: string }> | undefined;
let minuteWindows: Readonly<{ minute: string; hour: string; day: string }> | undefined;

/** The minute `isoToTheMinute` last formatted (epoch minutes) and its ISO text. */
let formattedMinute = Number.NaN;
let formattedIso = '';

/**
 * `now.toISOString()`, of which only the first 16 characters (`2026-12-01T14:05`) are read: the
 * same text for every instant of a minute, formatted once a minute rather than a few times a
 * request. An invalid date throws RangeError as toISOString does.
 */
function isoToTheMinute(now: Date): string {
  const minute = Math.floor(now.getTime() / 60_000);
  if (minute !== formattedMinute) {
    formattedIso = now.toISOString();
    formattedMinute = minute;
    minutePeriods = undefined;
    minuteWindows = undefined;
  }
  return formattedIso;
}

/** The subject's budgets in the tenant's terms: `tokensPerDay` is a daily token budget, `monthlyCostUsd` a monthly cost budget. */
export const subjectBudgets = (limits: SubjectLimits | undefined): BudgetLimits => ({ dayTokens: limits?.tokensPerDay, monthCostUsd: limits?.monthlyCostUsd });

/** Sorts subject usage by id (stable listings for the API and CLI). */
export const byId = (a: SubjectUsage, b: SubjectUsage) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
