import { CloseAccountCommand, ListAccountsCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { closures, markClosed, requeueClosure } from '../shared/control-table.js';
import { logger } from '../shared/handler.js';

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

/** Organizations lets 10% of member accounts close per rolling 30 days, never fewer than 10 nor more than 1,000. */
export function closureQuota(memberAccounts: number): number {
  return Math.min(1000, Math.max(10, Math.floor(memberAccounts * 0.1)));
}

async function memberAccountCount(orgs: OrganizationsClient): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const out = await orgs.send(new ListAccountsCommand({ NextToken: token }));
    count += (out.Accounts ?? []).filter((a) => a.State !== 'CLOSED' && a.State !== 'SUSPENDED' && a.Status !== 'SUSPENDED').length;
    token = out.NextToken;
  } while (token);
  return Math.max(0, count - 1); // the management account is not a member
}

/**
 * Closes queued accounts, oldest first, as far as the rolling quota allows; the rest wait for
 * the next run (the daily schedule, or the next offboarding).
 */
export async function processClosureQueue(orgs: OrganizationsClient, now = Date.now()): Promise<{ closed: string[]; queued: string[]; quota: number; usedInWindow: number }> {
  const all = await closures();
  const usedInWindow = all.filter((c) => c.status === 'CLOSED' && c.closedAt && now - Date.parse(c.closedAt) < THIRTY_DAYS_MS).length;
  const quota = closureQuota(await memberAccountCount(orgs));
  const queued = all.filter((c) => c.status === 'QUEUED').sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
  const closed: string[] = [];
  for (const item of queued.slice(0, Math.max(0, quota - usedInWindow))) {
    if (!(await markClosed(item.accountId))) continue; // another worker took it
    try {
      await orgs.send(new CloseAccountCommand({ AccountId: item.accountId }));
      closed.push(item.accountId);
    } catch (e) {
      await requeueClosure(item.accountId);
      if ((e as Error).name === 'ConstraintViolationException') {
        logger.warn('Organizations refused a closure (quota); it stays queued', { accountId: item.accountId, error: e as Error });
        break;
      }
      throw e;
    }
  }
  return { closed, queued: queued.map((q) => q.accountId).filter((a) => !closed.includes(a)), quota, usedInWindow: usedInWindow + closed.length };
}
