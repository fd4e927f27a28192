import { can } from '../../../lib/identity/roles.js';
import type { AuditRecord } from '../audit.js';
import { findRequestRecord, isAuditDay, lookupDays, REQUEST_ID, requestRecordView, type AuditRecordReader } from '../audit-records.js';
import type { Caller } from '../auth.js';
import { invalid, notFound } from '../openai-errors.js';
import { refuseUnknownRouteQuery } from '../query-parameters.js';
import { segment } from './tenant-admin-io.js';
import type { TenantAnswer } from './tenant-keys.js';

/**
 * `GET /v1/tenant/requests/{request_id}[?date=YYYY-MM-DD]` (Tessera's own route; the gateway has checked
 * `usage.read_own`): the audit record of one of the caller's tenant's requests (requestRecordView: no prompt text),
 * read from the caller's tenant's records only (on AWS as the tenant: S3AuditRecordReader).
 * - with `usage.read` (admin, developer, viewer): any request of the tenant;
 * - with only `usage.read_own` (member): only its own (a key caller: its key's; a user: its own, not a key's).
 * The day: `date` when given, else today then yesterday (UTC): lookupDays.
 * @param path `/v1/tenant/requests/{request_id}`
 * @returns 200 the view, with the action `tenant.request.read` (a read, audited as the other tenant reads are)
 * @throws GatewayError 400 `unknown_parameter` for a query parameter other than `date`, `invalid_value` for a `date`
 *   that is not a calendar day YYYY-MM-DD; 404 `request_not_found` (param `request_id`) for an id that is not a gateway
 *   request id, not found on those days, another tenant's, or (for a role without `usage.read`) another caller's:
 *   one answer for all, so that an id says nothing of what others did
 */
export async function tenantRequest(reader: AuditRecordReader, caller: Caller, path: string, query: Record<string, string | undefined>, now = Date.now()): Promise<TenantAnswer> {
  refuseUnknownRouteQuery('GET', path, query);
  const date = query.date;
  if (date !== undefined && !isAuditDay(date)) throw invalid(`date "${date.slice(0, 40)}" must be a calendar day YYYY-MM-DD (UTC), the day the request was made`, 'date', 'invalid_value');
  const requestId = segment(path.slice('/v1/tenant/requests/'.length));
  const days = lookupDays(date, now);
  const record = await findRequestRecord(reader, caller.tenantId, days, requestId, caller.tenant.tier);
  const own = (r: AuditRecord) => (caller.keyId ? r.keyId === caller.keyId : r.keyId === undefined && r.userId === caller.userId);
  if (!record || !(can(caller.role, 'usage.read') || own(record))) {
    const shown = requestId.slice(0, 60);
    const where = REQUEST_ID.test(requestId) ? `no request ${shown} in tenant ${caller.tenantId}'s records of ${days.join(' or ')} (UTC)` : `"${shown}" is not a request id of this gateway (req_, chatcmpl- or cmpl- and 24 hex digits, as x-request-id answers)`;
    const whose = can(caller.role, 'usage.read') ? '' : `; role "${caller.role}" reads only its own requests`;
    const day = date === undefined && REQUEST_ID.test(requestId) ? '; pass date=YYYY-MM-DD for an older request' : '';
    throw notFound(`${where}${whose}${day}`, 'request_id', 'request_not_found');
  }
  return { status: 200, body: JSON.stringify(requestRecordView(record)), action: 'tenant.request.read', detail: { requestId: record.requestId } };
}
