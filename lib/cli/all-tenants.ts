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
 * @throws AdminApiError as AdminClient.call; CliError when the API hands back the token it was sent (it would never end)
 */
export async function allTenants(api: AdminClient, filter: { status?: string; tier?: string }): Promise<TenantRecord[]> {
  const tenants: TenantRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page: TenantPage = await api.call<TenantPage>('GET', '/admin/tenants', undefined, { ...filter, nextToken });
    tenants.push(...page.tenants);
    if (page.nextToken !== undefined && page.nextToken === nextToken) throw new CliError(`GET /admin/tenants answered the nextToken it was sent (${nextToken.slice(0, 60)}); the list would never end: report this`);
    nextToken = page.nextToken;
  } while (nextToken);
  return tenants.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
}
