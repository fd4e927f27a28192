import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListParentsCommand, ListPoliciesForTargetCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { slotHolders } from '../../lambdas/shared/control-table.js';
import { rewrite, throttle } from './support/faults.js';

const local = useLocalLifecycle();
const { config } = local;

const request = onboardRequest;

describe('onboarding faults', () => {
  it('records FAILED with the step and reason when Organizations fails the account (EMAIL_ALREADY_EXISTS), keeps the account fenced, frees the slot', async () => {
    // GIVEN Organizations reports the creation as failed
    local.cleanups.push(rewrite('account-failed', 'DescribeCreateAccountStatusCommand', (out) => {
      if (out.CreateAccountStatus?.AccountName === 'tessera-cyberdyne') Object.assign(out.CreateAccountStatus, { State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS', AccountId: undefined });
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

  it('removes a blueprint stack that rolled back, records the failing resource, and resumes from that step when re-run', async () => {
    // GIVEN CloudFormation reports the first create as rolled back
    let rolledBack = false;
    const undo = rewrite('rollback', 'DescribeStacksCommand', (out, input) => {
      if (input.StackName === 'tessera-wayne' && !rolledBack && out.Stacks?.[0]) out.Stacks[0].StackStatus = 'ROLLBACK_COMPLETE';
    });
    const undoEvents = rewrite('rollback-events', 'DescribeStackEventsCommand', (out, input) => {
      if (input.StackName === 'tessera-wayne') out.StackEvents = [...(out.StackEvents ?? []), { LogicalResourceId: 'Database', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'DBInstance quota exceeded' }];
    });
    local.cleanups.push(undoEvents);
    // WHEN
    const run = await local.workflows.run('onboard', request('wayne', 'starter'));
    rolledBack = true;
    undo();
    // THEN the partial stack is gone and the registry says why
    expect(run.error?.message).toMatch(/StackFailed/);
    const record = await getTenant('wayne');
    expect(record?.status).toBe('FAILED');
    expect(record?.failure?.step).toBe('Check blueprint');
    expect(record?.failure?.reason).toMatch(/tessera-wayne is ROLLBACK_COMPLETE: Database CREATE_FAILED: DBInstance quota exceeded/);
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'tessera-wayne' }))).rejects.toThrow(/does not exist/);
    // WHEN the same request runs again, THEN it resumes (same VPC range) and succeeds
    const rerun = await local.workflows.run('onboard', request('wayne', 'starter'));
    expect(rerun.error).toBeUndefined();
    const active = await getTenant('wayne');
    expect(active).toMatchObject({ status: 'ACTIVE', vpcCidr: record!.vpcCidr });
    expect(active?.failure).toBeUndefined();
    expect(active?.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
  });

  it('leaves a failed account in quarantine, never orphaned', async () => {
    local.cleanups.push(rewrite('rollback-stark', 'DescribeStacksCommand', (out, input) => {
      if (input.StackName === 'tessera-stark' && out.Stacks?.[0]) out.Stacks[0].StackStatus = 'ROLLBACK_COMPLETE';
    }));
    const run = await local.workflows.run('onboard', request('stark', 'enterprise'));
    expect(run.error).toBeDefined();
    const record = await getTenant('stark');
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
