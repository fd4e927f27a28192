import { rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LINE_EDGE_BYTES, MAX_BATCH_LINE_BYTES, readBatchFile } from '../../../lambdas/inference/batches/input-file.js';
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

const chatLine = (customId: string, content: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: CHAT, body: { model: 'm', messages: [{ role: 'user', content }] } });

async function servedBatch(count: number, lines?: string[]) {
  const dir = tempDir('tessera-batch-windows-');
  dirs.push(dir);
  const files = new DirBatchFileStore(dir);
  const text = lines ? `${lines.join('\n')}\n` : Array.from({ length: count }, (_, i) => `${chatLine(`r${i}`, `line ${i}`)}\n`).join('');
  count = lines?.length ?? count;
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
  return { dir, files, file, scanned, batches, id, ran, deps: { batches, files, concurrency: 4, execute } };
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

  it('each answer is in the output or error file as it ends, not held to the end of the batch', async () => {
    const { dir, file, batches, id, ran, deps } = await servedBatch(10);
    const onDisk = async () => {
      const names = (await readdir(join(dir, 'acme'))).filter((n) => n.endsWith('.bin') && !n.startsWith(file.id));
      let lines = 0;
      for (const n of names) lines += (await readFile(join(dir, 'acme', n), 'utf8')).split('\n').filter(Boolean).length;
      return lines;
    };
    let before = -1;
    const execute = deps.execute;
    const ended = await runBatch({ ...deps, concurrency: 1, execute: async (...args: Parameters<typeof execute>) => {
      if (ran.length === 9) before = await onDisk();
      return execute(...args);
    } } as never, 'acme', id);
    expect(ended).toMatchObject({ status: 'completed', request_counts: { total: 10, completed: 10, failed: 0 } });
    // When the last line starts, the nine before it are in the output file already.
    expect(before).toBe(9);
    const output = (await readFile(join(dir, 'acme', `${ended!.output_file_id}.bin`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).custom_id);
    expect(output.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
    expect(batches.items.get(id)!.batch.output_file_id).toBe(ended!.output_file_id);
  });

  it(`a line past MAX_BATCH_LINE_BYTES (8 MiB) is counted, never read whole nor run: an error line request_too_large names it, by the custom_id at its start or end; the other lines run`, async () => {
    const padding = 'x'.repeat(MAX_BATCH_LINE_BYTES);
    const atStart = chatLine('huge-1', padding);
    // custom_id last: found in the line's last bytes.
    const atEnd = JSON.stringify({ method: 'POST', url: CHAT, body: { model: 'm', messages: [{ role: 'user', content: padding }] }, custom_id: 'huge-2' });
    const { files, scanned, id, ran, deps } = await servedBatch(0, [chatLine('a', 'one'), atStart, chatLine('b', 'two'), atEnd, chatLine('c', 'three')]);
    expect(scanned).toMatchObject({ total: 5, errors: [], model: 'm' });
    const parsed = vi.spyOn(JSON, 'parse');
    const ended = await runBatch(deps as never, 'acme', id);
    expect(parsed.mock.calls.some(([text]) => typeof text === 'string' && text.length > MAX_BATCH_LINE_BYTES)).toBe(false);
    parsed.mockRestore();
    expect([...ran].sort()).toEqual(['a', 'b', 'c']);
    expect(ended).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 3, failed: 2 } });
    const errors = Buffer.from((await files.content('acme', ended!.error_file_id!))!).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(errors.map((l) => [l.custom_id, l.response, l.error.code]).sort()).toEqual([['huge-1', null, 'request_too_large'], ['huge-2', null, 'request_too_large']]);
    expect(errors.find((l) => l.custom_id === 'huge-1').error.message).toContain(`line 2 of the input file is ${Buffer.byteLength(atStart)} bytes, over the ${MAX_BATCH_LINE_BYTES} bytes`);
  });

  it('a line past the bound with no custom_id at either end fails the batch at create, naming the line (readBatchFile and the scan alike)', async () => {
    const nameless = JSON.stringify({ method: 'POST', url: CHAT, body: { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(MAX_BATCH_LINE_BYTES) }] }, note: 'y'.repeat(LINE_EDGE_BYTES), custom_id: 'hidden', tail: 'z'.repeat(LINE_EDGE_BYTES) });
    const { scanned } = await servedBatch(0, [chatLine('a', 'one'), nameless]);
    expect(scanned.errors).toEqual([expect.objectContaining({ code: 'invalid_value', line: 2, message: expect.stringContaining('no custom_id was found in its first or last 8192 bytes') })]);
    const whole = readBatchFile(Buffer.from(`${chatLine('a', 'one')}\n${nameless}\n`), CHAT);
    expect(whole.errors).toEqual(scanned.errors);
    const named = readBatchFile(Buffer.from(`${chatLine('z', 'x'.repeat(MAX_BATCH_LINE_BYTES))}\n`), CHAT);
    expect(named).toMatchObject({ errors: [], lines: [{ line: 1, customId: 'z', tooLarge: expect.any(Number), body: {} }] });
  });
});

// s43i: the resumed file was opened in append mode, where Linux ignores a write's position: bytes past the kept lines
// (a write that failed half-way after the resume) stayed, and the next answer went on after them, in the same line.
describe('DirBatchFileStore.appendable resumed: appends go at the end of the kept lines', () => {
  it('an append after bytes a failed write left lands over them, at the kept length; a line the resume refuses is cut with those after it', async () => {
    const dir = tempDir('tessera-batch-appendable-');
    dirs.push(dir);
    const files = new DirBatchFileStore(dir);
    const id = `file-${'0'.repeat(23)}7`;
    const first = await files.appendable('acme', id);
    await first.append('{"custom_id":"a"}\n');
    // A serve stopped mid-batch: the file ended without a record, its bytes kept (s47l: this test left it open, and its
    // FileHandle's garbage collection later warned (DEP0137) into another file's captured stderr in the shared worker).
    await first.close();
    await first.close();
    expect(await readFile(join(dir, 'acme', `${id}.bin`), 'utf8')).toBe('{"custom_id":"a"}\n');
    expect(await files.get('acme', id)).toBeUndefined();
    const seen: string[] = [];
    const resumed = await files.appendable('acme', id, (line) => {
      seen.push(line);
    });
    expect(seen).toEqual(['{"custom_id":"a"}']);
    // What a write that failed half-way leaves past the kept bytes.
    const { appendFile } = await import('node:fs/promises');
    await appendFile(join(dir, 'acme', `${id}.bin`), '{"custom_id":"b","res');
    await resumed.append('{"custom_id":"c"}\n');
    await resumed.commit({ id, filename: 'out.jsonl', purpose: 'batch_output', bytes: 0, createdAt: 1, expiresAt: 2 });
    expect(await readFile(join(dir, 'acme', `${id}.bin`), 'utf8')).toBe('{"custom_id":"a"}\n{"custom_id":"c"}\n');

    const again = await files.appendable('acme', id, (line) => line !== '{"custom_id":"a"}');
    expect(again.bytes).toBe(0);
    await again.discard();
  });
});
