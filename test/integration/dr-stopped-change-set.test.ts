import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { clientWith } from '../../lambdas/shared/aws-clients.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { VERSION_TAG } from '../../lambdas/lifecycle/blueprints.js';
import { configWith } from '../support/config-with.js';
import { inject } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * s43: an onboarding re-run STOPPED (StopExecution) while the DR blueprint's change set executes: CloudFormation took
 * ExecuteChangeSet on the standing DR stack, and the execution was stopped then (the state in flight finishes, no further
 * state runs: *Check DR blueprint* never records the update). No Catch runs, so *Record failure*'s read of the DR stack
 * (dr-update-standing.ts, session 42's lost-answer fix) never ran either: End stopped execution ends the operation. The
 * registry must end saying what the DR stack runs. professional with a DR region, on aws-local-stepfunctions + moto.
 */
const DR_REGION = 'us-west-2';
const local = useLocalLifecycle(configWith({ tiers: { professional: { disasterRecovery: { region: DR_REGION, rpoHours: 1, rtoHours: 4 } } } }));

/** The Lambda that sends `command` for stack `stackName` dies once, right after the call went through (its answer is lost). */
function dieAfter(command: string, stackName: string): { died: () => boolean } {
  let died = false;
  local.cleanups.push(inject(`die-after-${command}-${stackName}`, (next, context) => async (args) => {
    const out = await next(args);
    if (context.commandName === command && args.input.StackName === stackName && !died) {
      died = true;
      throw Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
    }
    return out;
  }));
  return { died: () => died };
}

/** Stops the execution (`stop`: StopExecution) once `command` for `stackName` went through: its Lambda runs on, no further state does. */
function stopAfter(command: string, stackName: string, stop: AbortController): { sent: () => boolean } {
  let sent = false;
  local.cleanups.push(inject(`stop-after-${command}-${stackName}`, (next, context) => async (args) => {
    const out = await next(args);
    if (context.commandName === command && args.input.StackName === stackName && !sent) {
      sent = true;
      stop.abort();
    }
    return out;
  }));
  return { sent: () => sent };
}

describe('an onboarding re-run stopped while the DR blueprint\'s change set executes', () => {
  it('records the DR stack on the tier and version its update runs (End stopped execution reads it back), not the version before', async () => {
    // GIVEN a tenant FAILED with its DR stack standing, recorded ACTIVE on the platform's version (a lost CreateStack answer)
    const first = dieAfter('CreateStackCommand', 'tessera-stopcs-dr');
    expect((await local.workflows.run('onboard', onboardRequest('stopcs', 'professional'))).error?.message).toMatch(/Sandbox\.Timedout/);
    expect(first.died()).toBe(true);
    const before = process.env[ENV.blueprintVersion]!;
    expect((await getTenant('stopcs'))!).toMatchObject({ status: 'FAILED', disasterRecovery: { status: 'ACTIVE', deployedWith: { blueprintVersion: before } } });
    // AND the platform on 2.0.0 since: the re-run updates the DR stack through a change set, and is stopped once
    // CloudFormation took ExecuteChangeSet
    process.env[ENV.blueprintVersion] = '2.0.0';
    local.cleanups.push(() => void (process.env[ENV.blueprintVersion] = before));
    const stop = new AbortController();
    const stopped = stopAfter('ExecuteChangeSetCommand', 'tessera-stopcs-dr', stop);
    const executionArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:stopcs-again';
    const again = await local.workflows.run('onboard', onboardRequest('stopcs', 'professional'), { executionArn, signal: stop.signal });
    expect(stopped.sent()).toBe(true);
    expect(again.status).toBe('ABORTED');
    expect(again.states).not.toContain('Check DR blueprint');
    const cfn = clientWith(CloudFormationClient, await local.fixture.as((await getTenant('stopcs'))!.accountId!), { region: DR_REGION });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-stopcs-dr' }))).Stacks![0];
    expect(stack.StackStatus).toBe('UPDATE_COMPLETE');
    expect(stack.Tags).toContainEqual({ Key: VERSION_TAG, Value: '2.0.0' });
    // WHEN Step Functions' status-change event reaches End stopped execution
    const { handler } = await import('../../lambdas/lifecycle/end-stopped-execution.js');
    const ended = await handler({ detail: {
      executionArn, stateMachineArn: 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-onboard', status: 'ABORTED',
      input: JSON.stringify(onboardRequest('stopcs', 'professional')), error: 'Operator', cause: 'stopped by hand',
    } });
    // THEN the operation is ended, and the registry says the DR stack is deployed, on what it runs: ACTIVE on 2.0.0 (was: DEPLOYING)
    expect(ended).toMatchObject({ ended: true, status: 'FAILED' });
    const failed = (await getTenant('stopcs'))!;
    expect(failed.lease).toBeUndefined();
    expect(failed.disasterRecovery).toMatchObject({ status: 'ACTIVE', stackName: 'tessera-stopcs-dr', deployedWith: { tier: 'professional', blueprintVersion: '2.0.0' } });
    // (its Lambda ran on after the stop and recorded the update DEPLOYING, which said "not deployed" while the stack stood)
    expect(failed.failure).toMatchObject({ kind: 'onboard', step: 'Deploy DR blueprint', reason: expect.stringContaining(`DR stack tessera-stopcs-dr (${DR_REGION}) completed its update (UPDATE_COMPLETE) before the execution ended: recorded ACTIVE on tier professional, version 2.0.0 (was DEPLOYING)`) });
    // AND a third run finishes on it
    const third = await local.workflows.run('onboard', onboardRequest('stopcs', 'professional'));
    expect(third.error).toBeUndefined();
    expect((await getTenant('stopcs'))!).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0', disasterRecovery: { status: 'ACTIVE', deployedWith: { blueprintVersion: '2.0.0' } } });
    expect((await local.workflows.run('offboard', { request: { tenantId: 'stopcs', requestId: 'req-stopcs-offboard' } })).error).toBeUndefined();
  });
});
