import { describe, expect, it } from 'vitest';
import { tenantDetails } from '../../../lib/cli/format.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';

/** `tessera tenants show`'s text. Found by the hostile hadm (s15): the lease, the operation every other request is refused for, was not shown. */
const record = (extra: Partial<TenantRecord> = {}): TenantRecord => ({
  tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001',
  status: 'UPDATING', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T06:00:00.000Z', stackOutputs: {}, executions: [], ...extra,
} as TenantRecord);

describe('tenantDetails', () => {
  it('names the operation holding the tenant: kind, since, request and execution', () => {
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-mx76aems-8b89be94';
    const text = tenantDetails(record({ lease: { kind: 'change', executionArn, requestId: 'k1', acquiredAt: '2026-12-03T06:01:00.000Z', previousStatus: 'ACTIVE' } }));
    expect(text).toContain(`operation   change since 2026-12-03T06:01:00.000Z (request k1; execution ${executionArn})`);
  });

  it('prints no operation line for a tenant no operation holds', () => {
    expect(tenantDetails(record({ status: 'ACTIVE' }))).not.toMatch(/^operation/m);
  });
});
