import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { BATCH_UPSTREAM_WAIT_CAP_MS, batchRateLimits, batchSubject, batchUpstreamWaitMs, lineRetryOf } from '../../../lambdas/inference/batches/line-retry.js';
import type { BatchRequestResult } from '../../../lambdas/inference/batches/runner.js';
import { MAX_PENDING_DELAY_SECONDS, PART_NAME_STRIDE, runBatchChunk } from '../../../lambdas/inference/batches/worker.js';
import { batchFixture, IDS } from '../../support/batch-memory.js';

const MINUTE = 60_000;
/** 12:00:01 UTC of a day, in epoch ms: a minute window has 59 s left. */
const START = Date.UTC(2026, 11, 6, 12, 0, 1);

/**
 * The batch fixture's five lines (c is a 400) on a fake clock, behind a tenant window that admits `perMinute` requests
 * a minute: a request past it is the gateway's 429 with the retry of its window (as Gateway.batchRequest answers).
 */
async function limitedFixture(perMinute: number) {
  const f = await batchFixture(Math.floor(START / 1000));
  let clock = START;
  const counted = new Map<number, number>();
  const attempts: string[] = [];
  const execute = f.deps.execute;
  const delays: Array<number | undefined> = [];
  Object.assign(f.deps, {
    enqueue: async (m: (typeof f.sent)[number], options?: { delaySeconds?: number }) => { f.sent.push(m); delays.push(options?.delaySeconds); },
    nowMs: () => clock,
    now: () => Math.floor(clock / 1000),
    sleep: async (ms: number) => { clock += ms; },
    execute: async (...args: Parameters<typeof execute>): Promise<BatchRequestResult> => {
      attempts.push(args[3].customId);
      const minute = Math.floor(clock / MINUTE);
      if ((counted.get(minute) ?? 0) >= perMinute) {
        return { status: 429, requestId: 'req_limited', body: JSON.stringify({ error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } }), retry: { cause: 'rate_limit', afterMs: (minute + 1) * MINUTE - clock } };
      }
      counted.set(minute, (counted.get(minute) ?? 0) + 1);
      return execute(...args);
    },
  });
  const lines = (fileId: string | null | undefined) => Buffer.from(f.files.files.get(fileId!)!.content).toString().trim().split('\n').map((l) => JSON.parse(l));
  return { ...f, attempts, delays, lines, advance: (ms: number) => { clock += ms; }, nowMs: () => clock };
}

describe('a batch line refused by a rate limit that passes waits and runs again (the AWS worker, runBatchChunk)', () => {
  it('a chunk with time to wait: each refused line waits for its window inside the invocation; the batch completes with every line answered once', async () => {
    const { batches, deps, id, ran, attempts, sent, lines } = await limitedFixture(1);
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 900_000, { marginMs: 0 })).toBe('ended');
    expect(ran).toEqual(IDS);
    expect(attempts.length).toBeGreaterThan(IDS.length);
    expect(sent).toEqual([]);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 } });
    expect(lines(batch.output_file_id).map((l) => l.custom_id).sort()).toEqual(['a', 'b', 'd', 'e']);
    expect(lines(batch.error_file_id)).toMatchObject([{ custom_id: 'c', response: { status_code: 400 } }]);
  });

  it('a wait longer than the chunk may wait ends the chunk: the line is pending, the next message is delayed to the window\'s end, the next chunks run it first; files and counts exact, each line answered once', async () => {
    const { batches, files, deps, id, ran, sent, delays, lines, advance, nowMs } = await limitedFixture(1);
    const names: number[] = [];
    const putPart = files.putPart.bind(files);
    files.putPart = async (t, b, name, part) => { names.push(name); return putPart(t, b, name, part); };
    // 150 s left, a margin of 120 s: the 59 s wait for b's window does not fit in the 30 s the chunk may still wait.
    const ends = nowMs() + 150_000;
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => ends - nowMs(), { marginMs: 120_000 })).toBe('ran');
    expect(ran).toEqual(['a']);
    expect(sent).toEqual([{ tenantId: 'acme', batchId: id, cursor: 2, chunk: 1 }]);
    expect(delays).toEqual([59]);
    expect(batches.items.get(id)!.progress).toMatchObject({ cursor: 2, pending: [1], completed: 1, failed: 0, parts: [0] });
    expect(batches.items.get(id)!.batch.request_counts).toEqual({ total: 5, completed: 1, failed: 0 });

    // The message comes after its delay; this chunk answers its pending line b, then its time is up (one line).
    advance(MINUTE);
    const answered = ran.length;
    expect(await runBatchChunk(deps, sent[0]!, () => (ran.length > answered ? 1_000 : 900_000), { marginMs: 120_000 })).toBe('ran');
    expect(ran).toEqual(['a', 'b']);
    expect(batches.items.get(id)!.progress).toMatchObject({ cursor: 2, completed: 2, parts: [0, 2] });
    expect(batches.items.get(id)!.progress!.pending).toBeUndefined();
    // The next chunk starts at the same cursor: its part is named above every cursor, not over b's.
    expect(await runBatchChunk(deps, sent[1]!, () => 900_000, { marginMs: 0 })).toBe('ended');
    expect(delays).toEqual([59, undefined]);
    expect(files.parts.size).toBe(0);
    expect(ran).toEqual(IDS);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 }, usage: { input_tokens: 8, output_tokens: 4 } });
    expect(lines(batch.output_file_id).map((l) => l.custom_id)).toEqual(['a', 'b', 'd', 'e']);
    expect(lines(batch.error_file_id).map((l) => l.custom_id)).toEqual(['c']);
    expect(names).toEqual([0, 2, 2 + PART_NAME_STRIDE]);
  });

  it('a batch that expires while a line waits ends expired: the waiting line and those not started are batch_expired lines, none dropped', async () => {
    const { batches, deps, id, lines } = await limitedFixture(1);
    // expires_at in 30 s: a waits for nothing, b's wait (59 s) outlasts the batch.
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, expires_at: c.batch.created_at + 30 } }));
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 900_000, { marginMs: 0 })).toBe('ended');
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'expired', request_counts: { total: 5, completed: 1, failed: 0 } });
    expect(lines(batch.error_file_id).map((l) => [l.custom_id, l.error?.code])).toEqual([['b', 'batch_expired'], ['c', 'batch_expired'], ['d', 'batch_expired'], ['e', 'batch_expired']]);
  });

  it('a cancel while a line waits stops the wait: the batch ends cancelled with the answers so far, the waiting line not run', async () => {
    const { batches, deps, id, ran, lines } = await limitedFixture(1);
    const sleep = deps.sleep!;
    deps.sleep = async (ms) => {
      await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, status: 'cancelling', cancelling_at: 1 } }));
      return sleep(ms);
    };
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 900_000, { marginMs: 0 })).toBe('ended');
    expect(ran).toEqual(['a']);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'cancelled', request_counts: { total: 5, completed: 1, failed: 0 } });
    expect(lines(batch.output_file_id).map((l) => l.custom_id)).toEqual(['a']);
    expect(batch.error_file_id ?? null).toBeNull();
  });

  it('a duplicate of a chunk\'s message after a chunk that started no new line runs nothing: the pending line waits for its delayed message, one message chain', async () => {
    const { batches, deps, id, ran, attempts, sent, delays, advance, nowMs } = await limitedFixture(1);
    // Chunk 1: a runs; b's 59 s wait does not fit in the 30 s the chunk may wait: pending, the next message delayed.
    const ends = nowMs() + 150_000;
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => ends - nowMs(), { marginMs: 120_000 })).toBe('ran');
    // Chunk 2 comes too early (b's window has not ended): b is refused again, waits past the chunk's time, and no new line starts.
    advance(10_000);
    const short = nowMs() + 150_000;
    expect(await runBatchChunk(deps, sent[0]!, () => short - nowMs(), { marginMs: 120_000 })).toBe('ran');
    expect(ran).toEqual(['a']);
    expect(sent).toHaveLength(2);
    expect(batches.items.get(id)!.progress).toMatchObject({ cursor: 2, pending: [1] });
    // SQS delivers chunk 2's message again (at least once): its cursor is still the batch's, but it is not the last message sent.
    const tries = attempts.length;
    expect(await runBatchChunk(deps, sent[0]!, () => 900_000, { marginMs: 0 })).toBe('skipped');
    expect(attempts).toHaveLength(tries);
    expect(sent).toHaveLength(2);
    // The delayed message carries the batch on to its end, each line answered once.
    advance(delays[1]! * 1000);
    expect(await runBatchChunk(deps, sent[1]!, () => 900_000, { marginMs: 0 })).toBe('ended');
    expect(ran).toEqual(IDS);
    expect(batches.items.get(id)!.batch).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 } });
  });

  it('a batch whose every line has started but one still waits is not claimed by a stale message: only its delayed message runs the waiting line', async () => {
    const { batches, files, deps, id, attempts, sent } = await limitedFixture(1);
    // The last line, e, waits at the tail: every line has started (cursor 5), e pending.
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, status: 'in_progress' }, progress: { cursor: 5, chunks: 3, leaseUntil: 0, completed: 3, failed: 1, usage: { input: 6, output: 3, cached: 0, reasoning: 0 }, parts: [0, 2], pending: [4] } }));
    // A stale delivery: the create's message, and an old chunk's message with the tail's cursor.
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 900_000, { marginMs: 0 })).toBe('skipped');
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 5, chunk: 2 }, () => 900_000, { marginMs: 0 })).toBe('skipped');
    expect(attempts).toEqual([]);
    expect(sent).toEqual([]);
    expect(batches.items.get(id)!.progress).toMatchObject({ cursor: 5, chunks: 3, pending: [4], leaseUntil: 0 });
    // Its own message (the third chunk's) runs e and ends the batch.
    files.parts.set(0, { output: '', errors: '' });
    files.parts.set(2, { output: '', errors: '' });
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 5, chunk: 3 }, () => 900_000, { marginMs: 0 })).toBe('ended');
    expect(attempts).toEqual(['e']);
    expect(batches.items.get(id)!.batch).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 } });
  });

  it('while a chunk\'s next message may be unsent, only that chunk\'s own message claims the batch, not an older duplicate', async () => {
    const { batches, files, deps, id, attempts, sent } = await limitedFixture(100);
    // Three chunks recorded (lines 0-1 answered), the third's message for the rest not yet known to be sent.
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, status: 'in_progress' }, progress: { cursor: 2, chunks: 3, unsent: true, leaseUntil: 0, completed: 2, failed: 0, usage: { input: 4, output: 2, cached: 0, reasoning: 0 }, parts: [0] } }));
    files.parts.set(0, { output: '', errors: '' });
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 1, chunk: 1 }, () => 900_000, { marginMs: 0 })).toBe('skipped');
    // Nor the create's message (no chunk, no cursor) delivered again.
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 900_000, { marginMs: 0 })).toBe('skipped');
    expect(attempts).toEqual([]);
    expect(sent).toEqual([]);
    // The third chunk's own message (chunk 2), delivered again, carries the batch on.
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id, cursor: 0, chunk: 2 }, () => 900_000, { marginMs: 0 })).toBe('ended');
    expect(attempts).toEqual(['c', 'd', 'e']);
  });

  /** The fixture, with line b refused by the hour's window (its retry 45 minutes away) however often it runs. */
  async function hourLimited() {
    const f = await limitedFixture(100);
    const execute = f.deps.execute;
    f.deps.execute = async (...args) => (args[3].customId === 'b'
      ? (f.attempts.push('b'), { status: 429, requestId: 'req_hour', body: JSON.stringify({ error: { code: 'rate_limit_exceeded' } }), retry: { cause: 'rate_limit', afterMs: 45 * MINUTE } })
      : execute(...args));
    return f;
  }

  it(`a line waiting for an hour's window: the message is delayed ${MAX_PENDING_DELAY_SECONDS} s at most, a chunk delivered before the wait is over runs no line again, and a cancel meanwhile ends the batch within OpenAI's 10 minutes`, async () => {
    const { batches, files, deps, id, ran, attempts, sent, delays, advance, lines } = await hourLimited();
    let inputReads = 0;
    const content = files.content.bind(files);
    files.content = async (...args) => (inputReads++, content(...args));
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 900_000, { marginMs: 120_000 })).toBe('ran');
    expect(attempts).toEqual(['a', 'b']);
    expect(delays).toEqual([MAX_PENDING_DELAY_SECONDS]);
    expect(inputReads).toBe(1);
    // Delivered after its delay, 40 minutes before b's window ends: b is not run again, the input not even read; the
    // next message is delayed again.
    advance(MAX_PENDING_DELAY_SECONDS * 1000);
    expect(await runBatchChunk(deps, sent[0]!, () => 900_000, { marginMs: 120_000 })).toBe('ran');
    expect(attempts).toEqual(['a', 'b']);
    expect(inputReads).toBe(1);
    expect(sent[1]).toEqual({ tenantId: 'acme', batchId: id, cursor: 2, chunk: 2 });
    expect(delays).toEqual([MAX_PENDING_DELAY_SECONDS, MAX_PENDING_DELAY_SECONDS]);
    expect(batches.items.get(id)!.progress).toMatchObject({ cursor: 2, pending: [1], completed: 1, failed: 0 });
    // A cancel now is seen by the next message, 5 minutes later: cancelled, b not run, counts and files exact.
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, status: 'cancelling', cancelling_at: 1 } }));
    advance(MAX_PENDING_DELAY_SECONDS * 1000);
    expect(await runBatchChunk(deps, sent[1]!, () => 900_000, { marginMs: 120_000 })).toBe('ended');
    expect(ran).toEqual(['a']);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'cancelled', request_counts: { total: 5, completed: 1, failed: 0 } });
    expect(lines(batch.output_file_id).map((l) => l.custom_id)).toEqual(['a']);
  });

  it('a waiting line\'s message is not delayed past the batch\'s expires_at: the batch ends expired on time, the waiting line and those not started batch_expired', async () => {
    const { batches, deps, id, attempts, sent, delays, advance, lines } = await hourLimited();
    // expires_at 100 s after the start: b's 45-minute wait outlasts it.
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, expires_at: c.batch.created_at + 100 } }));
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 900_000, { marginMs: 840_000 })).toBe('ran');
    expect(delays).toEqual([100]);
    advance(100_000);
    expect(await runBatchChunk(deps, sent[0]!, () => 900_000, { marginMs: 840_000 })).toBe('ended');
    expect(attempts).toEqual(['a', 'b']);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'expired', expired_at: batch.created_at + 100, request_counts: { total: 5, completed: 1, failed: 0 } });
    expect(lines(batch.error_file_id).map((l) => [l.custom_id, l.error?.code])).toEqual([['b', 'batch_expired'], ['c', 'batch_expired'], ['d', 'batch_expired'], ['e', 'batch_expired']]);
  });

  it("an upstream's 429 throttle is waited for with exponential backoff until it passes, past the 3 retries lines had before: 10 throttles without retry-after, then the line's answer is its 200", async () => {
    const { batches, deps, id, lines, nowMs } = await limitedFixture(100);
    const execute = deps.execute;
    const tries: number[] = [];
    deps.execute = async (...args) => {
      if (args[3].customId === 'b' && tries.push(nowMs()) <= 10) {
        return { status: 429, requestId: 'req_up', body: JSON.stringify({ error: { type: 'requests', code: 'rate_limit_exceeded' } }), retry: { cause: 'upstream', afterMs: 0 } };
      }
      return execute(...args);
    };
    expect(await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => 3_600_000, { marginMs: 0 })).toBe('ended');
    expect(tries.slice(1).map((t, i) => (t - tries[i]!) / 1000)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 } });
    expect(lines(batch.output_file_id).map((l) => l.custom_id).sort()).toEqual(['a', 'b', 'd', 'e']);
  });

  it("an upstream that throttles a line until the batch's expires_at: the line backs off across the AWS worker's chunks (pending, delayed messages) and is a batch_expired line, never a failed 429; the other lines are answered", async () => {
    const { batches, deps, id, lines, sent, delays, advance, nowMs } = await limitedFixture(100);
    deps.concurrency = 2;
    await batches.update('acme', id, (c) => ({ ...c, batch: { ...c.batch, expires_at: c.batch.created_at + 3600 } }));
    const execute = deps.execute;
    let bTries = 0;
    const bAt: number[] = [];
    deps.execute = async (...args) => {
      if (args[3].customId !== 'b') return execute(...args);
      bTries++;
      bAt.push(nowMs());
      return { status: 429, requestId: 'req_up', body: JSON.stringify({ error: { type: 'requests', code: 'rate_limit_exceeded' } }), retry: { cause: 'upstream', afterMs: 2_000 } };
    };
    // Chunks of 15 minutes (2 minutes' margin), each message delivered once its delay is over.
    const firstEnds = nowMs() + 900_000;
    let outcome = await runBatchChunk(deps, { tenantId: 'acme', batchId: id }, () => firstEnds - nowMs(), { marginMs: 120_000 });
    let chunks = 1;
    while (outcome === 'ran' && chunks < 50) {
      advance((delays.at(-1) ?? 0) * 1000);
      const ends = nowMs() + 900_000;
      outcome = await runBatchChunk(deps, sent.at(-1)!, () => ends - nowMs(), { marginMs: 120_000 });
      chunks++;
    }
    expect(outcome).toBe('ended');
    expect(chunks).toBeGreaterThan(1);
    expect(bTries).toBeGreaterThan(7);
    expect(delays.every((d) => d === undefined || d <= 300)).toBe(true);
    // The backoff goes on across chunks (BatchProgress.upstreamRetries): once b waits 256 s, it never waits less again.
    const gaps = bAt.slice(1).map((t, i) => (t - bAt[i]!) / 1000);
    const long = gaps.findIndex((g) => g >= 256);
    expect(long).toBeGreaterThan(0);
    expect(gaps.slice(long).every((g) => g >= 256)).toBe(true);
    const { batch } = batches.items.get(id)!;
    expect(batch).toMatchObject({ status: 'expired', request_counts: { total: 5, completed: 3, failed: 1 } });
    expect(lines(batch.output_file_id).map((l) => l.custom_id).sort()).toEqual(['a', 'd', 'e']);
    expect(lines(batch.error_file_id).map((l) => [l.custom_id, l.error?.code ?? l.response.status_code])).toEqual([['c', 400], ['b', 'batch_expired']]);
  });
});

describe('which refusals a batch line waits for (lineRetryOf), and the batch\'s share of the windows', () => {
  const gateway = (window: 'minute' | 'hour' | 'day') => Object.assign(new GatewayError(429, 'rate limit', 'rate_limit_error', 'rate_limit_exceeded', null, { 'retry-after': '42', 'retry-after-ms': '41500' }), { rateLimit: { source: 'gateway' as const, window } });
  it('the gateway\'s minute and hour windows: waited for (their retry-after-ms); the day\'s quota: the line\'s answer', () => {
    expect(lineRetryOf(gateway('minute'))).toEqual({ cause: 'rate_limit', afterMs: 41_500 });
    expect(lineRetryOf(gateway('hour'))).toEqual({ cause: 'rate_limit', afterMs: 41_500 });
    expect(lineRetryOf(gateway('day'))).toBeUndefined();
  });

  it('a budget\'s 429 and an upstream\'s insufficient_quota are the line\'s answer; an upstream throttle is waited for, with or without retry-after (at most 5 minutes a time)', () => {
    expect(lineRetryOf(new GatewayError(429, 'budget', 'rate_limit_error', 'budget_exceeded', null, { 'retry-after': '3600', 'retry-after-ms': '3600000', 'x-tessera-limit-scope': 'tenant' }))).toBeUndefined();
    expect(lineRetryOf(new GatewayError(429, 'quota', 'insufficient_quota', 'insufficient_quota', null, { 'retry-after': '5' }))).toBeUndefined();
    expect(lineRetryOf(Object.assign(new GatewayError(429, 'up', 'requests', 'rate_limit_exceeded'), { rateLimit: { source: 'upstream' as const } }))).toEqual({ cause: 'upstream', afterMs: 0 });
    expect(lineRetryOf(Object.assign(new GatewayError(429, 'up', 'requests', 'rate_limit_exceeded', null, { 'retry-after': '2', 'retry-after-ms': '1500' }), { rateLimit: { source: 'upstream' as const } }))).toEqual({ cause: 'upstream', afterMs: 1500 });
    expect(lineRetryOf(Object.assign(new GatewayError(429, 'up', 'requests', 'rate_limit_exceeded', null, { 'retry-after': '600' }), { rateLimit: { source: 'upstream' as const } }))).toEqual({ cause: 'upstream', afterMs: BATCH_UPSTREAM_WAIT_CAP_MS });
    // The backoff: 1 s doubled each attempt, at least retry-after, at most 5 minutes.
    expect([0, 1, 2, 8, 9, 40].map((n) => batchUpstreamWaitMs(n, 0))).toEqual([1_000, 2_000, 4_000, 256_000, 300_000, 300_000]);
    expect(batchUpstreamWaitMs(0, 30_000)).toBe(30_000);
  });

  it('a batch line counts against half of the minute and hour windows (at least one) and the whole day; a key\'s requestsPerMinute halved too', () => {
    expect(batchRateLimits({ minute: 600, hour: 20_000, day: 200_000 })).toEqual({ minute: 300, hour: 10_000, day: 200_000 });
    expect(batchRateLimits({ minute: 1, hour: 3, day: 10 })).toEqual({ minute: 1, hour: 1, day: 10 });
    expect(batchSubject({ kind: 'key', id: 'key_1', limits: { requestsPerMinute: 10 } })).toEqual({ kind: 'key', id: 'key_1', limits: { requestsPerMinute: 5 } });
    expect(batchSubject({ kind: 'user', id: 'u' })).toEqual({ kind: 'user', id: 'u' });
  });
});
