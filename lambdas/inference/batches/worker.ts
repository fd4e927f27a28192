import { randomBytes } from 'node:crypto';
import { beginBatch, expiredLines, finishBatch, jsonLines, noUsage, notRunLines, runLines, type BatchFailure, type BatchRunnerDeps } from './runner.js';
import type { BatchPartStore, BatchProgress, StoredBatch } from './stores.js';
import { TERMINAL } from './batch-service.js';

/**
 * A message of the Batch API's work queue (GATEWAY_ENV.batchQueueUrl): run the next chunk of this batch. `cursor`
 * is the line the chunk starts at (absent on the create's message: 0); `chunk` is how many chunks the batch had
 * recorded when it was sent (BatchProgress.chunks; absent on the create's message and on messages sent before
 * 2026-12-06: the cursor alone tells them apart). A message whose chunk (or cursor) is not the batch's (a duplicate
 * delivery of a chunk that has been recorded) runs nothing.
 */
export interface BatchMessage {
  tenantId: string;
  batchId: string;
  cursor?: number;
  chunk?: number;
}

/** What runBatchChunk needs beyond runBatch's. */
export interface BatchWorkerDeps extends BatchRunnerDeps {
  parts: BatchPartStore;
  /**
   * Sends a message for the batch's next chunk (SQS SendMessage), `delaySeconds` (0 to 900, SQS's DelaySeconds) after
   * now when its lines wait for a rate limit that outlasts the chunk.
   */
  enqueue(message: BatchMessage, options?: { delaySeconds?: number }): Promise<void>;
}

/** SQS's longest DelaySeconds of a message (Amazon SQS Developer Guide, "Amazon SQS message timers"): 15 minutes. */
export const MAX_MESSAGE_DELAY_SECONDS = 900;

/**
 * The longest a chunk's message is delayed while its lines wait for a rate limit (an hour's window waits in steps of
 * this): 5 minutes, so that a cancel made meanwhile ends the batch `cancelled` within OpenAI's "up to 10 minutes" of
 * `cancelling` (Batch guide, "Cancel a batch") with the chunk's own time to spare. A message is never delayed past the
 * batch's `expires_at` either: it then ends `expired` on time. A chunk delivered before its lines' wait is over runs
 * none of them again (runLines `pendingRetryAtMs`): it only looks at the batch and sends the next delayed message.
 */
export const MAX_PENDING_DELAY_SECONDS = 300;

/**
 * Parts are named by the cursor their chunk started at (BatchPartStore); a chunk that starts at a cursor whose part
 * is recorded already (the chunk before it ran only lines left waiting for a rate limit, `pending`, and started no
 * new one) names its part this much higher, again until the name is free: above every cursor (a batch has at most
 * 50,000 lines), so it meets no other chunk's part.
 */
export const PART_NAME_STRIDE = 1_000_000;

/** The name of a chunk's part: its cursor, or the first free one above it by PART_NAME_STRIDE. */
export function partNameOf(cursor: number, parts: readonly number[]): number {
  let name = cursor;
  while (parts.includes(name)) name += PART_NAME_STRIDE;
  return name;
}

/**
 * Time a chunk keeps before its invocation's end when it stops starting lines: the longest a request it started may
 * still take (the gateway's upstream call is cut at the invocation's deadline less SETTLE_MARGIN_MS: lambda-deadline.ts),
 * the part's PutObject and the progress write. A chunk starts one line at least, whatever is left.
 */
export const CHUNK_MARGIN_MS = 120_000;

/** How a chunk ended: `ran` (lines ran, a message for the rest sent), `ended` (the batch ended: files written), `skipped` (not claimed: nothing ran). */
export type ChunkOutcome = 'ran' | 'ended' | 'skipped';

/** Parses a queue message's body. @throws Error naming what is wrong (such a message is a batch item failure: it ends in the DLQ) */
export function parseBatchMessage(body: string): BatchMessage {
  const m = JSON.parse(body) as Partial<BatchMessage>;
  const count = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
  if (typeof m !== 'object' || m === null || typeof m.tenantId !== 'string' || typeof m.batchId !== 'string' || !count(m.cursor) || !count(m.chunk)) {
    throw new Error(`not a batch message {tenantId, batchId, cursor?, chunk?}: ${body.slice(0, 200)}`);
  }
  return { tenantId: m.tenantId, batchId: m.batchId, ...(m.cursor !== undefined ? { cursor: m.cursor } : {}), ...(m.chunk !== undefined ? { chunk: m.chunk } : {}) };
}

const fresh = (): BatchProgress => ({ cursor: 0, leaseUntil: 0, completed: 0, failed: 0, usage: noUsage(), parts: [] });

/**
 * Runs one chunk of a batch on AWS (the router Lambda, from its work queue): as many of its lines as the invocation's
 * time allows, through the same steps as `tessera serve`'s runBatch (beginBatch, runLines, finishBatch).
 * 1. Claims the chunk: a conditional write of the batch (DynamoDbBatchStore.update, on its version) setting a claim
 *    token and a lease until the invocation's end (`remainingMs()` from now), allowed only when no unexpired lease is
 *    held and the message is the batch's last (its `chunk`, or for a message without one its cursor). A claim refused (another delivery of the same message holds or has
 *    recorded the chunk; SQS delivers at least once) runs nothing: `skipped`.
 * 2. Reads the lines left `pending` by the chunk before (waiting for a rate limit) and a window of the input from the
 *    cursor (beginBatch: in byte ranges, when the create recorded the input's blocks; else the file whole), and runs
 *    those, then lines from the cursor, until the window's end, `remainingMs()` falls under `marginMs` (one line at
 *    least), the batch is `cancelling` (POST
 *    /v1/batches/{id}/cancel) or past `expires_at`. A line refused by a rate limit waits inside the invocation when
 *    the wait ends before the margin; otherwise it is recorded `pending` (no answer: nothing runs twice), and the next
 *    message is sent with DelaySeconds until the wait is over or the batch expires (at most MAX_PENDING_DELAY_SECONDS; a
 *    chunk delivered before the wait is over runs no pending line again, it waits or sends the next delayed message).
 * 3. Stores the chunk's answers as a part (BatchPartStore) and records the progress (cursor, counts, usage, parts;
 *    the lease released) on condition that the claim is still its own.
 *    A line whose owner is refused (the tenant suspended or offboarded, the creating key revoked: runLines
 *    `owner_refused`, before any upstream call) stops the chunk as a cancel does, and step 4 ends the batch `failed`.
 * 4. When no line remains or the batch was stopped, joins the parts into the output and error files (finishBatch)
 *    and deletes them: `ended`. Otherwise sends a message for the rest (`cursor` = the next line): `ran`. Until that
 *    message is sent the progress says `unsent`, and a delivery of any of the batch's messages may claim the next
 *    chunk: a chunk whose SendMessage failed throws, and its message delivered again carries the batch on.
 * A chunk whose invocation dies after its lines ran and before step 3 is run again once its lease expires (by the
 * redelivered message): at most that chunk's requests run twice.
 * @param remainingMs the invocation's remaining time in ms (Lambda context.getRemainingTimeInMillis)
 * @param options.windowBytes the most bytes of input lines a chunk reads from its cursor (one line at least), where the
 *   batch's create recorded its input's blocks (StoredBatch.inputBlocks) @default WINDOW_BYTES (batch-file-ranges.ts)
 * @throws what the stores or the queue throw (a failure not of one request): the caller reports the message as failed
 */
export async function runBatchChunk(deps: BatchWorkerDeps, message: BatchMessage, remainingMs: () => number, options: { marginMs?: number; signal?: AbortSignal; windowBytes?: number } = {}): Promise<ChunkOutcome> {
  const nowMs = deps.nowMs ?? Date.now;
  const { tenantId, batchId } = message;
  const token = randomBytes(12).toString('hex');
  const claimed = await deps.batches.update(tenantId, batchId, (c) => {
    if (TERMINAL.has(c.batch.status)) return undefined;
    const p = c.progress ?? fresh();
    // Only the message of the batch's last recorded chunk claims it (its `chunk`; a message without one, its cursor: a
    // chunk that ran only pending lines leaves the cursor where it was, so a duplicate of its own message would match
    // it), except: a batch whose lines have all run and none waits (or that is stopping), which any of its messages
    // claims (a chunk that died while ending it is ended by the next delivery), and one whose next message may not have
    // been sent (`unsent`: the chunk that recorded it failed to send it, and its own message, the one before the last,
    // is delivered again; an older one is a duplicate and would start a second chain).
    const ending = (p.cursor >= c.batch.request_counts!.total && !p.pending?.length) || c.batch.status === 'finalizing' || c.batch.status === 'cancelling';
    const current = message.chunk !== undefined ? message.chunk === (p.chunks ?? 0) : (message.cursor ?? 0) === p.cursor;
    // (A message without `chunk`: the create's, whose chunk is the first, or one sent before chunks were counted.)
    const resent = p.unsent && (message.chunk === undefined ? (p.chunks ?? 0) <= 1 : message.chunk === (p.chunks ?? 0) - 1);
    if ((!current && !ending && !resent) || p.leaseUntil > nowMs()) return undefined;
    return { ...c, progress: { ...p, leaseUntil: nowMs() + Math.max(0, remainingMs()), claim: token } };
  });
  if (claimed?.progress?.claim !== token) return 'skipped';
  const progress = claimed.progress;
  const marginMs = options.marginMs ?? CHUNK_MARGIN_MS;
  // Delivered before its waiting lines' time, with too little left to wait for it (a window of an hour; the message was
  // delayed MAX_PENDING_DELAY_SECONDS at most): no line can run, so the input is not read and nothing is sent upstream;
  // the claim is released and the next message delayed again. A cancel or the expiry is not waited for: the chunk ends the batch.
  const early = progress.pending?.length && progress.retryAtMs !== undefined && progress.retryAtMs - nowMs() > remainingMs() - marginMs;
  if (early && claimed.batch.status === 'in_progress' && nowMs() < claimed.batch.expires_at! * 1000) {
    let held = true;
    const rested = await deps.batches.update(tenantId, batchId, (c) => {
      if (c.progress?.claim !== token) return (held = false), undefined;
      const { claim: _claim, ...rest } = c.progress;
      return { ...c, progress: { ...rest, chunks: (c.progress.chunks ?? 0) + 1, leaseUntil: 0, unsent: true } };
    });
    if (!held || !rested?.progress) return 'skipped';
    await sendNext(deps, rested, progress.retryAtMs);
    return 'ran';
  }
  // Only the lines this chunk may run are read (a window of the input from the cursor, and those left waiting), in ranges.
  const begun = await beginBatch(deps, tenantId, batchId, { from: progress.cursor, pending: progress.pending, maxBytes: options.windowBytes });
  if (!begun) {
    // Its input was deleted after earlier chunks ran (beginBatch failed the batch): those requests were live calls,
    // billed and audited; their answers become the failed batch's output and error files, as on any other end.
    const failed = await deps.batches.get(tenantId, batchId);
    if (failed?.batch.status === 'failed' && progress.parts.length) await finish(deps, failed, progress, failed.batch.request_counts?.total ?? progress.cursor, undefined);
    return 'ended';
  }
  const { item, lines, until } = begun;
  // A line refused by a rate limit waits inside the invocation while its time allows; a longer wait ends the chunk,
  // the line `pending` for the next one, whose message is delayed until the wait is over.
  const run = await runLines(deps, item, lines, progress.cursor, { base: progress, pending: progress.pending, pendingRetryAtMs: progress.retryAtMs, pendingUpstreamRetries: progress.upstreamRetries, enough: () => remainingMs() < marginMs, waitBudgetMs: () => remainingMs() - marginMs, signal: options.signal, until });
  const ran = run.output.length + run.errors.length > 0;
  const ending = Boolean(run.stop) || (run.next >= lines.length && run.pending.length === 0);
  const part = partNameOf(progress.cursor, progress.parts);
  if (ran) await deps.parts.putPart(tenantId, batchId, part, { output: jsonLines(run.output), errors: jsonLines(run.errors) });
  let lost = false;
  const recorded = await deps.batches.update(tenantId, batchId, (c) => {
    if (c.progress?.claim !== token) {
      lost = true;
      return undefined;
    }
    const usage = { ...c.progress.usage };
    for (const k of ['input', 'output', 'cached', 'reasoning'] as const) usage[k] += run.usage[k];
    // An ending chunk keeps its lease while it writes the files: another delivery ends the batch only once it expired.
    const next: BatchProgress = {
      cursor: run.next, chunks: (c.progress.chunks ?? 0) + 1, leaseUntil: ending ? c.progress.leaseUntil : 0, ...(ending ? { claim: token } : { unsent: true }), completed: c.progress.completed + run.output.length, failed: c.progress.failed + run.errors.length, usage,
      parts: ran && !c.progress.parts.includes(part) ? [...c.progress.parts, part] : c.progress.parts,
      ...(run.pending.length ? { pending: run.pending, ...(run.retryAtMs !== undefined ? { retryAtMs: run.retryAtMs } : {}), ...(run.upstreamRetries ? { upstreamRetries: run.upstreamRetries } : {}) } : {}),
    };
    return { ...c, progress: next };
  });
  // Another chunk holds the batch now (this one outlived its lease): what this one ran is not recorded.
  if (lost || !recorded?.progress) return 'skipped';
  if (ending) {
    const expired = run.stop === 'expired';
    const left = expired || run.failure ? [...run.pending.map((i) => lines[i]!), ...(await begun.rest(run.next))] : [];
    await finish(deps, recorded, recorded.progress, lines.length, expired ? jsonLines(expiredLines(left)) : run.failure ? jsonLines(notRunLines(left, run.failure)) : undefined, run.failure);
    return 'ended';
  }
  await sendNext(deps, recorded, run.retryAtMs);
  return 'ran';
}

/**
 * Sends the message for a batch's next chunk, recorded `unsent` (its cursor and chunk count), delayed until `retryAtMs`
 * (its waiting lines' time) or the batch's `expires_at`, whichever is first, at most MAX_PENDING_DELAY_SECONDS; then
 * clears `unsent`.
 */
async function sendNext(deps: BatchWorkerDeps, recorded: StoredBatch, retryAtMs: number | undefined): Promise<void> {
  const nowMs = deps.nowMs ?? Date.now;
  const { tenantId } = recorded.owner;
  const batchId = recorded.batch.id;
  const { cursor, chunks: chunk } = recorded.progress!;
  const wakeAtMs = retryAtMs === undefined ? undefined : Math.min(retryAtMs, recorded.batch.expires_at! * 1000);
  const delaySeconds = wakeAtMs === undefined ? 0 : Math.min(MAX_PENDING_DELAY_SECONDS, MAX_MESSAGE_DELAY_SECONDS, Math.max(0, Math.ceil((wakeAtMs - nowMs()) / 1000)));
  await deps.enqueue({ tenantId, batchId, cursor, chunk }, delaySeconds > 0 ? { delaySeconds } : undefined);
  await deps.batches.update(tenantId, batchId, (c) => (c.progress?.unsent && c.progress.chunks === chunk && !c.progress.claim
    ? { ...c, progress: { ...c.progress, unsent: false } } : undefined));
}

/**
 * Joins the parts into the output and error files (finishBatch), then deletes the parts. `notRun`: the error-file
 * lines of requests not run (an expired batch's, or with `failure` those of a batch whose owner was refused).
 */
async function finish(deps: BatchWorkerDeps, item: StoredBatch, progress: BatchProgress, total: number, notRun: string | undefined, failure?: BatchFailure): Promise<void> {
  const { tenantId } = item.owner;
  let output = '';
  let errors = '';
  for (const cursor of progress.parts) {
    const part = await deps.parts.getPart(tenantId, item.batch.id, cursor);
    if (!part) throw new Error(`batch ${item.batch.id}: the answers of its chunk at line ${cursor} are missing`);
    output += part.output;
    errors += part.errors;
  }
  await finishBatch(deps, item, { output, errors: errors + (notRun ?? ''), total, completed: progress.completed, failed: progress.failed, usage: progress.usage, expired: notRun !== undefined && !failure, ...(failure ? { failure } : {}) });
  await deps.parts.deleteParts(tenantId, item.batch.id, progress.parts);
}
