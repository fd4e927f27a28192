import { describe, expect, it } from 'vitest';
import type { BatchPartStore } from '../../../lambdas/inference/batches/stores.js';
import { runBatchChunk } from '../../../lambdas/inference/batches/worker.js';
import { batchFixture as fixture, IDS } from '../../support/batch-memory.js';

/** The invocation's remaining time: plenty until `lines` more requests have run, then under any margin. */
const timeFor = (ran: string[], lines: number) => {
  const stopAt = ran.length + lines;
  return () => (ran.length < stopAt ? 900_000 : 1_000);
};

describe('the Batch API worker on AWS (runBatchChunk)', () => {
  it('runs a chunk as long as the time allows, records the cursor and counts, and sends a message for the rest', async () => {
    const { batches, files, deps, id, ran, sent } = await fixture();
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 2))).toBe('ran');
    expect(ran).toEqual(['a', 'b']);
    expect(sent).toEqual([{ tenantId: 'acme', batchId: id, cursor: 2, chunk: 1 }]);
    const item = batches.items.get(id)!;
    expect(item.batch.status).toBe('in_progress');
    expect(item.batch.request_counts).toEqual({ total: 5, completed: 2, failed: 0 });
    expect(item.progress).toMatchObject({ cursor: 2, leaseUntil: 0, completed: 2, failed: 0, parts: [0] });
    expect(item.progress!.claim).toBeUndefined();
    expect(files.parts.get(0)!.output.trim().split('\n').map((l) => JSON.parse(l).custom_id)).toEqual(['a', 'b']);
  });

  it('a duplicate delivery of a recorded chunk runs nothing; a chunk chain ends the batch with every custom_id once in its files', async () => {
    const { batches, files, deps, id, ran, sent } = await fixture();
    await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 2));
    // The create's message delivered again (SQS: at least once): the batch's cursor is 2, the message's 0.
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 5))).toBe('skipped');
    expect(ran).toEqual(['a', 'b']);
    expect(await runBatchChunk(deps, sent[0]!, timeFor(ran, 2))).toBe('ran');
    // The second chunk's message twice: once it ran, the other delivery is skipped.
    expect(await runBatchChunk(deps, sent[0]!, timeFor(ran, 5))).toBe('skipped');
    expect(await runBatchChunk(deps, sent[1]!, timeFor(ran, 5))).toBe('ended');
    expect(await runBatchChunk(deps, sent[1]!, timeFor(ran, 5))).toBe('skipped');
    expect(ran).toEqual(IDS);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 }, usage: { input_tokens: 8, output_tokens: 4, total_tokens: 12 } });
    const lines = (fileId: string) => Buffer.from(files.files.get(fileId)!.content).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines(batch.output_file_id!).map((l) => l.custom_id)).toEqual(['a', 'b', 'd', 'e']);
    expect(lines(batch.error_file_id!)).toMatchObject([{ custom_id: 'c', response: { status_code: 400, request_id: 'req_c' } }]);
    expect(files.parts.size).toBe(0);
  });

  it('a delivery while another holds the chunk\'s lease runs nothing; once the lease expired (the holder died) the chunk runs again', async () => {
    const { batches, deps, id, ran, sent } = await fixture();
    let clock = 1_000_000;
    deps.nowMs = () => clock;
    // A chunk claimed (lease until clock + 60 s) whose invocation died before it recorded anything.
    batches.items.get(id)!.progress = { cursor: 0, leaseUntil: clock + 60_000, claim: 'dead', completed: 0, failed: 0, usage: { input: 0, output: 0, cached: 0, reasoning: 0 }, parts: [] };
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 5))).toBe('skipped');
    expect(ran).toEqual([]);
    clock += 60_001;
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 2))).toBe('ran');
    expect(ran).toEqual(['a', 'b']);
    expect(sent).toEqual([{ tenantId: 'acme', batchId: id, cursor: 2, chunk: 1 }]);
  });

  it('the claim holds the lease until the invocation ends (now + its remaining time)', async () => {
    const { batches, deps, id } = await fixture();
    deps.nowMs = () => 5_000;
    let seen: number | undefined;
    deps.execute = async () => {
      seen ??= batches.items.get(id)!.progress!.leaseUntil;
      return { status: 200, requestId: 'r', body: '{}' };
    };
    await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 300_000);
    expect(seen).toBe(305_000);
  });

  it('a cancel between chunks: the next chunk runs no request and ends the batch cancelled with the answers so far', async () => {
    const { batches, files, deps, id, ran, sent } = await fixture();
    await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 2));
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, status: 'cancelling', cancelling_at: 1 } }));
    expect(await runBatchChunk(deps, sent[0]!, timeFor(ran, 5))).toBe('ended');
    expect(ran).toEqual(['a', 'b']);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'cancelled', request_counts: { total: 5, completed: 2, failed: 0 } });
    expect(Buffer.from(files.files.get(batch.output_file_id!)!.content).toString().trim().split('\n')).toHaveLength(2);
    expect(sent).toHaveLength(1);
  });

  it('a chunk whose store write fails throws (the queue handler reports the message for another delivery)', async () => {
    const { deps, id, ran } = await fixture();
    deps.parts = { ...deps.parts, putPart: async () => { throw new Error('S3 unreachable'); } } as BatchPartStore;
    await expect(runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 2))).rejects.toThrow('S3 unreachable');
  });

  it('an input file deleted after a chunk ran: the batch fails naming input_file_id, and what ran is in its output and error files (billed, audited: never dropped)', async () => {
    const { batches, files, deps, id, ran } = await fixture();
    await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, timeFor(ran, 3));
    const input = batches.items.get(id)!.batch.input_file_id;
    await files.delete('acme', input);
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 3 }, timeFor(ran, 5))).toBe('ended');
    expect(ran).toEqual(['a', 'b', 'c']);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'failed', request_counts: { total: 5, completed: 2, failed: 1 }, errors: { data: [{ code: 'file_not_found', param: 'input_file_id' }] } });
    expect(batch.failed_at).toBeGreaterThan(0);
    const ids = (fileId: string | null | undefined) => Buffer.from(files.files.get(fileId!)!.content).toString().trim().split('\n').map((l) => JSON.parse(l).custom_id);
    expect(ids(batch.output_file_id)).toEqual(['a', 'b']);
    expect(ids(batch.error_file_id)).toEqual(['c']);
    expect(batch.usage).toMatchObject({ input_tokens: 4, output_tokens: 2 });
    expect(files.parts.size).toBe(0);
  });
});
