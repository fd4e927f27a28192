import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { fakeServiceQuotas } from './support/fake-service-quotas.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

const local = useLocalLifecycle();
const { config } = local;

describe('quotas on the onboarding path (Service Quotas faked, the rest moto)', () => {
  it('fails a VPC tenant early when the workload account is at its VPC quota: the quota named, an increase filed, no range claimed, no stack', async () => {
    // GIVEN the workload account holds as many VPCs as its applied quota allows
    const ec2 = new EC2Client({ credentials: await local.fixture.as(config.workloadAccountId) });
    const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs?.length ?? 0;
    const quotas = fakeServiceQuotas({ 'L-F678F1CE': vpcs });
    local.cleanups.push(quotas.remove);
    // WHEN a starter tenant is onboarded
    const run = await local.workflows.run('onboard', onboardRequest('umbrella', 'starter'));
    // THEN it stops at Allocate network, naming the quota, its code, the account, the usage and the need
    expect(run.error?.message).toMatch(/QuotaExceeded/);
    const record = await getTenant('umbrella');
    expect(record?.status).toBe('FAILED');
    expect(record?.failure?.step).toBe('Allocate network');
    expect(record?.failure?.reason).toMatch(new RegExp(`account ${config.workloadAccountId} us-east-1 uses ${vpcs} of ${vpcs} "VPCs per Region" \\(vpc L-F678F1CE\\); tier starter needs 1 more`));
    // an increase to usage + need was requested, and said so
    expect(quotas.requests).toEqual([{ serviceCode: 'vpc', quotaCode: 'L-F678F1CE', desiredValue: vpcs + 1 }]);
    expect(record?.failure?.reason).toMatch(/requested an increase to \d+/);
    // nothing was claimed or created
    expect(record?.vpcCidr).toBeUndefined();
    const control = DynamoDBDocumentClient.from(new DynamoDBClient({ credentials: local.fixture.platform }));
    const claims = (await control.send(new ScanCommand({ TableName: 'tessera-lifecycle-control' }))).Items ?? [];
    expect(claims.filter((c) => String(c.id).startsWith('cidr#') && c.tenantId === 'umbrella')).toEqual([]);
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'tessera-umbrella' }))).rejects.toThrow(/does not exist/);
    expect(run.states).not.toContain('Deploy blueprint');
  });

  it('requests the GPU vCPU quotas when it vends an account, starts the GPU node group at 0, and still onboards', async () => {
    // GIVEN a fresh account whose On-Demand G/VT and P quotas are 0 (as new accounts often are)
    const quotas = fakeServiceQuotas({ 'L-1216C47A': 5, 'L-DB2E81BA': 0, 'L-417A185B': 0 });
    local.cleanups.push(quotas.remove);
    // WHEN an enterprise tenant is onboarded
    const run = await local.workflows.run('onboard', onboardRequest('weyland', 'enterprise'));
    // THEN the onboarding succeeds
    expect(run.error).toBeUndefined();
    const record = await getTenant('weyland');
    expect(record?.status).toBe('ACTIVE');
    // the tier's vCPU needs were requested (24 Standard, 80 G and VT, 480 P at full scale), each once
    expect(quotas.requests).toEqual(expect.arrayContaining([
      { serviceCode: 'ec2', quotaCode: 'L-1216C47A', desiredValue: 24 },
      { serviceCode: 'ec2', quotaCode: 'L-DB2E81BA', desiredValue: 80 },
      { serviceCode: 'ec2', quotaCode: 'L-417A185B', desiredValue: 480 },
    ]));
    expect(quotas.requests).toHaveLength(3);
    expect(record?.quotaRequests?.map((r) => r.quotaCode).sort()).toEqual(['L-1216C47A', 'L-417A185B', 'L-DB2E81BA']);
    // the GPU node group waits at 0 for the quota instead of failing the create
    expect(record?.gpuCapacity?.state).toBe('WAITING_FOR_QUOTA');
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(record!.accountId!) });
    const params = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-weyland' }))).Stacks![0].Parameters!;
    expect(params).toEqual(expect.arrayContaining([{ ParameterKey: 'GpuNodesMinSize', ParameterValue: '0' }, { ParameterKey: 'GpuNodesDesiredSize', ParameterValue: '0' }]));
    // vending asked before the network was allocated
    expect(run.states.indexOf('Request compute quotas')).toBeLessThan(run.states.indexOf('Allocate network'));
  });
});
