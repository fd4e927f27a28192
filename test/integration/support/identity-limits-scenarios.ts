// The exactness scenarios of issue 15 (limits per user and per key), run on every gateway store:
// the embedded MemoryStore, the SharedMemoryStore across worker threads, DynamoDB (moto).
import type { ApiKeyRecord } from '../../../lib/identity/api-key-record.js';
import type { SubjectLimits } from '../../../lib/identity/subject-limits.js';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { RequestPipeline, type PipelineRequest } from '../../../lambdas/inference/pipeline.js';
import { resolvePolicy } from '../../../lambdas/inference/policy.js';
import type { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import type { GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import { gatewayConfig } from '../../support/gateway-config.js';

/** The tenant's limits: 30 requests a minute, 300 tokens a day (30 reservations of 10). */
export const TENANT_RATE = { minute: 30, hour: 10_000, day: 100_000 };
export const TENANT_DAY_TOKENS = 300;
/** A subject's: 10 requests a minute, 100 tokens a day (10 reservations of 10). */
export const SUBJECT_LIMITS: SubjectLimits = { requestsPerMinute: 10, tokensPerDay: 100 };
export const TOKENS = 10;

export const limitsTenant = (tenantId: string) => localTenant(tenantId, 'enterprise');

/** A caller of `tenantId`: a key (with `limits` on its record) or a user (the tenant's `userLimits` apply). */
export function limitsCaller(tenantId: string, kind: 'user' | 'key', id: string, limits?: SubjectLimits): Caller {
  const tenant = limitsTenant(tenantId);
  if (kind === 'user') return { tenantId, tenant, userId: id, role: 'member' };
  const key = { tenantId, keyId: id, limits, role: 'member' } as unknown as ApiKeyRecord;
  return { tenantId, tenant, userId: id, keyId: id, key, role: 'member' };
}

/** A pipeline on `store` and a request of `caller`, under the tenant limits above (and `userLimits` for its users). */
export function limitsRequest(store: GatewayStore, caller: Caller, userLimits?: SubjectLimits): { pipeline: RequestPipeline; request: PipelineRequest; model: ModelEntry } {
  const config = gatewayConfig();
  const pipeline = new RequestPipeline(config, store, {} as ProviderRegistry, async () => ({ blocked: false }));
  const base = resolvePolicy(config, { ...caller.tenant, gateway: { ...(caller.tenant.gateway ?? {}), userLimits } } as Caller['tenant']);
  const policy = { ...base, rate: TENANT_RATE, limits: { dayTokens: TENANT_DAY_TOKENS } };
  return { pipeline, request: { caller, policy, audit: {} as PipelineRequest['audit'], signal: new AbortController().signal }, model: config.gateway.models[0] };
}

/** What a burst did: how many were admitted, and each refusal's scope header and message. */
export interface Burst { admitted: number; refusals: Array<{ status: number; scope?: string; message: string; code?: string }> }

/** `n` concurrent admits (step: rate limits) or reservations of TOKENS tokens (step: budgets) of one caller. */
export async function burst(store: GatewayStore, caller: Caller, step: 'admit' | 'reserve', n: number, userLimits?: SubjectLimits): Promise<Burst> {
  const { pipeline, request, model } = limitsRequest(store, caller, userLimits);
  const results = await Promise.allSettled(Array.from({ length: n }, () => (step === 'admit' ? pipeline.admit({ ...request }) : pipeline.reserve({ ...request }, model, TOKENS, 0))));
  return {
    admitted: results.filter((r) => r.status === 'fulfilled').length,
    refusals: results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => {
      const e = r.reason as GatewayError;
      return { status: e.status, scope: e.headers?.['x-tessera-limit-scope'], message: e.message, code: e.code };
    }),
  };
}
