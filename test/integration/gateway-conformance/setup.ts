import { expect } from 'vitest';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { GatewayPolicy, TenantRecord } from '../../../lib/tenant-record.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { PythonClient } from './clients.js';

/** AWS SDK clients made in this process find a region and (fake) credentials; their `send` is mocked. */
export function fakeAwsEnv(): void {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'conformance';
  process.env.AWS_SECRET_ACCESS_KEY = 'conformance';
  delete process.env.AWS_PROFILE;
}

/** An enterprise tenant whose requests reach the provider as sent: no guardrail rewrites, no system prompt, no token cap. */
export function plainTenant(tenantId: string, gateway: Partial<GatewayPolicy> = {}): TenantRecord {
  return localTenant(tenantId, 'enterprise', {
    gateway: { fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, auditPromptText: false, ...gateway },
  });
}

export type Served = Awaited<ReturnType<typeof serveGateway>>;

/**
 * `tessera serve` in this process against a fake upstream in scripted-only mode, with tokens for
 * its tenants (`acme` unless others are given).
 */
export async function startConformanceGateway(options: { config?: PlatformConfig; tenants?: TenantRecord[]; upstream?: FakeUpstream } = {}) {
  const upstream = options.upstream ?? (await new FakeUpstream().start());
  upstream.scriptOnly = true;
  const tenants = options.tenants ?? [plainTenant('acme')];
  const gw = await serveGateway(options.config ?? conformanceConfig(), upstream.url, tenants);
  const tokens: Record<string, string> = {};
  for (const t of tenants) tokens[t.tenantId] = await gw.token(t.tenantId);
  return {
    upstream, gw, tokens,
    async stop() {
      await gw.stop();
      if (!options.upstream) await upstream.stop();
    },
  };
}

/**
 * OpenAI's rate-limit headers on a 429: `retry-after` in seconds, and `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
 * with resets as durations (`20ms`, `1s`, `6m0s`, `1h2m3s`).
 */
export function expectRateHeaders(headers: Record<string, string>): void {
  expect(headers['retry-after'], 'retry-after').toMatch(/^\d+$/);
  for (const kind of ['requests', 'tokens']) {
    expect(headers[`x-ratelimit-limit-${kind}`], `x-ratelimit-limit-${kind}`).toMatch(/^\d+$/);
    expect(headers[`x-ratelimit-remaining-${kind}`], `x-ratelimit-remaining-${kind}`).toMatch(/^\d+$/);
    expect(headers[`x-ratelimit-reset-${kind}`], `x-ratelimit-reset-${kind}`).toMatch(/^(\d+h)?(\d+m)?\d+(ms|s)$/);
  }
}

export { PythonClient };
