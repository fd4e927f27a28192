import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryAuditSink, type AuditRecord } from '../../../lambdas/inference/audit.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { GATEWAY_METRICS_NAMESPACE, MetricsAuditSink, gatewayMetricsOf } from '../../../lambdas/inference/metrics-audit-sink.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';

const served: AuditRecord = {
  requestId: 'chatcmpl-abc', at: '2026-12-01T10:00:00.000Z', method: 'POST', path: '/v1/chat/completions',
  tenantId: 'acme', tier: 'enterprise', userId: 'u-1', keyId: 'key_1', role: 'member', model: 'bedrock/claude', provider: 'bedrock',
  promptTokens: 11, completionTokens: 7, costUsd: 0.0042, latencyMs: 812.5, upstreamLatencyMs: 790, status: 200, outcome: 'ok',
};

interface Directive { Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }

/**
 * The EMF specification's rules for one log line: a `_aws` member with an integer Timestamp and
 * directives; each dimension key a string member of the line; each metric a numeric member; at
 * most 30 dimensions per set and 100 metrics per directive.
 */
function expectValidEmf(line: Record<string, any>): Directive[] {
  expect(Number.isInteger(line._aws.Timestamp)).toBe(true);
  const directives: Directive[] = line._aws.CloudWatchMetrics;
  for (const d of directives) {
    expect(d.Namespace).toBe(GATEWAY_METRICS_NAMESPACE);
    expect(d.Metrics.length).toBeLessThanOrEqual(100);
    for (const set of d.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(30);
      for (const key of set) expect(typeof line[key], key).toBe('string');
    }
    for (const m of d.Metrics) expect(typeof line[m.Name], m.Name).toBe('number');
  }
  return directives;
}

describe('gatewayMetricsOf', () => {
  it('counts a request that skipped a cooling model (CoolingSkips by Service) and carries which, only on such lines', () => {
    const skipped = 'openai/gpt-4o-mini (cooling until 2026-12-05T12:00:32.000Z after 3 failing requests; last: timeout)';
    const line = gatewayMetricsOf({ ...served, fallbackFrom: 'openai/gpt-4o-mini', detail: { skippedCoolingModels: skipped } });
    const directives = expectValidEmf(line);
    expect(directives.at(-1)).toEqual({ Namespace: GATEWAY_METRICS_NAMESPACE, Dimensions: [['Service']], Metrics: [{ Name: 'CoolingSkips', Unit: 'Count' }] });
    expect(line).toMatchObject({ CoolingSkips: 1, skippedCoolingModels: skipped });
    const plain = gatewayMetricsOf(served);
    expect(plain.CoolingSkips).toBeUndefined();
    expect(JSON.stringify(plain)).not.toContain('CoolingSkips');
  });

  it('counts a request answered from the response cache (CacheHits by Service and by Tier), with no provider metrics: it called no upstream', () => {
    const hit: AuditRecord = { ...served, costUsd: 0, promptTokens: undefined, completionTokens: undefined, upstreamLatencyMs: undefined, responseCache: { status: 'HIT', ageSeconds: 5 } };
    const line = gatewayMetricsOf(hit);
    const directives = expectValidEmf(line);
    expect(directives.at(-1)).toEqual({ Namespace: GATEWAY_METRICS_NAMESPACE, Dimensions: [['Service'], ['Service', 'Tier']], Metrics: [{ Name: 'CacheHits', Unit: 'Count' }] });
    expect(line).toMatchObject({ CacheHits: 1, Requests: 1, Tokens: 0, CostUsd: 0 });
    expect(line.ProviderRequests).toBeUndefined();
    expect(directives.some((d) => d.Dimensions.some((set) => set.includes('Provider')))).toBe(false);
    const miss = gatewayMetricsOf({ ...served, responseCache: { status: 'MISS', stored: true } });
    expect(miss.CacheHits).toBeUndefined();
    expect(miss.ProviderRequests).toBe(1);
  });

  it('makes one EMF line per record: totals and per tier, per provider; tenant, model and key as plain fields', () => {
    const line = gatewayMetricsOf(served);
    expect(line).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-12-01T10:00:00.000Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'Tessera/Gateway', Dimensions: [['Service'], ['Service', 'Tier']],
            Metrics: [
              { Name: 'Requests', Unit: 'Count' }, { Name: 'Latency', Unit: 'Milliseconds' }, { Name: 'ClientErrors', Unit: 'Count' },
              { Name: 'ServerErrors', Unit: 'Count' }, { Name: 'Throttles', Unit: 'Count' }, { Name: 'Tokens', Unit: 'Count' }, { Name: 'CostUsd', Unit: 'None' },
            ],
          },
          { Namespace: 'Tessera/Gateway', Dimensions: [['Provider']], Metrics: [{ Name: 'ProviderRequests', Unit: 'Count' }, { Name: 'UpstreamErrors', Unit: 'Count' }, { Name: 'UpstreamLatency', Unit: 'Milliseconds' }] },
        ],
      },
      Service: 'gateway', Tier: 'enterprise', Provider: 'bedrock', StatusCode: '200',
      Requests: 1, Latency: 812.5, ClientErrors: 0, ServerErrors: 0, Throttles: 0, Tokens: 18, CostUsd: 0.0042,
      ProviderRequests: 1, UpstreamErrors: 0, UpstreamLatency: 790,
      requestId: 'chatcmpl-abc', outcome: 'ok', tenantId: 'acme', model: 'bedrock/claude', keyId: 'key_1',
    });
    expectValidEmf(line);
  });

  it('carries the alias a request asked for (requestedModel) beside the catalog model served, as a plain field', () => {
    const line = gatewayMetricsOf({ ...served, requestedModel: 'claude' });
    expect(line).toMatchObject({ model: 'bedrock/claude', requestedModel: 'claude' });
    expect(expectValidEmf(line).flatMap((d) => d.Dimensions.flat())).not.toContain('requestedModel');
    expect(gatewayMetricsOf(served)).not.toHaveProperty('requestedModel');
  });

  it('never makes a tenant, user, key, model or request id a dimension (bounded cardinality)', () => {
    for (const record of [served, { ...served, status: 502, outcome: 'upstream_error' }, { ...served, status: 429, outcome: 'rate_limit_exceeded' }]) {
      const dims = expectValidEmf(gatewayMetricsOf(record)).flatMap((d) => d.Dimensions.flat());
      expect(new Set(dims)).toEqual(new Set(['Service', 'Tier', 'Provider', ...(record.status >= 400 ? ['StatusCode'] : [])]));
    }
  });

  it('counts an upstream failure as a 5xx, an upstream error of its provider and an error response of its code', () => {
    const line = gatewayMetricsOf({ ...served, status: 502, outcome: 'upstream_error', upstreamLatencyMs: undefined, promptTokens: undefined, completionTokens: undefined, costUsd: undefined });
    expect(line).toMatchObject({ ServerErrors: 1, ClientErrors: 0, Throttles: 0, UpstreamErrors: 1, ErrorResponses: 1, StatusCode: '502', Tokens: 0, CostUsd: 0 });
    const directives = expectValidEmf(line);
    expect(directives).toContainEqual({ Namespace: 'Tessera/Gateway', Dimensions: [['StatusCode']], Metrics: [{ Name: 'ErrorResponses', Unit: 'Count' }] });
    // No upstream answer: no latency metric for the provider (a 0 would drag its percentiles down).
    expect(directives.find((d) => d.Dimensions[0][0] === 'Provider')!.Metrics.map((m) => m.Name)).toEqual(['ProviderRequests', 'UpstreamErrors']);
    expect(line).not.toHaveProperty('UpstreamLatency');
    expect(gatewayMetricsOf({ ...served, status: 504 })).toMatchObject({ UpstreamErrors: 1, ServerErrors: 1 });
  });

  it('does not count the router\'s own deadline (504 request_deadline_exceeded) as an upstream error of the provider: a long request, not a failing provider', () => {
    expect(gatewayMetricsOf({ ...served, status: 504, outcome: 'request_deadline_exceeded' })).toMatchObject({ UpstreamErrors: 0, ServerErrors: 1, ErrorResponses: 1, StatusCode: '504' });
    expect(gatewayMetricsOf({ ...served, status: 504, outcome: 'upstream_timeout' })).toMatchObject({ UpstreamErrors: 1 });
  });

  it('counts a 429 as a throttle and a client error, not an upstream error', () => {
    expect(gatewayMetricsOf({ ...served, status: 429, outcome: 'budget_exceeded' })).toMatchObject({ Throttles: 1, ClientErrors: 1, ServerErrors: 0, UpstreamErrors: 0, ErrorResponses: 1, StatusCode: '429' });
  });

  it('puts a request without a tenant under Tier "none", with no provider directive and no tenant field', () => {
    const line = gatewayMetricsOf({ requestId: 'req_1', at: '2026-12-01T10:00:00.000Z', method: 'POST', path: '/v1/chat/completions', latencyMs: 3, status: 401, outcome: 'invalid_token' });
    expect(line).toMatchObject({ Tier: 'none', ClientErrors: 1, StatusCode: '401' });
    expect(line).not.toHaveProperty('tenantId');
    expect(line).not.toHaveProperty('Provider');
    expect(expectValidEmf(line).map((d) => d.Dimensions)).toEqual([[['Service'], ['Service', 'Tier']], [['StatusCode']]]);
  });
});

describe('MetricsAuditSink', () => {
  it('prints one JSON line (no console prefix) per record and writes the record to the wrapped sink', async () => {
    const inner = new MemoryAuditSink();
    const lines: string[] = [];
    await new MetricsAuditSink(inner, (l) => lines.push(l)).write(served);
    expect(inner.records).toEqual([served]);
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(lines[0].indexOf('\n')).toBe(lines[0].length - 1);
    expect(JSON.parse(lines[0])).toEqual(gatewayMetricsOf(served));
  });

  it('prints to stdout by default, and nothing when POWERTOOLS_METRICS_DISABLED is true, as Powertools\' Metrics', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', '');
      await new MetricsAuditSink(new MemoryAuditSink()).write(served);
      expect(write).toHaveBeenCalledTimes(1);
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
      const inner = new MemoryAuditSink();
      await new MetricsAuditSink(inner).write(served);
      expect(write).toHaveBeenCalledTimes(1);
      expect(inner.records).toEqual([served]);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  it('still writes the audit record when printing fails, and passes on the wrapped sink\'s failure', async () => {
    const inner = new MemoryAuditSink();
    await new MetricsAuditSink(inner, () => { throw new Error('EPIPE'); }).write(served);
    expect(inner.records).toEqual([served]);
    const failing = { write: async () => { throw new Error('S3 down'); } };
    await expect(new MetricsAuditSink(failing, () => undefined).write(served)).rejects.toThrow('S3 down');
  });
});

describe('the gateway fills what the metrics read', () => {
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

  it('records the tenant\'s tier and the upstream\'s latency, within the request\'s', async () => {
    upstream.delayMs = 40;
    const res = await fetch(`${gw.url}/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${await gw.token('acme')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const { id } = await res.json() as { id: string };
    const record = gw.audit.records.find((r) => r.requestId === id)!;
    expect(record).toMatchObject({ tier: 'enterprise', provider: 'openai-compatible' });
    expect(record.upstreamLatencyMs).toBeGreaterThanOrEqual(40);
    expect(record.upstreamLatencyMs).toBeLessThanOrEqual(record.latencyMs);
  });
});
