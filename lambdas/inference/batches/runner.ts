import { randomBytes } from 'node:crypto';
import { newFileId } from '../../fine-tuning/files-service.js';
import { MAX_BATCH_LINE_BYTES, readBatchFile, type BatchLine } from './input-file.js';
import { customIdsFrom, readBatchLines, readBatchLinesAt, WINDOW_BYTES } from './batch-file-ranges.js';
import { TERMINAL } from './batch-service.js';
import { batchUpstreamWaitMs, type LineRetry } from './line-retry.js';
import type { OwnerRefusal } from '../owner-refusal.js';
import { BatchOutputFile, type OutputLine } from './output-file.js';
import type { Batch, BatchFile, BatchFileStore, BatchOwner, BatchStore, StoredBatch, UsageSum } from './stores.js';

/** What one request of a batch answered: its status, its JSON body (OpenAI's error shape when refused) and its request id. */
export interface BatchRequestResult {
  status: number;
  body: string;
  requestId: string;
  /**
   * Set when the refusal is a rate limit the line waits for and runs again (line-retry.ts lineRetryOf): the gateway's
   * own minute or hour window, an upstream's 429 throttle. @default - the answer is the line's
   */
  retry?: LineRetry;
  /**
   * Set when the refusal is of the batch's owner itself, before any upstream call (Gateway.batchRequest's
   * Authorizer.callerOf): its tenant suspended, offboarding, offboarded or gone (403 `tenant_not_active` /
   * `unknown_tenant`), or the API key that created the batch revoked, expired or deleted (401). No later line of the
   * batch can be served either: runLines starts none (`stop: 'owner_refused'`) and the batch ends `failed`
   * (BatchFailure). @default - the refusal is this line's only
   */
  ownerRefused?: BatchFailure;
}

/**
 * Why a running batch ended `failed` (OpenAI's Batch object `errors.data[]`: `code`, `message`): its owner refused
 * (BatchRequestResult.ownerRefused), with the code of the refusal (`tenant_not_active`, `unknown_tenant`,
 * `api_key_revoked`, ...). The lines not run are in the error file with this code.
 */
export type BatchFailure = OwnerRefusal;

/**
 * Runs one request of a batch as a live call by the batch's owner: the gateway's own path after authentication
 * (Gateway.batchRequest: the owner's tenant and key re-read, role check, tenant policy, model routing, rate limits,
 * guardrails, budget reservation and settle, audit record with the batch id and custom_id). Never throws for a
 * refusal: it is the answer.
 */
export type ExecuteBatchRequest = (owner: BatchOwner, url: string, body: string, detail: BatchRequestDetail, signal?: AbortSignal) => Promise<BatchRequestResult>;

/** Which batch and line a request is (ExecuteBatchRequest), and the tags it runs with. */
export interface BatchRequestDetail {
  batchId: string;
  /** The line's `custom_id`. */
  customId: string;
  /** The batch's tags (StoredBatch.tags: its create's `x-tessera-tags`), on the request's record and counted in its usage by tag. @default - none */
  tags?: readonly string[];
}

/** What runBatch needs. */
export interface BatchRunnerDeps {
  batches: BatchStore;
  files: BatchFileStore;
  execute: ExecuteBatchRequest;
  /** Requests of one batch in flight at once. @default 4 */
  concurrency?: number;
  /** Seconds since the epoch. @default the system clock */
  now?: () => number;
  /** Epoch milliseconds. @default Date.now */
  nowMs?: () => number;
  /** Waits `ms` milliseconds (a line's wait for a rate limit's window, BATCH_WAIT_STEP_MS at a time). @default a timer */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Aborted when the process running the batch stops (`tessera serve`'s Ctrl-C or SIGTERM): no line is started after
   * it (a line waiting for a rate limit stops waiting), the lines in flight end and are written, and runBatch leaves
   * the batch unfinished, as last written, for the next serve to resume. Without it a stopping serve went on starting
   * lines while it settled, and a serve restarted meanwhile ran the batch a second time. @default never aborted
   */
  stopping?: AbortSignal;
}

/**
 * The longest a waiting line sleeps between two looks at the clock and the batch (cancelling, past `expires_at`):
 * a cancel is seen within it, and a wait ends on time when the clock moves otherwise than the timer.
 */
export const BATCH_WAIT_STEP_MS = 1_000;

/** The requests in flight of one batch at once by default. */
export const BATCH_CONCURRENCY = 4;

export type { OutputLine } from './output-file.js';

/** What runLines ran: the answers of lines `[from, next)`, in the order they ended. */
export interface LinesRun {
  /** The 2xx answers. */
  output: OutputLine[];
  /** Every other answer, in OpenAI's error shape. */
  errors: OutputLine[];
  /** The 2xx answers of this call (in `output`, or handed to the sink). */
  completed: number;
  /** The other answers of this call (in `errors`, or handed to the sink). */
  failed: number;
  usage: UsageSum;
  /** The index of the first line not started (every line before it has ended, but those of `pending`). */
  next: number;
  /**
   * Lines started and not answered: each was waiting for a rate limit (BatchRequestResult.retry) when the run stopped
   * (0-based indexes). The AWS worker runs them first in its next chunk; an expired batch lists them as `batch_expired`.
   */
  pending: number[];
  /** Epoch ms at which the earliest line of `pending` may run again (the AWS worker delays its next message until then). */
  retryAtMs?: number;
  /** The most upstream throttles in a row of a line of `pending` (BatchProgress.upstreamRetries); 0 or absent when none had one. */
  upstreamRetries?: number;
  /**
   * Why no more line was started: the batch is `cancelling`, past `expires_at`, or its owner is refused
   * (`owner_refused`: a line's BatchRequestResult.ownerRefused, kept in `failure`); undefined when every line ran or
   * `enough` said so.
   */
  stop?: 'cancelling' | 'expired' | 'owner_refused';
  /** The owner's refusal that stopped the run (`stop: 'owner_refused'`). */
  failure?: BatchFailure;
}

/** No usage yet. */
export const noUsage = (): UsageSum => ({ input: 0, output: 0, cached: 0, reasoning: 0 });
const clockOf = (deps: Pick<BatchRunnerDeps, 'now'>) => deps.now ?? (() => Math.floor(Date.now() / 1000));
const lineId = () => `batch_req_${randomBytes(12).toString('hex')}`;

/**
 * Starts a batch's run: `validating` → `in_progress` (a batch already `in_progress` or `cancelling` is read as it
 * is), then reads its input's lines. An input file deleted before the batch ran (or, on AWS, before its next chunk)
 * makes the batch `failed` with `file_not_found` naming `input_file_id`.
 * With `window` (the AWS worker's chunk) and a batch whose create recorded its input's blocks (StoredBatch.inputBlocks,
 * the file store reading in ranges), only the lines the chunk may run are read, each from its block's byte offset
 * (batch-file-ranges.ts readBatchLines): those of `window.pending` (one stream a block, readBatchLinesAt), and from `window.from` on up to WINDOW_BYTES (one
 * line at least). `lines` is then as long as the file's requests, holding only those read; `until` is the index after
 * the last one read, and `rest(from)` reads the custom_ids from `from` to the end (an expired batch's lines not run).
 * @returns the batch and its lines; undefined when there is no such batch, it has ended, or its input is gone
 */
export async function beginBatch(deps: Pick<BatchRunnerDeps, 'batches' | 'files' | 'now'>, tenantId: string, id: string, window?: { from: number; pending?: readonly number[]; maxBytes?: number }): Promise<BegunBatch | undefined> {
  const clock = clockOf(deps);
  const item = await deps.batches.update(tenantId, id, (c) => (c.batch.status === 'validating'
    ? { ...c, batch: { ...c.batch, status: 'in_progress', in_progress_at: clock() } } : undefined));
  if (!item || TERMINAL.has(item.batch.status)) return undefined;
  const fileId = item.batch.input_file_id;
  const { files } = deps;
  const blocks = item.inputBlocks;
  let begun: BegunBatch | undefined;
  if (window && blocks && files.open) {
    const open = (offset: number) => files.open!(tenantId, fileId, offset);
    const total = item.batch.request_counts?.total ?? 0;
    const lines = new Array<BatchLine>(total);
    let until = window.from;
    let gone = false;
    if (window.pending?.length) {
      const read = await readBatchLinesAt(open, blocks, window.pending);
      if (!read) gone = true;
      else for (const [index, line] of read) lines[index] = line;
    }
    if (!gone && window.from < total) {
      const read = await readBatchLines(open, blocks, window.from, { maxBytes: window.maxBytes ?? WINDOW_BYTES });
      if (!read) gone = true;
      else for (const line of read) lines[until++] = line;
    }
    // A chunk that reads no line (every line has run: it ends the batch) still finds a deleted input, as a whole read does.
    if (!gone && !(window.pending?.length) && window.from >= total) gone = !(await files.get(tenantId, fileId));
    if (!gone) begun = { item, lines, until, rest: (from) => customIdsFrom(open, blocks, from) };
  } else {
    const content = await files.content(tenantId, fileId);
    if (content) {
      const lines = readBatchFile(content, item.batch.endpoint).lines;
      begun = { item, lines, until: lines.length, rest: async (from) => lines.slice(from) };
    }
  }
  if (!begun) {
    await deps.batches.update(tenantId, id, (c) => ({ ...c, batch: { ...c.batch, status: 'failed', failed_at: clock(), errors: { object: 'list', data: [{ code: 'file_not_found', message: `the input file ${c.batch.input_file_id} was deleted before every request of the batch ran`, line: null, param: 'input_file_id' }] } } }));
    return undefined;
  }
  return begun;
}

/** A batch begun (beginBatch): its record, its lines (indexes `until` and on not read yet when a window was read), and a reader of the rest's custom_ids. */
export interface BegunBatch {
  item: StoredBatch;
  lines: BatchLine[];
  /** The index after the last line read from the window's `from` (the file's request count when it was read whole). */
  until: number;
  /** The custom_id of every request from `from` to the end of the file. */
  rest: (from: number) => Promise<Array<Pick<BatchLine, 'customId'>>>;
}

/**
 * Runs lines `from`… of a batch (after the lines of `options.pending`, left waiting by an earlier chunk), `concurrency`
 * at a time, each through `execute` (the gateway pipeline as the owner). Before starting each line it reads the batch:
 * `cancelling` or past `expires_at` stops it (requests in flight finish); so does `enough()` (the AWS worker's time),
 * though never before one line of this call started. A refusal of a request (a 400, a guardrail's, a budget's 429,
 * the day's request quota) is a failed line with its answer, never a dropped one. A line refused by a rate limit that
 * passes (BatchRequestResult.retry: the gateway's minute or hour window; an upstream's 429 throttle, with exponential
 * backoff, batchUpstreamWaitMs; either until the batch's `expires_at`) waits and runs again, holding its place among
 * the `concurrency`; while it waits the batch is read every BATCH_WAIT_STEP_MS (a cancel or the expiry stops the wait),
 * and a wait longer than `waitBudgetMs()` (the AWS worker's time) is not begun: the line is `pending` and no more
 * lines start. A line whose owner is refused (BatchRequestResult.ownerRefused) is answered its refusal and stops the
 * run (`stop: 'owner_refused'`): no more lines start, lines waiting stop waiting (`pending`).
 * The batch's `request_counts` are written as requests end: `base` plus this call's. A line too long to be read
 * (BatchLine.tooLarge) is answered its error line (tooLargeLine) without a request. With `options.sink`, each answer
 * is handed to it as it ends (`ok`: a 2xx) instead of being kept in `output` / `errors` (`tessera serve` writes them
 * to the output and error files at once: runBatch). A line whose custom_id is in `options.answered` (answered by a
 * stopped run whose answers runBatch resumed) is skipped, neither run nor counted again (it is in `base`).
 */
export async function runLines(deps: BatchRunnerDeps, item: StoredBatch, lines: BatchLine[], from: number, options: { base?: { completed: number; failed: number }; sink?: (out: OutputLine, ok: boolean) => Promise<void>; answered?: ReadonlySet<string>; enough?: () => boolean; signal?: AbortSignal; pending?: readonly number[]; pendingRetryAtMs?: number; pendingUpstreamRetries?: number; waitBudgetMs?: () => number; until?: number } = {}): Promise<LinesRun> {
  const clock = clockOf(deps);
  const nowMs = deps.nowMs ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { owner, batch: { id } } = item;
  const tenantId = owner.tenantId;
  const base = options.base ?? { completed: 0, failed: 0 };
  const run: LinesRun = { output: [], errors: [], completed: 0, failed: 0, usage: noUsage(), next: from, pending: [] };
  const waiting = [...(options.pending ?? [])];
  // Lines from `until` on were not read (beginBatch's window): the next chunk runs them.
  const until = Math.min(options.until ?? lines.length, lines.length);
  const more = () => waiting.length > 0 || run.next < until;
  let started = 0;
  let enough = false;
  /** Reads the batch: sets `run.stop` when it is cancelling or past `expires_at`. @returns whether the run goes on */
  const goesOn = async () => {
    if (run.stop) return false;
    const current = await deps.batches.get(tenantId, id);
    if (current?.batch.status === 'cancelling') run.stop = 'cancelling';
    else if (clock() >= item.batch.expires_at!) run.stop = 'expired';
    // Read after the batch: a line is started only in the same turn of the event loop as this look.
    if (deps.stopping?.aborted) enough = true;
    return !run.stop && !enough;
  };
  /** Waits until `wakeAtMs`. @returns false when the run stopped meanwhile, or the wait is longer than the run may wait */
  const waitUntil = async (wakeAtMs: number) => {
    while (nowMs() < wakeAtMs) {
      if (!(await goesOn())) return false;
      if (options.waitBudgetMs && wakeAtMs - nowMs() > options.waitBudgetMs()) {
        enough = true;
        return false;
      }
      await sleep(Math.min(BATCH_WAIT_STEP_MS, wakeAtMs - nowMs()));
    }
    return true;
  };
  const worker = async () => {
    while (more() && !run.stop && !enough) {
      // Lines a stopped run of the batch answered (runBatch's resume: options.answered) are passed over without a read of
      // the batch each (a resume of a 50,000-line batch read it 50,000 times).
      while (!waiting.length && run.next < until && options.answered?.has(lines[run.next]!.customId)) run.next++;
      if (!more() || !(await goesOn()) || !more()) break;
      if (started > 0 && options.enough?.()) {
        enough = true;
        break;
      }
      started++;
      const carried = waiting.length > 0;
      const index = carried ? waiting.shift()! : run.next++;
      const line = lines[index]!;
      // Answered by a stopped run of the batch (its answer kept in the file being written: runBatch's resume).
      if (options.answered?.has(line.customId)) continue;
      let result!: BatchRequestResult;
      // A line an earlier chunk left waiting backs off from where that chunk's lines were (options.pendingUpstreamRetries).
      let upstreamRetries = carried ? options.pendingUpstreamRetries ?? 0 : 0;
      // A line an earlier chunk left waiting is not run again before its wait is over (a message is delivered at most
      // MAX_PENDING_DELAY_SECONDS after it was sent, which may be before): it goes on waiting, as after a refusal.
      let wakeAtMs = carried ? options.pendingRetryAtMs : undefined;
      // A line too long to be read (input-file.ts MAX_BATCH_LINE_BYTES) is answered its error line, never run.
      if (line.tooLarge !== undefined) {
        await answered(tooLargeLine(line), false);
        continue;
      }
      for (;;) {
        if (wakeAtMs !== undefined && !(await waitUntil(wakeAtMs))) {
          run.pending.push(index);
          run.retryAtMs = Math.min(run.retryAtMs ?? wakeAtMs, wakeAtMs);
          if (upstreamRetries) run.upstreamRetries = Math.max(run.upstreamRetries ?? 0, upstreamRetries);
          break;
        }
        result = await deps.execute(owner, line.url, JSON.stringify(line.body), { batchId: id, customId: line.customId, ...(item.tags?.length ? { tags: item.tags } : {}) }, options.signal);
        if (result.ownerRefused) {
          run.stop = 'owner_refused';
          run.failure ??= result.ownerRefused;
          break;
        }
        const retry = result.retry;
        if (!retry) break;
        wakeAtMs = nowMs() + (retry.cause === 'upstream' ? batchUpstreamWaitMs(upstreamRetries++, retry.afterMs) : retry.afterMs);
      }
      if (run.pending.includes(index)) continue;
      let body: unknown;
      try {
        body = JSON.parse(result.body);
      } catch {
        body = result.body;
      }
      const out: OutputLine = { id: lineId(), custom_id: line.customId, response: { status_code: result.status, request_id: result.requestId, body }, error: null };
      const ok = result.status >= 200 && result.status < 300;
      if (ok) addUsage(run.usage, body);
      await answered(out, ok);
    }
  };
  /** Keeps (or hands options.sink) a line's answer, counts it, and writes the batch's request_counts. */
  const answered = async (out: OutputLine, ok: boolean) => {
    if (ok) run.completed++;
    else run.failed++;
    if (options.sink) await options.sink(out, ok);
    else (ok ? run.output : run.errors).push(out);
    await deps.batches.update(tenantId, id, (c) => ({ ...c, batch: { ...c.batch, request_counts: { total: lines.length, completed: base.completed + run.completed, failed: base.failed + run.failed } } }));
  };
  const workers = Math.max(1, Math.min(deps.concurrency ?? BATCH_CONCURRENCY, waiting.length + until - from));
  await Promise.all(Array.from({ length: workers }, worker));
  // Lines of an earlier chunk's `pending` this run did not reach are still waiting, until their time at the latest.
  if (waiting.length && options.pendingRetryAtMs !== undefined) run.retryAtMs = Math.min(run.retryAtMs ?? options.pendingRetryAtMs, options.pendingRetryAtMs);
  if (waiting.length && options.pendingUpstreamRetries) run.upstreamRetries = Math.max(run.upstreamRetries ?? 0, options.pendingUpstreamRetries);
  run.pending.push(...waiting);
  run.pending.sort((a, b) => a - b);
  return run;
}

/**
 * The error-file line of a request line too long to be read (BatchLine.tooLarge, over input-file.ts
 * MAX_BATCH_LINE_BYTES): `response` null, `error` `request_too_large` naming the line, its bytes and the bound.
 */
export function tooLargeLine(line: Pick<BatchLine, 'customId' | 'line' | 'tooLarge'>): OutputLine {
  return { id: lineId(), custom_id: line.customId, response: null, error: { code: 'request_too_large', message: `This request was not executed: line ${line.line} of the input file is ${line.tooLarge} bytes, over the ${MAX_BATCH_LINE_BYTES} bytes (8 MiB) one request line may hold; send a smaller request (a request's body is bounded by the gateway's maxRequestBytes).` } };
}

/** OpenAI's error-file lines of requests not run within the completion window (code `batch_expired`). */
export function expiredLines(lines: ReadonlyArray<Pick<BatchLine, 'customId'>>): OutputLine[] {
  return lines.map((line) => ({ id: lineId(), custom_id: line.customId, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } }));
}

/**
 * The error-file lines of requests not run because the batch's owner was refused (BatchFailure): `response` null,
 * `error` the refusal's code and `This request was not executed: <its message>`, as expiredLines states a request not run.
 */
export function notRunLines(lines: ReadonlyArray<Pick<BatchLine, 'customId'>>, failure: BatchFailure): OutputLine[] {
  return lines.map((line) => ({ id: lineId(), custom_id: line.customId, response: null, error: { code: failure.code, message: `This request was not executed: ${failure.message}` } }));
}

/** Lines of an output or error file: JSON Lines, each line ending in `\n`. */
export const jsonLines = (rows: readonly OutputLine[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/**
 * Ends a batch whose lines have run (or were stopped): `finalizing` (not for a `cancelling` one) → the output file
 * (`output`, the 2xx answers) and the error file (`errors`) as purpose `batch_output` files named
 * `<batchId>_output.jsonl` / `<batchId>_error.jsonl`, kept `outputTtlSeconds` (an empty one is not written) →
 * `cancelled` (it was cancelling), `expired` (`expired`), else `completed`, with the counts and usage given. A batch
 * that has `failed` meanwhile (its input deleted between the AWS worker's chunks: beginBatch) stays `failed` with its
 * `failed_at` and gets the files and counts of what ran. With `failure` (its owner refused: runLines `owner_refused`)
 * a batch not `cancelling` becomes `failed` at once (no `finalizing`), `errors.data` holding the failure's code and
 * message (`line` and `param` null), and gets the files and counts of what ran likewise.
 * @param result.output, result.errors JSON Lines (jsonLines), or the files written as the lines ended (BatchOutputFile: runBatch)
 * @returns the batch as it ended; undefined when there is no such batch
 */
export async function finishBatch(deps: Pick<BatchRunnerDeps, 'batches' | 'files' | 'now'>, item: StoredBatch, result: { output: string | BatchOutputFile; errors: string | BatchOutputFile; total: number; completed: number; failed: number; usage: UsageSum; expired: boolean; failure?: BatchFailure }): Promise<Batch | undefined> {
  const clock = clockOf(deps);
  const { tenantId } = item.owner;
  const id = item.batch.id;
  const { failure } = result;
  await deps.batches.update(tenantId, id, (c) => (c.batch.status === 'cancelling' || c.batch.status === 'failed' ? undefined
    : failure ? { ...c, batch: { ...c.batch, status: 'failed', failed_at: clock(), errors: { object: 'list', data: [{ code: failure.code, message: failure.message, line: null, param: null }] } } }
      : { ...c, batch: { ...c.batch, status: 'finalizing', finalizing_at: clock() } }));
  const created = clock();
  const write = async (what: 'output' | 'error', text: string | BatchOutputFile): Promise<string | undefined> => {
    if (typeof text !== 'string') return text.finish(created, created + item.outputTtlSeconds);
    if (!text) return undefined;
    const bytes = Buffer.from(text);
    const file: BatchFile = { id: newFileId(), filename: `${id}_${what}.jsonl`, purpose: 'batch_output', bytes: bytes.byteLength, createdAt: created, expiresAt: created + item.outputTtlSeconds };
    await deps.files.put(tenantId, file, bytes);
    return file.id;
  };
  const outputFileId = await write('output', result.output);
  const errorFileId = await write('error', result.errors);
  const { usage } = result;
  const ended = await deps.batches.update(tenantId, id, (c: StoredBatch) => {
    const at = clock();
    const status = c.batch.status === 'failed' ? 'failed' : c.batch.status === 'cancelling' ? 'cancelled' : result.expired ? 'expired' : 'completed';
    // The files being written are stored now (their records): nothing is left for a resume.
    const { appending: _, ...rest } = c;
    return {
      ...rest,
      batch: {
        ...c.batch, status, ...(status === 'failed' ? {} : { [`${status}_at`]: at }),
        ...(outputFileId ? { output_file_id: outputFileId } : {}), ...(errorFileId ? { error_file_id: errorFileId } : {}),
        request_counts: { total: result.total, completed: result.completed, failed: result.failed },
        usage: { input_tokens: usage.input, input_tokens_details: { cached_tokens: usage.cached }, output_tokens: usage.output, output_tokens_details: { reasoning_tokens: usage.reasoning }, total_tokens: usage.input + usage.output },
      },
    };
  });
  return ended?.batch;
}

/**
 * Runs a batch to its end in this process (`tessera serve`): beginBatch (`validating` → `in_progress`) → its
 * requests, `concurrency` at a time, each through `execute` (the gateway pipeline as the owner: runLines) → finishBatch
 * (`finalizing` → the output file of the 2xx answers and the error file of every other answer, in OpenAI's error
 * shape, and, for an expired batch, each request not run with code `batch_expired` → `completed`). `cancelling`
 * (POST /v1/batches/{id}/cancel) lets the requests in flight finish and runs no other, then `cancelled` with the files
 * of what ran; past `expires_at` (24 h) the same, then `expired`. A line refused because of its owner (the tenant
 * suspended or offboarded, the creating key revoked: BatchRequestResult.ownerRefused, no upstream call, no budget
 * reserved) stops the batch the same way, then `failed` with the refusal's code in `errors.data` and each line not run
 * in the error file with that code (notRunLines). The output's order is the order requests end, not the
 * file's (OpenAI: match lines by custom_id). Budgets are reserved per request as it runs (the pipeline's reserve and
 * settle), never for the whole batch up front. A line refused by a minute or hour rate limit waits for its window and
 * runs again (runLines); one still waiting when the batch expires is a `batch_expired` line. The AWS worker (worker.ts)
 * runs the same steps in chunks.
 * The input is read as the AWS worker reads it where the file store reads in ranges and the create recorded the
 * input's blocks (StoredBatch.inputBlocks): a window of up to `windowBytes` of lines at a time (beginBatch), each run
 * before the next is read, so the process holds one window's lines, not the file; otherwise (a batch created before
 * the store read in ranges) the file whole. A line past MAX_BATCH_LINE_BYTES is never held: it is answered an error
 * line (tooLargeLine). Each answer goes to the output or error file as it ends (BatchOutputFile: appended at once where
 * the store writes a piece at a time, serve's DirBatchFileStore), so the process does not hold the batch's answers.
 * There the files' ids are recorded on the batch first (StoredBatch.appending): run again after a stop (serve's
 * resumeBatches), it keeps the answers those files hold (counted, their usage summed) and runs only the requests
 * without one (runLines `answered`); the files' records are stored when it ends and `appending` dropped.
 * @param windowBytes the most input bytes read at a time (one line at least) @default WINDOW_BYTES (16 MiB)
 * A run whose `deps.stopping` is aborted starts no more line and leaves the batch unfinished (undefined).
 * @returns the batch as it ended, or undefined when there is no such batch (or it had ended already, or its input was deleted before it began: `failed`), or the run stopped with `deps.stopping`
 */
export async function runBatch(deps: BatchRunnerDeps, tenantId: string, id: string, windowBytes = WINDOW_BYTES): Promise<Batch | undefined> {
  let begun = await beginBatch(deps, tenantId, id, { from: 0, maxBytes: windowBytes });
  if (!begun) {
    const after = await deps.batches.get(tenantId, id);
    return after?.batch.status === 'failed' ? after.batch : undefined;
  }
  let { item } = begun;
  const total = begun.lines.length;
  // Each answer goes to its file as it ends (written at once where the store appends: serve), not held to the end.
  // Where it appends, the files' ids are recorded first (StoredBatch.appending): a serve stopped mid-batch leaves them
  // to the next serve, which keeps their answers and runs only the requests without one.
  const resumed = item.appending;
  let appending = resumed;
  if (deps.files.appendable && !appending) {
    const ids = { output: newFileId(), error: newFileId() };
    const recorded = await deps.batches.update(tenantId, id, (c) => (c.appending ? undefined : { ...c, appending: ids }));
    if (recorded) item = recorded;
    appending = recorded?.appending ?? ids;
  }
  const output = new BatchOutputFile(deps.files, tenantId, id, 'output', appending?.output);
  const errors = new BatchOutputFile(deps.files, tenantId, id, 'error', appending?.error);
  // Each file is ended however the run ends: committed by finishBatch, else closed with its bytes kept for the next run
  // (a stop, a throw), never left to garbage collection with its file descriptor (AppendableFile.close).
  try {
    const usage = noUsage();
    const answered = new Set<string>();
    if (resumed) {
      await output.resume((line) => {
        answered.add(line.custom_id);
        addUsage(usage, line.response?.body);
      });
      await errors.resume((line) => answered.add(line.custom_id));
    }
    const sink = (out: OutputLine, ok: boolean) => (ok ? output : errors).add(out);
    let run: LinesRun;
    for (let from = 0; ; ) {
      run = await runLines(deps, item, begun.lines, from, { base: { completed: output.lines, failed: errors.lines }, sink, until: begun.until, ...(answered.size ? { answered } : {}) });
      for (const k of Object.keys(usage) as Array<keyof UsageSum>) usage[k] += run.usage[k];
      if (run.stop || run.next >= total || deps.stopping?.aborted) break;
      // The next window: an input deleted meanwhile makes the batch `failed` (beginBatch), which keeps the files of what ran.
      from = run.next;
      const next = await beginBatch(deps, tenantId, id, { from, maxBytes: windowBytes });
      if (!next) break;
      begun = next;
    }
    // The process is stopping with lines not answered: the batch stays as written (its answers in its files, recorded
    // as `appending` where the store appends) for the next run to resume, rather than finished without them.
    if (deps.stopping?.aborted && !run.stop && (run.next < total || run.pending.length > 0)) return undefined;
    // A line waiting for a rate limit when the batch expired (or its owner was refused) was not run either.
    const left = run.stop === 'expired' || run.failure ? [...run.pending.map((i) => begun!.lines[i]!), ...(await begun.rest(run.next))].filter((line) => !answered.has(line.customId)) : [];
    const notRun = run.stop === 'expired' ? expiredLines(left) : run.failure ? notRunLines(left, run.failure) : [];
    const failed = errors.lines;
    for (const line of notRun) await errors.add(line);
    return await finishBatch(deps, item, {
      output, errors, total,
      completed: output.lines, failed, usage, expired: run.stop === 'expired', ...(run.failure ? { failure: run.failure } : {}),
    });
  } finally {
    await Promise.all([output.close(), errors.close()]);
  }
}

/** Adds an answer's usage: chat's and embeddings' `prompt_tokens` / `completion_tokens`, responses' `input_tokens` / `output_tokens`. */
export function addUsage(sum: UsageSum, body: unknown): void {
  const u = (body as { usage?: Record<string, unknown> } | null)?.usage;
  if (!u) return;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  sum.input += n(u.prompt_tokens ?? u.input_tokens);
  sum.output += n(u.completion_tokens ?? u.output_tokens);
  sum.cached += n((u.prompt_tokens_details as Record<string, unknown> | undefined)?.cached_tokens ?? (u.input_tokens_details as Record<string, unknown> | undefined)?.cached_tokens);
  sum.reasoning += n((u.completion_tokens_details as Record<string, unknown> | undefined)?.reasoning_tokens ?? (u.output_tokens_details as Record<string, unknown> | undefined)?.reasoning_tokens);
}
