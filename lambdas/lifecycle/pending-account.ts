import {
  DescribeAccountCommand, DescribeCreateAccountStatusCommand, paginateListAccounts, paginateListCreateAccountStatus, type Account, type CreateAccountStatus, type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { pages } from '../../lib/aws-pages.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { AccountProgress } from './create-account.js';
import { attachPolicyOnce, QUARANTINE_SCP, scpIdByName } from './organization-lookup.js';

/** `$.account`'s transient failures (create-account.ts AccountProgress), carried on in a step's answer (none: nothing). */
export const carried = (previous?: AccountProgress): Pick<AccountProgress, 'transientFailures'> => (previous?.transientFailures?.length ? { transientFailures: previous.transientFailures } : {});

/** The account name Tessera gives a tenant's account (CreateAccount `AccountName`). */
export const tenantAccountName = (tenantId: string) => `tessera-${tenantId}`;

/** Failure reasons worth a new CreateAccount after a pause; every other reason is terminal. */
export const TRANSIENT_ACCOUNT_FAILURES = new Set(['CONCURRENT_ACCOUNT_MODIFICATION', 'INTERNAL_FAILURE']);

export interface PendingAccount {
  /** `NONE`: nothing was requested; `CLAIMED`: a claim without a request Organizations knows (no call made, or one too recent to list). */
  state: 'NONE' | 'CLAIMED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  requestId?: string;
  accountId?: string;
  failureReason?: string;
  /** When Organizations received the request (ISO time). */
  requestedAt?: string;
}

/**
 * The CreateAccount request of a tenant's claim, found in ListCreateAccountStatus by account name
 * (`tessera-<tenant>`; tenant ids are never reused): a retried *Create account* whose first call
 * reached Organizations but not the registry, however long ago that attempt was. A request that
 * SUCCEEDED comes first (the tenant's account exists: adopt it) when its account has the tenant's
 * root email (`rootEmailOf`; DescribeAccount: an account someone else made under that name is never adopted, nor
 * later retired and closed), then one IN_PROGRESS (wait for it),
 * then one that FAILED since the claim (an older failure belongs to an attempt already settled).
 * `state` and `except` narrow it to another request of the tenant in that state (the one a refused
 * duplicate stands behind).
 */
export async function findClaimedRequest(
  orgs: OrganizationsClient, record: TenantRecord, options: { state?: 'SUCCEEDED' | 'IN_PROGRESS'; except?: string } = {},
): Promise<CreateAccountStatus | undefined> {
  const since = Date.parse(record.createAccountClaim?.at ?? record.createdAt) - 60_000;
  const states = options.state ? [options.state] : ['IN_PROGRESS' as const, 'SUCCEEDED' as const, 'FAILED' as const];
  const found: CreateAccountStatus[] = [];
  for await (const page of paginateListCreateAccountStatus(pages(orgs), { States: states })) {
    found.push(...(page.CreateAccountStatuses ?? []).filter((s) => s.AccountName === tenantAccountName(record.tenantId) && s.Id !== options.except
      && (!options.state || s.State === options.state)));
  }
  const newest = (a: CreateAccountStatus, b: CreateAccountStatus) => (b.RequestedTimestamp?.getTime() ?? 0) - (a.RequestedTimestamp?.getTime() ?? 0);
  // A request listed by name alone may be anyone's (an account an operator made under that name, another
  // deployment's): adopted only when its account has the tenant's root email, as Tessera's CreateAccount gives it.
  const succeeded: CreateAccountStatus[] = [];
  for (const s of found.filter((f) => f.State === 'SUCCEEDED').sort(newest)) {
    if (s.AccountId && (await hasRootEmail(orgs, s.AccountId, record))) succeeded.push(s);
  }
  return succeeded[0]
    ?? found.filter((s) => s.State === 'IN_PROGRESS').sort(newest)[0]
    ?? found.filter((s) => s.State === 'FAILED' && (s.RequestedTimestamp?.getTime() ?? 0) >= since).sort(newest)[0];
}

/**
 * The root email Tessera's CreateAccount gave the tenant's account: the one recorded with the claim (`accountEmail`,
 * from `organization.accountEmail`), else, for a request made before that key existed, the tenant's `adminEmail`.
 */
export function rootEmailOf(record: TenantRecord): string {
  return record.accountEmail ?? record.adminEmail;
}

/** Whether account `accountId` has the tenant's root email (DescribeAccount; an error is thrown, never read as yes). */
async function hasRootEmail(orgs: OrganizationsClient, accountId: string, record: TenantRecord): Promise<boolean> {
  const account = (await orgs.send(new DescribeAccountCommand({ AccountId: accountId }))).Account;
  return account?.Email?.toLowerCase() === rootEmailOf(record).toLowerCase();
}

/**
 * The tenant's account as ListAccounts shows it: the account named `tessera-<tenant>` with the
 * tenant's root email (`rootEmailOf`: what a CreateAccount of the tenant asked for). Finds an account whose
 * request ListCreateAccountStatus no longer (or not yet) lists.
 */
export async function findTenantAccount(orgs: OrganizationsClient, record: TenantRecord): Promise<Account | undefined> {
  for await (const page of paginateListAccounts(pages(orgs), {})) {
    const match = (page.Accounts ?? []).find((a) => a.Name === tenantAccountName(record.tenantId) && a.Email?.toLowerCase() === rootEmailOf(record).toLowerCase());
    if (match) return match;
  }
  return undefined;
}

/**
 * What stands behind a request of the tenant that Organizations refused for its email
 * (EMAIL_ALREADY_EXISTS: the tenant's own email): another request of the tenant that succeeded
 * (its account) or is still in progress (wait for it), or the tenant's account found by name and
 * email in ListAccounts. Undefined: the email belongs to someone else.
 */
export async function ownAccountBehind(orgs: OrganizationsClient, record: TenantRecord, refusedRequestId?: string): Promise<{ accountId: string; requestId?: string } | { inProgress: string } | undefined> {
  const succeeded = await findClaimedRequest(orgs, record, { state: 'SUCCEEDED', except: refusedRequestId });
  if (succeeded?.AccountId) return { accountId: succeeded.AccountId, requestId: succeeded.Id };
  const running = await findClaimedRequest(orgs, record, { state: 'IN_PROGRESS', except: refusedRequestId });
  if (running?.Id) return { inProgress: running.Id };
  const account = await findTenantAccount(orgs, record);
  return account?.Id ? { accountId: account.Id } : undefined;
}

/**
 * What became of a tenant's account request, from the record's `createAccountRequestId` (or its
 * claim): every path that meets a tenant without an account id asks this, so an account that
 * Organizations finished creating after the tenant was marked FAILED is always found.
 */
export async function resolvePendingAccount(orgs: OrganizationsClient, record: TenantRecord): Promise<PendingAccount> {
  if (record.accountId && record.isolation === 'account') return { state: 'SUCCEEDED', accountId: record.accountId };
  let status: CreateAccountStatus | undefined;
  if (record.createAccountRequestId) {
    status = (await orgs.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: record.createAccountRequestId }))).CreateAccountStatus;
  } else if (record.createAccountClaim) {
    status = await findClaimedRequest(orgs, record);
    if (!status) {
      // Not listed (yet, or any more): the account may exist all the same.
      const account = await findTenantAccount(orgs, record);
      return account?.Id ? { state: 'SUCCEEDED', accountId: account.Id } : { state: 'CLAIMED' };
    }
  } else {
    return { state: 'NONE' };
  }
  return {
    state: (status?.State ?? 'IN_PROGRESS') as PendingAccount['state'], requestId: status?.Id ?? record.createAccountRequestId, accountId: status?.AccountId, failureReason: status?.FailureReason,
    ...(status?.RequestedTimestamp ? { requestedAt: status.RequestedTimestamp.toISOString() } : {}),
  };
}

/** Attaches the quarantine SCP to `accountId` unless it is attached: nothing but Tessera's deployers may act in it. */
export async function fenceAccount(orgs: OrganizationsClient, accountId: string): Promise<string> {
  const quarantine = await scpIdByName(orgs, QUARANTINE_SCP);
  await attachPolicyOnce(orgs, quarantine, accountId);
  return quarantine;
}
