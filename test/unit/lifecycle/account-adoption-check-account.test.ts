import { DescribeCreateAccountStatusCommand, DescribeAccountCommand, ListAccountsCommand, ListCreateAccountStatusCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { credentials, leased, setLifecycleEnv, state } from './support.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
beforeEach(() => { setLifecycleEnv(); records.clear(); vi.clearAllMocks(); orgs.reset(); sts.reset(); sts.on(AssumeRoleCommand).resolves({ Credentials: credentials }); });

/**
 * hostile lc2 (same root cause as lc2-retire-wrong-account): onboarding. The tenant's CreateAccount is refused
 * EMAIL_ALREADY_EXISTS because its admin email is the customer's own AWS account (outside the org); an
 * account named tessera-acme exists in the org with another email (made by an operator). Check account
 * adopts it: the tenant's stacks are deployed into that account, and offboarding later closes it.
 */
describe('lc2: Check account adopts an account found by name only', () => {
  it('EMAIL_ALREADY_EXISTS for an email that is not the tenant\'s account: the onboarding fails, nothing adopted', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', accountId: undefined, adminEmail: 'it@acme.example', createAccountRequestId: 'car-tenant01' } as never));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-tenant01', AccountName: 'tessera-acme', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS', RequestedTimestamp: new Date() } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [
      { Id: 'car-operator', AccountName: 'tessera-acme', State: 'SUCCEEDED', AccountId: '999999999999', RequestedTimestamp: new Date('2026-11-21T00:00:00Z') },
    ] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '999999999999', Name: 'tessera-acme', Email: 'ops+acme@platform.example', State: 'ACTIVE' }] });
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '999999999999', Name: 'tessera-acme', Email: 'ops+acme@platform.example' } });
    const { handler } = await import('../../../lambdas/lifecycle/check-account-status.js');
    const out = await handler(state() as never).catch((e: Error) => ({ error: `${e.name}: ${e.message}` }));
    console.log(JSON.stringify(out), 'record.accountId =', records.get('acme')?.accountId);
    expect(records.get('acme')?.accountId).toBeUndefined();
  });
});
