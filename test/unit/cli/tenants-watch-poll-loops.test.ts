import { describe, expect, it } from 'vitest';
import { printSteps, type WatchedStep } from '../../../lib/cli/execution-watch.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * Found by s28: `tessera tenants watch` printed `✓ Check regions` at each 60 s poll of *Enable regions*' loop (up to 480
 * lines in its 8 hours), and `… wait for regions` again after each, as for every stack poll (`✓ Check blueprint`). A poll
 * loop now reads as one step: printed once when it ended, with its total duration and the number of polls, its wait said
 * once (lib/cli/execution-watch.ts foldPollLoops, printSteps, samePollLoop). The answers are the admin API's, served on
 * loopback one after another.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:onboard-acme-mx6x9ekx-44d2f756';
let answers: unknown[] = [];
const admin = fakeAdminApi(() => ({ status: 200, body: answers.length > 1 ? answers.shift() : answers[0] }));

const done = (name: string, seconds: number): WatchedStep => ({ name, status: 'DONE', seconds });
const running = (name: string): WatchedStep => ({ name, status: 'RUNNING' });
/** One poll of *Check regions*: the Wait before it, the Task, its Choice. */
const poll = (): WatchedStep[] => [done('Wait for regions', 60), done('Check regions', 0.5), done('Regions ready?', 0)];
const before = [done('Quarantine account', 0.25), done('Opt-in regions?', 0), done('Enable regions', 0.75), done('Regions enabled?', 0)];
/** The onboarding as four polls of the watch read it: the region ENABLED at the third Check regions, then Verify provisioning access. */
const progresses = () => {
  const p = (steps: WatchedStep[], end?: object) => ({ tenantId: 'acme', executionArn: ARN, kind: 'onboard', status: 'PROVISIONING', executionStatus: 'RUNNING', steps, ...end });
  return [
    p([...before, running('Wait for regions')]),
    p([...before, ...poll(), running('Wait for regions')]),
    p([...before, ...poll(), ...poll(), running('Wait for regions')]),
    p([...before, ...poll(), ...poll(), ...poll(), running('Verify provisioning access')]),
    p([...before, ...poll(), ...poll(), ...poll(), done('Verify provisioning access', 1)], { status: 'ACTIVE', executionStatus: 'SUCCEEDED' }),
  ];
};

describe('tessera tenants watch: a poll loop reads as one step', () => {
  it('text: the loop\'s one line when it ended, with its total duration (waits included) and its polls; its wait said once', async () => {
    answers = progresses();
    const out = await runTesseraInProcess(admin.url, 'tenants', 'watch', 'acme', '--interval', '0.1');
    expect(out).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'onboard running — tenant acme is PROVISIONING',
        '  ✓ Quarantine account                         0.3 s',
        '  … wait for regions',
        '  ✓ Enable regions                             0.8 s',
        '  ✓ Check regions                              121.5 s, 3 polls',
        '  ✓ Verify provisioning access                 1.0 s',
        'onboard succeeded — tenant acme is ACTIVE',
        '',
      ].join('\n'),
    });
  });

  it('--json: one object per loop, with polls (and seconds its total), not one per poll', async () => {
    answers = progresses();
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'watch', 'acme', '--interval', '0.1');
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, -1)).toEqual([
      { step: 'Quarantine account', status: 'DONE', seconds: 0.25 },
      { step: 'Enable regions', status: 'DONE', seconds: 0.75 },
      { step: 'Check regions', status: 'DONE', seconds: 121.5, polls: 3 },
      { step: 'Verify provisioning access', status: 'DONE', seconds: 1 },
    ]);
    expect(lines.at(-1)).toMatchObject({ execution: { executionStatus: 'SUCCEEDED' } });
  });

  it('a loop whose last poll failed is one ✗ line with the polls; a loop the execution ended in a Wait of is printed at the end', () => {
    const lines: string[] = [];
    const failed = [done('Deploy blueprint', 2), done('Wait for blueprint', 30), done('Check blueprint', 1), done('Blueprint deployed?', 0), done('Wait for blueprint', 30),
      { name: 'Check blueprint', status: 'FAILED', seconds: 1, error: 'StackFailed' }, done('Failed at Check blueprint', 0)];
    printSteps(failed, new Set(), false, false, (l) => lines.push(l));
    expect(lines).toEqual(['  ✓ Deploy blueprint                           2.0 s', '  ✗ Check blueprint                            32.0 s, 2 polls', '  ✗ Failed at Check blueprint                  0.0 s']);
    // aborted while waiting between polls: the loop so far, then the Wait it stopped in
    lines.length = 0;
    const aborted = [done('Check blueprint', 1), done('Blueprint deployed?', 0), done('Wait for blueprint', 30), done('Check blueprint', 1), done('Blueprint deployed?', 0), { name: 'Wait for blueprint', status: 'ABORTED', seconds: 12 }];
    const printed = new Set<number>();
    printSteps(aborted.slice(0, 5), printed, true, false, (l) => lines.push(l));
    expect(lines).toEqual([]); // running: the loop may poll again
    printSteps(aborted, printed, true, false, (l) => lines.push(l), true);
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ step: 'Check blueprint', status: 'DONE', seconds: 32, polls: 2 }, { step: 'Wait for blueprint', status: 'ABORTED', seconds: 12 }]);
  });
});
