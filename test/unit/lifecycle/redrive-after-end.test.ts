import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LifecycleExecution, LifecycleKind } from '../../../lib/tenant-record.js';
import { mockStrict } from '../../support/strict-mock.js';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';
import { EXECUTION_ARN, setLifecycleEnv, state, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);

const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
// Strict: no test here may ask Step Functions anything (a redrive is told from the registry's history alone).
mockStrict(SFNClient, 'stepfunctions', SFNServiceException);

const { acquireLease } = await import('../../../lambdas/lifecycle/lease.js');
const { handler: beginOffboarding } = await import('../../../lambdas/lifecycle/begin-offboarding.js');
const { handler: setStatus } = await import('../../../lambdas/lifecycle/set-status.js');
const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');

/**
 * Hostile pass s40f: a Step Functions redrive (RedriveExecution: the same execution ARN, the state it stopped in run again)
 * of an execution stopped or timed out in a lease-taking step, after its operation was ended (the status-change rule
 * recorded it FAILED and released the lease) and the registry moved on. Before, acquireLease took the lease again: the
 * old request ran over the tenant as it is now, and its FAILED history entry was reopened RUNNING (its failure gone).
 */
const STOPPED = 'Execution was ABORTED at Begin offboarding: stopped by the operator (wrong tenant)';
const ended = (kind: LifecycleKind, status: LifecycleExecution['status'] = 'FAILED'): LifecycleExecution => ({
  kind, requestId: `req-${kind}-old`, executionArn: EXECUTION_ARN, startedAt: '2026-12-01T00:00:00.000Z', endedAt: '2026-12-01T00:05:00.000Z',
  status, ...(status === 'FAILED' ? { failedStep: kind === 'offboard' ? 'Begin offboarding' : 'Begin change', reason: STOPPED } : {}),
});
const later: LifecycleExecution = { kind: 'change', requestId: 'req-change-2', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:later', startedAt: '2026-12-02T00:00:00.000Z', endedAt: '2026-12-02T00:30:00.000Z', status: 'SUCCEEDED' };

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

describe('an execution redriven after its operation was ended', () => {
  it.each(['change', 'upgrade', 'suspend', 'resume', 'offboard', 'onboard'] as LifecycleKind[])('%s: acquireLease refuses it (TenantConflict naming the execution and how it ended), writing nothing', async (kind) => {
    // GIVEN its history entry FAILED, and another operation since
    const before = tenant({ status: kind === 'resume' ? 'SUSPENDED' : kind === 'onboard' ? 'FAILED' : 'ACTIVE', tier: 'professional', executions: [ended(kind), later] });
    records.set('acme', before);
    // WHEN the redriven step asks for the lease again
    const asked = acquireLease('acme', { kind, executionArn: EXECUTION_ARN, requestId: `req-${kind}-old` });
    // THEN refused: the registry as it was
    await expect(asked).rejects.toMatchObject({ name: 'TenantConflict' });
    const message = ((await asked.catch((e: unknown) => e)) as Error).message;
    expect(message).toContain(`execution ${EXECUTION_ARN} already ran its ${kind} of tenant "acme" and it ended FAILED at ${ended(kind).failedStep} (${STOPPED}) at 2026-12-01T00:05:00.000Z; `);
    expect(message).toContain(`(the tenant is ${before.status}). A new attempt is a new request: tessera tenants retry acme`);
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });

  it('an offboarding stopped at Begin offboarding on purpose (its failure recorded, the tenant ACTIVE again), redriven: not offboarded', async () => {
    const before = tenant({ status: 'ACTIVE', stackName: 'tessera-acme', failure: { step: 'Begin offboarding', reason: STOPPED, at: '2026-12-01T00:05:00.000Z', executionArn: EXECUTION_ARN }, executions: [ended('offboard')] });
    records.set('acme', before);
    await expect(beginOffboarding(state())).rejects.toMatchObject({ name: 'TenantConflict' });
    expect(records.get('acme')).toEqual(before);
    // Its Catch: Record failure keeps the failure as recorded (no lease: announced again as that failure, nothing written).
    const out = await recordFailure({ ...state(), kind: 'offboard', failedStep: 'Begin offboarding', error: { Error: 'TenantConflict', Cause: JSON.stringify({ errorMessage: 'execution … already ran' }) } });
    expect(out).toMatchObject({ status: 'ACTIVE', step: 'Begin offboarding', reason: STOPPED });
    expect(records.get('acme')).toEqual(before);
  });

  it('a suspend stopped in Set status after its lease was ended, redriven after a resume: the tenant stays ACTIVE', async () => {
    const before = tenant({ status: 'ACTIVE', executions: [ended('suspend'), { ...later, kind: 'resume' }] });
    records.set('acme', before);
    await expect(setStatus({ ...state(), action: 'suspend' })).rejects.toMatchObject({ name: 'TenantConflict' });
    expect(records.get('acme')).toEqual(before);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('an execution that still holds its lease (a redrive before the status-change rule ended it) goes on as before', async () => {
    const held = tenant({ status: 'UPDATING', lease: { kind: 'change', executionArn: EXECUTION_ARN, requestId: 'req-change-old', acquiredAt: '2026-12-01T00:00:00.000Z', previousStatus: 'ACTIVE' }, executions: [{ ...ended('change'), status: 'RUNNING' }] });
    records.set('acme', held);
    await expect(acquireLease('acme', { kind: 'change', executionArn: EXECUTION_ARN, requestId: 'req-change-old' })).resolves.toEqual(held);
  });
});
