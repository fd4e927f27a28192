import type { BatchRequestResult } from '../../lambdas/inference/batches/runner.js';
import { newBatchId, type BatchFile, type BatchFileStore, type BatchOwner, type BatchPart, type BatchPartStore, type BatchStore, type StoredBatch } from '../../lambdas/inference/batches/stores.js';
import type { BatchMessage, BatchWorkerDeps } from '../../lambdas/inference/batches/worker.js';

// The Batch API worker's stores in memory, and a batch to run (test/unit/inference/batch-worker.test.ts, router-batch-queue.test.ts).

/** Batches in memory: update() reads, changes and writes with no await between (atomic in one process), as a conditional write is. */
export class MemoryBatches implements BatchStore {
  readonly items = new Map<string, StoredBatch>();
  async put(item: StoredBatch) { this.items.set(item.batch.id, structuredClone(item)); }
  async get(_t: string, id: string) { const i = this.items.get(id); return i && structuredClone(i); }
  async list() { return [...this.items.values()]; }
  async update(_t: string, id: string, change: (c: StoredBatch) => StoredBatch | undefined) {
    const current = this.items.get(id);
    if (!current) return undefined;
    const next = change(structuredClone(current));
    if (next) this.items.set(id, structuredClone(next));
    return structuredClone(next ?? current);
  }
}

export class MemoryFiles implements BatchFileStore, BatchPartStore {
  readonly files = new Map<string, { file: BatchFile; content: Uint8Array }>();
  readonly parts = new Map<number, BatchPart>();
  async put(_t: string, file: BatchFile, content: Uint8Array) { this.files.set(file.id, { file, content }); }
  async get(_t: string, id: string) { return this.files.get(id)?.file; }
  async list() { return [...this.files.values()].map((f) => f.file); }
  async content(_t: string, id: string) { return this.files.get(id)?.content; }
  async delete(_t: string, id: string) { return this.files.delete(id); }
  async putPart(_t: string, _b: string, cursor: number, part: BatchPart) { this.parts.set(cursor, part); }
  async getPart(_t: string, _b: string, cursor: number) { return this.parts.get(cursor); }
  async deleteParts(_t: string, _b: string, cursors: readonly number[]) { for (const c of cursors) this.parts.delete(c); }
}

const OWNER: BatchOwner = { tenantId: 'acme', userId: 'u1', role: 'developer' };
const INPUT = 'file-0000000000000000000000aa';
export const IDS = ['a', 'b', 'c', 'd', 'e'];

/** A batch of five chat requests, `validating`, its worker's dependencies (one request at a time), and what ran. */
export async function batchFixture(now = Math.floor(Date.now() / 1000)) {
  const batches = new MemoryBatches();
  const files = new MemoryFiles();
  const text = IDS.map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: id }] } })).join('\n');
  await files.put('acme', { id: INPUT, filename: 'in.jsonl', purpose: 'batch', bytes: text.length, createdAt: now, expiresAt: now + 86_400 }, Buffer.from(text));
  const id = newBatchId();
  await batches.put({
    owner: OWNER, outputTtlSeconds: 3600,
    batch: { id, object: 'batch', endpoint: '/v1/chat/completions', input_file_id: INPUT, completion_window: '24h', status: 'validating', created_at: now, expires_at: now + 86_400, request_counts: { total: 5, completed: 0, failed: 0 } },
  });
  const ran: string[] = [];
  const sent: BatchMessage[] = [];
  const deps: BatchWorkerDeps = {
    batches, files, parts: files, concurrency: 1,
    enqueue: async (m) => { sent.push(m); },
    execute: async (_owner, _url, _body, detail): Promise<BatchRequestResult> => {
      ran.push(detail.customId);
      const failed = detail.customId === 'c';
      return { status: failed ? 400 : 200, requestId: `req_${detail.customId}`, body: JSON.stringify(failed ? { error: { message: 'no' } } : { id: 'x', usage: { prompt_tokens: 2, completion_tokens: 1 } }) };
    },
  };
  return { batches, files, deps, id, ran, sent };
}

