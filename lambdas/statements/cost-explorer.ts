import { CostExplorerClient, GetCostAndUsageCommand, type GetCostAndUsageCommandInput } from '@aws-sdk/client-cost-explorer';
import { pagesOf } from '../../lib/aws-pages.js';
import { monthBounds } from '../../lib/statements/schema.js';
import { TENANT_ID_TAG } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { partition } from '../shared/environment.js';
import { httpHandler } from '../shared/http-handlers.js';
import type { InfrastructureCost } from './build-statement.js';

/**
 * Cost Explorer's endpoint: one per partition, `ce.us-east-1.amazonaws.com` in `aws` (and
 * `cn-northwest-1` in China), whatever region calls it.
 * https://docs.aws.amazon.com/general/latest/gr/billing.html
 */
export const costExplorerRegion = (p = partition()) => (p === 'aws-cn' ? 'cn-northwest-1' : 'us-east-1');

let client: CostExplorerClient | undefined;
/** The Lambda's Cost Explorer client (its own credentials; the region CE answers in; the `control` HTTP timeouts of lib/aws-http-timeouts.ts). */
export const costExplorer = () => (client ??= new CostExplorerClient({ region: costExplorerRegion(), maxAttempts: 5, requestHandler: httpHandler('control') }));

/** Cost Explorer refused or failed (AccessDenied, DataUnavailable for a month past its 13 months, throttling, …): the statement cannot be made. */
export class CostExplorerError extends Error {
  override readonly name = 'CostExplorerError';
  constructor(readonly month: string, readonly cause: unknown) {
    const e = cause as { name?: string; message?: string };
    super(`Cost Explorer did not answer for ${month}: ${e?.name ?? 'Error'}: ${e?.message ?? String(cause)}`);
  }
}

/** Who pays for a tenant's infrastructure in Cost Explorer's terms. */
export function costSource(tenant: Pick<TenantRecord, 'tenantId' | 'isolation' | 'accountId'>): InfrastructureCost['source'] | undefined {
  if (tenant.isolation === 'account') return tenant.accountId ? { groupBy: 'linked-account', key: 'LINKED_ACCOUNT', value: tenant.accountId } : undefined;
  return { groupBy: 'tag', key: TENANT_ID_TAG, value: tenant.tenantId };
}

/**
 * The GetCostAndUsage request for a tenant's month: MONTHLY granularity, UnblendedCost,
 * - vpc mode: filtered to and grouped by the `tessera:tenant-id` cost-allocation tag (CE names
 *   the group `tessera:tenant-id$<value>`); the tag must be activated in the payer account;
 * - account mode: filtered to and grouped by the tenant's LINKED_ACCOUNT.
 * TimePeriod: Start inclusive, End exclusive (CE's rule); for the running month End is tomorrow
 * (UTC), so the request never reaches into days that have not begun.
 * https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
 */
export function costRequest(source: InfrastructureCost['source'], month: string, now: Date): GetCostAndUsageCommandInput {
  const { start, end } = monthBounds(month);
  const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString().slice(0, 10);
  const base = { TimePeriod: { Start: start, End: end < tomorrow ? end : tomorrow }, Granularity: 'MONTHLY' as const, Metrics: ['UnblendedCost'] };
  if (source.groupBy === 'tag') {
    return { ...base, Filter: { Tags: { Key: source.key, Values: [source.value], MatchOptions: ['EQUALS'] } }, GroupBy: [{ Type: 'TAG', Key: source.key }] };
  }
  return { ...base, Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: [source.value] } }, GroupBy: [{ Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' }] };
}

/** The group key Cost Explorer answers for the source: `tessera:tenant-id$<tenant>` or the account id. */
export const groupKey = (source: InfrastructureCost['source']) => (source.groupBy === 'tag' ? `${source.key}$${source.value}` : source.value);

/**
 * The tenant's UnblendedCost for the month, following NextPageToken, summed over the groups of
 * its key (other keys, which a filter should never return, are ignored). `estimated` when any
 * period of the answer is (CE marks the running month and recent days estimated until the bill
 * is final). A tenant of account mode without an account yet has no cost (and no call is made).
 * @throws CostExplorerError wrapping the SDK's error (AccessDeniedException, DataUnavailableException, LimitExceededException, …)
 */
export async function infrastructureCost(ce: CostExplorerClient, tenant: Pick<TenantRecord, 'tenantId' | 'isolation' | 'accountId'>, month: string, now: Date): Promise<InfrastructureCost> {
  const source = costSource(tenant);
  if (!source) return { costUsd: 0, estimated: false, source: { groupBy: 'linked-account', key: 'LINKED_ACCOUNT', value: '(no account yet)' } };
  const request = costRequest(source, month, now);
  const key = groupKey(source);
  let micros = 0;
  let estimated = false;
  // Cost Explorer publishes no paginator for GetCostAndUsage: pagesOf, which stops on a repeated NextPageToken.
  const ask = async (token: string | undefined) => {
    try {
      return await ce.send(new GetCostAndUsageCommand({ ...request, NextPageToken: token }));
    } catch (e) {
      throw new CostExplorerError(month, e);
    }
  };
  for await (const out of pagesOf(ask, (page) => page.NextPageToken)) {
    for (const period of out.ResultsByTime ?? []) {
      estimated ||= period.Estimated === true;
      for (const g of period.Groups ?? []) {
        if (g.Keys?.[0] !== key) continue;
        const amount = g.Metrics?.UnblendedCost;
        if (amount?.Unit && amount.Unit !== 'USD') throw new Error(`Cost Explorer answered ${amount.Unit} for ${key}; statements are in USD`);
        micros += Math.round(Number(amount?.Amount ?? 0) * 1e6);
      }
    }
  }
  return { costUsd: micros / 1e6, estimated, source };
}
