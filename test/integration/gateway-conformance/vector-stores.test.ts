import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { POLL_AFTER_MS } from '../../../lambdas/inference/vector-stores/service.js';
import { localTenant, SERVE_VECTOR_STORE_FILES_AT_ONCE } from '../../../lambdas/inference/local-gateway.js';
import type { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runPythonCode } from '../../support/python-zygote.js';
import { apiRefusal, enterpriseTenants, vectorStoreConfig } from '../../support/vector-store-gateway.js';
import { nodeClient } from './official-clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * OpenAI's Vector Stores API through `tessera serve` with the official Node client (openai 7.55): stores, files
 * uploaded and polled, file batches, search with filters, list pages, deletes; tenant isolation; refusals in OpenAI's
 * shape. The fake upstream embeds in follow-format mode (a bag-of-words hash: texts sharing words are near), so a
 * search ranks the chunk holding the query's words first.
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let tokens: Record<string, string>;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(vectorStoreConfig(), upstream.url, enterpriseTenants('acme', 'globex', 'pausy'));
  tokens = { acme: await gw.token('acme'), globex: await gw.token('globex'), pausy: await gw.token('pausy') };
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  upstream.followFormat = true;
});

const client = (tenant = 'acme') => nodeClient(gw.url, tokens[tenant]!);
const POLL = { pollIntervalMs: 20 };

describe('vector stores on tessera serve, with the official Node client', () => {
  it('creates a store, uploads and polls files, searches with a filter, lists, updates and deletes', async () => {
    const store = await client().vectorStores.create({ name: 'handbook', metadata: { team: 'support' }, expires_after: { anchor: 'last_active_at', days: 7 } });
    expect(store).toMatchObject({ object: 'vector_store', name: 'handbook', metadata: { team: 'support' }, status: 'completed', usage_bytes: 0, file_counts: { total: 0 }, expires_after: { anchor: 'last_active_at', days: 7 } });
    expect(store.id).toMatch(/^vs_[a-f0-9]{24}$/);
    expect(store.expires_at).toBe(store.last_active_at! + 7 * 86_400);

    const refunds = 'Refunds are paid within fourteen days of a returned parcel.';
    const file = await client().vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from(refunds), 'refunds.md'), POLL);
    expect(file).toMatchObject({ object: 'vector_store.file', vector_store_id: store.id, status: 'completed', last_error: null, usage_bytes: Buffer.byteLength(refunds), chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } } });
    expect(await client().files.retrieve(file.id)).toMatchObject({ purpose: 'assistants', filename: 'refunds.md' });

    // A batch of two uploads (the client uploads each with purpose "assistants", then creates the batch and polls it).
    const batch = await client().vectorStores.fileBatches.uploadAndPoll(store.id, { files: [await toFile(Buffer.from('Shipping takes three working days by courier.'), 'shipping.txt'), await toFile(Buffer.from('{"warranty": "two years on every appliance"}'), 'warranty.json')] }, POLL);
    expect(batch).toMatchObject({ object: 'vector_store.files_batch', vector_store_id: store.id, status: 'completed', file_counts: { total: 2, completed: 2, failed: 0, in_progress: 0, cancelled: 0 } });
    const inBatch: string[] = [];
    for await (const f of client().vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id })) inBatch.push(f.id);
    expect(inBatch).toHaveLength(2);
    // Attributes, then a filter on them.
    const [shipping] = (await client().vectorStores.files.list(store.id, { order: 'asc' })).data.filter((f) => inBatch.includes(f.id));
    const updated = await client().vectorStores.files.update(shipping!.id, { vector_store_id: store.id, attributes: { topic: 'shipping', year: 2026 } });
    expect(updated).toMatchObject({ attributes: { topic: 'shipping', year: 2026 } });
    await client().vectorStores.files.poll(store.id, shipping!.id, POLL);

    const hits = await client().vectorStores.search(store.id, { query: 'how many days until refunds are paid' });
    expect(hits.data[0]).toMatchObject({ file_id: file.id, filename: 'refunds.md', content: [{ type: 'text', text: refunds }] });
    expect(hits.data[0]!.score).toBeGreaterThan(hits.data[1]!.score);
    const filtered = await client().vectorStores.search(store.id, { query: 'refunds', filters: { type: 'and', filters: [{ key: 'topic', type: 'eq', value: 'shipping' }, { key: 'year', type: 'gte', value: 2026 }] }, max_num_results: 5 });
    expect(filtered.data.map((d) => [d.file_id, d.attributes])).toEqual([[shipping!.id, { topic: 'shipping', year: 2026 }]]);

    const after = await client().vectorStores.retrieve(store.id);
    expect(after).toMatchObject({ status: 'completed', file_counts: { total: 3, completed: 3 }, usage_bytes: expect.any(Number) });
    expect(after.usage_bytes).toBeGreaterThan(Buffer.byteLength(refunds));
    expect((await client().vectorStores.files.content(file.id, { vector_store_id: store.id })).data).toEqual([{ type: 'text', text: refunds }]);

    // Deleting a file takes its chunks out of search.
    expect(await client().vectorStores.files.delete(file.id, { vector_store_id: store.id })).toEqual({ id: file.id, object: 'vector_store.file.deleted', deleted: true });
    expect((await client().vectorStores.search(store.id, { query: 'refunds paid' })).data.map((d) => d.file_id)).not.toContain(file.id);
    expect(await client().vectorStores.update(store.id, { name: 'handbook v2', expires_after: null })).toMatchObject({ name: 'handbook v2', expires_after: null, expires_at: null, file_counts: { total: 2 } });
    expect(await client().vectorStores.delete(store.id)).toEqual({ id: store.id, object: 'vector_store.deleted', deleted: true });
    expect((await apiRefusal(client().vectorStores.retrieve(store.id))).status).toBe(404);
    // Each chunk and query was embedded as a /v1/embeddings call of the tenant, audited.
    expect(gw.audit.records.some((r) => r.path === '/v1/embeddings' && r.tenantId === 'acme' && r.detail?.vectorStoreId === store.id && r.status === 200)).toBe(true);
  });

  it('an attributes update of a completed file keeps it searchable: a search right after finds it, and filters by the new attributes', async () => {
    const store = await client().vectorStores.create({ name: 'attributes' });
    const returns = await client().vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from('Returns are accepted within thirty days of delivery.'), 'returns.md'), POLL);
    const warranty = await client().vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from('The warranty covers returns of faulty appliances for two years.'), 'warranty.md'), POLL);
    const upstreamCalls = upstream.requests.length;

    const updated = await client().vectorStores.files.update(returns.id, { vector_store_id: store.id, attributes: { team: 'logistics', year: 2026 } });

    // OpenAI's "Update vector store file attributes". At once, no poll: both files answer, the updated one with its new attributes.
    const all = await client().vectorStores.search(store.id, { query: 'returns' });
    expect(Object.fromEntries(all.data.map((d) => [d.file_id, d.attributes]))).toEqual({ [returns.id]: { team: 'logistics', year: 2026 }, [warranty.id]: null });
    const filtered = await client().vectorStores.search(store.id, { query: 'returns', filters: { key: 'team', type: 'eq', value: 'logistics' } });
    expect(filtered.data.map((d) => [d.file_id, d.attributes])).toEqual([[returns.id, { team: 'logistics', year: 2026 }]]);
    // The file stayed completed; its chunks were not embedded again (the two upstream calls: the searches' queries).
    expect(updated).toMatchObject({ id: returns.id, status: 'completed', attributes: { team: 'logistics', year: 2026 }, usage_bytes: returns.usage_bytes });
    expect(upstream.requests).toHaveLength(upstreamCalls + 2);
    // Updated again (and cleared): the old value no longer matches, the new one does.
    await client().vectorStores.files.update(returns.id, { vector_store_id: store.id, attributes: { team: 'support' } });
    expect((await client().vectorStores.search(store.id, { query: 'returns', filters: { key: 'team', type: 'eq', value: 'logistics' } })).data).toEqual([]);
    expect((await client().vectorStores.search(store.id, { query: 'returns', filters: { key: 'team', type: 'eq', value: 'support' } })).data.map((d) => d.file_id)).toEqual([returns.id]);
    await client().vectorStores.files.update(returns.id, { vector_store_id: store.id, attributes: null });
    expect((await client().vectorStores.search(store.id, { query: 'returns', filters: { key: 'team', type: 'eq', value: 'support' } })).data).toEqual([]);
    expect((await client().vectorStores.search(store.id, { query: 'returns' })).data.map((d) => d.file_id).sort()).toEqual([returns.id, warranty.id].sort());
  });

  it('a CJK and emoji file in static chunks of 100 tokens: no chunk the search answers (nor the upstream embeds) holds U+FFFD, a character cut in two', async () => {
    // o200k writes many CJK characters and emoji as 2-4 tokens of partial UTF-8: a cut between them decoded each half to U+FFFD.
    const line = '東京は日本の首都であり、世界最大級の都市圏を形成している。𠮷野家の牛丼は有名です。😀🎉👍🏽 ';
    const store = await client().vectorStores.create({ name: 'cjk' });
    const uploaded = await client().files.create({ file: await toFile(Buffer.from(line.repeat(40)), 'tokyo.txt'), purpose: 'assistants' });
    const file = await client().vectorStores.files.createAndPoll(store.id, { file_id: uploaded.id, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 17 } } }, POLL);
    expect(file).toMatchObject({ status: 'completed', last_error: null });
    const hits = await client().vectorStores.search(store.id, { query: '東京', max_num_results: 50 });
    expect(hits.data.length).toBeGreaterThan(10);
    expect(hits.data.filter((d) => d.content[0]!.text.includes('\uFFFD')).map((d) => d.content[0]!.text.slice(0, 20))).toEqual([]);
    const embedded: string[] = upstream.requests.filter((r) => r.input !== undefined && r.messages === undefined).flatMap((r) => [r.input].flat());
    expect(embedded.some((t) => t.includes('東京'))).toBe(true);
    expect(embedded.filter((t) => t.includes('\uFFFD'))).toEqual([]);
  });

  it('lists stores in cursor pages, newest first', async () => {
    const made: string[] = [];
    for (const name of ['p1', 'p2', 'p3']) made.push((await client('globex').vectorStores.create({ name })).id);
    const first = await client('globex').vectorStores.list({ limit: 2 });
    expect(first.data.map((s) => s.id)).toEqual([made[2], made[1]]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const s of client('globex').vectorStores.list({ limit: 2 })) all.push(s.id);
    expect(all.filter((id) => made.includes(id))).toEqual([...made].reverse());
    expect((await client('globex').vectorStores.list({ order: 'asc', after: made[0] })).data.map((s) => s.id).filter((id) => made.includes(id))).toEqual([made[1], made[2]]);
    // Backwards, before=first_id: the previous page, the stores just before the cursor in the list's order (newest
    // first: p2 before p1), not the list's first; has_more while stores precede it.
    const back = await client('globex').vectorStores.list({ limit: 1, before: made[0] });
    expect([back.data.map((s) => s.id), back.has_more]).toEqual([[made[1]], true]);
    expect((await client('globex').vectorStores.list({ limit: 1, before: back.data[0]!.id })).data.map((s) => s.id)).toEqual([made[2]]);
    expect((await client('globex').vectorStores.list({ order: 'asc', limit: 2, before: made[2] })).data.map((s) => s.id)).toEqual([made[0], made[1]]);
    for (const id of made) await client('globex').vectorStores.delete(id);
  });

  it('answers a file or batch retrieve still in_progress with openai-poll-after-ms, which createAndPoll waits (else 5 s), and none once done', async () => {
    upstream.delayMs = 1500; // each embeddings answer after 1.5 s: a file stays in_progress across the first retrieve
    const store = await client().vectorStores.create({ name: 'polled' });
    const upload = async (name: string) => (await client().files.create({ file: await toFile(Buffer.from(`Returns of ${name} are accepted within thirty days.`), `${name}.md`), purpose: 'assistants' })).id;
    const attached = await client().vectorStores.files.create(store.id, { file_id: await upload('chairs') });
    const pending = await client().vectorStores.files.retrieve(attached.id, { vector_store_id: store.id }).withResponse();
    expect(pending.data.status).toBe('in_progress');
    expect(pending.response.headers.get('openai-poll-after-ms')).toBe(String(POLL_AFTER_MS));
    // The SDK's poller without pollIntervalMs: the header's wait between retrieves, until completed.
    const polled = await client().vectorStores.files.createAndPoll(store.id, { file_id: await upload('tables') });
    expect(polled.status).toBe('completed');
    expect(gw.audit.records.filter((r) => r.path === `/v1/vector_stores/${store.id}/files/${polled.id}`).length).toBeGreaterThanOrEqual(2);
    const done = await client().vectorStores.files.retrieve(polled.id, { vector_store_id: store.id }).withResponse();
    expect(done.response.headers.get('openai-poll-after-ms')).toBeNull();

    const batch = await client().vectorStores.fileBatches.create(store.id, { file_ids: [await upload('lamps')] });
    const batchPending = await client().vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id }).withResponse();
    expect(batchPending.data.status).toBe('in_progress');
    expect(batchPending.response.headers.get('openai-poll-after-ms')).toBe(String(POLL_AFTER_MS));
    expect(await client().vectorStores.fileBatches.poll(store.id, batch.id)).toMatchObject({ status: 'completed' });
    expect((await client().vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id }).withResponse()).response.headers.get('openai-poll-after-ms')).toBeNull();
    await client().vectorStores.delete(store.id);
  });

  it('the SDK\'s retry of a file attach whose answer was lost is answered the attached file: it is chunked and embedded once', async () => {
    const store = await client().vectorStores.create({ name: 'retried' });
    const text = 'Zanzibar parcels are collected every Thursday by the courier.';
    const uploaded = await client().files.create({ file: await toFile(Buffer.from(text), 'zanzibar.txt'), purpose: 'assistants' });
    // GIVEN the official client whose first attach's answer never arrives (a reset connection after the file was attached)
    let lost: { id: string; created_at: number } | undefined;
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await globalThis.fetch(url, init);
      if (lost === undefined && init?.method === 'POST' && String(url).endsWith(`/vector_stores/${store.id}/files`)) {
        lost = (await res.json()) as { id: string; created_at: number };
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return res;
    };
    const c = new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, fetch, timeout: 20_000 }); // maxRetries: the default 2
    // WHEN it attaches the file (its retry sends x-stainless-retry-count: 1) and polls it
    const attached = await c.vectorStores.files.create(store.id, { file_id: uploaded.id });
    expect(attached).toMatchObject({ id: lost!.id, created_at: lost!.created_at });
    expect(await client().vectorStores.files.poll(store.id, uploaded.id, POLL)).toMatchObject({ status: 'completed' });
    // THEN one run embedded it (the old code ran it again: a second embedding call, the first run's vectors thrown away)
    const embedded = upstream.requests.filter((r) => JSON.stringify(r.input ?? '').includes('Zanzibar'));
    expect(embedded).toHaveLength(1);
    await client().vectorStores.delete(store.id);
  });

  it('fails a file it cannot read with last_error, and keeps counting it', async () => {
    const store = await client().vectorStores.create({ name: 'mixed' });
    const pdf = await client().vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from('%PDF-1.4\n%fake\n'), 'scan.pdf'), POLL);
    expect(pdf).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file', message: expect.stringContaining('.pdf is not a type') } });
    expect(await client().vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 1, failed: 1, completed: 0 }, usage_bytes: 0 });
    await client().vectorStores.delete(store.id);
  });

  it('a tenant suspended while its file batch is processed: the files not embedded fail with last_error naming tenant_not_active, with no more refused embeddings calls than run at once', async () => {
    const store = await client('pausy').vectorStores.create({ name: 'paused' });
    const ids: string[] = [];
    for (let i = 0; i < 3 * SERVE_VECTOR_STORE_FILES_AT_ONCE; i++) ids.push((await client('pausy').files.create({ file: await toFile(Buffer.from(`note ${i} about parcels`), `note-${i}.txt`), purpose: 'assistants' })).id);
    // The embeddings of the first files wait: the tenant is suspended while they are in flight.
    upstream.delayMs = 1000;
    const batch = await client('pausy').vectorStores.fileBatches.create(store.id, { file_ids: ids });
    await upstream.received(1);
    const tenants = gw.store as MemoryStore;
    tenants.putTenant(localTenant('pausy', 'enterprise', { status: 'SUSPENDED' }));
    await gw.idle();
    tenants.putTenant(localTenant('pausy', 'enterprise'));
    const files = (await client('pausy').vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, limit: 100 })).data;
    const failed = files.filter((f) => f.status === 'failed');
    // A file whose embeddings call was under way may end either way: completed, or failed by another file's refusal first.
    const completed = files.filter((f) => f.status === 'completed').length;
    expect(completed + failed.length).toBe(ids.length);
    expect(completed).toBeLessThanOrEqual(upstream.requests.length);
    expect(failed.length).toBeGreaterThanOrEqual(ids.length - upstream.requests.length);
    expect(upstream.requests.length).toBeLessThan(ids.length);
    for (const f of failed) expect(f.last_error).toMatchObject({ code: 'server_error', message: expect.stringMatching(/^tenant_not_active: .*SUSPENDED.*; the file was not processed further$/) });
    expect(await client('pausy').vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id })).toMatchObject({ status: 'completed', file_counts: { in_progress: 0, failed: failed.length } });
    // The refused embeddings calls are audited; at most the files run at once make one (before: every file left did).
    const refused = gw.audit.records.filter((r) => r.path === '/v1/embeddings' && r.detail?.vectorStoreId === store.id && r.status === 403);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(SERVE_VECTOR_STORE_FILES_AT_ONCE);
    expect(refused[0]).toMatchObject({ tenantId: 'pausy', outcome: 'tenant_not_active' });
    upstream.delayMs = 0;
  });

  it('a tenant suspended while its file batch is processed, seen by the official Python client: the batch ends with every file settled, those not embedded failed naming tenant_not_active', async () => {
    upstream.delayMs = 1000;
    // openai 3.x: files.create (assistants), vector_stores.file_batches.create, retrieve polled through the suspension
    // (403s: PermissionDeniedError, retried as an application does), then list_files.
    const script = `
import json, sys, time
import openai
from openai import OpenAI
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = OpenAI(base_url=url, api_key=token, max_retries=0, timeout=20)
store = client.vector_stores.create(name="paused-py")
ids = [client.files.create(file=(f"py-note-{i}.txt", f"py note {i} about parcels".encode()), purpose="assistants").id for i in range(n)]
batch = client.vector_stores.file_batches.create(vector_store_id=store.id, file_ids=ids)
while True:
    try:
        batch = client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    except openai.PermissionDeniedError:
        time.sleep(0.02)
        continue
    if batch.status != "in_progress":
        break
    time.sleep(0.02)
files = client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id, limit=100).data
print(json.dumps({"batch": batch.model_dump(mode="json"), "files": [f.model_dump(mode="json") for f in files]}))
`;
    const n = 3 * SERVE_VECTOR_STORE_FILES_AT_ONCE;
    const python = runPythonCode(script, [gw.url, tokens.pausy!, String(n)]);
    await upstream.received(1);
    const tenants = gw.store as MemoryStore;
    tenants.putTenant(localTenant('pausy', 'enterprise', { status: 'SUSPENDED' }));
    await gw.idle();
    tenants.putTenant(localTenant('pausy', 'enterprise'));
    const out = JSON.parse((await python).stdout) as { batch: Record<string, unknown>; files: Array<{ status: string; last_error: { code: string; message: string } | null }> };
    const failed = out.files.filter((f) => f.status === 'failed');
    const completed = out.files.filter((f) => f.status === 'completed').length;
    expect(completed + failed.length).toBe(n);
    expect(upstream.requests.length).toBeLessThan(n);
    expect(failed.length).toBeGreaterThanOrEqual(n - upstream.requests.length);
    for (const f of failed) expect(f.last_error).toMatchObject({ code: 'server_error', message: expect.stringMatching(/^tenant_not_active: .*SUSPENDED.*; the file was not processed further$/) });
    expect(out.batch).toMatchObject({ object: 'vector_store.files_batch', status: 'completed', file_counts: { total: n, in_progress: 0, failed: failed.length, completed } });
    upstream.delayMs = 0;
  });

  it('keeps tenants apart: another tenant cannot read, search, attach to or delete a store (404)', async () => {
    const store = await client('acme').vectorStores.create({ name: 'private' });
    const mine = await client('acme').files.create({ file: await toFile(Buffer.from('secret plans'), 'plans.txt'), purpose: 'assistants' });
    const theirs = await client('globex').files.create({ file: await toFile(Buffer.from('other'), 'other.txt'), purpose: 'assistants' });
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['retrieve', () => client('globex').vectorStores.retrieve(store.id)],
      ['search', () => client('globex').vectorStores.search(store.id, { query: 'plans' })],
      ['attach', () => client('globex').vectorStores.files.create(store.id, { file_id: theirs.id })],
      ['update', () => client('globex').vectorStores.update(store.id, { name: 'mine now' })],
      ['delete', () => client('globex').vectorStores.delete(store.id)],
      ['list files', () => client('globex').vectorStores.files.list(store.id)],
    ];
    for (const [what, attempt] of attempts) expect([what, (await apiRefusal(attempt())).status]).toEqual([what, 404]);
    // Nor attach acme's file to its own store.
    const own = await client('globex').vectorStores.create({ name: 'own' });
    expect(await apiRefusal(client('globex').vectorStores.files.create(own.id, { file_id: mine.id }))).toMatchObject({ status: 404, code: 'file_not_found', param: 'file_id' });
    expect((await client('globex').vectorStores.list()).data.map((s) => s.id)).not.toContain(store.id);
    expect(await client('acme').vectorStores.retrieve(store.id)).toMatchObject({ name: 'private' });
  });

  it('refuses bad input in OpenAI\'s error shape, naming the field and the value, and changes nothing', async () => {
    const store = await client().vectorStores.create({ name: 'strict' });
    const f = await client().files.create({ file: await toFile(Buffer.from('text'), 'a.txt'), purpose: 'assistants' });
    const cases: Array<[string, () => Promise<unknown>, number, string | null, RegExp]> = [
      ['chunk size', () => client().vectorStores.files.create(store.id, { file_id: f.id, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 50, chunk_overlap_tokens: 0 } } }), 400, 'chunking_strategy.static.max_chunk_size_tokens', /Invalid 'chunking_strategy\.static\.max_chunk_size_tokens': integer below minimum value\. Expected a value >= 100, but got 50 instead\.$/],
      ['overlap over half', () => client().vectorStores.files.create(store.id, { file_id: f.id, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 201 } } }), 400, 'chunking_strategy.static.chunk_overlap_tokens', /201 must not exceed half/],
      ['max_num_results 0', () => client().vectorStores.search(store.id, { query: 'x', max_num_results: 0 }), 400, 'max_num_results', /Invalid 'max_num_results': integer below minimum value\. Expected a value >= 1, but got 0 instead\.$/],
      ['max_num_results 51', () => client().vectorStores.search(store.id, { query: 'x', max_num_results: 51 }), 400, 'max_num_results', /Invalid 'max_num_results': integer above maximum value\. Expected a value <= 50, but got 51 instead\.$/],
      ['unknown filter type', () => client().vectorStores.search(store.id, { query: 'x', filters: { key: 'a', type: 'like' as never, value: 'b' } }), 400, 'filters.type', /"like" is not a filter type/],
      ['rewrite_query', () => client().vectorStores.search(store.id, { query: 'x', rewrite_query: true }), 400, 'rewrite_query', /not supported/],
      ['attribute too long', () => client().vectorStores.files.create(store.id, { file_id: f.id, attributes: { note: 'x'.repeat(513) } }), 400, 'attributes.note', /^400 Invalid 'attributes\.note': string too long\. Expected a string with maximum length 512, but got a string with length 513 instead\.$/],
      ['metadata key too long', () => client().vectorStores.update(store.id, { metadata: { ['k'.repeat(70)]: 'v' } }), 400, 'metadata', /^400 Invalid property name in 'metadata': 'kkk\.\.\.kkk' is too long\. Expected a string with maximum length 64, but got a string with length 70 instead\.$/],
      ['unknown file', () => client().vectorStores.files.create(store.id, { file_id: 'file-000000000000000000000000' }), 404, 'file_id', /No such File object/],
    ];
    for (const [what, attempt, status, param, message] of cases) {
      const e = await apiRefusal(attempt());
      expect([what, e.status, e.param]).toEqual([what, status, param]);
      expect(e.message).toMatch(message);
    }
    expect(await client().vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 0 } });
    // An empty metadata key is taken, as every other route's metadata takes it (a vector store refused it, `invalid_value`).
    expect(await client().vectorStores.update(store.id, { metadata: { '': 'v' } })).toMatchObject({ metadata: { '': 'v' } });
  });

  it('refuses work on an expired store (400 naming vector_store_id) and answers it expired', async () => {
    const store = await client().vectorStores.create({ name: 'old', expires_after: { anchor: 'last_active_at', days: 1 } });
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2 * 86_400_000 });
    try {
      expect(await client().vectorStores.retrieve(store.id)).toMatchObject({ status: 'expired' });
      expect(await apiRefusal(client().vectorStores.search(store.id, { query: 'x' }))).toMatchObject({ status: 400, code: 'vector_store_expired', param: 'vector_store_id' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('the official Python client: vector_stores.create, files.upload_and_poll, file_batches.upload_and_poll, search with a filter, list pages, deletes', async () => {
    const code = [
      'import io, json, sys, openai',
      'c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)',
      "vs = c.vector_stores.create(name='py-docs', metadata={'lang': 'py'})",
      "f = c.vector_stores.files.upload_and_poll(vector_store_id=vs.id, file=('gardening.txt', io.BytesIO(b'Water tomatoes every morning in summer.')), poll_interval_ms=20)",
      "b = c.vector_stores.file_batches.upload_and_poll(vector_store_id=vs.id, files=[('bikes.md', io.BytesIO(b'Oil the bicycle chain monthly.')), ('bread.txt', io.BytesIO(b'Bake sourdough bread at high heat.'))], poll_interval_ms=20)",
      "bike = [x for x in c.vector_stores.file_batches.list_files(batch_id=b.id, vector_store_id=vs.id) if c.files.retrieve(x.id).filename == 'bikes.md'][0]",
      "c.vector_stores.files.update(file_id=bike.id, vector_store_id=vs.id, attributes={'kind': 'maintenance'})",
      "c.vector_stores.files.poll(bike.id, vector_store_id=vs.id, poll_interval_ms=20)",
      "hits = c.vector_stores.search(vector_store_id=vs.id, query='when to water tomatoes')",
      "only = c.vector_stores.search(vector_store_id=vs.id, query='water tomatoes', filters={'type': 'eq', 'key': 'kind', 'value': 'maintenance'})",
      "page = c.vector_stores.files.list(vector_store_id=vs.id, limit=2)",
      "ids = [x.id for x in c.vector_stores.files.list(vector_store_id=vs.id, limit=1)]",
      "deleted = c.vector_stores.delete(vs.id)",
      "print(json.dumps({'store': vs.model_dump(), 'file': f.model_dump(), 'batch': b.model_dump(), 'top': hits.data[0].model_dump(), 'only': [h.file_id for h in only.data], 'bike': bike.id,",
      "  'gardening': f.id, 'page': [len(page.data), page.has_more], 'all': len(ids), 'deleted': deleted.model_dump()}))",
    ].join('\n');
    const out = JSON.parse((await runPythonCode(code, [gw.url, tokens.acme!])).stdout);
    expect(out.store).toMatchObject({ object: 'vector_store', name: 'py-docs', metadata: { lang: 'py' }, status: 'completed' });
    expect(out.file).toMatchObject({ object: 'vector_store.file', status: 'completed', last_error: null, vector_store_id: out.store.id });
    expect(out.batch).toMatchObject({ status: 'completed', file_counts: { total: 2, completed: 2 } });
    expect(out.top).toMatchObject({ file_id: out.gardening, filename: 'gardening.txt', content: [{ type: 'text', text: 'Water tomatoes every morning in summer.' }] });
    expect(out.only).toEqual([out.bike]);
    expect(out.page).toEqual([2, true]);
    expect(out.all).toBe(3);
    expect(out.deleted).toEqual({ id: out.store.id, object: 'vector_store.deleted', deleted: true });
  });
});

describe('a search whose query embedding is rate limited: the 429 as the embeddings call answered it', () => {
  const tooMany = { status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Rate limit reached for requests. Please try again in 7s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };

  it('vector_stores.search and a Responses file_search: RateLimitError with retry-after and the x-ratelimit-* headers, code rate_limit_exceeded (the SDK waits as told, not on its own backoff)', async () => {
    const store = await client().vectorStores.create({ name: 'throttled' });
    await client().vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from('Refunds are paid within fourteen days.'), 'refunds.md'), POLL);

    upstream.reset();
    upstream.script(tooMany); // a wait of 7 s is not waited out: one call
    const searched = await client().vectorStores.search(store.id, { query: 'refund days' }).catch((e: unknown) => e);
    // The model calls the file_search function; embedding its query is throttled.
    const searchCall = { body: { id: 'up', object: 'chat.completion', created: 1, model: 'default', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_fs', type: 'function', function: { name: 'file_search', arguments: '{"queries":["refund days"]}' } }] }, finish_reason: 'tool_calls', logprobs: null }], usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } } };
    upstream.script(searchCall, tooMany);
    const answered = await client().responses.create({ model: 'openai-compatible/default', input: 'refund days', tools: [{ type: 'file_search', vector_store_ids: [store.id] }] }).catch((e: unknown) => e);

    expect(upstream.calls.map((c) => c.path)).toEqual(['/v1/embeddings', '/v1/chat/completions', '/v1/embeddings']);
    for (const e of [searched, answered] as Array<InstanceType<typeof OpenAI.RateLimitError>>) {
      expect(e).toBeInstanceOf(OpenAI.RateLimitError);
      expect(e.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
      expect(e.message).toContain('Rate limit reached for requests');
      expect(e.headers.get('retry-after')).toBe('7');
      for (const h of ['limit', 'remaining', 'reset']) expect(e.headers.get(`x-ratelimit-${h}-requests`), `x-ratelimit-${h}-requests`).toMatch(/^\w+$/);
    }
  });
});
