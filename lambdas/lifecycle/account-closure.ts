import { CloseAccountCommand, DescribeAccountCommand, paginateListAccounts, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { pages } from '../../lib/aws-pages.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { claimClosure, closures, markClosureRecorded, recordClosed, requeueClosure, setClosureAside, type ClosureItem } from '../shared/control-table.js';
import { logger } from '../shared/handler.js';
import { getTenant, updateTenant } from '../shared/registry.js';

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

/** CloseAccount failures (other than the quota's refusal) after which a closure is set aside for an operator. */
export const MAX_CLOSURE_ATTEMPTS = 5;

/**
 * After this long a `CLOSING` claim belongs to a run that has ended: AWS Lambda's maximum timeout
 * (15 minutes, "Lambda quotas"), which every function that works the queue is below.
 */
export const CLOSURE_CLAIM_EXPIRY_MS = 15 * 60 * 1000;

/** Organizations lets 10% of member accounts close per rolling 30 days, never fewer than 10 nor more than 1,000. */
export function closureQuota(memberAccounts: number): number {
  return Math.min(1000, Math.max(10, Math.floor(memberAccounts * 0.1)));
}

/**
 * The organization's member accounts for the closure quota, counting low: accounts closed or closing
 * (State CLOSED or PENDING_CLOSURE, or the legacy Status SUSPENDED or PENDING_CLOSURE) and accounts
 * AWS restricted (State SUSPENDED) are left out. AWS does not document which states it counts; a
 * quota estimated too high costs only a ConstraintViolationException, which ends the run without
 * counting an attempt.
 */
async function memberAccountCount(orgs: OrganizationsClient): Promise<number> {
  let count = 0;
  for await (const out of paginateListAccounts(pages(orgs), {})) {
    count += (out.Accounts ?? []).filter((a) => !['CLOSED', 'PENDING_CLOSURE', 'SUSPENDED'].includes(a.State ?? '') && !['SUSPENDED', 'PENDING_CLOSURE'].includes(a.Status ?? '')).length;
  }
  return Math.max(0, count - 1); // the management account is not a member
}

/**
 * ConstraintViolationException reasons that are the organization's limits, not the entry's fault (AWS Organizations
 * API Reference, ConstraintViolationException): CLOSE_ACCOUNT_QUOTA_EXCEEDED (10% of member accounts per 30 days) and
 * CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED (closures in progress at a time). Any other reason is about this account
 * (ACCOUNT_CREATION_NOT_COMPLETE, …): before, every ConstraintViolationException stopped the run uncounted, so one
 * such entry at the head of the queue (oldest first) stopped every later closure, every day, with nothing recorded.
 */
const ORGANIZATION_LIMITS = new Set(['CLOSE_ACCOUNT_QUOTA_EXCEEDED', 'CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED']);

/**
 * How a CloseAccount error is taken: `stop` — the organization's limit (the closure quota, a ConstraintViolationException
 * without a reason, as before) or throttling (TooManyRequestsException): the entry is queued again uncounted and the run
 * ends; `again` — ConcurrentModificationException (the account is being changed by another request: "try again later"):
 * queued again uncounted, the run goes on with the next entry; `attempt` — anything else: counted against the entry.
 */
function closureErrorKind(e: unknown): 'stop' | 'again' | 'attempt' {
  const { name, Reason } = e as { name?: string; Reason?: string };
  if (name === 'TooManyRequestsException') return 'stop';
  if (name === 'ConstraintViolationException') return Reason === undefined || ORGANIZATION_LIMITS.has(Reason) ? 'stop' : 'attempt';
  if (name === 'ConcurrentModificationException') return 'again';
  return 'attempt';
}

const errorText = (e: unknown) => `${(e as Error).name}${(e as { Reason?: string }).Reason ? ` (${(e as { Reason?: string }).Reason})` : ''}: ${(e as Error).message}`;

/**
 * Why an account counts as closed although CloseAccount did not say so: Organizations answered
 * AccountAlreadyClosedException (an earlier call whose answer was lost, or an operator), or
 * DescribeAccount shows it SUSPENDED/CLOSED (closing), or it is no longer in the organization.
 * Undefined: it is not closed (or DescribeAccount could not tell).
 */
async function alreadyClosed(orgs: OrganizationsClient, accountId: string, error?: unknown): Promise<string | undefined> {
  if ((error as Error | undefined)?.name === 'AccountAlreadyClosedException') return 'Organizations says the account is already closed';
  try {
    const account = (await orgs.send(new DescribeAccountCommand({ AccountId: accountId }))).Account;
    // State (Organizations' account lifecycle): CLOSED, or PENDING_CLOSURE while closing; SUSPENDED there means AWS
    // restricted the account ("Monitor the state of your AWS accounts"), not that it was closed. The older Status field
    // said SUSPENDED for a closed account: read only when State is absent.
    const closed = account?.State ? account.State === 'CLOSED' || account.State === 'PENDING_CLOSURE' : account?.Status === 'SUSPENDED';
    if (closed) return `the account is already ${account!.State ?? account!.Status} in Organizations`;
  } catch (e) {
    if ((e as Error).name === 'AccountNotFoundException') return 'the account is no longer in the organization';
    logger.warn('could not describe an account whose closure failed', { accountId, error: e as Error });
  }
  return undefined;
}

/**
 * The closure's word on the tenant's record (`accountClosure`): best effort, never another tenant's step's failure. One
 * UpdateItem (conditional: the tenant exists, no lease condition, as the daily jobs' writes); a tenant no longer in the
 * registry is skipped quietly.
 */
async function recordOnTenant(item: ClosureItem, closure: Omit<NonNullable<TenantRecord['accountClosure']>, 'accountId' | 'at'>, at = new Date().toISOString()): Promise<boolean> {
  try {
    await updateTenant(item.tenantId, { accountClosure: { accountId: item.accountId, at, ...closure } }, { holder: null });
    return true;
  } catch (e) {
    if ((e as Error).name === 'TenantNotFound') return true;
    logger.warn('could not record the account closure on the tenant', { tenantId: item.tenantId, accountId: item.accountId, error: e as Error });
    return false;
  }
}

/** A closure recorded CLOSED, said on its tenant (recordOnTenant); once said, the entry is marked so (markClosureRecorded). */
async function recordClosedOnTenant(item: ClosureItem, closure: Omit<NonNullable<TenantRecord['accountClosure']>, 'accountId' | 'at' | 'state'>): Promise<void> {
  if (!(await recordOnTenant(item, { state: 'CLOSED', ...closure }))) return;
  // Best effort as the word itself: unmarked, the entry is only checked again by the next run (settleClosedOnTenants).
  await markClosureRecorded(item.accountId).catch((e: unknown) => logger.warn('could not mark a closure recorded on its tenant; the next run checks it again', { accountId: item.accountId, error: e as Error }));
}

/**
 * Entries `CLOSED` whose tenant's record was not said to be (no `recordedOnTenant`): the tenant's `accountClosure` is
 * set to CLOSED unless it says so already, at the entry's `closedAt`, then the entry is marked. Before, the word on the
 * tenant was written once, best effort, after the entry was recorded CLOSED: a write that failed (throttled), or a
 * recordClosed whose answer was lost (the SDK's retry of the conditional write then fails it, read as another run's
 * settlement, so nothing was said), left the tenant saying its account's closure was QUEUED for good, with nothing to
 * correct it (runs take QUEUED, CLOSING and NEEDS_OPERATOR entries only). One registry read per such entry, once.
 */
async function settleClosedOnTenants(all: readonly ClosureItem[]): Promise<void> {
  for (const item of all.filter((c) => c.status === 'CLOSED' && !c.recordedOnTenant)) {
    try {
      const tenant = await getTenant(item.tenantId);
      const said = !tenant || (tenant.accountClosure?.accountId === item.accountId && tenant.accountClosure.state === 'CLOSED');
      if (!said && !(await recordOnTenant(item, {
        state: 'CLOSED', ...(item.attempts ? { attempts: item.attempts } : {}),
        note: `recorded late: the closure queue recorded the account closed at ${item.closedAt ?? '(unknown)'}, and the word on the tenant was lost then`,
      }, item.closedAt))) continue;
      await markClosureRecorded(item.accountId);
    } catch (e) {
      logger.warn('could not settle a closed account on its tenant; the next run tries again', { tenantId: item.tenantId, accountId: item.accountId, error: e as Error });
    }
  }
}

/**
 * Says on the tenant of each entry this run leaves queued without trying it why its account is still open: Organizations
 * refused a closure ahead of it (`cause`) or the rolling quota is used. Before, only the refused head entry's tenant was
 * told; the tenants further down still said QUEUED only, as if nothing stood in the way. What an earlier attempt
 * recorded (attempts, error) is kept.
 */
async function noteWaiting(items: readonly ClosureItem[], note: string): Promise<void> {
  for (const item of items) {
    await recordOnTenant(item, { state: 'QUEUED', ...(item.attempts ? { attempts: item.attempts } : {}), ...(item.lastError ? { error: item.lastError } : {}), note });
  }
}

/**
 * A CloseAccount failure of `item`, claimed at `claimedAt`: queued again with the error, or set aside
 * when this is its MAX_CLOSURE_ATTEMPTS-th failure; each write only while the entry is still that
 * claim. `SETTLED_ELSEWHERE`: another run settled the claim first (nothing written, nothing recorded).
 */
async function recordFailure(item: ClosureItem, claimedAt: string | undefined, error: string, cause: unknown): Promise<'QUEUED' | 'NEEDS_OPERATOR' | 'SETTLED_ELSEWHERE'> {
  if ((item.attempts ?? 0) + 1 >= MAX_CLOSURE_ATTEMPTS) {
    const attempts = await setClosureAside(item.accountId, claimedAt, error);
    if (attempts === undefined) return 'SETTLED_ELSEWHERE';
    logger.error('account closure failed too often: set aside for an operator', { accountId: item.accountId, tenantId: item.tenantId, attempts, error: cause as Error });
    await recordOnTenant(item, { state: 'NEEDS_OPERATOR', attempts, error });
    return 'NEEDS_OPERATOR';
  }
  const attempts = await requeueClosure(item.accountId, claimedAt, error);
  if (attempts === undefined) return 'SETTLED_ELSEWHERE';
  logger.error('account closure failed; it stays queued for the next run', { accountId: item.accountId, tenantId: item.tenantId, attempts, error: cause as Error });
  await recordOnTenant(item, { state: 'QUEUED', attempts, error });
  return 'QUEUED';
}

/**
 * Closes queued accounts, oldest first, as far as the rolling quota allows; the rest wait for
 * the next run (the daily schedule, or the next offboarding). Each entry fails on its own, as the
 * key-deletion queue's do: an account already closed (or gone from the organization) is recorded
 * CLOSED; any other error is recorded on that entry and on its tenant (`accountClosure`) and the
 * entry stays queued for the next run, or is set aside as `NEEDS_OPERATOR` after
 * MAX_CLOSURE_ATTEMPTS failures. Only the organization's limits (ConstraintViolationException
 * CLOSE_ACCOUNT_QUOTA_EXCEEDED or CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED) and throttling
 * (TooManyRequestsException) stop the run, without counting against the entry; a
 * ConcurrentModificationException is not counted either, and the run goes on. Either way the tenant's
 * `accountClosure` says why its account is still open (closureErrorKind). An entry
 * set aside is checked again each run (DescribeAccount only) and recorded CLOSED once an operator
 * closed the account by hand.
 *
 * An entry is claimed (`CLOSING`) before its CloseAccount and recorded `CLOSED` only after
 * Organizations answered. A claim older than CLOSURE_CLAIM_EXPIRY_MS belongs to a run that ended
 * in between (a timeout, a crash, a failed write): it is recorded CLOSED if DescribeAccount shows
 * the account closed or closing, else counted as a failed attempt and queued again (the account was
 * never left standing in a queue that says it is closed). Younger claims belong to a run still at
 * work: left alone, counted against the quota.
 */
export async function processClosureQueue(orgs: OrganizationsClient, now = Date.now()): Promise<{
  closed: string[]; queued: string[]; failed: Array<{ accountId: string; tenantId: string; error: string }>; needsOperator: string[]; quota: number; usedInWindow: number;
}> {
  const all = await closures();
  await settleClosedOnTenants(all);
  const closed: string[] = [];
  const failed: Array<{ accountId: string; tenantId: string; error: string }> = [];
  const needsOperator: string[] = [];
  const claimedAt = (c: ClosureItem) => Date.parse(c.claimedAt ?? c.closedAt ?? c.queuedAt);
  const expired = all.filter((c) => c.status === 'CLOSING' && !(now - claimedAt(c) < CLOSURE_CLAIM_EXPIRY_MS));
  const requeued: ClosureItem[] = [];
  for (const item of expired) {
    const why = await alreadyClosed(orgs, item.accountId);
    if (why) {
      if (await recordClosed(item.accountId, 'CLOSING')) {
        closed.push(item.accountId);
        await recordClosedOnTenant(item, { note: why, attempts: item.attempts });
      }
      continue;
    }
    const error = `ClosureInterrupted: the run that claimed this closure at ${item.claimedAt ?? '(unknown)'} ended before it recorded CloseAccount's answer, and the account is not closed`;
    const outcome = await recordFailure(item, item.claimedAt, error, new Error(error));
    if (outcome === 'SETTLED_ELSEWHERE') continue; // another run settled this claim first
    failed.push({ accountId: item.accountId, tenantId: item.tenantId, error });
    if (outcome === 'NEEDS_OPERATOR') needsOperator.push(item.accountId);
    else requeued.push({ ...item, status: 'QUEUED', attempts: (item.attempts ?? 0) + 1, lastError: error });
  }
  const counts = (c: ClosureItem) => (c.status === 'CLOSED' && c.closedAt && now - Date.parse(c.closedAt) < THIRTY_DAYS_MS)
    || (c.status === 'CLOSING' && !expired.includes(c));
  const usedInWindow = all.filter(counts).length + closed.length;
  const quota = closureQuota(await memberAccountCount(orgs));
  const queued = [...all.filter((c) => c.status === 'QUEUED'), ...requeued].sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
  let closedNow = 0;
  for (const item of all.filter((c) => c.status === 'NEEDS_OPERATOR')) {
    const why = await alreadyClosed(orgs, item.accountId);
    if (why && (await recordClosed(item.accountId, 'NEEDS_OPERATOR'))) {
      closed.push(item.accountId);
      closedNow += 1;
      await recordClosedOnTenant(item, { note: `${why} (closed outside Tessera)`, attempts: item.attempts });
    } else {
      needsOperator.push(item.accountId);
    }
  }
  const room = Math.max(0, quota - usedInWindow);
  let stoppedAt: number | undefined;
  let stoppedBy = '';
  for (const [index, item] of queued.slice(0, room).entries()) {
    const claimedAt = new Date(now).toISOString();
    if (!(await claimClosure(item.accountId, new Date(now)))) continue; // another worker took it
    // Recorded closed only by the run whose claim it still is (recordClosed from CLOSING): a run whose claim
    // another run settled meanwhile counts nothing twice.
    const closedBy = async (note?: string) => {
      if (!(await recordClosed(item.accountId, 'CLOSING'))) {
        logger.warn('another run settled this closure while CloseAccount ran; not counted again', { accountId: item.accountId, tenantId: item.tenantId });
        return;
      }
      closed.push(item.accountId);
      closedNow += 1;
      // Every closure is said on its tenant (it was only one with a note or earlier attempts, so the registry could not tell
      // an account closed at the first try from one still waiting for the quota).
      await recordClosedOnTenant(item, { ...(note ? { note } : {}), ...(item.attempts ? { attempts: item.attempts } : {}) });
    };
    try {
      await orgs.send(new CloseAccountCommand({ AccountId: item.accountId }));
    } catch (e) {
      // The quota's refusal, and throttling (after the SDK's own retries): not the entry's fault, not counted
      // as attempts (5 throttled runs would set a closable account aside); the rest waits for the next run.
      // The tenant's record says why its account is still open (it said QUEUED only, as if nothing had been tried).
      const kind = closureErrorKind(e);
      if (kind === 'stop' || kind === 'again') {
        await requeueClosure(item.accountId, claimedAt);
        await recordOnTenant(item, {
          state: 'QUEUED', ...(item.attempts ? { attempts: item.attempts } : {}), ...(item.lastError ? { error: item.lastError } : {}),
          note: `CloseAccount refused at ${claimedAt}, not counted as an attempt (${errorText(e)}); the closure stays queued and is tried again by the daily run`,
        });
        if (kind === 'again') {
          logger.warn('the account was being modified; its closure stays queued, and the run goes on', { accountId: item.accountId, error: e as Error });
          continue;
        }
        logger.warn('Organizations refused a closure (quota or throttling); it stays queued, and the rest waits for the next run', { accountId: item.accountId, error: e as Error });
        stoppedAt = index + 1;
        stoppedBy = `not tried at ${claimedAt}: Organizations refused the closure of account ${item.accountId} ahead of it (${errorText(e)}); the closure stays queued and is tried again by the daily run`;
        break;
      }
      const why = await alreadyClosed(orgs, item.accountId, e);
      if (why) {
        await closedBy(why);
        continue;
      }
      const error = errorText(e);
      const outcome = await recordFailure(item, claimedAt, error, e);
      if (outcome === 'SETTLED_ELSEWHERE') continue;
      failed.push({ accountId: item.accountId, tenantId: item.tenantId, error });
      if (outcome === 'NEEDS_OPERATOR') needsOperator.push(item.accountId);
      continue;
    }
    await closedBy();
  }
  // Every entry left untried says why: behind the refusal that ended the run, or beyond the rolling quota's room.
  if (stoppedAt !== undefined) await noteWaiting(queued.slice(stoppedAt, room), stoppedBy);
  if (queued.length > room) {
    await noteWaiting(queued.slice(room), `not tried at ${new Date(now).toISOString()}: the organization's closure quota is used (${usedInWindow + closedNow} of ${quota} closures in the rolling 30 days: 10% of member accounts, at least 10); the closure stays queued and is tried again by the daily run`);
  }
  return {
    closed,
    queued: queued.map((q) => q.accountId).filter((a) => !closed.includes(a) && !needsOperator.includes(a)),
    failed,
    needsOperator,
    quota,
    usedInWindow: usedInWindow + closedNow,
  };
}
