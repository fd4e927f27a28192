import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { sendTransaction } from '../../shared/transactions.js';
import { usageIds } from '../stores/dynamodb-store.js';
import { NANOS_PER_MICRO } from '../stores/model-usage.js';
import { RECLAIM_READ_ATTRIBUTES } from './environment.js';
import type { Subject } from '../stores/gateway-store.js';

/** BatchGetItem's most keys per call (DynamoDB API reference, BatchGetItem). */
export const BATCH_GET_KEYS = 100;
/** Reads of an item whose release found its held amounts changed (a concurrent run): the last one gives up. */
export const RELEASE_ATTEMPTS = 3;
/** Tenants worked on at once. */
export const TENANT_CONCURRENCY = 8;
/** Rounds of BatchGetItem's UnprocessedKeys (throttling) before a tenant fails; backoff 50 ms doubling. */
const UNPROCESSED_ROUNDS = 6;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** One day item's release: what it held, now released on it and on its month item. */
export interface Release {
  tenantId: string;
  scope: 'tenant' | Subject['kind'];
  /** The day item released (`usage#<tenant>#<day>` or `usage#<tenant>#<kind>#<id>#<day>`). */
  item: string;
  /** Its month item, released by the same amounts in the same transaction. */
  monthItem: string;
  /** Tokens released (what lost reservations held). */
  tokens: number;
  /** Nano-dollars released: `heldNanos`, and `heldMicros` (reservations of before nano-dollars) times 1,000. */
  nanos: number;
}

/** What a day item holds, per attribute: `heldTokens`, `heldNanos` and `heldMicros` (of before nano-dollars), none below 0. */
export interface Held { tokens: number; nanos: number; micros: number }

/** A day item whose held amounts were not released, and why. */
export interface Skipped { tenantId: string; item: string; reason: string }

export interface ReclaimOutcome {
  day: string;
  month: string;
  /** Tenants looked at. */
  tenants: number;
  released: Release[];
  skipped: Skipped[];
  /** Tenants whose month has subjects past its `subjects` set (`usage#<tenant>#unlisted#<month>`): those subjects' day items were not looked at. */
  unlisted: string[];
  failed: Array<{ tenantId: string; error: string }>;
}

export interface ReservationReclaimOptions {
  /** The gateway's usage table. */
  usageTable: string;
  /** The document client for a tenant's items: the same as the gateway store's (DynamoDbStore's `docFor`). */
  docFor: TenantDocumentClient;
  /** Told of each release as it lands (one structured log line per item in the Lambda). @default nothing */
  onRelease?: (release: Release) => void;
  /** Told of each item not released. @default nothing */
  onSkip?: (skipped: Skipped) => void;
  /** @default TENANT_CONCURRENCY */
  tenantConcurrency?: number;
  /** @default RELEASE_ATTEMPTS */
  releaseAttempts?: number;
}

type Item = Record<string, unknown>;

/**
 * Releases what reservations of a past UTC day still hold: the reservations of router Lambdas that
 * died before they settled (docs/gateway.md "Reservations whose Lambda died").
 *
 * A reservation ADDs `n` tokens and `c` nano-dollars to `tokens`, `costNanos`, `heldTokens` and
 * `heldNanos` of the tenant's day and month items and of its user's or key's day and month items
 * (DynamoDbStore.reserve); its settle ADDs `used - n` and `-n` (and the same in nano-dollars). Items
 * of before nano-dollars (an upgrade's day) hold micro-dollars in `costMicros` and `heldMicros`: they
 * are released in their own attributes, in the same transaction. Once
 * the day is over by more than the router's longest invocation, every reservation of it is settled
 * or lost, so what a day item still holds is what lost reservations left, and that month's item holds
 * the same. A release ADDs minus the held amounts to those four attributes of the day item and of its
 * month item, in one TransactWriteItems: the exact inverse of reservations never settled. `requests`
 * stays (the request was admitted, and the provider may have answered it).
 *
 * The day item's condition is that it still holds what was read (a replay, or a run beside this
 * one, releases nothing twice: a failed condition reads the item again, at most `releaseAttempts`
 * times); the month item's, that it holds at least as much (a month item holding less has lost a
 * settle's correction that the day item got, or the reverse: nothing is released and the item is
 * reported skipped, for an operator). Held amounts below 0 (items from before `heldTokens` was kept)
 * are read as 0.
 *
 * Per tenant: its day item first; when it holds nothing, no subject can (every reservation of a
 * subject holds on the tenant's day item too, in the same transaction) and the tenant costs that one
 * read. Otherwise the subjects of the month (the month item's `subjects` set) have their day items
 * read with BatchGetItem, 100 at a time, and are released before the tenant's own (so a run that
 * dies between them leaves the tenant's held amounts for the next run to find). Subjects past the set
 * (`unlisted`, DynamoDbStore.reserve) cannot be listed: their tenant is reported.
 */
export class ReservationReclaim {
  private readonly attempts: number;

  constructor(private readonly options: ReservationReclaimOptions) {
    this.attempts = options.releaseAttempts ?? RELEASE_ATTEMPTS;
  }

  /**
   * Releases `day`'s held amounts of every tenant of `tenantIds`, `tenantConcurrency` tenants at a
   * time. One tenant's failure does not stop the others (it is in `failed`).
   * @param day `YYYY-MM-DD` (UTC), a day over by more than the router's longest invocation (the caller checks)
   * @throws RangeError naming `day` when it is not `YYYY-MM-DD`
   */
  async reclaimDay(tenantIds: readonly string[], day: string): Promise<ReclaimOutcome> {
    if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new RangeError(`day ${JSON.stringify(day)} is not a UTC day (YYYY-MM-DD)`);
    const outcome: ReclaimOutcome = { day, month: day.slice(0, 7), tenants: tenantIds.length, released: [], skipped: [], unlisted: [], failed: [] };
    let next = 0;
    // A few workers taking tenants in turn (a bounded pool in a few lines; no dependency for it).
    const worker = async () => {
      while (next < tenantIds.length) {
        const tenantId = tenantIds[next++]!;
        try {
          await this.reclaimTenant(tenantId, day, outcome);
        } catch (e) {
          outcome.failed.push({ tenantId, error: e instanceof Error ? e.message : String(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.tenantConcurrency ?? TENANT_CONCURRENCY, tenantIds.length) }, worker));
    return outcome;
  }

  private async reclaimTenant(tenantId: string, day: string, outcome: ReclaimOutcome): Promise<void> {
    const month = day.slice(0, 7);
    const doc = await this.options.docFor(tenantId);
    const tenantDay = usageIds.tenantUsage(tenantId, day);
    const tenantItem = await this.read(doc, tenantDay);
    if (!holds(tenantItem)) return;
    const monthId = usageIds.tenantUsage(tenantId, month);
    const unlistedId = usageIds.unlisted(tenantId, month);
    const heads = await this.batchGet(doc, [monthId, unlistedId]);
    if (heads.has(unlistedId)) outcome.unlisted.push(tenantId);
    const subjects = [...((heads.get(monthId)?.subjects as Set<string> | undefined) ?? [])].flatMap((entry): Array<Pick<Subject, 'kind' | 'id'>> => {
      const at = entry.indexOf('#');
      const kind = entry.slice(0, at);
      return kind === 'user' || kind === 'key' ? [{ kind, id: entry.slice(at + 1) }] : [];
    });
    const dayIds = subjects.map((s) => ({ subject: s, day: usageIds.subjectUsage(tenantId, s, day), month: usageIds.subjectUsage(tenantId, s, month) }));
    const items = await this.batchGet(doc, dayIds.map((d) => d.day));
    for (const d of dayIds) {
      const item = items.get(d.day);
      if (holds(item)) await this.release(doc, tenantId, d.subject.kind, d.day, d.month, item!, outcome);
    }
    await this.release(doc, tenantId, 'tenant', tenantDay, monthId, tenantItem!, outcome);
  }

  /** One item's release (see the class), read again after a failed day condition. */
  private async release(doc: DynamoDBDocumentClient, tenantId: string, scope: Release['scope'], dayId: string, monthId: string, read: Item, outcome: ReclaimOutcome): Promise<void> {
    let item: Item | undefined = read;
    for (let attempt = 1; ; attempt++) {
      if (!holds(item)) return;
      const held = heldIn(item!);
      const nanos = held.nanos + held.micros * NANOS_PER_MICRO;
      try {
        await sendTransaction(doc, releaseTransaction(this.options.usageTable, dayId, monthId, item!, held));
        const release: Release = { tenantId, scope, item: dayId, monthItem: monthId, tokens: held.tokens, nanos };
        outcome.released.push(release);
        this.options.onRelease?.(release);
        return;
      } catch (e) {
        const reasons = e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []).map((r) => r.Code) : [];
        if (reasons[1] === 'ConditionalCheckFailed' && reasons[0] !== 'ConditionalCheckFailed') {
          const skipped: Skipped = { tenantId, item: dayId, reason: `${monthId} holds less than ${dayId} (${held.tokens} tokens, ${nanos} nano-dollars): a settle corrected one and not the other; nothing released` };
          outcome.skipped.push(skipped);
          this.options.onSkip?.(skipped);
          return;
        }
        if (reasons[0] !== 'ConditionalCheckFailed') throw e;
        if (attempt >= this.attempts) throw new Error(`${dayId}: its held amounts changed under each of ${this.attempts} releases (another run?); nothing released`);
        item = await this.read(doc, dayId);
      }
    }
  }

  private async read(doc: DynamoDBDocumentClient, id: string): Promise<Item | undefined> {
    const out = await doc.send(new GetCommand({ TableName: this.options.usageTable, Key: { id }, ConsistentRead: true, ...projection() }));
    return out.Item;
  }

  /** The items of `ids` that exist, by id: BatchGetItem of 100 keys at a time, unprocessed keys asked again. */
  private async batchGet(doc: DynamoDBDocumentClient, ids: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const table = this.options.usageTable;
    for (let i = 0; i < ids.length; i += BATCH_GET_KEYS) {
      let keys: Array<Record<string, unknown>> = ids.slice(i, i + BATCH_GET_KEYS).map((id) => ({ id }));
      for (let round = 0; keys.length; round++) {
        if (round >= UNPROCESSED_ROUNDS) throw new Error(`BatchGetItem left ${keys.length} keys of ${table} unprocessed after ${UNPROCESSED_ROUNDS} rounds`);
        if (round) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (round - 1)));
        const out = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ...projection() } } }));
        for (const item of out.Responses?.[table] ?? []) found.set(String(item.id), item);
        keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
    return found;
  }
}

/** What an item's attribute holds: 0 when absent or below 0. */
const heldOf = (value: unknown) => Math.max(0, Number(value ?? 0));
/** What `item` holds, per attribute. */
const heldIn = (item: Item): Held => ({ tokens: heldOf(item.heldTokens), nanos: heldOf(item.heldNanos), micros: heldOf(item.heldMicros) });
const holds = (item: Item | undefined) => item !== undefined && Object.values(heldIn(item)).some((v) => v > 0);

const projection = () => ({
  ProjectionExpression: RECLAIM_READ_ATTRIBUTES.map((_, i) => `#r${i}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(RECLAIM_READ_ATTRIBUTES.map((a, i) => [`#r${i}`, a])),
});

/**
 * The release of what the day item `dayId` (read as `read`) holds, `held`, and of the same on its
 * month item: ADD minus `held.tokens` to `tokens` and `heldTokens`, minus `held.nanos` to `costNanos`
 * and `heldNanos`, and (only when the day item holds some: no attribute of before is created) minus
 * `held.micros` to `costMicros` and `heldMicros`, of both. The day item must still hold what was read
 * (each attribute equal, or absent as read); the month item at least what is released, per attribute.
 */
export function releaseTransaction(table: string, dayId: string, monthId: string, read: Item, held: Held): TransactWriteCommand {
  const attributes = [
    { counter: 'tokens', holder: 'heldTokens', amount: held.tokens, key: 't' },
    { counter: 'costNanos', holder: 'heldNanos', amount: held.nanos, key: 'n' },
    ...(held.micros > 0 ? [{ counter: 'costMicros', holder: 'heldMicros', amount: held.micros, key: 'm' }] : []),
  ];
  const values: Record<string, number> = Object.fromEntries(attributes.map((a) => [`:${a.key}`, 0 - a.amount]));
  const update = `ADD ${attributes.map((a) => `${a.counter} :${a.key}, ${a.holder} :${a.key}`).join(', ')}`;
  const same: string[] = [];
  const dayValues: Record<string, unknown> = {};
  for (const [holder, key] of [['heldTokens', 't'], ['heldNanos', 'n'], ['heldMicros', 'm']] as const) {
    if (read[holder] === undefined) same.push(`attribute_not_exists(${holder})`);
    else (same.push(`${holder} = :r${key}`), (dayValues[`:r${key}`] = read[holder]));
  }
  const atLeast: string[] = [];
  const monthValues: Record<string, number> = {};
  for (const a of attributes) if (a.amount > 0) (atLeast.push(`${a.holder} >= :h${a.key}`), (monthValues[`:h${a.key}`] = a.amount));
  return new TransactWriteCommand({
    TransactItems: [
      { Update: { TableName: table, Key: { id: dayId }, UpdateExpression: update, ConditionExpression: same.join(' AND '), ExpressionAttributeValues: { ...values, ...dayValues } } },
      { Update: { TableName: table, Key: { id: monthId }, UpdateExpression: update, ConditionExpression: atLeast.join(' AND '), ExpressionAttributeValues: { ...values, ...monthValues } } },
    ],
  });
}
