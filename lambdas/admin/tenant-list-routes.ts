import { z } from 'zod';
import { TENANT_PAGE_BYTES, TENANT_PAGE_LIMIT, type TenantPage } from '../../lib/tenant-list-page.js';
import { TenantStatus, type TenantRecord } from '../../lib/tenant-record.js';
import { platformConfig } from '../shared/environment.js';
import { listTenantPage, type TenantFilter } from '../shared/registry.js';
import { json, parse, unknownTier, type AdminRoutes } from './admin-http.js';
import { tenantEtag } from './tenant-etag.js';
import { decodeNextToken, encodeNextToken, PageQuery } from './list-paging.js';

const ListQuery = z.strictObject({
  status: TenantStatus.optional(),
  tier: z.string().min(1).optional(),
  ...PageQuery,
});

/** A record's bytes in the Lambda answer: its JSON, escaped once more inside the proxy integration's string body, and a comma. */
const answerBytes = (record: TenantRecord): number => Buffer.byteLength(JSON.stringify(JSON.stringify(record))) - 1;

/**
 * `GET /admin/tenants[?status=S][&tier=T][&limit=N][&nextToken=X]`: one page of full tenant records
 * (TenantPage: `{ tenants, etags, nextToken? }`, `etags` each record's ETag by tenant id: tenant-etag.ts tenantEtag). Pages come in DynamoDB's order: without a filter a Scan's
 * (not sorted by id; the CLI sorts the whole list), with `status` or `tier` the index's, sorted by
 * tenant id. A page holds at most `limit` records (default 100, at most 1,000: TENANT_PAGE_LIMIT)
 * and at most 4 MiB of them (TENANT_PAGE_BYTES; before pages, every record in one body passed
 * Lambda's 6 MB answer from some 440 tenants with a year of history); with both `status` and
 * `tier` a page also ends after 10 DynamoDB reads of the status index (MAX_PAGE_READS), short or even
 * empty, with a `nextToken` (a rare tier: the rest of the index is not read in one answer); `nextToken` continues the
 * same list (same `status` and `tier`; `limit` may change). A tenant written between pages may or
 * may not appear; none appears twice (every page starts after the previous one's last key). A record that does not
 * match the schema (edited by hand) is left out of `tenants` and named in `unreadable` (`{ tenantId, problems }`,
 * UnreadableTenant), as listTenants leaves it out of the workflows' lists: the page still answers 200 for the others.
 * @throws ApiError 400 naming an unknown parameter, a bad `status`, an unknown `tier`, a `limit`
 *   out of 1-1,000, or a `nextToken` that is not one of this list's (nothing is read)
 */
export const tenantListRoutes: AdminRoutes = {
  'GET /admin/tenants': { query: ListQuery, idempotencyKey: 'no-op', handle: async (event) => {
    const q = parse(ListQuery, event.queryStringParameters ?? {});
    if (q.tier && !Object.hasOwn(platformConfig().tiers, q.tier)) {
      throw unknownTier(q.tier, Object.keys(platformConfig().tiers));
    }
    const filter: TenantFilter = { ...(q.status ? { status: q.status } : {}), ...(q.tier ? { tier: q.tier } : {}) };
    const after = q.nextToken === undefined ? undefined : decodeNextToken(q.nextToken, filter);
    const page = await listTenantPage(filter, { limit: q.limit ?? TENANT_PAGE_LIMIT.default, after, maxBytes: TENANT_PAGE_BYTES, sizeOf: answerBytes });
    const answer: TenantPage = {
      tenants: page.tenants,
      // Each record's ETag, as GET /admin/tenants/{id} answers it: the If-Match of a PATCH decided on this list (tenants apply).
      etags: Object.fromEntries(page.tenants.map((t) => [t.tenantId, tenantEtag(t)])),
      ...(page.unreadable.length ? { unreadable: page.unreadable } : {}),
      ...(page.after ? { nextToken: encodeNextToken(page.after, filter) } : {}),
    };
    return json(200, answer);
  } },
};
