/**
 * Peak RSS of `tessera serve`'s batch path on a 200 MiB input file (session 42): batches.create's scan
 * (scanBatchFile) and the run (runBatch) over serve's DirBatchFileStore, every request answered at once by a stand-in
 * for the gateway (a chat completion of about 2 KiB), the batch records in memory. RSS is sampled every 5 ms; the
 * figure is the peak less the RSS before the file was written.
 *
 *   npx tsx test/bench/batch-serve-rss.ts many-lines   # 50,000 lines of about 4 KiB: the output's memory
 *   npx tsx test/bench/batch-serve-rss.ts one-line     # 4 small lines and one line of 200 MiB less them
 *   TESSERA_ROOT=/path/to/another/checkout npx tsx test/bench/batch-serve-rss.ts one-line   # the same on other code
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.env.TESSERA_ROOT ?? fileURLToPath(new URL('../..', import.meta.url)));
const MiB = 1024 * 1024;
const FILE_BYTES = 200 * MiB;
const CHAT = '/v1/chat/completions';

async function main(): Promise<void> {
  const scenario = process.argv[2] ?? 'many-lines';
  if (!['many-lines', 'one-line'].includes(scenario)) throw new Error(`scenario many-lines or one-line, not ${scenario}`);
  const { DirBatchFileStore, newBatchId } = await import(join(root, 'lambdas/inference/batches/stores.js'));
  const { scanBatchFile } = await import(join(root, 'lambdas/inference/batches/batch-file-ranges.js'));
  const { runBatch } = await import(join(root, 'lambdas/inference/batches/runner.js'));
  const { MemoryBatches } = await import(join(root, 'test/support/batch-memory.js'));

  const dir = mkdtempSync(join(tmpdir(), 'tessera-batch-rss-'));
  try {
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
    const files = new DirBatchFileStore(dir);
    const line = (id: string, content: string) => JSON.stringify({ custom_id: id, method: 'POST', url: CHAT, body: { model: 'm', messages: [{ role: 'user', content }] } });
    // The input, written to its .bin in pieces (the file's bytes never held whole here).
    const now = Math.floor(Date.now() / 1000);
    const fileId = 'file-0123456789abcdef0123abcd';
    const small = [line('a', 'one'), line('b', 'two'), line('c', 'three'), line('d', 'four')];
    const { open } = await import('node:fs/promises');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(dir, 'acme'), { recursive: true });
    const handle = await open(join(dir, 'acme', `${fileId}.bin`), 'w');
    let bytes = 0;
    let total = 0;
    const put = async (text: string) => { await handle.write(text); bytes += Buffer.byteLength(text); };
    if (scenario === 'many-lines') {
      const filler = 'w'.repeat(4 * 1024 - 120);
      for (total = 0; bytes + 4 * 1024 < FILE_BYTES && total < 50_000; total++) await put(`${line(`r${total}`, filler)}\n`);
    } else {
      for (const l of small.slice(0, 2)) await put(`${l}\n`);
      const head = `{"custom_id":"huge","method":"POST","url":"${CHAT}","body":{"model":"m","messages":[{"role":"user","content":"`;
      const tail = '"}]}}\n';
      const fill = FILE_BYTES - bytes - head.length - tail.length - Buffer.byteLength(`${small[2]}\n${small[3]}\n`);
      await put(head);
      const piece = 'x'.repeat(MiB);
      for (let left = fill; left > 0; left -= MiB) await put(left >= MiB ? piece : piece.slice(0, left));
      await put(tail);
      for (const l of small.slice(2)) await put(`${l}\n`);
      total = 5;
    }
    await handle.close();
    const file = { id: fileId, filename: 'in.jsonl', purpose: 'batch', bytes, createdAt: now, expiresAt: now + 86_400 };
    await writeFile(join(dir, 'acme', `${fileId}.json`), JSON.stringify(file));
    const written = process.memoryUsage().rss;

    const started = performance.now();
    const scanned = await scanBatchFile((offset: number) => files.open('acme', fileId, offset, file), bytes, CHAT);
    const batches = new MemoryBatches();
    const id = newBatchId();
    await batches.put({
      owner: { tenantId: 'acme', userId: 'u1', role: 'developer' }, outputTtlSeconds: 3600, inputBlocks: scanned.blocks,
      batch: { id, object: 'batch', endpoint: CHAT, input_file_id: fileId, completion_window: '24h', status: 'validating', created_at: now, expires_at: now + 86_400, request_counts: { total: scanned.total, completed: 0, failed: 0 } },
    });
    const answer = (customId: string) => JSON.stringify({ id: `chatcmpl-${customId}`, object: 'chat.completion', created: now, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'z'.repeat(2000) }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
    const ended = await runBatch({ batches, files, concurrency: 4, execute: async (_o: unknown, _u: string, body: string, detail: { customId: string }) => (
      // What Gateway.batchRequest answers a body over gateway.maxRequestBytes (1 MiB by default): a 413, not run.
      Buffer.byteLength(body) > MiB ? { status: 413, requestId: 'req_x', body: JSON.stringify({ error: { message: 'too large', type: 'invalid_request_error', code: 'request_too_large', param: null } }) }
        : { status: 200, requestId: `req_${detail.customId}`, body: answer(detail.customId) }) }, 'acme', id);
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({
      scenario, root, inputBytes: bytes, lines: total, scanned: scanned.total, scanErrors: scanned.errors.length,
      status: ended?.status, counts: ended?.request_counts,
      baselineMiB: +(baseline / MiB).toFixed(1), afterWriteMiB: +(written / MiB).toFixed(1), peakMiB: +(peak / MiB).toFixed(1),
      peakOverBaselineMiB: +((peak - baseline) / MiB).toFixed(1), seconds: +seconds.toFixed(1),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
