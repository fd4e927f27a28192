import { describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { OwnerRefused } from '../../../lambdas/inference/owner-refusal.js';
import { failureOf, runBackgroundResponse, type ExecuteBackground } from '../../../lambdas/inference/responses/background.js';
import { MemoryResponseStore } from '../../../lambdas/inference/stores/memory-response-store.js';
import type { StoredResponse } from '../../../lambdas/inference/stores/response-store.js';

/**
 * runBackgroundResponse reads the response's creator again while it runs (BackgroundRunDeps.ownerRefused, every
 * `ownerPollMs`): a refusal aborts the run with the refusal as the abort's reason (what Gateway.backgroundResponse
 * settles and audits as that refusal), and the response ends failed with it. The AWS worker (lambda-deps.ts
 * lambdaBackgroundWorker) and serve pass Gateway.ownerRefusal.
 */
const ID = `resp_${'1'.repeat(48)}`;
const OWNER = { tenantId: 'acme', userId: 'key_1', role: 'member' as const, keyId: 'key_1' };
const queued = (): StoredResponse => ({
  tenantId: 'acme', responseId: ID, response: { id: ID, object: 'response', status: 'queued', background: true, created_at: 1, output: [] }, inputItems: [], messages: [],
  expiresAt: Math.floor(Date.now() / 1000) + 3600, job: { owner: OWNER, request: '{"model":"m","input":"hi","background":true}' },
});
const REVOKED = new GatewayError(401, 'API key key_1, which created this background response, is revoked (2026-12-06T17:00:00Z); its remaining requests are refused', 'invalid_request_error', 'api_key_revoked');

/** An execute that runs until its signal is aborted (then answers as Gateway.backgroundResponse does for an owner's refusal), or answers completed after `ms`. */
function longRun(ms: number): { execute: ExecuteBackground; reasons: unknown[] } {
  const reasons: unknown[] = [];
  const execute: ExecuteBackground = (_owner, _request, responseId, settle, signal) => new Promise((done) => {
    const timer = setTimeout(() => {
      void settle({ ...queued(), job: undefined, response: { id: responseId, object: 'response', status: 'completed', background: true, created_at: 9, output: [] } }).then(() => done(undefined));
    }, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reasons.push(signal.reason);
      done(signal.reason instanceof OwnerRefused ? failureOf(signal.reason.error.status, signal.reason.error.body()) : { code: 'server_error', message: 'cancelled' });
    }, { once: true });
  });
  return { execute, reasons };
}

describe('a background response whose creator is refused while it runs', () => {
  it('is stopped with the refusal as the abort reason, and settled failed naming it', async () => {
    const responses = new MemoryResponseStore();
    await responses.put(queued());
    const { execute, reasons } = longRun(20_000);
    let checks = 0;
    const ownerRefused = vi.fn(async () => (++checks >= 2 ? new OwnerRefused({ code: REVOKED.code, message: REVOKED.message }, REVOKED) : undefined));
    expect(await runBackgroundResponse({ responses, execute, ownerRefused, ownerPollMs: 10, pollMs: 10_000 }, 'acme', ID, 60_000)).toBe('ran');
    expect(ownerRefused).toHaveBeenCalledWith(OWNER);
    expect(reasons).toEqual([expect.any(OwnerRefused)]);
    const ended = (await responses.get('acme', ID))!;
    expect(ended.response).toMatchObject({ status: 'failed', error: { code: 'invalid_prompt', message: expect.stringMatching(/^api_key_revoked: API key key_1, which created this background response, is revoked/) } });
    expect(ended.job).toBeUndefined();
  });

  it('an owner still served lets the run end as it would', async () => {
    const responses = new MemoryResponseStore();
    await responses.put(queued());
    const { execute, reasons } = longRun(100);
    const ownerRefused = vi.fn(async () => undefined);
    await runBackgroundResponse({ responses, execute, ownerRefused, ownerPollMs: 10 }, 'acme', ID, 60_000);
    expect(ownerRefused).toHaveBeenCalled();
    expect(reasons).toEqual([]);
    expect((await responses.get('acme', ID))!.response.status).toBe('completed');
  });
});
