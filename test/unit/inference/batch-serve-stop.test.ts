import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { scanBatchFile } from '../../../lambdas/inference/batches/batch-file-ranges.js';
import { runBatch, type BatchRequestResult } from '../../../lambdas/inference/batches/runner.js';
import { DirBatchFileStore, newBatchId, type BatchFile } from '../../../lambdas/inference/batches/stores.js';
import { MemoryBatches } from '../../support/batch-memory.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * `tessera serve` stopped mid-batch (Ctrl-C, SIGTERM) aborts its runs' `stopping` signal before it settles: no line is
 * started after it, and the batch is left unfinished for the next serve, which runs only the requests without an answer.
 * s43h: a stopping serve went on starting lines for up to 10 s while it settled (closeGateway waits for the requests in
 * flight, and a batch's lines are requests), so a serve restarted on the state dir meanwhile ran the batch a second
 * time: `request_counts` 208 completed of 200, 25 output lines twice.
 */
const CHAT = '/v1/chat/completions';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const chatLine = (i: number) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: CHAT, body: { model: 'm', messages: [{ role: 'user', content: `line ${i}` }] } });

/**
 * The files under `dir` this process holds open (Linux: /proc/self/fd). s47l: a run that stopped (or threw) before its
 * end left its output and error files' FileHandles open; garbage collection closed them later, with Node's DEP0137
 * warning written to whatever stderr was then in place (a CLI test's captured output, in a shared worker).
 */
function openUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) open.push(target);
    } catch {
      // closed meanwhile (the fd of readdirSync itself)
    }
  }
  return open;
}

/** A batch of `count` chat lines in a DirBatchFileStore (serve's, which appends answers as they end), not yet run. */
async function servedBatch(count: number) {
  const dir = tempDir('tessera-batch-stop-');
  dirs.push(dir);
  const files = new DirBatchFileStore(dir);
  const text = Array.from({ length: count }, (_, i) => `${chatLine(i)}\n`).join('');
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
  return { files, batches, id, dir };
}

describe('tessera serve stopped mid-batch: its runs start no line after the stop', () => {
  it('a run whose stopping signal is aborted starts no more line, leaves the batch unfinished, and the next run answers each request once', async () => {
    const { files, batches, id, dir } = await servedBatch(40);
    const stopping = new AbortController();
    const ran: string[] = [];
    let atStop = -1;
    const execute = async (_o: unknown, _u: string, _b: unknown, detail: { customId: string }): Promise<BatchRequestResult> => {
      ran.push(detail.customId);
      // The stop comes while the 10th request is in flight, others with it.
      if (ran.length === 10) {
        stopping.abort();
        atStop = ran.length;
      }
      await new Promise((done) => setImmediate(done));
      return { status: 200, requestId: `req_${detail.customId}`, body: JSON.stringify({ id: 'x', usage: { prompt_tokens: 2, completion_tokens: 1 } }) };
    };
    const first = await runBatch({ batches, files, concurrency: 4, execute, stopping: stopping.signal }, 'acme', id);
    expect(first).toBeUndefined();
    expect(ran).toHaveLength(atStop); // nothing started after the stop
    const left = (await batches.get('acme', id))!;
    expect(left.batch.status).toBe('in_progress');
    expect(left.appending).toBeDefined();
    // Its output file's bytes kept for the next run, not its file descriptor.
    expect(openUnder(dir)).toEqual([]);

    // The next serve: the stopped run's answers kept, only the others run.
    const before = ran.length;
    const done = await runBatch({ batches, files, concurrency: 4, execute: async (o, u, b, d) => execute(o, u, b, d) }, 'acme', id);
    expect(done?.status).toBe('completed');
    expect(done?.request_counts).toEqual({ total: 40, completed: 40, failed: 0 });
    expect(ran.length - before).toBe(40 - atStop);
    expect(new Set(ran).size).toBe(40);
    const output = Buffer.from((await files.content('acme', done!.output_file_id!))!).toString('utf8').trim().split('\n');
    expect(output).toHaveLength(40);
    expect(new Set(output.map((l) => (JSON.parse(l) as { custom_id: string }).custom_id)).size).toBe(40);
    expect(openUnder(dir)).toEqual([]);
  });

  it('a run that throws (a request whose execution threw) closes its output and error files, their lines kept for the next run', async () => {
    const { files, batches, id, dir } = await servedBatch(6);
    let n = 0;
    const execute = async (): Promise<BatchRequestResult> => {
      if (++n === 4) throw new Error('the upstream client threw');
      return { status: n === 2 ? 400 : 200, requestId: `req_${n}`, body: '{}' };
    };
    await expect(runBatch({ batches, files, concurrency: 1, execute }, 'acme', id)).rejects.toThrow('the upstream client threw');
    expect(openUnder(dir)).toEqual([]);
    const done = await runBatch({ batches, files, concurrency: 1, execute: async () => ({ status: 200, requestId: 'req_again', body: '{}' }) }, 'acme', id);
    expect(done?.request_counts).toEqual({ total: 6, completed: 5, failed: 1 });
    expect(openUnder(dir)).toEqual([]);
  });

  it('a stop before the run begins starts no line at all', async () => {
    const { files, batches, id } = await servedBatch(5);
    const ran: string[] = [];
    const stopping = new AbortController();
    stopping.abort();
    const execute = async (_o: unknown, _u: string, _b: unknown, detail: { customId: string }): Promise<BatchRequestResult> => {
      ran.push(detail.customId);
      return { status: 200, requestId: 'req_x', body: '{}' };
    };
    expect(await runBatch({ batches, files, execute, stopping: stopping.signal }, 'acme', id)).toBeUndefined();
    expect(ran).toEqual([]);
    expect((await batches.get('acme', id))!.batch.status).toBe('in_progress');
  });
});
