import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, LambdaClient, ListFunctionsCommand, LambdaServiceException } from '@aws-sdk/client-lambda';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { lambdaConcurrencyChecks } from '../../../lib/cli/doctor/lambda-concurrency-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { reservedConcurrency } from '../../../lib/lambda-concurrency.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, REGION, testConfig, testContext } from './support.js';

const lambda = mockStrict(LambdaClient, 'lambda', LambdaServiceException);
const settings = (concurrent: number, unreserved: number) => ({ AccountLimit: { ConcurrentExecutions: concurrent, UnreservedConcurrentExecutions: unreserved } });
const roleArn = (name: string) => `arn:aws:iam::${PLATFORM}:role/${name}`;

/** The functions of a deployed platform (each with its role and reservation, as CloudFormation names them) and `others`. */
function deployedAccount(others: Array<{ name: string; role: string; reserved?: number }> = []) {
  const platform = reservedConcurrency(testConfig()).functions.map((f, i) => ({ name: `TesseraPlatform-Fn${i}-ABCDEF`, role: f.roleName, reserved: f.reservedConcurrency }));
  const all = [...platform, ...others];
  // Two pages, as ListFunctions answers 50 at most
  lambda.on(ListFunctionsCommand).callsFake((input: { Marker?: string }) => {
    const start = input.Marker ? Number(input.Marker) : 0;
    const page = all.slice(start, start + 30);
    return { Functions: page.map((f) => ({ FunctionName: f.name, Role: roleArn(f.role) })), ...(start + 30 < all.length ? { NextMarker: String(start + 30) } : {}) };
  });
  lambda.on(GetFunctionConcurrencyCommand).callsFake((input: { FunctionName: string }) => {
    const f = all.find((x) => x.name === input.FunctionName);
    return f?.reserved === undefined ? {} : { ReservedConcurrentExecutions: f.reserved };
  });
  return { platformReserved: platform.reduce((s, f) => s + f.reserved, 0), othersReserved: others.reduce((s, f) => s + (f.reserved ?? 0), 0) };
}

beforeEach(() => {
  lambda.reset();
  mockSts();
});

describe('lambda-concurrency: the platform account\'s Lambda quota against what TesseraPlatform reserves', () => {
  it('is a doctor check', () => {
    expect(CHECK_GROUPS.map((g) => g.name)).toContain('lambda-concurrency');
  });

  it('passes a fresh account of 1000 (the platform reserves 727, Lambda keeps 100: needs 827), read in the platform account', async () => {
    // GIVEN the default quota and nothing reserved
    lambda.on(GetAccountSettingsCommand).resolves(settings(1000, 1000));
    // WHEN
    const [line] = await lambdaConcurrencyChecks(testContext());
    // THEN
    expect(line).toEqual({
      id: 'lambda-concurrency', title: 'Lambda concurrency quota', status: 'pass', account: PLATFORM, region: REGION,
      detail: 'ConcurrentExecutions 1000 (UnreservedConcurrentExecutions 1000); TesseraPlatform reserves 727 across its 51 functions, Lambda keeps 100 unreserved, other functions reserve 0: needs 827',
    });
    expect(await accessKeyOf(lambda.commandCalls(GetAccountSettingsCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
    // nothing reserved: no function to look at
    expect(lambda.commandCalls(ListFunctionsCommand)).toHaveLength(0);
  });

  it.each([[10], [400], [826]])('fails a new account\'s quota of %i with the Service Quotas request for 827', async (quota) => {
    lambda.on(GetAccountSettingsCommand).resolves(settings(quota, quota));
    const [line] = await lambdaConcurrencyChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toBe(`ConcurrentExecutions ${quota} (UnreservedConcurrentExecutions ${quota}); TesseraPlatform reserves 727 across its 51 functions, Lambda keeps 100 unreserved, other functions reserve 0: needs 827, so cdk deploy of TesseraPlatform would fail at a function whose reservation does not fit ("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]")`);
    expect(line.fix).toBe(`in account ${PLATFORM}: aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 827 --region us-east-1 (AWS Lambda "Concurrent executions"; wait for the request to be approved before cdk deploy)`);
  });

  it('counts what other functions reserve on top: 1000 with 150 reserved by others needs 977, passes; with 250, needs 1077, fails', async () => {
    // GIVEN the platform not deployed: only the others are listed
    lambda.on(GetAccountSettingsCommand).resolves(settings(1000, 850));
    lambda.on(ListFunctionsCommand).resolves({ Functions: [{ FunctionName: 'billing-export', Role: roleArn('billing-role') }, { FunctionName: 'plain', Role: roleArn('plain-role') }] });
    expect((await lambdaConcurrencyChecks(testContext()))[0]).toMatchObject({ status: 'pass', detail: expect.stringMatching(/other functions reserve 150: needs 977$/) });
    lambda.on(GetAccountSettingsCommand).resolves(settings(1000, 750));
    const [line] = await lambdaConcurrencyChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', detail: expect.stringMatching(/other functions reserve 250: needs 1077, so cdk deploy/) });
    expect(line.fix).toMatch(/--desired-value 1077 --region us-east-1 .*, or remove the 250 reserved by other functions$/);
  });

  it('already deployed: the platform\'s own reservations are replaced by the deploy, not counted twice (1000, 727 of the platform and 50 of others reserved: needs 877)', async () => {
    // GIVEN the platform deployed (its 51 functions with their roles, 727 reserved) and one other function reserving 50
    const { platformReserved } = deployedAccount([{ name: 'other', role: 'someone-else', reserved: 50 }]);
    expect(platformReserved).toBe(727);
    lambda.on(GetAccountSettingsCommand).resolves(settings(1000, 1000 - 727 - 50));
    // WHEN
    const [line] = await lambdaConcurrencyChecks(testContext());
    // THEN 1000 ≥ 727 + 100 + 50: a pass (counting the deployed 727 as others would have needed 1604)
    expect(line).toMatchObject({
      status: 'pass',
      detail: 'ConcurrentExecutions 1000 (UnreservedConcurrentExecutions 223); TesseraPlatform reserves 727 across its 51 functions, Lambda keeps 100 unreserved, other functions reserve 50 (the deployed platform\'s 727 in its 51 functions are replaced by the deploy, not counted): needs 877',
    });
    expect(lambda.commandCalls(ListFunctionsCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, '30']);
    expect(lambda.commandCalls(GetFunctionConcurrencyCommand)).toHaveLength(51);
  });

  it('already deployed, and the config adds a DR tier (the restore-test recorder reserves 2 more): fails when the quota has no room for them', async () => {
    deployedAccount();
    lambda.on(GetAccountSettingsCommand).resolves(settings(827, 100));
    const withDr = testConfig({ tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } });
    const [line] = await lambdaConcurrencyChecks(testContext(withDr));
    expect(line).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^ConcurrentExecutions 827 \(UnreservedConcurrentExecutions 100\); TesseraPlatform reserves 729 across its 52 functions, .*: needs 829, so cdk deploy/) });
    expect(line.fix).toContain('--desired-value 829 ');
  });

  it('names a refused read and what to grant', async () => {
    lambda.on(GetAccountSettingsCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: lambda:GetAccountSettings', 403));
    const [line] = await lambdaConcurrencyChecks(testContext());
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/^lambda:GetAccountSettings failed: AccessDeniedException/);
    expect(line.fix).toBe(`grant lambda:GetAccountSettings, or look yourself: aws lambda get-account-settings --region us-east-1 in account ${PLATFORM}`);
  });

  it('fails with the bootstrap fix when the platform account cannot be read', async () => {
    mockSts(() => true);
    const [line] = await lambdaConcurrencyChecks(testContext(testConfig()));
    expect(line).toMatchObject({ id: 'lambda-concurrency', status: 'fail', detail: expect.stringMatching(/^not checked: cannot read account 555555555555/) });
    expect(lambda.calls()).toHaveLength(0);
  });
});
