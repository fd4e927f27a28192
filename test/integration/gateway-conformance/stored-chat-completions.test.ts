import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { plainTenant } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * Stored chat completions (`store: true`) on `tessera serve` (its default store: files in the state directory), with
 * the official Node and Python clients: create (whole and streamed) with metadata, retrieve, list (model, metadata,
 * after/limit/order), messages.list, update(metadata), delete; another tenant's id a 404 as an unknown one; a tenant
 * whose policy forbids storage a 400 naming store. The fake upstream echoes the last user message.
 */
const TENANTS = [plainTenant('acme'), plainTenant('globex'), plainTenant('nostore', { storeResponses: false })];
const MODEL = 'openai-compatible/default';
const ALIAS = 'house-chat';
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let tokens: Record<string, string>;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const config = conformanceConfig();
  // An alias, as the embedded default names its openai/* models by their bare OpenAI names (`gpt-5.4-mini`).
  gw = await serveGateway({ ...config, gateway: { ...config.gateway, modelAliases: { ...config.gateway.modelAliases, [ALIAS]: MODEL } } }, upstream.url, TENANTS);
  tokens = Object.fromEntries(await Promise.all(TENANTS.map(async (t) => [t.tenantId, await gw.token(t.tenantId)] as const)));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const client = (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: tokens[tenant], maxRetries: 0 });
const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;

describe('stored chat completions with the official Node client', () => {
  it('create (whole and streamed) with store and metadata → retrieve, list, messages.list, update, delete', async () => {
    const c = client('acme');
    const whole = await c.chat.completions.create({ model: MODEL, store: true, metadata: { topic: 'weather', run: '1' }, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Rain in ' }, { type: 'text', text: 'Oslo?' }] }] });
    const stream = await c.chat.completions.create({ model: MODEL, store: true, stream: true, metadata: { topic: 'sport' }, messages: [{ role: 'user', content: 'Who won?' }] });
    let streamed = '';
    let streamId = '';
    for await (const chunk of stream) {
      streamId = chunk.id;
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    const unstored = await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'not kept' }] });

    // retrieve: the answer as received, with its metadata; the stream assembled
    const got = await c.chat.completions.retrieve(whole.id);
    expect(got).toMatchObject({ id: whole.id, object: 'chat.completion', model: whole.model, created: whole.created, choices: whole.choices, usage: whole.usage, metadata: { topic: 'weather', run: '1' } });
    const gotStream = await c.chat.completions.retrieve(streamId);
    expect(gotStream).toMatchObject({ id: streamId, metadata: { topic: 'sport' }, choices: [{ index: 0, message: { role: 'assistant', content: streamed }, finish_reason: 'stop' }] });
    expect(streamed.length).toBeGreaterThan(0);
    expect((await failure(c.chat.completions.retrieve(unstored.id))).status).toBe(404);

    // list: asc by default, filters
    const all = (await c.chat.completions.list()).data.map((x) => x.id);
    expect(all.sort()).toEqual([whole.id, streamId].sort());
    expect((await c.chat.completions.list({ metadata: { topic: 'weather' } })).data.map((x) => x.id)).toEqual([whole.id]);
    expect((await c.chat.completions.list({ metadata: { topic: 'weather', run: '2' } })).data).toEqual([]);
    expect((await c.chat.completions.list({ model: 'openai-compatible/other' })).data).toEqual([]);
    expect((await c.chat.completions.list({ model: MODEL })).data).toHaveLength(2);
    const asc = await c.chat.completions.list({ order: 'asc', limit: 1 });
    expect(asc).toMatchObject({ has_more: true });
    const desc = await c.chat.completions.list({ order: 'desc' });
    expect(desc.data.map((x) => x.id)).toEqual([...(await c.chat.completions.list({ order: 'asc' })).data.map((x) => x.id)].reverse());
    const next = await c.chat.completions.list({ order: 'asc', limit: 1, after: asc.data[0]!.id });
    expect(next.data.map((x) => x.id)).toEqual([[whole.id, streamId].find((id) => id !== asc.data[0]!.id)]);
    expect(next.has_more).toBe(false);
    const raw = await (await fetch(`${gw.url}/chat/completions?limit=1`, { headers: { authorization: `Bearer ${tokens.acme}` } })).json();
    expect(raw).toMatchObject({ object: 'list', first_id: asc.data[0]!.id, last_id: asc.data[0]!.id, has_more: true });

    // messages.list: the request's messages with ids <id>-<index>, content_parts for a parts array
    const messages = await c.chat.completions.messages.list(whole.id);
    expect(messages.data).toEqual([
      { id: `${whole.id}-0`, role: 'system', content: 'Be brief.', name: null, content_parts: null },
      { id: `${whole.id}-1`, role: 'user', content: 'Rain in Oslo?', name: null, content_parts: [{ type: 'text', text: 'Rain in ' }, { type: 'text', text: 'Oslo?' }] },
    ]);
    expect((await c.chat.completions.messages.list(whole.id, { order: 'desc', limit: 1 })).data.map((m) => m.id)).toEqual([`${whole.id}-1`]);

    // update: metadata only
    const updated = await c.chat.completions.update(whole.id, { metadata: { topic: 'climate' } });
    expect(updated.metadata).toEqual({ topic: 'climate' });
    expect((await c.chat.completions.list({ metadata: { topic: 'climate' } })).data.map((x) => x.id)).toEqual([whole.id]);
    const extra = await failure(c.post(`/chat/completions/${whole.id}`, { body: { metadata: {}, temperature: 1 } }));
    expect(extra).toMatchObject({ status: 400, param: 'temperature', code: 'unknown_parameter' });
    // s31l: a field update does not take (Python's extra_body={'model': ...}) was param null, "(root) = {...}: Unrecognized key"
    const model = await failure(c.chat.completions.update(whole.id, { metadata: { a: 'b' }, model: 'x' } as never));
    expect(model).toMatchObject({ status: 400, param: 'model', code: 'unknown_parameter', message: expect.stringMatching(/supplied: model .*takes only metadata/) });
    expect((await c.chat.completions.retrieve(whole.id)).metadata).toEqual({ topic: 'climate' });
    const tooMany = await failure(c.chat.completions.update(whole.id, { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }));
    expect(tooMany).toMatchObject({ status: 400, param: expect.stringContaining('metadata') });

    // delete, then a 404
    expect(await c.chat.completions.delete(whole.id)).toEqual({ id: whole.id, object: 'chat.completion.deleted', deleted: true });
    expect((await failure(c.chat.completions.retrieve(whole.id))).status).toBe(404);
    expect((await failure(c.chat.completions.delete(whole.id))).status).toBe(404);
    const audited = gw.audit.records.filter((r) => r.tenantId === 'acme').map((r) => r.action).filter(Boolean);
    expect(audited).toEqual(expect.arrayContaining(['chat_completion.retrieve', 'chat_completion.list', 'chat_completion.messages', 'chat_completion.update', 'chat_completion.delete']));
    expect(gw.audit.records.find((r) => r.requestId === streamId)?.detail).toMatchObject({ chatCompletionId: streamId, stored: true });
  });

  it("list's model filter takes the name the create was sent, an alias as its catalog id (the stored completion's model)", async () => {
    const c = client('globex');
    const made = await c.chat.completions.create({ model: ALIAS, store: true, messages: [{ role: 'user', content: 'by alias' }] });
    expect(made.model).toBe(MODEL);
    expect((await c.chat.completions.list({ model: ALIAS })).data.map((x) => x.id)).toEqual([made.id]);
    expect((await c.chat.completions.list({ model: MODEL })).data.map((x) => x.id)).toEqual([made.id]);
    expect((await c.chat.completions.list({ model: 'house-chat-2' })).data).toEqual([]);
    await c.chat.completions.delete(made.id);
  });

  it('metadata over 512 characters at create is a 400 naming the key', async () => {
    const e = await failure(client('acme').chat.completions.create({ model: MODEL, store: true, metadata: { long: 'x'.repeat(513) }, messages: [{ role: 'user', content: 'Hi' }] }));
    expect(e).toMatchObject({ status: 400, param: 'metadata.long' });
  });

  it('another tenant\'s id: a 404 byte for byte as an unknown id; its completion untouched', async () => {
    const theirs = await client('globex').chat.completions.create({ model: MODEL, store: true, messages: [{ role: 'user', content: 'secret' }] });
    const unknown = theirs.id.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    for (const [method, suffix, body] of [['GET', '', undefined], ['DELETE', '', undefined], ['POST', '', '{"metadata":{}}'], ['GET', '/messages', undefined]] as const) {
      const ask = (id: string) => fetch(`${gw.url}/chat/completions/${id}${suffix}`, { method, body, headers: { authorization: `Bearer ${tokens.acme}`, 'content-type': 'application/json' } });
      const [a, b] = await Promise.all([ask(theirs.id), ask(unknown)]);
      expect([a.status, b.status]).toEqual([404, 404]);
      expect((await a.text()).replace(theirs.id, 'ID')).toBe((await b.text()).replace(unknown, 'ID'));
    }
    expect((await client('acme').chat.completions.list()).data.map((x) => x.id)).not.toContain(theirs.id);
    expect((await client('globex').chat.completions.retrieve(theirs.id)).id).toBe(theirs.id);
  });

  it('the list is in the order the gateway stored them (the upstream\'s created is whole seconds), asc and desc, after a stable cursor', async () => {
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push((await client('acme').chat.completions.create({ model: MODEL, store: true, metadata: { batch: 'order' }, messages: [{ role: 'user', content: `n${i}` }] })).id);
    const page = async (q: OpenAI.Chat.Completions.ChatCompletionListParams) => (await client('acme').chat.completions.list({ metadata: { batch: 'order' }, ...q })).data.map((x) => x.id);
    expect(await page({})).toEqual(made);
    expect(await page({ order: 'desc' })).toEqual([...made].reverse());
    expect(await page({ after: made[2]!, limit: 2 })).toEqual(made.slice(3, 5));
  });

  it('an API key limited to other models: the completions of a model outside its list are not listed and are a 404 as an unknown id; a key of that model reads them', async () => {
    const made = await client('acme').chat.completions.create({ model: MODEL, store: true, metadata: { app: 'a' }, messages: [{ role: 'user', content: 'app A prompt' }] });
    const unknown = made.id.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    const { key: otherModel } = await gw.apiKey('acme', { models: ['openai-compatible/primary'] });
    const { key: sameModel } = await gw.apiKey('acme', { models: [MODEL] });
    const keyed = (key: string) => new OpenAI({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
    expect((await keyed(otherModel).chat.completions.list({ metadata: { app: 'a' } })).data).toEqual([]);
    for (const [method, suffix, body] of [['GET', '', undefined], ['POST', '', '{"metadata":{"app":"b"}}'], ['GET', '/messages', undefined], ['DELETE', '', undefined]] as const) {
      const ask = (id: string) => fetch(`${gw.url}/chat/completions/${id}${suffix}`, { method, body, headers: { authorization: `Bearer ${otherModel}`, 'content-type': 'application/json' } });
      const [a, b] = await Promise.all([ask(made.id), ask(unknown)]);
      expect([a.status, b.status]).toEqual([404, 404]);
      expect((await a.text()).replace(made.id, 'ID')).toBe((await b.text()).replace(unknown, 'ID'));
    }
    // untouched by the refused update and delete; the key of its model reads it
    expect((await keyed(sameModel).chat.completions.retrieve(made.id)).metadata).toEqual({ app: 'a' });
    expect((await keyed(sameModel).chat.completions.list({ metadata: { app: 'a' } })).data.map((x) => x.id)).toEqual([made.id]);
  });

  it('a tenant whose policy forbids storage: store: true is a 400 naming store, nothing sent upstream', async () => {
    const before = upstream.requests.length;
    const e = await failure(client('nostore').chat.completions.create({ model: MODEL, store: true, messages: [{ role: 'user', content: 'Hi' }] }));
    expect(e).toMatchObject({ status: 400, param: 'store', code: 'store_not_allowed' });
    expect(upstream.requests.length).toBe(before);
  });
});

describe('stored chat completions with the official Python client', () => {
  it('create with store and metadata → retrieve, list, messages.list, update, delete', async () => {
    const code = `
import json, sys
from openai import OpenAI, NotFoundError
c = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
made = c.chat.completions.create(model="${MODEL}", store=True, metadata={"app": "py"}, messages=[{"role": "user", "content": "from python"}])
out = {"id": made.id}
out["retrieved"] = c.chat.completions.retrieve(made.id).metadata
out["listed"] = [x.id for x in c.chat.completions.list(metadata={"app": "py"}, limit=5).data]
out["messages"] = [m.model_dump() for m in c.chat.completions.messages.list(made.id).data]
out["updated"] = c.chat.completions.update(made.id, metadata={"app": "py2"}).metadata
out["deleted"] = c.chat.completions.delete(made.id).model_dump()
try:
    c.chat.completions.retrieve(made.id)
    out["after"] = "found"
except NotFoundError:
    out["after"] = 404
print(json.dumps(out))
`;
    const { stdout } = await runPythonCode(code, [gw.url, tokens.globex]);
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({
      retrieved: { app: 'py' }, listed: [out.id], updated: { app: 'py2' }, after: 404,
      deleted: { id: out.id, object: 'chat.completion.deleted', deleted: true },
      messages: [{ id: `${out.id}-0`, role: 'user', content: 'from python', content_parts: null }],
    });
  });
});
