import {
  CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DescribeChangeSetCommand, ExecuteChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand, UpdateStackCommand, type Parameter, type Stack, type StackStatus, ListStackResourcesCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ACCOUNT_ZONES, blueprintObject, standingSubnets, credentials, leased, NAMESPACE_DEPLOYER_SCOPE, ownedTags, setLifecycleEnv, state, useNamespaceDeployerScope } from './support.js';
import { GetRoleCommand, IAMClient, IAMServiceException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
/** The blueprint catalog (Deploy blueprint reads the template it deploys). */
const templates = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
/** The tenant account's zones (Deploy blueprint chooses the VPC's). */
const zones = mockStrict(EC2Client, 'ec2', EC2ServiceException);

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, sts, zones, iam]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  zones.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  // a standing stack's subnets (a tenant without recorded zones: Deploy blueprint reads them from its stack)
  cfn.on(ListStackResourcesCommand).resolves(standingSubnets().resources);
  zones.on(DescribeSubnetsCommand).resolves(standingSubnets().subnets);
  templates.on(GetObjectCommand).resolves(blueprintObject());
});

const EXECUTION_ROLE = 'arn:aws:iam::333333333333:role/TesseraBlueprintExecution';
const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });
const parameters = (protection?: string): Parameter[] => [
  { ParameterKey: 'TenantId', ParameterValue: 'acme' }, { ParameterKey: 'VpcCidr', ParameterValue: '10.64.0.0/22' },
  ...(protection === undefined ? [] : [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: protection }]),
];
const tenantStack = (StackStatus: string, protection?: string, extra: Partial<Stack> = {}): { Stacks: Stack[] } => ({ Stacks: [{
  StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: StackStatus as StackStatus, CreationTime: new Date(),
  RoleARN: EXECUTION_ROLE, Parameters: parameters(protection), Tags: ownedTags(), Outputs: [{ OutputKey: 'KeyArn', OutputValue: 'arn:k' }, { OutputKey: 'BlueprintVersion', OutputValue: '1.0.0' }], ...extra,
}] });
const valueOf = (params: Parameter[] | undefined, key: string) => params?.find((p) => p.ParameterKey === key);

describe('the tenant database is created unprotected, then protected (Deploy blueprint)', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;

  it('creates the stack with DatabaseDeletionProtection=false, so that a failed create can roll the database back', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'DatabaseDeletionProtection')).toEqual({ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'false' });
  });

  it.each(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'])('updates a %s stack (change, upgrade, resumed run) with DatabaseDeletionProtection=true', async (status) => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0' }));
    cfn.on(DescribeStacksCommand).resolves(tenantStack(status, 'false'));
    // A change or upgrade updates through a change set (change-set-guard.ts)
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }));
    const input = cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input;
    expect(valueOf(input.Parameters, 'DatabaseDeletionProtection')).toEqual({ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' });
    expect(input).toMatchObject({ RoleARN: EXECUTION_ROLE });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)[0].args[0].input).toMatchObject({ RetainExceptOnCreate: true });
  });

  it('passes no such parameter to a namespace stack', async () => {
    records.set('acme', leased('onboard'));
    useNamespaceDeployerScope();
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'tessera-acme-namespace-deployer', Arn: 'arn:aws:iam::222222222222:role/tessera-acme-namespace-deployer', Path: '/', RoleId: 'AROAEXAMPLE000000000', CreateDate: new Date(), AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole' }] })), PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: NAMESPACE_DEPLOYER_SCOPE.boundaryArn } } });
    iam.on(PutRolePolicyCommand).resolves({});
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'namespace' }));
    expect(valueOf(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters, 'DatabaseDeletionProtection')).toBeUndefined();
  });
});

describe('Check blueprint switches the database protection on before the blueprint is complete', async () => {
  const check = (await import('../../../lambdas/lifecycle/check-stack.js')).handler;

  it('updates a CREATE_COMPLETE stack whose parameter is false: previous template, previous values, protection true, its own role; reports IN_PROGRESS and records no outputs yet', async () => {
    // GIVEN the create completed with the database unprotected
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(tenantStack('CREATE_COMPLETE', 'false'));
    cfn.on(UpdateStackCommand).resolves({ StackId: 'id' });
    // WHEN
    const out = await check(state('acme', { blueprint: 'tenant' }));
    // THEN
    expect(out).toEqual({ state: 'IN_PROGRESS', status: 'CREATE_COMPLETE', protecting: 'DatabaseDeletionProtection' });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(1);
    expect(cfn.commandCalls(UpdateStackCommand)[0].args[0].input).toEqual({
      StackName: 'tessera-acme',
      UsePreviousTemplate: true,
      Parameters: [
        { ParameterKey: 'TenantId', UsePreviousValue: true }, { ParameterKey: 'VpcCidr', UsePreviousValue: true },
        { ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' },
      ],
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      RoleARN: EXECUTION_ROLE,
    });
    expect(records.get('acme')?.stackOutputs).toEqual({});
  });

  it('waits while the protecting update runs, then is COMPLETE and records the outputs, with no second update', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(tenantStack('UPDATE_IN_PROGRESS', 'true'));
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ state: 'IN_PROGRESS' });
    cfn.on(DescribeStacksCommand).resolves(tenantStack('UPDATE_COMPLETE', 'true'));
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toEqual({ state: 'COMPLETE', status: 'UPDATE_COMPLETE' });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
    expect(records.get('acme')).toMatchObject({ stackOutputs: { KeyArn: 'arn:k', BlueprintVersion: '1.0.0' }, blueprintVersion: '1.0.0' });
  });

  it('takes an update already running (a re-run of the step after its UpdateStack went through) as a wait', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(tenantStack('CREATE_COMPLETE', 'false'));
    cfn.on(UpdateStackCommand).rejects(Object.assign(new Error('Stack:arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1 is in UPDATE_IN_PROGRESS state and can not be updated.'), { name: 'ValidationError' }));
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ state: 'IN_PROGRESS' });
  });

  it('fails naming the reason when the protecting update rolled back', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(tenantStack('UPDATE_ROLLBACK_COMPLETE', 'false'));
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      { LogicalResourceId: 'DatabaseInstance', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'not authorized to perform rds:ModifyDBInstance', StackId: 's', StackName: 's', EventId: '1', Timestamp: new Date() },
    ] });
    await expect(check(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({
      name: 'StackFailed',
      message: "stack tessera-acme is UPDATE_ROLLBACK_COMPLETE: the update that switches the database's deletion protection on (DatabaseDeletionProtection=true) rolled back: DatabaseInstance UPDATE_FAILED: not authorized to perform rds:ModifyDBInstance",
    });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  it('fails when CloudFormation refuses the protecting update outright', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(tenantStack('CREATE_COMPLETE', 'false'));
    cfn.on(UpdateStackCommand).rejects(Object.assign(new Error('Role arn:aws:iam::333333333333:role/TesseraBlueprintExecution is invalid or cannot be assumed'), { name: 'ValidationError' }));
    await expect(check(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/cannot be assumed/) });
  });

  it('is COMPLETE for a stack of a blueprint without the parameter (protected by the template itself)', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves(tenantStack('CREATE_COMPLETE'));
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ state: 'COMPLETE' });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });
});
