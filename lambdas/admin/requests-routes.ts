import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { findRequestRecord, isAuditDay, lookupDays, REQUEST_ID, requestRecordView, type AuditRecordReader } from '../inference/audit-records.js';
import { S3AuditRecordReader } from '../inference/s3-audit-reader.js';
import { ApiError } from '../shared/api-errors.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { json, parse, shownValue, tenantOr404, type AdminRoutes } from './admin-http.js';

const RequestQuery = z.strictObject({ date: z.string().optional() });

let reader: AuditRecordReader | undefined;
/**
 * The gateway's records in the audit bucket (`TESSERA_AUDIT_BUCKET`) read with the admin API's own role (its grant
 * `ReadGatewayAuditRecords`: GetObject under `tessera-audit/{,dr-tier/}inference/` and `tessera-audit/{,dr-tier/}fine-tuning/`,
 * the operator's view of every tenant), the router's stream first, then the fine-tuning API's, both prefixes of each tried.
 */
const auditRecords = () => (reader ??= new S3AuditRecordReader(requireEnv(ENV.auditBucket), async () => platformClient(S3Client)));

/** Replaces the reader (tests). */
export function setAuditRecordReader(r: AuditRecordReader | undefined): void {
  reader = r;
}

/**
 * `GET /admin/tenants/{id}/requests/{requestId}[?date=YYYY-MM-DD]` (`tessera requests show`): one gateway request's
 * audit record, as the tenant's own route answers it (endpoints/tenant-requests.ts requestRecordView: no prompt text,
 * no prompt hash), whoever in the tenant made it. The day: `date`, else today then yesterday (UTC).
 * @throws ApiError 400 `unknown_parameter` for a query parameter other than `date`, `invalid_date` for a date that is
 *   not a calendar day YYYY-MM-DD; 404 `tenant_not_found`; 404 `request_not_found` (param `requestId`) when the id is not
 *   a gateway request id or the tenant has no record of it on those days
 */
export const requestsRoutes: AdminRoutes = {
  'GET /admin/tenants/{id}/requests/{requestId}': { query: RequestQuery, idempotencyKey: 'no-op', handle: async (event, id) => {
    const q = parse(RequestQuery, event.queryStringParameters ?? {});
    if (q.date !== undefined && !isAuditDay(q.date)) throw new ApiError(400, `date = ${shownValue(q.date)}: not a calendar day YYYY-MM-DD (UTC), the day the request was made`, 'invalid_request_error', 'invalid_date', 'date');
    const tenant = await tenantOr404(id!);
    const requestId = event.pathParameters?.requestId ?? '';
    const days = lookupDays(q.date, Date.now());
    const record = await findRequestRecord(auditRecords(), tenant.tenantId, days, requestId, tenant.tier);
    if (!record) {
      const why = REQUEST_ID.test(requestId) ? `tenant ${tenant.tenantId} has no gateway record of request ${requestId} on ${days.join(' or ')} (UTC)${q.date ? '' : '; pass date=YYYY-MM-DD for an older request'}`
        : `requestId = ${shownValue(requestId)}: not a gateway request id (req_, chatcmpl- or cmpl- and 24 hex digits, as x-request-id answers)`;
      throw new ApiError(404, why, 'not_found_error', 'request_not_found', 'requestId');
    }
    return json(200, requestRecordView(record));
  } },
};
