import { GetRoleCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { provisioningRoleChecks } from '../../../lib/cli/doctor/provisioning-role-checks.js';
import { accessKeyOf, awsError, MANAGEMENT, mockSts, testContext, trustDocument, WORKLOAD } from './support.js';

const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const role = (doc: string) => ({ Role: { RoleName: 'TesseraProvisioning', Path: '/', Arn: `arn:aws:iam::${WORKLOAD}:role/TesseraProvisioning`, RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: doc } });

beforeEach(() => iam.reset());

describe('TesseraProvisioning in the workload account', () => {
  it('passes a role trusting the management account, read through the lookup role', async () => {
    mockSts();
    iam.on(GetRoleCommand, { RoleName: 'TesseraProvisioning' }).resolves(role(trustDocument(`arn:aws:iam::${MANAGEMENT}:root`)));
    const [line] = await provisioningRoleChecks(testContext());
    expect(line).toMatchObject({ id: 'provisioning-role', status: 'pass', account: WORKLOAD });
    expect(line.detail).toBe(`exists and trusts the management account ${MANAGEMENT} (read as role cdk-hnb659fds-lookup-role-${WORKLOAD}-us-east-1)`);
  });

  it('reads the account by assuming TesseraProvisioning itself when the workload account is not bootstrapped', async () => {
    mockSts((arn) => arn.includes('lookup-role'));
    iam.on(GetRoleCommand).resolves(role(trustDocument(MANAGEMENT)));
    const [line] = await provisioningRoleChecks(testContext());
    expect(line.status).toBe('pass');
    expect(await accessKeyOf(iam.commandCalls(GetRoleCommand)[0])).toBe('AKIA-TesseraProvisioning');
  });

  it('fails when neither the lookup role nor TesseraProvisioning can be assumed, with the published template as the fix and --account-profile to read it', async () => {
    mockSts(() => true);
    const [line] = await provisioningRoleChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toContain(`TesseraProvisioning could not be assumed either, so it is missing or does not trust ${MANAGEMENT}`);
    expect(line.fix).toContain(`in account ${WORKLOAD} (home region us-east-1): aws cloudformation create-stack --stack-name TesseraWorkloadProvisioning --template-url <TesseraPlatform output WorkloadProvisioningRoleTemplateUrl>`);
    expect(line.fix).toContain(`--account-profile ${WORKLOAD}=<profile>`);
    expect(line.fix).not.toContain('attach-role-policy');
  });

  it('names the config\'s homeRegion in the fix when doctor reads another Region (--region)', async () => {
    mockSts(() => true);
    const [line] = await provisioningRoleChecks({ ...testContext(), region: 'eu-west-1' });
    expect(line.fix).toContain(`in account ${WORKLOAD} (home region us-east-1): aws cloudformation create-stack`);
  });

  it('fails a role that trusts another account, with an update from the published template', async () => {
    mockSts();
    iam.on(GetRoleCommand).resolves(role(trustDocument('arn:aws:iam::999999999999:root')));
    const [line] = await provisioningRoleChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toBe(`exists but does not trust the management account ${MANAGEMENT} for sts:AssumeRole (trusts arn:aws:iam::999999999999:root)`);
    expect(line.fix).toMatch(/^update it from the published template \(aws cloudformation update-stack --stack-name TesseraWorkloadProvisioning/);
  });

  it('fails a role that trusts every AWS principal ("*"), which the account check alone would pass', async () => {
    mockSts();
    iam.on(GetRoleCommand).resolves(role(trustDocument('*')));
    const [line] = await provisioningRoleChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toBe('exists but trusts every AWS principal ("*"): anyone could provision in the workload account');
    expect(line.fix).toMatch(/^delete the hand-made role and deploy the published template instead/);
  });

  it('fails a missing role (NoSuchEntity)', async () => {
    mockSts();
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'The role with name TesseraProvisioning cannot be found.'));
    const [line] = await provisioningRoleChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', detail: `no role TesseraProvisioning in the workload account ${WORKLOAD}` });
    expect(line.fix).toContain('aws cloudformation create-stack --stack-name TesseraWorkloadProvisioning');
  });

  it('translates AccessDenied on GetRole', async () => {
    mockSts();
    iam.on(GetRoleCommand).rejects(awsError('AccessDenied', 'not authorized to perform: iam:GetRole'));
    const [line] = await provisioningRoleChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/^iam:GetRole TesseraProvisioning failed: AccessDenied/);
  });
});
