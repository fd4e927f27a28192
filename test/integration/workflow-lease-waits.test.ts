import { describe, expect, it } from 'vitest';
import { WorkflowRunner, type Definition } from './support/workflow-runner.js';

// The harness's Step Functions runner (test/integration/support/workflow-runner.ts) shortens retry pauses to 1 ms. A task
// that waits for its tenant's lease by retrying TenantBusy (constructs/lifecycle-workflows.ts `waitForLease`: the rolling
// upgrade's run of a tenant, about an hour and a half of retries in AWS) waits in the runner for the holder's run to end,
// not for its retries to run out in a few milliseconds.

const fn = (name: string) => `arn:aws:lambda:us-east-1:111111111111:function:${name}`;
/** The upgrade run's Begin change as synthesized: TenantBusy retried (a few times here), then the execution fails. */
const waiter = {
  StartAt: 'Begin change',
  States: { 'Begin change': { Type: 'Task', Resource: fn('begin-change'), End: true, Retry: [{ ErrorEquals: ['TenantBusy'], IntervalSeconds: 60, BackoffRate: 1.5, MaxDelaySeconds: 600, MaxAttempts: 3 }] } },
} as unknown as Definition;
/** Another operation's run holding the lease: one step that takes a while, then the lease is free. */
const holder = { StartAt: 'Deploy blueprint', States: { 'Deploy blueprint': { Type: 'Task', Resource: fn('deploy-blueprint'), End: true } } } as unknown as Definition;

describe('workflow runner: a task waiting for the lease', () => {
  it('retries TenantBusy once the holder\'s run ended (as Step Functions\' hour of retries outlasts it), not 3 times in a few milliseconds', async () => {
    const runner = new WorkflowRunner({} as never);
    let leaseFree = false;
    const attempts: string[] = [];
    runner.wrap = (name) => async () => {
      if (name === 'deploy-blueprint') {
        // a step of some length: CloudFormation's update, in AWS minutes
        await new Promise((resolve) => setTimeout(resolve, 200));
        leaseFree = true;
        return { deployed: true };
      }
      attempts.push(leaseFree ? 'taken' : 'busy');
      if (!leaseFree) throw Object.assign(new Error('tenant "acme" is busy: change is running; upgrade waits for it to end'), { name: 'TenantBusy' });
      return { leased: true };
    };
    const held = runner.run(holder, {});
    const waited = await runner.run(waiter, {});
    expect(waited, JSON.stringify(attempts)).toMatchObject({ status: 'SUCCEEDED', output: { leased: true } });
    expect(attempts).toEqual(['busy', 'taken']);
    expect((await held).status).toBe('SUCCEEDED');
  });

  it('lets any other error through at once: a terminal one fails the execution at its first attempt', async () => {
    const runner = new WorkflowRunner({} as never);
    let attempts = 0;
    runner.wrap = () => async () => {
      attempts += 1;
      throw Object.assign(new Error('the target tier is not published'), { name: 'InvalidRequest' });
    };
    const run = await runner.run(waiter, {});
    expect(run).toMatchObject({ status: 'FAILED', error: { error: 'InvalidRequest' } });
    expect(attempts).toBe(1);
  });
});
