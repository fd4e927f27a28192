import { describe, expect, it } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * Found by the day-2 walk-through (s18): `tessera tenants delete acme --yes` of an OFFBOARDED tenant printed
 * `offboarding acme started` and `execution undefined`, though the admin API answers 200 "already offboarded; nothing
 * started" (README, the lease table: "DELETE of an OFFBOARDED tenant is a no-op"); a DELETE meeting a running
 * offboarding also said "started"; `retry` that only sent an owed announcement printed `onboarding retried` and
 * `execution undefined`. The CLI now prints what the answer says. The answers below are the admin API's
 * (lambdas/admin/admin-api.ts `offboard` and the retry route), served on loopback.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:offboard-acme-mx7mvqcv-b1070bea';
let answer: { status: number; body: unknown } = { status: 500, body: {} };
/** Answers by method, over `answer` (the watch's GETs of the execution beside the command's POST). */
let byMethod: Record<string, { status: number; body: unknown }> = {};
/** The Idempotency-Key header of each request, in order. */
const keys: Array<string | undefined> = [];
const admin = fakeAdminApi((req) => {
  keys.push(req.headers['idempotency-key'] as string | undefined);
  return byMethod[req.method!] ?? answer;
});
const { calls } = admin;

async function run(status: number, body: unknown, ...args: string[]) {
  answer = { status, body };
  byMethod = {};
  calls.length = 0;
  keys.length = 0;
  return runTesseraInProcess(admin.url, ...args);
}

describe('tessera tenants suspend, resume, delete and retry print what the admin API answered', () => {
  it('delete of an OFFBOARDED tenant: nothing started, no execution line, --watch follows nothing', async () => {
    const out = await run(200, { tenantId: 'acme', status: 'OFFBOARDED', note: 'already offboarded; nothing started' }, 'tenants', 'delete', 'acme', '--yes', '--watch', '--request-id', 'ops-off-1');
    expect(out).toEqual({ code: 0, stdout: 'offboarding acme: already offboarded; nothing started — request ops-off-1\n', stderr: '' });
    expect(calls).toEqual(['DELETE /v1/admin/tenants/acme']);
  });

  it('delete while an offboarding runs names it as running, not started', async () => {
    const out = await run(200, { tenantId: 'acme', executionArn: ARN, status: 'OFFBOARDING', note: 'offboarding already running' }, 'tenants', 'delete', 'acme', '--yes', '--request-id', 'ops-off-1');
    expect(out.stdout).toBe(`offboarding acme: offboarding already running — request ops-off-1\nexecution ${ARN}\n`);
  });

  it('delete that starts or resumes an offboarding says which', async () => {
    expect((await run(202, { tenantId: 'acme', executionArn: ARN, status: 'OFFBOARDING' }, 'tenants', 'delete', 'acme', '--yes', '--request-id', 'ops-off-1')).stdout)
      .toBe(`offboarding acme started — request ops-off-1\nexecution ${ARN}\n`);
    expect((await run(202, { tenantId: 'acme', executionArn: ARN, status: 'OFFBOARDING', resumed: 'Delete tenant stacks' }, 'tenants', 'delete', 'acme', '--yes')).stdout)
      .toMatch(/^offboarding acme resumed \(it had stopped at "Delete tenant stacks"\) — request cli-[0-9a-f-]{36}\nexecution arn:\S+\n$/);
  });

  // Same walk-through: `suspend` printed `acme: suspend requested (SUSPENDED)` at once, while the tenant was still ACTIVE
  // and served until the status workflow's write; no execution, no --watch.
  it('suspend and resume say the status comes when the execution ends, name it, and --watch follows it', async () => {
    const SUSPEND = 'arn:aws:states:us-east-1:222222222222:execution:tessera-status:suspend-acme-mx7n4q2c-6a555a2b';
    // the admin API's 202: the status while it runs (ACTIVE: served as before) and the one it ends with
    const out = await run(202, { tenantId: 'acme', requestId: 'ops-suspend-1', executionArn: SUSPEND, status: 'ACTIVE', statusOnSuccess: 'SUSPENDED' }, 'tenants', 'suspend', 'acme', '--request-id', 'ops-suspend-1');
    expect(out).toEqual({ code: 0, stdout: `acme: suspend started (SUSPENDED once it ends: tessera tenants watch acme, or --watch) — request ops-suspend-1\nexecution ${SUSPEND}\n`, stderr: '' });
    expect(keys).toEqual(['ops-suspend-1']);
    expect((await run(202, { tenantId: 'acme', executionArn: SUSPEND, status: 'SUSPENDED', statusOnSuccess: 'ACTIVE' }, 'tenants', 'resume', 'acme', '--request-id', 'k1')).stdout)
      .toBe(`acme: resume started (ACTIVE once it ends: tessera tenants watch acme, or --watch) — request k1\nexecution ${SUSPEND}\n`);
    // without --request-id a new key is sent and printed (sent again with it, a lost answer is not a second suspend)
    const fresh = await run(202, { tenantId: 'acme', executionArn: SUSPEND, status: 'ACTIVE', statusOnSuccess: 'SUSPENDED' }, 'tenants', 'suspend', 'acme');
    expect(fresh.stdout).toMatch(/^acme: suspend started \(SUSPENDED once it ends: tessera tenants watch acme, or --watch\) — request cli-[0-9a-f-]{36}\n/);
    // --watch follows that execution (the admin API's execution route answers its progress)
    const progress = { tenantId: 'acme', executionArn: SUSPEND, kind: 'status', status: 'SUSPENDED', executionStatus: 'SUCCEEDED', startDate: '2026-11-23T10:00:00.000Z', stopDate: '2026-11-23T10:00:00.400Z', steps: [{ name: 'Set status', status: 'SUCCEEDED', seconds: 0.1 }] };
    answer = { status: 202, body: { tenantId: 'acme', executionArn: SUSPEND, status: 'ACTIVE', statusOnSuccess: 'SUSPENDED' } };
    byMethod = { GET: { status: 200, body: progress } };
    calls.length = 0;
    const w = await runTesseraInProcess(admin.url, 'tenants', 'suspend', 'acme', '--watch', '--interval', '0.1');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toBe('POST /v1/admin/tenants/acme/suspend');
    expect(calls.slice(1).every((c) => c.startsWith(`GET /v1/admin/tenants/acme/execution?executionArn=${encodeURIComponent(SUSPEND)}`))).toBe(true);
    expect(w.stdout).toMatch(/✓ Set status +0\.1 s\nstatus succeeded in 0\.4 s — tenant acme is SUSPENDED\n$/);
  });

  // s23 (hostile pass): suspend and resume ignored Idempotency-Key; the same key again answers with that execution.
  it('suspend sent again with its key prints the admin API\'s note (nothing started), and refuses an unusable key before any call', async () => {
    const SUSPEND = 'arn:aws:states:us-east-1:222222222222:execution:tessera-status:suspend-acme-mx7n4q2c-6a555a2b';
    const again = await run(200, { tenantId: 'acme', requestId: 'ops-suspend-1', executionArn: SUSPEND, status: 'SUSPENDED', outcome: 'SUCCEEDED', note: 'this request already ran (SUCCEEDED); nothing started: send a new Idempotency-Key for a new suspend' }, 'tenants', 'suspend', 'acme', '--request-id', 'ops-suspend-1');
    expect(again.stdout).toBe(`acme: suspend: this request already ran (SUCCEEDED); nothing started: send a new Idempotency-Key for a new suspend — request ops-suspend-1\nexecution ${SUSPEND}\n`);
    const bad = await run(202, {}, 'tenants', 'suspend', 'acme', '--request-id', 'has space');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--request-id = "has space"');
    expect(calls).toEqual([]);
  });

  it('retry that only sends an owed announcement says so, with no execution line', async () => {
    const out = await run(200, { tenantId: 'acme', status: 'ACTIVE', announced: ['Tenant Activated'] }, 'tenants', 'retry', 'acme');
    expect(out).toEqual({ code: 0, stdout: 'acme: ACTIVE; owed announcement(s) sent: Tenant Activated (nothing started)\n', stderr: '' });
  });

  it('retry while the offboarding runs names it as running; a retried onboarding as before', async () => {
    expect((await run(200, { tenantId: 'acme', executionArn: ARN, status: 'OFFBOARDING', note: 'offboarding already running' }, 'tenants', 'retry', 'acme')).stdout)
      .toBe(`acme: offboarding already running\nexecution ${ARN}\n`);
    expect((await run(202, { tenantId: 'acme', executionArn: ARN, status: 'PROVISIONING', corrected: ['adminEmail'] }, 'tenants', 'retry', 'acme', '--admin-email', 'ops@example.com')).stdout)
      .toBe(`acme: onboarding retried with corrected adminEmail\nexecution ${ARN}\n`);
  });

  // A newcomer's trial on the local platform (2026-12-07): an offboarding stopped at "Export tenant data" (its bucket
  // deleted by hand), then `tessera tenants retry plain` printed `plain: offboarding resumed` alone, though the retry route
  // answers as DELETE does, with the step it had stopped at (`resumed`) and the offboarding's request id, which `delete`
  // prints: `offboarding plain resumed (it had stopped at "Export tenant data") — request …`.
  it('retry of a stopped offboarding names the step it had stopped at and the request, as delete does; an onboarding its request', async () => {
    expect((await run(202, { tenantId: 'acme', requestId: 'offboard-acme-mxdzczew', executionArn: ARN, status: 'OFFBOARDING', resumed: 'Export tenant data' }, 'tenants', 'retry', 'acme')).stdout)
      .toBe(`acme: offboarding resumed (it had stopped at "Export tenant data") — request offboard-acme-mxdzczew\nexecution ${ARN}\n`);
    expect((await run(200, { tenantId: 'acme', requestId: 'offboard-acme-mxdzczew', executionArn: ARN, status: 'OFFBOARDING', note: 'offboarding already running' }, 'tenants', 'retry', 'acme')).stdout)
      .toBe(`acme: offboarding already running — request offboard-acme-mxdzczew\nexecution ${ARN}\n`);
    expect((await run(202, { tenantId: 'acme', requestId: 'acme-2026-11-23', executionArn: ARN, status: 'PROVISIONING', corrected: ['name'] }, 'tenants', 'retry', 'acme', '--name', '株式会社アクメ')).stdout)
      .toBe(`acme: onboarding retried with corrected name — request acme-2026-11-23\nexecution ${ARN}\n`);
  });
});
