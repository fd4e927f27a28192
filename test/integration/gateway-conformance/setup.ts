import { mockBedrockRuntime } from '../../support/bedrock-strict.js';
import { SageMakerRuntimeClient, SageMakerRuntimeServiceException } from '@aws-sdk/client-sagemaker-runtime';
import { mockStrict } from '../../support/strict-mock.js';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
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

/** What `startConformanceGateway` takes: the platform config, the tenants, an upstream to reuse. */
export interface ConformanceGatewayOptions { config?: PlatformConfig; tenants?: TenantRecord[]; upstream?: FakeUpstream }

/**
 * `tessera serve` in this process against a fake upstream in scripted-only mode, with tokens for
 * its tenants (`acme` unless others are given).
 */
export async function startConformanceGateway(options: ConformanceGatewayOptions = {}) {
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

export type ConformanceGateway = Awaited<ReturnType<typeof startConformanceGateway>>;

/** The gateway and the Python driver of a test file, readable once its `beforeAll` ran. */
export interface ConformanceSuite<P> {
  readonly env: ConformanceGateway;
  readonly python: P;
}

/**
 * Registers a test file's hooks: `beforeAll` starts `startConformanceGateway(options)` and the
 * Python driver (`startPython`, e.g. `PythonClient.start`) together; `beforeEach` resets the fake
 * upstream (scripts and recorded calls); `afterAll` stops the driver, then the gateway.
 */
export function useConformanceGateway<P extends { stop(): Promise<void> }>(startPython: () => Promise<P>, options: ConformanceGatewayOptions = {}): ConformanceSuite<P> {
  let env: ConformanceGateway | undefined;
  let python: P | undefined;
  beforeAll(async () => {
    [env, python] = await Promise.all([startConformanceGateway(options), startPython()]);
  });
  afterAll(async () => {
    await python?.stop();
    await env?.stop();
  });
  beforeEach(() => env!.upstream.reset());
  return {
    get env() { return env!; },
    get python() { return python!; },
  };
}

/**
 * Bedrock Runtime and SageMaker Runtime mocked at the AWS SDK for a test file (`fakeAwsEnv` first,
 * so the clients the gateway makes find a region and credentials): reset before each test,
 * restored after the file.
 */
export function mockProviderSdks() {
  fakeAwsEnv();
  const bedrock = mockBedrockRuntime();
  const sagemaker = mockStrict(SageMakerRuntimeClient, 'sagemaker-runtime', SageMakerRuntimeServiceException);
  beforeEach(() => {
    bedrock.reset();
    sagemaker.reset();
  });
  afterAll(() => {
    bedrock.restore();
    sagemaker.restore();
  });
  return { bedrock, sagemaker };
}

/**
 * OpenAI's rate-limit headers on a 429: `retry-after` in seconds, and `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
 * with resets as durations (`20ms`, `1s`, `6m0s`, `1h2m3s`). With `retryAfter: false`, a 429 that says
 * `x-should-retry: false` with no wait the upstream gave: no `retry-after` at all (docs/gateway.md, "429 and `Retry-After`").
 */
export function expectRateHeaders(headers: Record<string, string>, { retryAfter = true }: { retryAfter?: boolean } = {}): void {
  if (retryAfter) expect(headers['retry-after'], 'retry-after').toMatch(/^\d+$/);
  else expect(headers['retry-after'], 'retry-after (no wait is known)').toBeUndefined();
  for (const kind of ['requests', 'tokens']) {
    expect(headers[`x-ratelimit-limit-${kind}`], `x-ratelimit-limit-${kind}`).toMatch(/^\d+$/);
    expect(headers[`x-ratelimit-remaining-${kind}`], `x-ratelimit-remaining-${kind}`).toMatch(/^\d+$/);
    expect(headers[`x-ratelimit-reset-${kind}`], `x-ratelimit-reset-${kind}`).toMatch(/^(\d+h)?(\d+m)?\d+(ms|s)$/);
  }
}

export { PythonClient };
