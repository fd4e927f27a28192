import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { describe, expect, it, vi } from 'vitest';
import { auditCostUsd, FileAuditSink, type AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import type { Provider } from '../../../lambdas/inference/providers/provider.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * The audit record's `costUsd` in nano-dollars (9 decimals), the ledger's figure: the catalog
 * prices of gatewayConfig (0.001 / 0.002 per 1k) and 1 prompt + 6 completion tokens cost
 * (0.001 + 0.012) / 1000 = 0.000013000000000000001 in floating point.
 */
const answer = (): ChatCompletion => ({
  id: 'x', object: 'chat.completion', created: 1, model: 'default',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 6, total_tokens: 7 },
});

describe('the audit record\'s costUsd', () => {
  it('auditCostUsd rounds to the nano-dollar', () => {
    expect((0.001 + 0.012) / 1000).toBe(0.000013000000000000001);
    expect(auditCostUsd((0.001 + 0.012) / 1000)).toBe(0.000013);
    expect(auditCostUsd(0.00030000000000000003)).toBe(0.0003);
    expect(auditCostUsd(1.2345675)).toBe(1.2345675);
    expect(auditCostUsd(1.2345678915)).toBe(1.234567892);
    expect(auditCostUsd(20 * 0.00002 / 1000)).toBe(4e-7); // a 20-token text-embedding-3-small request (4.0000000000000003e-7): 0 in micro-dollars
    expect(auditCostUsd(0)).toBe(0);
    expect(Object.is(auditCostUsd(-0.0000000001), 0)).toBe(true);
  });

  it('is written to .tessera/audit.jsonl rounded (0.000013, not 0.000013000000000000001), while the budgets count the exact cost', async () => {
    const config = gatewayConfig();
    const store = new MemoryStore();
    const acme = localTenant('acme', 'enterprise');
    store.putTenant(acme);
    const settle = vi.spyOn(store, 'settle');
    const caller: Caller = { tenantId: 'acme', userId: 'u', role: 'member', tenant: acme };
    const provider: Provider = { complete: async () => answer(), stream: async function* () {} };
    const providers = new ProviderRegistry(config, async () => 'k');
    vi.spyOn(providers, 'get').mockResolvedValue(provider);
    const file = join(tempDir('tessera-audit-'), 'audit.jsonl');
    const sink = new FileAuditSink(file, 1);
    const gateway = new Gateway({ config, store, audit: sink, authorizer: { authorize: async () => caller, settled: async () => undefined } as unknown as Authorizer, providers });
    const answers: Array<{ status: number; body: string }> = [];
    const res: GatewayResponder = { json: (status, body) => void answers.push({ status, body }), stream: () => ({ write: () => undefined, end: () => undefined }) };
    await gateway.handle({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }] }) }, res);
    await sink.flush();
    expect(answers[0].status).toBe(200);
    const line = readFileSync(file, 'utf8').trim();
    expect(line).toMatch(/"costUsd":0\.000013[,}]/);
    expect((JSON.parse(line) as AuditRecord).costUsd).toBe(0.000013);
    // The budgets are settled with the exact cost, as before: only the record is rounded.
    expect(settle).toHaveBeenCalledTimes(1);
    expect(settle.mock.calls[0][2]).toBe((1 * 0.001 + 6 * 0.002) / 1000);
  });
});
