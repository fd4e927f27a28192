import { vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';

/** An in-memory stand-in for lambdas/shared/registry.ts (which has its own SDK-mocked tests). */
export const records = new Map<string, TenantRecord>();

export const registryMock = {
  getTenant: vi.fn(async (id: string) => records.get(id)),
  requireTenant: vi.fn(async (id: string) => {
    const r = records.get(id);
    if (!r) throw Object.assign(new Error(`tenant "${id}" is not in the registry`), { name: 'TenantNotFound' });
    return r;
  }),
  putNewTenant: vi.fn(async (r: TenantRecord) => {
    if (records.has(r.tenantId)) return false;
    records.set(r.tenantId, r);
    return true;
  }),
  updateTenant: vi.fn(async (id: string, changes: Partial<TenantRecord>, options: { expectStatus?: string[] } = {}) => {
    const r = records.get(id)!;
    if (options.expectStatus && !options.expectStatus.includes(r.status)) {
      throw Object.assign(new Error(`tenant "${id}" is ${r.status}; this change needs ${options.expectStatus.join(' or ')}`), { name: 'TenantConflict' });
    }
    const next = { ...r } as Record<string, unknown>;
    for (const [k, v] of Object.entries(changes)) if (v === undefined) delete next[k]; else next[k] = v;
    records.set(id, next as TenantRecord);
    return next as TenantRecord;
  }),
  markStep: vi.fn(async () => undefined),
  recordExecution: vi.fn(async (id: string, entry: TenantRecord['executions'][number]) => {
    const r = records.get(id)!;
    r.executions = [...r.executions.filter((e) => e.executionArn !== entry.executionArn), entry];
    return r;
  }),
  sameExecution: (a: { executionArn?: string }, b: { executionArn?: string }) => a.executionArn === b.executionArn,
  listTenants: vi.fn(async (filter: { tier?: string } = {}) => [...records.values()].filter((r) => !filter.tier || r.tier === filter.tier)),
  TenantConflictError: class extends Error { override readonly name = 'TenantConflict'; },
};
