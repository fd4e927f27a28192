import { afterAll, afterEach, beforeAll } from 'vitest';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { configWith } from '../../support/config-with.js';
import { startHarnessMoto } from './harness-moto.js';
import type { MotoServer } from './moto-server.js';
import { createPlatformFixture, type PlatformFixture } from './platform-fixture.js';
import { WorkflowRunner, workflowDefinitions } from './workflow-runner.js';

export interface LocalLifecycle {
  readonly config: PlatformConfig;
  moto: MotoServer;
  workflows: WorkflowRunner;
  fixture: PlatformFixture;
  /** Undo functions (fault injections) run after each test. */
  readonly cleanups: Array<() => void>;
}

/**
 * One moto and one platform per test file: the Lambdas cache their SDK clients (and so their
 * credentials) as they do in AWS, and a moto reset would orphan those; tests use distinct tenants.
 */
export function useLocalLifecycle(config: PlatformConfig = configWith()): LocalLifecycle {
  const ctx = { config, cleanups: [] as Array<() => void> } as LocalLifecycle;
  beforeAll(async () => {
    ctx.moto = await startHarnessMoto({ serial: true }); // conditional writes (slots, claims) need DynamoDB's isolation
    ctx.workflows = new WorkflowRunner(await workflowDefinitions(config));
    ctx.fixture = await createPlatformFixture(ctx.moto.endpoint, config);
    Object.assign(process.env, ctx.fixture.env);
  });
  afterEach(() => {
    ctx.cleanups.splice(0).forEach((undo) => undo());
    if (ctx.workflows) ctx.workflows.wrap = undefined;
  });
  afterAll(async () => ctx.moto?.stop());
  return ctx;
}

/** An onboarding request whose ids derive from the tenant id. */
export const onboardRequest = (tenantId: string, tier: string, extra: Record<string, unknown> = {}) => ({
  tenantId, name: `${tenantId} Inc.`, tier, adminEmail: `admin@${tenantId}.example.com`, requestId: `req-${tenantId}-0001`, ...extra,
});
