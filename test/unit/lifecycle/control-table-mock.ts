import { vi } from 'vitest';
import { records } from './registry-mock.js';

/**
 * Stand-ins for lambdas/shared/control-table.ts (which has its moto tests: lifecycle.test.ts,
 * closure-claim-race.test.ts): the account-slot release, the account-closure queue's writes and the release of a tenant's range,
 * each answering as for a write that went through. A test sets `closures` to the queue it needs.
 */
export const controlMock = {
  releaseSlot: vi.fn(async () => undefined),
  claimOnboardingRequest,
  releaseOnboardingRequest: vi.fn(async () => undefined),
  enqueueClosure: vi.fn(async () => undefined),
  closures: vi.fn(async () => [] as Array<Record<string, unknown>>),
  claimClosure: vi.fn(async () => true),
  requeueClosure: vi.fn(async (_accountId: string, _claimedAt?: string, _error?: string): Promise<number | undefined> => 1),
  setClosureAside: vi.fn(async (_accountId: string, _claimedAt?: string, _error?: string): Promise<number | undefined> => 1),
  recordClosed: vi.fn(async (_accountId: string, _from: 'CLOSING' | 'NEEDS_OPERATOR') => true),
  markClosureRecorded: vi.fn(async (_accountId: string) => undefined),
  // The tenant's range given back at offboarding (release-network.ts; pool-allocation.test.ts runs it on a table).
  cidrClaimsOf: vi.fn(async (_tenantId: string): Promise<string[]> => []),
  releaseCidr: vi.fn(async (_cidr: string, _tenantId: string) => undefined),
  listReleasedCidr: vi.fn(async (_tier: string, _cidr: string) => undefined),
};

/**
 * `claimOnboardingRequest` as the control table answers it, read off the registry mock's records:
 * the tenant whose onboarding used `requestId`, when it is not `tenantId` (cleared with the records).
 */
export async function claimOnboardingRequest(requestId: string, tenantId: string): Promise<string | undefined> {
  return [...records.values()].find((r) => r.requestId === requestId && r.tenantId !== tenantId)?.tenantId;
}
