import OpenAI from 'openai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileResponseStore } from '../../../lambdas/inference/stores/file-response-store.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';
import type { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * Background responses (`background: true`) on `tessera serve` with the official clients: the create answers `queued`,
 * the response runs in the process (the fake upstream holds its answer long enough to see it `in_progress`), retrieve
 * polls it to `completed` with its output; a cancel mid-run makes it `cancelled` for good; a foreground response
 * cannot be cancelled; another tenant's id is a 404 as an unknown one.
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(conformanceConfig(), upstream.url, [plainTenant('acme'), plainTenant('globex'), plainTenant('pausy')], { background: { pollMs: 50 } });
  tokens.acme = await gw.token('acme');
  tokens.pausy = await gw.token('pausy');
  tokens.globex = await gw.token('globex');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

const MODEL = 'openai-compatible/default';
const client = (tenant = 'acme') => nodeClient(gw.url, tokens[tenant]!);
/** Polls as an application does until the response leaves queued and in_progress (no time asserted). */
const settled = async (id: string) => {
  for (;;) {
    const r = await client().responses.retrieve(id);
    if (!['queued', 'in_progress'].includes(r.status!)) return r;
    await new Promise((ok) => setTimeout(ok, 20));
  }
};

describe('background responses on tessera serve (openai node)', () => {
  it('create answers queued; the run is in_progress while the upstream answers; retrieve ends completed with output_text', async () => {
    upstream.delayMs = 1000;
    const created = await client().responses.create({ model: MODEL, input: 'otters in space', background: true });
    expect(created).toMatchObject({ object: 'response', status: 'queued', background: true, store: true, output: [] });
    await upstream.received(1);
    expect((await client().responses.retrieve(created.id)).status).toBe('in_progress');
    const done = await settled(created.id);
    expect(done).toMatchObject({ id: created.id, status: 'completed', background: true, created_at: created.created_at });
    expect(done.output_text).toContain('otters in space');
    expect(upstream.requests).toHaveLength(1);
    // Cancelling a settled one answers it as it is.
    expect(await client().responses.cancel(created.id)).toMatchObject({ id: created.id, status: 'completed' });
    const audit = gw.audit.records.filter((r) => r.detail?.responseId === created.id && r.action === 'response.create');
    expect(audit).toHaveLength(2); // the create (queued) and the run (answered)
    // The create's record (its x-request-id) names the stored response and the run's record, which has the usage and cost.
    const create = audit.find((r) => r.detail?.runRequestId !== undefined)!;
    const run = audit.find((r) => r !== create)!;
    expect(create.detail).toMatchObject({ stored: true, background: true, runRequestId: expect.stringMatching(/^req_[0-9a-f]{24}$/) });
    expect(run.requestId).toBe(create.detail!.runRequestId);
    expect(run).toMatchObject({ detail: { stored: true, background: true }, promptTokens: expect.any(Number), costUsd: expect.any(Number) });
    expect(run.promptTokens).toBeGreaterThan(0);
  });

  it('cancel mid-run: cancelled at once, and it stays cancelled after the run ends', async () => {
    upstream.delayMs = 3000;
    const created = await client().responses.create({ model: MODEL, input: 'a very long novel', background: true });
    await upstream.received(1);
    const cancelled = await client().responses.cancel(created.id);
    expect(cancelled).toMatchObject({ id: created.id, status: 'cancelled', background: true });
    await gw.settled();
    expect(await client().responses.retrieve(created.id)).toMatchObject({ status: 'cancelled', output: [] });
  });

  it('a tenant suspended while its response runs: the run is stopped (the upstream call cut), failed with error naming tenant_not_active, its audit record the 403', async () => {
    upstream.delayMs = 5000;
    const created = await client('pausy').responses.create({ model: MODEL, input: 'a very long novel', background: true });
    await upstream.received(1);
    const store = gw.store as MemoryStore;
    store.putTenant({ ...plainTenant('pausy'), status: 'SUSPENDED' });
    await gw.idle();
    // Resumed, the tenant reads how its response ended.
    store.putTenant(plainTenant('pausy'));
    const ended = await client('pausy').responses.retrieve(created.id);
    expect(ended).toMatchObject({ id: created.id, status: 'failed', background: true, output: [], error: { code: 'invalid_prompt', message: expect.stringMatching(/^tenant_not_active: .*SUSPENDED/) } });
    const run = gw.audit.records.find((r) => r.requestId !== undefined && r.detail?.responseId === created.id && r.detail?.runRequestId === undefined && r.action === 'response.create');
    expect(run).toMatchObject({ status: 403, outcome: 'tenant_not_active', detail: { stoppedWhileRunning: true } });
    expect(upstream.requests).toHaveLength(1);
  });

  it('a tenant suspended while its response runs, seen by the official Python client: retrieve polled through the suspension (403s) reads it failed, error naming tenant_not_active', async () => {
    upstream.delayMs = 5000;
    // openai 3.x: responses.create(background=True), then retrieve until it leaves queued and in_progress; while the
    // tenant is suspended each retrieve is a 403 (PermissionDeniedError), which an application retries.
    const script = `
import json, sys, time
import openai
from openai import OpenAI
url, token = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=url, api_key=token, max_retries=0, timeout=20)
created = client.responses.create(model="openai-compatible/default", input="a very long novel", background=True)
refused = set()
while True:
    try:
        r = client.responses.retrieve(created.id)
    except openai.PermissionDeniedError as e:
        refused.add(e.body.get("code") if isinstance(e.body, dict) else None)
        time.sleep(0.02)
        continue
    if r.status not in ("queued", "in_progress"):
        break
    time.sleep(0.02)
print(json.dumps({"created": created.status, "id": created.id, "ended": r.model_dump(mode="json"), "refused": sorted(c for c in refused if c)}))
`;
    const python = runPythonCode(script, [gw.url, tokens.pausy!]);
    await upstream.received(1);
    const store = gw.store as MemoryStore;
    store.putTenant({ ...plainTenant('pausy'), status: 'SUSPENDED' });
    await gw.idle();
    store.putTenant(plainTenant('pausy'));
    const out = JSON.parse((await python).stdout);
    expect(out.created).toBe('queued');
    expect(out.ended).toMatchObject({ id: out.id, status: 'failed', background: true, output: [], error: { code: 'invalid_prompt', message: expect.stringMatching(/^tenant_not_active: .*SUSPENDED/) } });
    expect(upstream.requests).toHaveLength(1);
  });

  it('refuses what background mode cannot be: store false (400 naming store); a foreground response cannot be cancelled (400)', async () => {
    await expect(client().responses.create({ model: MODEL, input: 'x', background: true, store: false })).rejects.toMatchObject({ status: 400, param: 'store' });
    const fg = await client().responses.create({ model: MODEL, input: 'x' });
    await expect(client().responses.cancel(fg.id)).rejects.toMatchObject({ status: 400, code: 'response_not_cancellable' });
    expect(upstream.requests).toHaveLength(1);
  });

  it("another tenant's background response is a 404 byte-for-byte as an unknown id, for retrieve and cancel", async () => {
    const created = await client().responses.create({ model: MODEL, input: 'mine', background: true });
    const raw = async (id: string, method: string, suffix = '') => {
      const res = await fetch(`${gw.url}/responses/${id}${suffix}`, { method, headers: { authorization: `Bearer ${tokens.globex}` } });
      const body = (await res.json()) as { error: Record<string, unknown> };
      return { status: res.status, error: { ...body.error, message: String(body.error.message).replace(id, '<id>') } };
    };
    const unknown = `resp_${'0'.repeat(48)}`;
    expect(await raw(created.id, 'GET')).toEqual(await raw(unknown, 'GET'));
    expect(await raw(created.id, 'POST', '/cancel')).toEqual(await raw(unknown, 'POST', '/cancel'));
    expect((await raw(created.id, 'POST', '/cancel')).status).toBe(404);
    expect((await settled(created.id)).status).toBe('completed');
  });

  it("an API key limited to other models: another model's stored response is the unknown id's answer on retrieve, input_items, cancel, delete, previous_response_id (create, input_tokens) and item references; a key of its model reads it", async () => {
    const foreground = await client().responses.create({ model: MODEL, input: 'app B answer' });
    upstream.delayMs = 3000;
    const created = await client().responses.create({ model: MODEL, input: 'app B prompt', background: true });
    await upstream.received(2);
    const { key: otherModel } = await gw.apiKey('acme', { models: ['openai-compatible/primary'] });
    const { key: sameModel } = await gw.apiKey('acme', { models: [MODEL] });
    const unknown = `resp_${'0'.repeat(48)}`;
    const raw = async (id: string, method: string, suffix = '', body?: unknown) => {
      const res = await fetch(`${gw.url}/responses${suffix.replace('{id}', id)}`, { method, body: body === undefined ? undefined : JSON.stringify(body).replaceAll('{id}', id), headers: { authorization: `Bearer ${otherModel}`, 'content-type': 'application/json' } });
      return { status: res.status, text: (await res.text()).replaceAll(id, '<id>').replace(/"(req_|x-request-id)[^"]*"/g, '') };
    };
    for (const [method, suffix, body] of [
      ['GET', '/{id}'], ['GET', '/{id}/input_items'], ['POST', '/{id}/cancel'], ['DELETE', '/{id}'],
      ['POST', '', { model: 'openai-compatible/primary', input: 'next', previous_response_id: '{id}' }],
      ['POST', '/input_tokens', { model: 'openai-compatible/primary', input: 'next', previous_response_id: '{id}' }],
    ] as const) {
      const [a, b] = [await raw(created.id, method, suffix, body), await raw(unknown, method, suffix, body)];
      expect([a.status, suffix]).toEqual([suffix.startsWith('/{id}') ? 404 : 400, suffix]);
      expect(a.text).toBe(b.text);
    }
    const mine = nodeClient(gw.url, sameModel);
    const [item] = foreground.output;
    const referenced = await fetch(`${gw.url}/responses/input_tokens`, { method: 'POST', body: JSON.stringify({ model: 'openai-compatible/primary', input: [{ type: 'item_reference', id: item!.id }] }), headers: { authorization: `Bearer ${otherModel}`, 'content-type': 'application/json' } });
    expect(referenced.status).toBe(400);
    expect(await referenced.json()).toMatchObject({ error: { code: 'item_not_found' } });
    // the refused cancel and delete left it running; the key of its model reads and cancels it
    expect((await mine.responses.retrieve(created.id)).status).toBe('in_progress');
    expect(await mine.responses.cancel(created.id)).toMatchObject({ status: 'cancelled' });
    await gw.settled();
  });
});

describe('background responses on tessera serve (openai python)', () => {
  it('create(background=True) → poll retrieve → completed with output_text', async () => {
    const script = `
import json, sys, time
from openai import OpenAI
c = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2])
r = c.responses.create(model="${MODEL}", input="python otters", background=True)
first = r.status
while r.status in ("queued", "in_progress"):
    time.sleep(0.05)
    r = c.responses.retrieve(r.id)
print(json.dumps({"first": first, "status": r.status, "background": r.background, "text": r.output_text}))
`;
    const out = JSON.parse((await runPythonCode(script, [gw.url, tokens.acme!])).stdout);
    expect(out).toMatchObject({ first: 'queued', status: 'completed', background: true });
    expect(out.text).toContain('python otters');
  });
});

describe('the official clients\' retries of a background create', () => {
  /** The official Node client (its default 2 retries) whose first answer to POST /v1/responses never arrives (a reset connection after the gateway answered). */
  const losingFirstAnswer = (seen: string[]) => {
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await globalThis.fetch(url, init);
      if (init?.method === 'POST' && String(url).endsWith('/responses')) {
        seen.push(((await res.clone().json()) as { id: string }).id);
        if (seen.length === 1) throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return res;
    };
    return new OpenAI({ baseURL: gw.url, apiKey: tokens.globex, fetch, timeout: 20_000 });
  };

  it('a retry whose first attempt stored the response is answered that response: one run, one upstream call (Node and Python clients); a deliberate second create of the same body is a run of its own', async () => {
    // GIVEN the Node client whose first create's answer (queued) is lost
    const seen: string[] = [];
    // WHEN it creates a background response (its retry: x-stainless-retry-count: 1, the same body)
    const created = await losingFirstAnswer(seen).responses.create({ model: MODEL, input: 'lost otters', background: true });
    // THEN the response its first attempt stored, its run the only one (the old code: a second response, run and billed again)
    expect(seen).toEqual([created.id, created.id]);
    await gw.settled();
    expect(await nodeClient(gw.url, tokens.globex!).responses.retrieve(created.id)).toMatchObject({ status: 'completed' });
    expect(upstream.requests).toHaveLength(1);
    expect(gw.audit.records.filter((r) => r.action === 'response.create' && r.detail?.sdkRetry === 1).at(-1)).toMatchObject({ detail: { responseId: created.id, retryOf: created.id } });
    // The Python client (httpx) whose first answer is lost on the way back, alike.
    const script = `
import json, sys, httpx2
from openai import OpenAI, DefaultHttpxClient
seen = []
class LosesFirstCreate(httpx2.HTTPTransport):
    def handle_request(self, request):
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/responses"):
            seen.append(json.loads(response.read())["id"])
            if len(seen) == 1:
                raise httpx2.ReadError("connection reset by peer", request=request)
        return response
c = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=2, http_client=DefaultHttpxClient(transport=LosesFirstCreate()))
r = c.responses.create(model="${MODEL}", input="lost python otters", background=True)
print(json.dumps({"id": r.id, "seen": seen}))
`;
    const python = JSON.parse((await runPythonCode(script, [gw.url, tokens.globex!])).stdout);
    expect(python.seen).toEqual([python.id, python.id]);
    await gw.settled();
    expect(upstream.requests).toHaveLength(2);

    // And a deliberate second create of the same body is a run of its own, also when its first attempt failed before
    // storing (a 500) and the SDK retried it: the retry reads its own call's note, not an earlier call's response.
    const body = { model: MODEL, input: 'otters twice', background: true } as const;
    const c = nodeClient(gw.url, tokens.globex!, 2);
    const earlier = await c.responses.create(body);
    // A new call (no retry header): a second response.
    const second = await c.responses.create(body);
    expect(second.id).not.toBe(earlier.id);
    // A third whose first attempt fails before anything is stored (the request count refused: a 500 the SDK retries):
    // its retry is not answered an earlier call's response, though the fingerprint is the same.
    vi.spyOn(gw.store, 'countRequest').mockRejectedValueOnce(new Error('the request counter is unavailable'));
    const third = await c.responses.create(body);
    expect([earlier.id, second.id]).not.toContain(third.id);
    expect(gw.audit.records.filter((r) => r.action === 'response.create' && r.detail?.sdkRetry === 1).at(-1)).toMatchObject({ status: 200, detail: { responseId: third.id } });
    vi.restoreAllMocks();
    await gw.settled();
  });
});

describe('a background response whose start was lost (queued, and never to be run)', () => {
  it('the Node client\'s retry of a create whose start failed, and whose failed settle failed too, starts its run: it runs once and completes', async () => {
    // The first attempt's start fails (its marker's directory is a file), and so does the write that would settle it failed.
    const blocker = join(gw.stateDir, 'background-responses', 'acme');
    await gw.idle();
    upstream.reset(); // the runs of the tests before have ended
    rmSync(blocker, { recursive: true, force: true }); // no run of acme's is left: their markers were removed
    mkdirSync(join(gw.stateDir, 'background-responses'), { recursive: true });
    writeFileSync(blocker, 'not a directory');
    vi.spyOn(FileResponseStore.prototype, 'update').mockRejectedValueOnce(new Error('the disk is full'));
    const statuses: number[] = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await globalThis.fetch(url, init);
      if (init?.method === 'POST' && String(url).endsWith('/responses')) {
        statuses.push(res.status);
        if (statuses.length === 1) rmSync(blocker, { force: true }); // the retry's start can be written
      }
      return res;
    };
    const created = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, fetch, timeout: 20_000 }).responses.create({ model: MODEL, input: 'started on the retry', background: true });
    vi.restoreAllMocks();
    expect(statuses).toEqual([500, 200]);
    // The old code: the retry was answered the stuck response, which no run took (queued for ever).
    await gw.idle();
    expect((await client().responses.retrieve(created.id)).status).toBe('completed');
    expect(upstream.requests).toHaveLength(1);
  });


  it('is read failed once past the 14 days its start could still arrive in (DLQ retention); cancel answers it so; a younger one is still queued (Node client)', async () => {
    const responses = new FileResponseStore(join(gw.stateDir, 'responses'));
    const now = Math.floor(Date.now() / 1000);
    const stuck = (responseId: string, createdAt: number) => responses.put({
      tenantId: 'acme', responseId, expiresAt: now + 30 * 86_400, inputItems: [], messages: [],
      response: { id: responseId, object: 'response', status: 'queued', background: true, created_at: createdAt, model: MODEL, output: [], error: null, incomplete_details: null },
      job: { owner: { tenantId: 'acme', userId: 'u1', role: 'member' }, request: JSON.stringify({ model: MODEL, input: 'lost', background: true }) },
    });
    const old = `resp_${'1'.repeat(48)}`;
    const young = `resp_${'2'.repeat(48)}`;
    await stuck(old, now - 14 * 86_400 - 60);
    await stuck(young, now - 13 * 86_400);
    // The old code: queued for ever.
    const read = await client().responses.retrieve(old);
    expect(read).toMatchObject({ id: old, status: 'failed', error: { code: 'server_error', message: expect.stringMatching(/^the background response was never started: it has been queued since .*, past the 14 days/) } });
    expect(await client().responses.cancel(old)).toMatchObject({ id: old, status: 'failed' });
    expect((await client().responses.retrieve(young)).status).toBe('queued');
  });

  it('created streaming, retrieve(id, {stream: true}) opens with response.created and ends with response.failed naming why, as retrieve reads it, instead of waiting for events that never come (Node client)', async () => {
    const responses = new FileResponseStore(join(gw.stateDir, 'responses'));
    const now = Math.floor(Date.now() / 1000);
    const old = `resp_${'3'.repeat(48)}`;
    await responses.put({
      tenantId: 'acme', responseId: old, expiresAt: now + 30 * 86_400, inputItems: [], messages: [], stream: true,
      response: { id: old, object: 'response', status: 'queued', background: true, created_at: now - 14 * 86_400 - 60, model: MODEL, output: [], error: null, incomplete_details: null },
      job: { owner: { tenantId: 'acme', userId: 'u1', role: 'member' }, request: JSON.stringify({ model: MODEL, input: 'lost', background: true, stream: true }) },
    });
    // The old code: the stream stayed open, keep-alive comments only, until the test's timeout.
    const events = [];
    for await (const event of await client().responses.retrieve(old, { stream: true })) events.push(event);
    // Opened with response.created (status queued: no run claimed it), as every Responses stream; it opened with response.failed before.
    expect(events).toEqual([
      { type: 'response.created', sequence_number: 0, response: expect.objectContaining({ id: old, status: 'queued', error: null, output: [] }) },
      { type: 'response.failed', sequence_number: 1, response: expect.objectContaining({ id: old, status: 'failed', error: { code: 'server_error', message: expect.stringMatching(/^the background response was never started: .*past the 14 days/) } }) },
    ]);
    expect(await client().responses.retrieve(old)).toMatchObject({ status: 'failed' });
  });
});
