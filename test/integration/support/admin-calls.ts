import type { LocalPlatform } from './local-platform.js';

/**
 * One call of the local platform's admin API (`platform.apiUrl`), JSON in and out, as the CLI makes
 * it: the answer's status and parsed body. `headers` are added to `content-type` (an
 * Idempotency-Key, for instance).
 */
export async function adminCall(platform: LocalPlatform, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${platform.apiUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** An onboarding request body for `tenantId` on `tier` (name, admin e-mail and request id derived from the id), `extra` merged over it. */
export const onboardingRequest = (tenantId: string, tier: string, extra: Record<string, unknown> = {}) => ({
  tenantId, name: `${tenantId} Inc.`, tier, adminEmail: `admin@${tenantId}.example.com`, requestId: `req-${tenantId}-0001`, ...extra,
});

/** A shared workload account whose VPC quotas the platform team raised (Service Quotas codes for VPCs, IGWs, NAT gateways, EIPs): for files that onboard many VPC tenants. */
export const RAISED_VPC_QUOTAS = { 'L-F678F1CE': 100, 'L-A4707A72': 100, 'L-0263D0A3': 100, 'L-FE5A380F': 100 };
