import { GetRoleCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { GetParameterCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { bootstrapChecks, BOOTSTRAP_VERSION_PARAMETER, REQUIRED_BOOTSTRAP_VERSION } from '../../../lib/cli/doctor/bootstrap-checks.js';
import { accessKeyOf, awsError, MANAGEMENT, mockSts, PLATFORM, REGION, testConfig, testContext, trustDocument } from './support.js';

const ssm = mockStrict(SSMClient, 'ssm', SSMServiceException);
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const fix = (account: string) => `npx cdk bootstrap aws://${account}/${REGION}${account === MANAGEMENT ? '' : ` --trust ${MANAGEMENT}`} --cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess`;
const deployRole = `cdk-hnb659fds-deploy-role-${PLATFORM}-${REGION}`;

beforeEach(() => {
  ssm.reset();
  iam.reset();
  mockSts();
  ssm.on(GetParameterCommand, { Name: BOOTSTRAP_VERSION_PARAMETER }).resolves({ Parameter: { Value: '30' } });
  iam.on(GetRoleCommand, { RoleName: deployRole }).resolves({ Role: { RoleName: deployRole, Path: '/', Arn: 'x', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: trustDocument(`arn:aws:iam::${MANAGEMENT}:root`, `arn:aws:iam::${PLATFORM}:root`) } });
});

describe('CDK bootstrap', () => {
  it('passes both accounts: version high enough, platform deploy role trusts the management account', async () => {
    // WHEN
    const lines = await bootstrapChecks(testContext());
    // THEN
    expect(lines.map((l) => [l.id, l.status, l.account])).toEqual([['cdk-bootstrap:management', 'pass', MANAGEMENT], ['cdk-bootstrap:platform', 'pass', PLATFORM]]);
    expect(lines[1].detail).toBe(`version 30 (needs ${REQUIRED_BOOTSTRAP_VERSION}+), ${deployRole} trusts ${MANAGEMENT}`);
    // the platform account was read through its lookup role, the management account with the caller's credentials
    const keys = await Promise.all(ssm.commandCalls(GetParameterCommand).map(accessKeyOf));
    expect(keys.sort()).toEqual(['AKIA-caller', `AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-${REGION}`]);
  });

  it('checks one account when the platform is the management account', async () => {
    const lines = await bootstrapChecks(testContext(testConfig({ platformAccountId: MANAGEMENT })));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ id: 'cdk-bootstrap:management', title: 'CDK bootstrap management (TesseraOrganization, TesseraPlatform)', status: 'pass' });
  });

  it('fails an account without the version parameter: not bootstrapped', async () => {
    ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound', ''));
    const [mgmt] = await bootstrapChecks(testContext());
    expect(mgmt).toMatchObject({ status: 'fail', detail: `not bootstrapped in ${REGION}: no SSM parameter /cdk-bootstrap/hnb659fds/version`, fix: fix(MANAGEMENT) });
  });

  it('fails an old bootstrap', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '6' } });
    const [mgmt] = await bootstrapChecks(testContext());
    expect(mgmt).toMatchObject({ status: 'fail', detail: `bootstrap version 6, the app needs at least ${REQUIRED_BOOTSTRAP_VERSION}` });
  });

  it('fails the platform account when its lookup role cannot be assumed (bootstrap or --trust missing), without crashing', async () => {
    mockSts((arn) => arn.includes(PLATFORM));
    const [, platform] = await bootstrapChecks(testContext());
    expect(platform.status).toBe('fail');
    expect(platform.detail).toMatch(new RegExp(`^cannot read account ${PLATFORM}: sts:AssumeRole arn:aws:iam::${PLATFORM}:role/cdk-hnb659fds-lookup-role-${PLATFORM}-${REGION} failed: AccessDenied: .* \\(the CDK bootstrap is missing or does not trust ${MANAGEMENT}\\)$`));
    expect(platform.fix).toBe(`${fix(PLATFORM)}, or pass --account-profile ${PLATFORM}=<profile>`);
  });

  it('fails a platform deploy role that does not trust the management account (bootstrapped without --trust)', async () => {
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: deployRole, Path: '/', Arn: 'x', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: trustDocument(`arn:aws:iam::${PLATFORM}:root`) } });
    const [, platform] = await bootstrapChecks(testContext());
    expect(platform).toMatchObject({ status: 'fail', detail: `version 30, but ${deployRole} does not trust the management account ${MANAGEMENT} (trusts arn:aws:iam::${PLATFORM}:root)`, fix: fix(PLATFORM) });
  });

  it('fails a missing deploy role', async () => {
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', `The role with name ${deployRole} cannot be found.`));
    const [, platform] = await bootstrapChecks(testContext());
    expect(platform).toMatchObject({ status: 'fail', detail: `version 30, but the deploy role ${deployRole} does not exist` });
  });

  it('translates an AccessDenied on the parameter', async () => {
    ssm.on(GetParameterCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: ssm:GetParameter'));
    const [mgmt] = await bootstrapChecks(testContext());
    expect(mgmt.status).toBe('fail');
    expect(mgmt.detail).toMatch(/^ssm:GetParameter \/cdk-bootstrap\/hnb659fds\/version failed: AccessDeniedException/);
  });
});
