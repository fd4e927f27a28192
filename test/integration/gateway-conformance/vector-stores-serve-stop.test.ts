import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { toFile } from 'openai';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLocalGateway } from '../../../lambdas/inference/local-gateway.js';
import { DirRecordTable } from '../../../lambdas/inference/vector-stores/dir-record-table.js';
import { VectorStoreRecords } from '../../../lambdas/inference/vector-stores/records.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { serveGateway } from '../../support/local-gateway.js';
import { enterpriseTenants, vectorStoreConfig } from '../../support/vector-store-gateway.js';
import { nodeClient } from './official-clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * A file batch attached while `tessera serve` stops (its request read before the port closed): the stop (stopBatches,
 * the batch runs' signal) lets none of its files start, so no embeddings call is made and each stays `in_progress`;
 * the next serve on the state dir resumes them, each to `completed` (s43k). Before, the stopping serve embedded them
 * while it settled, and a file a stopped serve left `in_progress` stayed so for ever.
 */
const tenants = enterpriseTenants('acme');
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe('tessera serve stopping: vector store files (openai node)', () => {
  it('files attached after the stop start no embeddings call and stay in_progress; the next serve completes each', async () => {
    const upstream = await new FakeUpstream().start();
    upstream.followFormat = true;
    stops.push(() => upstream.stop());
    const first = await serveGateway(vectorStoreConfig(), upstream.url, tenants);
    stops.push(() => first.stop());
    const client = nodeClient(first.url, await first.token('acme'));
    const store = await client.vectorStores.create({ name: 'stopped' });
    const files = await Promise.all(Array.from({ length: 6 }, async (_, i) => client.files.create({ file: await toFile(Buffer.from(`Note ${i}: parcels are returned within ${i + 10} days.`), `n${i}.txt`), purpose: 'assistants' })));
    first.stopWork();
    const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: files.map((f) => f.id) });
    expect(batch.status).toBe('in_progress');
    await first.idle();
    expect(upstream.requests).toHaveLength(0);
    const listed = await client.vectorStores.files.list(store.id);
    expect(listed.data.map((f) => f.status)).toEqual(files.map(() => 'in_progress'));
    await first.stop();

    // The records as a serve that ran before this process started left them (a resume takes only those).
    const recordsDir = join(first.stateDir, 'vector-stores', 'records', 'acme');
    const past = Date.now() / 1000 - 3600;
    for (const name of await readdir(recordsDir)) await utimes(join(recordsDir, name), past, past);
    const again = await createLocalGateway({ config: vectorStoreConfig(), stateDir: first.stateDir, upstreamUrl: upstream.url, tenants, memoryAudit: true });
    stops.push(async () => again.stopBatches());
    await again.batchesIdle();
    const records = new VectorStoreRecords(new DirRecordTable(join(first.stateDir, 'vector-stores', 'records')));
    const ended = await records.listFiles('acme', store.id);
    expect(ended.map((f) => [f.fileId, f.status]).sort()).toEqual(files.map((f) => [f.id, 'completed']).sort());
    expect(ended.every((f) => f.chunks > 0)).toBe(true);
    // One embeddings call per one-chunk file, none twice.
    expect(upstream.requests).toHaveLength(6);
  });
});
