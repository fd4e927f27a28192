import { AsyncLocalStorage } from 'node:async_hooks';
import { vi } from 'vitest';
import type { LifecycleExecution, TenantRecord } from '../../../lib/tenant-record.js';
import { statusChangedMessage } from '../../../lambdas/shared/status-refusal.js';
import { withChangesBounded } from '../../../lib/change-digest.js';

/**
 * An in-memory stand-in for lambdas/shared/registry.ts (which has its own SDK-mocked tests), with
 * the same conditions: the lease of the step's execution (stepContext) or of `holder`, the
 * expected status, the expected `updatedAt`.
 */
export const records = new Map<string, TenantRecord>();

const named = (name: string) => class extends Error { override readonly name = name; };
const TenantConflictError = named('TenantConflict');
const TenantBusyError = named('TenantBusy');
const RegistryContentionError = named('RegistryContention');
const stepContext = new AsyncLocalStorage<{ executionArn?: string }>();
/** As registry.ts: by ARN when both have one, else by request and kind. */
const sameExecution = (a: Pick<LifecycleExecution, 'kind' | 'requestId' | 'executionArn'>, b: Pick<LifecycleExecution, 'kind' | 'requestId' | 'executionArn'>) =>
  a.executionArn && b.executionArn ? a.executionArn === b.executionArn : a.requestId === b.requestId && a.kind === b.kind;
/** As registry.ts: past the cap of 50 the oldest ended entries go first, an entry still RUNNING stays. */
const withExecution = (r: TenantRecord, entry: LifecycleExecution) => {
  // registry.ts withExecution: 50 lifecycle entries and 20 gateway policy writes, each bound apart, the oldest ended first
  const all = [...r.executions.filter((e) => !sameExecution(e, entry)), entry];
  const policy = (e: LifecycleExecution) => e.kind === 'gateway-policy';
  const excess = { true: all.filter(policy).length - 20, false: all.filter((e) => !policy(e)).length - 50 };
  // and the change requests bounded as it bounds them (the real function: a digest instead of the older ones' `change`)
  return withChangesBounded(all.filter((e, i) => !(excess[`${policy(e)}`] > 0 && e.status !== 'RUNNING' && i < all.length - 1 && excess[`${policy(e)}`]-- > 0)));
};
let clock = 0;

type Options = { expectStatus?: readonly string[]; holder?: string | null; expectUpdatedAt?: string; expectGatewayVersion?: number };

/** The conditional UpdateItem of registry.ts: the holder's lease, the expected status, the expected `updatedAt` and gateway policy version. */
async function update(id: string, changes: Partial<TenantRecord>, options: Options = {}): Promise<TenantRecord> {
  const r = records.get(id);
  if (!r) throw Object.assign(new Error(`tenant "${id}" is not in the registry`), { name: 'TenantNotFound' });
  const holder = options.holder === undefined ? stepContext.getStore()?.executionArn : options.holder ?? undefined;
  if (holder && r.lease?.executionArn !== holder) throw new TenantBusyError(`tenant "${id}" is not held by execution ${holder}`);
  if (options.expectStatus && !options.expectStatus.includes(r.status)) {
    throw new TenantConflictError(statusChangedMessage(id, r.status, options.expectStatus));
  }
  if (options.expectUpdatedAt && options.expectUpdatedAt !== r.updatedAt) throw new RegistryContentionError(`tenant "${id}" changed`);
  if (options.expectGatewayVersion !== undefined && options.expectGatewayVersion !== (r.gatewayChange?.version ?? 0)) throw new RegistryContentionError(`tenant "${id}" changed`);
  const next = { ...r } as Record<string, unknown>;
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete next[k]; else next[k] = structuredClone(v);
  next.updatedAt = new Date(Date.parse('2026-11-30T00:00:00.000Z') + ++clock).toISOString();
  records.set(id, next as TenantRecord);
  return structuredClone(next as TenantRecord);
}

export const registryMock = {
  stepContext,
  TenantConflictError,
  TenantBusyError,
  RegistryContentionError,
  TenantNotFoundError: named('TenantNotFound'),
  sameExecution,
  withExecution,
  describeLease: (l: NonNullable<TenantRecord['lease']>) => `${l.kind} (execution ${l.executionArn}, request ${l.requestId}, since ${l.acquiredAt})`,
  getTenant: vi.fn(async (id: string) => structuredClone(records.get(id))),
  requireTenant: vi.fn(async (id: string) => {
    const r = records.get(id);
    if (!r) throw Object.assign(new Error(`tenant "${id}" is not in the registry`), { name: 'TenantNotFound' });
    return structuredClone(r);
  }),
  putNewTenant: vi.fn(async (r: TenantRecord) => {
    if (records.has(r.tenantId)) return false;
    records.set(r.tenantId, structuredClone(r));
    return true;
  }),
  updateTenant: vi.fn(update),
  /** As registry.ts: a write of `currentStep`, under the step's lease like every write of a step. */
  markStep: vi.fn(async (id: string, step: string) => void (await update(id, { currentStep: step }))),
  /** As registry.ts: the history entry added or replaced, under the step's lease, only if nobody wrote the record meanwhile. */
  recordExecution: vi.fn(async (id: string, entry: LifecycleExecution) => {
    const r = records.get(id);
    if (!r) throw Object.assign(new Error(`tenant "${id}" is not in the registry`), { name: 'TenantNotFound' });
    return update(id, { executions: withExecution(r, entry) }, { expectUpdatedAt: r.updatedAt });
  }),
  /** As registry.ts: `lastRefusal` alone, no lease condition, `updatedAt` untouched; false for a tenant not in the registry or OFFBOARDED. */
  recordRefusal: vi.fn(async (id: string, refusal: NonNullable<TenantRecord['lastRefusal']>) => {
    const r = records.get(id);
    if (!r || r.status === 'OFFBOARDED') return false;
    records.set(id, { ...r, lastRefusal: structuredClone(refusal) });
    return true;
  }),
  deleteHeldTenant: vi.fn(async (id: string, holder: string, status: string) => {
    const r = records.get(id);
    if (r?.lease?.executionArn !== holder || r.status !== status) return false;
    return records.delete(id);
  }),
  listTenants: vi.fn(async (filter: { tier?: string } = {}) => [...records.values()].filter((r) => !filter.tier || r.tier === filter.tier)),
  /** As registry.ts, in one page: the records of the filter (the paging itself is tested on DynamoDB's mock, test/unit/lifecycle/tenant-list.test.ts). */
  listTenantPage: vi.fn(async (filter: { status?: string; tier?: string } = {}) => ({ tenants: [...records.values()].filter((r) => (!filter.status || r.status === filter.status) && (!filter.tier || r.tier === filter.tier)), unreadable: [] })),
  /** As listTenantPage, each record parsed by the projection's `parse` (the projection itself is tested on DynamoDB's mock, test/unit/lifecycle/drift-list.test.ts). */
  listProjectedPage: vi.fn(async (filter: { status?: string; tier?: string }, _options: unknown, projection: { parse: (item: Record<string, unknown>) => unknown }) =>
    ({ tenants: [...records.values()].filter((r) => (!filter.status || r.status === filter.status) && (!filter.tier || r.tier === filter.tier)).map((r) => projection.parse(structuredClone(r))), unreadable: [] })),
};

/**
 * Ends the lease a step's execution holds on `id` behind the step's back, as the status-change rule
 * (end-stopped-execution.ts) or the next request ending a dead lease does while the stopped execution's Lambda still
 * runs: released (the failure recorded, the status it had back: `status`), or taken over by `takenBy`'s lease.
 */
export function loseLease(id: string, options: { status?: TenantRecord['status']; takenBy?: TenantRecord['lease'] } = {}): void {
  const r = records.get(id)!;
  records.set(id, {
    ...r, status: options.status ?? r.lease?.previousStatus ?? r.status, lease: options.takenBy,
    executions: r.executions.map((e) => (e.executionArn === r.lease?.executionArn ? { ...e, status: 'FAILED' as const } : e)),
  });
}

/**
 * loseLease right after the step's first registry write of `field` on `id` (e.g. `availabilityZones`, `disasterRecovery`):
 * for an operation whose step writes under its lease between its last read and the operation. The write itself succeeds.
 */
export function loseLeaseAfterWrite(id: string, field: keyof TenantRecord, options: Parameters<typeof loseLease>[1] = {}): void {
  registryMock.updateTenant.mockImplementation(async (tenantId: string, changes: Partial<TenantRecord>, o?: Options) => {
    const written = await update(tenantId, changes, o);
    if (tenantId === id && field in changes) {
      registryMock.updateTenant.mockImplementation(update);
      loseLease(id, options);
    }
    return written;
  });
}
