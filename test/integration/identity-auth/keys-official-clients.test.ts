import { CreateTrainingJobCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { nodeError } from '../gateway-conformance/official-clients.js';
import { pythonScriptCommand } from '../../support/python-zygote.js';

// Issue 15, "what it must show": the official openai npm and Python clients, given a tsk_ key as
// api_key and tessera serve's gateway as base URL. The authorizer's clock is injected, so "within
// the cache TTL (60 s)" is tested without sleeping.

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const EMBEDDER = { id: 'openai-compatible/embeddings', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let offsetMs = 0;
const admin: Record<string, string> = {};

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:555555555555:training-job/x' });
  const c = gatewayConfig();
  gw = await serveGateway({ ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDER] } }, upstream.url,
    [trainedTenant('acme', 'enterprise', '444444444444'), trainedTenant('globex', 'enterprise', '555555555555')],
    { fineTuning: { sageMaker: async () => new SageMakerClient({}) }, now: () => Date.now() + offsetMs });
  for (const t of ['acme', 'globex']) admin[t] = await gw.token(t, { role: 'admin', sub: `admin@${t}` });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  sageMaker.restore();
});

/** Tessera's own route, as a tenant admin's script would call it (the Node client has no method for it). */
async function tenantApi(method: string, path: string, bearer: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() as any };
}

/** A key made through POST /v1/tenant/keys by the tenant's admin. */
async function createKey(tenant: string, request: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const { status, json } = await tenantApi('POST', '/tenant/keys', admin[tenant]!, { name: 'backend job', ...request });
  expect(status, JSON.stringify(json)).toBe(201);
  return { key: json.key, id: json.keyId };
}

const node = (key: string) => new OpenAI({ baseURL: gw.url, apiKey: key, maxRetries: 0, timeout: 20_000 });
async function nodeFails(p: Promise<unknown>) {
  return nodeError(await p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e));
}

/**
 * python_key_client.py, started once for the file (one `import openai`, ~0.6 s of CPU, instead of
 * one per call): each call is a line on its stdin, answered by one line, in order; a fresh client
 * per call, as a separate process had.
 */
let pythonClient: { child: ChildProcessWithoutNullStreams; answers: AsyncIterator<string>; stderr: () => string } | undefined;
async function python(key: string, ops: Array<{ op: 'chat' | 'embed' | 'models'; model?: string }>): Promise<any[]> {
  if (!pythonClient) {
    const child = spawn(...pythonScriptCommand(join(ROOT, '.venv', 'bin', 'python'), join(import.meta.dirname, 'python_key_client.py')), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += String(d); });
    pythonClient = { child, answers: createInterface({ input: child.stdout })[Symbol.asyncIterator](), stderr: () => stderr };
  }
  const { child, answers, stderr } = pythonClient;
  child.stdin.write(`${JSON.stringify({ base_url: gw.url, api_key: key, ops })}\n`);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const line = await answers.next();
    if (line.done) throw new Error(`python_key_client.py exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    return JSON.parse(line.value);
  } finally {
    clearTimeout(timer);
  }
}
afterAll(async () => {
  const child = pythonClient?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
});

describe('a tsk_ key as the official clients\' api_key against tessera serve', () => {
  it('Node: chat, embeddings and models work, and the audit names the key and its role', async () => {
    const { key, id } = await createKey('acme', { role: 'developer' });
    expect(key).toMatch(/^tsk_acme_[0-9A-Za-z]{43}$/);
    const chat = await node(key).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }] });
    expect(chat.choices[0]!.message.content).toBe('echo: hello');
    const emb = await node(key).embeddings.create({ model: EMBEDDER.id, input: ['alpha', 'beta'] });
    expect(emb.data).toHaveLength(2);
    const models = (await node(key).models.list()).data.map((m) => m.id);
    expect(models).toContain('openai-compatible/default');
    expect(models).not.toContain('sagemaker/ft:nova:globex:sales');
    expect(gw.audit.records.find((r) => r.requestId === chat.id)).toMatchObject({ tenantId: 'acme', userId: id, keyId: id, role: 'developer', status: 200 });
  });

  it('Python: chat, embeddings and models work', async () => {
    const { key } = await createKey('acme');
    const [chat, embed, models] = await python(key, [{ op: 'chat', model: 'openai-compatible/default' }, { op: 'embed', model: EMBEDDER.id }, { op: 'models' }]);
    expect(chat.ok.content).toBe('echo: hello from python');
    expect(embed.ok).toMatchObject({ count: 2 });
    expect(models.ok).toContain('openai-compatible/default');
  });

  it('a revoked key keeps working only until the cache TTL (60 s) ends, then both clients get 401 api_key_revoked', async () => {
    const { key, id } = await createKey('acme');
    await node(key).models.list(); // cached as valid
    const revoked = await tenantApi('DELETE', `/tenant/keys/${id}`, admin.acme!);
    expect(revoked.json).toMatchObject({ keyId: id, revokedAt: expect.any(String) });
    expect((await node(key).models.list()).data.length).toBeGreaterThan(0); // within the TTL: the documented delay
    offsetMs += 60_000;
    const e = await nodeFails(node(key).models.list());
    expect([e.status, e.type, e.body?.code]).toEqual([401, 'AuthenticationError', 'api_key_revoked']);
    const [py] = await python(key, [{ op: 'models' }]);
    expect([py.status, py.type, py.error.code]).toEqual([401, 'AuthenticationError', 'api_key_revoked']);
  });

  it('an expired key is refused (401 api_key_expired) by both clients', async () => {
    const { key } = await createKey('acme', { expiresInDays: 1 });
    expect((await node(key).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'x' }] })).object).toBe('chat.completion');
    offsetMs += 86_400_000;
    const e = await nodeFails(node(key).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'x' }] }));
    expect([e.status, e.body?.code]).toEqual([401, 'api_key_expired']);
    const [py] = await python(key, [{ op: 'chat', model: 'openai-compatible/default' }]);
    expect([py.status, py.error.code]).toEqual([401, 'api_key_expired']);
  });

  it('a key with a model subset sees and calls only those models; another is 404 model_not_found exactly as one the tenant lacks', async () => {
    const { key } = await createKey('acme', { models: ['openai-compatible/default'] });
    expect((await node(key).models.list()).data.map((m) => m.id)).toEqual(['openai-compatible/default']);
    const outside = await nodeFails(node(key).chat.completions.create({ model: 'openai-compatible/primary', messages: [{ role: 'user', content: 'x' }] }));
    const lacking = await nodeFails(node(key).chat.completions.create({ model: 'sagemaker/ft:nova:globex:sales', messages: [{ role: 'user', content: 'x' }] }));
    expect(outside.status).toBe(404);
    expect({ ...outside.body, message: undefined }).toEqual({ ...lacking.body, message: undefined });
    expect(outside.body.code).toBe('model_not_found');
    expect((await nodeFails(node(key).models.retrieve('openai-compatible/primary'))).status).toBe(404);
  });

  it('a key of tenant A is never accepted for tenant B\'s models, jobs or usage', async () => {
    const acme = await createKey('acme', { role: 'admin' });
    const globexDev = await gw.token('globex', { role: 'developer' });
    const job = await node(globexDev).fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 's3://tessera-globex-data-555555555555/training-data/t.jsonl' });
    // B's fine-tuned model, B's job, B's usage: not A's, whatever A's key asks.
    expect((await nodeFails(node(acme.key).chat.completions.create({ model: 'sagemaker/ft:nova:globex:sales', messages: [{ role: 'user', content: 'x' }] }))).status).toBe(404);
    expect((await nodeFails(node(acme.key).fineTuning.jobs.retrieve(job.id))).status).toBe(404);
    expect((await node(acme.key).fineTuning.jobs.list()).data.map((j) => j.id)).not.toContain(job.id);
    const usage = await tenantApi('GET', '/usage', acme.key);
    expect(usage.json.tenant).toBe('acme');
    // A's key under B's prefix names no key of B.
    const swapped = acme.key.replace('tsk_acme_', 'tsk_globex_');
    const e = await nodeFails(node(swapped).models.list());
    expect([e.status, e.body?.code]).toEqual([401, 'invalid_api_key']);
    expect((await tenantApi('GET', '/tenant/keys', swapped)).status).toBe(401);
    // A's admin cannot see or revoke B's keys: B's key ids are not found in A.
    const globexKey = await createKey('globex');
    expect((await tenantApi('DELETE', `/tenant/keys/${globexKey.id}`, acme.key)).status).toBe(404);
    expect((await node(globexKey.key).models.list()).data.length).toBeGreaterThan(0);
  });
});

describe('GET /v1/tenant/keys pages, in OpenAI\'s cursor-list shape', () => {
  it('limit and after walk every key of the tenant in creation order (createdAt, then id), has_more false on the last page; a bad cursor or limit is a 400 naming it', async () => {
    const made = [await createKey('globex', { name: 'page 1' }), await createKey('globex', { name: 'page 2' }), await createKey('globex', { name: 'page 3' })];
    const seen: string[] = [];
    const positions: string[] = [];
    for (let after: string | undefined; ;) {
      const { status, json } = await tenantApi('GET', `/tenant/keys?limit=1${after ? `&after=${after}` : ''}`, admin.globex!);
      positions.push(`${json.data[0].createdAt}#${json.data[0].keyId}`);
      expect(status).toBe(200);
      expect(json).toEqual({ object: 'list', data: [expect.objectContaining({ object: 'tenant.api_key', tenantId: 'globex' })], first_id: json.data[0].keyId, last_id: json.data[0].keyId, has_more: expect.any(Boolean) });
      seen.push(json.last_id);
      if (!json.has_more) break;
      after = json.last_id;
    }
    expect(seen).toHaveLength(new Set(seen).size);
    expect(positions).toEqual([...positions].sort());
    expect(seen.slice(-3).sort()).toEqual(made.map((k) => k.id).sort()); // the newest three (two made in one millisecond go by id)
    // A limit past its bound is OpenAI's list answer (`integer_above_max_value`), as every other list's.
    for (const [query, param, code] of [['after=tsk_globex_x', 'after', 'invalid_value'], ['after=key_0123456789abcdef', 'after', 'invalid_value'], ['limit=500', 'limit', 'integer_above_max_value'], ['order=latest', 'order', 'invalid_value']]) {
      const { status, json } = await tenantApi('GET', `/tenant/keys?${query}`, admin.globex!);
      expect([query, status, json.error.type, json.error.param, json.error.code]).toEqual([query, 400, 'invalid_request_error', param, code]);
    }
  });

  it('a parameter given twice (limit=1&limit=2) is a 400 naming it, not the last value API Gateway keeps', async () => {
    await createKey('globex', { name: 'repeated 1' });
    await createKey('globex', { name: 'repeated 2' });
    for (const [query, param] of [['limit=1&limit=2', 'limit'], ['order=asc&order=desc', 'order'], ['after=key_0000000000000000&after=key_ffffffffffffffff', 'after']]) {
      const { status, json } = await tenantApi('GET', `/tenant/keys?${query}`, admin.globex!);
      expect([status, json.error?.type, json.error?.param, json.error?.code], query).toEqual([400, 'invalid_request_error', param, 'invalid_value']);
    }
  });

  it('the openai client\'s cursor pagination (CursorPage, which reads each item\'s id) walks every key', async () => {
    const made = [await createKey('acme', { name: 'sdk page 1' }), await createKey('acme', { name: 'sdk page 2' }), await createKey('acme', { name: 'sdk page 3' })];
    const client = new OpenAI({ baseURL: gw.url, apiKey: admin.acme!, maxRetries: 0, timeout: 20_000 });
    const ids: string[] = [];
    type Key = { id: string; keyId: string; createdAt: string };
    const positions: string[] = [];
    for await (const key of client.getAPIList<Key, OpenAI.CursorPage<Key>>('/tenant/keys', OpenAI.CursorPage<Key>, { query: { limit: 1 } })) {
      expect(key.id).toBe(key.keyId);
      ids.push(key.id);
      positions.push(`${key.createdAt}#${key.id}`);
    }
    expect(ids).toHaveLength(new Set(ids).size);
    expect(positions).toEqual([...positions].sort()); // oldest first
    expect(ids.slice(-3).sort()).toEqual(made.map((k) => k.id).sort());
  });
});
