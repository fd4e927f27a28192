import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayPolicy } from '../../lib/tenant-record.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { configWith } from '../support/config-with.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

/**
 * `gateway.cooldown` through `tessera serve`'s gateway and the official `openai` Node client: after three requests
 * whose attempts at the primary all failed (the fake upstream answers 503), the fourth is answered by the tenant's
 * fallback without a call to the primary, and its audit record says which model was skipped and why.
 */
const policy = (extra: Partial<GatewayPolicy> = {}) => ({ gateway: GatewayPolicy.parse({ guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, ...extra }) });

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let token: string;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  const base = gatewayConfig();
  // The embedded default's cooldown (3 failing requests within 60 s, 30 s), stated here so the test says what it relies on.
  const config = configWith({ gateway: { ...base.gateway, cooldown: { failures: 3, windowSeconds: 60, seconds: 30 } }, tiers: base.tiers });
  gw = await serveGateway(config, upstream.url, [localTenant('flaky', 'enterprise', policy({ fallbacks: ['openai-compatible/backup'] }))], { providers: ['openai-compatible'] });
  token = await gw.token('flaky');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('a failing model cools down (gateway.cooldown), through the official openai Node client', () => {
  it('after three failing requests the fourth goes straight to the fallback; the audit record names the skipped model', async () => {
    const client = new OpenAI({ baseURL: gw.url, apiKey: token, maxRetries: 0 });
    // The primary fails every attempt (upstreamRetries: 1 → two attempts a request).
    upstream.failures.set('primary', { status: 503, times: 1_000 });
    const ask = (n: number) => client.chat.completions.create({ model: 'openai-compatible/primary', messages: [{ role: 'user', content: `brownout ${n}` }] }).withResponse();
    for (let n = 1; n <= 3; n++) {
      const { data } = await ask(n);
      expect(data.model).toBe('openai-compatible/backup');
    }
    const attempted = () => upstream.requests.filter((b) => b.model === 'primary').length;
    expect(attempted()).toBe(6);
    const { data, response } = await ask(4);
    expect(data.model).toBe('openai-compatible/backup');
    expect(data.choices[0].message.content).toContain('brownout 4');
    expect(attempted()).toBe(6); // no attempt on the primary
    const record = gw.audit.records.find((r) => r.requestId === data.id || r.requestId === response.headers.get('x-request-id'))!;
    expect(record).toMatchObject({ model: 'openai-compatible/backup', fallbackFrom: 'openai-compatible/primary', status: 200 });
    expect(record.detail?.skippedCoolingModels).toMatch(/^openai-compatible\/primary \(cooling until \d{4}-\d\d-\d\dT[\d:.]+Z after 3 failing requests within 60 s; last: upstream 503\)$/);
    // The three requests that tried the primary say nothing of a cooldown.
    expect(gw.audit.records.filter((r) => r.detail?.skippedCoolingModels !== undefined)).toHaveLength(1);
  });
});
