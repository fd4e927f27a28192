import { z } from 'zod';
import { TENANT_ID_PATTERN } from '../../lib/tenant-naming.js';
import { TENANT_PAGE_BYTES, TENANT_PAGE_LIMIT, type TenantPage } from '../../lib/tenant-list-page.js';
import { TenantStatus, type TenantRecord } from '../../lib/tenant-record.js';
import { ApiError } from '../shared/api-errors.js';
import { platformConfig } from '../shared/environment.js';
import { listTenantPage, type TenantFilter } from '../shared/registry.js';
import { json, parse, type Route } from './admin-http.js';

const LIMIT_RULE = `must be a whole number from 1 to ${TENANT_PAGE_LIMIT.max}`;
const ListQuery = z.strictObject({
  status: TenantStatus.optional(),
  tier: z.string().min(1).optional(),
  limit: z.string().regex(/^\d{1,4}$/, LIMIT_RULE).transform(Number).refine((n) => n >= 1 && n <= TENANT_PAGE_LIMIT.max, LIMIT_RULE).optional(),
  nextToken: z.string().optional(),
});

/** What a nextToken holds: the tenant id after which the next page starts, and the filters of the list it belongs to. */
const TokenContent = z.strictObject({ after: z.string().regex(new RegExp(TENANT_ID_PATTERN)), status: TenantStatus.optional(), tier: z.string().min(1).optional() });

/** A token names its list's filters: the next page of another list would start at a place that list never had. */
export function encodeNextToken(after: string, filter: TenantFilter): string {
  return Buffer.from(JSON.stringify({ after, ...filter })).toString('base64url');
}

/**
 * The tenant id after which the page of `token` starts, checked: a token this API issued
 * (base64url JSON of TokenContent) for a list with the same `status` and `tier` as `filter`.
 * @throws ApiError 400 naming `nextToken` (its value cut at 120 characters) when it is not one, or another list's
 */
export function decodeNextToken(token: string, filter: TenantFilter): string {
  const shown = JSON.stringify(token.length > 120 ? `${token.slice(0, 117)}...` : token);
  const refuse = (why: string) => new ApiError(400, `nextToken = ${shown}: ${why}`, 'invalid_request_error', 'invalid_next_token', 'nextToken');
  let content: z.infer<typeof TokenContent> | undefined;
  if (/^[A-Za-z0-9_-]{1,1400}$/.test(token)) {
    try {
      content = TokenContent.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    } catch {
      content = undefined;
    }
  }
  if (!content) throw refuse('not a token of this list; send the nextToken of the previous page as it came, or none for the first page');
  const asked = (f: TenantFilter) => [f.status && `status=${f.status}`, f.tier && `tier=${JSON.stringify(f.tier).slice(0, 80)}`].filter(Boolean).join(', ') || 'no filter';
  if (content.status !== filter.status || content.tier !== filter.tier) {
    throw refuse(`it continues the list with ${asked(content)}, this request asks ${asked(filter)}; send the same status and tier with it`);
  }
  return content.after;
}

/** A record's bytes in the Lambda answer: its JSON, escaped once more inside the proxy integration's string body, and a comma. */
const answerBytes = (record: TenantRecord): number => Buffer.byteLength(JSON.stringify(JSON.stringify(record))) - 1;

/**
 * `GET /admin/tenants[?status=S][&tier=T][&limit=N][&nextToken=X]`: one page of full tenant records
 * (TenantPage: `{ tenants, nextToken? }`). Pages come in DynamoDB's order: without a filter a Scan's
 * (not sorted by id; the CLI sorts the whole list), with `status` or `tier` the index's, sorted by
 * tenant id. A page holds at most `limit` records (default 100, at most 1,000: TENANT_PAGE_LIMIT)
 * and at most 4 MiB of them (TENANT_PAGE_BYTES; before pages, every record in one body passed
 * Lambda's 6 MB answer from some 440 tenants with a year of history); with both `status` and
 * `tier` a page also ends after 10 DynamoDB reads of the status index (MAX_PAGE_READS), short or even
 * empty, with a `nextToken` (a rare tier: the rest of the index is not read in one answer); `nextToken` continues the
 * same list (same `status` and `tier`; `limit` may change). A tenant written between pages may or
 * may not appear; none appears twice (every page starts after the previous one's last key).
 * @throws ApiError 400 naming an unknown parameter, a bad `status`, an unknown `tier`, a `limit`
 *   out of 1-1,000, or a `nextToken` that is not one of this list's (nothing is read)
 */
export const tenantListRoutes: Record<string, Route> = {
  'GET /admin/tenants': async (event) => {
    const q = parse(ListQuery, event.queryStringParameters ?? {});
    if (q.tier && !Object.hasOwn(platformConfig().tiers, q.tier)) {
      const shown = JSON.stringify(q.tier);
      throw new ApiError(400, `tier = ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}: does not exist`, 'invalid_request_error', 'unknown_tier', 'tier');
    }
    const filter: TenantFilter = { ...(q.status ? { status: q.status } : {}), ...(q.tier ? { tier: q.tier } : {}) };
    const after = q.nextToken === undefined ? undefined : decodeNextToken(q.nextToken, filter);
    const page = await listTenantPage(filter, { limit: q.limit ?? TENANT_PAGE_LIMIT.default, after, maxBytes: TENANT_PAGE_BYTES, sizeOf: answerBytes });
    const answer: TenantPage = { tenants: page.tenants, ...(page.after ? { nextToken: encodeNextToken(page.after, filter) } : {}) };
    return json(200, answer);
  },
};
