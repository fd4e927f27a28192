import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Authorizer } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { unauthorized } from '../../../lambdas/inference/openai-errors.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { requestLogKeys } from '../../../lambdas/shared/request-log-context.js';
import { gatewayConfig } from '../../support/gateway-config.js';

/**
 * A log line written while the gateway answers a request (a provider's WARN, deep below the route) names that request,
 * as its answer's `x-request-id` and audit record do; `tessera serve` answers many at once in one process, so each line
 * must name its own request, not the last one begun. Before, such lines named none.
 */
describe('log lines name the request being answered', () => {
  it('two requests at once: what each one\'s code reads is its own request id, the one its answer and audit record carry', async () => {
    // GIVEN a gateway whose authorizer reads the log keys after a pause (the other request runs meanwhile), then refuses
    const config = gatewayConfig();
    const records: AuditRecord[] = [];
    const seen = new Map<string, { requestId?: string; tenantId?: string }>();
    const authorizer = {
      authorize: async (authorization: string) => {
        await new Promise((resolve) => setTimeout(resolve, authorization === 'Bearer first' ? 20 : 1));
        seen.set(authorization, requestLogKeys());
        throw unauthorized('token refused', 'invalid_token');
      },
      settled: async () => undefined,
    } as unknown as Authorizer;
    const gateway = new Gateway({ config, store: new MemoryStore(), audit: { write: async (r) => void records.push(r), flush: async () => undefined }, authorizer, providers: new ProviderRegistry(config, async () => 'k') });
    const answers = new Map<string, Record<string, string> | undefined>();
    const responder = (token: string): GatewayResponder => ({ json: (_status, _body, headers) => void answers.set(token, headers), stream: () => ({ write: () => undefined, end: () => undefined }) });
    // WHEN two requests are answered at once
    await Promise.all(['first', 'second'].map((t) => gateway.handle({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${t}` } }, responder(`Bearer ${t}`))));
    // THEN each read its own request's id: its answer's x-request-id
    const first = answers.get('Bearer first')?.['x-request-id'];
    const second = answers.get('Bearer second')?.['x-request-id'];
    expect(first).toMatch(/^req_[0-9a-f]{24}$/);
    expect(second).toMatch(/^req_[0-9a-f]{24}$/);
    expect(first).not.toBe(second);
    expect(seen.get('Bearer first')).toEqual({ requestId: first });
    expect(seen.get('Bearer second')).toEqual({ requestId: second });
    expect(records.map((r) => r.requestId).sort()).toEqual([first, second].sort());
    // AND outside a request, nothing is named
    expect(requestLogKeys()).toEqual({});
  });
});
