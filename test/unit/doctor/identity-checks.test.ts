import { CloudFormationClient, DescribeStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient, DescribeUserPoolCommand, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { DescribePermissionSetCommand, ListAccountAssignmentsCommand, ListInstancesCommand, ListPermissionSetsCommand, SSOAdminClient, SSOAdminServiceException } from '@aws-sdk/client-sso-admin';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { platformAdminChecks, userPoolChecks } from '../../../lib/cli/doctor/identity-checks.js';
import { awsError, MANAGEMENT, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const sso = mockStrict(SSOAdminClient, 'sso-admin', SSOAdminServiceException);
const POOL = 'us-east-1_AbCdEf123';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const PS = (n: number) => `arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-${String(n).padStart(16, "0")}`;

beforeEach(() => {
  cfn.reset();
  cognito.reset();
  sso.reset();
  mockSts();
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'TesseraPlatform', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'TenantUserPoolId', OutputValue: POOL }] }] });
  cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL, Name: 'tessera-tenants', SchemaAttributes: [{ Name: 'email' }, { Name: 'custom:tenant_id' }] } });
  sso.on(ListInstancesCommand).resolves({ Instances: [{ InstanceArn: INSTANCE }] })
    .on(ListPermissionSetsCommand).resolvesOnce({ PermissionSets: [PS(1)], NextToken: 'n' }).resolves({ PermissionSets: [PS(2)] })
    .on(DescribePermissionSetCommand, { PermissionSetArn: PS(1) }).resolves({ PermissionSet: { Name: 'TesseraTenantAdmin' } })
    .on(DescribePermissionSetCommand, { PermissionSetArn: PS(2) }).resolves({ PermissionSet: { Name: 'TesseraPlatformAdmin' } })
    .on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [{ AccountId: PLATFORM, PrincipalType: 'USER', PrincipalId: 'u-1' }] });
});

describe('Cognito tenant user pool', () => {
  it('passes the pool named by the TesseraPlatform output, with custom:tenant_id', async () => {
    const [line] = await userPoolChecks(testContext());
    expect(line).toMatchObject({ id: 'cognito-user-pool', status: 'pass', detail: `${POOL} (tessera-tenants) has custom:tenant_id`, account: PLATFORM });
    expect(cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'TesseraPlatform' });
  });

  it('fails with "deploy TesseraPlatform first" when the stack does not exist', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id TesseraPlatform does not exist'));
    const [line] = await userPoolChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', detail: `stack TesseraPlatform is not deployed in account ${PLATFORM} (us-east-1)` });
    expect(line.fix).toMatch(/^deploy TesseraPlatform first: npx cdk deploy TesseraPlatform/);
  });

  it('fails a pool without the tenant attribute', async () => {
    cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL, SchemaAttributes: [{ Name: 'email' }] } });
    const [line] = await userPoolChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toBe(`${POOL} has no custom:tenant_id attribute (tenant tokens would carry no tenant)`);
  });

  it('fails a deleted pool (ResourceNotFoundException)', async () => {
    cognito.on(DescribeUserPoolCommand).rejects(awsError('ResourceNotFoundException', 'User pool does not exist.'));
    const [line] = await userPoolChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', detail: `user pool ${POOL} (output TenantUserPoolId) does not exist` });
  });

  it('translates AccessDenied on DescribeStacks', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('AccessDenied', 'not authorized to perform: cloudformation:DescribeStacks'));
    const [line] = await userPoolChecks(testContext());
    expect(line.detail).toMatch(/^cloudformation:DescribeStacks TesseraPlatform failed: AccessDenied/);
    expect(line.fix).toMatch(/^grant cloudformation:DescribeStacks to /);
  });

  it('says to rerun, not to grant, when DescribeStacks is throttled', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    const [line] = await userPoolChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', detail: 'cloudformation:DescribeStacks TesseraPlatform failed: Throttling: Rate exceeded' });
    expect(line.fix).toBe(`rerun doctor; if it persists, see AWS's answer: in account ${PLATFORM}: aws cloudformation describe-stacks --stack-name TesseraPlatform --region us-east-1`);
  });

  it('is not used when gateway.jwt names another issuer (no call)', async () => {
    const config = testConfig({ gateway: { jwt: { issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/jwks.json', audience: 'tessera' } } });
    const [line] = await userPoolChecks(testContext(config));
    expect(line).toMatchObject({ status: 'pass', detail: 'not used: gateway.jwt names the issuer https://idp.example.com/' });
    expect(cfn.calls()).toHaveLength(0);
  });
});

describe('platform admins (IAM Identity Center)', () => {
  it('passes when TesseraPlatformAdmin is assigned on the platform account (found on the second page)', async () => {
    const [line] = await platformAdminChecks(testContext());
    expect(line).toMatchObject({ id: 'platform-admins', status: 'pass', detail: `1 assignment(s) on the platform account ${PLATFORM} (USER u-1)`, account: MANAGEMENT });
    expect(sso.commandCalls(ListAccountAssignmentsCommand)[0].args[0].input).toEqual({ InstanceArn: INSTANCE, AccountId: PLATFORM, PermissionSetArn: PS(2) });
  });

  it('fails without the permission set, with tessera admins create', async () => {
    sso.on(DescribePermissionSetCommand).resolves({ PermissionSet: { Name: 'Other' } });
    const [line] = await platformAdminChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', detail: `no permission set TesseraPlatformAdmin in ${INSTANCE}`, fix: 'npx tessera admins create --user <user name>' });
  });

  it('fails a permission set assigned to nobody on the platform account', async () => {
    sso.on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [] });
    const [line] = await platformAdminChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', detail: `TesseraPlatformAdmin exists but is assigned to nobody on the platform account ${PLATFORM}`, fix: 'npx tessera admins create --user <user name>' });
  });

  it('fails without an Identity Center instance in the Region', async () => {
    sso.on(ListInstancesCommand).resolves({ Instances: [] });
    const [line] = await platformAdminChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.fix).toContain('--identity-center-region');
  });

  it('translates AccessDenied on ListInstances', async () => {
    sso.on(ListInstancesCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    const [line] = await platformAdminChecks(testContext());
    expect(line.detail).toMatch(/^sso:ListInstances failed: AccessDeniedException/);
  });
});
