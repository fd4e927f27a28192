import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  paginateListAWSDefaultServiceQuotas,
  paginateListRequestedServiceQuotaChangeHistoryByQuota,
  paginateListServiceQuotas,
  RequestServiceQuotaIncreaseCommand,
  type ServiceQuota,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { pages } from '../../lib/aws-pages.js';
import type { QuotaRequest } from '../../lib/tenant-record.js';

/**
 * Service Quotas reads and increase requests, in the target account (through the provisioning
 * session) and the Lambda's region. AWS API reference:
 * https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/Welcome.html
 */

/** What a quota is in the account: its value, its code (when Service Quotas has one), and where the value came from. */
export interface AppliedQuota {
  value: number;
  quotaCode?: string;
  /** `applied`: GetServiceQuota / ListServiceQuotas; `aws-default`: the AWS default of the quota; `rule-default`: the documented default in lib/quotas.ts (Service Quotas had nothing). */
  source: 'applied' | 'aws-default' | 'rule-default';
}

/** Statuses of a request still on its way (ListRequestedServiceQuotaChangeHistoryByQuota). */
export const OPEN_REQUEST_STATUSES = new Set(['PENDING', 'CASE_OPENED']);

const missing = (e: unknown) => (e as Error).name === 'NoSuchResourceException';

/**
 * Listings of quotas by name made during one check (appliedQuota's `listings`): one
 * ListServiceQuotas / ListAWSDefaultServiceQuotas per service code and check, however many quotas
 * of that service the check reads by name. Made per check, never kept longer: applied values change
 * (an increase granted), and SDK clients are reused across invocations (lambdas/shared/aws-clients.ts).
 */
export type QuotaListings = Map<string, Promise<ServiceQuota[]>>;

/** An empty QuotaListings, for one check. */
export const quotaListings = (): QuotaListings => new Map();

async function listAll(sq: ServiceQuotasClient, serviceCode: string, defaults: boolean, listings: QuotaListings): Promise<ServiceQuota[]> {
  const key = `${defaults ? 'default' : 'applied'}#${serviceCode}`;
  if (!listings.has(key)) {
    listings.set(key, (async () => {
      const quotas: ServiceQuota[] = [];
      const listing = defaults ? paginateListAWSDefaultServiceQuotas(pages(sq), { ServiceCode: serviceCode }) : paginateListServiceQuotas(pages(sq), { ServiceCode: serviceCode });
      for await (const out of listing) quotas.push(...(out.Quotas ?? []));
      return quotas;
    })());
  }
  return listings.get(key)!;
}

/**
 * The quota's value in the account. With a code: GetServiceQuota (the applied value), else
 * GetAWSDefaultServiceQuota; without one: the quota of that exact name in ListServiceQuotas, then
 * in ListAWSDefaultServiceQuotas (which also yields its code). Neither → `fallback` (the documented default).
 * `listings`: the check's listings, shared by the quotas it reads (default: this call's own).
 */
export async function appliedQuota(sq: ServiceQuotasClient, rule: { serviceCode: string; quotaCode?: string; name: string }, fallback: number, listings: QuotaListings = quotaListings()): Promise<AppliedQuota> {
  if (rule.quotaCode) {
    try {
      const out = await sq.send(new GetServiceQuotaCommand({ ServiceCode: rule.serviceCode, QuotaCode: rule.quotaCode }));
      if (out.Quota?.Value !== undefined) return { value: out.Quota.Value, quotaCode: rule.quotaCode, source: 'applied' };
    } catch (e) {
      if (!missing(e)) throw e;
    }
    try {
      const out = await sq.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: rule.serviceCode, QuotaCode: rule.quotaCode }));
      if (out.Quota?.Value !== undefined) return { value: out.Quota.Value, quotaCode: rule.quotaCode, source: 'aws-default' };
    } catch (e) {
      if (!missing(e)) throw e;
    }
    return { value: fallback, quotaCode: rule.quotaCode, source: 'rule-default' };
  }
  const applied = (await listAll(sq, rule.serviceCode, false, listings)).find((q) => q.QuotaName === rule.name);
  if (applied?.Value !== undefined) return { value: applied.Value, quotaCode: applied.QuotaCode, source: 'applied' };
  const byDefault = (await listAll(sq, rule.serviceCode, true, listings)).find((q) => q.QuotaName === rule.name);
  if (byDefault?.Value !== undefined) return { value: byDefault.Value, quotaCode: byDefault.QuotaCode, source: 'aws-default' };
  return { value: fallback, source: 'rule-default' };
}

/** The newest increase request of this quota still open (PENDING or CASE_OPENED), if any. */
export async function openRequest(sq: ServiceQuotasClient, serviceCode: string, quotaCode: string): Promise<{ id?: string; desired?: number; status: string } | undefined> {
  for await (const out of paginateListRequestedServiceQuotaChangeHistoryByQuota(pages(sq), { ServiceCode: serviceCode, QuotaCode: quotaCode })) {
    const open = (out.RequestedQuotas ?? [])
      .filter((r) => OPEN_REQUEST_STATUSES.has(r.Status ?? ''))
      .sort((a, b) => (b.Created?.getTime() ?? 0) - (a.Created?.getTime() ?? 0))[0];
    if (open) return { id: open.Id, desired: open.DesiredValue, status: open.Status! };
  }
  return undefined;
}

/**
 * Asks for `desired` unless a request is already open (then that one is reported). Never asks for
 * less than `applied` (Service Quotas increases only). Returns the registry entry.
 * Service Quotas refuses a second request while one is open (`ResourceAlreadyExistsException`): met after the listing
 * here (the SDK sent RequestServiceQuotaIncrease again after its answer was lost, or another run filed one meanwhile),
 * the open request is read again and reported; found none, the error stands.
 */
export async function requestIncrease(
  sq: ServiceQuotasClient,
  quota: { serviceCode: string; quotaCode: string; name: string; applied: number; desired: number; region: string },
): Promise<QuotaRequest & { alreadyOpen: boolean }> {
  const base = { serviceCode: quota.serviceCode, quotaCode: quota.quotaCode, name: quota.name, applied: quota.applied, region: quota.region, requestedAt: new Date().toISOString() };
  const open = await openRequest(sq, quota.serviceCode, quota.quotaCode);
  if (open) return { ...base, desired: open.desired ?? quota.desired, requestId: open.id, status: open.status, alreadyOpen: true };
  const desired = Math.max(quota.desired, quota.applied);
  try {
    const out = await sq.send(new RequestServiceQuotaIncreaseCommand({ ServiceCode: quota.serviceCode, QuotaCode: quota.quotaCode, DesiredValue: desired }));
    return { ...base, desired, requestId: out.RequestedQuota?.Id, status: out.RequestedQuota?.Status ?? 'PENDING', alreadyOpen: false };
  } catch (e) {
    if ((e as Error).name !== 'ResourceAlreadyExistsException') throw e;
    const filed = await openRequest(sq, quota.serviceCode, quota.quotaCode);
    if (!filed) throw e;
    return { ...base, desired: filed.desired ?? desired, requestId: filed.id, status: filed.status, alreadyOpen: true };
  }
}
