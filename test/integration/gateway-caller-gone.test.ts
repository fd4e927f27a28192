import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import type { GatewayResponder } from '../../lambdas/inference/gateway.js';
import { createLocalGateway, localTenant } from '../../lambdas/inference/local-gateway.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import type { GatewayStore } from '../../lambdas/inference/stores/gateway-store.js';
import { CallerGone } from '../../lambdas/inference/upstream-calls.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * A caller gone by the time the answer is written (`tessera serve`'s responder throws CallerGone
 * when its connection is closed: serve's stop, or a caller whose close event has not run yet).
 * Hostile review, 2026-12-01: the stream's first write was outside the relay's try, so such a
 * stream left its upstream call open and its audit record unwritten as cancelled.
 */
let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
});
afterAll(async () => {
  await upstream?.stop();
});

/** A responder whose caller is gone: every answer throws CallerGone, as LocalResponder's does then. */
const goneResponder = (): GatewayResponder => ({
  json: () => { throw new CallerGone(); },
  stream: () => { throw new CallerGone(); },
  empty: () => { throw new CallerGone(); },
});

const roleChunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] };
const textChunk = (t: string) => ({ ...roleChunk, choices: [{ index: 0, delta: { content: t }, finish_reason: null }] });

describe('an answer whose caller is gone when it is written', () => {
  it.each([
    ['a chat completion stream', '/v1/chat/completions', { model: 'openai-compatible/default', stream: true, messages: [{ role: 'user', content: 'hi' }] }],
    ['a Responses API stream', '/v1/responses', { model: 'openai-compatible/default', stream: true, store: false, input: 'hi' }],
  ])('%s: the upstream call is closed, the audit says cancelled (499), the reservation is released', async (_name, path, request) => {
    // GIVEN a gateway and an upstream that sends two chunks and then nothing, without ending: only the gateway closing the
    // call ends it (no timer decides: an upstream call left open stays open, and the test fails at its timeout)
    const stateDir = tempDir('tessera-caller-gone-');
    const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
    const { gateway, audit, store, keysFile } = await createLocalGateway({
      config: gatewayConfig(), stateDir, upstreamUrl: upstream.url, memoryAudit: true,
      tenants: [localTenant('goneco', 'enterprise', { gateway: { monthlyTokenBudget: 100_000, fallbacks: [], guardrails: quiet, auditPromptText: false } })],
    });
    upstream.reset();
    upstream.script({ events: [{ data: roleChunk }, { data: textChunk('x') }, { until: new Promise(() => undefined) }] });
    const token = await mintDevToken(keysFile, { tenantId: 'goneco' });
    // WHEN the stream's first chunk arrives and the caller is already gone
    await gateway.handle({ method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(request) }, goneResponder());
    // THEN the upstream connection is closed by the gateway (the upstream would hold it open), nothing more written
    await upstream.calls[0].closed;
    expect(upstream.calls[0].eventsWritten).toBe(2);
    // AND the audit record says cancelled, and no reservation stays held
    await gateway.settled();
    const record = (audit as MemoryAuditSink).records.at(-1)!;
    expect(record).toMatchObject({ tenantId: 'goneco', status: 499, outcome: 'cancelled', stream: true });
    // (a reservation still held would count the model's 100 output tokens on top of the prompt's)
    const usage = await (store as GatewayStore).usage('goneco', new Date());
    expect(usage.month.tokens).toBeLessThan(100);
  });
});
