import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';
import type { GpuNodeGroupConfig } from '../../config/schema.js';
import { ec2Vcpus, onDemandVcpuQuota } from '../../config/instance-catalog.js';
import { describeAwsError } from '../aws-errors.js';
import { grantOrRerun, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/** vCPUs one GPU node group needs per On-Demand quota at full scale: maxSize × the largest vCPU count among its types of that quota. */
export function gpuVcpuNeeds(group: GpuNodeGroupConfig): Array<{ quotaCode: string; name: string; vcpus: number; instanceType: string }> {
  if (group.maxSize === 0) return [];
  const byCode = new Map<string, { quotaCode: string; name: string; vcpus: number; instanceType: string }>();
  for (const type of group.instanceTypes) {
    const quota = onDemandVcpuQuota(type);
    const vcpus = group.maxSize * ec2Vcpus(type);
    const prev = byCode.get(quota.quotaCode);
    if (!prev || vcpus > prev.vcpus) byCode.set(quota.quotaCode, { ...quota, vcpus, instanceType: type });
  }
  return [...byCode.values()];
}

/** How a quota line doctor could not read begins (a warning: nothing is known short). */
const notChecked = 'could not check the quota:';

const increase = (code: string, value: number, region: string) => `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${code} --desired-value ${value} --region ${region}`;

/**
 * Check 8: GPU vCPU quotas. The shared cluster's GPU node group (when a tier uses shared compute)
 * against the platform account's applied quota (GetServiceQuota); each dedicated tier's GPU node
 * group against the AWS default (GetAWSDefaultServiceQuota: its tenant accounts do not exist yet),
 * a shortfall being a warning since the lifecycle requests the increase (WAITING_FOR_QUOTA). A quota that could not be
 * read (refused, throttled, an answer that is not Service Quotas', as moto's for EC2 quotas) is a warning for both, saying
 * doctor could not check it and how to read it yourself: nothing is known short (the instance-offer lines' rule). Before,
 * the shared cluster's was a fail and the tiers' a warning, for the same unread quota.
 * Quotas: Running On-Demand G and VT instances L-DB2E81BA, P instances L-417A185B (onDemandVcpuQuota).
 */
export async function gpuQuotaChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const { config, region } = ctx;
  if (Object.values(config.tiers).some((t) => t.compute.mode === 'shared')) {
    const account = config.platformAccountId;
    const where = { account, region };
    const needs = gpuVcpuNeeds(config.sharedCluster.gpu);
    if (needs.length === 0) out.push(result('gpu-quota:shared-cluster', 'GPU quota shared cluster', 'pass', 'no GPU node group (sharedCluster.gpu.maxSize 0): needs nothing', where));
    const access = needs.length ? await ctx.clientsIn(account) : undefined;
    for (const need of needs) {
      const id = `gpu-quota:shared-cluster:${need.quotaCode}`;
      const title = `GPU quota shared cluster (${need.name})`;
      if (!access) continue;
      if (!access.ok) {
        out.push(unreadable(id, title, access, account, region));
        continue;
      }
      try {
        const q = await access.clients.serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: need.quotaCode }));
        const value = q.Quota?.Value ?? 0;
        const found = `applied quota ${value} vCPUs, the node group needs ${need.vcpus} (maxSize ${config.sharedCluster.gpu.maxSize} × ${need.instanceType})`;
        out.push(value >= need.vcpus
          ? result(id, title, 'pass', found, where)
          : result(id, title, 'fail', found, { ...where, fix: `in account ${account}: ${increase(need.quotaCode, need.vcpus, region)}, or lower sharedCluster.gpu.maxSize` }));
      } catch (e) {
        const look = `in account ${account}: aws service-quotas get-service-quota --service-code ec2 --quota-code ${need.quotaCode} --region ${region}, and compare with ${need.vcpus} vCPUs`;
        out.push(result(id, title, 'warn', `${notChecked} ${describeAwsError(`servicequotas:GetServiceQuota ec2/${need.quotaCode}`, e)}`, { ...where, fix: grantOrRerun(e, `grant servicequotas:GetServiceQuota, or check it in the Service Quotas console (EC2, ${need.name}) and compare with ${need.vcpus} vCPUs`, look) }));
      }
    }
  }
  for (const [tier, t] of Object.entries(config.tiers)) {
    if (t.compute.mode !== 'dedicated') continue;
    const where = { region };
    const needs = gpuVcpuNeeds(t.compute.gpu);
    if (needs.length === 0) {
      out.push(result(`gpu-quota:tier:${tier}`, `GPU quota tier ${tier}`, 'pass', `no GPU node group (gpu.maxSize 0): needs nothing`, where));
      continue;
    }
    for (const need of needs) {
      const id = `gpu-quota:tier:${tier}:${need.quotaCode}`;
      const title = `GPU quota tier ${tier} (${need.name})`;
      try {
        const q = await ctx.caller.serviceQuotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: need.quotaCode }));
        const value = q.Quota?.Value ?? 0;
        const found = `AWS default ${value} vCPUs for a new tenant account, the node group needs ${need.vcpus} (maxSize ${t.compute.gpu.maxSize} × ${need.instanceType})`;
        out.push(value >= need.vcpus
          ? result(id, title, 'pass', found, where)
          : result(id, title, 'warn', `${found}: onboarding waits in WAITING_FOR_QUOTA while the lifecycle requests the increase`, { ...where, fix: `nothing now; to onboard faster, ask AWS Support to raise ${need.quotaCode} for new accounts of the organization, or lower tiers.${tier}.compute.gpu.maxSize` }));
      } catch (e) {
        const look = `aws service-quotas get-aws-default-service-quota --service-code ec2 --quota-code ${need.quotaCode} --region ${region}`;
        out.push(result(id, title, 'warn', `${notChecked} ${describeAwsError(`servicequotas:GetAWSDefaultServiceQuota ec2/${need.quotaCode}`, e)}`, { ...where, fix: `${grantOrRerun(e, 'grant servicequotas:GetAWSDefaultServiceQuota', look)}; the tier needs ${need.vcpus} vCPUs of ${need.name}` }));
      }
    }
  }
  return out;
}
