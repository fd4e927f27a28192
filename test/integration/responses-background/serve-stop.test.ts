import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLocalGateway } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { tempDir } from '../../support/temp-dirs.js';
import { nodeClient } from '../gateway-conformance/official-clients.js';
import { plainTenant } from '../gateway-conformance/setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * A background response whose create is answered while `tessera serve` stops (its body read before the port closed,
 * so the handler goes on while serve settles): the stop (stopBatches, the batch runs' signal) lets it start no
 * upstream call; it stays `queued`, its marker kept, and the next serve on the state dir runs it once (s43k). Before,
 * the stopping serve ran it while it settled, and a serve started meanwhile found it `in_progress` and settled it
 * `failed` (LAPSED_MESSAGE) while the stopped one had it answered and billed.
 */
const tenants = [plainTenant('acme')];
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe('tessera serve stopping: background responses (openai node)', () => {
  it('a create answered after the stop runs nothing (queued, marker kept); the next serve runs it once to completed', async () => {
    const dir = tempDir('tessera-bg-stop-');
    const upstream = await new FakeUpstream().start();
    stops.push(() => upstream.stop());
    const first = await serveGateway(conformanceConfig(), upstream.url, tenants, { stateDir: dir, serveId: 'first-serve' });
    stops.push(() => first.stop());
    const client = nodeClient(first.url, await first.token('acme'));
    first.stopWork();
    const created = await client.responses.create({ model: 'openai-compatible/default', input: 'Hei!', background: true });
    expect(created.status).toBe('queued');
    await first.idle();
    expect(upstream.requests).toHaveLength(0);
    expect((await client.responses.retrieve(created.id)).status).toBe('queued');
    expect(existsSync(join(dir, 'background-responses', 'acme', created.id))).toBe(true);
    await first.stop();

    const again = await createLocalGateway({ config: conformanceConfig(), stateDir: dir, upstreamUrl: upstream.url, tenants, memoryAudit: true, serveId: 'second-serve' });
    stops.push(async () => again.stopBatches());
    await again.batchesIdle();
    const done = (await again.responses!.get('acme', created.id))!;
    expect(upstream.requests).toHaveLength(1);
    expect(done.response.status).toBe('completed');
    expect(existsSync(join(dir, 'background-responses', 'acme', created.id))).toBe(false);
  });
});
