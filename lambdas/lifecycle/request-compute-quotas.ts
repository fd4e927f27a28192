import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { ec2Vcpus, onDemandVcpuQuota } from '../../lib/config/instance-catalog.js';
import { computeVcpuNeeds } from '../../lib/quotas.js';
import type { GpuCapacity, QuotaRequest, TenantRecord } from '../../lib/tenant-record.js';
import type { TierConfig } from '../../lib/config/schema.js';
import { clientWith } from '../shared/aws-clients.js';
import { platformConfig, tierConfig } from '../shared/environment.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { mergeQuotaRequests } from './quota-check.js';
import { appliedQuota, quotaListings, requestIncrease } from './service-quotas.js';
import type { LifecycleState } from './state.js';

/**
 * Whether the GPU node group can start at the tier's sizes (decision 7 of issue 9): it can when
 * the applied On-Demand vCPU quota of the first GPU instance type's family (G and VT, or P) holds
 * one node of that type; otherwise it starts at 0 nodes (`WAITING_FOR_QUOTA`). `appliedVcpus`
 * undefined (Service Quotas unreadable) also waits. A group with `maxSize` 0 (a dedicated tier
 * without GPUs) is `READY` at 0 nodes: it asks no quota and waits for none.
 */
export function gpuCapacityFor(gpu: Extract<TierConfig['compute'], { mode: 'dedicated' }>['gpu'], appliedVcpus: number | undefined, at = new Date()): GpuCapacity {
  const instanceType = gpu.instanceTypes[0];
  const oneNodeVcpus = ec2Vcpus(instanceType);
  // A tier without GPUs (maxSize 0) wants no node: nothing to wait for.
  const ready = gpu.maxSize === 0 || (appliedVcpus !== undefined && appliedVcpus >= oneNodeVcpus);
  return {
    state: ready ? 'READY' : 'WAITING_FOR_QUOTA',
    instanceType,
    quotaCode: onDemandVcpuQuota(instanceType).quotaCode,
    appliedVcpus,
    oneNodeVcpus,
    minSize: ready ? gpu.minSize : 0,
    desiredSize: ready ? (gpu.desiredSize ?? gpu.minSize) : 0,
    checkedAt: at.toISOString(),
  };
}

/**
 * Reads the On-Demand vCPU quotas a dedicated tier needs (`computeVcpuNeeds`: Standard, G and VT,
 * P — in vCPUs, for every node group at its maxSize) and requests an increase where the applied
 * value is below the need; never asks for less than applied, never twice while a request is open.
 * Returns the applied value per quota code (undefined when it could not be read).
 */
export async function requestComputeQuotas(sq: ServiceQuotasClient, tier: TierConfig, region: string): Promise<{ applied: Map<string, number | undefined>; requests: QuotaRequest[] }> {
  const applied = new Map<string, number | undefined>();
  const requests: QuotaRequest[] = [];
  const listings = quotaListings();
  for (const need of computeVcpuNeeds(tier)) {
    try {
      // GPU vCPU quotas of a new account are often 0: with no value at all, assume 0, not the documented default.
      const quota = await appliedQuota(sq, { serviceCode: 'ec2', quotaCode: need.quotaCode, name: need.name }, 0, listings);
      applied.set(need.quotaCode, quota.value);
      if (quota.value >= need.vcpus) continue;
      const { alreadyOpen: _, ...request } = await requestIncrease(sq, { serviceCode: 'ec2', quotaCode: need.quotaCode, name: need.name, applied: quota.value, desired: need.vcpus, region });
      requests.push(request);
    } catch (e) {
      logger.warn('compute quota not checked or not requested; the GPU node group starts at 0 if it is the GPU quota', { quotaCode: need.quotaCode, error: e as Error });
      if (!applied.has(need.quotaCode)) applied.set(need.quotaCode, undefined);
    }
  }
  return { applied, requests };
}

/**
 * Account vending, once the account is reachable: asks for the On-Demand vCPU quotas the tier's
 * dedicated compute needs and decides where the GPU node group starts. Never fails the
 * onboarding on a quota: any Service Quotas error is logged and the node group starts at 0.
 * Records `quotaRequests` and `gpuCapacity` in the registry; *Deploy blueprint* passes
 * `GpuNodesMinSize`/`GpuNodesDesiredSize` from `gpuCapacity`.
 */
export const handler = lifecycleHandler('Request compute quotas', async (state: LifecycleState) => {
  const record: TenantRecord = await requireTenant(state.request.tenantId);
  const tier = tierConfig(record.tier);
  if (tier.compute.mode !== 'dedicated' || !record.accountId) return { requested: [], gpu: undefined };
  const region = process.env.AWS_REGION ?? platformConfig().homeRegion;
  let applied = new Map<string, number | undefined>();
  let requests: QuotaRequest[] = [];
  try {
    const sq = clientWith(ServiceQuotasClient, await tenantAccountCredentials(record.accountId, record.tenantId, 'quotas'));
    ({ applied, requests } = await requestComputeQuotas(sq, tier, region));
  } catch (e) {
    logger.warn('Service Quotas unreachable; the GPU node group starts at 0', { error: e as Error });
  }
  const gpu = gpuCapacityFor(tier.compute.gpu, applied.get(onDemandVcpuQuota(tier.compute.gpu.instanceTypes[0]).quotaCode));
  await updateTenant(record.tenantId, { gpuCapacity: gpu, ...(requests.length ? { quotaRequests: mergeQuotaRequests(record.quotaRequests, requests) } : {}) });
  return { requested: requests.map((r) => ({ quotaCode: r.quotaCode, desired: r.desired, requestId: r.requestId, status: r.status })), gpu: { state: gpu.state, minSize: gpu.minSize, desiredSize: gpu.desiredSize } };
});
