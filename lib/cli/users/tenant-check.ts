import { SERVING_STATUSES, TenantId, type TenantRecord } from '../../tenant-record.js';
import { AdminApiError, type AdminClient } from '../admin-client.js';
import { CliError } from '../cli-error.js';

/**
 * Checks `--tenant` against the schema's TenantId (lower-case DNS label, not reserved).
 * @throws CliError (exit 2) with the schema's rule.
 */
export function checkTenantId(tenantId: string): string {
  const parsed = TenantId.safeParse(tenantId);
  if (!parsed.success) throw new CliError(`--tenant "${tenantId}" ${parsed.error.issues[0].message}`);
  return tenantId;
}

/**
 * Checks through the admin API (GET /admin/tenants/{id}) that the tenant exists and is served by
 * the gateway (SERVING_STATUSES: ACTIVE, UPDATING); a user of any other tenant could sign in but
 * every call of theirs would be refused.
 * @throws CliError (exit 1): unknown tenant, tenant not served, admin API unreachable or refusing.
 */
export async function checkTenantServed(api: AdminClient, tenantId: string, apiUrl: string): Promise<TenantRecord> {
  let tenant: TenantRecord;
  try {
    tenant = await api.call<TenantRecord>('GET', `/admin/tenants/${encodeURIComponent(tenantId)}`);
  } catch (e) {
    if (e instanceof AdminApiError && e.status === 404) throw new CliError(`--tenant "${tenantId}" does not exist: onboard it first (tessera tenants create --id ${tenantId} ...) or check the id (tessera tenants list)`, 1, undefined, e);
    throw new CliError(`the admin API at ${apiUrl} cannot confirm tenant "${tenantId}" (${(e as Error).message}): fix --api-url / TESSERA_API_URL or your credentials`, 1, (e as CliError).errorClass, e);
  }
  if (!SERVING_STATUSES.includes(tenant.status)) {
    throw new CliError(`tenant "${tenantId}" is ${tenant.status}; the gateway serves ${SERVING_STATUSES.join(' and ')} tenants only, so its users' calls would all be refused: invite users once it is ACTIVE (tessera tenants watch ${tenantId})`, 1);
  }
  return tenant;
}
