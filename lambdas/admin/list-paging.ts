import { z } from 'zod';
import { TENANT_PAGE_LIMIT } from '../../lib/tenant-list-page.js';
import { isTenantId, TenantStatus } from '../../lib/tenant-record.js';
import { ApiError } from '../shared/api-errors.js';
import type { TenantFilter } from '../shared/registry.js';

const LIMIT_RULE = `must be a whole number from 1 to ${TENANT_PAGE_LIMIT.max}`;

/**
 * The paging parameters of the admin API's tenant lists (`GET /admin/tenants`, `GET /admin/drift`),
 * to spread into a route's strict query schema: `limit` (a string of 1 to TENANT_PAGE_LIMIT.max,
 * parsed to a number; 400 naming it otherwise) and `nextToken` (checked by decodeNextToken).
 */
export const PageQuery = {
  limit: z.string().regex(/^\d{1,4}$/, LIMIT_RULE).transform(Number).refine((n) => n >= 1 && n <= TENANT_PAGE_LIMIT.max, LIMIT_RULE).optional(),
  nextToken: z.string().optional(),
};

/**
 * What a list's filters are, as a token records them: the registry's (`status`, `tier`) and, for
 * `GET /admin/drift`, the drift status asked (`drift`, applied to the rows in the Lambda).
 */
export interface ListFilter extends TenantFilter {
  readonly drift?: string;
}

/** What a nextToken holds: the tenant id after which the next page starts, and the filters of the list it belongs to. */
const TokenContent = z.strictObject({
  after: z.string().refine(isTenantId), status: TenantStatus.optional(), tier: z.string().min(1).optional(), drift: z.string().min(1).optional(),
});

/** A token names its list's filters: the next page of another list would start at a place that list never had. */
export function encodeNextToken(after: string, filter: ListFilter): string {
  return Buffer.from(JSON.stringify({ after, ...filter })).toString('base64url');
}

/**
 * The tenant id after which the page of `token` starts, checked: a token this API issued
 * (base64url JSON of TokenContent) for a list with the same filters (`status`, `tier`, `drift`) as `filter`.
 * @throws ApiError 400 naming `nextToken` (its value cut at 120 characters) when it is not one, or another list's
 */
export function decodeNextToken(token: string, filter: ListFilter): string {
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
  // GET /admin/drift's query names its drift status `status`: a token says it as it was asked.
  const asked = (f: ListFilter) => [f.status && `status=${f.status}`, f.tier && `tier=${JSON.stringify(f.tier).slice(0, 80)}`, f.drift && `status=${f.drift} (drift)`].filter(Boolean).join(', ') || 'no filter';
  if (content.status !== filter.status || content.tier !== filter.tier || content.drift !== filter.drift) {
    throw refuse(`it continues the list with ${asked(content)}, this request asks ${asked(filter)}; send the same ${filter.drift !== undefined || content.drift !== undefined ? 'status' : 'status and tier'} with it`);
  }
  return content.after;
}
