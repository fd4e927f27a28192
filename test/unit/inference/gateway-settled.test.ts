import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FileAuditSink, type AuditRecord, type AuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { tempDir } from '../../support/temp-dirs.js';
import { logSpy } from '../../support/service-log.js';

const record = (requestId: string): AuditRecord => ({ requestId, at: '2026-12-01T12:00:00.000Z', method: 'GET', path: '/v1/models', latencyMs: 1, status: 200, outcome: 'ok' });
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as AuditRecord).requestId);

describe('FileAuditSink.flush', () => {
  it('resolves once every record written so far is in the file (the pending batch written when its timer fires)', async () => {
    // GIVEN a sink that batches for 200 ms, two records written
    const file = join(tempDir('tessera-audit-'), 'audit.jsonl');
    const sink = new FileAuditSink(file, 200);
    void sink.write(record('a'));
    void sink.write(record('b'));
    // WHEN it is flushed, THEN both are in the file when it resolves
    await sink.flush();
    expect(lines(file)).toEqual(['a', 'b']);
  });

  it('waits for a batch whose append has started (flushing cleared, the write not done)', async () => {
    const file = join(tempDir('tessera-audit-'), 'audit.jsonl');
    const sink = new FileAuditSink(file, 1);
    const first = sink.write(record('a'));
    await new Promise((r) => setTimeout(r, 5)); // the timer fired: the batch is being appended
    void sink.write(record('b'));
    await sink.flush();
    await first;
    expect(lines(file)).toEqual(['a', 'b']);
  });

  it('with nothing written resolves at once', async () => {
    await expect(new FileAuditSink(join(tempDir('tessera-audit-'), 'audit.jsonl')).flush()).resolves.toBeUndefined();
  });
});

describe('Gateway.settled', () => {
  const acme = localTenant('acme', 'enterprise');

  function gatewayWith(audit: AuditSink, authorize: () => Promise<Caller>, settled = vi.fn(async () => undefined)) {
    const config = gatewayConfig();
    const store = new MemoryStore();
    store.putTenant(acme);
    const gateway = new Gateway({ config, store, audit, authorizer: { authorize, settled } as unknown as Authorizer, providers: new ProviderRegistry(config, async () => 'k') });
    return { gateway, settled };
  }
  const res = (): GatewayResponder => ({ json: () => undefined, stream: () => ({ write: () => undefined, end: () => undefined }) });

  it('waits for the requests in flight, then the audit sink\'s flush and the authorizer\'s writes', async () => {
    // GIVEN a request held in its authorization
    const order: string[] = [];
    let admit!: () => void;
    const held = new Promise<void>((r) => { admit = r; });
    const audit: AuditSink = { write: async (r) => void order.push(`write ${r.status}`), flush: async () => void order.push('flush') };
    const { gateway, settled } = gatewayWith(audit, async () => { await held; return { tenantId: 'acme', userId: 'u', role: 'member', tenant: acme }; }, vi.fn(async () => void order.push('authorizer settled')));
    const handled = gateway.handle({ method: 'GET', path: '/v1/models', headers: { authorization: 'Bearer x' } }, res());
    // WHEN the gateway is asked to settle
    let done = false;
    const quiet = gateway.settled().then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 20));
    // THEN it waits for the request
    expect(done).toBe(false);
    admit();
    await handled;
    await quiet;
    // AND then flushes the audit and settles the authorizer, in that order
    expect(order).toEqual(['write 200', 'flush', 'authorizer settled']);
    expect(settled).toHaveBeenCalledTimes(1);
  });

  it('with nothing in flight settles at once; a failing flush is logged, not thrown', async () => {
    const log = logSpy('tessera-gateway', 'error');
    const { gateway } = gatewayWith({ write: async () => undefined, flush: async () => { throw new Error('disk full'); } }, async () => { throw new Error('unused'); });
    await expect(gateway.settled()).resolves.toBeUndefined();
    expect(log).toHaveBeenCalledWith('audit flush failed', { error: 'disk full' });
    log.mockRestore();
  });

  it('logs through the gateway\'s Powertools logger, which POWERTOOLS_LOG_LEVEL=SILENT (the tests\' level) silences: no console line of its own', async () => {
    // Before, the line was a console.error of hand-made JSON, printed whatever the level.
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const written = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const { gateway } = gatewayWith({ write: async () => undefined, flush: async () => { throw new Error('disk full'); } }, async () => { throw new Error('unused'); });
      await gateway.settled();
      expect([printed.mock.calls, written.mock.calls]).toEqual([[], []]);
    } finally {
      printed.mockRestore();
      written.mockRestore();
    }
  });
});
