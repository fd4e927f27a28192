import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { scanBatchFile } from '../../../lambdas/inference/batches/batch-file-ranges.js';
import { runBatch, type BatchRequestResult } from '../../../lambdas/inference/batches/runner.js';
import { DirBatchFileStore, newBatchId, type BatchFile } from '../../../lambdas/inference/batches/stores.js';
import { MemoryBatches } from '../../support/batch-memory.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * `tessera serve` reads a batch's input as the AWS worker does: DirBatchFileStore.open streams the file from an offset
 * (batches.create scans it, recording its blocks), and runBatch runs it window by window (beginBatch reading up to
 * `windowBytes` of lines from its block's offset), never calling `content` (the whole file).
 */
const CHAT = '/v1/chat/completions';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function servedBatch(count: number) {
  const dir = tempDir('tessera-batch-windows-');
  dirs.push(dir);
  const files = new DirBatchFileStore(dir);
  const text = Array.from({ length: count }, (_, i) => `${JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: CHAT, body: { model: 'm', messages: [{ role: 'user', content: `line ${i}` }] } })}\n`).join('');
  const now = Math.floor(Date.now() / 1000);
  const file: BatchFile = { id: 'file-0123456789abcdef0123abcd', filename: 'in.jsonl', purpose: 'batch', bytes: Buffer.byteLength(text), createdAt: now, expiresAt: now + 86_400 };
  await files.put('acme', file, Buffer.from(text));
  const scanned = (await scanBatchFile((offset) => files.open('acme', file.id, offset, file), file.bytes, CHAT))!;
  const batches = new MemoryBatches();
  const id = newBatchId();
  await batches.put({
    owner: { tenantId: 'acme', userId: 'u1', role: 'developer' }, outputTtlSeconds: 3600, inputBlocks: scanned.blocks,
    batch: { id, object: 'batch', endpoint: CHAT, input_file_id: file.id, completion_window: '24h', status: 'validating', created_at: now, expires_at: now + 86_400, request_counts: { total: count, completed: 0, failed: 0 } },
  });
  const ran: string[] = [];
  const execute = async (_o: unknown, _u: string, _b: unknown, detail: { customId: string }): Promise<BatchRequestResult> => {
    ran.push(detail.customId);
    return { status: 200, requestId: `req_${detail.customId}`, body: JSON.stringify({ id: 'x', usage: { prompt_tokens: 2, completion_tokens: 1 } }) };
  };
  return { files, file, scanned, batches, id, ran, deps: { batches, files, concurrency: 4, execute } };
}

describe('tessera serve runs a batch from its input file in windows, never reading it whole', () => {
  it('DirBatchFileStore.open streams from an offset (empty past the end; undefined for no such file)', async () => {
    const { files, file } = await servedBatch(3);
    const read = async (offset: number) => {
      const chunks: Buffer[] = [];
      for await (const c of (await files.open('acme', file.id, offset))!) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks).toString('utf8');
    };
    const whole = Buffer.from((await files.content('acme', file.id))!).toString('utf8');
    expect(await read(10)).toBe(whole.slice(10));
    expect(await read(file.bytes + 5)).toBe('');
    expect(await files.open('acme', 'file-ffffffffffffffffffffffff', 0)).toBeUndefined();
    expect(await files.open('globex', file.id, 0)).toBeUndefined();
  });

  it('a batch of 2,500 lines runs in windows of 64 KiB: every line once, the counts and the output complete, the file never read whole', async () => {
    const { files, scanned, batches, id, ran, deps } = await servedBatch(2_500);
    expect(scanned.blocks!.length).toBe(3);
    const whole = vi.spyOn(files, 'content');
    const opened = vi.spyOn(files, 'open');
    const ended = await runBatch(deps as never, 'acme', id, 64 * 1024);
    expect(ended).toMatchObject({ status: 'completed', request_counts: { total: 2_500, completed: 2_500, failed: 0 } });
    expect(new Set(ran).size).toBe(2_500);
    expect(ran).toHaveLength(2_500);
    // The input: only ranges (content is read once, for the output file written at the end, never the input).
    expect(whole.mock.calls.filter(([, fileId]) => fileId === batches.items.get(id)!.batch.input_file_id)).toHaveLength(0);
    expect(opened.mock.calls.length).toBeGreaterThan(3);
    const output = Buffer.from((await files.content('acme', ended!.output_file_id!))!).toString('utf8').trim().split('\n');
    expect(output).toHaveLength(2_500);
  });
});
