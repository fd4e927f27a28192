import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, type ExecutionStatus, type HistoryEvent, SFNServiceException } from '@aws-sdk/client-sfn';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LIFECYCLE_OPERATIONS, TENANT_STATUSES, type LifecycleKind, type TenantStatus } from '../../../lib/tenant-record.js';
import { records, registryMock } from './registry-mock.js';
import { EXECUTION_ARN, LEASED_AT, lease, leased, OTHER_EXECUTION_ARN, setLifecycleEnv, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const controlMock = vi.hoisted(() => ({ releaseSlot: vi.fn(async () => undefined) }));

const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);

const { acquireLease, completeOperation, failOperation, abandonLease, leaseHolderEnded, statusError } = await import('../../../lambdas/lifecycle/lease.js');
const { MAX_REASON_BYTES } = await import('../../../lambdas/lifecycle/catch-reason.js');

/** The execution asking for the lease in these tests. */
const MINE = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-mine';
const ask = (kind: LifecycleKind, executionArn = MINE) => ({ kind, executionArn, requestId: `req-${kind}-1` });
const onboarded = { kind: 'onboard' as const, requestId: 'req-acme-0001', executionArn: 'arn:onboarded', startedAt: 't0', endedAt: 't1', status: 'SUCCEEDED' as const };
const notFound = () => new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} });
const holderIs = (status: ExecutionStatus) => sfn.on(DescribeExecutionCommand).resolves({ status });
/** A protection a step lifted and recorded on its execution's running entry (protection-lift.ts executionLedger). */
const LIFTED = {
  step: 'Deploy blueprint', requestId: 'req-acme-0001', executionArn: MINE, reason: 'dead stack ROLLBACK_FAILED: lifted so that the stack can be deleted',
  logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', physicalId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1',
  protection: 'TerminationProtection', intendedAt: '2026-11-23T00:01:00.000Z', at: '2026-11-23T00:01:01.000Z',
};
/** An external quarantine SCP Activate tenant detached (external-quarantine.ts). */
const DETACHED = { policyId: 'p-lzaquarantine1', name: 'QuarantineAccounts', accountId: '444444444444', result: 'DETACHED' as const, at: '2026-11-23T00:02:00.000Z' };

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  sfn.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  // Unless a test says otherwise, a dead lease's execution stopped in the step its Lambda recorded (the registry's currentStep).
  sfn.on(GetExecutionHistoryCommand).callsFake(() => ({ events: history(['ExecutionAborted'], ['TaskStateEntered', records.get('acme')?.currentStep]) }));
});

/** The last events of an execution, newest first (GetExecutionHistory reverseOrder): the stop, then the states entered and exited before it. */
const history = (...events: Array<[HistoryEvent['type'], string?]>): HistoryEvent[] => events.map(([type, name], i) => ({
  id: 100 - i, previousEventId: 99 - i, timestamp: new Date(Date.parse('2026-11-23T00:10:00.000Z') - i * 1000), type,
  ...(name && type!.endsWith('StateEntered') ? { stateEnteredEventDetails: { name } } : {}), ...(name && type!.endsWith('StateExited') ? { stateExitedEventDetails: { name } } : {}),
}));

describe('acquireLease', () => {
  it('takes a free lease in one conditional write: the kind\'s `during` status, a RUNNING history entry, the status before kept in the lease', async () => {
    // GIVEN an ACTIVE tenant that nothing holds
    const before = tenant({ status: 'ACTIVE', executions: [onboarded] });
    records.set('acme', before);
    // WHEN a change asks for it
    const held = await acquireLease('acme', ask('change'), { currentStep: 'Begin change' });
    // THEN
    expect(held).toEqual(records.get('acme'));
    expect(held).toMatchObject({ status: 'UPDATING', currentStep: 'Begin change', lease: { kind: 'change', executionArn: MINE, requestId: 'req-change-1', acquiredAt: expect.any(String), previousStatus: 'ACTIVE' } });
    expect(held.executions).toEqual([onboarded, { kind: 'change', requestId: 'req-change-1', executionArn: MINE, startedAt: held.lease!.acquiredAt, status: 'RUNNING' }]);
    expect(registryMock.updateTenant).toHaveBeenCalledTimes(1);
    expect(registryMock.updateTenant.mock.calls[0][2]).toEqual({ holder: null, expectUpdatedAt: before.updatedAt, expectStatus: ['ACTIVE'] });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it.each([
    ['onboard', 'REQUESTED', 'PROVISIONING'], ['onboard', 'FAILED', 'PROVISIONING'], ['upgrade', 'ACTIVE', 'UPDATING'], ['suspend', 'ACTIVE', 'ACTIVE'],
    ['resume', 'SUSPENDED', 'SUSPENDED'], ['offboard', 'SUSPENDED', 'OFFBOARDING'], ['offboard', 'FAILED', 'OFFBOARDING'], ['offboard', 'OFFBOARDING', 'OFFBOARDING'],
  ] as Array<[LifecycleKind, TenantStatus, TenantStatus]>)('%s from %s: %s while it runs, the status before kept in the lease', async (kind, from, during) => {
    records.set('acme', tenant({ status: from }));
    await acquireLease('acme', ask(kind));
    expect(records.get('acme')).toMatchObject({ status: during, lease: { kind, executionArn: MINE, previousStatus: from } });
  });

  it('is a no-op for the execution that holds it already (the admin API took it before StartExecution)', async () => {
    const before = leased('change', {}, MINE);
    records.set('acme', before);
    await expect(acquireLease('acme', ask('change'), { currentStep: 'Begin change' })).resolves.toEqual(before);
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('refuses with TenantBusy naming the holder while the holder runs, and writes nothing', async () => {
    // GIVEN a running onboarding holds the tenant
    const before = leased('onboard', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    holderIs('RUNNING');
    // WHEN / THEN
    await expect(acquireLease('acme', ask('offboard'))).rejects.toMatchObject({
      name: 'TenantBusy',
      message: `tenant "acme" is busy: onboard (execution ${OTHER_EXECUTION_ARN}, request req-acme-0001, since ${LEASED_AT}) is running; offboard is refused until it ends`,
    });
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: OTHER_EXECUTION_ARN }]);
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });

  it('says that a rolling upgrade waits for the holder (its run retries), and counts a redrive as running', async () => {
    records.set('acme', leased('suspend', { status: 'ACTIVE' }, OTHER_EXECUTION_ARN));
    holderIs('PENDING_REDRIVE');
    await expect(acquireLease('acme', ask('upgrade'))).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringMatching(/is running; upgrade waits for it to end$/) });
  });

  it('keeps a lease whose execution Step Functions does not know yet while the 2-minute start grace lasts', async () => {
    // GIVEN the admin API wrote the lease 30 seconds ago and is about to call StartExecution
    const before = leased('onboard', { status: 'REQUESTED', lease: lease('onboard', OTHER_EXECUTION_ARN, { acquiredAt: new Date(Date.now() - 30_000).toISOString() }) });
    records.set('acme', before);
    sfn.on(DescribeExecutionCommand).rejects(notFound());
    // WHEN / THEN
    await expect(acquireLease('acme', ask('offboard'))).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(before);
  });

  it('takes the holder as running when Step Functions cannot be asked: a live holder never loses its lease', async () => {
    const before = leased('change', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(acquireLease('acme', ask('suspend'))).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(before);
  });

  it.each(['ABORTED', 'TIMED_OUT', 'FAILED'] as ExecutionStatus[])('ends the operation of a holder that ended %s without recording it (failOperation), then takes the lease', async (status) => {
    // GIVEN a change whose execution stopped at Deploy blueprint, its lease still on the record
    records.set('acme', leased('change', { currentStep: 'Deploy blueprint', executions: [onboarded, { kind: 'change', requestId: 'req-old', executionArn: OTHER_EXECUTION_ARN, startedAt: LEASED_AT, status: 'RUNNING' }],
      lease: lease('change', OTHER_EXECUTION_ARN, { requestId: 'req-old' }) }));
    holderIs(status);
    // WHEN another change asks for it
    const held = await acquireLease('acme', ask('change'));
    // THEN the stopped change is recorded FAILED (the tenant back to ACTIVE, as a failed change leaves it), and the new one holds the tenant
    const reason = `execution ${OTHER_EXECUTION_ARN} ended ${status} without recording its outcome (found by change ${MINE})`;
    expect(held).toMatchObject({
      status: 'UPDATING', lease: { kind: 'change', executionArn: MINE, previousStatus: 'ACTIVE' },
      failure: { step: 'Deploy blueprint', reason, kind: 'change', executionArn: OTHER_EXECUTION_ARN },
    });
    expect(held.executions).toEqual([
      onboarded,
      { kind: 'change', requestId: 'req-old', executionArn: OTHER_EXECUTION_ARN, startedAt: LEASED_AT, endedAt: expect.any(String), status: 'FAILED', failedStep: 'Deploy blueprint', reason },
      { kind: 'change', requestId: 'req-change-1', executionArn: MINE, startedAt: held.lease!.acquiredAt, status: 'RUNNING' },
    ]);
    // the failure was written under the stopped execution's lease, on the record as read (a late step's write since is decided again)
    expect(registryMock.updateTenant.mock.calls[0][2]).toEqual({ holder: OTHER_EXECUTION_ARN, expectUpdatedAt: '2026-11-23T00:00:00.000Z' });
    expect(controlMock.releaseSlot).not.toHaveBeenCalled();
  });

  it('names what a holder\'s execution ended with, as DescribeExecution says: its error and cause, or the step\'s and the failure recorder\'s errors', async () => {
    const held = lease('change', OTHER_EXECUTION_ARN, { requestId: 'req-old' });
    const stepError = { Error: 'StackFailed', Cause: JSON.stringify({ errorType: 'StackFailed', errorMessage: 'tessera-acme UPDATE_ROLLBACK_COMPLETE: Bucket failed', trace: [] }) };
    for (const [out, why] of [
      // GIVEN an execution whose Record failure failed too (the workflow's `Change failed, not recorded`)
      [{ status: 'FAILED', error: 'StackFailed', cause: JSON.stringify({ ...stepError, recordFailure: { Error: 'States.Timeout' } }) },
        ': StackFailed: tessera-acme UPDATE_ROLLBACK_COMPLETE: Bucket failed; not recorded by the workflow, whose failure recorder failed too (States.Timeout)'],
      // AND one that timed out
      [{ status: 'TIMED_OUT', error: 'States.Timeout', cause: 'execution timed out' }, ': States.Timeout (execution timed out) without recording its outcome'],
    ] as const) {
      records.set('acme', leased('change', { currentStep: 'Check blueprint', lease: held }));
      sfn.on(DescribeExecutionCommand).resolves(out);
      // WHEN another change meets its lease (end-stopped-execution missed it)
      await acquireLease('acme', ask('change'));
      // THEN the failure says why it ended (was: "ended FAILED without recording its outcome", nothing more)
      expect(records.get('acme')!.failure!.reason).toBe(`execution ${OTHER_EXECUTION_ARN} ended ${out.status}${why} (found by change ${MINE})`);
    }
  });

  it('ends an onboarding whose execution never started (ExecutionDoesNotExist after the grace): FAILED, its slot given back, then the offboarding takes it', async () => {
    // GIVEN a lease the admin API wrote long ago for an execution Step Functions never saw
    records.set('acme', leased('onboard', { status: 'REQUESTED', currentStep: undefined, lease: lease('onboard', OTHER_EXECUTION_ARN, { previousStatus: 'REQUESTED' }) }));
    sfn.on(DescribeExecutionCommand).rejects(notFound());
    // WHEN
    const held = await acquireLease('acme', ask('offboard'));
    // THEN
    expect(controlMock.releaseSlot).toHaveBeenCalledWith('acme');
    expect(held).toMatchObject({
      status: 'OFFBOARDING', lease: { kind: 'offboard', executionArn: MINE, previousStatus: 'FAILED' },
      failure: { step: 'unknown', reason: `execution ${OTHER_EXECUTION_ARN} ended DOES_NOT_EXIST without recording its outcome (found by offboard ${MINE})`, kind: 'onboard' },
    });
    expect(held.executions.map((e) => [e.kind, e.status])).toEqual([['onboard', 'FAILED'], ['offboard', 'RUNNING']]);
    // s43: an execution Step Functions does not know has no history to read for the state it stopped in
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });

  it('an account-mode onboarding ended so is recorded FAILED with its account named as not checked (no Organizations access here), never as fenced', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', status: 'ACTIVE', currentStep: 'Activate tenant', lease: lease('onboard', OTHER_EXECUTION_ARN, { previousStatus: 'PROVISIONING' }) }));
    holderIs('ABORTED');
    await expect(acquireLease('acme', ask('suspend'))).rejects.toMatchObject({ name: 'TenantConflict' });
    expect(records.get('acme')).toMatchObject({
      status: 'FAILED', failure: { kind: 'onboard', reason: expect.stringContaining('account 444444444444 may be without its quarantine SCP (the onboarding may have stopped after lifting it, and this request cannot check it)') },
    });
  });

  // The failure's reason is clipped to MAX_REASON_BYTES from its end (lease.ts boundedFailure): a step error of thousands of
  // characters (a CloudFormation reason chain) filled it, and the note that the account may be open, said after it, was cut.
  it('keeps the account\'s note when the execution\'s own error is long enough to fill the reason', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', status: 'ACTIVE', currentStep: 'Activate tenant', lease: lease('onboard', OTHER_EXECUTION_ARN, { previousStatus: 'PROVISIONING' }) }));
    const stepError = { Error: 'StackFailed', Cause: JSON.stringify({ errorType: 'StackFailed', errorMessage: `tessera-acme ROLLBACK_COMPLETE: ${'Resource handler returned message: caused by: '.repeat(60)}`, trace: [] }) };
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'StackFailed', cause: JSON.stringify({ ...stepError, recordFailure: { Error: 'States.Timeout' } }) });
    await expect(acquireLease('acme', ask('suspend'))).rejects.toMatchObject({ name: 'TenantConflict' });
    const reason = records.get('acme')!.failure!.reason;
    expect(reason.length).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(reason).toMatch(/^execution .* ended FAILED: StackFailed: tessera-acme ROLLBACK_COMPLETE: Resource handler/);
    expect(reason).toContain('account 444444444444 may be without its quarantine SCP (the onboarding may have stopped after lifting it, and this request cannot check it)');
  });

  it('loses the race to end a dead lease without failing: another request ended it first, so it decides again and takes the free lease', async () => {
    records.set('acme', leased('onboard', { status: 'PROVISIONING', currentStep: 'Deploy tenant stack', lease: lease('onboard', OTHER_EXECUTION_ARN, { previousStatus: 'REQUESTED' }) }));
    holderIs('ABORTED');
    // a suspension's acquirer ends the dead onboarding between this one's read and its ending write
    const real = registryMock.updateTenant.getMockImplementation()!;
    registryMock.updateTenant.mockImplementationOnce(async (...args: Parameters<typeof real>) => {
      await acquireLease('acme', { kind: 'suspend', executionArn: `${MINE}-suspend`, requestId: 'sus-1' }).catch(() => undefined);
      return real(...args);
    });
    const held = await acquireLease('acme', ask('offboard'));
    expect(held).toMatchObject({ status: 'OFFBOARDING', lease: { kind: 'offboard', executionArn: MINE, previousStatus: 'FAILED' } });
  });

  // s41h: the dead offboarding's late Lambda (invoked before the stop, run after it) records its step between this one's read
  // and its ending write: ended on the read, the tenant was given back its status while Revoke tenant identities revoked.
  it('ends a dead offboarding on the record as read: a late step recorded since (Revoke tenant identities) is decided again, OFFBOARDING', async () => {
    records.set('acme', leased('offboard', { status: 'OFFBOARDING', currentStep: 'Check rebuilt stack', lease: lease('offboard', OTHER_EXECUTION_ARN, { previousStatus: 'ACTIVE' }) }));
    holderIs('ABORTED');
    const real = registryMock.updateTenant.getMockImplementation()!;
    registryMock.updateTenant.mockImplementationOnce(async (...args: Parameters<typeof real>) => {
      const now = records.get('acme')!;
      records.set('acme', { ...now, currentStep: 'Revoke tenant identities', updatedAt: '2026-11-23T00:00:05.000Z' });
      return real(...args);
    });
    await expect(acquireLease('acme', ask('suspend'))).rejects.toMatchObject({ name: 'TenantConflict', message: 'tenant "acme" is OFFBOARDING, so a suspension cannot start: it starts only while the tenant is ACTIVE' });
    expect(records.get('acme')).toMatchObject({ status: 'OFFBOARDING', failure: { step: 'Revoke tenant identities', kind: 'offboard', executionArn: OTHER_EXECUTION_ARN } });
    expect(records.get('acme')!.lease).toBeUndefined();
  });

  it('ends a dead offboarding that stopped at Check rebuilt stack with the status it had: a suspension then takes the ACTIVE tenant', async () => {
    records.set('acme', leased('offboard', { status: 'OFFBOARDING', currentStep: 'Check rebuilt stack', lease: lease('offboard', OTHER_EXECUTION_ARN, { previousStatus: 'ACTIVE' }) }));
    holderIs('ABORTED');
    const held = await acquireLease('acme', ask('suspend'));
    expect(held).toMatchObject({ status: 'ACTIVE', lease: { kind: 'suspend', executionArn: MINE, previousStatus: 'ACTIVE' }, failure: { step: 'Check rebuilt stack', kind: 'offboard' } });
  });

  // s43: a request that ended a dead lease named the registry's currentStep (the last step whose Lambda started), though the
  // execution had completed it and stopped in the state after; End stopped execution names that state (s42). One end now.
  it('s43: names the state the dead lease\'s execution stopped in (its history), as End stopped execution does, not the step before, which had completed', async () => {
    // GIVEN a change whose Check blueprint completed; its execution entered Deploy namespace and was stopped before that Lambda ran
    records.set('acme', leased('change', { currentStep: 'Check blueprint', lease: lease('change', OTHER_EXECUTION_ARN, { requestId: 'req-old' }) }));
    holderIs('ABORTED');
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionAborted'], ['TaskStateEntered', 'Deploy namespace'], ['TaskStateExited', 'Check blueprint']) });
    // WHEN another change meets its lease (the status-change rule missed it)
    const held = await acquireLease('acme', ask('change'));
    // THEN the failure names Deploy namespace, and says why
    const reason = `execution ${OTHER_EXECUTION_ARN} ended ABORTED without recording its outcome (found by change ${MINE}); stopped in "Deploy namespace" after "Check blueprint" completed (Step Functions' history; the registry's currentStep said "Check blueprint")`;
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: OTHER_EXECUTION_ARN, reverseOrder: true, maxResults: 20, includeExecutionData: false }]);
    expect(held).toMatchObject({ failure: { step: 'Deploy namespace', reason, kind: 'change', executionArn: OTHER_EXECUTION_ARN } });
    expect(held.executions.find((e) => e.executionArn === OTHER_EXECUTION_ARN)).toMatchObject({ status: 'FAILED', failedStep: 'Deploy namespace', reason });
    // the step written with the failure (before the new lease's write) is that state too: currentStep = failure.step
    expect(registryMock.updateTenant.mock.calls[0][1]).toMatchObject({ status: 'ACTIVE', currentStep: 'Deploy namespace', lease: undefined });
  });

  it('s43: a dead offboarding stopped after Begin offboarding, before the next Lambda recorded itself, keeps the status rule of what ran (ACTIVE again) and names the state it was in', async () => {
    records.set('acme', leased('offboard', { status: 'OFFBOARDING', currentStep: 'Begin offboarding', lease: lease('offboard', OTHER_EXECUTION_ARN, { previousStatus: 'ACTIVE' }) }));
    holderIs('ABORTED');
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionAborted'], ['TaskStateEntered', 'Revoke tenant identities'], ['TaskStateExited', 'Begin offboarding']) });
    const held = await acquireLease('acme', ask('suspend'));
    expect(held).toMatchObject({ status: 'ACTIVE', lease: { kind: 'suspend', previousStatus: 'ACTIVE' }, failure: { step: 'Revoke tenant identities', kind: 'offboard' } });
  });

  it('s43: a history that cannot be read keeps the recorded step and says so', async () => {
    records.set('acme', leased('change', { currentStep: 'Check blueprint', lease: lease('change', OTHER_EXECUTION_ARN, { requestId: 'req-old' }) }));
    holderIs('ABORTED');
    sfn.on(GetExecutionHistoryCommand).rejects(Object.assign(new Error('User is not authorized to perform: states:GetExecutionHistory'), { name: 'AccessDeniedException' }));
    const held = await acquireLease('acme', ask('change'));
    expect(held.failure).toMatchObject({ step: 'Check blueprint', reason: expect.stringMatching(/ \(found by change .*\); "Check blueprint" is the last step the execution recorded .*AccessDeniedException/) });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  });

  it.each([
    // An OFFBOARDED tenant: one sentence, what is left to do (was: `resume needs SUSPENDED`, as if it could get there)
    ['resume', 'OFFBOARDED', 'tenant "acme" is OFFBOARDED, so a resumption cannot start: an offboarded tenant is only kept to be read (tessera tenants show acme); to start again, onboard a new tenant under another id (ids are never reused)'],
    ['offboard', 'OFFBOARDED', 'tenant "acme" is OFFBOARDED, so an offboarding cannot start: an offboarded tenant is only kept to be read (tessera tenants show acme); to start again, onboard a new tenant under another id (ids are never reused)'],
    ['change', 'OFFBOARDED', 'tenant "acme" is OFFBOARDED, so a change cannot start: an offboarded tenant is only kept to be read (tessera tenants show acme); to start again, onboard a new tenant under another id (ids are never reused)'],
    ['change', 'SUSPENDED', 'tenant "acme" is SUSPENDED, so a change cannot start: it starts only while the tenant is ACTIVE'],
    ['suspend', 'PROVISIONING', 'tenant "acme" is PROVISIONING, so a suspension cannot start: it starts only while the tenant is ACTIVE'],
    ['onboard', 'ACTIVE', 'tenant "acme" is ACTIVE, so an onboarding cannot start: it starts only while the tenant is REQUESTED, PROVISIONING or FAILED'],
  ] as Array<[LifecycleKind, TenantStatus, string]>)('refuses %s of a %s tenant with TenantConflict, and leaves the record untouched', async (kind, status, message) => {
    const before = tenant({ status, executions: [onboarded] });
    records.set('acme', before);
    await expect(acquireLease('acme', ask(kind))).rejects.toMatchObject({ name: 'TenantConflict', message });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });

  it('every operation refused in every status it does not start from reads as one sentence: one "so", "a"/"an" as the word wants, statuses listed "A, B or C"', () => {
    for (const kind of Object.keys(LIFECYCLE_OPERATIONS) as LifecycleKind[]) {
      for (const status of TENANT_STATUSES.filter((s) => !(LIFECYCLE_OPERATIONS[kind].from as readonly string[]).includes(s))) {
        const message = statusError(tenant({ status }), kind).message;
        expect(message.match(/\bso\b/g), message).toHaveLength(1);
        expect(message, message).toMatch(new RegExp(`^tenant "acme" is ${status}, so (a [^aeiou]|an [aeiou])[a-z]+ cannot start: `));
        expect(message, message).not.toMatch(/ or [A-Z]+ or /);
        expect(message.split(': ').slice(1).join(': '), message).not.toContain(':');
      }
    }
  });

  describe('a record UPDATING with no lease (the lease removed by hand, or lost): before, every request was refused for its status and nothing moved it', () => {
    const running = { kind: 'change' as const, requestId: 'req-old', executionArn: OTHER_EXECUTION_ARN, startedAt: LEASED_AT, status: 'RUNNING' as const, change: { tier: 'professional' } };
    const stranded = (extra: Partial<ReturnType<typeof tenant>> = {}) => tenant({ status: 'UPDATING', currentStep: 'Deploy blueprint', executions: [onboarded, running], ...extra });

    it('is ended as its running change\'s failure once that execution has ended (ACTIVE, the failure, its entry FAILED), then the request takes the lease', async () => {
      records.set('acme', stranded());
      holderIs('FAILED');
      const held = await acquireLease('acme', ask('change'));
      const reason = `tenant "acme" was UPDATING with no operation holding it (no lease: removed outside Tessera, or lost); its change execution ${OTHER_EXECUTION_ARN} ended FAILED without recording its outcome (found by change ${MINE})`;
      expect(held).toMatchObject({
        status: 'UPDATING', lease: { kind: 'change', executionArn: MINE, previousStatus: 'ACTIVE' },
        failure: { step: 'Deploy blueprint', reason, kind: 'change', executionArn: OTHER_EXECUTION_ARN },
      });
      expect(held.executions).toEqual([
        onboarded,
        { ...running, endedAt: expect.any(String), status: 'FAILED', failedStep: 'Deploy blueprint', reason },
        { kind: 'change', requestId: 'req-change-1', executionArn: MINE, startedAt: held.lease!.acquiredAt, status: 'RUNNING' },
      ]);
      // the ending write was conditional on the record as read, not on a lease (there was none)
      expect(registryMock.updateTenant.mock.calls[0][2]).toEqual({ holder: null, expectUpdatedAt: stranded().updatedAt, expectStatus: ['UPDATING'] });
    });

    it('s43: names the state the execution of its running entry ended in (its history), as End stopped execution does', async () => {
      records.set('acme', stranded());
      holderIs('TIMED_OUT');
      sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionTimedOut'], ['WaitStateEntered', 'Wait for blueprint'], ['TaskStateExited', 'Deploy blueprint']) });
      const held = await acquireLease('acme', ask('change'));
      expect(held.failure).toMatchObject({ step: 'Wait for blueprint', reason: expect.stringMatching(/\(found by change .*\); stopped in "Wait for blueprint" after "Deploy blueprint" completed/) });
      expect(held.executions.find((e) => e.executionArn === OTHER_EXECUTION_ARN)).toMatchObject({ status: 'FAILED', failedStep: 'Wait for blueprint' });
    });

    it('without a running entry in its history, is ended ACTIVE with the failure saying so (no history entry made up); an offboarding then takes it', async () => {
      records.set('acme', stranded({ executions: [onboarded] }));
      const held = await acquireLease('acme', ask('offboard'));
      expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
      expect(held).toMatchObject({
        status: 'OFFBOARDING', lease: { kind: 'offboard', previousStatus: 'ACTIVE' },
        failure: { step: 'Deploy blueprint', kind: 'change', reason: `tenant "acme" was UPDATING with no operation holding it (no lease: removed outside Tessera, or lost), and no execution of it running in its history (found by offboard ${MINE})` },
      });
      expect(held.failure!.executionArn).toBeUndefined();
      expect(held.executions.map((e) => [e.kind, e.status])).toEqual([['onboard', 'SUCCEEDED'], ['offboard', 'RUNNING']]);
    });

    it('refuses with TenantBusy naming the execution of its running entry while that one still runs, and writes nothing', async () => {
      const before = stranded();
      records.set('acme', before);
      holderIs('RUNNING');
      await expect(acquireLease('acme', ask('suspend'))).rejects.toMatchObject({
        name: 'TenantBusy', message: expect.stringMatching(new RegExp(`^tenant "acme" was UPDATING with no operation holding it .*the execution of its running change \\(execution ${OTHER_EXECUTION_ARN}, request req-old, since ${LEASED_AT}\\) has not ended: suspend is refused until it ends`)),
      });
      expect(registryMock.updateTenant).not.toHaveBeenCalled();
      expect(records.get('acme')).toEqual(before);
    });
  });

  // s38m: a suspend stopped past its last write's chance (no Catch ran) by a status-change event the rule missed, after which
  // the tenant was moved on: nothing ended its RUNNING entry (no lease to end, not UPDATING), and platform health reported it for good.
  it('ends a history entry left RUNNING with no lease past its workflow\'s timeout as FAILED, saying so; one within its timeout is left RUNNING', async () => {
    const old = { kind: 'suspend' as const, requestId: 'req-suspend-0', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-suspend:old', startedAt: '2026-01-01T00:00:00.000Z', status: 'RUNNING' as const };
    const recent = { kind: 'resume' as const, requestId: 'req-resume-0', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-resume:recent', startedAt: new Date(Date.now() - 60_000).toISOString(), status: 'RUNNING' as const };
    records.set('acme', tenant({ status: 'ACTIVE', executions: [onboarded, old, recent] }));
    await acquireLease('acme', ask('change'));
    const entries = records.get('acme')!.executions;
    expect(entries.find((e) => e.requestId === 'req-suspend-0')).toEqual({
      ...old, status: 'FAILED', endedAt: expect.any(String),
      reason: `recorded RUNNING with no lease holding the tenant past its workflow's timeout (15 min): its execution ${old.executionArn} ended without recording its outcome (found by change ${MINE})`,
    });
    expect(entries.find((e) => e.requestId === 'req-resume-0')).toEqual(recent);
    expect(entries.at(-1)).toMatchObject({ kind: 'change', executionArn: MINE, status: 'RUNNING' });
  });

  it('refuses a tenant without a record (TenantNotFound)', async () => {
    await expect(acquireLease('nobody', ask('offboard'))).rejects.toMatchObject({ name: 'TenantNotFound' });
  });

  it('decides again when the record changed between its read and its write', async () => {
    // GIVEN a read that a concurrent write (a daily job's) makes stale
    records.set('acme', tenant({ status: 'ACTIVE' }));
    registryMock.getTenant.mockImplementationOnce(async (id: string) => ({ ...structuredClone(records.get(id)!), updatedAt: '2026-11-29T00:00:00.000Z' }));
    // WHEN / THEN the conditional write fails, the second read and write succeed
    await expect(acquireLease('acme', ask('suspend'))).resolves.toMatchObject({ lease: { executionArn: MINE } });
    expect(registryMock.updateTenant.mock.calls.map((c) => c[2]?.expectUpdatedAt)).toEqual(['2026-11-29T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
    await expect(registryMock.updateTenant.mock.results[0].value).rejects.toMatchObject({ name: 'RegistryContention' });
  });

  it('meets a lease taken between its read and its write as busy, and overwrites nothing', async () => {
    // GIVEN the read shows a free ACTIVE tenant; meanwhile a change took it
    const taken = leased('change', {}, OTHER_EXECUTION_ARN);
    records.set('acme', taken);
    registryMock.getTenant.mockImplementationOnce(async () => tenant({ status: 'ACTIVE' }));
    holderIs('RUNNING');
    // WHEN / THEN
    await expect(acquireLease('acme', ask('suspend'))).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringContaining(`execution ${OTHER_EXECUTION_ARN}`) });
    expect(records.get('acme')).toEqual(taken);
  });
});

describe('leaseHolderEnded', () => {
  it('asks Step Functions; an unknown execution counts as ended only after the 2-minute grace', async () => {
    const held = lease('onboard', OTHER_EXECUTION_ARN, { acquiredAt: '2026-11-30T00:00:00.000Z' });
    const at = (seconds: number) => Date.parse('2026-11-30T00:00:00.000Z') + seconds * 1000;
    sfn.on(DescribeExecutionCommand).rejects(notFound());
    await expect(leaseHolderEnded(held, at(119))).resolves.toEqual({ ended: false, status: 'DOES_NOT_EXIST' });
    await expect(leaseHolderEnded(held, at(121))).resolves.toEqual({ ended: true, status: 'DOES_NOT_EXIST' });
    holderIs('SUCCEEDED');
    await expect(leaseHolderEnded(held)).resolves.toEqual({ ended: true, status: 'SUCCEEDED' });
    holderIs('RUNNING');
    await expect(leaseHolderEnded(held)).resolves.toEqual({ ended: false, status: 'RUNNING' });
  });
});

describe('completeOperation', () => {
  it('ends the operation in one write under its lease: the kind\'s success status, history SUCCEEDED, no step, no failure, no lease', async () => {
    // GIVEN a change that an earlier failure left a failure record behind
    records.set('acme', leased('change', { currentStep: 'Finish change', failure: { step: 'Deploy blueprint', reason: 'earlier', at: 't' } }, MINE));
    // WHEN
    const done = await completeOperation('acme', { kind: 'change', executionArn: MINE, requestId: 'req-acme-0001' }, { tier: 'professional' });
    // THEN
    expect(done).toEqual(records.get('acme'));
    expect(done).toMatchObject({ status: 'ACTIVE', tier: 'professional' });
    for (const gone of ['lease', 'currentStep', 'failure'] as const) expect(done[gone]).toBeUndefined();
    expect(done.executions).toEqual([{ kind: 'change', requestId: 'req-acme-0001', executionArn: MINE, startedAt: LEASED_AT, endedAt: expect.any(String), status: 'SUCCEEDED' }]);
    expect(registryMock.updateTenant.mock.calls[0][2]).toEqual({ holder: MINE });
  });

  it('is idempotent after its write: a retry returns the record as it is and writes nothing', async () => {
    records.set('acme', leased('suspend', { status: 'ACTIVE' }, MINE));
    const request = { kind: 'suspend' as const, executionArn: MINE, requestId: 'req-acme-0001' };
    const first = await completeOperation('acme', request);
    expect(first.status).toBe('SUSPENDED');
    await expect(completeOperation('acme', request)).resolves.toEqual(first);
    expect(registryMock.updateTenant).toHaveBeenCalledTimes(1);
  });

  // Faults pass: the write took effect and its answer was lost; the SDK's retry of the conditional UpdateItem then
  // meets the lease the first attempt released (TenantBusy in registry.ts). Taken for a refusal, the step failed after its
  // operation completed.
  it('answers its own completing write whose answer was lost (the retry refused for the lease it released) as written', async () => {
    records.set('acme', leased('change', { currentStep: 'Finish change' }, MINE));
    registryMock.updateTenant.mockImplementationOnce(async (...args: Parameters<typeof registryMock.updateTenant>) => {
      await registryMock.updateTenant.getMockImplementation()!(...args);
      throw new registryMock.TenantBusyError('tenant "acme" is not held by execution (status ACTIVE); it may not change the tenant');
    });
    const done = await completeOperation('acme', { kind: 'change', executionArn: MINE, requestId: 'req-acme-0001' }, { tier: 'professional' });
    expect(done).toEqual(records.get('acme'));
    expect(done).toMatchObject({ status: 'ACTIVE', tier: 'professional', executions: [expect.objectContaining({ executionArn: MINE, status: 'SUCCEEDED' })] });
  });

  // The completing entry was built from the change's request alone, so what a step had recorded on the running
  // entry (the protections Deploy blueprint lifted to remove a dead stack) was dropped when the operation succeeded.
  it('keeps every field the running entry carries (the change\'s request, lifted protections), its own fields winning where it sets them', async () => {
    // GIVEN a change whose Deploy blueprint lifted a dead stack's termination protection, recorded on its running entry
    const running = { ...leased('change', {}, MINE).executions[0], change: { tier: 'professional' }, liftedProtections: [LIFTED], reason: 'running note' };
    records.set('acme', leased('change', { currentStep: 'Finish change', executions: [onboarded, running] }, MINE));
    // WHEN it completes, with a field of its own and one it leaves undefined
    const done = await completeOperation('acme', { kind: 'change', executionArn: MINE, requestId: 'req-acme-0001' }, {}, undefined, { reason: 'announced late', failedStep: undefined });
    // THEN the entry keeps them, SUCCEEDED with its end time, the completing step's reason over the running one
    expect(done.executions).toEqual([onboarded, {
      kind: 'change', requestId: 'req-acme-0001', executionArn: MINE, startedAt: LEASED_AT, endedAt: expect.any(String), status: 'SUCCEEDED',
      change: { tier: 'professional' }, liftedProtections: [LIFTED], reason: 'announced late',
    }]);
  });

  it('refuses (TenantBusy) an execution that neither holds the lease nor completed, writing nothing', async () => {
    const before = leased('change', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    await expect(completeOperation('acme', { kind: 'change', executionArn: MINE, requestId: 'r' })).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(before);
  });
});

describe('failOperation', () => {
  it.each([
    ['onboard', 'FAILED'], ['change', 'ACTIVE'], ['upgrade', 'ACTIVE'], ['suspend', 'ACTIVE'], ['resume', 'SUSPENDED'], ['offboard', 'OFFBOARDING'],
  ] as Array<[LifecycleKind, TenantStatus]>)('%s: leaves the tenant %s, the failure and the history entry recorded, the lease released', async (kind, after) => {
    // GIVEN an operation of `kind` running at Deploy blueprint (an offboarding from SUSPENDED)
    const held = lease(kind, MINE, kind === 'offboard' ? { previousStatus: 'SUSPENDED' } : {});
    const record = leased(kind, { currentStep: 'Deploy blueprint', lease: held });
    records.set('acme', record);
    // WHEN
    const failed = await failOperation(record, held, { step: 'Deploy blueprint', reason: 'StackFailed: boom' });
    // THEN
    expect(failed).toEqual(records.get('acme'));
    expect(failed.status).toBe(after);
    expect(failed.lease).toBeUndefined();
    expect(failed.currentStep).toBe('Deploy blueprint');
    expect(failed.failure).toEqual({ step: 'Deploy blueprint', reason: 'StackFailed: boom', at: expect.any(String), kind, executionArn: MINE });
    expect(failed.executions).toEqual([{
      kind, requestId: 'req-acme-0001', executionArn: MINE, startedAt: LEASED_AT, endedAt: failed.failure!.at, status: 'FAILED', failedStep: 'Deploy blueprint', reason: 'StackFailed: boom',
    }]);
    expect(registryMock.updateTenant.mock.calls[0][2]).toEqual({ holder: MINE });
    // an onboarding's account-creation slot goes back
    expect(controlMock.releaseSlot).toHaveBeenCalledTimes(kind === 'onboard' ? 1 : 0);
  });

  // s41h: an offboarding stopped at Check rebuilt stack (StopExecution, or its first Lambda not yet run) was ended by
  // end-stopped-execution OFFBOARDING: not served, refused everything but DELETE, though it had done nothing.
  it.each([
    ['Check rebuilt stack', 'ACTIVE', 'ACTIVE'], ['Begin offboarding', 'SUSPENDED', 'SUSPENDED'], ['Check rebuilt stack', 'FAILED', 'FAILED'],
    ['Begin offboarding', 'OFFBOARDING', 'OFFBOARDING'], ['Revoke tenant identities', 'ACTIVE', 'OFFBOARDING'], ['unknown', 'ACTIVE', 'OFFBOARDING'],
  ] as Array<[string, TenantStatus, TenantStatus]>)('an offboarding ended at %s (from %s): leaves the tenant %s', async (step, from, after) => {
    const held = lease('offboard', MINE, { previousStatus: from });
    const record = leased('offboard', { currentStep: step, lease: held });
    records.set('acme', record);
    const failed = await failOperation(record, held, { step, reason: 'execution ABORTED: Operator (stopped by hand)' });
    expect(failed).toMatchObject({ status: after, failure: { step, kind: 'offboard' } });
    expect(failed.lease).toBeUndefined();
  });

  // Faults pass: Record failure's write took effect and its answer was lost; the SDK's retry met the released lease,
  // Record failure threw TenantBusy (not retried), the execution ended FAILED with that error, no Tenant Lifecycle Failed sent.
  it('answers its own failure write whose answer was lost as written; another ender\'s write stays a refusal', async () => {
    const held = lease('change', MINE);
    const record = leased('change', { currentStep: 'Deploy blueprint', lease: held });
    records.set('acme', record);
    const lostAnswer = (written?: (r: typeof record) => void) => registryMock.updateTenant.mockImplementationOnce(async (...args: Parameters<typeof registryMock.updateTenant>) => {
      if (written) written(records.get('acme')!);
      else await registryMock.updateTenant.getMockImplementation()!(...args);
      throw new registryMock.TenantBusyError('tenant "acme" is not held by execution (status ACTIVE); it may not change the tenant');
    });
    lostAnswer();
    const failed = await failOperation(record, held, { step: 'Deploy blueprint', reason: 'StackFailed: boom' });
    expect(failed).toEqual(records.get('acme'));
    expect(failed).toMatchObject({ status: 'ACTIVE', failure: { executionArn: MINE, reason: 'StackFailed: boom' } });
    // another writer ended it first (its own failure, its own time): TenantBusy as before
    records.set('acme', record);
    lostAnswer((r) => records.set('acme', { ...r, lease: undefined, status: 'ACTIVE', failure: { step: 'x', reason: 'ended by a request', at: '2026-11-29T00:00:00.000Z', kind: 'change', executionArn: MINE } }));
    await expect(failOperation(record, held, { step: 'Deploy blueprint', reason: 'StackFailed: boom' })).rejects.toMatchObject({ name: 'TenantBusy' });
  });

  // As for completeOperation, an ending that did not pass the running entry's fields lost them (end-stopped-execution,
  // a dead lease ended by the next acquirer: no `entry`).
  it('keeps every field the running entry carries; the failure\'s own entry fields (Record failure\'s lifts) win where it sets them', async () => {
    const held = lease('onboard', MINE);
    const running = { kind: 'onboard' as const, requestId: 'req-acme-0001', executionArn: MINE, startedAt: LEASED_AT, status: 'RUNNING' as const, liftedProtections: [LIFTED], externalQuarantinePolicies: [DETACHED] };
    const record = leased('onboard', { currentStep: 'Activate tenant', lease: held, executions: [running] });
    records.set('acme', record);
    // WHEN an ending without entry fields (a stopped execution) fails it
    const failed = await failOperation(record, held, { step: 'Activate tenant', reason: 'execution stopped' });
    // THEN
    expect(failed.executions).toEqual([{ ...running, endedAt: failed.failure!.at, status: 'FAILED', failedStep: 'Activate tenant', reason: 'execution stopped' }]);
    // and Record failure's lifts (the running entry's and its own) replace the running entry's list
    const more = { ...LIFTED, logicalId: 'tessera-acme-namespace', physicalId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme-namespace/2' };
    records.set('acme', record);
    const again = await failOperation(record, held, { step: 'Deploy blueprint', reason: 'StackFailed: boom', entry: { reason: 'StackFailed', liftedProtections: [LIFTED, more] } });
    expect(again.executions).toEqual([{ ...running, endedAt: again.failure!.at, status: 'FAILED', failedStep: 'Deploy blueprint', reason: 'StackFailed', liftedProtections: [LIFTED, more] }]);
  });

  it('refuses (TenantBusy) when the lease is someone else\'s, and writes nothing', async () => {
    const before = leased('offboard', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    await expect(failOperation(before, lease('change', MINE), { step: 'Deploy blueprint', reason: 'x' })).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(before);
  });

  it('never overwrites a record whose operation has ended (OFFBOARDED, no lease)', async () => {
    const before = tenant({ status: 'OFFBOARDED', executions: [{ kind: 'offboard', requestId: 'r', executionArn: MINE, startedAt: 't0', endedAt: 't1', status: 'SUCCEEDED' }] });
    records.set('acme', before);
    await expect(failOperation(before, lease('offboard', MINE), { step: 'Finish offboarding', reason: 'x' })).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(before);
  });
});

describe('failOperation: a customization still DEPLOYING', () => {
  const entry = (status: 'DEPLOYING' | 'ACTIVE' | 'RETAINED', name: string) => ({ stackName: `tessera-acme-custom-${name}`, status, tier: 'enterprise', blueprintVersion: '1.0.0', updatedAt: '2026-11-23T00:00:30.000Z' });

  it('is recorded FAILED with the operation\'s failure reason (its tier and version kept); the others as they were', async () => {
    // GIVEN a change whose Deploy customizations started the security stack's update, then timed out (no FAILED recorded by the step)
    const held = lease('change', MINE);
    const record = leased('change', { lease: held, tier: 'enterprise', isolation: 'account', customizations: { security: entry('DEPLOYING', 'security'), budgets: entry('ACTIVE', 'budgets'), legacy: entry('RETAINED', 'legacy') } });
    records.set('acme', record);
    // WHEN
    const failed = await failOperation(record, held, { step: 'Check customizations', reason: 'Sandbox.Timedout: Task timed out after 60.00 seconds' });
    // THEN
    expect(failed.customizations).toEqual({
      security: {
        ...entry('DEPLOYING', 'security'), status: 'FAILED', updatedAt: failed.failure!.at,
        reason: 'the change failed at Check customizations while stack tessera-acme-custom-security was being deployed (tier enterprise, version 1.0.0), before its create or update was seen to complete: Sandbox.Timedout: Task timed out after 60.00 seconds',
      },
      budgets: entry('ACTIVE', 'budgets'), legacy: entry('RETAINED', 'legacy'),
    });
    expect(failed).toMatchObject({ status: 'ACTIVE', failure: { step: 'Check customizations' } });
  });
});

describe('abandonLease', () => {
  it('gives back a lease taken for an execution Step Functions refused to start: the status before, its history entry removed', async () => {
    const before = tenant({ status: 'ACTIVE', executions: [onboarded] });
    records.set('acme', before);
    await acquireLease('acme', ask('change'));
    await abandonLease('acme', MINE);
    expect(records.get('acme')).toEqual({ ...before, updatedAt: expect.any(String) });
  });

  it('does nothing for an execution that does not hold the lease', async () => {
    const before = leased('change', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    await abandonLease('acme', MINE);
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });
});

describe('End stopped execution', async () => {
  const { handler, tenantOfInput } = await import('../../../lambdas/lifecycle/end-stopped-execution.js');
  const stopped = (status: string, executionArn = EXECUTION_ARN, extra: Record<string, unknown> = {}) => ({ detail: {
    executionArn, stateMachineArn: 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-onboard', status,
    input: JSON.stringify({ request: { tenantId: 'acme', requestId: 'req-acme-0001' } }), error: null, cause: null, ...extra,
  } });
  const failedEvents = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).filter((e) => e.DetailType === 'Tenant Lifecycle Failed').map((e) => JSON.parse(e.Detail!));

  it('s42: an execution stopped between two Lambda steps is recorded as failed in the state it stopped in (its history), not in the step before, which had completed', async () => {
    // GIVEN a change whose Check blueprint completed; the execution entered Deploy namespace and was stopped before its Lambda ran
    records.set('acme', leased('change', { currentStep: 'Check blueprint' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionAborted'], ['TaskStateEntered', 'Deploy namespace'], ['TaskStateExited', 'Check blueprint'], ['LambdaFunctionSucceeded'], ['LambdaFunctionStarted']) });
    // WHEN
    await expect(handler(stopped('ABORTED'))).resolves.toEqual({ ended: true, status: 'ACTIVE' });
    // THEN one small page, newest first, without the states' data
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION_ARN, reverseOrder: true, maxResults: 20, includeExecutionData: false }]);
    const reason = 'execution ABORTED at "Deploy namespace" without recording its outcome; stopped in "Deploy namespace" after "Check blueprint" completed (Step Functions\' history; the registry\'s currentStep said "Check blueprint")';
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', currentStep: 'Deploy namespace', failure: { step: 'Deploy namespace', reason } });
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ status: 'FAILED', failedStep: 'Deploy namespace', reason });
    expect(failedEvents()).toEqual([expect.objectContaining({ step: 'Deploy namespace', reason })]);
  });

  it('writes Tenant Lifecycle Failed owed before it sends it: a bus that refuses it leaves it on the record (was: lost), sent by tessera tenants retry', async () => {
    records.set('acme', leased('change', { currentStep: 'Check blueprint' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionAborted'], ['TaskStateEntered', 'Deploy namespace'], ['TaskStateExited', 'Check blueprint']) });
    events.on(PutEventsCommand).rejects(Object.assign(new Error('denied by the bus policy'), { name: 'AccessDeniedException' }));
    await expect(handler(stopped('ABORTED'))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', failure: { step: 'Deploy namespace' } });
    expect(records.get('acme')!.owedAnnouncements).toEqual([{ detailType: 'Tenant Lifecycle Failed', executionArn: EXECUTION_ARN, at: expect.any(String), error: 'AccessDeniedException: denied by the bus policy',
      detail: { tenantId: 'acme', kind: 'change', step: 'Deploy namespace', reason: records.get('acme')!.failure!.reason, executionArn: EXECUTION_ARN, status: 'ACTIVE' } }]);
    // (the one PutEvents tried, and refused, sent what is kept)
    expect(failedEvents()).toEqual([records.get('acme')!.owedAnnouncements![0].detail]);
  });

  it('s42: in a Wait state too; an offboarding stopped after Begin offboarding, before the next step\'s Lambda ran, keeps the status rule of what ran (the tenant back to ACTIVE)', async () => {
    records.set('acme', leased('change', { currentStep: 'Deploy blueprint' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionTimedOut'], ['WaitStateEntered', 'Wait for blueprint'], ['TaskStateExited', 'Deploy blueprint']) });
    await handler(stopped('TIMED_OUT', EXECUTION_ARN, { error: 'States.Timeout' }));
    expect(records.get('acme')!.failure).toMatchObject({ step: 'Wait for blueprint', reason: expect.stringMatching(/^execution TIMED_OUT: States\.Timeout at "Wait for blueprint" without recording its outcome; stopped in "Wait for blueprint" after "Deploy blueprint" completed/) });
    records.set('acme', leased('offboard', { currentStep: 'Begin offboarding' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionAborted'], ['TaskStateEntered', 'Revoke tenant identities'], ['TaskStateExited', 'Begin offboarding']) });
    await expect(handler(stopped('ABORTED'))).resolves.toEqual({ ended: true, status: 'ACTIVE' });
    expect(records.get('acme')!.failure).toMatchObject({ step: 'Revoke tenant identities', kind: 'offboard' });
  });

  it('s42: stopped while recording a step\'s failure (Record failure): the step that failed, as the registry has it', async () => {
    records.set('acme', leased('change', { currentStep: 'Deploy blueprint' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history(['ExecutionAborted'], ['TaskStateEntered', 'Record failure'], ['TaskStateExited', 'Deploy blueprint']) });
    await handler(stopped('ABORTED'));
    expect(records.get('acme')!.failure).toMatchObject({ step: 'Deploy blueprint', reason: 'execution ABORTED at "Deploy blueprint" without recording its outcome' });
  });

  it('s42: a history that cannot be read (AccessDenied) keeps the recorded step and says in the record that it is the last step the execution recorded', async () => {
    records.set('acme', leased('change', { currentStep: 'Check blueprint' }));
    sfn.on(GetExecutionHistoryCommand).rejects(Object.assign(new Error('User is not authorized to perform: states:GetExecutionHistory'), { name: 'AccessDeniedException' }));
    await expect(handler(stopped('ABORTED'))).resolves.toEqual({ ended: true, status: 'ACTIVE' });
    expect(records.get('acme')!.failure).toMatchObject({ step: 'Check blueprint', reason: 'execution ABORTED at "Check blueprint" without recording its outcome; "Check blueprint" is the last step the execution recorded (it started; it may have completed, the execution stopping in the state after it): its history could not be read (GetExecutionHistory: AccessDeniedException: User is not authorized to perform: states:GetExecutionHistory)' });
  });

  it.each([
    ['onboard', 'FAILED'], ['change', 'ACTIVE'], ['upgrade', 'ACTIVE'], ['suspend', 'ACTIVE'], ['resume', 'SUSPENDED'], ['offboard', 'OFFBOARDING'],
  ] as Array<[LifecycleKind, TenantStatus]>)('ends an ABORTED %s that holds the lease: %s, the failure at its step, the lease released, announced', async (kind, after) => {
    // GIVEN an execution an operator stopped at Check blueprint
    records.set('acme', leased(kind, { currentStep: 'Check blueprint' }));
    // WHEN
    await expect(handler(stopped('ABORTED'))).resolves.toEqual({ ended: true, status: after });
    // THEN
    const reason = 'execution ABORTED at "Check blueprint" without recording its outcome';
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: after, currentStep: 'Check blueprint', failure: { step: 'Check blueprint', reason, kind, executionArn: EXECUTION_ARN } });
    expect(record.lease).toBeUndefined();
    expect(record.executions).toEqual([expect.objectContaining({ executionArn: EXECUTION_ARN, status: 'FAILED', failedStep: 'Check blueprint', reason })]);
    expect(failedEvents()).toEqual([{ tenantId: 'acme', kind, step: 'Check blueprint', reason, executionArn: EXECUTION_ARN, status: after }]);
  });

  it('ends the change of a tenant it left UPDATING with no lease (removed by hand, so its writes and its failure recorder were refused): ACTIVE, its entry FAILED, announced; was a no-op, the tenant UPDATING for good', async () => {
    const running = { kind: 'change' as const, requestId: 'req-old', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, status: 'RUNNING' as const };
    records.set('acme', tenant({ status: 'UPDATING', currentStep: 'Deploy blueprint', executions: [onboarded, running] }));
    await expect(handler(stopped('TIMED_OUT', EXECUTION_ARN, { error: 'States.Timeout' }))).resolves.toEqual({ ended: true, status: 'ACTIVE' });
    const reason = expect.stringMatching(/^execution TIMED_OUT: States\.Timeout at "Deploy blueprint" without recording its outcome; tenant "acme" was left UPDATING with no lease \(removed outside Tessera, or lost\), so its own registry writes were refused$/);
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'ACTIVE', failure: { step: 'Deploy blueprint', reason, kind: 'change', executionArn: EXECUTION_ARN } });
    expect(record.executions.at(-1)).toMatchObject({ executionArn: EXECUTION_ARN, status: 'FAILED', failedStep: 'Deploy blueprint', reason });
    expect(failedEvents()).toEqual([expect.objectContaining({ tenantId: 'acme', kind: 'change', executionArn: EXECUTION_ARN, status: 'ACTIVE', reason })]);
    // another execution's end leaves it alone
    const other = tenant({ status: 'UPDATING', executions: [onboarded, running] });
    records.set('acme', other);
    await expect(handler(stopped('ABORTED', OTHER_EXECUTION_ARN))).resolves.toMatchObject({ ended: false });
    expect(records.get('acme')).toEqual(other);
  });

  it('records a customization the stopped execution left DEPLOYING as FAILED, with the reason it ended', async () => {
    // (Its isolation left vpc: an account-mode onboarding's end fences the account first, through Organizations.)
    records.set('acme', leased('onboard', { currentStep: 'Check customizations', tier: 'enterprise', customizations: {
      security: { stackName: 'tessera-acme-custom-security', status: 'DEPLOYING', tier: 'enterprise', blueprintVersion: '1.0.0', updatedAt: '2026-11-23T00:00:30.000Z' },
    } }));
    await handler(stopped('ABORTED'));
    expect(records.get('acme')!.customizations!.security).toMatchObject({
      status: 'FAILED', tier: 'enterprise', blueprintVersion: '1.0.0',
      reason: 'the onboard failed at Check customizations while stack tessera-acme-custom-security was being deployed (tier enterprise, version 1.0.0), before its create or update was seen to complete: execution ABORTED at "Check customizations" without recording its outcome',
    });
  });

  it('names the error and cause of a timed-out execution', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Check account' }));
    await handler(stopped('TIMED_OUT', EXECUTION_ARN, { error: 'States.Timeout', cause: 'execution timed out' }));
    expect(records.get('acme')?.failure?.reason).toBe('execution TIMED_OUT: States.Timeout (execution timed out) at "Check account" without recording its outcome');
    expect(controlMock.releaseSlot).toHaveBeenCalledWith('acme');
  });

  it.each([
    // States.Runtime (no Catch runs: "A retry or catch on States.ALL won't catch States.Runtime errors"): its cause quotes the
    // state's whole input, which holds every step's result so far
    ['FAILED', 'States.Runtime', `An error occurred while executing the state 'Blueprint deployed?' (entered at the event id #42). The JSONPath '$.stack.state' specified for the field 'Variable' could not be found in the input '${JSON.stringify({ request: { tenantId: 'acme' }, deploy: { outputs: 'x'.repeat(30_000) } })}'`],
    // an operator's `aws stepfunctions stop-execution --cause` (StopExecution: up to 32,768 characters)
    ['ABORTED', 'OperatorStop', 'y'.repeat(32_768)],
  ])('cuts a long cause of a %s execution (%s) as the next request would, not the whole of it into the record and the event', async (status, error, cause) => {
    records.set('acme', leased('change', { currentStep: 'Check blueprint' }));
    await handler(stopped(status, EXECUTION_ARN, { error, cause }));
    const reason = records.get('acme')!.failure!.reason;
    // The failure, the history entry and the event each carried the whole cause: 32,768 characters twice in the record per
    // stopped execution (50 history entries kept, DynamoDB's 400 KB item), and a CLI line of a state's whole input.
    expect(reason.length).toBeLessThanOrEqual(1_200);
    expect(reason).toMatch(new RegExp(`^execution ${status}: ${error} \\(.{100,}… \\(${cause.length} characters; the rest is in the execution's history\\)\\) at "Check blueprint" without recording its outcome$`));
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ status: 'FAILED', reason });
    expect(failedEvents()).toEqual([expect.objectContaining({ reason })]);
  });

  it('records the failed step\'s own error, then the recorder\'s, for an execution whose failure recorder failed too', async () => {
    // GIVEN an onboarding failed at Check account, and Record failure failed after its retries (the workflow's
    // `Onboard failed, not recorded` Fail state: the step's error, and both errors as the cause)
    records.set('acme', leased('onboard', { currentStep: 'Check account' }));
    const stepError = { Error: 'AccountCreationFailed', Cause: JSON.stringify({ errorType: 'AccountCreationFailed', errorMessage: 'Organizations could not create the account for tenant acme: EMAIL_ALREADY_EXISTS', trace: ['at x'] }) };
    const cause = JSON.stringify({ ...stepError, recordFailure: { Error: 'States.Timeout', Cause: 'Task timed out after 300.00 seconds' } });
    // WHEN
    await handler(stopped('FAILED', EXECUTION_ARN, { error: 'AccountCreationFailed', cause }));
    // THEN the failure names what failed and why, and that it was not recorded (was: "execution FAILED: AccountCreationFailed ({…})")
    const reason = 'execution FAILED at "Check account": AccountCreationFailed: Organizations could not create the account for tenant acme: EMAIL_ALREADY_EXISTS; '
      + 'not recorded by the workflow, whose failure recorder failed too (States.Timeout: Task timed out after 300.00 seconds)';
    expect(records.get('acme')).toMatchObject({ status: 'FAILED', failure: { step: 'Check account', reason } });
    expect(failedEvents()).toEqual([expect.objectContaining({ step: 'Check account', reason })]);
    // AND any other JSON cause is said as before
    records.set('acme', leased('onboard', { currentStep: 'Check account' }));
    await handler(stopped('FAILED', EXECUTION_ARN, { error: 'AccountCreationFailed', cause: stepError.Cause }));
    expect(records.get('acme')!.failure!.reason).toBe(`execution FAILED: AccountCreationFailed (${stepError.Cause}) at "Check account" without recording its outcome`);
  });

  it('is a no-op for an execution that holds no lease: it ended normally, or another operation holds the tenant', async () => {
    for (const record of [tenant({ status: 'ACTIVE', executions: [onboarded] }), leased('change', {}, OTHER_EXECUTION_ARN)]) {
      records.set('acme', record);
      await expect(handler(stopped('ABORTED'))).resolves.toEqual({ ended: false, reason: 'the execution holds no lease' });
      expect(records.get('acme')).toEqual(record);
    }
    await expect(handler(stopped('ABORTED', EXECUTION_ARN, { input: '{}' }))).resolves.toEqual({ ended: false, reason: 'no tenant in the execution input' });
    records.delete('acme');
    await expect(handler(stopped('ABORTED'))).resolves.toEqual({ ended: false, reason: 'the execution holds no lease' });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(failedEvents()).toEqual([]);
  });

  it('sends what an execution stopped after its completing write still owes (it holds no lease: nothing else is done)', async () => {
    // GIVEN an onboarding whose Activate tenant wrote ACTIVE with Tenant Activated owed, and the execution was stopped
    // (or timed out) before the announcement went out: no Catch ran, so neither a retry of the step nor Record failure sends it
    const owed = { detailType: 'Tenant Activated', detail: { tenantId: 'acme', executionArn: EXECUTION_ARN }, executionArn: EXECUTION_ARN, at: 't1' };
    const other = { detailType: 'Tenant Changed', detail: { tenantId: 'acme' }, executionArn: 'arn:other', at: 't0' };
    records.set('acme', tenant({ status: 'ACTIVE', executions: [{ ...onboarded, executionArn: EXECUTION_ARN }], owedAnnouncements: [other, owed] }));
    // WHEN
    const out = await handler(stopped('ABORTED'));
    // THEN (hlc4: it stayed owed until someone ran tessera tenants retry; nothing told anyone it was)
    expect(out).toEqual({ ended: false, reason: 'the execution holds no lease', announced: ['Tenant Activated'] });
    expect(events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType)).toEqual(['Tenant Activated']);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', owedAnnouncements: [other] });
    expect(failedEvents()).toEqual([]);
  });

  it('finds the tenant in a request input or a bus request, and nowhere else', () => {
    expect(tenantOfInput(JSON.stringify({ request: { tenantId: 'acme' } }))).toBe('acme');
    expect(tenantOfInput(JSON.stringify({ tenantId: 'globex', requestId: 'r' }))).toBe('globex');
    expect(tenantOfInput('not json')).toBeUndefined();
    expect(tenantOfInput(null)).toBeUndefined();
  });
});
