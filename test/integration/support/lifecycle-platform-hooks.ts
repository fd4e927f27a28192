import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { getTenant } from '../../../lambdas/shared/registry.js';
import { adminCall, onboardingRequest, RAISED_VPC_QUOTAS } from './admin-calls.js';
import { configWithBusinessTier } from './business-tier.js';
import { fakeServiceQuotas, type FakeServiceQuotas } from './fake-service-quotas.js';
import { LocalPlatform } from './local-platform.js';

/** What useLifecyclePlatform gives a test file. */
export interface LifecyclePlatformHooks {
  /** The file's platform (moto, the workflows, the admin API); set from beforeAll on. */
  readonly platform: LocalPlatform;
  /** Undo functions a test pushes (fault injections); each runs after that test. */
  readonly cleanups: Array<() => void>;
  /** One admin API call (adminCall). */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Waits for an execution the platform started to end. */
  settled(executionArn: string): ReturnType<LocalPlatform['awaitExecution']>;
  /** Onboards `tenantId` on `tier` through the admin API (onboardingRequest), expects SUCCEEDED and returns the record. */
  onboarded(tenantId: string, tier: string): Promise<TenantRecord>;
}

/**
 * Registers the hooks the lifecycle integration files share: before all, a LocalPlatform of
 * `config` on moto, a shared workload account with raised VPC quotas (these files onboard many VPC
 * tenants), and the `end-stopped-execution` rule on Step Functions' status changes (what EventBridge
 * does in AWS); after each test, the test's `cleanups` and any `workflows.wrap` it set; after all,
 * `beforeStop(platform)` (a file's own checks across its executions), then the platform stopped
 * once its executions settled.
 * @default config configWithBusinessTier() (professional, and business: the same network under another name)
 */
export function useLifecyclePlatform(options: { config?: PlatformConfig; beforeStop?: (platform: LocalPlatform) => Promise<void> } = {}): LifecyclePlatformHooks {
  let platform: LocalPlatform | undefined;
  let quotas: FakeServiceQuotas | undefined;
  const cleanups: Array<() => void> = [];
  beforeAll(async () => {
    platform = await LocalPlatform.start(options.config ?? configWithBusinessTier());
    quotas = fakeServiceQuotas(RAISED_VPC_QUOTAS);
    const { handler } = await import('../../../lambdas/lifecycle/end-stopped-execution.js');
    platform.onStatusChange.push((detail) => handler({ detail } as never));
  });
  afterEach(() => {
    cleanups.splice(0).forEach((undo) => undo());
    if (platform) platform.workflows.wrap = undefined;
  });
  afterAll(async () => {
    try {
      await platform?.settle();
      if (platform && options.beforeStop) await options.beforeStop(platform);
    } finally {
      quotas?.remove();
      await platform?.stop();
    }
  });
  const hooks: LifecyclePlatformHooks = {
    get platform() {
      if (!platform) throw new Error('useLifecyclePlatform: the platform starts in beforeAll; use it inside hooks and tests');
      return platform;
    },
    cleanups,
    api: (method, path, body, headers) => adminCall(hooks.platform, method, path, body, headers),
    settled: (executionArn) => hooks.platform.awaitExecution(executionArn),
    async onboarded(tenantId, tier) {
      const res = await hooks.api('POST', '/admin/tenants', onboardingRequest(tenantId, tier));
      expect(res.status).toBe(202);
      expect((await hooks.settled(res.body.executionArn)).status).toBe('SUCCEEDED');
      return (await getTenant(tenantId))!;
    },
  };
  return hooks;
}
