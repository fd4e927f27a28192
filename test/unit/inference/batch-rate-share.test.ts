import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { RequestPipeline, type PipelineRequest } from '../../../lambdas/inference/pipeline.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { lineRetryOf } from '../../../lambdas/inference/batches/line-retry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

// A batch's share of a request window of one request (batches/line-retry.ts batchTurnRefusal): the window is shared by
// turns, so that a batch whose waiting line wakes at each window's start does not take every window from interactive
// requests (RequestPipeline.admit).
const KEY = 'key_00000000000000aa';
/** An even minute since the epoch (UTC), and an hour that is even too. */
const EVEN = Date.UTC(2026, 11, 6, 12, 0, 0);

const request = (batch: boolean, tier: { minute: number; hour: number; day: number }, keyRpm?: number): PipelineRequest => ({
  caller: { tenantId: 'acme', userId: 'u-1', tenant: { tier: 'starter' }, ...(keyRpm ? { keyId: KEY, key: { limits: { requestsPerMinute: keyRpm } } } : {}) },
  policy: { limits: {}, tier: {}, gateway: {}, rate: tier },
  audit: { path: '/v1/chat/completions' },
  ...(batch ? { batch: true } : {}),
}) as unknown as PipelineRequest;

const admitted = async (pipeline: RequestPipeline, r: PipelineRequest): Promise<boolean | GatewayError> => {
  try {
    await pipeline.admit(r);
    return true;
  } catch (e) {
    if (e instanceof GatewayError && e.status === 429) return e;
    throw e;
  }
};

/**
 * Six minutes: at each minute's start the batch's waiting line runs (as it wakes at the window's end), 10 s later an
 * interactive request. @returns which of them each minute admitted
 */
async function sixMinutes(tier: { minute: number; hour: number; day: number }, keyRpm?: number) {
  const pipeline = new RequestPipeline(loadConfig(), new MemoryStore(), {} as never, (async () => undefined) as never);
  const minutes: Array<{ batch: boolean; interactive: boolean }> = [];
  for (let m = 0; m < 6; m++) {
    vi.setSystemTime(EVEN + m * 60_000);
    const batch = (await admitted(pipeline, request(true, tier, keyRpm))) === true;
    vi.setSystemTime(EVEN + m * 60_000 + 10_000);
    const interactive = (await admitted(pipeline, request(false, tier, keyRpm))) === true;
    minutes.push({ batch, interactive });
  }
  return minutes;
}

beforeEach(() => vi.useFakeTimers({ now: EVEN, toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

describe('a request window of one request is shared by turns between a batch and interactive requests', () => {
  const turns = [true, false, true, false, true, false].map((even) => ({ batch: even, interactive: !even }));

  it('the tier\'s 1 request a minute: the batch\'s lines have the even minutes, interactive requests the odd ones; both progress', async () => {
    expect(await sixMinutes({ minute: 1, hour: 1_000, day: 10_000 })).toEqual(turns);
  });

  it('a key\'s requestsPerMinute of 1 (the tier\'s limits larger): the same turns', async () => {
    expect(await sixMinutes({ minute: 100, hour: 1_000, day: 10_000 }, 1)).toEqual(turns);
  });

  it('a batch line refused outside its turn is the 429 of the minute, naming the turns, and waits for the minute\'s end (lineRetryOf)', async () => {
    const pipeline = new RequestPipeline(loadConfig(), new MemoryStore(), {} as never, (async () => undefined) as never);
    vi.setSystemTime(EVEN + 60_000 + 15_000);
    const refused = await admitted(pipeline, request(true, { minute: 1, hour: 1_000, day: 10_000 }));
    expect(refused).toBeInstanceOf(GatewayError);
    const err = refused as GatewayError;
    expect(err.message).toContain('a limit of 1 is shared by turns');
    expect(err.rateLimit).toEqual({ source: 'gateway', window: 'minute' });
    expect(lineRetryOf(err)).toEqual({ cause: 'rate_limit', afterMs: 45_000 });
    // The interactive request of that minute is admitted: the batch took nothing from it.
    expect(await admitted(pipeline, request(false, { minute: 1, hour: 1_000, day: 10_000 }))).toBe(true);
    // A limit of 2 is halved as before, no turns: in the same odd minute the batch has its one request.
    const halved = new RequestPipeline(loadConfig(), new MemoryStore(), {} as never, (async () => undefined) as never);
    expect(await admitted(halved, request(true, { minute: 2, hour: 1_000, day: 10_000 }))).toBe(true);
  });
});
