import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { storedSubjectId } from './stored-subject-id.js';
import { GetCommand, paginateQuery, TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { pages, untilKeyRepeats } from '../../../lib/aws-pages.js';
import { isTenantId, TenantRecord } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { sendTransaction } from '../../shared/transactions.js';
import {
  BudgetExhaustedError, byId, minuteTokenLimits, periods, TokenRateLimitError, windows, type BudgetLimits, type CountResult, type GatewayStore, type LimitScope, type ModelDayUsage, type Reservation,
  type SettledUsage, type Subject, type SubjectUsage, type SubjectUsageList, type UsageSummary, byTag, MAX_TAGS_PER_MONTH, type TagUsageList,
} from './gateway-store.js';
import { tagsToRecord } from './tag-usage.js';
import { byDayThenModel, CACHE_COUNTERS, checkMonth, fromNanos, ledgerDelta, legacyNanos, MODEL_USAGE_INDEX, NANOS_PER_MICRO, toNanos, withCacheCounters } from './model-usage.js';
// costs are counted in nano-dollars (model-usage.ts NANO): DynamoDB adds integers exactly
/** GetItem calls in flight at once when listing a tenant's users or keys. */
const LIST_CONCURRENCY = 16;
/** Transactions one reservation may send when the micro-dollars of before on its items were not as it assumed (see DynamoDbStore). */
const RESERVE_ATTEMPTS = 4;
/** Transactions one settle may send when its tags' month registry changed under it (see DynamoDbStore.settle). */
const TAG_ATTEMPTS = 4;
/** Items whose micro-dollars of before a store remembers (see DynamoDbStore); past it the memory starts again (one more refusal and read per item). */
const LEGACY_ITEMS = 10_000;
/**
 * Usage table item ids. All start `rate#<tenant>#` or `usage#<tenant>#` (the tenant-data role's
 * `dynamodb:LeadingKeys` patterns, constructs/tenant-data-access-role.ts; a tenant id holds no `#`).
 * The tenant's own ids continue with a period or window (`2026-11-23`, `2026-11`,
 * `2026-11-23T10:15`: a digit first); a subject's continue with its kind (`user#`, `key#`: a letter
 * first), so no subject id can equal a tenant id; and a subject's id ends in `#<period>`, whose
 * fixed shape (YYYY-MM-DD, YYYY-MM, YYYY-MM-DDTHH:MM) makes (id, period) recoverable from the item id
 * even when the subject's id holds a `#`.
 */
/** A subject id as item ids keep it (stored-subject-id.ts, apart so that the budget alerts' marker ids need no DynamoDB client). */
export { storedSubjectId };

export const usageIds = {
  tenantRate: (tenantId: string, window: string) => `rate#${tenantId}#${window}`,
  tenantUsage: (tenantId: string, period: string) => `usage#${tenantId}#${period}`,
  subjectRate: (tenantId: string, s: Pick<Subject, 'kind' | 'id'>, minute: string) => `rate#${tenantId}#${s.kind}#${storedSubjectId(s.id)}#${minute}`,
  subjectUsage: (tenantId: string, s: Pick<Subject, 'kind' | 'id'>, period: string) => `usage#${tenantId}#${s.kind}#${storedSubjectId(s.id)}#${period}`,
  /** Counts reservations whose subject could not be listed on the month item (its 400 KB limit): its presence marks the listing incomplete. */
  unlisted: (tenantId: string, month: string) => `usage#${tenantId}#unlisted#${month}`,
  /** The usage ledger: one item per tenant, UTC day and model that answered (the model as storedSubjectId keeps an id: itself up to 256 characters). */
  modelDay: (tenantId: string, day: string, model: string) => `usage#${tenantId}#model#${day}#${storedSubjectId(model)}`,
  /** The ledger index's partition (MODEL_USAGE_INDEX): the tenant's month. */
  modelMonth: (tenantId: string, month: string) => `usage#${tenantId}#model#${month}`,
  /** The tag ledger: one item per tenant, UTC day and request tag (request-tags.ts: ASCII letters, digits and `_ . : / = + - @`, no `#`, at most 64). */
  tagDay: (tenantId: string, day: string, tag: string) => `usage#${tenantId}#tag#${day}#${tag}`,
  /** The tag ledger's partition of the ledger index (MODEL_USAGE_INDEX): the tenant's month. */
  tagMonth: (tenantId: string, month: string) => `usage#${tenantId}#tag#${month}`,
  /** The month's tag registry: the string set `tags` of the month's distinct tags (at most MAX_TAGS_PER_MONTH) and `unrecorded`. */
  tagRegistry: (tenantId: string, month: string) => `usage#${tenantId}#tags#${month}`,
};

/**
 * Whether an item of the ledger index's partition `usage#<tenantId>#tag#<month>` is the tenant's own tag item of that
 * month: its table key `id` is exactly the one the settle writes for its `day` and `tag` (usageIds.tagDay), as ownLedgerItem.
 */
export function ownTagItem(item: Record<string, unknown>, tenantId: string, month: string): boolean {
  const { id, day, tag } = item;
  return typeof id === 'string' && typeof day === 'string' && typeof tag === 'string' && day.startsWith(`${month}-`) && id === usageIds.tagDay(tenantId, day, tag);
}

/**
 * Whether an item of the ledger index's partition `usage#<tenantId>#model#<month>` is the tenant's own ledger item of
 * that month: its table key `id` is exactly the one the settle writes for its `day` and `model` (usageIds.modelDay) and
 * its `day` is in `month`. An item whose `ledgerMonth` another tenant's session set to this partition has that tenant's
 * `id` (the tenant-data role writes only `usage#<its tenant>#…` items), so it is not.
 * @param item an item the index's Query answered (the table's key is projected into every index)
 * @param tenantId the tenant whose partition was queried
 * @param month `YYYY-MM`
 */
export function ownLedgerItem(item: Record<string, unknown>, tenantId: string, month: string): boolean {
  const { id, day, model } = item;
  return typeof id === 'string' && typeof day === 'string' && typeof model === 'string' && day.startsWith(`${month}-`) && id === usageIds.modelDay(tenantId, day, model);
}

/** The ledger item's counters, ADDed by every settle with usage (ledgerDelta). */
const LEDGER_COUNTERS = ['requests', 'promptTokens', 'completionTokens', 'costNanos', 'reportedRequests', 'reportedTokens', 'estimatedTokens'] as const;

/** Rate items (`rate#…`) live two days past their window's start (DynamoDB TTL, `expiresAt`). */
const RATE_TTL_SECONDS = 2 * 86400;

/** A tokens-per-minute check of a reservation: the minute item (usageIds.tenantRate / subjectRate), its limit and whose it is. */
interface MinuteCheck { id: string; limit: number; scope: LimitScope }

/** One item's conditions; `legacyMicros`: the `costMicros` its cost condition assumes (undefined: absent). */
interface Check {
  id: string; conditions: string[];
  /** The limits left for the reservation (`:maxTokens`, `:maxCost`), in the order of `budgets`: one below 0 can never fit. */
  values: Record<string, number>; budgets: BudgetExhaustedError[];
  costCondition: boolean; legacyMicros?: number;
  /** More values of the conditions (`:legacyMicros`). */
  extra?: Record<string, number>;
}

/**
 * Registry reads and usage counters in DynamoDB. A reservation is one transaction of conditional
 * ADDs on the tenant's day and month items and the subject's (user's or key's) day and month
 * items, each conditioned on `committed <= limit - n` (committed = used + reserved): it lands whole
 * or not at all, so concurrent Lambdas can never overspend a tenant, a user or a key.
 *
 * Costs: integer nano-dollars (`costNanos`, `heldNanos`; model-usage.ts NANO). Items written before
 * (the month of an upgrade, the days and months before it) count in micro-dollars (`costMicros`,
 * `heldMicros`), which nothing of this version writes: every read adds them in, times 1,000
 * (legacyNanos), and a cost budget's condition counts both. DynamoDB's conditions have no
 * multiplication, so the condition names the old attribute's value: `attribute_not_exists(costMicros)`
 * first, and, on an item that has it (refused, read), `costMicros = m AND costNanos <= limit - c - 1000 m`;
 * the store remembers `m` per item (only the reclaim of a reservation made before, and a router of the
 * version before still running during the deployment, change it: one more refusal and read). A
 * reservation that what is left beside the remembered `m` cannot fit reads the item before it is
 * refused (a reclaim may have lowered `m`).
 * A condition naming `m` exactly is what makes it safe: whatever wrote `costMicros` since, the
 * transaction is refused rather than admitted against a stale sum.
 * A month of an upgrade thus costs one refused transaction and one read per budgeted month item and
 * router Lambda; later months' items have no `costMicros`.
 *
 * Tokens per minute (BudgetLimits.minuteTokens, a subject's `tokensPerMinute`): the reservation's transaction also ADDs
 * the tokens to the tenant's or subject's minute item of the rate check (`rate#<tenant>#<minute>`,
 * `rate#<tenant>#<kind>#<id>#<minute>`, attribute `tokens`, beside `count`), conditioned on `tokens <= limit - n`, after
 * the budgets' items (a refusal there is read and named as a TokenRateLimitError); the settle ADDs the difference to the
 * same items, so the minute counts the real usage. A reservation larger than a whole minute's limit is refused unsent.
 *
 * Attribution: the subject's items count its tokens, cost (nano-dollars) and requests whether it
 * has limits or not, and the tenant's month item keeps a string set `subjects` of `user#<id>` and
 * `key#<id>` entries (ADDed in the same transaction), so `usageBy` lists them without a Scan. The
 * set grows with the distinct users and keys of a month: about 8,000 at ~45 bytes an entry before
 * the month item reaches DynamoDB's 400 KB item size. Past that DynamoDB refuses the transaction;
 * it is sent again without the set (limits stay exact: nothing of the refused one was written),
 * counting the reservation on `usage#<tenant>#unlisted#<month>`, and listings say `incomplete`.
 *
 * The usage ledger (`modelUsage`): one item per tenant, UTC day and answering model
 * (usageIds.modelDay), ADDed by each settle with usage, carrying the keys of the sparse
 * `model-usage` index (MODEL_USAGE_INDEX) so a tenant's month is one Query.
 *
 * Usage by request tag (`tagUsage`): one item per tenant, UTC day and tag (usageIds.tagDay) on the same index under the
 * partition `usage#<tenant>#tag#<month>`, and a month registry (usageIds.tagRegistry) whose string set `tags` a
 * condition holds to MAX_TAGS_PER_MONTH, both ADDed in the settle's transaction (see `settle`).
 *
 * Every call acts for one tenant with that tenant's client (`docFor(tenantId)`): in the Lambdas, a
 * session of the tenant-data role tagged with the tenant, which reaches only that tenant's items
 * (registry `tenantId`, usage `rate#<tenant>#…` and `usage#<tenant>#…`).
 */
export class DynamoDbStore implements GatewayStore {
  /** The `costMicros` (micro-dollars of before) last read on budgeted items, by item id (see the class). */
  private readonly legacyMicros = new Map<string, number>();

  constructor(private readonly registryTable: string, private readonly usageTable: string, private readonly docFor: TenantDocumentClient) {}

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    // An id no tenant can have (from a verified token all the same) names no item: no session is asked for it.
    if (!isTenantId(tenantId)) return undefined;
    const doc = await this.docFor(tenantId);
    const out = await doc.send(new GetCommand({ TableName: this.registryTable, Key: { tenantId } }));
    return out.Item ? TenantRecord.parse(out.Item) : undefined;
  }

  async countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date, subject?: Subject): Promise<CountResult> {
    const w = windows(now);
    const items: Array<{ window: 'minute' | 'hour' | 'day'; id: string; limit: number; scope: LimitScope }> = (['minute', 'hour', 'day'] as const)
      .map((window) => ({ window, id: usageIds.tenantRate(tenantId, w[window]), limit: limits[window], scope: 'tenant' as const }));
    const rpm = subject?.limits?.requestsPerMinute;
    if (rpm !== undefined) items.push({ window: 'minute', id: usageIds.subjectRate(tenantId, subject!, w.minute), limit: rpm, scope: subject!.kind });
    const ttl = Math.floor(now.getTime() / 1000) + RATE_TTL_SECONDS;
    const doc = await this.docFor(tenantId);
    try {
      await sendTransaction(doc, new TransactWriteCommand({
        TransactItems: items.map((i) => ({
          Update: {
            TableName: this.usageTable, Key: { id: i.id },
            UpdateExpression: 'ADD #c :one SET expiresAt = if_not_exists(expiresAt, :ttl)',
            ConditionExpression: 'attribute_not_exists(#c) OR #c < :limit',
            ExpressionAttributeNames: { '#c': 'count' },
            ExpressionAttributeValues: { ':one': 1, ':limit': i.limit, ':ttl': ttl },
          },
        })),
      }));
      return { ok: true };
    } catch (e) {
      const failed = this.failedIndex(e);
      if (failed === undefined) throw e;
      const { window, limit, scope } = items[failed];
      return { ok: false, window, limit, scope };
    }
  }

  async reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date, subject?: Subject, minuteTokens = tokens): Promise<Reservation> {
    const { day, month } = periods(now);
    const cost = toNanos(costUsd);
    const doc = await this.docFor(tenantId);
    const listed = subject && new Set([`${subject.kind}#${storedSubjectId(subject.id)}`]);
    /** The `costMicros` this reservation read of an item (undefined: absent), by item id: what it read it does not read again. */
    const readNow = new Map<string, number | undefined>();
    /** Reads the item (strongly consistent) and notes its `costMicros` as this reservation read it. */
    const readItem = async (id: string) => {
      const item = await this.read(doc, id);
      const legacy = item?.costMicros === undefined ? undefined : Number(item.costMicros);
      readNow.set(id, legacy);
      return { item, legacy };
    };
    // Tokens per minute: the tenant's and the subject's minute items of countRequest (`rate#…#<minute>`), their `tokens`.
    const minute = windows(now).minute;
    const tpm: MinuteCheck[] = minuteTokenLimits(limits, subject).map(({ limit, scope }) => ({
      id: scope === 'tenant' ? usageIds.tenantRate(tenantId, minute) : usageIds.subjectRate(tenantId, subject!, minute), limit, scope,
    }));
    const mt = minuteTokens;
    const onMinute = tpm.length ? { minuteTokens: { minute, tenant: tpm.some((t) => t.scope === 'tenant'), subject: tpm.some((t) => t.scope !== 'tenant'), tokens: mt } } : {};
    // 0 tokens (a moderation, an image) are not checked on a minute a settle took past its limit: no minute item is sent.
    const checked = mt > 0 ? tpm : [];
    const ttl = Math.floor(now.getTime() / 1000) + RATE_TTL_SECONDS;
    attempts: for (let attempt = 1; ; attempt++) {
      const checks: Check[] = [
        this.budgetCheck(usageIds.tenantUsage(tenantId, day), limits.dayTokens, undefined, undefined, tokens, cost, 'tenant'),
        this.budgetCheck(usageIds.tenantUsage(tenantId, month), undefined, limits.monthTokens, limits.monthCostUsd, tokens, cost, 'tenant'),
      ];
      if (subject) {
        checks.push(
          this.budgetCheck(usageIds.subjectUsage(tenantId, subject, day), subject.limits?.tokensPerDay, undefined, undefined, tokens, cost, subject.kind),
          this.budgetCheck(usageIds.subjectUsage(tenantId, subject, month), undefined, undefined, subject.limits?.monthlyCostUsd, tokens, cost, subject.kind),
        );
      }
      // A reservation larger than the whole budget (what is left of it beside the micro-dollars of before) can never fit.
      for (const c of checks) {
        const over = Object.values(c.values).findIndex((v) => v < 0);
        if (over < 0) continue;
        // What is left counts the micro-dollars of before as remembered, which a reclaim may have lowered since: read
        // them before refusing (else a stale value refuses every reservation of the month, never sent to be corrected),
        // unless this reservation has just read that value (an earlier attempt's refusal or look).
        const fresh = readNow.has(c.id) && readNow.get(c.id) === c.legacyMicros;
        if (c.budgets[over].budget === 'monthly cost budget' && c.legacyMicros !== undefined && attempt < RESERVE_ATTEMPTS && !fresh) {
          const { legacy } = await readItem(c.id);
          if (legacy !== c.legacyMicros) {
            this.rememberLegacy(c.id, legacy);
            continue attempts;
          }
        }
        throw c.budgets[over];
      }
      // A reservation larger than a whole minute's limit can never fit: refused unsent, as a budget's.
      const tooLarge = tpm.find((t) => mt > t.limit);
      if (tooLarge) throw new TokenRateLimitError(tooLarge.limit, 0, mt, tooLarge.scope);
      try {
        await this.sendReservation(doc, tenantId, month, checks, tokens, cost, listed, checked, ttl, mt);
        return subject ? { tenantId, subject: { kind: subject.kind, id: subject.id }, day, month, tokens, costUsd, ...onMinute } : { tenantId, day, month, tokens, costUsd, ...onMinute };
      } catch (e) {
        const failed = this.failedIndex(e);
        if (failed !== undefined && failed >= checks.length && failed < checks.length + checked.length) {
          // The minute's tokens as read after the refusal (the limit it names: a settle may have lowered them since).
          const t = checked[failed - checks.length];
          const item = await this.read(doc, t.id);
          throw new TokenRateLimitError(t.limit, Number(item?.tokens ?? 0), mt, t.scope);
        }
        if (failed === undefined || failed >= checks.length) throw e;
        const check = checks[failed];
        const { item, legacy } = await readItem(check.id);
        // Refused for the micro-dollars of before, not for the budget: again, with the value read.
        if (check.costCondition && legacy !== check.legacyMicros) {
          this.rememberLegacy(check.id, legacy);
          if (attempt < RESERVE_ATTEMPTS) continue;
          // Still changing after RESERVE_ATTEMPTS: a budget only when the item read is over one, else the refusal as it is.
          const over = overBudget(check, item, tokens, cost);
          if (!over) throw e;
          throw over;
        }
        throw whichBudget(check, item, tokens, cost);
      }
    }
  }

  /**
   * One TransactWriteItems of unconditional ADDs: the correction and the release of what the
   * reservation held on each of its items (the tenant's day and month, the subject's day and
   * month), and with `usage` the request's ADD to its ledger item (usageIds.modelDay), which it
   * creates with the index's keys.
   *
   * Why a transaction: a settle must count once. The SDK sends a request again after a timeout or a
   * dropped connection (transient errors, up to `maxAttempts` = 3), and the first try may have been
   * applied: plain UpdateItem ADDs were then applied twice (the ledger and the budgets counted the
   * request twice, or released its hold twice). TransactWriteItems carries a `ClientRequestToken`,
   * which the SDK fills in (a random UUID, the member's `idempotencyToken` trait) when it serializes
   * the command, once per `send`, before its retry middleware: every retry of that `send` carries
   * the same token, and DynamoDB applies a token once (for 10 minutes after the first request that
   * used it completes; a retry meets the first one's outcome, or TransactionInProgressException
   * while that one still runs, which the SDK retries as throttling).
   * Source: DynamoDB API reference, TransactWriteItems, ClientRequestToken; the SDK's own code
   * (@aws-sdk/core's JSON serializer generates the token; @smithy/core's retry middleware resends
   * the serialized request). test/integration/settle-retry.test.ts shows it with a first try that
   * landed and whose answer was lost.
   * A transaction DynamoDB cancelled for conflicts (a reservation or the reclaim in flight on one of
   * its items) wrote nothing and is sent again with a new token (sendTransaction).
   *
   * Cost: a transactional write costs 2 write units per KB of each item where an UpdateItem costs 1.
   * Before: 4 UpdateItems (2 without a subject) and 1 more with usage, at least 1 WCU each: 5 WCU a
   * request (3 without a subject) for items under 1 KB; after: 10 (6). The tenant's month item with
   * a long `subjects` set (up to 400 KB) costs per KB: twice as much per settle as before.
   * Rate counters (countRequest) and reservations were transactions already, and so count once
   * under a retry too.
   *
   * A settle with usage whose reservation has tags (the pipeline's, x-tessera-tags) also holds, in the same transaction,
   * the month's tag registry (usageIds.tagRegistry: ADD the tags to its `tags` set, conditioned so that the set never
   * passes MAX_TAGS_PER_MONTH) and each recorded tag's day item (usageIds.tagDay: ADD tokens, cost, 1 request; SET the
   * ledger index's keys). Sent first as if there were room for every tag or all were known; refused at the registry (a
   * month near or at its limit), the registry is read (consistently) and the transaction sent again with the tags
   * tagsToRecord keeps, conditioned on the set's size as read, and `unrecorded` + 1 when one was left out; up to
   * TAG_ATTEMPTS times. Cost: 2 write units per KB more for the registry and for each tag's item (a request with two
   * tags: 3 items more).
   */
  async settle(r: Reservation, tokens: number, costUsd: number, usage?: SettledUsage): Promise<void> {
    const reserved = toNanos(r.costUsd);
    // The correction, and the reservation no longer held (UsageSummary.held: budget alerts judge settled usage).
    const delta = { ':t': tokens - r.tokens, ':c': toNanos(costUsd) - reserved, ':ht': -r.tokens, ':hc': -reserved };
    const ids = [usageIds.tenantUsage(r.tenantId, r.day), usageIds.tenantUsage(r.tenantId, r.month)];
    if (r.subject) ids.push(usageIds.subjectUsage(r.tenantId, r.subject, r.day), usageIds.subjectUsage(r.tenantId, r.subject, r.month));
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = ids.map((id) => ({ Update: { TableName: this.usageTable, Key: { id }, UpdateExpression: 'ADD tokens :t, costNanos :c, heldTokens :ht, heldNanos :hc', ExpressionAttributeValues: delta } }));
    // The tokens-per-minute counters of the reservation's minute: corrected to the real usage, unconditionally, while that
    // minute lasts; once it ended, what the request used beyond what it counted there is added to the current minute's
    // items (a stream admitted at 59.9 s is not free of the minute it ends in), and nothing is given back to a past one.
    // An item's expiry is set when the settle is the first to write it, as after its TTL.
    const m = r.minuteTokens;
    const onMinute = m && tokens - (m.tokens ?? r.tokens);
    const current = windows(new Date()).minute;
    const minute = m && (m.minute === current ? m.minute : onMinute! > 0 ? current : undefined);
    const minuteIds = m && minute ? [...(m.tenant ? [usageIds.tenantRate(r.tenantId, minute)] : []), ...(m.subject && r.subject ? [usageIds.subjectRate(r.tenantId, r.subject, minute)] : [])] : [];
    const ttl = minute && Math.floor(Date.parse(`${minute}:00Z`) / 1000) + RATE_TTL_SECONDS;
    for (const id of minuteIds) {
      items.push({ Update: { TableName: this.usageTable, Key: { id }, UpdateExpression: 'ADD tokens :t SET expiresAt = if_not_exists(expiresAt, :ttl)', ExpressionAttributeValues: { ':t': onMinute, ':ttl': ttl } } });
    }
    if (usage) items.push({ Update: this.ledgerUpdate(r, usage, costUsd) });
    const doc = await this.docFor(r.tenantId);
    const tags = usage ? r.tags ?? [] : [];
    if (!tags.length) return void await sendTransaction(doc, new TransactWriteCommand({ TransactItems: items }));
    // First as if every tag were known or there were room for all (the condition holds, and nothing was read: the usual
    // case); refused at the registry, the registry is read and the tags that fit are sent, under a condition on its size.
    const registry = usageIds.tagRegistry(r.tenantId, r.month);
    let plan: { recorded: string[]; added: string[]; dropped: boolean; known?: number } = { recorded: [...tags], added: [...tags], dropped: false };
    for (let attempt = 1; ; attempt++) {
      const writes = [...items, { Update: this.tagRegistryUpdate(registry, tags, plan) }, ...plan.recorded.map((tag) => ({ Update: this.tagUpdate(r, tag, tokens, costUsd) }))];
      try {
        return void await sendTransaction(doc, new TransactWriteCommand({ TransactItems: writes }));
      } catch (e) {
        if (this.failedIndex(e) !== items.length || attempt >= TAG_ATTEMPTS) throw e;
      }
      const set = (await this.read(doc, registry))?.tags as Set<string> | undefined;
      plan = { ...tagsToRecord(tags, (t) => set?.has(t) ?? false, set?.size ?? 0), known: set?.size ?? 0 };
    }
  }

  /**
   * The month's tag registry update of a settle (a transaction's Update): ADD the tags new to it (`plan.added`) to its
   * `tags` set and, when one was left out, 1 to `unrecorded`. Conditions: on the first attempt (no `plan.known`), that
   * the set can take every tag of the request or has them all; after a read, that the set's size is still the one read
   * (the tags new then are new now: a tag never leaves the set).
   */
  private tagRegistryUpdate(id: string, tags: readonly string[], plan: { added: string[]; dropped: boolean; known?: number }) {
    const names: Record<string, string> = { '#tags': 'tags' };
    const values: Record<string, unknown> = {};
    const adds: string[] = [];
    if (plan.added.length) (adds.push('#tags :added'), (values[':added'] = new Set(plan.added)));
    if (plan.dropped) (adds.push('#u :one'), (names['#u'] = 'unrecorded'), (values[':one'] = 1));
    let condition: string;
    if (plan.known === undefined) {
      values[':room'] = MAX_TAGS_PER_MONTH - tags.length;
      tags.forEach((t, k) => (values[`:t${k}`] = t));
      condition = `attribute_not_exists(#tags) OR size(#tags) <= :room OR (${tags.map((_, k) => `contains(#tags, :t${k})`).join(' AND ')})`;
    } else if (plan.known === 0) {
      condition = 'attribute_not_exists(#tags)';
    } else {
      values[':known'] = plan.known;
      condition = 'size(#tags) = :known';
    }
    // Nothing to ADD (every tag known): the condition alone, on an item that SETs nothing new.
    const update = adds.length ? `ADD ${adds.join(', ')}` : 'SET #tags = #tags';
    return { TableName: this.usageTable, Key: { id }, UpdateExpression: update, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: Object.keys(values).length ? values : undefined };
  }

  /** A tag's day item update (a transaction's Update): ADD the request's tokens, cost and 1 request; SET its day, tag and the ledger index's keys. */
  private tagUpdate(r: Reservation, tag: string, tokens: number, costUsd: number) {
    return {
      TableName: this.usageTable, Key: { id: usageIds.tagDay(r.tenantId, r.day, tag) },
      UpdateExpression: 'ADD tokens :t, costNanos :c, requests :one SET #day = :day, #tag = :tag, #pk = :pk, #sk = :sk',
      ExpressionAttributeNames: { '#day': 'day', '#tag': 'tag', '#pk': MODEL_USAGE_INDEX.partitionKey, '#sk': MODEL_USAGE_INDEX.sortKey },
      ExpressionAttributeValues: { ':t': tokens, ':c': toNanos(costUsd), ':one': 1, ':day': r.day, ':tag': tag, ':pk': usageIds.tagMonth(r.tenantId, r.month), ':sk': `${r.day}#${tag}` },
    };
  }

  /**
   * The tenant's tags of the month of `now` (their day items through the ledger index's partition
   * `usage#<tenant>#tag#<month>`, one Query, pages followed: eventually consistent, as modelUsage) and the month
   * registry's `unrecorded` (a consistent GetItem). Only the tenant's own items count (ownTagItem).
   */
  async tagUsage(tenantId: string, now: Date): Promise<TagUsageList> {
    const { day, month } = periods(now);
    const doc = await this.docFor(tenantId);
    const byTagName = new Map<string, { tag: string; day: { tokens: number; costUsd: number; requests: number }; month: { tokens: number; costUsd: number; requests: number }; nanos: { day: number; month: number } }>();
    const calls = paginateQuery(pages(doc), {
      TableName: this.usageTable, IndexName: MODEL_USAGE_INDEX.name, KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': MODEL_USAGE_INDEX.partitionKey }, ExpressionAttributeValues: { ':pk': usageIds.tagMonth(tenantId, month) },
    });
    const registry = this.read(doc, usageIds.tagRegistry(tenantId, month));
    // Read beside the Query and awaited after it: a Query that fails first must not leave this read's failure unhandled.
    registry.catch(() => undefined);
    for await (const out of untilKeyRepeats(calls, (page) => page.LastEvaluatedKey)) {
      for (const item of out.Items ?? []) {
        if (!ownTagItem(item, tenantId, month)) continue;
        const tag = String(item.tag);
        let t = byTagName.get(tag);
        if (!t) byTagName.set(tag, (t = { tag, day: { tokens: 0, costUsd: 0, requests: 0 }, month: { tokens: 0, costUsd: 0, requests: 0 }, nanos: { day: 0, month: 0 } }));
        const tokens = Number(item.tokens ?? 0);
        const nanos = Number(item.costNanos ?? 0);
        const requests = Number(item.requests ?? 0);
        for (const p of item.day === day ? (['day', 'month'] as const) : (['month'] as const)) {
          t[p].tokens += tokens;
          t[p].requests += requests;
          t.nanos[p] += nanos;
        }
      }
    }
    const tags = [...byTagName.values()].map((t) => ({ tag: t.tag, day: { ...t.day, costUsd: fromNanos(t.nanos.day) }, month: { ...t.month, costUsd: fromNanos(t.nanos.month) } }));
    return { tags: tags.sort(byTag), unrecorded: Number((await registry)?.unrecorded ?? 0) };
  }

  /** The ledger item's update (a transaction's Update): ADD the request's counters, SET its day, model and index keys. */
  private ledgerUpdate(r: Reservation, usage: SettledUsage, costUsd: number) {
    const d = ledgerDelta(usage, costUsd);
    const names: Record<string, string> = { '#day': 'day', '#model': 'model', '#pk': MODEL_USAGE_INDEX.partitionKey, '#sk': MODEL_USAGE_INDEX.sortKey };
    const values: Record<string, unknown> = {
      ':day': r.day, ':model': usage.model, ':pk': usageIds.modelMonth(r.tenantId, r.month), ':sk': `${r.day}#${storedSubjectId(usage.model)}`,
    };
    // The cache counters are ADDed only when the request has some: an item of a model without cache tokens keeps its attributes of before.
    const counters = [...LEDGER_COUNTERS, ...CACHE_COUNTERS.filter((k) => d[k] > 0)];
    counters.forEach((k, i) => ((names[`#n${i}`] = k), (values[`:n${i}`] = d[k])));
    return {
      TableName: this.usageTable, Key: { id: usageIds.modelDay(r.tenantId, r.day, usage.model) },
      UpdateExpression: `ADD ${counters.map((_, i) => `#n${i} :n${i}`).join(', ')} SET #day = :day, #model = :model, #pk = :pk, #sk = :sk`,
      ExpressionAttributeNames: names, ExpressionAttributeValues: values,
    };
  }

  /**
   * One Query of the ledger index's partition for the tenant's month, pages followed. The index is
   * eventually consistent (DynamoDB offers no consistent read on a global secondary index): a
   * settle of the last second may not be in it yet. Needs `dynamodb:Query` on the index: the admin
   * API's role has it (constructs/admin-api.ts), and a tenant-data session for its own tenant's
   * partitions only (`UsageOwnLedger`, constructs/tenant-data-access-role.ts: `GET /v1/usage`).
   *
   * Only the tenant's own ledger items of that month count (ownLedgerItem): an item is in the index's partition by the
   * value of its `ledgerMonth` attribute, which whoever writes the item sets, and IAM can hold a writer to its own items
   * (`dynamodb:LeadingKeys`, the table's key) but not to an attribute's value. A tenant-data session of tenant A may
   * UpdateItem its own `usage#A#model#…` item with `ledgerMonth` = `usage#B#model#<month>`, which puts that item in B's
   * partition of the index: read as B's, it would add A's numbers to B's usage and to B's statement (the statements
   * Lambda reads the ledger through this method). The table's key `id` is in every index item (DynamoDB projects the
   * table's keys into each index) and no session can write another tenant's `id`, so it decides.
   * @throws RangeError naming `month` when it is not `YYYY-MM`
   */
  async modelUsage(tenantId: string, month: string): Promise<ModelDayUsage[]> {
    checkMonth(month);
    const doc = await this.docFor(tenantId);
    const rows: ModelDayUsage[] = [];
    const calls = paginateQuery(pages(doc), {
      TableName: this.usageTable, IndexName: MODEL_USAGE_INDEX.name, KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': MODEL_USAGE_INDEX.partitionKey }, ExpressionAttributeValues: { ':pk': usageIds.modelMonth(tenantId, month) },
    });
    for await (const out of untilKeyRepeats(calls, (page) => page.LastEvaluatedKey)) {
      for (const item of out.Items ?? []) {
        if (!ownLedgerItem(item, tenantId, month)) continue;
        const n = (k: string) => Number(item[k] ?? 0);
        rows.push(withCacheCounters({
          day: String(item.day), model: String(item.model), requests: n('requests'), promptTokens: n('promptTokens'), completionTokens: n('completionTokens'),
          costUsd: fromNanos(legacyNanos(item, 'costNanos', 'costMicros')), reportedRequests: n('reportedRequests'), reportedTokens: n('reportedTokens'), estimatedTokens: n('estimatedTokens'),
        }, { cachedTokens: n('cachedTokens'), cacheWriteTokens: n('cacheWriteTokens') }));
      }
    }
    return rows.sort(byDayThenModel);
  }

  /** One consistent GetItem of the minute's rate item (`rate#<tenant>#<minute>`, or the subject's): its `tokens`. */
  async minuteTokens(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<number> {
    const minute = windows(now).minute;
    const doc = await this.docFor(tenantId);
    const item = await this.read(doc, subject ? usageIds.subjectRate(tenantId, subject, minute) : usageIds.tenantRate(tenantId, minute));
    return Number(item?.tokens ?? 0);
  }

  async usage(tenantId: string, now: Date, subject?: Pick<Subject, 'kind' | 'id'>): Promise<UsageSummary> {
    const { day, month } = periods(now);
    const doc = await this.docFor(tenantId);
    const id = (period: string) => (subject ? usageIds.subjectUsage(tenantId, subject, period) : usageIds.tenantUsage(tenantId, period));
    const [d, m] = await Promise.all([this.read(doc, id(day)), this.read(doc, id(month))]);
    return { day: counters(d), month: counters(m), held: { day: held(d), month: held(m) } };
  }

  async usageBy(tenantId: string, now: Date, kind: Subject['kind']): Promise<SubjectUsageList> {
    const { day, month } = periods(now);
    const doc = await this.docFor(tenantId);
    const [monthItem, unlisted] = await Promise.all([this.read(doc, usageIds.tenantUsage(tenantId, month)), this.read(doc, usageIds.unlisted(tenantId, month))]);
    const prefix = `${kind}#`;
    const ids = [...((monthItem?.subjects as Set<string> | undefined) ?? [])].filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
    const subjects: SubjectUsage[] = [];
    for (let i = 0; i < ids.length; i += LIST_CONCURRENCY / 2) {
      subjects.push(...await Promise.all(ids.slice(i, i + LIST_CONCURRENCY / 2).map(async (id) => {
        const [d, m] = await Promise.all([this.read(doc, usageIds.subjectUsage(tenantId, { kind, id }, day)), this.read(doc, usageIds.subjectUsage(tenantId, { kind, id }, month))]);
        return { kind, id, day: counters(d), month: counters(m) };
      })));
    }
    return { subjects: subjects.sort(byId), incomplete: unlisted !== undefined };
  }

  /**
   * The reservation's transaction: each check's ADDs under its conditions; the month item also ADDs `listed` to its
   * `subjects` set; each minute item of `tpm` ADDs `minuteTokens` under `tokens <= limit - minuteTokens`.
   */
  private reservation(checks: Check[], tokens: number, cost: number, listed?: Set<string>, unlistedId?: string, tpm: MinuteCheck[] = [], ttl = 0, minuteTokens = tokens): TransactWriteCommand {
    const items = checks.map((c, i) => ({
      Update: {
        TableName: this.usageTable, Key: { id: c.id },
        UpdateExpression: `ADD tokens :t, costNanos :c, requests :one, heldTokens :t, heldNanos :c${i === 1 && listed ? ', subjects :s' : ''}`,
        ConditionExpression: c.conditions.length ? c.conditions.join(' AND ') : undefined,
        ExpressionAttributeValues: { ':t': tokens, ':c': cost, ':one': 1, ...(i === 1 && listed ? { ':s': listed } : {}), ...c.values, ...c.extra },
      },
    }));
    // The minute items' `tokens` within each limit: `tokens <= limit - n` (ADDed only when the whole transaction lands).
    items.push(...tpm.map((t) => ({
      Update: {
        TableName: this.usageTable, Key: { id: t.id },
        UpdateExpression: 'ADD tokens :t SET expiresAt = if_not_exists(expiresAt, :ttl)',
        ConditionExpression: 'attribute_not_exists(tokens) OR tokens <= :maxTokens',
        ExpressionAttributeValues: { ':t': minuteTokens, ':maxTokens': t.limit - minuteTokens, ':ttl': ttl } as never,
      },
    })));
    if (unlistedId) items.push({ Update: { TableName: this.usageTable, Key: { id: unlistedId }, UpdateExpression: 'ADD requests :one', ConditionExpression: undefined, ExpressionAttributeValues: { ':one': 1 } as never } });
    return new TransactWriteCommand({ TransactItems: items });
  }

  /**
   * Sends the reservation; when the month item's `subjects` set is full (400 KB), the same
   * reservation again without it, counted as unlisted (`usage#<tenant>#unlisted#<month>`).
   */
  private async sendReservation(doc: DynamoDBDocumentClient, tenantId: string, month: string, checks: Check[], tokens: number, cost: number, listed: Set<string> | undefined, tpm: MinuteCheck[], ttl: number, minuteTokens: number): Promise<void> {
    try {
      await sendTransaction(doc, this.reservation(checks, tokens, cost, listed, undefined, tpm, ttl, minuteTokens));
    } catch (e) {
      if (!listed || !tooLarge(e)) throw e;
      await sendTransaction(doc, this.reservation(checks, tokens, cost, undefined, usageIds.unlisted(tenantId, month), tpm, ttl, minuteTokens));
    }
  }

  /** Remembers an item's `costMicros` as read (undefined: absent), for the next reservation's condition. */
  private rememberLegacy(id: string, micros: number | undefined): void {
    if (micros === undefined) {
      this.legacyMicros.delete(id);
      return;
    }
    if (this.legacyMicros.size >= LEGACY_ITEMS) this.legacyMicros.clear();
    this.legacyMicros.set(id, micros);
  }

  /**
   * An item's conditions: tokens within `dayTokens` or `monthTokens`, cost within `monthCostUsd`,
   * for a reservation of `tokens` and `cost` nano-dollars. The cost condition counts the item's
   * `costMicros` of before as last read (none: it must be absent), see the class.
   */
  private budgetCheck(id: string, dayTokens: number | undefined, monthTokens: number | undefined, monthCostUsd: number | undefined, tokens: number, cost: number, scope: LimitScope): Check {
    const c: Check = { id, conditions: [], values: {}, budgets: [], costCondition: monthCostUsd !== undefined };
    const tokenLimit = dayTokens ?? monthTokens;
    if (tokenLimit !== undefined) {
      c.conditions.push('(attribute_not_exists(tokens) OR tokens <= :maxTokens)');
      c.values[':maxTokens'] = tokenLimit - tokens;
      c.budgets.push(new BudgetExhaustedError(dayTokens !== undefined ? 'daily token budget' : 'monthly token budget', tokenLimit, scope));
    }
    if (monthCostUsd !== undefined) {
      const legacy = this.legacyMicros.get(id);
      c.legacyMicros = legacy;
      c.conditions.push(legacy === undefined ? 'attribute_not_exists(costMicros)' : 'costMicros = :legacyMicros');
      c.conditions.push('(attribute_not_exists(costNanos) OR costNanos <= :maxCost)');
      // A budget past 2^53 nano-dollars (USD 9,007,199; refused where budgets are written since, MAX_COST_BUDGET_USD,
      // but a record of before may hold one) counts as that much: the SDK refuses to send a larger number.
      c.values[':maxCost'] = Math.min(toNanos(monthCostUsd), Number.MAX_SAFE_INTEGER) - cost - (legacy ?? 0) * NANOS_PER_MICRO;
      c.budgets.push(new BudgetExhaustedError('monthly cost budget', monthCostUsd, scope));
      if (legacy !== undefined) c.extra = { ':legacyMicros': legacy };
    }
    return c;
  }

  private async read(doc: DynamoDBDocumentClient, id: string): Promise<Record<string, unknown> | undefined> {
    return (await doc.send(new GetCommand({ TableName: this.usageTable, Key: { id }, ConsistentRead: true }))).Item;
  }

  private failedIndex(e: unknown): number | undefined {
    if (e instanceof TransactionCanceledException) {
      const i = (e.CancellationReasons ?? []).findIndex((r) => r.Code === 'ConditionalCheckFailed');
      return i >= 0 ? i : undefined;
    }
    if (e instanceof ConditionalCheckFailedException) return 0;
    return undefined;
  }

}

/** The first of the item's budgets the reservation would break, the item as read after the refusal (undefined: none). */
function overBudget(check: Check, item: Record<string, unknown> | undefined, tokens: number, cost: number): BudgetExhaustedError | undefined {
  for (const b of check.budgets) {
    const used = b.budget === 'monthly cost budget' ? legacyNanos(item, 'costNanos', 'costMicros') + cost : Number(item?.tokens ?? 0) + tokens;
    const limit = b.budget === 'monthly cost budget' ? toNanos(b.limit) : b.limit;
    if (used > limit) return b;
  }
  return undefined;
}

/** Which of the item's budgets the reservation would break (the item as read after the refusal; the first when none: a settle lowered it since). */
const whichBudget = (check: Check, item: Record<string, unknown> | undefined, tokens: number, cost: number): BudgetExhaustedError =>
  overBudget(check, item, tokens, cost) ?? check.budgets[0];

/**
 * What reservations not yet settled hold of an item (none below 0: an item of reservations made
 * before `heldTokens` was kept, settled after, goes below it).
 */
const held = (item: Record<string, unknown> | undefined) => ({ tokens: Math.max(0, Number(item?.heldTokens ?? 0)), costUsd: fromNanos(Math.max(0, legacyNanos(item, 'heldNanos', 'heldMicros'))) });

const counters = (item: Record<string, unknown> | undefined) => ({ tokens: Number(item?.tokens ?? 0), costUsd: fromNanos(legacyNanos(item, 'costNanos', 'costMicros')), requests: Number(item?.requests ?? 0) });

/** DynamoDB refused the write because an item would pass 400 KB (the tenant's month item and its `subjects` set). */
function tooLarge(e: unknown): boolean {
  if (e instanceof TransactionCanceledException) return (e.CancellationReasons ?? []).some((r) => r.Code === 'ValidationError' && /size/i.test(r.Message ?? ''));
  return (e as { name?: string }).name === 'ValidationException' && /item size|maximum allowed size/i.test((e as Error).message);
}
