import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { withAwsTaskTimeouts, WorkflowRunner, type Definition } from './support/workflow-runner.js';

// The harness's Step Functions runner (test/integration/support/workflow-runner.ts) gives Task
// states without a timeout AWS's behaviour (no task timeout: the Lambda's own ends the task), not
// aws-local-stepfunctions' 60 s of wall time, and leaves the timeouts a definition sets.

const ARN = 'arn:aws:lambda:us-east-1:111111111111:function:set-status';
const task = (extra: Record<string, unknown> = {}) => ({ Type: 'Task', Resource: ARN, End: true, ...extra });

describe('workflow runner: Task timeouts', () => {
  it('sets the longest timer Node keeps on every Task without TimeoutSeconds or TimeoutSecondsPath, nested Map and Parallel states included, on a copy', () => {
    const inner: Definition = { StartAt: 'Inner', States: { Inner: task() } };
    const definition = {
      StartAt: 'A',
      States: {
        A: task({ End: undefined, Next: 'B' }),
        B: task({ End: undefined, Next: 'C', TimeoutSeconds: 5 }),
        C: task({ End: undefined, Next: 'M', TimeoutSecondsPath: '$.timeout' }),
        M: { Type: 'Map', ItemProcessor: inner, Next: 'P' },
        P: { Type: 'Parallel', Branches: [inner], Next: 'W' },
        W: { Type: 'Wait', Seconds: 30, End: true },
      },
    } as unknown as Definition;
    const before = JSON.stringify(definition);
    const out = withAwsTaskTimeouts(definition) as unknown as { States: Record<string, Record<string, any>> };
    expect(JSON.stringify(definition)).toBe(before);
    expect(out.States.A.TimeoutSeconds).toBe(2_147_483);
    expect(out.States.B.TimeoutSeconds).toBe(5);
    expect(out.States.C).toEqual({ ...task({ End: undefined, Next: 'M', TimeoutSecondsPath: '$.timeout' }) });
    expect(out.States.M.ItemProcessor.States.Inner.TimeoutSeconds).toBe(2_147_483);
    expect(out.States.P.Branches[0].States.Inner.TimeoutSeconds).toBe(2_147_483);
    expect(out.States.W).toEqual(definition.States.W);
    // Node keeps a timer of that many seconds (a longer one fires at once, with a warning)
    expect(2_147_483 * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('runs the copy: the machine the runner builds has the timeout, and aws-local-stepfunctions fails a Task past the TimeoutSeconds it has', async () => {
    const slowTask = { StartAt: 'Slow', States: { Slow: task() } } as unknown as Definition;
    // the runner's machine (built once per definition) is made from the copy
    const machine = (new WorkflowRunner({} as never) as unknown as { machine(d: Definition): StateMachine }).machine(slowTask);
    expect((machine as unknown as { definition: { States: Record<string, { TimeoutSeconds?: number }> } }).definition.States.Slow.TimeoutSeconds).toBe(2_147_483);
    // the library applies a Task's TimeoutSeconds (States.Timeout), so the value set is the one in force
    const slow = async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return { done: true };
    };
    const run = (d: Definition) => new StateMachine(d as never, { validationOptions: { noValidate: true } }).run({}, { overrides: { taskResourceLocalHandlers: { Slow: slow } as never } }).result;
    await expect(run({ StartAt: 'Slow', States: { Slow: task({ TimeoutSeconds: 1 }) } } as unknown as Definition)).rejects.toMatchObject({ cause: { name: 'States.Timeout' } });
    await expect(run(withAwsTaskTimeouts(slowTask))).resolves.toEqual({ done: true });
  });
});
