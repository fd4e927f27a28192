import type { TenantPage } from '../tenant-list-page.js';
import type { TenantRecord } from '../tenant-record.js';
import type { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';

/**
 * Every tenant of `GET /admin/tenants` with the filters: follows `nextToken` page after page (the
 * admin API answers at most 100 records a page: lib/tenant-list-page.ts), then sorts by tenant id
 * (the pages of an unfiltered list come in DynamoDB Scan order). `limit` is not sent: the API's
 * default page suits, and an admin API deployed before pages (which refused unknown parameters)
 * answers the same call with the whole list and no token.
 * @throws AdminApiError as AdminClient.call; CliError when the API hands back a token it handed
 *   before (the one just sent, or one of an earlier page: the list would never end)
 */
export async function allTenants(api: AdminClient, filter: { status?: string; tier?: string }): Promise<TenantRecord[]> {
  const tenants: TenantRecord[] = [];
  let nextToken: string | undefined;
  // Every token of one list continues after a different tenant: one seen before starts a loop (A, B, A, ...).
  const seen = new Set<string>();
  do {
    const page: TenantPage = await api.call<TenantPage>('GET', '/admin/tenants', undefined, { ...filter, nextToken });
    tenants.push(...page.tenants);
    if (page.nextToken !== undefined && seen.has(page.nextToken)) {
      const which = page.nextToken === nextToken ? 'the nextToken it was sent' : 'the nextToken of an earlier page';
      throw new CliError(`GET /admin/tenants answered ${which} (${page.nextToken.slice(0, 60)}); the list would never end: report this`);
    }
    nextToken = page.nextToken;
    if (nextToken !== undefined) seen.add(nextToken);
  } while (nextToken);
  return tenants.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
}
