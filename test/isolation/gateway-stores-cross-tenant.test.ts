import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeAwsEnv, plainTenant } from '../integration/gateway-conformance/setup.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { serveGateway } from '../support/local-gateway.js';
import { vectorStoreConfig } from '../support/vector-store-gateway.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/**
 * Tenant B (globex) against tenant A's (acme's) stores through `tessera serve`, the objects
 * gateway-cross-tenant.test.ts and gateway-files-cross-tenant.test.ts do not name: vector stores, their files and file
 * batches (every route, `file_search` with A's store, A's file attached to B's store), stored chat completions (`store:
 * true`), request records (`/v1/tenant/requests/{id}`), a background response, an upload and its part (in B's own
 * upload too), `item_reference` and `/v1/responses/input_tokens` naming A's ids, and list cursors (`after`, `before`)
 * that are A's ids. Each answers A's id exactly as an id that exists nowhere (status and body, the id swapped: no
 * existence oracle). B's identical request is never A's cached answer, and B's identical create marked as an SDK
 * retry is never A's object. docs/isolation.md, the paragraph "At the gateway".
 */
fakeAwsEnv();

const SECRET = 'acme-secret-3b7a';
const MODEL = 'openai-compatible/default';
/** Both tenants cache whole answers for the whole tenant: the widest scope, where a key without the tenant would leak. */
const CACHE = { responseCache: { ttlSeconds: 300, scope: 'tenant' as const } };

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};
const acme = { store: '', storeFile: '', fileBatch: '', completion: '', request: '', response: '', item: '', background: '', upload: '', part: '' };
let globexStore = '';
const client = (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: tokens[tenant], maxRetries: 0 });

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.followFormat = true; // embeddings of the vector store file
  gw = await serveGateway(vectorStoreConfig(), upstream.url, [plainTenant('acme', CACHE), plainTenant('globex', CACHE)], { background: { pollMs: 50 } });
  for (const t of ['acme', 'globex']) tokens[t] = await gw.token(t, { role: 'admin' });
  const a = client('acme');
  const store = await a.vectorStores.create({ name: 'acme-secret-store' });
  const storeFile = await a.vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from(`${SECRET}: refunds within fourteen days`), 'acme-secret.md'), { pollIntervalMs: 20 });
  const fileBatch = await a.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [storeFile.id] }, { pollIntervalMs: 20 });
  const completion = await a.chat.completions.create({ model: MODEL, store: true, messages: [{ role: 'user', content: SECRET }] }).withResponse();
  const response = await a.responses.create({ model: MODEL, input: SECRET });
  const background = await a.responses.create({ model: MODEL, input: SECRET, background: true });
  const upload = await a.uploads.create({ bytes: 3, filename: 'acme-secret.jsonl', mime_type: 'text/jsonl', purpose: 'batch' });
  const part = await a.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('{}\n'), 'part') });
  Object.assign(acme, {
    store: store.id, storeFile: storeFile.id, fileBatch: fileBatch.id, completion: completion.data.id, request: completion.response.headers.get('x-request-id')!,
    response: response.id, item: response.output[0]!.id!, background: background.id, upload: upload.id, part: part.id,
  });
  globexStore = (await client('globex').vectorStores.create({ name: 'own' })).id;
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

type Answer = { status: number; body: string; headers: Headers };
async function send(method: string, path: string, who: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
/** An id of A's kind that exists nowhere: one hex digit changed eight from the end (inside the random part of every id here). */
const unknownLike = (id: string) => {
  const at = id.length - 8;
  return `${id.slice(0, at)}${id[at] === '0' ? '1' : '0'}${id.slice(at + 1)}`;
};
const swap = (text: string, id: string, by: string) => text.split(id).join(by);
const leaksNothing = (text: string) => !text.includes(SECRET) && !text.includes('acme');

describe('tenant B against tenant A\'s stores at the gateway (tessera serve)', () => {
  it('every route and id field answers A\'s id exactly as an id that exists nowhere', async () => {
    const cases: Array<[what: string, theirs: string, request: (id: string) => [string, string, unknown?]]> = [
      // Vector stores: the store's own routes, its files' and file batches' (A's store id), and A's ids in B's own requests.
      ['vector store retrieve', acme.store, (id) => ['GET', `/vector_stores/${id}`]],
      ['vector store update', acme.store, (id) => ['POST', `/vector_stores/${id}`, { name: 'mine now' }]],
      ['vector store delete', acme.store, (id) => ['DELETE', `/vector_stores/${id}`]],
      ['vector store search', acme.store, (id) => ['POST', `/vector_stores/${id}/search`, { query: 'refunds' }]],
      ['vector store files list', acme.store, (id) => ['GET', `/vector_stores/${id}/files`]],
      ['vector store file attach', acme.store, (id) => ['POST', `/vector_stores/${id}/files`, { file_id: acme.storeFile }]],
      ['vector store file retrieve', acme.store, (id) => ['GET', `/vector_stores/${id}/files/${acme.storeFile}`]],
      ['vector store file content', acme.store, (id) => ['GET', `/vector_stores/${id}/files/${acme.storeFile}/content`]],
      ['vector store file update', acme.store, (id) => ['POST', `/vector_stores/${id}/files/${acme.storeFile}`, { attributes: { owner: 'globex' } }]],
      ['vector store file delete', acme.store, (id) => ['DELETE', `/vector_stores/${id}/files/${acme.storeFile}`]],
      ['file batch create', acme.store, (id) => ['POST', `/vector_stores/${id}/file_batches`, { file_ids: [acme.storeFile] }]],
      ['file batch retrieve', acme.store, (id) => ['GET', `/vector_stores/${id}/file_batches/${acme.fileBatch}`]],
      ['file batch cancel', acme.store, (id) => ['POST', `/vector_stores/${id}/file_batches/${acme.fileBatch}/cancel`]],
      ['file batch files', acme.store, (id) => ['GET', `/vector_stores/${id}/file_batches/${acme.fileBatch}/files`]],
      ['A\'s file attached to B\'s store', acme.storeFile, (id) => ['POST', `/vector_stores/${globexStore}/files`, { file_id: id }]],
      ['A\'s file in B\'s store retrieve', acme.storeFile, (id) => ['GET', `/vector_stores/${globexStore}/files/${id}`]],
      ['A\'s file in a file batch of B\'s store', acme.storeFile, (id) => ['POST', `/vector_stores/${globexStore}/file_batches`, { file_ids: [id] }]],
      ['A\'s file batch in B\'s store', acme.fileBatch, (id) => ['GET', `/vector_stores/${globexStore}/file_batches/${id}`]],
      ['a store made with A\'s file', acme.storeFile, (id) => ['POST', '/vector_stores', { file_ids: [id] }]],
      ['file_search with A\'s store', acme.store, (id) => ['POST', '/responses', { model: MODEL, input: 'refunds', tools: [{ type: 'file_search', vector_store_ids: [id] }] }]],
      // Stored chat completions.
      ['chat completion retrieve', acme.completion, (id) => ['GET', `/chat/completions/${id}`]],
      ['chat completion update', acme.completion, (id) => ['POST', `/chat/completions/${id}`, { metadata: { owner: 'globex' } }]],
      ['chat completion messages', acme.completion, (id) => ['GET', `/chat/completions/${id}/messages`]],
      ['chat completions after A\'s', acme.completion, (id) => ['GET', `/chat/completions?after=${id}`]],
      ['chat completion delete', acme.completion, (id) => ['DELETE', `/chat/completions/${id}`]],
      // The request's record, a background response, and A's response and item ids in B's requests.
      ['request record', acme.request, (id) => ['GET', `/tenant/requests/${id}`]],
      ['background response retrieve', acme.background, (id) => ['GET', `/responses/${id}`]],
      ['background response stream', acme.background, (id) => ['GET', `/responses/${id}?stream=true&starting_after=0`]],
      ['background response cancel', acme.background, (id) => ['POST', `/responses/${id}/cancel`]],
      ['response cancel', acme.response, (id) => ['POST', `/responses/${id}/cancel`]],
      ['item_reference', acme.item, (id) => ['POST', '/responses', { model: MODEL, input: [{ type: 'item_reference', id }] }]],
      ['input_tokens with previous_response_id', acme.response, (id) => ['POST', '/responses/input_tokens', { model: MODEL, input: 'x', previous_response_id: id }]],
      ['input_tokens with item_reference', acme.item, (id) => ['POST', '/responses/input_tokens', { model: MODEL, input: [{ type: 'item_reference', id }] }]],
      // Uploads: A's upload, and A's part in B's own upload.
      ['upload part', acme.upload, (id) => ['POST', `/uploads/${id}/parts`, {}]],
      ['upload complete', acme.upload, (id) => ['POST', `/uploads/${id}/complete`, { part_ids: [acme.part] }]],
      ['upload cancel', acme.upload, (id) => ['POST', `/uploads/${id}/cancel`]],
    ];
    const own = await client('globex').uploads.create({ bytes: 3, filename: 'own.jsonl', mime_type: 'text/jsonl', purpose: 'batch' });
    cases.push(['A\'s part in B\'s upload', acme.part, (id) => ['POST', `/uploads/${own.id}/complete`, { part_ids: [id] }]]);
    const calls = upstream.requests.length;
    const records: Array<[string, string]> = [];
    for (const [what, theirs, request] of cases) {
      const unknown = unknownLike(theirs);
      const [method, path, body] = request(theirs);
      const a = await send(method, path, 'globex', body);
      const b = await send(...request(unknown).slice(0, 2) as [string, string], 'globex', request(unknown)[2]);
      expect([what, a.status >= 400 && a.status < 500], a.body).toEqual([what, true]);
      expect(swap(`${a.status} ${a.body}`, theirs, unknown), what).toBe(`${b.status} ${b.body}`);
      expect(leaksNothing(a.body), `${what}: ${a.body}`).toBe(true);
      records.push([what, a.headers.get('x-request-id')!]);
    }
    expect(upstream.requests.length).toBe(calls); // nothing of A's went upstream, nor anything else
    // B's records of these requests (what B reads back) hold nothing of A's objects.
    await gw.settled();
    for (const [what, id] of records) {
      const record = await send('GET', `/tenant/requests/${id}`, 'globex');
      expect([what, record.status]).toEqual([what, 200]);
      expect(leaksNothing(record.body), `${what}: ${record.body}`).toBe(true);
    }
  });

  it('path spellings of A\'s ids (percent-encoded twice, a trailing slash, upper case, a "..", a look-alike) answer as the same spelling of an unknown id', async () => {
    const spellings: Array<[string, (id: string) => string]> = [
      ['encoded', encodeURIComponent], ['encoded twice', (id) => encodeURIComponent(encodeURIComponent(id))], ['trailing slash', (id) => `${id}/`],
      ['upper case', (id) => id.toUpperCase()], ['".." from B\'s own', (id) => `${globexStore}%2F..%2F${id}`], ['Cyrillic а', (id) => id.replace('a', '\u0430')],
    ];
    const routes: Array<[string, string, (id: string) => [string, string]]> = [
      ['vector store', acme.store, (id) => ['GET', `/vector_stores/${id}`]],
      ['vector store files', acme.store, (id) => ['GET', `/vector_stores/${id}/files`]],
      ['vector store file', acme.storeFile, (id) => ['GET', `/vector_stores/${acme.store}/files/${id}`]],
      ['chat completion', acme.completion, (id) => ['GET', `/chat/completions/${id}`]],
      ['chat completion messages', acme.completion, (id) => ['GET', `/chat/completions/${id}/messages`]],
      ['request record', acme.request, (id) => ['GET', `/tenant/requests/${id}`]],
      ['background response cancel', acme.background, (id) => ['POST', `/responses/${id}/cancel`]],
      ['upload cancel', acme.upload, (id) => ['POST', `/uploads/${id}/cancel`]],
    ];
    for (const [what, theirs, request] of routes) {
      const unknown = unknownLike(theirs);
      for (const [how, spell] of spellings) {
        const a = await send(...request(spell(theirs)), 'globex');
        const b = await send(...request(spell(unknown)), 'globex');
        expect([`${what} ${how}`, a.status >= 400 && a.status < 500], a.body).toEqual([`${what} ${how}`, true]);
        // Every form the answer may quote A's id in (a message quotes at most 60 characters of the decoded path segment).
        const forms = (id: string) => [decodeURIComponent(spell(id)).slice(0, 60), spell(id), encodeURIComponent(spell(id)), id, id.toUpperCase()];
        const norm = (t: string) => forms(theirs).reduce((x, s, i) => x.split(s).join(forms(unknown)[i]!), t);
        expect(norm(`${a.status} ${a.body}`), `${what} ${how}`).toBe(`${b.status} ${b.body}`);
        expect(leaksNothing(a.body), `${what} ${how}: ${a.body}`).toBe(true);
      }
    }
  });

  it('list cursors that are A\'s ids list B\'s own, as an unknown id does', async () => {
    for (const [what, theirs, path] of [
      ['vector stores after', acme.store, '/vector_stores?after='], ['vector stores before', acme.store, '/vector_stores?before='],
      ['files after A\'s store file', acme.storeFile, '/files?after='], ['batches after', acme.storeFile, '/batches?after='],
      ['chat completions after A\'s response item', acme.item, '/chat/completions?after='],
    ] as const) {
      const unknown = unknownLike(theirs);
      const a = await send('GET', `${path}${theirs}`, 'globex');
      const b = await send('GET', `${path}${unknown}`, 'globex');
      expect(swap(`${a.status} ${a.body}`, theirs, unknown), what).toBe(`${b.status} ${b.body}`);
      expect(leaksNothing(a.body), what).toBe(true);
      for (const id of Object.values(acme).filter((id) => id !== theirs)) expect(a.body, what).not.toContain(id);
    }
  });

  it('B\'s request identical to A\'s cached one is a MISS (the key holds the tenant), and A\'s is a HIT', async () => {
    const ask = { model: MODEL, messages: [{ role: 'user', content: `cache ${SECRET}` }] };
    const first = await send('POST', '/chat/completions', 'acme', ask);
    const again = await send('POST', '/chat/completions', 'acme', ask);
    const theirs = await send('POST', '/chat/completions', 'globex', ask);
    expect([first.headers.get('x-tessera-cache-status'), again.headers.get('x-tessera-cache-status'), theirs.headers.get('x-tessera-cache-status')]).toEqual(['MISS', 'HIT', 'MISS']);
    expect(theirs.headers.get('x-request-id')).not.toBe(again.headers.get('x-request-id'));
  });

  it('B\'s create identical to A\'s, marked as an SDK retry (same user, same body), makes B\'s own object: never answered A\'s', async () => {
    const retry = { 'x-stainless-retry-count': '1' };
    const same = async () => toFile(Buffer.from('same bytes\n'), 'same.txt');
    const theirs = await client('acme').files.create({ file: await same(), purpose: 'user_data' });
    const mine = await client('globex').files.create({ file: await same(), purpose: 'user_data' }, { headers: retry });
    expect(mine.id).not.toBe(theirs.id);
    const body = { model: MODEL, input: 'the same background request', background: true };
    const a = JSON.parse((await send('POST', '/responses', 'acme', body)).body) as { id: string };
    const b = JSON.parse((await send('POST', '/responses', 'globex', body, retry)).body) as { id: string };
    expect(b.id).toMatch(/^resp_/);
    expect(b.id).not.toBe(a.id);
    // A batch of B's on A's input file, as a retry of A's create: A's file is unknown to B, A's batch is not answered.
    const line = JSON.stringify({ custom_id: 'one', method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content: SECRET }] } });
    const input = await client('acme').files.create({ file: await toFile(Buffer.from(`${line}\n`), 'acme-secret.jsonl'), purpose: 'batch' });
    const create = (file: string) => ({ input_file_id: file, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect((await send('POST', '/batches', 'acme', create(input.id))).status).toBe(200);
    const refused = await send('POST', '/batches', 'globex', create(input.id), retry);
    const unknown = await send('POST', '/batches', 'globex', create(unknownLike(input.id)), retry);
    expect(swap(`${refused.status} ${refused.body}`, input.id, unknownLike(input.id))).toBe(`${unknown.status} ${unknown.body}`);
    expect(refused.status).toBe(404);
  });

  it('usage by user, key, model and tag is B\'s own: A\'s tag, key, user and model never show, A\'s spend never counts', async () => {
    const key = await gw.apiKey('acme', { role: 'admin' });
    const tagged = await fetch(`${gw.url}/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', 'x-tessera-tags': 'acme-secret-tag' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: SECRET }] }),
    });
    expect(tagged.status).toBe(200);
    await tagged.arrayBuffer();
    await gw.settled();
    const acmeTags = JSON.parse((await send('GET', '/usage?group_by=tag', 'acme')).body) as { data: Array<{ id: string }> };
    expect(acmeTags.data.map((t) => t.id)).toContain('acme-secret-tag'); // A's own shows: the check below can fail
    for (const group of ['user', 'key', 'model', 'tag']) {
      const answer = await send('GET', `/usage?group_by=${group}`, 'globex');
      expect([group, answer.status]).toEqual([group, 200]);
      expect(answer.body, group).not.toContain('acme');
      expect(answer.body, group).not.toContain(key.record.keyId);
      expect(answer.body, group).not.toContain('gpt-4o-mini'); // only A called it
    }
  });

  it('B\'s items given A\'s item ids as their own ids are B\'s new items, as a never-used id is: no duplicate refusal, A\'s items unchanged', async () => {
    const conversation = await client('acme').conversations.create({ items: [{ type: 'message', role: 'user', content: SECRET, id: 'msg_chosen_by_a_1' } as never] });
    const theirs = ['msg_chosen_by_a_1', acme.item];
    const own = await client('globex').conversations.create({});
    for (const id of [...theirs, 'msg_never_used_1']) {
      const item = { type: 'message', role: 'user', content: 'mine', id };
      const made = await send('POST', '/conversations', 'globex', { items: [item] });
      const added = await send('POST', `/conversations/${own.id}/items`, 'globex', { items: [item] });
      const input = await send('POST', '/responses', 'globex', { model: MODEL, input: [item], store: false });
      expect([id, made.status, added.status, input.status]).toEqual([id, 200, 200, 200]);
      expect(leaksNothing(`${made.body} ${added.body}`), id).toBe(true);
    }
    const items = (await client('acme').conversations.items.list(conversation.id)).data as Array<{ id: string; content: Array<{ text: string }> }>;
    expect(items.map((i) => [i.id, i.content[0]!.text])).toEqual([['msg_chosen_by_a_1', SECRET]]);
  });

  it('leaves A\'s stores as they were', async () => {
    await gw.settled();
    const a = client('acme');
    expect(await a.vectorStores.retrieve(acme.store)).toMatchObject({ name: 'acme-secret-store', file_counts: { completed: 1 } });
    expect((await a.vectorStores.files.retrieve(acme.storeFile, { vector_store_id: acme.store })).attributes ?? {}).toEqual({});
    expect((await a.chat.completions.retrieve(acme.completion)).metadata ?? {}).toEqual({});
    expect((await a.responses.retrieve(acme.response)).id).toBe(acme.response);
    expect((await a.responses.retrieve(acme.background)).status).not.toBe('cancelled');
    expect((await send('GET', `/tenant/requests/${acme.request}`, 'acme')).status).toBe(200);
  });
});
