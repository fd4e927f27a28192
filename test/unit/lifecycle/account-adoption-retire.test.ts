import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import {
  DescribeCreateAccountStatusCommand, DescribeAccountCommand, ListAccountsCommand, ListCreateAccountStatusCommand, ListOrganizationalUnitsForParentCommand, ListParentsCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient, CloseAccountCommand, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { credentials, leased, setLifecycleEnv, state } from './support.js';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);

const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);

beforeEach(() => {
  setLifecycleEnv(); records.clear(); vi.clearAllMocks();
  for (const m of [orgs, events, sts]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

/**
 * hostile lc2: the classic EMAIL_ALREADY_EXISTS — the admin email already belongs to an AWS account that is
 * not the tenant's (the customer's own) — and an account an operator made by hand named tessera-acme (other
 * email; e.g. as a workaround for that very failure). DELETE of the FAILED onboarding: Retire account asks
 * ownAccountBehind, which finds the operator's SUCCEEDED request by AccountName alone, records it as the
 * tenant's account, moves it to Suspended and queues (and runs) its closure.
 */
describe('lc2: Retire account closes an account found by name only', () => {
  it('does not retire the operator-made tessera-acme account behind an EMAIL_ALREADY_EXISTS that is not the tenant\'s', async () => {
    const { handler: retire } = await import('../../../lambdas/lifecycle/retire-account.js');
    records.set('acme', leased('offboard', { isolation: 'account', accountId: undefined, adminEmail: 'it@acme.example', createAccountRequestId: 'car-tenant01' } as never));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-tenant01', AccountName: 'tessera-acme', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [
      { Id: 'car-operator', AccountName: 'tessera-acme', State: 'SUCCEEDED', AccountId: '999999999999', RequestedTimestamp: new Date('2026-11-21T00:00:00Z') },
    ] });
    orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
    orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [{ Id: 'ou-abcd-suspended', Name: 'Suspended' }] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-ops' }] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '999999999999', Name: 'tessera-acme', Email: 'ops+acme@platform.example', State: 'ACTIVE' }] });
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '999999999999', Name: 'tessera-acme', Email: 'ops+acme@platform.example' } });
    orgs.on(CloseAccountCommand).resolves({});
    controlMock.closures.mockResolvedValue([]);
    await retire(state());
    expect(controlMock.enqueueClosure).not.toHaveBeenCalled();
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(0);
  });
});
