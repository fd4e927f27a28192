import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import { MemoryAuditRecordReader } from '../../../lambdas/inference/audit-records.js';
import { localTenant } from '../../../lambdas/inference/local-tenant.js';
import { ApiError } from '../../../lambdas/shared/api-errors.js';

// Gap review s32, gap 4: the operator's path from a tenant's reported request id to its record (tessera requests show
// through GET /admin/tenants/{id}/requests/{requestId}).
const registry = vi.hoisted(() => ({ tenants: new Map<string, unknown>() }));
vi.mock('../../../lambdas/shared/registry.js', () => ({ getTenant: async (id: string) => registry.tenants.get(id), listTenants: async () => [...registry.tenants.values()] }));
const { requestsRoutes, setAuditRecordReader } = await import('../../../lambdas/admin/requests-routes.js');
const { runTesseraProgram } = await import('../../../lib/cli/program.js');

const ID = 'req_0123456789abcdef01234567';
const today = new Date().toISOString().slice(0, 10);
const record: AuditRecord = {
  requestId: ID, at: `${today}T08:00:00.000Z`, method: 'POST', path: '/v1/embeddings', tenantId: 'acme', userId: 'key_00000000000000aa', keyId: 'key_00000000000000aa', role: 'developer',
  model: 'openai/text-embedding-3-small', provider: 'openai', promptTokens: 20, costUsd: 4e-7, latencyMs: 41, status: 200, outcome: 'ok', prompt: 'customer 4417 record', promptSha256: 'b'.repeat(64),
  tags: ['rag-ingest', 'env=prod'],
};
const route = requestsRoutes['GET /admin/tenants/{id}/requests/{requestId}'];
const get = (id: string, requestId: string, query: Record<string, string> = {}) =>
  route.handle({ pathParameters: { id, requestId }, queryStringParameters: query, requestContext: {} } as unknown as APIGatewayProxyEvent, id);
const refusal = async (p: Promise<unknown>) => { const e = (await p.then(() => { throw new Error('answered'); }, (x: unknown) => x)) as ApiError; return { status: e.status, code: e.code, param: e.param, message: e.message }; };

let server: Server;
const asked: string[] = [];
const saved = { ...process.env };
beforeAll(async () => {
  registry.tenants.set('acme', localTenant('acme', 'enterprise'));
  registry.tenants.set('beta', localTenant('beta', 'enterprise'));
  setAuditRecordReader(new MemoryAuditRecordReader([record]));
  // The admin API as the CLI reaches it: the route's handler behind a local HTTP server.
  server = createServer(async (req, res) => {
    asked.push(req.url!);
    const url = new URL(req.url!, 'http://x');
    const [, , , id, , requestId] = url.pathname.split('/');
    try {
      const answer = await get(id!, requestId!, Object.fromEntries(url.searchParams));
      res.writeHead(answer.statusCode, { 'content-type': 'application/json' }).end(answer.body);
    } catch (e) {
      const err = e as ApiError;
      res.writeHead(err.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: err.message, type: err.type, code: err.code, param: err.param } }));
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  Object.assign(process.env, { TESSERA_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_ACCESS_KEY_ID: 'AKIATEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' });
  delete process.env.AWS_PROFILE;
});
afterAll(async () => {
  process.env = saved;
  setAuditRecordReader(undefined);
  await new Promise((ok) => server.close(ok));
});

describe('GET /admin/tenants/{id}/requests/{requestId}', () => {
  it('answers the tenant\'s record as the tenant\'s route does: no prompt text, no prompt hash', async () => {
    const answer = await get('acme', ID);
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ object: 'tenant.request', id: ID, tenant: 'acme', key: 'key_00000000000000aa', model: 'openai/text-embedding-3-small', cost_usd: 4e-7 });
    expect(answer.body).not.toContain('4417');
    expect(answer.body).not.toContain('b'.repeat(64));
  });

  it('404s another tenant\'s id as an unknown one, an unknown tenant, a text that is no request id; 400s a bad date or parameter', async () => {
    expect(await refusal(get('beta', ID))).toMatchObject({ status: 404, code: 'request_not_found', param: 'requestId' });
    expect(await refusal(get('acme', ID, { date: '2020-01-01' }))).toMatchObject({ status: 404, code: 'request_not_found' });
    expect(await refusal(get('gamma', ID))).toMatchObject({ status: 404, code: 'tenant_not_found' });
    expect((await refusal(get('acme', '../x'))).message).toContain('not a gateway request id');
    expect(await refusal(get('acme', ID, { date: '2026-02-30' }))).toMatchObject({ status: 400, code: 'invalid_date', param: 'date' });
    expect(await refusal(get('acme', ID, { day: today }))).toMatchObject({ status: 400, code: 'unknown_parameter' });
  });
});

describe('tessera requests show prints a caller\'s text inert', () => {
  it('escapes the control characters of the model a 404 was asked for, and of every other value (a terminal escape, a carriage return, a bidi override)', async () => {
    const { requestLines } = await import('../../../lib/cli/requests-command.js');
    const lines = requestLines({
      object: 'tenant.request', id: ID, created_at: 0, at: `${today}T08:00:00.000Z`, tenant: 'acme', method: 'POST', path: '/v1/chat/completions',
      model: '\u001b]0;owned\u0007\u001b[2Jgpt', requested_model: 'x\ry', status: 404, outcome: 'model_not_found', latency_ms: 1,
      detail: { note: '\u202egnp.exe' },
    } as never);
    const text = lines.join('\n');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(text).toContain('model           \\u001b]0;owned\\u0007\\u001b[2Jgpt (asked as x\\ry)');
    expect(text).toContain('\\u202egnp.exe');
  });

  it('prints what the response cache did: a HIT and its age, a MISS whose answer was kept or not and why', async () => {
    const { requestLines } = await import('../../../lib/cli/requests-command.js');
    const view = (response_cache: unknown) => requestLines({ object: 'tenant.request', id: ID, created_at: 0, at: `${today}T08:00:00.000Z`, tenant: 'acme', status: 200, outcome: 'ok', latency_ms: 1, response_cache } as never);
    expect(view({ status: 'HIT', age_seconds: 42 })).toContain('  cache           HIT (age 42 s)');
    // Identical requests at once (tessera serve's single flight): answered with the leader's answer, or not.
    expect(view({ status: 'HIT', age_seconds: 0, collapsed: true })).toContain('  cache           HIT (age 0 s), an identical request\'s answer');
    expect(view({ status: 'MISS', collapsed: false, stored: true })).toContain('  cache           MISS, an identical request had no answer, answer kept');
    expect(view({ status: 'MISS', stored: true })).toContain('  cache           MISS, answer kept');
    expect(view({ status: 'MISS', stored: false, not_stored: 'too_large' })).toContain('  cache           MISS, answer not kept (too_large)');
    expect(view(undefined).join('\n')).not.toContain('cache');
  });
});

describe('tessera requests show', () => {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    const code = await runTesseraProgram(args);
    vi.restoreAllMocks();
    return { code, out: out.join(''), err: err.join('') };
  };

  it('prints the record (--json: the admin API\'s answer), with --date passed on', async () => {
    const shown = await run(['requests', 'show', ID, '--tenant', 'acme']);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`request ${ID} of tenant acme`);
    expect(shown.out).toMatch(/caller\s+key key_00000000000000aa \(role developer\)/);
    expect(shown.out).toMatch(/status\s+200 ok/);
    expect(shown.out).toMatch(/tags\s+rag-ingest, env=prod/);
    expect(shown.out).not.toContain('4417');
    const json = await run(['--json', 'requests', 'show', ID, '--tenant', 'acme', '--date', today]);
    expect(JSON.parse(json.out)).toMatchObject({ id: ID, tenant: 'acme', tags: ['rag-ingest', 'env=prod'] });
    expect(asked.at(-1)).toBe(`/admin/tenants/acme/requests/${ID}?date=${today}`);
  });

  it('exits 1 with the admin API\'s 404, and 2 before any call for a malformed id or date', async () => {
    const before = asked.length;
    const missing = await run(['requests', 'show', ID, '--tenant', 'beta']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('tenant beta has no gateway record of request');
    expect(missing.err).toContain('request_not_found');
    const bad = await run(['requests', 'show', 'tsk_secret', '--tenant', 'acme']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('<requestId> "tsk_secret": not a gateway request id');
    const badDate = await run(['requests', 'show', ID, '--tenant', 'acme', '--date', '12/05/2026']);
    expect(badDate.code).toBe(2);
    expect(badDate.err).toContain('--date "12/05/2026": not a calendar day');
    expect(asked.length).toBe(before + 1);
  });
});
