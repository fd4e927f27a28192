import { ListParentsCommand, ListPoliciesForTargetCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { slotHolders } from '../../lambdas/shared/control-table.js';
import { inject, rewrite, throttle } from './support/faults.js';

const local = useLocalLifecycle();

const request = onboardRequest;

describe('onboarding faults', () => {
  it('records FAILED with the step and reason when Organizations fails the account (EMAIL_ALREADY_EXISTS), keeps the account fenced, frees the slot', async () => {
    // GIVEN Organizations reports the creation as failed
    local.cleanups.push(rewrite('account-failed', 'DescribeCreateAccountStatusCommand', (out) => {
      if (out.CreateAccountStatus?.AccountName === 'tessera-cyberdyne') Object.assign(out.CreateAccountStatus, { State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS', AccountId: undefined });
    }));
    // (the emulation creates the account all the same: hidden, as no account of this tenant stands behind a real refusal —
    // one named tessera-cyberdyne with its email would be adopted as the tenant's own)
    local.cleanups.push(rewrite('account-failed-list', 'ListAccountsCommand', (out) => {
      out.Accounts = (out.Accounts ?? []).filter((a: { Name?: string }) => a.Name !== 'tessera-cyberdyne');
    }));
    // WHEN
    const run = await local.workflows.run('onboard', request('cyberdyne', 'enterprise'));
    // THEN
    expect(run.error?.message).toMatch(/AccountCreationFailed/);
    const record = await getTenant('cyberdyne');
    expect(record?.status).toBe('FAILED');
    expect(record?.failure).toMatchObject({ step: 'Check account', reason: expect.stringMatching(/AccountCreationFailed: .*EMAIL_ALREADY_EXISTS/) });
    expect(record?.executions.at(-1)).toMatchObject({ status: 'FAILED', failedStep: 'Check account' });
    expect(await slotHolders()).not.toContain('cyberdyne');
    const failures = (await local.fixture.events()).filter((e) => e.detailType === 'Tenant Lifecycle Failed' && e.detail.tenantId === 'cyberdyne');
    expect(failures).toEqual([expect.objectContaining({ detail: expect.objectContaining({ step: 'Check account' }) })]);
  });

  it('leaves a failed account in quarantine, never orphaned', async () => {
    // GIVEN the tenant blueprint's create fails in the new account (and rolls back)
    const database = Object.keys(local.fixture.catalog.find((b) => b.name === 'enterprise' && b.version === '1.0.0')!.derived.Resources).find((id) => id.startsWith('DatabaseInstance'))!;
    local.fixture.cloudFormation.failCreate('tessera-stark', database, 'Resource handler returned message: "DB instance quota exceeded" (HandlerErrorCode: ServiceLimitExceeded)');
    // WHEN
    const run = await local.workflows.run('onboard', request('stark', 'enterprise'));
    // THEN the onboarding failed on the stack, and the account stays fenced in an OU
    expect(run.error?.message).toMatch(/StackFailed: stack tessera-stark is ROLLBACK_COMPLETE/);
    const record = await getTenant('stark');
    expect(record?.status).toBe('FAILED');
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const policies = (await orgs.send(new ListPoliciesForTargetCommand({ TargetId: record!.accountId!, Filter: 'SERVICE_CONTROL_POLICY' }))).Policies!.map((p) => p.Name);
    expect(policies).toContain('tessera-quarantine');
    expect((await orgs.send(new ListParentsCommand({ ChildId: record!.accountId! }))).Parents![0].Type).toBe('ORGANIZATIONAL_UNIT');
  });

  it('retries throttled Organizations and CloudFormation calls with backoff and still onboards', async () => {
    const orgs = throttle('CreateAccountCommand', 3, 'TooManyRequestsException', (i) => i.AccountName === 'tessera-tyrell');
    const cfn = throttle('CreateStackCommand', 3, 'Throttling', (i) => i.StackName === 'tessera-tyrell');
    const modification = throttle('MoveAccountCommand', 2, 'ConcurrentModificationException', () => true);
    local.cleanups.push(orgs.removed, cfn.removed, modification.removed);
    const run = await local.workflows.run('onboard', request('tyrell', 'enterprise'));
    expect(run.error).toBeUndefined();
    expect(orgs.thrown()).toBe(3);
    expect(cfn.thrown()).toBe(3);
    expect(modification.thrown()).toBe(2);
    expect((await getTenant('tyrell'))?.status).toBe('ACTIVE');
  });

  it('rejects an invalid request with the field and value, and creates nothing', async () => {
    const run = await local.workflows.run('onboard', { ...request('x', 'gold'), adminEmail: 'not-an-email' });
    expect(run.error?.message).toMatch(/InvalidRequest/);
    expect(await getTenant('x')).toBeUndefined();
    const events = (await local.fixture.events()).filter((e) => e.detail.tenantId === 'x');
    expect(events[0].detail.reason).toMatch(/tenantId = "x": must be a lower-case DNS label.*adminEmail = "not-an-email"/);
  });

  it('refuses a second request for a taken tenant id', async () => {
    expect((await local.workflows.run('onboard', request('soylent', 'starter'))).error).toBeUndefined();
    const other = await local.workflows.run('onboard', { ...request('soylent', 'starter'), requestId: 'req-someone-else' });
    expect(other.error?.message).toMatch(/TenantConflict/);
    expect((await getTenant('soylent'))?.status).toBe('ACTIVE');
  });
});

describe('Organizations\' eventual consistency', () => {
  it('an account CreateAccount reported SUCCEEDED that Organizations does not list yet: Quarantine account waits for it (each call refused once, as not found), fences it and onboards', async () => {
    // GIVEN each call Quarantine account makes about the new account is refused once, as Organizations answers for an account
    // id it does not know yet (AWS Organizations API Reference: ListPoliciesForTarget and AttachPolicy TargetNotFoundException,
    // ListParents ChildNotFoundException, MoveAccount AccountNotFoundException)
    const notFound: Record<string, [string, string]> = {
      ListPoliciesForTargetCommand: ['TargetNotFoundException', 'We can\'t find a root, OU, account, or policy with the TargetId that you specified.'],
      AttachPolicyCommand: ['TargetNotFoundException', 'We can\'t find a root, OU, account, or policy with the TargetId that you specified.'],
      ListParentsCommand: ['ChildNotFoundException', 'We can\'t find an organizational unit (OU) or AWS account with the ChildId that you specified.'],
      MoveAccountCommand: ['AccountNotFoundException', 'We can\'t find an AWS account with the AccountId that you specified.'],
    };
    const refused: string[] = [];
    local.cleanups.push(inject('account-not-listed-yet', (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const id = args.input.TargetId ?? args.input.ChildId ?? args.input.AccountId;
      if (notFound[command] && /^\d{12}$/.test(String(id)) && !refused.includes(command)) {
        refused.push(command);
        const [name, message] = notFound[command];
        throw Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    }));
    // WHEN
    const run = await local.workflows.run('onboard', request('initech', 'enterprise'));
    // THEN the onboarding went on once the account was listed, and the account is fenced then activated as usual
    expect(run.error).toBeUndefined();
    expect(refused.sort()).toEqual(Object.keys(notFound).sort());
    const record = await getTenant('initech');
    expect(record?.status).toBe('ACTIVE');
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    expect((await orgs.send(new ListParentsCommand({ ChildId: record!.accountId! }))).Parents![0].Type).toBe('ORGANIZATIONAL_UNIT');
  });
});
