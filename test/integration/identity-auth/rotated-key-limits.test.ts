import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';

// A rotated key's limits are counted under its rotation chain's first key (usageKeyId), which its
// caller may never have seen: a 429 names the calling key first, then the id the limit is counted under.

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('429 of a rotated key', () => {
  it('names the calling key and the chain id its limit is counted under', async () => {
    const first = 'key_00000000000000f1';
    const { key, record } = await gw.apiKey('acme', { limits: { requestsPerMinute: 1 }, rotatedFrom: first, usageKeyId: first });
    const chat = () => fetch(`${gw.url}/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect((await chat()).status).toBe(200);
    const refused = await chat();
    expect(refused.status).toBe(429);
    const { error } = await refused.json() as { error: { message: string } };
    expect(error.message).toBe(`rate limit of 1 requests per minute reached for key ${record.keyId} (counted with its rotation chain as ${first})`);
  });
});
