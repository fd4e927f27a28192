import { APIGatewayClient, GetUsagePlanKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListAccountsCommand, ListParentsCommand, ListPoliciesForTargetCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { getTenant } from '../../lambdas/shared/registry.js';

const local = useLocalLifecycle();
const { config } = local;

const request = onboardRequest;

describe('onboarding (aws-local-stepfunctions + moto)', () => {
  it('onboards a VPC-isolated tenant into the workload account', async () => {
    // WHEN
    const run = await local.workflows.run('onboard', request('acme', 'starter'));
    // THEN
    expect(run.error).toBeUndefined();
    const record = await getTenant('acme');
    expect(record).toMatchObject({ status: 'ACTIVE', isolation: 'vpc', accountId: config.workloadAccountId, vpcCidr: '10.64.0.0/22', blueprintVersion: '1.0.0', stackName: 'tessera-acme' });
    expect(record!.currentStep).toBeUndefined();
    expect(record!.executions).toEqual([expect.objectContaining({ kind: 'onboard', status: 'SUCCEEDED' })]);
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-acme' }))).Stacks![0];
    // created with the database unprotected, then updated to protect it (Check blueprint)
    expect(stack.StackStatus).toBe('UPDATE_COMPLETE');
    expect(stack.Parameters).toEqual(expect.arrayContaining([{ ParameterKey: 'VpcCidr', ParameterValue: '10.64.0.0/22' }, { ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }]));
    const db = await new RDSClient({ credentials: await local.fixture.as(config.workloadAccountId) }).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: record!.stackOutputs.DatabaseInstanceId }));
    expect(db.DBInstances![0].DeletionProtection).toBe(true);
    const ns = (await new CloudFormationClient({ credentials: local.fixture.platform }).send(new DescribeStacksCommand({ StackName: 'tessera-acme-namespace' }))).Stacks![0];
    expect(ns.StackStatus).toBe('CREATE_COMPLETE');
    const sg = await new EC2Client({ credentials: await local.fixture.as(config.workloadAccountId) }).send(new DescribeSecurityGroupsCommand({ GroupIds: [record!.stackOutputs.DefaultSecurityGroupId] }));
    expect(sg.SecurityGroups![0].IpPermissions).toEqual([]);
    expect(sg.SecurityGroups![0].IpPermissionsEgress).toEqual([]);
    expect(run.states).not.toContain('Create account');
    // The tenant's usage key sits in its tier's usage plan.
    const apigw = new APIGatewayClient({ credentials: local.fixture.platform });
    const plans = (await apigw.send(new GetUsagePlansCommand({}))).items!;
    const starter = plans.find((p) => p.name === 'tessera-starter')!;
    expect(record!.usageKey).toMatchObject({ plan: starter.id });
    expect((await apigw.send(new GetUsagePlanKeysCommand({ usagePlanId: starter.id }))).items!.map((k) => k.id)).toContain(record!.usageKey!.id);
    expect((await local.fixture.events()).filter((e) => e.detail.tenantId === 'acme').map((e) => e.detailType)).toEqual(['Tenant Activated']);
  });

  it('onboards an account-isolated tenant: vends an account, fences it, moves it to its tier OU, lifts the fence when active', async () => {
    const run = await local.workflows.run('onboard', request('globex', 'enterprise'));
    expect(run.error).toBeUndefined();
    const record = await getTenant('globex');
    expect(record).toMatchObject({ status: 'ACTIVE', isolation: 'account' });
    expect(record!.accountId).toMatch(/^\d{12}$/);
    expect(record!.accountId).not.toBe(config.workloadAccountId);
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const parent = (await orgs.send(new ListParentsCommand({ ChildId: record!.accountId! }))).Parents![0];
    expect(parent.Type).toBe('ORGANIZATIONAL_UNIT');
    const policies = (await orgs.send(new ListPoliciesForTargetCommand({ TargetId: record!.accountId!, Filter: 'SERVICE_CONTROL_POLICY' }))).Policies!.map((p) => p.Name);
    expect(policies).not.toContain('tessera-quarantine');
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(record!.accountId!) });
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-globex' }))).Stacks![0].StackStatus).toBe('UPDATE_COMPLETE'); // the protecting update
    expect(run.states).toEqual(expect.arrayContaining(['Acquire account slot', 'Create account', 'Quarantine account', 'Verify provisioning access', 'Release account slot']));
  });

  it('gives one account and one stack when the same request runs twice', async () => {
    const first = await local.workflows.run('onboard', request('initech', 'enterprise'));
    const second = await local.workflows.run('onboard', request('initech', 'enterprise'));
    expect(first.error).toBeUndefined();
    expect(second.error).toBeUndefined();
    expect(second.states).toContain('Nothing to do');
    expect(second.states).not.toContain('Create account');
    const accounts = (await new OrganizationsClient({ credentials: local.fixture.management }).send(new ListAccountsCommand({}))).Accounts!;
    expect(accounts.filter((a) => a.Name === 'tessera-initech')).toHaveLength(1);
  });
});
