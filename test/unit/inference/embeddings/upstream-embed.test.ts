import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { GatewayError } from '../../../../lambdas/inference/openai-errors.js';
import { ProviderError, type EmbeddingProviderRequest, type Provider } from '../../../../lambdas/inference/providers/provider.js';
import { UpstreamCalls } from '../../../../lambdas/inference/upstream-calls.js';

const model = (id: string): ModelEntry => ({ id: `openai-compatible/${id}`, upstream: id, kind: 'embedding', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 10 });
const base = { body: { model: 'm', input: 'hi' }, tenantId: 'acme' };
const never = new AbortController().signal;
const timeouts = { firstByteMs: 200, idleMs: 200, retries: 1 };

function scripted(script: Array<(r: EmbeddingProviderRequest) => Promise<{ vectors: number[][] }>>) {
  const calls: string[] = [];
  const provider: Provider = {
    complete: () => Promise.reject(new Error('not chat')),
    stream: () => { throw new Error('not chat'); },
    embed: (r) => (calls.push(r.model.upstream), script[Math.min(calls.length - 1, script.length - 1)](r)),
  };
  return { calls, lookup: async () => provider };
}

describe('upstream embeddings: the same retries, timeouts and fallbacks as chat', () => {
  it('retries a 5xx, then falls back to the next model of the chain', async () => {
    const p = scripted([async () => { throw new ProviderError('boom', 503, true); }, async () => { throw new ProviderError('boom', 503, true); }, async () => ({ vectors: [[1]] })]);
    const out = await new UpstreamCalls(p.lookup, timeouts).embed([model('a'), model('b')], base, never);
    expect(p.calls).toEqual(['a', 'a', 'b']);
    expect(out.model.id).toBe('openai-compatible/b');
  });

  it("ends the chain at the caller's 4xx, which keeps its status", async () => {
    const p = scripted([async () => { throw new ProviderError('bad input', 400, false, { param: 'input' }); }]);
    const e = await new UpstreamCalls(p.lookup, timeouts).embed([model('a'), model('b')], base, never).catch((x) => x);
    expect(p.calls).toEqual(['a']);
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 400, param: 'input' });
  });

  it('times an upstream out after firstByteMs, per attempt, and answers 504', async () => {
    const p = scripted([(r) => new Promise((_, reject) => r.signal.addEventListener('abort', () => reject(r.signal.reason)))]);
    const started = Date.now();
    const e = await new UpstreamCalls(p.lookup, timeouts).embed([model('a')], base, never).catch((x) => x);
    expect(e).toMatchObject({ status: 504 });
    expect(p.calls).toEqual(['a', 'a']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('answers 502 for a provider without embeddings', async () => {
    const provider: Provider = { complete: () => Promise.reject(new Error('x')), stream: () => { throw new Error('x'); } };
    const e = await new UpstreamCalls(async () => provider, timeouts).embed([model('a')], base, never).catch((x) => x);
    expect(e).toMatchObject({ status: 502, message: expect.stringMatching(/does not serve embeddings/) });
  });
});
