import { CloudFormationClient, DescribeStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DescribePolicyCommand, ListPoliciesCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { GetParameterCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { quarantineScpChecks } from '../../../lib/cli/doctor/quarantine-scp-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { QUARANTINE_SCP_ARN_PARAMETER } from '../../../lib/quarantine-scp-parameter.js';
import { awsError, MANAGEMENT, REGION, testConfig, testContext } from './support.js';

/**
 * When the platform account is the management account, TesseraPlatform's lifecycle functions are granted
 * AttachPolicy/DetachPolicy of tessera-quarantine by the ARN in /tessera/organization/quarantine-scp-arn (0f35218), and
 * find the SCP by its name: doctor says whether the parameter exists, names tessera-quarantine, and is the ARN the
 * deployed TesseraPlatform holds.
 */

const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
const ssm = mockStrict(SSMClient, 'ssm', SSMServiceException);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);

const ORG = 'o-abcdefghij';
const arnOf = (id: string) => `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/${id}`;
const QUARANTINE = 'p-quarantine1';
const REPLACED = 'p-quarantine2';
const managementPlatform = testConfig({ platformAccountId: MANAGEMENT });
const ctx = () => testContext(managementPlatform);

function parameter(value: string | undefined) {
  if (value === undefined) ssm.on(GetParameterCommand, { Name: QUARANTINE_SCP_ARN_PARAMETER }).rejects(awsError('ParameterNotFound', ''));
  else ssm.on(GetParameterCommand, { Name: QUARANTINE_SCP_ARN_PARAMETER }).resolves({ Parameter: { Name: QUARANTINE_SCP_ARN_PARAMETER, Type: 'String', Value: value } });
}
/** The organization's SCPs, by id and name (DescribePolicy of any other id: PolicyNotFoundException). */
function scps(policies: Record<string, string>) {
  orgs.on(DescribePolicyCommand).rejects(awsError('PolicyNotFoundException', 'We can\'t find a policy with the PolicyId that you specified.'));
  for (const [id, name] of Object.entries(policies)) {
    orgs.on(DescribePolicyCommand, { PolicyId: id }).resolves({ Policy: { PolicySummary: { Id: id, Arn: arnOf(id), Name: name, Type: 'SERVICE_CONTROL_POLICY', AwsManaged: false }, Content: '{}' } });
  }
  orgs.on(ListPoliciesCommand).resolves({ Policies: [
    { Id: 'p-FullAWSAccess', Arn: 'arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess', Name: 'FullAWSAccess', AwsManaged: true },
    ...Object.entries(policies).map(([id, name]) => ({ Id: id, Arn: arnOf(id), Name: name, AwsManaged: false })),
  ] });
}
/** TesseraPlatform deployed with `resolved` as its SSM parameter's value (none: not deployed). */
function platformDeployedWith(resolved?: string) {
  if (resolved === undefined) {
    cfn.on(DescribeStacksCommand, { StackName: 'TesseraPlatform' }).rejects(awsError('ValidationError', 'Stack with id TesseraPlatform does not exist'));
    return;
  }
  cfn.on(DescribeStacksCommand, { StackName: 'TesseraPlatform' }).resolves({ Stacks: [{
    StackName: 'TesseraPlatform', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0),
    Parameters: [
      { ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version', ResolvedValue: '30' },
      { ParameterKey: 'SsmParameterValuetesseraorganizationquarantinescparnC96584B6F00A464EAD1953AFF4B05118Parameter', ParameterValue: QUARANTINE_SCP_ARN_PARAMETER, ResolvedValue: resolved },
    ],
  }] });
}

beforeEach(() => {
  orgs.reset();
  ssm.reset();
  cfn.reset();
});

describe('doctor: tessera-quarantine\'s ARN in SSM (platform account = management account)', () => {
  it('is one of the doctor groups, after the Control Tower lines', () => {
    const names = CHECK_GROUPS.map((g) => g.name);
    expect(names.indexOf('quarantine-scp-arn')).toBe(names.indexOf('control-tower') + 1);
  });

  it('passes when the parameter names tessera-quarantine and TesseraPlatform was deployed with that ARN', async () => {
    // GIVEN
    parameter(arnOf(QUARANTINE));
    scps({ [QUARANTINE]: 'tessera-quarantine', 'p-guardrails1': 'tessera-guardrails' });
    platformDeployedWith(arnOf(QUARANTINE));
    // WHEN
    const lines = await quarantineScpChecks(ctx());
    // THEN
    expect(lines).toEqual([{
      id: 'quarantine-scp-arn', title: 'tessera-quarantine ARN', status: 'pass', account: MANAGEMENT, region: REGION,
      detail: `${QUARANTINE_SCP_ARN_PARAMETER} names ${QUARANTINE}, tessera-quarantine, the ARN TesseraPlatform was deployed with`,
    }]);
    expect(orgs.commandCalls(DescribePolicyCommand).map((c) => c.args[0].input)).toEqual([{ PolicyId: QUARANTINE }]);
  });

  it('passes before TesseraPlatform is deployed', async () => {
    parameter(arnOf(QUARANTINE));
    scps({ [QUARANTINE]: 'tessera-quarantine' });
    platformDeployedWith(undefined);
    const [line] = await quarantineScpChecks(ctx());
    expect(line).toMatchObject({ status: 'pass', detail: `${QUARANTINE_SCP_ARN_PARAMETER} names ${QUARANTINE}, tessera-quarantine; TesseraPlatform is not deployed yet (it reads the parameter when it is)` });
  });

  it('fails when the parameter is missing, with cdk deploy TesseraOrganization as the fix', async () => {
    parameter(undefined);
    const lines = await quarantineScpChecks(ctx());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ id: 'quarantine-scp-arn', status: 'fail', account: MANAGEMENT, region: REGION });
    expect(lines[0].detail).toBe(`no SSM parameter ${QUARANTINE_SCP_ARN_PARAMETER} in the management account ${MANAGEMENT} (us-east-1): TesseraPlatform's lifecycle functions are granted tessera-quarantine by the ARN it holds, and CloudFormation refuses TesseraPlatform while it is missing; TesseraOrganization writes it`);
    expect(lines[0].fix).toBe('npx cdk deploy TesseraOrganization -c tessera:configFile=<your config file>, then TesseraPlatform');
    expect(orgs.commandCalls(DescribePolicyCommand)).toHaveLength(0);
  });

  it('fails when the parameter names an SCP that no longer exists, naming tessera-quarantine\'s id and ARN (stale)', async () => {
    // GIVEN tessera-quarantine was replaced (p-quarantine2) and the parameter still names p-quarantine1
    parameter(arnOf(QUARANTINE));
    scps({ [REPLACED]: 'tessera-quarantine' });
    platformDeployedWith(arnOf(QUARANTINE));
    // WHEN
    const [line] = await quarantineScpChecks(ctx());
    // THEN both are named, and the fix writes the new ARN before TesseraPlatform is deployed again
    expect(line.status).toBe('fail');
    expect(line.detail).toBe(`${QUARANTINE_SCP_ARN_PARAMETER} names ${QUARANTINE}, which does not exist; tessera-quarantine is ${REPLACED} (${arnOf(REPLACED)}): Quarantine account and Activate tenant find it by name and are refused AttachPolicy/DetachPolicy of it`);
    expect(line.fix).toBe(`aws ssm put-parameter --name ${QUARANTINE_SCP_ARN_PARAMETER} --type String --overwrite --value ${arnOf(REPLACED)} --region us-east-1, then npx cdk deploy TesseraPlatform -c tessera:configFile=<your config file>; the parameter is TesseraOrganization's, so see what changed outside CloudFormation: aws cloudformation detect-stack-drift --stack-name TesseraOrganization --region us-east-1`);
  });

  it('fails when the parameter names another SCP than tessera-quarantine', async () => {
    parameter(arnOf('p-guardrails1'));
    scps({ [QUARANTINE]: 'tessera-quarantine', 'p-guardrails1': 'tessera-guardrails' });
    const [line] = await quarantineScpChecks(ctx());
    expect(line).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^\/tessera\/organization\/quarantine-scp-arn names p-guardrails1, which is tessera-guardrails, not tessera-quarantine; tessera-quarantine is p-quarantine1 \(/) });
  });

  it('fails when no SCP is named tessera-quarantine, with cdk deploy TesseraOrganization', async () => {
    parameter(arnOf(QUARANTINE));
    scps({});
    const [line] = await quarantineScpChecks(ctx());
    expect(line.status).toBe('fail');
    expect(line.detail).toBe(`${QUARANTINE_SCP_ARN_PARAMETER} names ${QUARANTINE}, which does not exist; no SCP is named tessera-quarantine: Quarantine account and Activate tenant fail`);
    expect(line.fix).toMatch(/^npx cdk deploy TesseraOrganization -c tessera:configFile=<your config file> \(it creates tessera-quarantine and writes its ARN\); if it reports no changes/);
  });

  it('fails a value that is not an SCP ARN of the config\'s organization, without calling DescribePolicy', async () => {
    scps({ [QUARANTINE]: 'tessera-quarantine' });
    parameter(`arn:aws:organizations::${MANAGEMENT}:policy/o-zzzzzzzzzz/service_control_policy/${QUARANTINE}`);
    const [other] = await quarantineScpChecks(ctx());
    expect(other).toMatchObject({ status: 'fail', detail: expect.stringContaining(`an SCP of organization o-zzzzzzzzzz (management account ${MANAGEMENT}), not of the config's ${ORG} (${MANAGEMENT}); tessera-quarantine is ${QUARANTINE}`) });
    ssm.reset();
    parameter('p-quarantine1');
    const [notArn] = await quarantineScpChecks(ctx());
    expect(notArn).toMatchObject({ status: 'fail', detail: expect.stringContaining('names p-quarantine1, which is not the ARN of a customer SCP') });
    expect(orgs.commandCalls(DescribePolicyCommand)).toHaveLength(0);
  });

  it('fails when TesseraPlatform was deployed with another ARN (tessera-quarantine replaced since), naming both, with cdk deploy TesseraPlatform', async () => {
    // GIVEN TesseraOrganization replaced the SCP and updated the parameter; TesseraPlatform still holds the old ARN
    parameter(arnOf(REPLACED));
    scps({ [REPLACED]: 'tessera-quarantine' });
    platformDeployedWith(arnOf(QUARANTINE));
    // WHEN
    const [line] = await quarantineScpChecks(ctx());
    // THEN
    expect(line.status).toBe('fail');
    expect(line.detail).toBe(`TesseraPlatform was deployed with ${arnOf(QUARANTINE)} (its parameter SsmParameterValuetesseraorganizationquarantinescparnC96584B6F00A464EAD1953AFF4B05118Parameter), and ${QUARANTINE_SCP_ARN_PARAMETER} names ${REPLACED}, tessera-quarantine (${arnOf(REPLACED)}): tessera-quarantine was replaced since, and the lifecycle functions are refused AttachPolicy/DetachPolicy of it`);
    expect(line.fix).toBe('npx cdk deploy TesseraPlatform -c tessera:configFile=<your config file> (CloudFormation reads the parameter again on each deploy)');
  });

  it('passes a TesseraPlatform of an earlier version that does not read the parameter, saying its next deploy will', async () => {
    parameter(arnOf(QUARANTINE));
    scps({ [QUARANTINE]: 'tessera-quarantine' });
    cfn.on(DescribeStacksCommand, { StackName: 'TesseraPlatform' }).resolves({ Stacks: [{ StackName: 'TesseraPlatform', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Parameters: [] }] });
    const [line] = await quarantineScpChecks(ctx());
    expect(line).toMatchObject({ status: 'pass', detail: expect.stringContaining('the deployed TesseraPlatform does not read it yet') });
  });

  it('fails a refused read with the call and the permission to grant', async () => {
    ssm.on(GetParameterCommand).rejects(awsError('AccessDeniedException', `User: arn:aws:iam::${MANAGEMENT}:user/eng is not authorized to perform: ssm:GetParameter`));
    const [line] = await quarantineScpChecks(ctx());
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/^ssm:GetParameter \/tessera\/organization\/quarantine-scp-arn failed: AccessDeniedException/);
    expect(line.fix).toBe(`grant ssm:GetParameter to your credentials in the management account ${MANAGEMENT} (or use ReadOnlyAccess)`);
  });

  it('makes no line and no call when the platform account is another account (TesseraOrganizationAccess holds the grant)', async () => {
    const lines = await quarantineScpChecks(testContext(testConfig()));
    expect(lines).toEqual([]);
    expect(ssm.calls()).toHaveLength(0);
    expect(orgs.calls()).toHaveLength(0);
  });
});
