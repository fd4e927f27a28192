import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pagesOf } from '../../lib/aws-pages.js';
import { describeIssues } from '../../lib/zod-issues.js';
import { GATEWAY_POLICY_ENTRIES, HISTORY_ENTRIES, isLifecycleEntry, TenantRecord, type LifecycleExecution, type TenantStatus } from '../../lib/tenant-record.js';
import { withChangesBounded } from '../../lib/change-digest.js';
import type { UnreadableTenant } from '../../lib/tenant-list-page.js';
import { DROP_UNDEFINED, platformDocumentClient } from './document-clients.js';
import { ENV, requireEnv } from './environment.js';
import { retryConflicts } from './transactions.js';
import { serviceLogger } from './service-logger.js';
import { statusChangedMessage } from './status-refusal.js';

const logger = serviceLogger('tessera-registry');

/** The tenant registry (DynamoDB). Every write is validated against the shared TenantRecord schema. */

const INDEX = { byStatus: 'by-status', byTier: 'by-tier' } as const;

function doc(): DynamoDBDocumentClient {
  return platformDocumentClient(DROP_UNDEFINED);
}
const table = () => requireEnv(ENV.registryTable);

export class TenantNotFoundError extends Error {
  override readonly name = 'TenantNotFound';
  constructor(tenantId: string) {
    super(`tenant "${tenantId}" is not in the registry`);
  }
}

/** The tenant's status does not allow this operation or step (terminal: nothing was changed). */
export class TenantConflictError extends Error {
  override readonly name = 'TenantConflict';
}

/** Another lifecycle operation holds the tenant's lease (terminal for a refused start; nothing was changed). */
export class TenantBusyError extends Error {
  override readonly name = 'TenantBusy';
}

/** The record changed between a read and a conditional write (retryable: read again). */
export class RegistryContentionError extends Error {
  override readonly name = 'RegistryContention';
}

/**
 * The execution whose step is running, set by the lifecycle handler wrapper: every registry write
 * made inside a step is conditional on that execution holding the tenant's lease. `marked`: the
 * record as the step's markStep wrote it (UpdateItem ALL_NEW), until the step reads it or writes.
 */
export const stepContext = new AsyncLocalStorage<{ executionArn?: string; marked?: TenantRecord }>();

/**
 * The record markStep just wrote, once, for the step's first read of that tenant, if the step has
 * made no registry write since. It is the item as of that write (UpdateItem's ALL_NEW is strongly
 * consistent), written under the step's lease: a ConsistentRead GetItem at that point answers the
 * same item, and one made later could differ only by a write without the lease (the daily jobs, the
 * admin API's policy), which could as well have landed just after the read.
 */
function takeMarked(tenantId: string): TenantRecord | undefined {
  const store = stepContext.getStore();
  const marked = store?.marked;
  if (!store || !marked) return undefined;
  store.marked = undefined;
  return marked.tenantId === tenantId ? marked : undefined;
}

/** A registry write in a step: a later read must see it, so the marked record is no longer handed out. */
function forgetMarked(): void {
  const store = stepContext.getStore();
  if (store) store.marked = undefined;
}

/** Describes who holds a lease, for errors and 409 bodies. */
export function describeLease(lease: LifecycleLease): string {
  return `${lease.kind} (execution ${lease.executionArn}, request ${lease.requestId}, since ${lease.acquiredAt})`;
}
type LifecycleLease = NonNullable<TenantRecord['lease']>;

/**
 * A registry item that does not match the schema (lib/tenant-record.ts): edited by hand into a shape Tessera never
 * writes. The message names the tenant, the table, each field and value at fault and what to do; the admin API answers
 * it as a 500 `registry_record_invalid` with that message (before: `internal error; see the admin API logs`).
 */
export class RegistryRecordInvalidError extends Error {
  override readonly name = 'RegistryRecordInvalid';
  constructor(readonly tenantId: string, readonly problems: string[]) {
    super(`tenant "${tenantId}": its registry record (table ${table()}) does not match the schema: ${problems.join('; ')}; `
      + 'correct the record (it was edited outside Tessera): Tessera reads and writes it only in that shape');
  }
}

/** A registry item as a TenantRecord. @throws RegistryRecordInvalidError naming each field and value at fault */
function recordOf(item: Record<string, unknown>): TenantRecord {
  const parsed = TenantRecord.safeParse(item);
  if (!parsed.success) throw new RegistryRecordInvalidError(String(item.tenantId), describeIssues(parsed.error, item));
  return parsed.data;
}

export async function getTenant(tenantId: string): Promise<TenantRecord | undefined> {
  const marked = takeMarked(tenantId);
  if (marked) return marked;
  const out = await doc().send(new GetCommand({ TableName: table(), Key: { tenantId }, ConsistentRead: true }));
  return out.Item ? recordOf(out.Item) : undefined;
}

export async function requireTenant(tenantId: string): Promise<TenantRecord> {
  const record = await getTenant(tenantId);
  if (!record) throw new TenantNotFoundError(tenantId);
  return record;
}

/** Creates the record; false when a record with this tenant id already exists. */
export async function putNewTenant(record: TenantRecord): Promise<boolean> {
  forgetMarked();
  try {
    await doc().send(new PutCommand({ TableName: table(), Item: TenantRecord.parse(record), ConditionExpression: 'attribute_not_exists(tenantId)' }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

export interface UpdateOptions {
  /** Only update when the current status is one of these. */
  readonly expectStatus?: readonly TenantStatus[];
  /**
   * The execution that must hold the tenant's lease for the write to happen. Default: the
   * execution of the step running (stepContext), if any; `null`: no lease condition (writes
   * outside an operation: the daily jobs, fine-tuning).
   */
  readonly holder?: string | null;
  /** Only update when `updatedAt` still has this value (optimistic concurrency for read-modify-write). */
  readonly expectUpdatedAt?: string;
  /**
   * Only update when the gateway policy's version (`gatewayChange.version`, lib/tenant-record.ts) is still this one: 0
   * for a record without `gatewayChange` (the policy as onboarded). A miss is a RegistryContentionError.
   */
  readonly expectGatewayVersion?: number;
}

/**
 * Sets the given attributes (undefined values remove them) and `updatedAt`. Throws TenantBusy
 * when the holder's lease does not hold, TenantConflict when `expectStatus` (or `expectUpdatedAt`)
 * does not. Sent again when it meets a transaction in flight on the item (retryConflicts: a key
 * write's or token revocation's status check), up to CONFLICT_RETRIES times.
 */
export async function updateTenant(tenantId: string, changes: Partial<Omit<TenantRecord, 'tenantId'>>, options: UpdateOptions = {}): Promise<TenantRecord> {
  forgetMarked();
  const sets: string[] = ['#updatedAt = :updatedAt'];
  const removes: string[] = [];
  const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':updatedAt': new Date().toISOString() };
  for (const [key, value] of Object.entries(changes)) {
    names[`#${key}`] = key;
    if (value === undefined) removes.push(`#${key}`);
    else {
      sets.push(`#${key} = :${key}`);
      values[`:${key}`] = value;
    }
  }
  const conditions = ['attribute_exists(tenantId)'];
  if (options.expectStatus?.length) {
    names['#status'] = 'status';
    conditions.push(`#status IN (${options.expectStatus.map((_, i) => `:expect${i}`).join(', ')})`);
    options.expectStatus.forEach((s, i) => (values[`:expect${i}`] = s));
  }
  const holder = options.holder === undefined ? stepContext.getStore()?.executionArn : options.holder ?? undefined;
  if (holder) {
    names['#lease'] = 'lease';
    names['#holder'] = 'executionArn';
    conditions.push('#lease.#holder = :holder');
    values[':holder'] = holder;
  }
  if (options.expectUpdatedAt) {
    conditions.push('#updatedAt = :observedUpdatedAt');
    values[':observedUpdatedAt'] = options.expectUpdatedAt;
  }
  if (options.expectGatewayVersion !== undefined) {
    names['#gatewayChange'] = 'gatewayChange';
    if (options.expectGatewayVersion === 0) conditions.push('attribute_not_exists(#gatewayChange)');
    else {
      names['#gatewayVersion'] = 'version';
      conditions.push('#gatewayChange.#gatewayVersion = :observedGatewayVersion');
      values[':observedGatewayVersion'] = options.expectGatewayVersion;
    }
  }
  try {
    // Again when it met a key write's or token revocation's transaction on the item (its status fence): not applied.
    const out = await retryConflicts(() => doc().send(
      new UpdateCommand({
        TableName: table(),
        Key: { tenantId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    ));
    return TenantRecord.parse(out.Attributes);
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) {
      const current = await getTenant(tenantId);
      if (!current) throw new TenantNotFoundError(tenantId);
      if (holder && current.lease?.executionArn !== holder) {
        throw new TenantBusyError(current.lease
          ? `tenant "${tenantId}" is held by another operation: ${describeLease(current.lease)}; execution ${holder} no longer holds it`
          : `tenant "${tenantId}" is not held by execution ${holder} (status ${current.status}); it may not change the tenant`);
      }
      if (options.expectStatus?.length && !options.expectStatus.includes(current.status)) {
        throw new TenantConflictError(statusChangedMessage(tenantId, current.status, options.expectStatus));
      }
      throw new RegistryContentionError(`tenant "${tenantId}" changed while this step read it (updatedAt ${current.updatedAt})`);
    }
    throw e;
  }
}

/**
 * Records an execution refused before it took the tenant's lease in the record's own `lastRefusal` (TenantRecord): one
 * UpdateItem that sets that attribute alone, conditional only on the record existing and not being OFFBOARDED (a terminal
 * record, kept as the offboarding left it: a replayed request for it is said on the bus only). No lease condition (the refused
 * execution holds none) and `updatedAt` left as it is: the operation that may hold the tenant meanwhile never writes
 * `lastRefusal`, so its writes and this one do not undo each other, and its read-modify-writes guarded by `updatedAt`
 * (recordExecution, failOperation) are not made to fail as contention by a refusal. A refusal written again (Record
 * failure retried) replaces the same values.
 * @returns false when the tenant is not in the registry, or is OFFBOARDED (nothing written)
 */
export async function recordRefusal(tenantId: string, refusal: NonNullable<TenantRecord['lastRefusal']>): Promise<boolean> {
  forgetMarked();
  try {
    // Again when it met a key write's or token revocation's transaction on the item, as updateTenant's writes are.
    await retryConflicts(() => doc().send(new UpdateCommand({
      TableName: table(),
      Key: { tenantId },
      UpdateExpression: 'SET #lastRefusal = :refusal',
      ConditionExpression: 'attribute_exists(tenantId) AND #status <> :offboarded',
      ExpressionAttributeNames: { '#lastRefusal': 'lastRefusal', '#status': 'status' },
      ExpressionAttributeValues: { ':refusal': refusal, ':offboarded': 'OFFBOARDED' },
    })));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

/**
 * Records the step now running (shown by `tessera tenants watch`). Inside a step (stepContext), the
 * record it wrote answers the step's first getTenant of that tenant (takeMarked): most steps read
 * the record first thing, and a GetItem right after this UpdateItem would return the same item.
 */
export async function markStep(tenantId: string, step: string): Promise<void> {
  const record = await updateTenant(tenantId, { currentStep: step });
  const store = stepContext.getStore();
  if (store) store.marked = record;
}

/** The same execution: by its ARN when known (a re-run of a request is a new execution), else by request and kind. */
export function sameExecution(a: LifecycleExecution, b: Pick<LifecycleExecution, 'kind' | 'requestId' | 'executionArn'>): boolean {
  if (a.executionArn && b.executionArn) return a.executionArn === b.executionArn;
  return a.requestId === b.requestId && a.kind === b.kind;
}

/**
 * The history with `entry` added or replaced (the same execution, moved to the end), each kind of entry within its own
 * bound: at most HISTORY_ENTRIES (50) lifecycle operations' entries and GATEWAY_POLICY_ENTRIES (20) gateway policy writes'
 * (lib/tenant-record.ts), the oldest ended entry of the kind over its bound going first. A policy write never drops an
 * operation's entry: until 2026-12-07 both counted towards one cap of 50, so 50 policy writes forgot every finished
 * operation's entry, and with it what its Idempotency-Key stood for (admin-api.ts earlierRequest: the same key with another
 * change was then started as a new change) and that a stopped execution's operation had been ended (a Step Functions
 * redrive of it was not refused). An entry still RUNNING stays past the cap: it is what its operation was asked (the
 * change an Idempotency-Key stands for), by whom and why (the announcements' `actor` and `reason`: requestedBy); before
 * 2026-12-07 50 policy writes while a change ran dropped it, and its ending wrote it again without them. A change's request
 * is kept in full on the newest entries only (lib/change-digest.ts withChangesBounded: MAX_FULL_CHANGES_BYTES of them), the
 * older ones keep its digest: until 2026-12-07 50 entries of tags at their limits (about 46 KB each) exceeded DynamoDB's
 * 400 KB item, and every write of the record was refused.
 */
export function withExecution(record: TenantRecord, entry: LifecycleExecution): LifecycleExecution[] {
  const all = [...record.executions.filter((e) => !sameExecution(e, entry)), entry];
  const policy = (e: LifecycleExecution) => !isLifecycleEntry(e);
  const excess = {
    policy: all.filter(policy).length - GATEWAY_POLICY_ENTRIES,
    lifecycle: all.filter((e) => !policy(e)).length - HISTORY_ENTRIES,
  };
  if (excess.policy <= 0 && excess.lifecycle <= 0) return withChangesBounded(all);
  const kept: LifecycleExecution[] = [];
  for (const [i, e] of all.entries()) {
    const kind = policy(e) ? 'policy' : 'lifecycle';
    if (excess[kind] > 0 && e.status !== 'RUNNING' && i < all.length - 1) excess[kind] -= 1;
    else kept.push(e);
  }
  // Only when more than HISTORY_ENTRIES lifecycle entries say RUNNING (none ever should) are any of them dropped, oldest first.
  const over = kept.filter((e) => !policy(e)).length - HISTORY_ENTRIES;
  if (over <= 0) return withChangesBounded(kept);
  let seen = 0;
  return withChangesBounded(kept.filter((e) => policy(e) || ++seen > over));
}

/** Adds or updates the history entry of one lifecycle execution (under the step's lease, and only if nobody wrote the record meanwhile). */
export async function recordExecution(tenantId: string, entry: LifecycleExecution): Promise<TenantRecord> {
  for (let attempt = 1; ; attempt++) {
    const record = await requireTenant(tenantId);
    try {
      return await updateTenant(tenantId, { executions: withExecution(record, entry) }, { expectUpdatedAt: record.updatedAt });
    } catch (e) {
      if (!(e instanceof RegistryContentionError) || attempt >= 5) throw e;
    }
  }
}

/** Deletes a record that `holder` created and still holds in `status` (an onboarding the admin API could not start). */
export async function deleteHeldTenant(tenantId: string, holder: string, status: TenantStatus): Promise<boolean> {
  forgetMarked();
  try {
    await doc().send(new DeleteCommand({
      TableName: table(), Key: { tenantId },
      ConditionExpression: '#lease.#holder = :holder AND #status = :status',
      ExpressionAttributeNames: { '#lease': 'lease', '#holder': 'executionArn', '#status': 'status' },
      ExpressionAttributeValues: { ':holder': holder, ':status': status },
    }));
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

/** Which tenants a list reads: all of them (a Scan), or one status or tier (a Query of its index, the other one a filter). */
export interface TenantFilter {
  readonly status?: TenantStatus;
  readonly tier?: string;
}

/**
 * The attributes a list reads of each record (DynamoDB's ProjectionExpression) and how a projected
 * item is parsed: a list that needs a few fields reads those, not whole records of up to 400 KB.
 * `names` are the expression's attribute names (`#x`: every attribute name, reserved words such as
 * `status` among them); they must not use `#k` or `#t`, the list's own.
 */
export interface TenantProjection<T extends { tenantId: string }> {
  /** The ProjectionExpression, e.g. `#id, #s, #d.#ds` (it must include `tenantId`: a page goes on after its last). */
  readonly expression: string;
  /** ExpressionAttributeNames of `expression`. */
  readonly names: Readonly<Record<string, string>>;
  /** A projected item as the list's type. @throws when the item is not one */
  readonly parse: (item: Record<string, unknown>) => T;
}

/** One DynamoDB call of a list: at most `limit` items evaluated from the key after `after` (a tenant id), 1 MB read at most. */
function listCommand(filter: TenantFilter, after: string | undefined, limit?: number, projection?: { expression: string; names: Readonly<Record<string, string>> }): QueryCommand | ScanCommand {
  const projected = projection ? { ProjectionExpression: projection.expression } : {};
  if (!filter.status && !filter.tier) {
    return new ScanCommand({
      TableName: table(), Limit: limit, ExclusiveStartKey: after === undefined ? undefined : { tenantId: after },
      ...projected, ...(projection ? { ExpressionAttributeNames: { ...projection.names } } : {}),
    });
  }
  // The index's key is the status (or tier) and the tenant id: a key after which to go on is the tenant id with the filter's value.
  const key = filter.status ? 'status' : 'tier';
  const value = filter.status ?? filter.tier;
  const both = !!(filter.status && filter.tier);
  return new QueryCommand({
    TableName: table(),
    IndexName: filter.status ? INDEX.byStatus : INDEX.byTier,
    KeyConditionExpression: '#k = :v',
    ...(both ? { FilterExpression: '#t = :t' } : {}),
    ...projected,
    ExpressionAttributeNames: { ...projection?.names, '#k': key, ...(both ? { '#t': 'tier' } : {}) },
    ExpressionAttributeValues: { ':v': value, ...(both ? { ':t': filter.tier } : {}) },
    Limit: limit,
    ExclusiveStartKey: after === undefined ? undefined : { tenantId: after, [key]: value },
  });
}

/** How one page of tenants is cut: its count, where it starts, and how many bytes its records may take. */
export interface TenantPageOptions<T = TenantRecord> {
  /** The most records in the page (1 or more). */
  readonly limit: number;
  /** The tenant id after which the page starts (a previous page's `after`); absent: the first page. */
  readonly after?: string;
  /**
   * A budget in bytes for the page's records, each weighed by `sizeOf`: a record that would take
   * the page over it ends the page before it (the first record is always in). @default no budget
   */
  readonly maxBytes?: number;
  /** A record's weight against `maxBytes` (bytes). */
  readonly sizeOf?: (record: T) => number;
}

/**
 * The most DynamoDB calls one page of listTenantPage makes (each reads at most 1 MB): only a list
 * with both `status` and `tier` (the tier a FilterExpression) comes near it, whose page then ends
 * short, even empty, with the place to go on from.
 */
export const MAX_PAGE_READS = 10;

/**
 * One page of the registry's tenants, filtered by `status` and/or `tier`, in DynamoDB's order:
 * without a filter a Scan's (the partition key's hash order: not sorted, stable while the table
 * does not change); with one, the index's (`by-status` or `by-tier`), sorted by tenant id. Reads
 * with as many DynamoDB calls as it takes to fill `limit` (each reads at most 1 MB; with both
 * filters the tier is a FilterExpression, so a call may find none: such calls have no Limit and
 * read 1 MB each, the page cut at `limit` here), fewer when `maxBytes` cuts it or after
 * MAX_PAGE_READS calls (then short, even empty, with `after`).
 * @returns the records and `after`: the tenant id to pass as `after` for the next page, absent
 *   when DynamoDB has no more (a last page may then still come back empty once: DynamoDB answers
 *   LastEvaluatedKey when a page ends exactly at the last item)
 */
export async function listTenantPage(filter: TenantFilter, options: TenantPageOptions): Promise<TenantPageRead<TenantRecord>> {
  return listProjectedPage(filter, options, { parse: recordOf });
}

/**
 * One page as listTenantPage and listProjectedPage read it: the records, `unreadable` (the items of the page `parse`
 * refused with RegistryRecordInvalidError, left out and logged: one record edited by hand does not fail the page for
 * every other tenant) and `after`.
 */
export interface TenantPageRead<T> {
  tenants: T[];
  unreadable: UnreadableTenant[];
  after?: string;
}

/**
 * listTenantPage reading only `projection`'s attributes of each record (DynamoDB still counts the
 * whole item against a call's 1 MB and its read capacity: a projection cuts what reaches the Lambda,
 * not what DynamoDB reads), each parsed by `projection.parse`. Same pages, order and `after`.
 */
export async function listProjectedPage<T extends { tenantId: string }>(filter: TenantFilter, options: TenantPageOptions<T>, projection: TenantProjection<T> | Pick<TenantProjection<T>, 'parse'>): Promise<TenantPageRead<T>> {
  const read = 'expression' in projection ? projection : undefined;
  const tenants: T[] = [];
  const unreadable: UnreadableTenant[] = [];
  let bytes = 0;
  let after = options.after;
  // The last item the page went past, readable or not: the next page starts after it, so an unreadable one is named once.
  let last: string | undefined;
  // With both filters the tier is a FilterExpression applied after DynamoDB's Limit: a Limit of the
  // records still missing (1 near the end of a page) read one item a call, thousands of calls where
  // the tier is rare. Such a call reads up to 1 MB instead and the page is cut here at `limit`.
  const both = !!(filter.status && filter.tier);
  for (let reads = 1; ; reads++) {
    const out = await doc().send(listCommand(filter, after, both ? undefined : options.limit - tenants.length, read));
    for (const item of out.Items ?? []) {
      let record: T;
      try {
        record = projection.parse(item);
      } catch (e) {
        if (!(e instanceof RegistryRecordInvalidError)) throw e;
        if (tenants.length >= options.limit) return { tenants, unreadable, after: last };
        unreadable.push({ tenantId: e.tenantId, problems: e.problems });
        logUnreadable(unreadable.at(-1)!);
        last = String(item.tenantId);
        continue;
      }
      const size = options.sizeOf?.(record) ?? 0;
      const full = tenants.length >= options.limit || (tenants.length > 0 && options.maxBytes !== undefined && bytes + size > options.maxBytes);
      if (full) return { tenants, unreadable, after: last };
      tenants.push(record);
      bytes += size;
      last = record.tenantId;
    }
    if (!out.LastEvaluatedKey) return { tenants, unreadable };
    after = String(out.LastEvaluatedKey.tenantId);
    // A page that read MAX_PAGE_READS calls (both filters, a rare tier) ends here, short or empty, with
    // its place: reading the rest of a large status index in one answer would pass API Gateway's 29 s.
    if (tenants.length >= options.limit || reads >= MAX_PAGE_READS) return { tenants, unreadable, after };
  }
}

export type { UnreadableTenant };

/** Logs a record a list leaves out because it does not match the schema (listTenants, listProjectedPage). */
function logUnreadable(unreadable: UnreadableTenant): void {
  logger.error('registry record does not match the schema: left out of the list', { ...unreadable });
}

/** What listTenants does besides listing. */
export interface ListTenantsOptions {
  /**
   * Told of each item that does not match the schema (a record edited by hand into a shape Tessera never writes: a
   * status typed wrong, a field removed), which the list leaves out; each is logged as an error too.
   * @default logged only
   */
  readonly unreadable?: (tenant: UnreadableTenant) => void;
}

/**
 * Every tenant of the registry (with `status` and/or `tier`: those only), sorted by tenant id: for the workflows and daily
 * jobs, not for an HTTP answer (see listTenantPage). An item that does not match the schema is left out, logged and
 * told to `options.unreadable` with each field and value at fault (describeIssues), so one record edited by hand does not
 * stop the drift run, the rolling upgrade or a daily job for every other tenant; before, its ZodError failed the whole list.
 */
export async function listTenants(filter: TenantFilter = {}, options: ListTenantsOptions = {}): Promise<TenantRecord[]> {
  const items: Record<string, unknown>[] = [];
  // Query or Scan by the filter (listCommand), each going on after a tenant id: pagesOf stops on a repeated one.
  const calls = pagesOf((after: string | undefined) => doc().send(listCommand(filter, after)), (out) => (out.LastEvaluatedKey ? String(out.LastEvaluatedKey.tenantId) : undefined));
  for await (const out of calls) items.push(...(out.Items ?? []));
  const tenants: TenantRecord[] = [];
  for (const item of items) {
    try {
      tenants.push(recordOf(item));
    } catch (e) {
      if (!(e instanceof RegistryRecordInvalidError)) throw e;
      const unreadable = { tenantId: e.tenantId, problems: e.problems };
      logUnreadable(unreadable);
      options.unreadable?.(unreadable);
    }
  }
  return tenants.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
}
