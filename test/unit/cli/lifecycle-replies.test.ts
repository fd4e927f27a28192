import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';

/**
 * What `tessera tenants create|suspend|resume|delete` send and print for the admin API's answers (lambdas/admin/admin-api.ts),
 * served on loopback: each request's method, path, headers and body recorded; the answer set by the test.
 */
interface Seen { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: unknown }
const seen: Seen[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => { text += c.toString(); });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: text ? JSON.parse(text) : undefined });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => { seen.length = 0; });

const ONBOARD = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:onboard-hooli-mx9ft93j-6807fe0b';
const create = (...extra: string[]) => runTesseraInProcess(url, 'tenants', 'create', '--id', 'hooli', '--name', 'Hooli', '--tier', 'enterprise', '--admin-email', 'ops@hooli.example.com', '--request-id', 'ops-hooli-1', ...extra);

describe('tessera tenants create says what the admin API did', () => {
  it('a new onboarding: started, with its execution and how to follow it', async () => {
    answer = { status: 202, body: { tenantId: 'hooli', requestId: 'ops-hooli-1', executionArn: ONBOARD, status: 'REQUESTED' } };
    const out = await create();
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toBe(`onboarding hooli (tier enterprise) started — request ops-hooli-1\nexecution ${ONBOARD}\nfollow it: tessera tenants watch hooli (or add --watch)\n`);
  });

  it('the same request again for a tenant it onboarded: its note, no "started", no "execution undefined", nothing to follow', async () => {
    answer = { status: 200, body: { tenantId: 'hooli', requestId: 'ops-hooli-1', status: 'ACTIVE', note: 'already onboarded by this request; nothing started' } };
    const out = await create('--watch', '--interval', '0.1');
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toBe('onboarding hooli: already onboarded by this request; nothing started (status ACTIVE) — request ops-hooli-1\n');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /v1/admin/tenants']);
  });

  it('the same request again while its onboarding runs: the note and the running execution', async () => {
    answer = { status: 200, body: { tenantId: 'hooli', requestId: 'ops-hooli-1', executionArn: ONBOARD, status: 'PROVISIONING', note: 'onboarding already running' } };
    const out = await create();
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toBe(`onboarding hooli: onboarding already running (status PROVISIONING) — request ops-hooli-1\nexecution ${ONBOARD}\nfollow it: tessera tenants watch hooli (or add --watch)\n`);
  });
});

const OFFBOARD = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:offboard-hooli-mx9ft93j-6807fe0b';
const SUSPEND = 'arn:aws:states:us-east-1:222222222222:execution:tessera-status:suspend-hooli-mx9ft93j-6807fe0b';

describe('--reason on suspend, resume and delete; --request-id on delete', () => {
  it('suspend --reason sends { reason } with its Idempotency-Key', async () => {
    answer = { status: 202, body: { tenantId: 'hooli', requestId: 'ops-s-1', executionArn: SUSPEND, status: 'ACTIVE', statusOnSuccess: 'SUSPENDED' } };
    const out = await runTesseraInProcess(url, 'tenants', 'suspend', 'hooli', '--reason', 'invoice 4411 unpaid (FIN-12)', '--request-id', 'ops-s-1');
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(seen).toEqual([expect.objectContaining({ method: 'POST', url: '/v1/admin/tenants/hooli/suspend', body: { reason: 'invoice 4411 unpaid (FIN-12)' }, headers: expect.objectContaining({ 'idempotency-key': 'ops-s-1' }) })]);
  });

  it('resume without --reason sends no body, as before', async () => {
    answer = { status: 202, body: { tenantId: 'hooli', requestId: 'ops-r-1', executionArn: SUSPEND, status: 'SUSPENDED', statusOnSuccess: 'ACTIVE' } };
    const out = await runTesseraInProcess(url, 'tenants', 'resume', 'hooli', '--request-id', 'ops-r-1');
    expect(out.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/admin/tenants/hooli/resume', body: undefined });
  });

  it('delete --reason --request-id sends { reason } and the key as Idempotency-Key, and prints the request', async () => {
    answer = { status: 202, body: { tenantId: 'hooli', requestId: 'ops-off-1', executionArn: OFFBOARD, status: 'OFFBOARDING' } };
    const out = await runTesseraInProcess(url, 'tenants', 'delete', 'hooli', '--yes', '--reason', 'contract ended 2026-11-30 (CRM-9)', '--request-id', 'ops-off-1');
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toBe(`offboarding hooli started — request ops-off-1\nexecution ${OFFBOARD}\n`);
    expect(seen).toEqual([expect.objectContaining({ method: 'DELETE', url: '/v1/admin/tenants/hooli', body: { reason: 'contract ended 2026-11-30 (CRM-9)' }, headers: expect.objectContaining({ 'idempotency-key': 'ops-off-1' }) })]);
    // the same again: the API's note, under the same request
    answer = { status: 200, body: { tenantId: 'hooli', executionArn: OFFBOARD, status: 'OFFBOARDING', note: 'offboarding already running' } };
    const again = await runTesseraInProcess(url, 'tenants', 'delete', 'hooli', '--yes', '--request-id', 'ops-off-1');
    expect(again.stdout).toBe(`offboarding hooli: offboarding already running — request ops-off-1\nexecution ${OFFBOARD}\n`);
  });

  it('delete under another key than the running (or finished) offboarding\'s prints that offboarding\'s request, not the key it sent; --json too', async () => {
    // s31q: before, "— request cli-<new uuid>" / {"requestId":"cli-…"} named a key that stands for nothing
    answer = { status: 200, body: { tenantId: 'hooli', requestId: 'ops-off-1', executionArn: OFFBOARD, status: 'OFFBOARDING', note: 'offboarding already running' } };
    const running = await runTesseraInProcess(url, 'tenants', 'delete', 'hooli', '--yes');
    expect(running.stdout).toBe(`offboarding hooli: offboarding already running — request ops-off-1\nexecution ${OFFBOARD}\n`);
    answer = { status: 200, body: { tenantId: 'hooli', requestId: 'ops-off-1', status: 'OFFBOARDED', note: 'already offboarded; nothing started' } };
    const done = await runTesseraInProcess(url, '--json', 'tenants', 'delete', 'hooli', '--yes', '--request-id', 'ops-off-2');
    expect(JSON.parse(done.stdout)).toEqual({ tenantId: 'hooli', requestId: 'ops-off-1', status: 'OFFBOARDED', note: 'already offboarded; nothing started' });
    // an answer naming none (an API before this): the key sent, as before
    answer = { status: 200, body: { tenantId: 'hooli', status: 'OFFBOARDED', note: 'already offboarded; nothing started' } };
    expect((await runTesseraInProcess(url, 'tenants', 'delete', 'hooli', '--yes', '--request-id', 'ops-off-2')).stdout).toBe('offboarding hooli: already offboarded; nothing started — request ops-off-2\n');
  });

  it('refuses an empty or control-character --reason and a bad --request-id before any call (exit 2)', async () => {
    for (const args of [['suspend', 'hooli', '--reason', ''], ['delete', 'hooli', '--yes', '--reason', 'a\u0007b'], ['delete', 'hooli', '--yes', '--request-id', 'has space']]) {
      const out = await runTesseraInProcess(url, 'tenants', ...args);
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/--(reason|request-id) = /);
    }
    expect(seen).toEqual([]);
  });

  it('refuses a blank or bidi-override --reason before any call, and its message shows the override escaped, not applied', async () => {
    const blank = await runTesseraInProcess(url, 'tenants', 'suspend', 'hooli', '--reason', '   ');
    expect([blank.code, blank.stderr]).toEqual([2, expect.stringContaining('--reason = "   ": must not be only white space')]);
    const rlo = await runTesseraInProcess(url, 'tenants', 'delete', 'hooli', '--yes', '--reason', 'ok \u202Edetpecca');
    expect(rlo.code).toBe(2);
    expect(rlo.stderr).toContain('--reason = "ok \\u202edetpecca": must not contain control characters');
    expect(rlo.stderr).not.toContain('\u202E');
    expect(seen).toEqual([]);
  });

  it('tenants show prints who asked for each operation and why, and nothing for an entry recorded without them', async () => {
    answer = { status: 200, body: {
      tenantId: 'hooli', name: 'Hooli', tier: 'enterprise', status: 'SUSPENDED', isolation: 'vpc', adminEmail: 'ops@hooli.example.com', requestId: 'ops-hooli-1',
      createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-05T00:00:00.000Z', stackOutputs: {},
      executions: [
        { kind: 'onboard', requestId: 'ops-hooli-1', startedAt: '2026-12-01T00:00:00.000Z', status: 'SUCCEEDED' },
        { kind: 'suspend', requestId: 'ops-s-1', startedAt: '2026-12-05T00:00:00.000Z', status: 'SUCCEEDED', actor: 'admin:arn:aws:iam::111111111111:user/ops', requestReason: 'invoice 4411 unpaid (FIN-12)' },
      ],
    } };
    const out = await runTesseraInProcess(url, 'tenants', 'show', 'hooli');
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toContain('\n  2026-12-01T00:00:00.000Z  onboard  SUCCEEDED\n');
    expect(out.stdout).toContain('\n  2026-12-05T00:00:00.000Z  suspend  SUCCEEDED by admin:arn:aws:iam::111111111111:user/ops reason "invoice 4411 unpaid (FIN-12)"');
  });
});
