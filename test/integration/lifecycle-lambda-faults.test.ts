import { describe, expect, it } from 'vitest';
import type { LifecycleHandlerName } from '../../lib/lifecycle-handlers.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * Lambda faults under the lifecycle workflows (constructs/lifecycle-workflows.ts LAMBDA_TRANSIENT, FUNCTION_TIMEOUT): an
 * Invoke that Lambda itself failed (a transient service exception) is retried on every step; a function that timed out
 * is retried only on a poll step, and on any other step fails into Record failure, which records it. professional with a
 * DR region, on aws-local-stepfunctions (the synthesized definitions, their Retry and Catch as written) + moto.
 */
const local = useLocalLifecycle(configWith({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } }));

/**
 * Wraps the handlers so that the first invocation of each step in `faults` (its `stateName` where the Task passes one,
 * else its handler's name) fails with its error (`before`: without running, as Lambda failing the Invoke; `after`: the
 * handler ran, its answer lost, as a timed-out Lambda's is); counts every step's invocations.
 */
function failFirst(faults: Record<string, { error: string; when: 'before' | 'after' }>): Map<string, number> {
  const calls = new Map<string, number>();
  local.workflows.wrap = (name: LifecycleHandlerName, handler) => async (event) => {
    const state = (event as { stateName?: string }).stateName ?? name;
    const n = (calls.get(state) ?? 0) + 1;
    calls.set(state, n);
    const fault = faults[state];
    const fail = () => Object.assign(new Error(`${fault!.error} (injected)`), { name: fault!.error });
    if (fault && n === 1 && fault.when === 'before') throw fail();
    const out = await handler(event);
    if (fault && n === 1 && fault.when === 'after') throw fail();
    return out;
  };
  return calls;
}

describe('the lifecycle workflows under Lambda faults', () => {
  it('retries a transient Lambda service exception on any step and a function timeout on a poll step: the onboarding completes, the registry ACTIVE with its DR stack', async () => {
    // GIVEN Lambda fails the first Invoke of Validate request and Register tenant (not poll steps), and the first runs of
    // Check DR blueprint and Check blueprint (poll steps) time out after doing their work
    const calls = failFirst({
      'register-tenant': { error: 'Lambda.ClientExecutionTimeoutException', when: 'before' },
      'validate-request': { error: 'Lambda.ServiceException', when: 'before' },
      'Check DR blueprint': { error: 'Sandbox.Timedout', when: 'after' },
      'Check blueprint': { error: 'Sandbox.Timedout', when: 'after' },
    });
    // WHEN
    const run = await local.workflows.run('onboard', onboardRequest('lamfault', 'professional'));
    // THEN it succeeded, each faulted step run again, and the registry says what stands
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    for (const state of ['register-tenant', 'validate-request', 'Check DR blueprint', 'Check blueprint']) expect(calls.get(state), state).toBeGreaterThanOrEqual(2);
    expect(run.states).not.toContain('Record failure');
    const tenant = (await getTenant('lamfault'))!;
    expect(tenant).toMatchObject({ status: 'ACTIVE', disasterRecovery: { status: 'ACTIVE', stackName: 'tessera-lamfault-dr' } });
    expect(tenant.lease).toBeUndefined();
    expect(tenant.failure).toBeUndefined();
  });

  it('does not retry a function timeout on a step that is not a poll (Wire tenant): the onboarding fails into Record failure, which records the step and the timeout', async () => {
    // GIVEN Wire tenant's first run did its work and then timed out (its answer lost)
    const calls = failFirst({ 'wire-tenant': { error: 'Sandbox.Timedout', when: 'after' } });
    // WHEN
    const run = await local.workflows.run('onboard', onboardRequest('lamwire', 'professional'));
    // THEN the step ran once, and the registry records the failure where it happened
    expect(run.status).toBe('FAILED');
    expect(run.error?.error).toBe('Sandbox.Timedout');
    expect(calls.get('wire-tenant')).toBe(1);
    expect(run.states).toContain('Record failure');
    const tenant = (await getTenant('lamwire'))!;
    expect(tenant).toMatchObject({ status: 'FAILED', failure: { step: 'Wire tenant', reason: expect.stringMatching(/^Sandbox\.Timedout: Sandbox\.Timedout \(injected\)/) } });
    expect(tenant.lease).toBeUndefined();
  });
});
