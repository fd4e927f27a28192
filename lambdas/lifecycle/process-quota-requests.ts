import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { LIFECYCLE_EVENTS, type TenantRecord } from '../../lib/tenant-record.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv, tierConfig } from '../shared/environment.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { listTenants, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { gpuCapacityFor } from './request-compute-quotas.js';
import { appliedQuota } from './service-quotas.js';

/** Execution name of the scale-up change: one per tenant and day, so a second run of the day starts nothing new. */
export const scaleUpExecutionName = (tenantId: string, now = new Date()) => `gpu-quota-${tenantId}-${now.toISOString().slice(0, 10).replace(/-/g, '')}`;

/**
 * Daily: for each ACTIVE tenant whose GPU node group waits for its quota (`gpuCapacity.state`
 * WAITING_FOR_QUOTA), reads the applied G and VT / P vCPU quota again; once it holds one node,
 * records the capacity READY and starts a change execution on the tenant's own tier and version,
 * whose *Deploy blueprint* then passes the tier's GPU node sizes. A tenant whose quota cannot be
 * read is skipped until the next run; one whose change Step Functions did not start is put back to
 * WAITING_FOR_QUOTA (with the applied value read) for the next run.
 */
export const handler = lifecycleHandler('Process quota requests', async (_event: unknown = {}) => {
  const waiting = (await listTenants({ status: 'ACTIVE' })).filter((t) => t.gpuCapacity?.state === 'WAITING_FOR_QUOTA' && t.accountId);
  const started: string[] = [];
  const stillWaiting: string[] = [];
  for (const tenant of waiting) {
    // Another operation holds the tenant: its scale-up change would be refused; tried again tomorrow.
    if (tenant.lease) {
      stillWaiting.push(tenant.tenantId);
      continue;
    }
    try {
      if (await approved(tenant)) started.push(tenant.tenantId);
      else stillWaiting.push(tenant.tenantId);
    } catch (e) {
      logger.warn('GPU quota not checked; tried again tomorrow', { tenantId: tenant.tenantId, error: e as Error });
      stillWaiting.push(tenant.tenantId);
    }
  }
  return { started, waiting: stillWaiting };
}, { trackStep: false });

async function approved(tenant: TenantRecord): Promise<boolean> {
  const tier = tierConfig(tenant.tier);
  const gpu = tenant.gpuCapacity!;
  if (tier.compute.mode !== 'dedicated') return false;
  const sq = clientWith(ServiceQuotasClient, await tenantAccountCredentials(tenant.accountId!, tenant.tenantId, 'quotas'));
  const quota = await appliedQuota(sq, { serviceCode: 'ec2', quotaCode: gpu.quotaCode, name: gpu.quotaCode }, 0);
  const capacity = gpuCapacityFor(tier.compute.gpu, quota.value);
  if (capacity.state !== 'READY') {
    await updateTenant(tenant.tenantId, { gpuCapacity: { ...gpu, appliedVcpus: quota.value, checkedAt: capacity.checkedAt } });
    return false;
  }
  await updateTenant(tenant.tenantId, { gpuCapacity: capacity });
  const name = scaleUpExecutionName(tenant.tenantId);
  try {
    await platformClient(SFNClient).send(new StartExecutionCommand({
      stateMachineArn: requireEnv(ENV.changeStateMachineArn),
      name,
      input: JSON.stringify({ request: { tenantId: tenant.tenantId, requestId: name }, change: { tier: tenant.tier, blueprintVersion: tenant.blueprintVersion } }),
    }));
  } catch (e) {
    if ((e as Error).name !== 'ExecutionAlreadyExists') {
      // No change started: the record goes back to waiting, so tomorrow's run (which takes WAITING_FOR_QUOTA tenants only)
      // starts it. Left READY, it said the node group had its GPU nodes while the stack kept it at 0, and no run came back to it.
      await updateTenant(tenant.tenantId, { gpuCapacity: { ...gpu, appliedVcpus: quota.value, checkedAt: capacity.checkedAt } })
        .catch((undo: unknown) => logger.error('GPU capacity left READY without its scale-up change', { tenantId: tenant.tenantId, error: undo as Error }));
      throw e;
    }
  }
  await emitLifecycleEvent(LIFECYCLE_EVENTS.gpuQuotaApproved, {
    tenantId: tenant.tenantId, accountId: tenant.accountId, quotaCode: gpu.quotaCode, appliedVcpus: quota.value, minSize: capacity.minSize, desiredSize: capacity.desiredSize, changeExecution: name,
  });
  return true;
}
