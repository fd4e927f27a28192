import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Authorizer } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { logSpy } from '../../support/service-log.js';

describe('a failure of the gateway itself', () => {
  it('is a 500 server_error / internal_error with the request id, as OpenAI answers its own failures; no internals; the audit records it', async () => {
    // GIVEN a gateway whose authorizer fails with a plain error (a defect, not a refusal)
    const config = gatewayConfig();
    const records: AuditRecord[] = [];
    const log = logSpy('tessera-gateway', 'error');
    const authorizer = { authorize: async () => { throw new TypeError('secret internals: x.includes is not a function'); }, settled: async () => undefined } as unknown as Authorizer;
    const gateway = new Gateway({ config, store: new MemoryStore(), audit: { write: async (r) => void records.push(r), flush: async () => undefined }, authorizer, providers: new ProviderRegistry(config, async () => 'k') });
    const answers: Array<{ status: number; body: string; headers?: Record<string, string> }> = [];
    const res: GatewayResponder = { json: (status, body, headers) => void answers.push({ status, body, headers }), stream: () => ({ write: () => undefined, end: () => undefined }) };
    // WHEN a request comes
    await gateway.handle({ method: 'GET', path: '/v1/models', headers: { authorization: 'Bearer x' } }, res);
    // THEN the caller gets OpenAI's server-error shape, naming the request id only
    expect(answers).toHaveLength(1);
    const { error } = JSON.parse(answers[0].body) as { error: { message: string; type: string; code: string; param: null } };
    expect(answers[0].status).toBe(500);
    expect(error).toMatchObject({ type: 'server_error', code: 'internal_error', param: null });
    expect(error.message).toBe(`internal error (request ${records[0].requestId})`);
    expect(answers[0].body).not.toContain('secret internals');
    expect(answers[0].headers?.['x-request-id']).toBe(records[0].requestId);
    // AND the log has what went wrong, the audit the status
    expect(log).toHaveBeenCalledWith('gateway failure', { requestId: records[0].requestId, error: 'secret internals: x.includes is not a function' });
    expect(records[0]).toMatchObject({ status: 500, outcome: 'internal_error' });
    log.mockRestore();
  });
});
