import { DescribeAccountCommand, ListAccountsCommand, ListCreateAccountStatusCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { registryMock } from './registry-mock.js';
import { tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);

/**
 * hostile lc2: the claimed request is found by AccountName alone (tessera-<tenant>), SUCCEEDED first and
 * without any time window. An account an operator created by hand with that name (another email: the
 * tenant's is unique in AWS) — e.g. to test, or a manual attempt at the tenant — is adopted as the tenant's.
 */
describe('lc2: account adoption by name only', () => {
  beforeEach(() => orgs.reset());
  it('does not adopt a hand-made tessera-acme account (other email, requested weeks before the claim)', async () => {
    const { resolvePendingAccount } = await import('../../../lambdas/lifecycle/pending-account.js');
    const claimAt = '2026-11-20T10:00:00.000Z';
    const record = tenant({ tenantId: 'acme', isolation: 'account', accountId: undefined, adminEmail: 'admin@acme.example', status: 'PROVISIONING', createAccountClaim: { at: claimAt } } as never);
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [
      // the operator's: SUCCEEDED weeks ago, same AccountName, email ops+acme@platform.example (not visible here)
      { Id: 'car-operator', AccountName: 'tessera-acme', State: 'SUCCEEDED', AccountId: '999999999999', RequestedTimestamp: new Date('2026-11-01T00:00:00Z') },
    ] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '999999999999', Name: 'tessera-acme', Email: 'ops+acme@platform.example', Status: 'ACTIVE' }] });
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '999999999999', Name: 'tessera-acme', Email: 'ops+acme@platform.example' } });
    const pending = await resolvePendingAccount(new OrganizationsClient({}), record);
    // Observed (before the fix): { state: 'SUCCEEDED', accountId: '999999999999' } — the operator's account becomes the tenant's
    expect(pending.accountId).not.toBe('999999999999');
  });
});
