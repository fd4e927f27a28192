import { describe, expect, it } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * Found by a platform engineer trying the README (s22): `tessera tenants watch acme` printed
 * `onboard succeeded in 0.1 s` of an execution that ran 1.6 s: it measured from its own start.
 * It now says how long the execution ran from the execution's startDate and stopDate (the admin API
 * answers them from DescribeExecution: lambdas/admin/admin-api.ts executionProgress), and a running
 * one is announced with how long it has been running. The answers are the admin API's, served on
 * loopback one after another.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:onboard-acme-mx6x9ekx-44d2f756';
let answers: unknown[] = [];
/** Each request answered with the next of `answers`, the last one again and again. */
const admin = fakeAdminApi(() => ({ status: 200, body: answers.length > 1 ? answers.shift() : answers[0] }));
const { calls } = admin;

const progress = (extra: object) => ({ tenantId: 'acme', executionArn: ARN, kind: 'onboard', steps: [], ...extra });

describe('tessera tenants watch: the execution\'s duration', () => {
  it('an ended execution: the time it ran (startDate to stopDate), however late the watch began', async () => {
    // GIVEN an onboarding that ran 1.6 s and ended before the watch
    answers = [progress({ status: 'ACTIVE', executionStatus: 'SUCCEEDED', startDate: '2026-11-23T10:00:00.000Z', stopDate: '2026-11-23T10:00:01.600Z', steps: [{ name: 'Register tenant', status: 'DONE', seconds: 0.1 }] })];
    // WHEN it is watched
    const out = await runTesseraInProcess(admin.url, 'tenants', 'watch', 'acme', '--interval', '0.1');
    // THEN its own duration, not the watch's
    expect(out).toEqual({ code: 0, stdout: '  ✓ Register tenant                            0.1 s\nonboard succeeded in 1.6 s — tenant acme is ACTIVE\n', stderr: '' });
  });

  it('a running execution: announced once with how long it has been running, then its duration when it ends', async () => {
    // GIVEN an onboarding started an hour ago, still running at the first poll, ended at the second
    const start = new Date(Date.now() - 3_600_000);
    const stop = new Date(start.getTime() + 3_600_000 + 2_500);
    answers = [
      progress({ status: 'PROVISIONING', executionStatus: 'RUNNING', startDate: start.toISOString() }),
      progress({ status: 'PROVISIONING', executionStatus: 'RUNNING', startDate: start.toISOString() }),
      progress({ status: 'ACTIVE', executionStatus: 'SUCCEEDED', startDate: start.toISOString(), stopDate: stop.toISOString() }),
    ];
    calls.length = 0;
    const out = await runTesseraInProcess(admin.url, 'tenants', 'watch', 'acme', '--interval', '0.1');
    expect(calls).toHaveLength(3);
    expect(out.stdout).toMatch(/^onboard running for 36\d\d\.\d s — tenant acme is PROVISIONING\nonboard succeeded in 3602\.5 s — tenant acme is ACTIVE\n$/);
  });

  it('an answer without the times (an admin API from before them) names no duration rather than a wrong one', async () => {
    answers = [progress({ status: 'ACTIVE', executionStatus: 'SUCCEEDED' })];
    expect((await runTesseraInProcess(admin.url, 'tenants', 'watch', 'acme', '--interval', '0.1')).stdout).toBe('onboard succeeded — tenant acme is ACTIVE\n');
  });
});
