import type { TenantRecord } from '../../lib/tenant-record.js';

// Its own module, apart from local-gateway.ts: `tessera serve` checks its tenants (lib/cli/serve-tenants.ts)
// before it imports the gateway, so that a refused start-up does not load it.

/** A registry record for a tenant of the embedded store. */
export function localTenant(tenantId: string, tier: string, extra: Partial<TenantRecord> = {}): TenantRecord {
  const now = new Date().toISOString();
  return {
    tenantId, name: tenantId, tier, isolation: 'vpc', adminEmail: `admin@${tenantId}.example.com`, status: 'ACTIVE',
    requestId: `local-${tenantId}`, createdAt: now, updatedAt: now, stackOutputs: {}, executions: [], ...extra,
  };
}
