import { describe, expect, it } from 'vitest';
import type { BatchRequestResult } from '../../../lambdas/inference/batches/runner.js';
import { runBatch } from '../../../lambdas/inference/batches/runner.js';
import { runBatchChunk } from '../../../lambdas/inference/batches/worker.js';
import { batchFixture } from '../../support/batch-memory.js';

const REFUSAL = { code: 'tenant_not_active', message: 'tenant "acme" is SUSPENDED; the gateway serves ACTIVE and UPDATING tenants only' };

/**
 * The batch fixture's five lines, whose owner's tenant is suspended once `servedLines` lines have run: from then on
 * every line is refused as Gateway.batchRequest refuses it (403 `tenant_not_active`, `ownerRefused`, no upstream call).
 */
async function suspendedFixture(servedLines: number) {
  const f = await batchFixture();
  const execute = f.deps.execute;
  const refused: string[] = [];
  f.deps.execute = async (...args): Promise<BatchRequestResult> => {
    if (f.ran.length < servedLines) return execute(...args);
    refused.push(args[3].customId);
    return { status: 403, requestId: `req_${args[3].customId}`, body: JSON.stringify({ error: { message: REFUSAL.message, type: 'permission_error', code: REFUSAL.code, param: null } }), ownerRefused: REFUSAL };
  };
  const lines = (fileId: string | null | undefined) => Buffer.from(f.files.files.get(fileId!)!.content).toString().trim().split('\n').map((l) => JSON.parse(l));
  return { ...f, refused, lines };
}

describe('a batch whose tenant is suspended or offboarded while it runs ends failed, no line run after the refusal', () => {
  it('the AWS worker: the chunk after the suspension runs one refused line, fails the batch (errors.data tenant_not_active), writes the files of what ran and every line not run, sends no message, deletes its parts', async () => {
    const { batches, files, deps, id, ran, refused, sent, lines } = await suspendedFixture(2);
    // Chunk 1 runs a and b, then its time is up: a message for the rest.
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => (ran.length >= 2 ? 1_000 : 900_000), { marginMs: 120_000 })).toBe('ran');
    expect(ran).toEqual(['a', 'b']);
    expect(sent).toHaveLength(1);
    // The tenant is suspended meanwhile: chunk 2's first line is refused as its owner's; no other line starts.
    expect(await runBatchChunk(deps, sent[0]!, () => 900_000, { marginMs: 0 })).toBe('ended');
    expect(refused).toEqual(['c']);
    expect(sent).toHaveLength(1);
    expect(files.parts.size).toBe(0);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'failed', request_counts: { total: 5, completed: 2, failed: 1 }, usage: { input_tokens: 4, output_tokens: 2 }, errors: { object: 'list', data: [{ code: 'tenant_not_active', message: REFUSAL.message, line: null, param: null }] } });
    expect(batch.failed_at).toBeGreaterThan(0);
    expect(batch.finalizing_at ?? null).toBeNull();
    expect(lines(batch.output_file_id).map((l) => l.custom_id)).toEqual(['a', 'b']);
    expect(lines(batch.error_file_id).map((l) => [l.custom_id, l.response?.status_code ?? null, l.error?.code ?? null])).toEqual([['c', 403, null], ['d', null, 'tenant_not_active'], ['e', null, 'tenant_not_active']]);
    // A late duplicate of the message finds the batch ended: nothing runs.
    expect(await runBatchChunk(deps, sent[0]!, () => 900_000, { marginMs: 0 })).toBe('skipped');
    expect(refused).toEqual(['c']);
  });

  it('tessera serve (runBatch): the first refused line stops the batch, failed with the lines not run in the error file', async () => {
    const { batches, deps, id, ran, refused, lines } = await suspendedFixture(1);
    const ended = await runBatch(deps, 'acme', id);
    expect(ran).toEqual(['a']);
    expect(refused).toEqual(['b']);
    expect(ended).toMatchObject({ status: 'failed', request_counts: { total: 5, completed: 1, failed: 1 }, errors: { data: [{ code: 'tenant_not_active' }] } });
    expect(batches.items.get(id)!.batch.status).toBe('failed');
    expect(lines(ended!.error_file_id).map((l) => [l.custom_id, l.error?.code ?? l.response.status_code])).toEqual([['b', 403], ['c', 'tenant_not_active'], ['d', 'tenant_not_active'], ['e', 'tenant_not_active']]);
  });

  it('a cancel made before the refusal wins: the batch ends cancelled, not failed', async () => {
    const { batches, deps, id, refused } = await suspendedFixture(0);
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, status: 'in_progress' } }));
    // The cancel lands while the refused line is in flight.
    const execute = deps.execute;
    deps.execute = async (...args) => {
      await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, status: 'cancelling', cancelling_at: 1 } }));
      return execute(...args);
    };
    const ended = await runBatch(deps, 'acme', id);
    expect(refused).toEqual(['a']);
    expect(ended).toMatchObject({ status: 'cancelled', request_counts: { total: 5, completed: 0, failed: 1 } });
  });
});
