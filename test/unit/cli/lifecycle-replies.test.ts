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
