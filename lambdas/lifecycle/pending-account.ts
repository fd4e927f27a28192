import { AttachPolicyCommand, DescribeCreateAccountStatusCommand, ListPoliciesForTargetCommand, paginateListCreateAccountStatus, type CreateAccountStatus, type OrganizationsClient } from '@aws-sdk/client-organizations';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { QUARANTINE_SCP, scpIdByName } from './organization-lookup.js';

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
}

/**
 * The CreateAccount request of a tenant's claim, found in ListCreateAccountStatus by account name
 * among the requests made since the claim (a retried *Create account* whose first call reached
 * Organizations but not the registry); `state` and `except` narrow it to another request of the
 * tenant that succeeded (the one a refused duplicate stands behind).
 */
export async function findClaimedRequest(
  orgs: OrganizationsClient, record: TenantRecord, options: { state?: 'SUCCEEDED'; except?: string } = {},
): Promise<CreateAccountStatus | undefined> {
  const since = Date.parse(record.createAccountClaim?.at ?? record.createdAt) - 60_000;
  const states = options.state ? [options.state] : ['IN_PROGRESS' as const, 'SUCCEEDED' as const, 'FAILED' as const];
  for await (const page of paginateListCreateAccountStatus({ client: orgs }, { States: states })) {
    const match = (page.CreateAccountStatuses ?? []).find((s) => s.AccountName === tenantAccountName(record.tenantId) && (s.RequestedTimestamp?.getTime() ?? 0) >= since
      && (!options.state || s.State === options.state) && s.Id !== options.except);
    if (match) return match;
  }
  return undefined;
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
    if (!status) return { state: 'CLAIMED' };
  } else {
    return { state: 'NONE' };
  }
  return { state: (status?.State ?? 'IN_PROGRESS') as PendingAccount['state'], requestId: status?.Id ?? record.createAccountRequestId, accountId: status?.AccountId, failureReason: status?.FailureReason };
}

/** Attaches the quarantine SCP to `accountId` unless it is attached: nothing but Tessera's deployers may act in it. */
export async function fenceAccount(orgs: OrganizationsClient, accountId: string): Promise<string> {
  const quarantine = await scpIdByName(orgs, QUARANTINE_SCP);
  const attached = await orgs.send(new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'SERVICE_CONTROL_POLICY' }));
  if (!attached.Policies?.some((p) => p.Id === quarantine)) await orgs.send(new AttachPolicyCommand({ PolicyId: quarantine, TargetId: accountId }));
  return quarantine;
}
