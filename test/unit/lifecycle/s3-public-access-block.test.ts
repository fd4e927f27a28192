import { PutPublicAccessBlockCommand, S3ControlClient, S3ControlServiceException } from '@aws-sdk/client-s3-control';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { putAccountPublicAccessBlock, S3_PUBLIC_ACCESS_BLOCK_ACTIONS, S3_PUBLIC_ACCESS_BLOCK_SESSION_POLICY } from '../../../lambdas/lifecycle/s3-public-access-block.js';
import { deployedLifecycleHandlers } from '../../../lib/lifecycle-handlers.js';
import { s3PublicAccessBlockLine, tenantDetails } from '../../../lib/cli/format.js';
import { PlatformConfigSchema } from '../../../lib/config/schema.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { configWith, homedIn } from '../../support/config-with.js';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, leased, setLifecycleEnv, state, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const s3control = mockStrict(S3ControlClient, 's3control', S3ControlServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const ACCOUNT = '444444444444';
const ALL_FOUR = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const s3Error = (name: string, message: string, status = 403) => new S3ControlServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions();
  records.clear();
  s3control.reset();
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
});

describe('putAccountPublicAccessBlock (S3 Control PutPublicAccessBlock, the account\'s own)', () => {
  it('sends the account id and all four settings true, one call', async () => {
    s3control.on(PutPublicAccessBlockCommand).resolves({});
    expect(await putAccountPublicAccessBlock(new S3ControlClient({ region: 'us-east-1' }), ACCOUNT)).toEqual(ALL_FOUR);
    expect(s3control.calls()).toHaveLength(1);
    expect(s3control.commandCalls(PutPublicAccessBlockCommand)[0].args[0].input).toEqual({ AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_FOUR });
  });

  it('fails with S3PublicAccessBlockDenied naming an SCP and an organization-level policy when S3 refuses (AccessDenied)', async () => {
    s3control.on(PutPublicAccessBlockCommand).rejects(s3Error('AccessDenied', 'Access Denied'));
    const failure = putAccountPublicAccessBlock(new S3ControlClient({ region: 'us-east-1' }), ACCOUNT);
    await expect(failure).rejects.toMatchObject({ name: 'S3PublicAccessBlockDenied' });
    await expect(failure).rejects.toThrow(/s3:PutAccountPublicAccessBlock in account 444444444444 was denied \(AccessDenied: Access Denied\).*SCP.*organization-level S3 Block Public Access policy/);
  });

  it('throws any other S3 Control error as it is (the step fails and is run again)', async () => {
    s3control.on(PutPublicAccessBlockCommand).rejects(s3Error('InternalError', 'We encountered an internal error. Please try again.', 500));
    await expect(putAccountPublicAccessBlock(new S3ControlClient({ region: 'us-east-1', maxAttempts: 1 }), ACCOUNT)).rejects.toMatchObject({ name: 'InternalError' });
  });
});

describe('Set S3 Block Public Access (the onboarding step)', () => {
  const run = async () => (await import('../../../lambdas/lifecycle/set-s3-public-access-block.js')).handler(state('ent') as never);
  const enterprise = () => records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: ACCOUNT, vpcCidr: undefined }));

  it('makes no call for a tier without s3PublicAccessBlock', async () => {
    enterprise();
    expect(await run()).toEqual({ skipped: true });
    expect(sts.calls()).toHaveLength(0);
    expect(s3control.calls()).toHaveLength(0);
    expect(records.get('ent')!.s3PublicAccessBlock).toBeUndefined();
  });

  it('puts it in the tenant account as the provisioning role narrowed to s3:PutAccountPublicAccessBlock, through the home region\'s endpoint, and records it', async () => {
    // GIVEN enterprise with s3PublicAccessBlock, the platform homed in eu-west-1
    useConfig(configWith({ ...homedIn('eu-west-1'), tiers: { enterprise: { s3PublicAccessBlock: true } } }));
    enterprise();
    s3control.on(PutPublicAccessBlockCommand).resolves({});
    // WHEN
    const out = await run();
    // THEN one provisioning session whose session policy allows the one S3 action, on `*`
    const sessions = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(sessions.map((s) => s.RoleSessionName)).toEqual(['tessera-lifecycle', 'tessera-ent-s3-public-access-block']);
    expect(sessions[1].RoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/TesseraProvisioning`);
    expect(JSON.parse(sessions[1].Policy!)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutAccountPublicAccessBlock'], Resource: '*' }] });
    expect(sessions[1].Policy).toBe(S3_PUBLIC_ACCESS_BLOCK_SESSION_POLICY);
    expect([...S3_PUBLIC_ACCESS_BLOCK_ACTIONS]).toEqual(['s3:PutAccountPublicAccessBlock']);
    // AND the call: the tenant's AccountId, the four settings, the home region's S3 Control endpoint
    const [call] = s3control.commandCalls(PutPublicAccessBlockCommand);
    expect(call.args[0].input).toEqual({ AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_FOUR });
    expect(await (call as unknown as { thisValue: { config: { region: () => Promise<string> } } }).thisValue.config.region()).toBe('eu-west-1');
    expect(out).toEqual({ region: 'eu-west-1' });
    const recorded = records.get('ent')!.s3PublicAccessBlock!;
    expect(recorded).toMatchObject({ region: 'eu-west-1', configuration: ALL_FOUR });
    expect(Date.parse(recorded.setAt)).not.toBeNaN();
  });

  it('fails the step with S3PublicAccessBlockDenied and records nothing when S3 refuses', async () => {
    useConfig(configWith({ tiers: { enterprise: { s3PublicAccessBlock: true } } }));
    enterprise();
    s3control.on(PutPublicAccessBlockCommand).rejects(s3Error('AccessDenied', 'Access Denied'));
    await expect(run()).rejects.toMatchObject({ name: 'S3PublicAccessBlockDenied', message: expect.stringContaining(`account ${ACCOUNT} was denied`) });
    expect(records.get('ent')!.s3PublicAccessBlock).toBeUndefined();
  });
});

describe('s3PublicAccessBlock in the config and the platform', () => {
  it('is refused on a vpc isolation tier, naming the key', () => {
    const config = structuredClone(DEFAULT_CONFIG) as Record<string, any>;
    config.tiers.starter.s3PublicAccessBlock = true;
    const parsed = PlatformConfigSchema.safeParse(config);
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues.find((i) => i.path.join('.') === 'tiers.starter.s3PublicAccessBlock');
    expect(issue?.message).toMatch(/^applies only to an "account" isolation tier/);
  });

  it('is taken on an account tier, and deploys the step only when a tier asks for it', () => {
    expect(PlatformConfigSchema.safeParse(configWith({ tiers: { enterprise: { s3PublicAccessBlock: true } } })).success).toBe(true);
    expect(deployedLifecycleHandlers(configWith())).not.toContain('set-s3-public-access-block');
    expect(deployedLifecycleHandlers(configWith({ tiers: { enterprise: { s3PublicAccessBlock: true } } }))).toContain('set-s3-public-access-block');
  });

  it('tenants show names the settings on, and any off', () => {
    const s3PublicAccessBlock = { setAt: '2026-12-07T00:00:00.000Z', region: 'us-east-1', configuration: ALL_FOUR };
    const value = 'BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets on (account-wide, set through us-east-1 at 2026-12-07T00:00:00.000Z)';
    expect(s3PublicAccessBlockLine(s3PublicAccessBlock)).toEqual(['S3 Block Public Access', value]);
    expect(s3PublicAccessBlockLine({ ...s3PublicAccessBlock, configuration: { ...ALL_FOUR, RestrictPublicBuckets: false } }))
      .toEqual(['S3 Block Public Access', 'BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy on, RestrictPublicBuckets off (account-wide, set through us-east-1 at 2026-12-07T00:00:00.000Z)']);
    // The longest label of this record: every value starts two spaces after it (format.ts detailLines).
    expect(tenantDetails({ ...leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: ACCOUNT }), s3PublicAccessBlock } as never).split('\n')).toContain(`S3 Block Public Access  ${value}`);
  });
});
