import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toFile } from 'openai';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLocalGateway } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { serveGateway } from '../../support/local-gateway.js';
import { tempDir } from '../../support/temp-dirs.js';
import { enterpriseTenants, vectorStoreConfig } from '../../support/vector-store-gateway.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * A background response whose `file_search` tool loop runs when `tessera serve` stops: the model call under way ends,
 * and no further round starts (no search, no second model call); the response ends `failed` (server_error, saying
 * serve stopped it and what it had spent), its marker removed, and the next serve leaves it so (it is not run again:
 * its first call was billed). Before session 44, the loop went on searching and calling the model while serve settled.
 */
const tenants = enterpriseTenants('acme');
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

const chatCalls = (upstream: FakeUpstream) => upstream.requests.filter((b) => Array.isArray(b.messages));
const embeddingCalls = (upstream: FakeUpstream) => upstream.requests.filter((b) => b.input !== undefined);

describe('tessera serve stopping: a background response running the file_search tool (openai node)', () => {
  for (const stream of [false, true]) {
    it(`starts no further round after the stop and ends failed; the next serve leaves it failed${stream ? ' (stream: true: the create stream opens with response.created and ends with response.failed)' : ''}`, async () => {
      const dir = tempDir('tessera-bg-fs-stop-');
      const upstream = await new FakeUpstream().start();
      stops.push(() => upstream.stop());
      upstream.followFormat = true;
      upstream.callTools = true;
      const first = await serveGateway(vectorStoreConfig(), upstream.url, tenants, { stateDir: dir, serveId: 'first-serve' });
      stops.push(() => first.stop());
      const client = nodeClient(first.url, await first.token('acme'));
      const store = await client.vectorStores.create({ name: 'handbook' });
      await client.vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from('Refunds are paid within fourteen days.'), 'refunds.md'), { pollIntervalMs: 20 });
      const embeddingsBefore = embeddingCalls(upstream).length;
      // The model's first call (it asks for a search) is under way when serve stops.
      upstream.delayMs = 300;
      const body = { model: 'openai-compatible/default', input: 'when are refunds paid', tools: [{ type: 'file_search' as const, vector_store_ids: [store.id] }], background: true };
      // Streamed, the create's stream opens with the first search (after the first call): read to its end meanwhile.
      const created = stream
        ? client.responses.create({ ...body, stream: true }).then(async (events) => { const types: string[] = []; let id = ''; for await (const e of events) { types.push(e.type); if ('response' in e) id = e.response.id; } return { id, types }; })
        : client.responses.create(body).then((r) => ({ id: r.id, types: [] as string[] }));
      await vi.waitFor(() => expect(chatCalls(upstream)).toHaveLength(1), { timeout: 10_000, interval: 5 });
      first.stopWork();
      await first.idle();
      const { id, types } = await created;

      // The call under way ended; nothing after it: no search (its query's embeddings) and no second model call.
      expect(chatCalls(upstream)).toHaveLength(1);
      expect(embeddingCalls(upstream)).toHaveLength(embeddingsBefore);
      const stopped = await client.responses.retrieve(id);
      expect(stopped.status).toBe('failed');
      expect(stopped.error).toEqual({ code: 'server_error', message: expect.stringMatching(/^server_stopping: tessera serve stopped while this response ran its file_search tool, after 1 model call and 0 searches/) });
      expect(existsSync(join(dir, 'background-responses', 'acme', id))).toBe(false);
      const record = first.audit.records.find((r) => r.detail?.background === true && r.detail.modelCalls !== undefined);
      expect(record).toMatchObject({ status: 503, detail: { modelCalls: 1, fileSearchCalls: 0 } });
      // The create's stream (not yet opened: it opens with the first search) opens with response.created and ends with the failed response, as a run refused before it opened.
      if (stream) expect(types).toEqual(['response.created', 'response.failed']);
      await first.stop();

      const again = await createLocalGateway({ config: vectorStoreConfig(), stateDir: dir, upstreamUrl: upstream.url, tenants, memoryAudit: true, serveId: 'second-serve' });
      stops.push(async () => again.stopBatches());
      await again.batchesIdle();
      expect((await again.responses!.get('acme', id))!.response).toMatchObject({ status: 'failed', error: stopped.error });
      expect(chatCalls(upstream)).toHaveLength(1);
    });
  }

  it('a stop during a streamed run\'s search: the search ends, no further model call; the stream, opened at the search, ends with the error', async () => {
    const dir = tempDir('tessera-bg-fs-stop-');
    const upstream = await new FakeUpstream().start();
    stops.push(() => upstream.stop());
    upstream.followFormat = true;
    upstream.callTools = true;
    const first = await serveGateway(vectorStoreConfig(), upstream.url, tenants, { stateDir: dir, serveId: 'first-serve' });
    stops.push(() => first.stop());
    const client = nodeClient(first.url, await first.token('acme'));
    const store = await client.vectorStores.create({ name: 'handbook' });
    await client.vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from('Refunds are paid within fourteen days.'), 'refunds.md'), { pollIntervalMs: 20 });
    const embeddingsBefore = embeddingCalls(upstream).length;
    // Serve stops as the search's embeddings call (its query) reaches the upstream.
    const push = upstream.requests.push.bind(upstream.requests);
    upstream.requests.push = (...r) => {
      if (r.some((b) => JSON.stringify(b.input) === '["when are refunds paid"]')) first.stopWork();
      return push(...r);
    };
    const events = await client.responses.create({ model: 'openai-compatible/default', input: 'when are refunds paid', tools: [{ type: 'file_search', vector_store_ids: [store.id] }], background: true, stream: true });
    const types: string[] = [];
    let id = '';
    // The client throws on the stream's `error` event, as on OpenAI's.
    const thrown = await (async () => {
      for await (const e of events) {
        types.push(e.type);
        if ('response' in e) id = e.response.id;
      }
    })().then(() => undefined, (e: Error) => e.message);
    expect(thrown).toMatch(/^tessera serve stopped while this response ran its file_search tool, after 1 model call and 1 search/);
    await first.idle();
    expect(chatCalls(upstream)).toHaveLength(1);
    expect(embeddingCalls(upstream)).toHaveLength(embeddingsBefore + 1);
    expect(types).toContain('response.file_search_call.completed');
    const stopped = await client.responses.retrieve(id);
    expect(stopped.status).toBe('failed');
    expect(stopped.error).toEqual({ code: 'server_error', message: expect.stringMatching(/^server_stopping: tessera serve stopped while this response ran its file_search tool, after 1 model call and 1 search \(billed\)/) });
    expect(first.audit.records.find((r) => r.detail?.background === true && r.detail.modelCalls !== undefined)).toMatchObject({ status: 503, detail: { modelCalls: 1, fileSearchCalls: 1 } });
  });
});
