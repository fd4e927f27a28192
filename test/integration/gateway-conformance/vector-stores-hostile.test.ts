import { toFile } from 'openai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SERVE_VECTOR_STORE_FILES_AT_ONCE } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream, type UpstreamCall } from '../../support/fake-upstream.js';
import { serveGateway } from '../../support/local-gateway.js';
import { apiRefusal, enterpriseTenants, vectorStoreConfig } from '../../support/vector-store-gateway.js';
import { nodeClient } from './official-clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The Vector Stores API on `tessera serve` against a hostile tenant (the official Node client and raw requests):
 * deletes racing processing, files named twice, fields OpenAI defines otherwise or not at all, a cancel with nothing
 * to cancel. Each case here failed before its fix.
 */
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let token: string;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(vectorStoreConfig(), upstream.url, enterpriseTenants('acme'));
  token = await gw.token('acme');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  upstream.followFormat = true;
});

const client = () => nodeClient(gw.url, token);
const POLL = { pollIntervalMs: 20 };
const upload = async (text: string, name = 'notes.txt') => client().files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });

describe('vector stores against a hostile tenant', () => {
  it('a store deleted while its file is embedded leaves no index behind (processing made it again after the delete)', async () => {
    const store = await client().vectorStores.create({ name: 'short-lived' });
    const file = await upload('a file whose chunks are being embedded when its store goes');
    upstream.delayMs = 300;
    await client().vectorStores.files.create(store.id, { file_id: file.id });
    await upstream.received(1);
    expect(await client().vectorStores.delete(store.id)).toMatchObject({ deleted: true });
    upstream.delayMs = 0;
    await gw.idle();
    expect(existsSync(join(gw.stateDir, 'vector-stores', 'index', 'acme', store.id))).toBe(false);
  });

  it('attributes updated while the file is embedded: the run that read the old ones is superseded, the file ends with the new ones in its vectors (search filters by them)', async () => {
    const store = await client().vectorStores.create({ name: 'relabelled' });
    const file = await upload('Refunds are paid within fourteen days of a returned parcel.');
    upstream.delayMs = 300;
    await client().vectorStores.files.create(store.id, { file_id: file.id, attributes: { team: 'old' } });
    await upstream.received(1);
    expect(await client().vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { team: 'new' } })).toMatchObject({ status: 'in_progress', attributes: { team: 'new' } });
    upstream.delayMs = 0;
    await gw.idle();
    expect(await client().vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).toMatchObject({ status: 'completed', attributes: { team: 'new' } });
    const search = (team: string) => client().vectorStores.search(store.id, { query: 'refunds', filters: { key: 'team', type: 'eq', value: team } });
    expect((await search('new')).data.map((d) => [d.file_id, d.attributes])).toEqual([[file.id, { team: 'new' }]]);
    expect((await search('old')).data).toEqual([]);
  });

  it('takes a file batch of up to 2,000 files (OpenAI\'s maximum batch size), not 500; 2,001 is a 400 naming file_ids', async () => {
    const store = await client().vectorStores.create({ name: 'big batch' });
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `file-${String(i + 1).padStart(24, '0')}`);
    // 501 well-formed ids none of which is the tenant's: checked one by one, the first named (not refused by count).
    expect(await apiRefusal(client().vectorStores.fileBatches.create(store.id, { file_ids: ids(501) }))).toMatchObject({ status: 404, code: 'file_not_found', param: 'file_ids[0]' });
    expect(await apiRefusal(client().vectorStores.fileBatches.create(store.id, { file_ids: ids(2001) }))).toMatchObject({ status: 400, param: 'file_ids', message: expect.stringContaining('1 to 2000 file ids') });
    expect(await apiRefusal(client().vectorStores.fileBatches.create(store.id, { files: ids(2001).map((file_id) => ({ file_id })) }))).toMatchObject({ status: 400, param: 'files' });
  });

  it('refuses a file named twice in one request (it would be embedded, and billed, twice), naming the second', async () => {
    const store = await client().vectorStores.create({ name: 'dups' });
    const file = await upload('named twice');
    expect(await apiRefusal(client().vectorStores.fileBatches.create(store.id, { file_ids: [file.id, file.id] }))).toMatchObject({ status: 400, param: 'file_ids[1]', message: expect.stringContaining('also file_ids[0]') });
    expect(await apiRefusal(client().vectorStores.fileBatches.create(store.id, { files: [{ file_id: file.id }, { file_id: file.id, attributes: { v: 2 } }] }))).toMatchObject({ status: 400, param: 'files[1].file_id' });
    expect(await apiRefusal(client().vectorStores.create({ name: 'dups too', file_ids: [file.id, file.id] }))).toMatchObject({ status: 400, param: 'file_ids[1]' });
    expect(await client().vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 0 } });
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses the batch\'s attributes and chunking_strategy beside files (OpenAI ignores them then), instead of applying them', async () => {
    const store = await client().vectorStores.create({ name: 'per-file' });
    const file = await upload('per file attributes');
    expect(await apiRefusal(client().vectorStores.fileBatches.create(store.id, { files: [{ file_id: file.id }], attributes: { team: 'a' } }))).toMatchObject({ status: 400, param: 'attributes' });
    expect(await apiRefusal(client().vectorStores.fileBatches.create(store.id, { files: [{ file_id: file.id }], chunking_strategy: { type: 'auto' } }))).toMatchObject({ status: 400, param: 'chunking_strategy' });
    const batch = await client().vectorStores.fileBatches.createAndPoll(store.id, { files: [{ file_id: file.id, attributes: { team: 'b' } }] }, POLL);
    expect(batch).toMatchObject({ status: 'completed', file_counts: { total: 1, completed: 1 } });
    expect(await client().vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).toMatchObject({ attributes: { team: 'b' } });
  });

  it('refuses unknown fields inside chunking_strategy, expires_after and filters with a 400 naming them, never drops them', async () => {
    const store = await client().vectorStores.create({ name: 'strict nested' });
    const file = await upload('nested fields');
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, error: ((await r.json()) as { error?: { param: string; code: string } }).error };
    };
    const cases: Array<[string, unknown, string]> = [
      [`/vector_stores/${store.id}/files`, { file_id: file.id, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0, min_chunk_size_tokens: 50 } } }, 'chunking_strategy.static.min_chunk_size_tokens'],
      [`/vector_stores/${store.id}/files`, { file_id: file.id, chunking_strategy: { type: 'static', separator: '\n', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 0 } } }, 'chunking_strategy.separator'],
      ['/vector_stores', { name: 'x', expires_after: { anchor: 'last_active_at', days: 1, hours: 2 } }, 'expires_after.hours'],
      [`/vector_stores/${store.id}/search`, { query: 'x', filters: { key: 'a', type: 'eq', value: 1, case_sensitive: false } }, 'filters.case_sensitive'],
      [`/vector_stores/${store.id}/search`, { query: 'x', filters: { type: 'or', filters: [{ key: 'a', type: 'eq', value: 1 }], key: 'b' } }, 'filters.key'],
      [`/vector_stores/${store.id}/search`, { query: 'x', ranking_options: { ranker: 'auto', boost: 2 } }, 'ranking_options.boost'],
      [`/vector_stores/${store.id}/file_batches`, { files: [{ file_id: file.id, priority: 1 }] }, 'files[0].priority'],
    ];
    // In OpenAI's words for a nested key (until 2026-12-07 "<path> is not a field of …" or "unknown parameter <path>").
    for (const [path, body, param] of cases) {
      expect([param, await post(path, body)]).toEqual([param, { status: 400, error: expect.objectContaining({ param, code: 'unknown_parameter', message: expect.stringMatching(new RegExp(`^Unknown parameter: '${param.replace(/[.[\]]/g, '\\$&')}'\\. `)) }) }]);
    }
    expect((await client().vectorStores.list({ limit: 100 })).data.filter((s) => s.name === 'x')).toEqual([]);
    expect(await client().vectorStores.retrieve(store.id)).toMatchObject({ file_counts: { total: 0 } });
  });

  it('a large file batch is embedded a few files at a time, not every file at once (serve has one process and one upstream)', async () => {
    const store = await client().vectorStores.create({ name: 'many' });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await upload(`note ${i} about parcels`, `n${i}.txt`)).id);
    // Each file's one embeddings call, answered after a short hold; the calls open at once are counted.
    let open = 0;
    let most = 0;
    const answer = (call: UpstreamCall) => {
      open += 1;
      most = Math.max(most, open);
      void call.closed.then(() => (open -= 1));
      const inputs = call.body.input as string[];
      return { delayMs: 50, body: { object: 'list', model: call.body.model, data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [1, 0, 0, 0] })), usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } } };
    };
    upstream.script(...ids.map(() => answer));
    const batch = await client().vectorStores.fileBatches.createAndPoll(store.id, { file_ids: ids }, POLL);
    expect(batch.file_counts).toMatchObject({ completed: 12, total: 12 });
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(SERVE_VECTOR_STORE_FILES_AT_ONCE);
  });

  it('a cancel of a batch with nothing in progress leaves it completed (not "cancelled" with every file completed)', async () => {
    const store = await client().vectorStores.create({ name: 'late cancel' });
    const file = await upload('already done');
    const batch = await client().vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [file.id] }, POLL);
    expect(batch.status).toBe('completed');
    expect(await client().vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id })).toMatchObject({ status: 'completed', file_counts: { completed: 1, cancelled: 0 } });
    expect(await client().vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id })).toMatchObject({ status: 'completed' });
  });
});
