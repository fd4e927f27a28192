import { beforeEach, describe, expect, it } from 'vitest';
import { drRecordForTier } from '../../../lambdas/lifecycle/dr-tier-standing.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { configWith } from '../../support/config-with.js';
import { setLifecycleEnv, tenant, useConfig } from './support.js';

const AT = '2026-12-07T12:00:00.000Z';
/** professional replicated to `region`; starter without DR. */
const drIn = (region: string) => configWith({ allowedRegions: ['us-east-1', 'us-west-2', 'eu-west-1'], tiers: { professional: { disasterRecovery: { region, rpoHours: 1, rtoHours: 4 } } } } as never);
/** acme's DR stack in us-west-2, in `status`, last deployed with `tier`. */
const withDr = (status: 'ACTIVE' | 'RETAINED' | 'DEPLOYING' | 'REMOVED', tier = 'professional', extra: Partial<NonNullable<TenantRecord['disasterRecovery']>> = {}): TenantRecord => tenant({
  tier: 'starter',
  disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', status, updatedAt: '2026-12-01T00:00:00.000Z', deployedWith: { tier, blueprintVersion: '1.0.0' }, ...extra },
});

beforeEach(() => setLifecycleEnv());

/**
 * The DR record a standing writes with the tier the tenant stack runs (stack-standing.ts). The tier's DR region came from
 * the current config: once the platform's config had moved a tier's DR region after a tenant's DR stack was deployed, a
 * standing recorded that stack RETAINED (its bucket no longer a replica) though the primary still replicated into it, and
 * left RETAINED one that a move back onto its tier used again. The stack's own record says where it is.
 */
describe('drRecordForTier', () => {
  it('a move off a DR tier: the ACTIVE DR stack RETAINED, replicationStoppedAt from now (kept when set)', () => {
    useConfig(drIn('us-west-2'));
    expect(drRecordForTier(withDr('ACTIVE'), 'starter', AT)).toEqual({ disasterRecovery: { ...withDr('ACTIVE').disasterRecovery, status: 'RETAINED', updatedAt: AT, replicationStoppedAt: AT } });
    const stopped = withDr('ACTIVE', 'professional', { replicationStoppedAt: '2026-11-01T00:00:00.000Z' });
    expect(drRecordForTier(stopped, 'starter', AT)!.disasterRecovery!.replicationStoppedAt).toBe('2026-11-01T00:00:00.000Z');
  });

  it('a DR tier whose region the config has moved since the stack was deployed: the ACTIVE DR stack stays ACTIVE (was: RETAINED)', () => {
    useConfig(drIn('eu-west-1'));
    expect(drRecordForTier(withDr('ACTIVE'), 'professional', AT)).toBeUndefined();
  });

  it('a move back onto the DR tier its RETAINED stack was deployed with: ACTIVE, in the config\'s region or not (was: left RETAINED when moved)', () => {
    useConfig(drIn('us-west-2'));
    expect(drRecordForTier(withDr('RETAINED'), 'professional', AT)).toEqual({ disasterRecovery: { ...withDr('RETAINED').disasterRecovery, status: 'ACTIVE', updatedAt: AT } });
    useConfig(drIn('eu-west-1'));
    expect(drRecordForTier(withDr('RETAINED'), 'professional', AT)).toEqual({ disasterRecovery: { ...withDr('RETAINED').disasterRecovery, status: 'ACTIVE', updatedAt: AT } });
  });

  it('left as recorded: a RETAINED stack of another tier, one on a tier without DR, a DEPLOYING or REMOVED one, no DR stack, an unknown tier', () => {
    useConfig(drIn('us-west-2'));
    expect(drRecordForTier(withDr('RETAINED', 'enterprise'), 'professional', AT)).toBeUndefined();
    expect(drRecordForTier(withDr('RETAINED'), 'starter', AT)).toBeUndefined();
    expect(drRecordForTier(withDr('DEPLOYING'), 'starter', AT)).toBeUndefined();
    expect(drRecordForTier(withDr('REMOVED'), 'starter', AT)).toBeUndefined();
    expect(drRecordForTier(tenant({ tier: 'starter' }), 'professional', AT)).toBeUndefined();
    expect(drRecordForTier(withDr('ACTIVE'), 'gone', AT)).toBeUndefined();
  });
});
