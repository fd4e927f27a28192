import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLocalGateway } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * `tessera serve --workers 2` as two gateways of one serve (one serveId) on one state directory: the second thread
 * serves a background response whose run is live when the first thread, the one that resumes, finishes starting. The
 * resume leaves that run alone (it is this serve's), and the response ends completed, not failed as lapsed.
 */
const TENANTS = [plainTenant('acme')];
let upstream: FakeUpstream;
let second: Awaited<ReturnType<typeof serveGateway>>;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  second = await serveGateway(conformanceConfig(), upstream.url, TENANTS, { background: { pollMs: 50 }, resumeBackground: false, serveId: 'one-serve' });
});
afterAll(async () => {
  await second?.stop();
  await upstream?.stop();
});

describe('serve --workers: the resuming thread starts after another thread began a background run', () => {
  it('leaves the live run of this serve alone: it ends completed', async () => {
    upstream.delayMs = 1500;
    const client = nodeClient(second.url, await second.token('acme'));
    const created = await client.responses.create({ model: 'openai-compatible/default', input: 'a run begun early', background: true });
    await upstream.received(1);
    expect((await client.responses.retrieve(created.id)).status).toBe('in_progress');
    // the first thread (the one that resumes) finishes starting now, after that run began
    const first = await createLocalGateway({ config: conformanceConfig(), stateDir: second.stateDir, upstreamUrl: upstream.url, tenants: TENANTS, memoryAudit: true, background: { pollMs: 50 }, resumeBackground: true, serveId: 'one-serve' });
    await first.batchesIdle();
    expect((await client.responses.retrieve(created.id)).status).toBe('in_progress');
    await second.settled();
    for (;;) {
      const r = await client.responses.retrieve(created.id);
      if (r.status !== 'in_progress') {
        expect(r).toMatchObject({ status: 'completed' });
        break;
      }
      await new Promise((ok) => setTimeout(ok, 20));
    }
  });
});
