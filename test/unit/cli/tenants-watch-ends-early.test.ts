import { describe, expect, it } from 'vitest';
import { STEP_NAME_COLUMN } from '../../../lib/cli/execution-watch.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * `tessera tenants watch` (and every `--watch` of create, update, suspend, resume, delete and retry) ended silently on
 * Ctrl-C, which an operator may take for a cancel, and a poll that failed (an Identity Center session that expired during
 * a long offboarding) printed only its error. As `tenants upgrade --watch` (the loop they share: execution-watch.ts
 * followUntilEnd), a watch that ends before its execution says the execution goes on and how to follow it again; Ctrl-C
 * exits 130. The answers are the admin API's (GET /admin/tenants/{id}/execution, POST …/suspend), served on loopback.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:offboard-acme-mx6x9ekx-44d2f756';
const running = {
  tenantId: 'acme', executionArn: ARN, kind: 'offboard', status: 'OFFBOARDING', executionStatus: 'RUNNING', startDate: new Date().toISOString(),
  steps: [{ name: 'Begin offboarding', status: 'DONE', seconds: 0.4 }, { name: 'Revoke tenant identities', status: 'RUNNING' }],
};
const goesOn = 'the offboard execution goes on in Step Functions (ending the watch stops nothing): tessera tenants watch acme follows it again';

/** Answers to the next GETs, in order, then `running` again and again; what to do once a GET is answered (a Ctrl-C). */
let gets: Array<{ status: number; body: unknown }> = [];
let afterGet: (() => void) | undefined;
const admin = fakeAdminApi((req) => {
  if (req.method === 'POST') return { status: 202, body: { executionArn: ARN, requestId: 'cli-1', status: 'ACTIVE', statusOnSuccess: 'SUSPENDED' } };
  afterGet?.();
  return gets.shift() ?? { status: 200, body: running };
});
const { calls } = admin;

async function run(...args: string[]) {
  calls.length = 0;
  try {
    return await runTesseraInProcess(admin.url, ...args);
  } finally {
    gets = [];
    afterGet = undefined;
  }
}

/**
 * A Ctrl-C once the first GET is answered (the watch then waits 30 s for the next). A watch that polled on after it
 * would read the execution ended at its next poll (and exit as it says), not wait for a test timeout.
 */
const ctrlCAfterFirstGet = () => {
  gets = [{ status: 200, body: running }, { status: 200, body: { ...running, status: 'OFFBOARDED', executionStatus: 'SUCCEEDED', stopDate: new Date().toISOString() } }];
  afterGet = () => {
    afterGet = undefined;
    setTimeout(() => process.emit('SIGINT'), 50);
  };
};

describe('a tenant watch that ends before its execution', () => {
  it('tessera tenants watch --help states the exit codes (0 SUCCEEDED, 1 otherwise, 130 on Ctrl-C), and each --watch its own', async () => {
    const help = await run('tenants', 'watch', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('Exit codes: 0 when the execution SUCCEEDED; 1 otherwise (it ended FAILED, TIMED_OUT or ABORTED, or a poll failed: an unknown tenant, the admin API unreachable); 130 when Ctrl-C stopped the watch (the execution goes on).');
    for (const command of ['create', 'update', 'suspend', 'resume', 'delete', 'retry']) {
      const { stdout } = await run('tenants', command, '--help');
      expect(stdout.replace(/\s+/g, ' '), command).toMatch(/--watch follow the .*exit 1 unless it (succeeds|does), 130 on Ctrl-C\)/);
    }
  });

  it('tessera tenants watch, Ctrl-C: stops following, says the execution goes on and how to follow it again (stderr), exit 130; no call after', async () => {
    // GIVEN an offboarding that runs; the operator presses Ctrl-C once its first steps are printed
    ctrlCAfterFirstGet();
    // WHEN
    const out = await run('tenants', 'watch', 'acme', '--interval', '30');
    // THEN
    expect(out.code).toBe(130);
    expect(out.stdout).toContain(`  ✓ ${'Begin offboarding'.padEnd(STEP_NAME_COLUMN)} 0.4 s`);
    expect(out.stderr).toBe(`stopped following tenant acme (Ctrl-C): ${goesOn}\n`);
    expect(calls).toEqual(['GET /v1/admin/tenants/acme/execution']);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('a --watch (tenants suspend): Ctrl-C says the same after the start\'s answer, exit 130 (not the 1 of an execution that did not succeed)', async () => {
    ctrlCAfterFirstGet();
    const out = await run('tenants', 'suspend', 'acme', '--watch', '--interval', '30', '--request-id', 'cli-1');
    expect(out.code).toBe(130);
    expect(out.stdout).toMatch(/^acme: suspend started \(SUSPENDED once it ends/);
    expect(out.stderr).toBe(`stopped following tenant acme (Ctrl-C): ${goesOn}\n`);
    expect(calls).toEqual(['POST /v1/admin/tenants/acme/suspend', `GET /v1/admin/tenants/acme/execution?executionArn=${encodeURIComponent(ARN)}`]);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('--json: the Ctrl-C line is one JSON error line on stderr (type interrupted, code watch_stopped), stdout NDJSON only; exit 130', async () => {
    // GIVEN a script's watch (s46 found the Ctrl-C said in text while every other end of --json is a JSON line)
    ctrlCAfterFirstGet();
    // WHEN
    const out = await run('--json', 'tenants', 'watch', 'acme', '--interval', '30');
    // THEN
    expect(out.code).toBe(130);
    for (const line of out.stdout.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
    expect(out.stderr.endsWith('\n')).toBe(true);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out.stderr)).toEqual({ error: { message: `stopped following tenant acme (Ctrl-C): ${goesOn}`, type: 'interrupted', code: 'watch_stopped' } });
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('a poll that fails once the execution was read (an expired session): its error, then that the execution goes on and how to follow it', async () => {
    gets = [{ status: 200, body: running }, { status: 403, body: { message: 'The security token included in the request is expired' } }];
    const out = await run('tenants', 'watch', 'acme', '--interval', '0.1');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`^error: .*expired.*\\n${goesOn.replace(/[()]/g, '\\$&')}\\n$`, 's'));
  });

  it('the first poll: after a start that answered (suspend --watch), its failure says the execution goes on; tenants watch of an unknown tenant is said as the API says it', async () => {
    gets = [{ status: 503, body: { message: 'Service Unavailable' } }];
    const started = await run('tenants', 'suspend', 'acme', '--watch', '--interval', '0.1', '--request-id', 'cli-1');
    expect([started.code, started.stderr]).toEqual([1, 'error: Service Unavailable\nthe lifecycle execution goes on in Step Functions (ending the watch stops nothing): tessera tenants watch acme follows it again\n']);
    gets = [{ status: 404, body: { error: { type: 'not_found_error', code: 'tenant_not_found', param: 'id', message: 'tenant "nope" not found' } } }];
    const unknown = await run('tenants', 'watch', 'nope');
    expect([unknown.code, unknown.stderr]).toEqual([1, 'error: tenant "nope" not found (tenant_not_found, field id)\n']);
  });
});
