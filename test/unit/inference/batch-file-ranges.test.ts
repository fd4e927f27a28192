import { Readable } from 'node:stream';
import { GetObjectCommand, GetObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { BLOCK_REQUESTS, rawLines, scanBatchFile, type OpenBatchFile, type RawLine } from '../../../lambdas/inference/batches/batch-file-ranges.js';
import { MAX_LISTED_ERRORS, readBatchFile } from '../../../lambdas/inference/batches/input-file.js';
import { S3BatchFileStore } from '../../../lambdas/inference/batches/s3-batch-file-store.js';
import { newBatchId, type BatchFile } from '../../../lambdas/inference/batches/stores.js';
import { runBatchChunk, type BatchWorkerDeps } from '../../../lambdas/inference/batches/worker.js';
import type { TenantDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { MemoryBatches, MemoryFiles } from '../../support/batch-memory.js';

const CHAT = '/v1/chat/completions';
const chat = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ custom_id: id, method: 'POST', url: CHAT, body: { model: 'm', messages: [{ role: 'user', content: id }], ...extra } });

/** `text`'s bytes from `offset` in pieces of `size` bytes. */
const pieces = (bytes: Buffer, offset: number, size: number) => Readable.from((function* () {
  for (let at = offset; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
})());
const openOf = (bytes: Buffer, size: number): OpenBatchFile => async (offset) => pieces(bytes, offset, size);

describe('batches.create reading the input file as a stream (scanBatchFile) judges it as readBatchFile judges it whole', () => {
  const bad = [
    `\uFEFF${chat('a')}\r\n\r\n${chat('b')}\n`,
    `${chat('a')}\n{not json\n[1]\n${chat('a')}\n`,
    `${chat('a')}\n${JSON.stringify({ custom_id: 'b', method: 'GET', url: CHAT, body: {} })}\n${JSON.stringify({ custom_id: 'c', method: 'POST', url: '/v1/embeddings', body: { model: 'm' } })}\n`,
    `${chat('a')}\n${JSON.stringify({ custom_id: 'b', method: 'POST', url: CHAT, body: { model: 'other' } })}\n${chat('c', { stream: true })}\n${JSON.stringify({ custom_id: 'd', method: 'POST', url: CHAT, body: {} })}\n`,
    `${JSON.stringify({ custom_id: 'a', method: 'POST', url: CHAT, body: { model: 'm' }, extra: 1 })}\n${JSON.stringify({ custom_id: '', method: 'POST', url: CHAT, body: { model: 'm' } })}\n${JSON.stringify({ custom_id: 'x', url: CHAT, body: {} })}`,
    '\n\n  \n',
    Array.from({ length: MAX_LISTED_ERRORS + 5 }, (_, i) => `{bad ${i}`).join('\n'),
  ];

  it.each(bad.map((text, i) => [i, text]))('file %i: the same errors (code, message, line, param), model and request count, whatever the stream\'s pieces', async (_i, text) => {
    const bytes = Buffer.from(text);
    const whole = readBatchFile(new Uint8Array(bytes), CHAT);
    for (const size of [1, 3, 64, 1 << 16]) {
      const read = await scanBatchFile(openOf(bytes, size), bytes.byteLength, CHAT);
      expect(read).toMatchObject({ errors: whole.errors, model: whole.model, total: whole.lines.length });
    }
  });

  it('over 200 MiB (the record\'s bytes): file_too_large naming input_file_id, nothing read', async () => {
    const read = await scanBatchFile(async () => { throw new Error('read'); }, 209_715_201, CHAT);
    expect(read!.errors).toEqual(readBatchFile({ byteLength: 209_715_201 } as Uint8Array, CHAT).errors);
    expect(read!.errors).toMatchObject([{ code: 'file_too_large', param: 'input_file_id' }]);
  });
});

/** A batch input file of `count` lines of about 4 KiB each in a fake S3 (GetObject honouring `Range: bytes=<n>-`), and what was read of it. */
function s3File(count: number) {
  const text = Array.from({ length: count }, (_, i) => chat(`r${i}`, { user: 'x'.repeat(4000) })).join('\n') + '\n';
  const bytes = Buffer.from(text);
  const now = Math.floor(Date.now() / 1000);
  const file: BatchFile = { id: 'file-0000000000000000000000bb', filename: 'big.jsonl', purpose: 'batch', bytes: bytes.byteLength, createdAt: now, expiresAt: now + 86_400 };
  const ranges: Array<string | undefined> = [];
  let streamed = 0;
  const s3 = {
    send: async (command: unknown) => {
      if (!(command instanceof GetObjectCommand)) throw new Error(`unexpected ${String(command)}`);
      const input = command.input as GetObjectCommandInput;
      ranges.push(input.Range);
      const offset = Number(/^bytes=(\d+)-$/.exec(input.Range ?? '')?.[1] ?? 0);
      return { Body: Readable.from((function* () {
        for (let at = offset; at < bytes.byteLength; at += 65_536) {
          const piece = bytes.subarray(at, at + 65_536);
          streamed += piece.byteLength;
          yield piece;
        }
      })(), { highWaterMark: 1 }) };
    },
  } as unknown as S3Client;
  const state = { deleted: false };
  const doc = { send: async (command: unknown) => (command instanceof GetCommand && !state.deleted ? { Item: { kind: 'batch-file', file: JSON.stringify(file) } } : {}) };
  const store = new S3BatchFileStore('bucket', 'table', async () => s3, (async () => doc) as unknown as TenantDocumentClient);
  return { bytes, file, store, ranges, streamed: () => streamed, state };
}

/**
 * s3File(count)'s file scanned as batches.create scans it, and its batch stored `in_progress` with those blocks:
 * `counts` are the progress's and the batch's request_counts (total = count; `counted`, the request_counts' completed,
 * when it differs), `progress` the rest of the progress,
 * `times` the batch's created_at and expires_at (default: now and a day later).
 */
async function storedBatch(count: number, counts: { completed: number; failed?: number; counted?: number }, progress: { cursor: number; pending?: number[]; unsent?: boolean }, times?: { created_at: number; expires_at: number }) {
  const file = s3File(count);
  const scanned = (await scanBatchFile((offset) => file.store.open('acme', file.file.id, offset, file.file), file.file.bytes, CHAT))!;
  const batches = new MemoryBatches();
  const id = newBatchId();
  const now = Math.floor(Date.now() / 1000);
  const failed = counts.failed ?? 0;
  await batches.put({
    owner: { tenantId: 'acme', userId: 'u1', role: 'developer' }, outputTtlSeconds: 3600, inputBlocks: scanned.blocks,
    batch: { id, object: 'batch', endpoint: CHAT, input_file_id: file.file.id, completion_window: '24h', status: 'in_progress', ...(times ?? { created_at: now, expires_at: now + 86_400 }), request_counts: { total: count, completed: counts.counted ?? counts.completed, failed } },
    progress: { leaseUntil: 0, completed: counts.completed, failed, usage: { input: 0, output: 0, cached: 0, reasoning: 0 }, parts: [], ...progress },
  });
  return { ...file, scanned, batches, id };
}

describe('a large batch file on AWS is read in ranges (S3 GetObject Range), never whole', () => {
  it('create streams it once and records where each block of 1,000 requests starts; a chunk reads only its window from its block\'s offset and the line left waiting from that one\'s', async () => {
    // Earlier chunks ran lines 0 to 2,099 but 1,500, which waits for a rate limit.
    const { bytes, store, ranges, streamed, scanned, batches, id } = await storedBatch(2_600, { completed: 2_099 }, { cursor: 2_100, pending: [1_500] });
    expect(ranges).toEqual(['bytes=0-']);
    expect(scanned.errors).toEqual([]);
    expect(scanned.total).toBe(2_600);
    const lineAt = (offset: number) => JSON.parse(bytes.subarray(offset, bytes.indexOf(0x0a, offset)).toString()).custom_id;
    expect(scanned.blocks.map((b) => [b.index, b.line, lineAt(b.offset)])).toEqual([[0, 1, 'r0'], [BLOCK_REQUESTS, 1_001, 'r1000'], [2 * BLOCK_REQUESTS, 2_001, 'r2000']]);
    const parts = new MemoryFiles();
    const ran: string[] = [];
    const sent: unknown[] = [];
    const deps: BatchWorkerDeps = {
      batches, files: store, parts, concurrency: 1, enqueue: async (m) => { sent.push(m); },
      execute: async (_o, _u, _b, detail) => { ran.push(detail.customId); return { status: 200, requestId: 'r', body: '{}' }; },
    };
    ranges.length = 0;
    const before = streamed();
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 2_100 }, () => 900_000, { windowBytes: 64 * 1024 })).toBe('ran');
    // The waiting line from its block (line 1,001 on), then the window from the block of line 2,001: never from byte 0.
    expect(ranges).toEqual([`bytes=${scanned.blocks[1]!.offset}-`, `bytes=${scanned.blocks[2]!.offset}-`]);
    // A window of 64 KiB holds 16 lines of about 4 KiB: those ran, and the next chunk's message starts after them.
    expect(ran).toEqual(['r1500', ...Array.from({ length: 16 }, (_, i) => `r${2_100 + i}`)]);
    expect(sent).toEqual([{ tenantId: 'acme', batchId: id, cursor: 2_116, chunk: 1 }]);
    expect(streamed() - before).toBeLessThan(bytes.byteLength / 2);
  });

  it('lines left waiting in the same block are read by one stream of that block (four waiting lines in two blocks: two ranged reads, not four)', async () => {
    const { store, ranges, scanned, batches, id } = await storedBatch(2_600, { completed: 2_096 }, { cursor: 2_100, pending: [300, 1_200, 1_500, 1_999] });
    const ran: string[] = [];
    const deps: BatchWorkerDeps = {
      batches, files: store, parts: new MemoryFiles(), concurrency: 1, enqueue: async () => undefined,
      execute: async (_o, _u, _b, detail) => { ran.push(detail.customId); return { status: 200, requestId: 'r', body: '{}' }; },
    };
    ranges.length = 0;
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 2_100 }, () => 900_000, { windowBytes: 4 * 1024 })).toBe('ran');
    expect(ranges).toEqual([`bytes=${scanned.blocks[0]!.offset}-`, `bytes=${scanned.blocks[1]!.offset}-`, `bytes=${scanned.blocks[2]!.offset}-`]);
    expect(ran).toEqual(['r300', 'r1200', 'r1500', 'r1999', 'r2100']);
  });

  it('a batch past expires_at: its chunk lists every line not run as batch_expired, read as a stream from the cursor\'s block', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { store, ranges, scanned, batches, id } = await storedBatch(1_200, { completed: 1_150, counted: 0 }, { cursor: 1_150 }, { created_at: now - 90_000, expires_at: now - 3_600 });
    const parts = new MemoryFiles();
    const deps: BatchWorkerDeps = {
      batches, files: store, parts, enqueue: async () => undefined,
      execute: async () => { throw new Error('an expired batch runs nothing'); },
    };
    ranges.length = 0;
    // The output files go to `store` (S3 PutObject): kept in memory here instead.
    const written: string[] = [];
    store.put = async (_t, _f, content) => { written.push(Buffer.from(content).toString()); };
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 1_150 }, () => 900_000)).toBe('ended');
    expect(ranges.every((r) => r === `bytes=${scanned.blocks[1]!.offset}-`)).toBe(true);
    const expired = written.join('').trim().split('\n').map((l) => JSON.parse(l));
    expect(expired.map((l) => l.custom_id)).toEqual(Array.from({ length: 50 }, (_, i) => `r${1_150 + i}`));
    expect(expired.every((l) => l.error.code === 'batch_expired')).toBe(true);
    expect(batches.items.get(id)!.batch.status).toBe('expired');
  });

  it('the chunk that ends a batch whose every line ran reads no line, and still finds its input deleted: the batch fails with file_not_found naming input_file_id', async () => {
    const { store, ranges, state, batches, id } = await storedBatch(10, { completed: 10 }, { cursor: 10, unsent: true });
    const parts = new MemoryFiles();
    state.deleted = true;
    ranges.length = 0;
    const deps: BatchWorkerDeps = { batches, files: store, parts, enqueue: async () => undefined, execute: async () => { throw new Error('no line runs'); } };
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 10 }, () => 900_000)).toBe('ended');
    expect(ranges).toEqual([]);
    expect(batches.items.get(id)!.batch).toMatchObject({ status: 'failed', errors: { data: [{ code: 'file_not_found', param: 'input_file_id' }] } });
  });
});

describe('rawLines holds no line past its bound: only its first and last bytes (RawLine.edges)', () => {
  it('whatever the chunks\' sizes, with or without a final newline: the lines, their offsets, and each long line\'s length and ends', async () => {
    const texts = ['short', 'x'.repeat(25), '', 'abcdefghij', 'abcdefghijk', `${'y'.repeat(40)}END`, 'last'];
    const shown = (l: RawLine) => (l.edges ? `long ${l.edges.bytes} ${l.edges.head.slice(0, 3)}…${l.edges.tail.slice(-3)}` : l.text);
    const want = texts.map((t) => (t.length > 10 ? `long ${t.length} ${t.slice(0, 3)}…${t.slice(-3)}` : t));
    const offsets = texts.map((_, i) => texts.slice(0, i).reduce((n, t) => n + t.length + 1, 0));
    for (const end of ['\n', '']) {
      const whole = Buffer.from(`${texts.join('\n')}${end}`);
      for (let size = 1; size <= whole.length; size++) {
        const chunks = Array.from({ length: Math.ceil(whole.length / size) }, (_, i) => whole.subarray(i * size, (i + 1) * size));
        const out: RawLine[] = [];
        for await (const l of rawLines((async function* () { yield* chunks; })(), { offset: 0, line: 1 }, 10)) out.push(l);
        expect(out.map(shown)).toEqual(want);
        expect(out.map((l) => l.offset)).toEqual(offsets);
        expect(out.map((l) => l.line)).toEqual(texts.map((_, i) => i + 1));
      }
    }
  });
});
