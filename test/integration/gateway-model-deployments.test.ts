import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayPolicy } from '../../lib/tenant-record.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { configWith } from '../support/config-with.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

/**
 * `gateway.models[].deployments` through `tessera serve`'s gateway and the official `openai` Node client: one catalog
 * model served by two upstreams (two fake OpenAI-compatible servers, deployments `a` and `b`). Traffic reaches both;
 * with `a` failing every attempt, `b` answers (whole and streamed) and the tenant's fallback model is never called.
 */
const policy = (extra: Partial<GatewayPolicy> = {}) => ({ gateway: GatewayPolicy.parse({ guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, ...extra }) });

let a: FakeUpstream;
let b: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let client: OpenAI;

beforeAll(async () => {
  a = await new FakeUpstream().start();
  b = await new FakeUpstream().start();
  const base = gatewayConfig();
  const spread = { id: 'openai-compatible/spread', upstream: 'spread', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100, deployments: [{ name: 'a', baseUrl: a.url }, { name: 'b', baseUrl: b.url }] };
  // The cooldown off: every request tries the failing deployment (its order is drawn per request), which the second test counts.
  const config = configWith({ gateway: { ...base.gateway, models: [...base.gateway.models, spread], cooldown: false }, tiers: base.tiers });
  // The providers' own endpoint is `a`: the fallback model (no deployments) is served there.
  gw = await serveGateway(config, a.url, [localTenant('spread', 'enterprise', policy({ fallbacks: ['openai-compatible/backup'] }))], { providers: ['openai-compatible'] });
  client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('spread'), maxRetries: 0 });
});
afterAll(async () => {
  await gw?.stop();
  await a?.stop();
  await b?.stop();
});

const recordOf = (id: string) => gw.audit.records.find((r) => r.requestId === id)!;

describe('one catalog model over two deployments, through the official openai Node client', () => {
  it('spreads the requests over both upstreams, each answer the catalog id, each record naming its deployment', async () => {
    const served: Record<string, number> = {};
    for (let n = 0; n < 40; n++) {
      const { data, response } = await client.chat.completions.create({ model: 'openai-compatible/spread', messages: [{ role: 'user', content: `spread ${n}` }] }).withResponse();
      expect(data.model).toBe('openai-compatible/spread');
      const record = recordOf(response.headers.get('x-request-id')!);
      expect(record).toMatchObject({ model: 'openai-compatible/spread', status: 200 });
      expect(record.fallbackFrom).toBeUndefined();
      const deployment = record.detail?.deployment as string;
      served[deployment] = (served[deployment] ?? 0) + 1;
    }
    // Weights 1:1 over 40 requests: all on one side has probability 2 × 2^-40.
    expect(served.a).toBeGreaterThan(0);
    expect(served.b).toBeGreaterThan(0);
    expect(served.a + served.b).toBe(40);
    expect(a.requests.filter((r) => r.model === 'spread')).toHaveLength(served.a);
    expect(b.requests.filter((r) => r.model === 'spread')).toHaveLength(served.b);
  });

  it('with one deployment failing, the other answers (whole and streamed) and the fallback model is never called', async () => {
    a.failures.set('spread', { status: 503, times: 1_000 });
    const before = { a: a.requests.length, b: b.requests.length };
    for (let n = 0; n < 10; n++) {
      const { data, response } = await client.chat.completions.create({ model: 'openai-compatible/spread', messages: [{ role: 'user', content: `brownout ${n}` }] }).withResponse();
      expect(data.model).toBe('openai-compatible/spread');
      expect(data.choices[0].message.content).toContain(`brownout ${n}`);
      const record = recordOf(response.headers.get('x-request-id')!);
      expect(record.detail?.deployment).toBe('b');
      expect(record.fallbackFrom).toBeUndefined();
    }
    const stream = await client.chat.completions.create({ model: 'openai-compatible/spread', messages: [{ role: 'user', content: 'streamed brownout' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain('streamed brownout');
    const newer = (u: FakeUpstream, from: number) => u.requests.slice(from);
    expect(newer(b, before.b).filter((r) => r.model === 'spread')).toHaveLength(11);
    expect([...newer(a, before.a), ...newer(b, before.b)].filter((r) => r.model === 'backup')).toEqual([]);
    // `a` was tried by the requests whose drawn order put it first (upstreamRetries 1: two attempts each), never answering.
    expect(newer(a, before.a).every((r) => r.model === 'spread')).toBe(true);
  });
});
