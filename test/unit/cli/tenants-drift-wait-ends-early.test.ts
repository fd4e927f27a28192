import { describe, expect, it } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * `tessera tenants drift --detect --wait` polled in a loop of its own: Ctrl-C killed the process with Node's default handler
 * (nothing said: an operator may take it for a cancel of the check), and a poll that failed (an expired session) printed
 * only its error. As every watch does (execution-watch.ts followUntilEnd), a wait that ends before the check says the
 * check goes on and how to read its result; Ctrl-C exits 130. The answers are the admin API's, served on loopback.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift-acme-20261205T0700';
const startDate = '2026-12-05T07:00:01.000Z';
const running = { execution: { executionArn: ARN, status: 'RUNNING', startDate } };
const notYet = { tenantId: 'acme', status: 'ACTIVE', drift: { status: 'IN_SYNC', checkedAt: '2026-12-04T07:00:00.000Z', resources: [] } };
/** The run's check, recorded after it started: a wait that polled on after a Ctrl-C would end on it (exit 0), not hang. */
const checked = { tenantId: 'acme', status: 'ACTIVE', drift: { status: 'IN_SYNC', checkedAt: '2026-12-05T07:01:00.000Z', resources: [] } };
const goesOn = 'the check goes on in Step Functions (ending the wait stops nothing): tessera tenants drift acme shows the registry\'s result once it has ended';

/** Answers to the next GETs of the tenant's drift, in order, then `notYet`; what to do once one is answered (a Ctrl-C). */
let drifts: Array<{ status: number; body: unknown }> = [];
let afterGet: (() => void) | undefined;
const admin = fakeAdminApi((req) => {
  if (req.method === 'POST') return { status: 202, body: { executionArn: ARN, startDate, tenantId: 'acme' } };
  if (req.url!.startsWith('/v1/admin/drift?')) return { status: 200, body: running };
  afterGet?.();
  return drifts.shift() ?? { status: 200, body: notYet };
});
const { calls } = admin;

async function run(...args: string[]) {
  calls.length = 0;
  try {
    return await runTesseraInProcess(admin.url, ...args);
  } finally {
    drifts = [];
    afterGet = undefined;
  }
}

describe('tenants drift --detect --wait ended before the check', () => {
  it('Ctrl-C: stops following, says the check goes on and how to read its result (stderr), exit 130; no call after', async () => {
    // GIVEN a check that runs; the operator presses Ctrl-C once the first poll is answered (the wait is then 2 s)
    drifts = [{ status: 200, body: notYet }, { status: 200, body: checked }];
    afterGet = () => {
      afterGet = undefined;
      setTimeout(() => process.emit('SIGINT'), 50);
    };
    // WHEN
    const out = await run('tenants', 'drift', 'acme', '--detect', '--wait', '--interval', '2');
    // THEN
    expect(out.code).toBe(130);
    expect(out.stderr).toBe(`stopped following the drift check ${ARN} (Ctrl-C): ${goesOn}\n`);
    expect(calls).toEqual(['POST /v1/admin/drift', `GET /v1/admin/drift?executionArn=${encodeURIComponent(ARN)}`, 'GET /v1/admin/tenants/acme/drift']);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('--json, Ctrl-C: stdout holds only the start\'s line, which parses (NDJSON); stderr the stop as one JSON error line; exit 130', async () => {
    drifts = [{ status: 200, body: notYet }, { status: 200, body: checked }];
    afterGet = () => {
      afterGet = undefined;
      setTimeout(() => process.emit('SIGINT'), 50);
    };
    const out = await run('--json', 'tenants', 'drift', 'acme', '--detect', '--wait', '--interval', '2');
    expect(out.code).toBe(130);
    expect(out.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ executionArn: ARN, startDate, tenantId: 'acme' }]);
    expect(out.stderr.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ error: { message: `stopped following the drift check ${ARN} (Ctrl-C): ${goesOn}`, type: 'interrupted', code: 'watch_stopped' } }]);
  });

  it('a poll that fails once the check was started (an expired session): its error, then that the check goes on and how to read it', async () => {
    drifts = [{ status: 200, body: notYet }, { status: 403, body: { message: 'The security token included in the request is expired' } }];
    const out = await run('tenants', 'drift', 'acme', '--detect', '--wait', '--interval', '0.1');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`^error: .*expired.*\\n${goesOn.replace(/[()]/g, '\\$&')}\\n$`, 's'));
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
