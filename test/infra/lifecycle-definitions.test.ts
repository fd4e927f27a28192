import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalWorkflows, type WorkflowName } from '../integration/support/local-workflows.js';
import { configWith } from '../support/synth.js';

let workflows: LocalWorkflows;
beforeAll(() => {
  workflows = new LocalWorkflows(configWith());
});

type State = { Type: string; Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[] }>; ItemProcessor?: { States: Record<string, State> } };
const states = (d: { States: Record<string, State> }): Array<[string, State]> =>
  Object.entries(d.States).flatMap(([n, s]) => [[n, s] as [string, State], ...(s.ItemProcessor ? states(s.ItemProcessor) : [])]);

describe.each(['onboard', 'change', 'status', 'offboard', 'upgrade'] as WorkflowName[])('the synthesized %s state machine', (name) => {
  it('passes asl-validator', () => {
    const result = aslValidator(workflows.definitions[name], { checkArn: true, checkPaths: true });
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('retries throttling on every task and catches every failure', () => {
    const tasks = states(workflows.definitions[name]).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [n, s] of tasks) {
      expect(s.Retry?.[0].ErrorEquals, n).toEqual(expect.arrayContaining(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'ConcurrentModificationException']));
      // The failure recorders themselves, and the upgrade's listing (no tenant is touched yet), end the execution as failed.
      if (!/Record (status )?failure|List tier tenants/.test(n)) expect(s.Catch?.[0].ErrorEquals, n).toEqual(['States.ALL']);
    }
  });
});

describe('the onboarding state machine', () => {
  it('waits in Wait states, never in a Lambda', () => {
    const waits = states(workflows.definitions.onboard).filter(([, s]) => s.Type === 'Wait').map(([n]) => n);
    expect(waits).toEqual(expect.arrayContaining(['Wait for account slot', 'Wait for account', 'Wait for blueprint', 'Wait for namespace']));
  });
});

describe('the upgrade state machine', () => {
  it('rolls out with bounded concurrency and a failure tolerance', () => {
    const [, map] = states(workflows.definitions.upgrade).find(([n]) => n === 'Upgrade each tenant')! as [string, State & { MaxConcurrency: number; ToleratedFailurePercentage: number }];
    expect(map.MaxConcurrency).toBe(5);
    expect(map.ToleratedFailurePercentage).toBe(10);
  });
});
