import { DescribeRegionsCommand, EC2Client, EC2ServiceException, EnableEbsEncryptionByDefaultCommand } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { EBS_ENCRYPTION_ACTIONS, EBS_ENCRYPTION_SESSION_POLICY, enableEbsEncryptionByDefault, enableEbsEncryptionInRegions } from '../../../lambdas/lifecycle/ebs-encryption.js';
import { deployedLifecycleHandlers } from '../../../lib/lifecycle-handlers.js';
import { ebsEncryptionLines, tenantDetails } from '../../../lib/cli/format.js';
import { PlatformConfigSchema } from '../../../lib/config/schema.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { configWith } from '../../support/config-with.js';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, leased, setLifecycleEnv, state, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const ec2Error = (name: string, message: string, status = 400) => new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions();
  records.clear();
  ec2.reset();
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
});

describe('enableEbsEncryptionByDefault (EC2 EnableEbsEncryptionByDefault, per Region)', () => {
  it('says ENABLED when EC2 answers EbsEncryptionByDefault true (as it does when it was on already), with no other call', async () => {
    ec2.on(EnableEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: true });
    expect(await enableEbsEncryptionByDefault(new EC2Client({ region: 'eu-west-1' }), 'eu-west-1')).toEqual({ region: 'eu-west-1', state: 'ENABLED' });
    expect(ec2.calls()).toHaveLength(1);
    expect(ec2.commandCalls(EnableEbsEncryptionByDefaultCommand)[0].args[0].input).toEqual({});
  });

  it('says NOT_ENABLED with EC2\'s answer when it is not true, not ENABLED', async () => {
    ec2.on(EnableEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: false });
    expect(await enableEbsEncryptionByDefault(new EC2Client({ region: 'us-east-1' }), 'us-east-1'))
      .toEqual({ region: 'us-east-1', state: 'NOT_ENABLED', reason: 'EnableEbsEncryptionByDefault answered EbsEncryptionByDefault: false' });
  });

  it('says UNREACHABLE with EC2\'s answer when it refuses the caller (an SCP\'s deny)', async () => {
    ec2.on(EnableEbsEncryptionByDefaultCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation. with an explicit deny in a service control policy', 403));
    expect(await enableEbsEncryptionByDefault(new EC2Client({ region: 'ap-south-1' }), 'ap-south-1'))
      .toMatchObject({ region: 'ap-south-1', state: 'UNREACHABLE', reason: expect.stringMatching(/^EnableEbsEncryptionByDefault: UnauthorizedOperation: .*service control policy/) });
  });

  it('throws any other EC2 error (the step fails and is run again), not a silent outcome', async () => {
    ec2.on(EnableEbsEncryptionByDefaultCommand).rejects(new EC2ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'An internal error has occurred' }));
    await expect(enableEbsEncryptionByDefault(new EC2Client({ region: 'us-east-1', maxAttempts: 1 }), 'us-east-1')).rejects.toThrow(/internal error/);
  });

  it('works through every region given, one outcome each in their order', async () => {
    ec2.on(EnableEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: true });
    const regions = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'sa-east-1'];
    const outcomes = await enableEbsEncryptionInRegions((region) => new EC2Client({ region }), regions, 2);
    expect(outcomes).toEqual(regions.map((region) => ({ region, state: 'ENABLED' })));
    expect(ec2.commandCalls(EnableEbsEncryptionByDefaultCommand)).toHaveLength(5);
  });
});

describe('Enable EBS encryption by default (the onboarding step)', () => {
  const run = async () => (await import('../../../lambdas/lifecycle/enable-ebs-encryption.js')).handler(state('ent') as never);
  const enterprise = () => records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: '444444444444', vpcCidr: undefined }));

  it('makes no call for a tier without ebsEncryptionByDefault', async () => {
    enterprise();
    expect(await run()).toEqual({ skipped: true });
    expect(sts.calls()).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
    expect(records.get('ent')!.ebsEncryption).toBeUndefined();
  });

  it('enables it in every region the account has enabled and allowedRegions lists, as the provisioning role narrowed to the EC2 actions, and records each region', async () => {
    // GIVEN enterprise with ebsEncryptionByDefault (allowedRegions us-east-1, us-west-2), and an account with four regions enabled
    useConfig(configWith({ tiers: { enterprise: { ebsEncryptionByDefault: true } } }));
    enterprise();
    ec2.on(DescribeRegionsCommand).resolves({ Regions: [{ RegionName: 'us-west-2' }, { RegionName: 'us-east-1' }, { RegionName: 'ap-south-1' }, { RegionName: 'eu-west-1' }] });
    ec2.on(EnableEbsEncryptionByDefaultCommand).resolves({ EbsEncryptionByDefault: true });
    const regionOf = async (c: { thisValue?: { config: { region: () => Promise<string> } } }) => c.thisValue!.config.region();
    // WHEN
    const out = await run();
    // THEN one provisioning session with the session policy of the step's two EC2 actions
    const sessions = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(sessions.map((s) => s.RoleSessionName)).toEqual(['tessera-lifecycle', 'tessera-ent-ebs-encryption']);
    expect(sessions[1].RoleArn).toBe('arn:aws:iam::444444444444:role/TesseraProvisioning');
    expect(JSON.parse(sessions[1].Policy!)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:DescribeRegions', 'ec2:EnableEbsEncryptionByDefault'], Resource: '*' }] });
    expect(sessions[1].Policy).toBe(EBS_ENCRYPTION_SESSION_POLICY);
    expect([...EBS_ENCRYPTION_ACTIONS]).not.toContain('ec2:ModifyEbsDefaultKmsKeyId');
    // AND one Enable call in each allowed region, none outside (the guardrail SCP denies them all): those only recorded
    const called = await Promise.all(ec2.commandCalls(EnableEbsEncryptionByDefaultCommand).map((c) => regionOf(c as never)));
    expect(called.sort()).toEqual(['us-east-1', 'us-west-2']);
    expect(out).toEqual({ enabled: ['us-east-1', 'us-west-2'], notEnabled: [], unreachable: [], outside: ['ap-south-1', 'eu-west-1'] });
    const recorded = records.get('ent')!.ebsEncryption!;
    expect(recorded.regions).toEqual([{ region: 'us-east-1', state: 'ENABLED' }, { region: 'us-west-2', state: 'ENABLED' }]);
    expect(recorded.outsideAllowedRegions).toEqual(['ap-south-1', 'eu-west-1']);
    expect(Date.parse(recorded.checkedAt)).not.toBeNaN();
  });
});

describe('ebsEncryptionByDefault in the config and the platform', () => {
  it('is refused on a vpc isolation tier, naming the key', () => {
    const config = structuredClone(DEFAULT_CONFIG) as Record<string, any>;
    config.tiers.starter.ebsEncryptionByDefault = true;
    const parsed = PlatformConfigSchema.safeParse(config);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain('tiers.starter.ebsEncryptionByDefault');
  });

  it('deploys the step only when a tier asks for it', () => {
    expect(deployedLifecycleHandlers(configWith())).not.toContain('enable-ebs-encryption');
    expect(deployedLifecycleHandlers(configWith({ tiers: { enterprise: { ebsEncryptionByDefault: true } } }))).toContain('enable-ebs-encryption');
  });

  it('tenants show counts each outcome and names the regions that need a look', () => {
    const ebsEncryption = { checkedAt: '2026-12-07T00:00:00.000Z', regions: [
      { region: 'eu-west-1', state: 'ENABLED' as const }, { region: 'ap-south-1', state: 'UNREACHABLE' as const, reason: 'EnableEbsEncryptionByDefault: UnauthorizedOperation: denied' },
    ], outsideAllowedRegions: ['ap-east-1', 'sa-east-1'] };
    const summary = '1 ENABLED, 0 NOT_ENABLED, 1 UNREACHABLE of 2 regions (2026-12-07T00:00:00.000Z); 2 regions outside allowedRegions not touched';
    const region = '  ap-south-1 UNREACHABLE: EnableEbsEncryptionByDefault: UnauthorizedOperation: denied';
    expect(ebsEncryptionLines(ebsEncryption)).toEqual([['EBS encryption by default', summary], region]);
    // The longest label of this record: every value starts two spaces after it (format.ts detailLines).
    expect(tenantDetails({ ...leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: '444444444444' }), ebsEncryption } as never).split('\n'))
      .toEqual(expect.arrayContaining([`EBS encryption by default  ${summary}`, region]));
  });
});
