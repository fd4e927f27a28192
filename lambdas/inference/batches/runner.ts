import { randomBytes } from 'node:crypto';
import { newFileId } from '../../fine-tuning/files-service.js';
import { readBatchFile, type BatchLine } from './input-file.js';
import { TERMINAL } from './batch-service.js';
import type { Batch, BatchFile, BatchFileStore, BatchOwner, BatchStore, StoredBatch } from './stores.js';

/** What one request of a batch answered: its status, its JSON body (OpenAI's error shape when refused) and its request id. */
export interface BatchRequestResult {
  status: number;
  body: string;
  requestId: string;
}

/**
 * Runs one request of a batch as a live call by the batch's owner: the gateway's own path after authentication
 * (Gateway.batchRequest: the owner's tenant and key re-read, role check, tenant policy, model routing, rate limits,
 * guardrails, budget reservation and settle, audit record with the batch id and custom_id). Never throws for a
 * refusal: it is the answer.
 */
export type ExecuteBatchRequest = (owner: BatchOwner, url: string, body: string, detail: { batchId: string; customId: string }, signal?: AbortSignal) => Promise<BatchRequestResult>;

/** What runBatch needs. */
export interface BatchRunnerDeps {
  batches: BatchStore;
  files: BatchFileStore;
  execute: ExecuteBatchRequest;
  /** Requests of one batch in flight at once. @default 4 */
  concurrency?: number;
  /** Seconds since the epoch. @default the system clock */
  now?: () => number;
}

/** The requests in flight of one batch at once by default. */
export const BATCH_CONCURRENCY = 4;

/** One line of an output or error file (OpenAI's "request output object"). */
interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/**
 * Runs a batch to its end: `validating` → `in_progress` → its requests, `concurrency` at a time, each through
 * `execute` (the gateway pipeline as the owner) → `finalizing` → the output file (the 2xx answers) and the error file
 * (every other answer, in OpenAI's error shape; and, for an expired batch, each request not run with code
 * `batch_expired`) as purpose `batch_output` files → `completed`. Before starting each request it reads the batch:
 * `cancelling` (POST /v1/batches/{id}/cancel) lets the requests in flight finish and runs no other, then `cancelled`
 * with the files of what ran; past `expires_at` (24 h) the same, then `expired`. A refusal of a request (a 400, a
 * guardrail's, a budget's 429) is a failed line with its answer, never a dropped one. Request counts are written as
 * requests end. The output's order is the order requests end, not the file's (OpenAI: match lines by custom_id).
 * Budgets are reserved per request as it runs (the pipeline's reserve and settle), never for the whole batch up front.
 * @returns the batch as it ended, or undefined when there is no such batch (or it had ended already)
 */
export async function runBatch(deps: BatchRunnerDeps, tenantId: string, id: string): Promise<Batch | undefined> {
  const clock = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const start = await deps.batches.update(tenantId, id, (c) => (c.batch.status === 'validating'
    ? { ...c, batch: { ...c.batch, status: 'in_progress', in_progress_at: clock() } } : undefined));
  if (!start || TERMINAL.has(start.batch.status)) return undefined;
  const { owner } = start;
  const content = await deps.files.content(tenantId, start.batch.input_file_id);
  const lines: BatchLine[] = content ? readBatchFile(content, start.batch.endpoint).lines : [];
  if (!content) {
    const failed = await deps.batches.update(tenantId, id, (c) => ({ ...c, batch: { ...c.batch, status: 'failed', failed_at: clock(), errors: { object: 'list', data: [{ code: 'file_not_found', message: `the input file ${c.batch.input_file_id} was deleted before the batch ran`, line: null, param: 'input_file_id' }] } } }));
    return failed?.batch;
  }
  const output: OutputLine[] = [];
  const errors: OutputLine[] = [];
  const usage = { input: 0, output: 0, cached: 0, reasoning: 0 };
  let next = 0;
  let stop: 'cancelling' | 'expired' | undefined;
  const worker = async () => {
    while (next < lines.length && !stop) {
      const current = await deps.batches.get(tenantId, id);
      if (current?.batch.status === 'cancelling') stop = 'cancelling';
      else if (clock() >= start.batch.expires_at!) stop = 'expired';
      if (stop) break;
      const line = lines[next++]!;
      const result = await deps.execute(owner, line.url, JSON.stringify(line.body), { batchId: id, customId: line.customId });
      let body: unknown;
      try {
        body = JSON.parse(result.body);
      } catch {
        body = result.body;
      }
      const out: OutputLine = { id: `batch_req_${randomBytes(12).toString('hex')}`, custom_id: line.customId, response: { status_code: result.status, request_id: result.requestId, body }, error: null };
      if (result.status >= 200 && result.status < 300) {
        output.push(out);
        addUsage(usage, body);
      } else errors.push(out);
      await deps.batches.update(tenantId, id, (c) => ({ ...c, batch: { ...c.batch, request_counts: { total: lines.length, completed: output.length, failed: errors.length } } }));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency ?? BATCH_CONCURRENCY, lines.length)) }, worker));
  if (stop === 'expired') {
    // OpenAI: requests not run within the completion window are written to the error file with code batch_expired.
    for (const line of lines.slice(next)) errors.push({ id: `batch_req_${randomBytes(12).toString('hex')}`, custom_id: line.customId, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } });
  }
  await deps.batches.update(tenantId, id, (c) => (c.batch.status === 'cancelling' ? undefined : { ...c, batch: { ...c.batch, status: 'finalizing', finalizing_at: clock() } }));
  const created = clock();
  const write = async (what: 'output' | 'error', rows: OutputLine[], ttl: number): Promise<string | undefined> => {
    if (!rows.length) return undefined;
    const file: BatchFile = { id: newFileId(), filename: `${id}_${what}.jsonl`, purpose: 'batch_output', bytes: 0, createdAt: created, expiresAt: created + ttl };
    const bytes = Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await deps.files.put(tenantId, { ...file, bytes: bytes.byteLength }, bytes);
    return file.id;
  };
  const outputFileId = await write('output', output, start.outputTtlSeconds);
  const errorFileId = await write('error', errors, start.outputTtlSeconds);
  const ended = await deps.batches.update(tenantId, id, (c: StoredBatch) => {
    const at = clock();
    const status = c.batch.status === 'cancelling' ? 'cancelled' : stop === 'expired' ? 'expired' : 'completed';
    return {
      ...c,
      batch: {
        ...c.batch, status, [`${status}_at`]: at,
        ...(outputFileId ? { output_file_id: outputFileId } : {}), ...(errorFileId ? { error_file_id: errorFileId } : {}),
        request_counts: { total: lines.length, completed: output.length, failed: errors.filter((e) => e.response).length },
        usage: { input_tokens: usage.input, input_tokens_details: { cached_tokens: usage.cached }, output_tokens: usage.output, output_tokens_details: { reasoning_tokens: usage.reasoning }, total_tokens: usage.input + usage.output },
      },
    };
  });
  return ended?.batch;
}

/** Adds an answer's usage: chat's and embeddings' `prompt_tokens` / `completion_tokens`, responses' `input_tokens` / `output_tokens`. */
function addUsage(sum: { input: number; output: number; cached: number; reasoning: number }, body: unknown): void {
  const u = (body as { usage?: Record<string, unknown> } | null)?.usage;
  if (!u) return;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  sum.input += n(u.prompt_tokens ?? u.input_tokens);
  sum.output += n(u.completion_tokens ?? u.output_tokens);
  sum.cached += n((u.prompt_tokens_details as Record<string, unknown> | undefined)?.cached_tokens ?? (u.input_tokens_details as Record<string, unknown> | undefined)?.cached_tokens);
  sum.reasoning += n((u.completion_tokens_details as Record<string, unknown> | undefined)?.reasoning_tokens ?? (u.output_tokens_details as Record<string, unknown> | undefined)?.reasoning_tokens);
}
