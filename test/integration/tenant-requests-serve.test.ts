import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { createLocalGateway } from '../../lambdas/inference/local-gateway.js';
import { localTenant } from '../../lambdas/inference/local-tenant.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';
import { closeGateway } from '../../lib/cli/serve-shutdown.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { tempDir } from '../support/temp-dirs.js';

// Gap review s32, gap 4, as `tessera serve` runs it: the official Node client makes a request, reads its
// x-request-id (.withResponse()), and looks the request up by it; the record comes from <state-dir>/audit.jsonl.
let upstream: FakeUpstream;
let server: Server;
let gateway: Awaited<ReturnType<typeof createLocalGateway>>['gateway'];
let stateDir: string;
let url: string;
let keysFile: string;
const guardrails = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
const client = async (tenantId: string, role: string, sub: string) => new OpenAI({ baseURL: url, apiKey: await mintDevToken(keysFile, { tenantId, role, sub }), maxRetries: 0 });
const SECRET = 'the launch code is 4417-alpha';

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  stateDir = tempDir('tessera-requests-');
  // acme keeps prompt text in its records (auditPromptText): the lookup must still not answer it.
  const tenants = ['acme', 'beta', 'gamma'].map((id) => localTenant(id, 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: true } }));
  const local = await createLocalGateway({ config: gatewayConfig(), stateDir, upstreamUrl: upstream.url, tenants });
  gateway = local.gateway;
  keysFile = local.keysFile;
  server = await startLocalServer(gateway, { port: 0, maxBytes: 1_000_000 });
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
});
afterAll(async () => {
  if (server) await closeGateway(server, gateway);
  await upstream?.stop();
});

describe('GET /v1/tenant/requests/{request_id} on tessera serve', () => {
  it('a member looks its chat completion up by the x-request-id it got: the record without the prompt; another member, another tenant: 404; an admin: the record', async () => {
    const member = await client('acme', 'member', 'ann');
    const { data, response } = await member.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: SECRET }], max_tokens: 5 }).withResponse();
    const requestId = response.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(data.id).toBe(requestId);

    const found = await member.get<Record<string, unknown>>(`/tenant/requests/${requestId}`);
    expect(found).toMatchObject({
      object: 'tenant.request', id: requestId, method: 'POST', path: '/v1/chat/completions', tenant: 'acme', user: 'ann', role: 'member',
      model: 'openai-compatible/default', status: 200, outcome: 'ok', usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    });
    expect(found.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(JSON.stringify(found)).not.toContain('4417');
    // The record itself holds the prompt (auditPromptText): what the answer left out, not what was never kept.
    expect(readFileSync(join(stateDir, 'audit.jsonl'), 'utf8')).toContain(SECRET);
    // With its day, as the record was written.
    expect(await member.get(`/tenant/requests/${requestId}`, { query: { date: String(found.at).slice(0, 10) } })).toMatchObject({ id: requestId });

    const admin = await client('acme', 'admin', 'root');
    expect(await admin.get(`/tenant/requests/${requestId}`)).toMatchObject({ id: requestId, user: 'ann' });

    const otherMember = await client('acme', 'member', 'bob');
    const stranger = await client('beta', 'admin', 'root');
    for (const [who, c] of [['another member', otherMember], ['another tenant\'s admin', stranger]] as const) {
      const e = await c.get(`/tenant/requests/${requestId}`).then(() => undefined, (x: unknown) => x);
      expect(e, who).toBeInstanceOf(OpenAI.NotFoundError);
      expect((e as InstanceType<typeof OpenAI.NotFoundError>).code, who).toBe('request_not_found');
      expect((e as InstanceType<typeof OpenAI.NotFoundError>).param, who).toBe('request_id');
    }
    const wrongDay = await member.get(`/tenant/requests/${requestId}`, { query: { date: '2020-01-01' } }).then(() => undefined, (x: unknown) => x);
    expect(wrongDay).toBeInstanceOf(OpenAI.NotFoundError);
    const badDay = await member.get(`/tenant/requests/${requestId}`, { query: { date: 'yesterday' } }).then(() => undefined, (x: unknown) => x);
    expect(badDay).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badDay as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('date');

    // The lookups are audited as reads (each its own request id), the answered one naming the request read.
    await gateway.settled();
    const reads = readFileSync(join(stateDir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.path === `/v1/tenant/requests/${requestId}`);
    expect(reads.filter((r) => r.status === 200).map((r) => [r.userId, r.action, r.detail?.requestId])).toEqual([['ann', 'tenant.request.read', requestId], ['ann', 'tenant.request.read', requestId], ['root', 'tenant.request.read', requestId]]);
    expect(reads.filter((r) => r.status === 404).map((r) => [r.tenantId, r.userId, r.outcome])).toEqual([['acme', 'bob', 'request_not_found'], ['beta', 'root', 'request_not_found'], ['acme', 'ann', 'request_not_found']]);
  });
});

// A key a user pastes where an id goes (`GET /v1/files/sk-proj-…`, `/v1/models/tsk_…`, a `model`, a `user`, a tag) was kept
// in the audit record as sent, though the log lines redacted it: the record now keeps it `[redacted]` as they do
// (log-text.ts withoutCredentials), the rest of the record as it was.
describe('the audit record keeps no credential a caller pasted into its text', () => {
  const TENANT_KEY = `tsk_gamma_${'K'.repeat(43)}`;
  const OPENAI_KEY = 'sk-proj-LEAKEDKEY1234567890';
  const requestIdOf = (e: unknown) => (e as InstanceType<typeof OpenAI.APIError>).headers?.get('x-request-id') ?? undefined;

  it('path (percent-encoded too), a refused model, the end user and a tag: [redacted] in the record and its lookup', async () => {
    const member = await client('gamma', 'member', 'cai');
    const file = await member.files.retrieve(OPENAI_KEY).then(() => undefined, requestIdOf);
    const model = await member.models.retrieve(TENANT_KEY).then(() => undefined, requestIdOf);
    const encoded = await member.get(`/files/%74sk_gamma_${'E'.repeat(43)}`).then(() => undefined, requestIdOf);
    const chatModel = await member.chat.completions.create({ model: TENANT_KEY, messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, requestIdOf);
    const { response } = await member.chat.completions.create(
      { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, user: `ann ${OPENAI_KEY}` },
      { headers: { 'x-tessera-tags': `team-a, ${TENANT_KEY.slice(0, 60)}` } },
    ).withResponse();
    const answered = response.headers.get('x-request-id')!;
    for (const id of [file, model, encoded, chatModel]) expect(id).toMatch(/^req_|^chatcmpl-/);
    await gateway.settled();

    const records = readFileSync(join(stateDir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const of = (id: string | undefined) => records.find((r) => r.requestId === id)!;
    expect(of(file)).toMatchObject({ tenantId: 'gamma', method: 'GET', path: '/v1/files/[redacted]', status: 404 });
    expect(of(model)).toMatchObject({ path: '/v1/models/[redacted]', status: 404 });
    expect(of(encoded)).toMatchObject({ path: '/v1/files/[redacted]', status: 404 });
    expect(of(chatModel)).toMatchObject({ path: '/v1/chat/completions', model: '[redacted]', status: 404, outcome: 'model_not_found' });
    expect(of(answered)).toMatchObject({ status: 200, model: 'openai-compatible/default', detail: { endUser: 'ann [redacted]' }, tags: ['team-a', '[redacted]'] });
    const written = JSON.stringify(records);
    for (const secret of ['KKKKKKKK', 'EEEEEEEE', 'LEAKEDKEY']) expect(written).not.toContain(secret);

    // What the tenant reads back is the record as written.
    expect(await member.get(`/tenant/requests/${file}`)).toMatchObject({ id: file, path: '/v1/files/[redacted]', status: 404 });
  });
});
