import { DescribeRegionsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { regionOptInChecks } from '../../../lib/cli/doctor/region-opt-in-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext, WORKLOAD } from './support.js';

const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
/** Opt-in status per account: us-east-1 and us-west-2 on by default, af-south-1 opted in for the platform only. */
const STATUS: Record<string, Record<string, string>> = {
  [PLATFORM]: { 'us-east-1': 'opt-in-not-required', 'us-west-2': 'opt-in-not-required', 'af-south-1': 'opted-in' },
  [WORKLOAD]: { 'us-east-1': 'opt-in-not-required', 'us-west-2': 'opt-in-not-required', 'af-south-1': 'not-opted-in' },
};
const LOOKUP = (account: string) => `AKIA-cdk-hnb659fds-lookup-role-${account}-us-east-1`;

/** The platform's DR in us-west-2, the professional tier's (VPC) in af-south-1, the enterprise tier's (account) in us-west-2. */
const drConfig = () => testConfig({
  allowedRegions: ['us-east-1', 'us-west-2', 'af-south-1'],
  platformDisasterRecovery: { region: 'us-west-2' },
  tiers: {
    professional: { disasterRecovery: { region: 'af-south-1', rpoHours: 1, rtoHours: 4 } },
    enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } },
  },
});

beforeEach(() => {
  ec2.reset();
  mockSts();
  // The answer of the account whose lookup role signed the call.
  ec2.on(DescribeRegionsCommand).callsFake(async (input: { RegionNames?: string[] }, getClient: () => unknown) => {
    const key = await accessKeyOf({ thisValue: getClient() });
    const account = [PLATFORM, WORKLOAD].find((a) => key === LOOKUP(a))!;
    return { Regions: (input.RegionNames ?? []).filter((r) => STATUS[account][r]).map((r) => ({ RegionName: r, OptInStatus: STATUS[account][r] })) };
  });
});

describe('doctor: the home and DR Regions are enabled in the platform and workload accounts', () => {
  it('is a doctor group, before the CDK bootstrap lines (a disabled Region cannot be bootstrapped)', () => {
    const names = CHECK_GROUPS.map((g) => g.name);
    expect(names.indexOf('region-enabled')).toBe(names.indexOf('cdk-bootstrap') - 1);
  });

  it('one line per account and Region: fails a VPC tier\'s DR Region not enabled in the workload account, with the command that enables it', async () => {
    // GIVEN af-south-1 (the professional tier's DR Region) not opted in in the workload account
    const lines = await regionOptInChecks(testContext(drConfig()));
    // THEN the platform account's home and DR Regions, the workload account's home and VPC tier DR Region (not the account tier's)
    expect(lines.map((l) => [l.id, l.status, l.account, l.region])).toEqual([
      ['region-enabled:platform:us-east-1', 'pass', PLATFORM, 'us-east-1'],
      ['region-enabled:platform:us-west-2', 'pass', PLATFORM, 'us-west-2'],
      ['region-enabled:workload:us-east-1', 'pass', WORKLOAD, 'us-east-1'],
      ['region-enabled:workload:af-south-1', 'fail', WORKLOAD, 'af-south-1'],
    ]);
    expect(lines[0].detail).toBe('enabled by default: TesseraPlatform');
    expect(lines[1].detail).toBe('enabled by default: TesseraPlatformDr');
    expect(lines[3].detail).toBe(`not enabled in account ${WORKLOAD} (not-opted-in): tier professional DR and failover blueprints cannot be deployed there`);
    expect(lines[3].fix).toBe(`enable it from the management account: aws account enable-region --account-id ${WORKLOAD} --region-name af-south-1 (or in the account itself, without --account-id; enabling takes minutes to hours), then run doctor again`);
    // one DescribeRegions per account, through its lookup role, naming exactly its Regions
    const calls = ec2.commandCalls(DescribeRegionsCommand);
    expect(await Promise.all(calls.map((c) => accessKeyOf(c)))).toEqual([LOOKUP(PLATFORM), LOOKUP(WORKLOAD)]);
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { AllRegions: true, RegionNames: ['us-east-1', 'us-west-2'] },
      { AllRegions: true, RegionNames: ['us-east-1', 'af-south-1'] },
    ]);
  });

  it('passes an opted-in Region', async () => {
    // GIVEN the platform's DR in af-south-1, opted in there
    const config = testConfig({ allowedRegions: ['us-east-1', 'af-south-1'], platformDisasterRecovery: { region: 'af-south-1' } });
    const lines = await regionOptInChecks(testContext(config));
    expect(lines.find((l) => l.id === 'region-enabled:platform:af-south-1')).toMatchObject({ status: 'pass', detail: 'enabled (opted in): TesseraPlatformDr' });
  });

  it('a refused call fails each line of the account with the permission to grant, a throttled one with a rerun', async () => {
    ec2.on(DescribeRegionsCommand).callsFake(async (_input: unknown, getClient: () => unknown) => {
      const key = await accessKeyOf({ thisValue: getClient() });
      if (key === LOOKUP(PLATFORM)) throw awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403);
      throw awsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    });
    const lines = await regionOptInChecks(testContext(testConfig()));
    expect(lines.map((l) => [l.id, l.status])).toEqual([['region-enabled:platform:us-east-1', 'fail'], ['region-enabled:workload:us-east-1', 'fail']]);
    expect(lines[0].detail).toMatch(/ec2:DescribeRegions/);
    expect(lines[0].fix).toBe(`grant ec2:DescribeRegions to role cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
    expect(lines[1].fix).toMatch(new RegExp(`^rerun doctor; if it persists, see AWS's answer: in account ${WORKLOAD}: aws ec2 describe-regions --all-regions --region-names us-east-1`));
  });

  it('warns about a Region the answer does not report', async () => {
    ec2.on(DescribeRegionsCommand).resolves({ Regions: [] });
    const [line] = await regionOptInChecks(testContext(testConfig()));
    expect(line).toMatchObject({ id: 'region-enabled:platform:us-east-1', status: 'warn', fix: `check it in account ${PLATFORM}: aws account get-region-opt-status --region-name us-east-1` });
  });

  it('reads one account once when the platform and workload accounts are one, with the Regions of both', async () => {
    const config = { ...drConfig(), workloadAccountId: PLATFORM };
    // (af-south-1 is opted in for the platform account: STATUS)
    const lines = await regionOptInChecks(testContext(config));
    expect(lines.map((l) => [l.id, l.detail])).toEqual([
      ['region-enabled:platform:us-east-1', 'enabled by default: TesseraPlatform, TesseraWorkloadProvisioning and VPC tier blueprints'],
      ['region-enabled:platform:us-west-2', 'enabled by default: TesseraPlatformDr'],
      ['region-enabled:platform:af-south-1', 'enabled (opted in): tier professional DR and failover blueprints'],
    ]);
    expect(ec2.commandCalls(DescribeRegionsCommand)).toHaveLength(1);
  });
});
