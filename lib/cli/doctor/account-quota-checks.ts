import { paginateListAccounts, type Account } from '@aws-sdk/client-organizations';
import { paginateListAWSDefaultServiceQuotas, paginateListServiceQuotas, type ServiceQuota, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { pages } from '../../aws-pages.js';
import { GLOBAL_QUOTA_REGION, ORGANIZATION_ACCOUNTS_QUOTA } from '../../quotas.js';
import { describeAwsError } from '../aws-errors.js';
import { grantOrRerun, result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/** Free account slots at or below which the check warns: an onboarding or two from ACCOUNT_LIMIT_EXCEEDED. */
export const ACCOUNT_SLOTS_WARN_AT = 2;

/**
 * The organization's accounts quota as Service Quotas answers it (ORGANIZATION_ACCOUNTS_QUOTA, found by name): the applied
 * value (ListServiceQuotas), else the AWS default (ListAWSDefaultServiceQuotas), else undefined (Service Quotas lists no such
 * quota for the service).
 */
async function accountsQuota(sq: ServiceQuotasClient): Promise<{ value: number; code?: string; applied: boolean } | undefined> {
  const find = (quotas: ServiceQuota[] | undefined) => quotas?.find((q) => ORGANIZATION_ACCOUNTS_QUOTA.namePattern.test(q.QuotaName ?? '') && typeof q.Value === 'number');
  for await (const page of paginateListServiceQuotas(pages(sq), { ServiceCode: ORGANIZATION_ACCOUNTS_QUOTA.serviceCode })) {
    const q = find(page.Quotas);
    if (q) return { value: q.Value!, code: q.QuotaCode, applied: true };
  }
  for await (const page of paginateListAWSDefaultServiceQuotas(pages(sq), { ServiceCode: ORGANIZATION_ACCOUNTS_QUOTA.serviceCode })) {
    const q = find(page.Quotas);
    if (q) return { value: q.Value!, code: q.QuotaCode, applied: false };
  }
  return undefined;
}

const accountsPhrase = (n: number) => `${n} account${n === 1 ? '' : 's'}`;

/** An account's state (`State`; `Status` on answers that predate it). */
const stateOf = (a: Account): string => a.State ?? a.Status ?? 'UNKNOWN';

/**
 * The organization's account count against its accounts quota, when a tier uses account isolation (each of its tenants
 * takes an account: at the quota, CreateAccount fails ACCOUNT_LIMIT_EXCEEDED after the onboarding waited for a slot).
 * Every account ListAccounts lists counts but a CLOSED one: SUSPENDED and PENDING_CLOSURE accounts (offboarded tenants'
 * in their 90-day post-closure period) still count. `fail` with no free slot, `warn` with ACCOUNT_SLOTS_WARN_AT or fewer.
 * Calls: organizations:ListAccounts (management account); servicequotas:ListServiceQuotas and, when that lists no such
 * quota, servicequotas:ListAWSDefaultServiceQuotas, in us-east-1 (Organizations' quotas are served there only).
 */
export async function accountQuotaChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const id = 'organization-accounts';
  const title = 'Organization accounts quota';
  const where = { account: ctx.callerAccount, region: GLOBAL_QUOTA_REGION };
  const accountTiers = Object.entries(ctx.config.tiers).filter(([, t]) => t.isolation === 'account').map(([name]) => name);
  if (accountTiers.length === 0) return [result(id, title, 'pass', 'not needed (no tier uses account isolation: tenants take no account)', where)];
  const management = ctx.config.organization.managementAccountId;
  let accounts: Account[] = [];
  try {
    for await (const page of paginateListAccounts(pages(ctx.caller.organizations), {})) accounts.push(...(page.Accounts ?? []));
  } catch (e) {
    return [result(id, title, 'fail', describeAwsError('organizations:ListAccounts', e), {
      ...where, fix: grantOrRerun(e, `run doctor with credentials of the management account ${management} (--profile)`, 'aws organizations list-accounts'),
    })];
  }
  accounts = accounts.filter((a) => stateOf(a) !== 'CLOSED');
  let quota: Awaited<ReturnType<typeof accountsQuota>>;
  try {
    quota = await accountsQuota(ctx.callerIn(GLOBAL_QUOTA_REGION).serviceQuotas);
  } catch (e) {
    return [result(id, title, 'warn', `${accountsPhrase(accounts.length)} in the organization; the quota is unread: ${describeAwsError('servicequotas:ListServiceQuotas organizations', e)}`, {
      ...where, fix: grantOrRerun(e, `grant servicequotas:ListServiceQuotas and servicequotas:ListAWSDefaultServiceQuotas in ${GLOBAL_QUOTA_REGION}, or compare ${accounts.length} with "${ORGANIZATION_ACCOUNTS_QUOTA.name}" in the Service Quotas console (AWS Organizations, ${GLOBAL_QUOTA_REGION})`, `aws service-quotas list-service-quotas --service-code organizations --region ${GLOBAL_QUOTA_REGION}`),
    })];
  }
  const limit = quota?.value ?? ORGANIZATION_ACCOUNTS_QUOTA.defaultValue;
  const byState = new Map<string, number>();
  for (const a of accounts) byState.set(stateOf(a), (byState.get(stateOf(a)) ?? 0) + 1);
  const states = [...byState].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${n} ${s}`).join(', ');
  const source = quota ? `${quota.applied ? 'applied' : 'AWS default'}${quota.code ? `, ${quota.code}` : ''}` : `Service Quotas lists none: the documented default`;
  const free = limit - accounts.length;
  const detail = `${accountsPhrase(accounts.length)} (${states}) of a quota of ${limit} (${source}): ${Math.max(free, 0)} free for tier${accountTiers.length === 1 ? '' : 's'} ${accountTiers.join(', ')}; SUSPENDED accounts (offboarded tenants') count until 90 days after their closure`;
  if (free > ACCOUNT_SLOTS_WARN_AT) return [result(id, title, 'pass', detail, where)];
  const code = quota?.code ?? '<the code `aws service-quotas list-service-quotas --service-code organizations` shows>';
  const fix = `in the management account ${management}: aws service-quotas request-service-quota-increase --service-code organizations --quota-code ${code} --desired-value ${limit + 10} --region ${GLOBAL_QUOTA_REGION}`;
  return [result(id, title, free <= 0 ? 'fail' : 'warn', free <= 0 ? `${detail}: the next account tenant's CreateAccount fails ACCOUNT_LIMIT_EXCEEDED` : detail, { ...where, fix })];
}
