import { describe, expect, it } from 'vitest';
import { notServedMessage, TENANT_STATUSES } from '../../lib/tenant-record.js';

/**
 * Found by a new user (s23): the 403 `tenant_not_active` ("tenant "initech" is SUSPENDED; the gateway serves ACTIVE and
 * UPDATING tenants only") gave a tenant developer no next step. Each status the gateway refuses now says one.
 */
describe('the 403 tenant_not_active says the next step', () => {
  it.each([
    ['SUSPENDED', 'ask your platform team: suspension is theirs to lift (tessera tenants resume initech); its keys and users work again once it is ACTIVE'],
    ['OFFBOARDING', 'the tenant is being removed (offboarding): its keys and users will not work again; ask your platform team if this is unexpected'],
    ['OFFBOARDED', 'the tenant has been removed (offboarded): its keys and users will not work again; ask your platform team if this is unexpected'],
    ['PROVISIONING', 'the tenant is still being set up: try again once your platform team reports it ACTIVE (tessera tenants watch initech)'],
    ['REQUESTED', 'the tenant is still being set up: try again once your platform team reports it ACTIVE (tessera tenants watch initech)'],
    ['FAILED', 'its onboarding failed: ask your platform team (tessera tenants show initech says why; tessera tenants retry initech runs it again)'],
  ] as const)('%s', (status, next) => {
    expect(notServedMessage('initech', status)).toBe(`tenant "initech" is ${status}; the gateway serves ACTIVE and UPDATING tenants only: ${next}`);
  });

  it('every status the gateway refuses has one of the above; not registered: onboarding', () => {
    expect(TENANT_STATUSES.filter((s) => !['ACTIVE', 'UPDATING'].includes(s))).toEqual(['REQUESTED', 'PROVISIONING', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED', 'FAILED']);
    expect(notServedMessage('initech', undefined)).toBe('tenant "initech" is not registered; the gateway serves ACTIVE and UPDATING tenants only: ask your platform team to onboard it (tessera tenants create)');
  });
});
