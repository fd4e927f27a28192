import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { describe, expect, it, vi } from 'vitest';
import { answerCostHeaders, auditCostUsd, FileAuditSink, usdDecimal, type AuditRecord } from '../../../lambdas/inference/audit.js';
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

  it('usdDecimal writes the record\'s figure as x-tessera-cost-usd: a plain decimal, no exponent, no float tail, Number() of it the record\'s', () => {
    const cases: Array<[number, string]> = [
      [(0.001 + 0.012) / 1000, '0.000013'], [20 * 0.00002 / 1000, '0.0000004'], [0.00030000000000000003, '0.0003'],
      [1.2345678915, '1.234567892'], [12.5, '12.5'], [0, '0'], [-0.0000000001, '0'], [1e-9, '0.000000001'], [123456.000000001, '123456.000000001'],
    ];
    for (const [usd, text] of cases) {
      expect(usdDecimal(usd), String(usd)).toBe(text);
      expect(Number(usdDecimal(usd)), String(usd)).toBe(auditCostUsd(usd));
    }
    expect(JSON.stringify({ costUsd: auditCostUsd(20 * 0.00002 / 1000) })).toBe('{"costUsd":4e-7}'); // what the record holds in JSON
  });

  it('answerCostHeaders: the cost, the model that answered, a fallback\'s model asked for; none without a cost', () => {
    expect(answerCostHeaders({ costUsd: 0.000013000000000000001, model: 'openai/gpt-5.4-mini' })).toEqual({ 'x-tessera-cost-usd': '0.000013', 'x-tessera-model': 'openai/gpt-5.4-mini' });
    expect(answerCostHeaders({ costUsd: 0, model: 'b', fallbackFrom: 'a' })).toEqual({ 'x-tessera-cost-usd': '0', 'x-tessera-model': 'b', 'x-tessera-fallback-from': 'a' });
    expect(answerCostHeaders({ model: 'b' })).toEqual({});
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
