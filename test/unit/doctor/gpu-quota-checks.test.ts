import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient, ServiceQuotasServiceException } from '@aws-sdk/client-service-quotas';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { gpuQuotaChecks, gpuVcpuNeeds } from '../../../lib/cli/doctor/gpu-quota-checks.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const sq = mockStrict(ServiceQuotasClient, 'service-quotas', ServiceQuotasServiceException);
const quota = (value: number) => ({ Quota: { Value: value } });

beforeEach(() => {
  sq.reset();
  mockSts();
});

describe('GPU vCPU quotas', () => {
  it('needs maxSize × the largest type per quota (g5.4xlarge: 16 vCPUs, p4d.24xlarge: 96)', () => {
    expect(gpuVcpuNeeds({ amiType: 'BOTTLEROCKET_x86_64_NVIDIA', instanceTypes: ['g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge'], minSize: 1, maxSize: 5, diskSizeGiB: 200 })).toEqual([
      { quotaCode: 'L-DB2E81BA', name: 'Running On-Demand G and VT instances', vcpus: 80, instanceType: 'g5.4xlarge' },
      { quotaCode: 'L-417A185B', name: 'Running On-Demand P instances', vcpus: 480, instanceType: 'p4d.24xlarge' },
    ]);
  });

  it('passes the shared cluster against the platform account\'s applied quota and the enterprise tier against the defaults', async () => {
    sq.on(GetServiceQuotaCommand).resolves(quota(64)).on(GetAWSDefaultServiceQuotaCommand).resolves(quota(1000));
    const lines = await gpuQuotaChecks(testContext());
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['gpu-quota:shared-cluster:L-DB2E81BA', 'pass'],
      ['gpu-quota:tier:enterprise:L-DB2E81BA', 'pass'],
      ['gpu-quota:tier:enterprise:L-417A185B', 'pass'],
    ]);
    // shared cluster: maxSize 4 × g5.2xlarge/g6.2xlarge (8 vCPUs) = 32
    expect(lines[0].detail).toBe('applied quota 64 vCPUs, the node group needs 32 (maxSize 4 × g5.2xlarge)');
    expect(lines[0].account).toBe(PLATFORM);
    expect(await accessKeyOf(sq.commandCalls(GetServiceQuotaCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
    expect(sq.commandCalls(GetServiceQuotaCommand)[0].args[0].input).toEqual({ ServiceCode: 'ec2', QuotaCode: 'L-DB2E81BA' });
  });

  it('fails a short platform quota with the increase request', async () => {
    sq.on(GetServiceQuotaCommand).resolves(quota(0)).on(GetAWSDefaultServiceQuotaCommand).resolves(quota(1000));
    const [shared] = await gpuQuotaChecks(testContext());
    expect(shared).toMatchObject({ status: 'fail', detail: 'applied quota 0 vCPUs, the node group needs 32 (maxSize 4 × g5.2xlarge)' });
    expect(shared.fix).toBe(`in account ${PLATFORM}: aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-DB2E81BA --desired-value 32 --region us-east-1, or lower sharedCluster.gpu.maxSize`);
  });

  it('warns (not fails) when a new tenant account\'s default is short: the lifecycle requests the increase', async () => {
    sq.on(GetServiceQuotaCommand).resolves(quota(64)).on(GetAWSDefaultServiceQuotaCommand).resolves(quota(0));
    const lines = await gpuQuotaChecks(testContext());
    const p = lines.find((l) => l.id === 'gpu-quota:tier:enterprise:L-417A185B')!;
    expect(p.status).toBe('warn');
    expect(p.detail).toBe('AWS default 0 vCPUs for a new tenant account, the node group needs 480 (maxSize 5 × p4d.24xlarge): onboarding waits in WAITING_FOR_QUOTA while the lifecycle requests the increase');
  });

  it('needs nothing for node groups of maxSize 0 (no call made)', async () => {
    const config = testConfig({ sharedCluster: { gpu: { minSize: 0, maxSize: 0 } }, tiers: { professional: { compute: { quota: { gpus: 0 } } }, enterprise: { compute: { gpu: { minSize: 0, maxSize: 0 } } } } });
    const lines = await gpuQuotaChecks(testContext(config));
    expect(lines.map((l) => [l.id, l.status, l.detail])).toEqual([
      ['gpu-quota:shared-cluster', 'pass', 'no GPU node group (sharedCluster.gpu.maxSize 0): needs nothing'],
      ['gpu-quota:tier:enterprise', 'pass', 'no GPU node group (gpu.maxSize 0): needs nothing'],
    ]);
    expect(sq.calls()).toHaveLength(0);
  });

  it('translates a refused read: a quota not read is a warning that doctor could not check it, the shared cluster\'s as the tiers\' (it was a fail)', async () => {
    sq.on(GetServiceQuotaCommand).rejects(awsError('AccessDeniedException', 'not authorized')).on(GetAWSDefaultServiceQuotaCommand).rejects(awsError('NoSuchResourceException', 'no such quota'));
    const lines = await gpuQuotaChecks(testContext());
    expect(lines.map((l) => l.status)).toEqual(['warn', 'warn', 'warn']);
    expect(lines[0].detail).toMatch(/^could not check the quota: servicequotas:GetServiceQuota ec2\/L-DB2E81BA failed: AccessDeniedException/);
    expect(lines[1].detail).toMatch(/^could not check the quota: servicequotas:GetAWSDefaultServiceQuota ec2\/L-DB2E81BA failed: NoSuchResourceException/);
    // The grant is the fix of the refusal only; the other failure says to rerun, with the CLI command that reads it.
    expect(lines[0].fix).toBe('grant servicequotas:GetServiceQuota, or check it in the Service Quotas console (EC2, Running On-Demand G and VT instances) and compare with 32 vCPUs');
    expect(lines[1].fix).toBe('rerun doctor; if it persists, see AWS\'s answer: aws service-quotas get-aws-default-service-quota --service-code ec2 --quota-code L-DB2E81BA --region us-east-1; the tier needs 80 vCPUs of Running On-Demand G and VT instances');
  });

  it('grades the same unread answer (an emulator\'s, not Service Quotas\') alike for the shared cluster and a tier: warn, with the command to read it', async () => {
    const notService = Object.assign(new Error('Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { $response: { statusCode: 500, body: '<html>' }, $metadata: { httpStatusCode: 500 } });
    sq.on(GetServiceQuotaCommand).rejects(notService).on(GetAWSDefaultServiceQuotaCommand).rejects(notService);
    const lines = await gpuQuotaChecks(testContext());
    expect(new Set(lines.map((l) => l.status))).toEqual(new Set(['warn']));
    expect(lines.map((l) => l.id)).toContain('gpu-quota:shared-cluster:L-DB2E81BA');
    expect(lines[0].fix).toMatch(/^rerun doctor; if it persists, see AWS's answer: in account \d{12}: aws service-quotas get-service-quota --service-code ec2 --quota-code L-DB2E81BA --region us-east-1, and compare with 32 vCPUs$/);
  });
});
