import { unreadableTenantText, type DriftPage, type DriftRow, type TenantPage, type UnreadableTenant } from '../tenant-list-page.js';
import type { TenantRecord } from '../tenant-record.js';
import type { AdminClient } from './admin-client.js';
import { CliError } from './cli-error.js';

/**
 * Every item of a paged admin list (`GET /admin/tenants`, `GET /admin/drift`) with the query:
 * follows `nextToken` page after page, then sorts by tenant id (unfiltered pages come in DynamoDB
 * Scan order), and each page's `etags` into `etags` when given. `limit` is not sent: the API's default page suits, and an admin API deployed before
 * pages (which refused unknown parameters) answers the same call with the whole list and no token.
 * @throws AdminApiError as AdminClient.call; CliError when the API hands back a token it handed
 *   before (the one just sent, or one of an earlier page: the list would never end)
 */
export async function allPages<T extends { tenantId: string }>(api: AdminClient, path: string, query: Record<string, string | undefined>, unreadable: UnreadableTenant[] = [], etags?: Map<string, string>): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  // Every token of one list continues after a different tenant: one seen before starts a loop (A, B, A, ...).
  const seen = new Set<string>();
  do {
    const page = await api.call<{ tenants: T[]; unreadable?: UnreadableTenant[]; etags?: Record<string, string>; nextToken?: string }>('GET', path, undefined, { ...query, nextToken });
    items.push(...page.tenants);
    for (const [id, etag] of Object.entries(page.etags ?? {})) etags?.set(id, etag);
    unreadable.push(...(page.unreadable ?? []));
    if (page.nextToken !== undefined && seen.has(page.nextToken)) {
      const which = page.nextToken === nextToken ? 'the nextToken it was sent' : 'the nextToken of an earlier page';
      throw new CliError(`GET ${path} answered ${which} (${page.nextToken.slice(0, 60)}); the list would never end: report this`);
    }
    nextToken = page.nextToken;
    if (nextToken !== undefined) seen.add(nextToken);
  } while (nextToken);
  return items.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
}

/**
 * Every tenant of `GET /admin/tenants` (TenantPage) with the filters, sorted by id: allPages.
 * @param unreadable told of the records the pages name as unreadable (TenantPage `unreadable`, left out of the list)
 * @param etags filled with each tenant's ETag (TenantPage `etags`: the If-Match of a PATCH decided on this list); left
 *   without them by an admin API deployed before 2026-12-06
 * @throws CliError naming each unreadable record when no `unreadable` is given: a caller that acts on the whole
 *   registry (teardown, apply, platform health) must not take a list without them for all of it
 */
export async function allTenants(api: AdminClient, filter: { status?: string; tier?: string }, unreadable?: (records: UnreadableTenant[]) => void, etags?: Map<string, string>): Promise<TenantRecord[]> {
  const left: UnreadableTenant[] = [];
  const tenants = await allPages<TenantPage['tenants'][number]>(api, '/admin/tenants', filter, left, etags);
  if (left.length && !unreadable) throw new CliError(left.map(describeUnreadable).join('\n'));
  if (left.length) unreadable!(left);
  return tenants;
}

/** One unreadable registry record as a line: the tenant, each field and value at fault, what to do. */
export function describeUnreadable(u: UnreadableTenant): string {
  return `${unreadableTenantText(u)}; correct the record (it was edited outside Tessera)`;
}

/**
 * Every drift row of `GET /admin/drift` (DriftPage) with the drift `status`, sorted by id: allPages.
 * @param unreadable told of the records the pages name as unreadable (DriftPage `unreadable`, left out of the rows)
 */
export async function allDriftRows(api: AdminClient, status: string | undefined, unreadable: (records: UnreadableTenant[]) => void): Promise<DriftRow[]> {
  const left: UnreadableTenant[] = [];
  const rows = await allPages<DriftPage['tenants'][number]>(api, '/admin/drift', { status }, left);
  if (left.length) unreadable(left);
  return rows;
}
