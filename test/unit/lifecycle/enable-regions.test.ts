import { AccountClient, EnableRegionCommand, GetRegionOptStatusCommand, AccountServiceException } from '@aws-sdk/client-account';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { configWith, homedIn } from '../../support/config-with.js';
import { records, registryMock } from './registry-mock.js';
import { credentials, leased, setLifecycleEnv, state, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const account = mockStrict(AccountClient, 'account', AccountServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const ACCOUNT = '444444444444';

/** enterprise (isolation account) homed in me-central-1 with its DR in il-central-1: both opt-in regions. */
const optInConfig = configWith({
  ...homedIn('me-central-1', ['me-central-1', 'il-central-1']),
  tiers: { enterprise: { disasterRecovery: { region: 'il-central-1', rpoHours: 4, rtoHours: 12 } } },
});
const enterprise = (extra: Record<string, unknown> = {}) => state('ent', { request: { ...state('ent').request, tier: 'enterprise', isolation: 'account' }, ...extra });
const run = async (s: ReturnType<typeof enterprise>) => (await import('../../../lambdas/lifecycle/enable-regions.js')).handler(s);
const statuses = (byRegion: Record<string, string | string[]>) => {
  for (const [region, status] of Object.entries(byRegion)) {
    const seq = [status].flat();
    let stub = account.on(GetRegionOptStatusCommand, { AccountId: ACCOUNT, RegionName: region });
    for (const s of seq) stub = stub.resolvesOnce({ RegionName: region, RegionOptStatus: s as never });
    stub.resolves({ RegionName: region, RegionOptStatus: seq.at(-1) as never });
  }
};
const named = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: {}, $fault: 'client' as const });

beforeEach(() => {
  setLifecycleEnv();
  useConfig(optInConfig);
  forgetSessions();
  records.clear();
  account.reset();
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  records.set('ent', leased('onboard', { tenantId: 'ent', tier: 'enterprise', isolation: 'account', accountId: ACCOUNT, vpcCidr: undefined }));
  account.on(EnableRegionCommand).resolves({});
});

describe('Enable regions (account tiers in opt-in regions)', () => {
  it('enables each DISABLED region of the tier (home and DR) in the tenant\'s account, from the management account, and waits', async () => {
    statuses({ 'me-central-1': 'DISABLED', 'il-central-1': 'DISABLED' });
    const out = await run(enterprise());
    expect(account.commandCalls(EnableRegionCommand).map((c) => c.args[0].input)).toEqual([
      { AccountId: ACCOUNT, RegionName: 'me-central-1' }, { AccountId: ACCOUNT, RegionName: 'il-central-1' },
    ]);
    expect(out).toMatchObject({ state: 'WAITING', accountId: ACCOUNT, regions: [{ region: 'me-central-1', status: 'ENABLING', action: 'requested' }, { region: 'il-central-1', status: 'ENABLING', action: 'requested' }] });
    // Through TesseraOrganizationAccess (the management account), as CreateAccount.
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input.RoleArn).toBe('arn:aws:iam::111111111111:role/TesseraOrganizationAccess');
    // The registry records the step as every step does.
    expect(records.get('ent')?.currentStep).toBe('Enable regions');
  });

  it('waits while a region is ENABLING without asking again, and is done once ENABLED (ENABLED_BY_DEFAULT counts as enabled)', async () => {
    statuses({ 'me-central-1': ['ENABLING', 'ENABLED'], 'il-central-1': 'ENABLED_BY_DEFAULT' });
    const first = await run(enterprise());
    expect(first.state).toBe('WAITING');
    const second = await run(enterprise({ regions: first, stateName: 'Check regions' }));
    expect(second).toMatchObject({ state: 'ENABLED', since: first.since, regions: [{ region: 'me-central-1', status: 'ENABLED' }, { region: 'il-central-1', status: 'ENABLED_BY_DEFAULT' }] });
    expect(account.commandCalls(EnableRegionCommand)).toHaveLength(0);
    expect(records.get('ent')?.currentStep).toBe('Check regions');
  });

  it('waits out DISABLING (EnableRegion would answer ConflictException), then enables the region once DISABLED', async () => {
    statuses({ 'me-central-1': ['DISABLING', 'DISABLED'], 'il-central-1': 'ENABLED' });
    const first = await run(enterprise());
    expect(first).toMatchObject({ state: 'WAITING', regions: [{ region: 'me-central-1', status: 'DISABLING' }, { region: 'il-central-1', status: 'ENABLED' }] });
    expect(account.commandCalls(EnableRegionCommand)).toHaveLength(0);
    const second = await run(enterprise({ regions: first }));
    expect(second.regions[0]).toEqual({ region: 'me-central-1', status: 'ENABLING', action: 'requested' });
    expect(account.commandCalls(EnableRegionCommand).map((c) => c.args[0].input.RegionName)).toEqual(['me-central-1']);
  });

  it('retries at the next poll an EnableRegion refused with ConflictException or TooManyRequestsException (the concurrent region-opt quota)', async () => {
    statuses({ 'me-central-1': 'DISABLED', 'il-central-1': 'DISABLED' });
    account.on(EnableRegionCommand, { RegionName: 'me-central-1' }).rejects(named('ConflictException', 'region is being disabled'));
    account.on(EnableRegionCommand, { RegionName: 'il-central-1' }).rejects(named('TooManyRequestsException', 'too many region-opt requests'));
    const out = await run(enterprise());
    expect(out.state).toBe('WAITING');
    expect(out.regions).toEqual([
      { region: 'me-central-1', status: 'DISABLED', action: 'retry', note: 'ConflictException: region is being disabled' },
      { region: 'il-central-1', status: 'DISABLED', action: 'retry', note: 'TooManyRequestsException: too many region-opt requests' },
    ]);
  });

  it('fails naming trusted access for account.amazonaws.com and the grant when the Account Management API denies access', async () => {
    account.on(GetRegionOptStatusCommand).rejects(named('AccessDeniedException', 'trusted access is not enabled'));
    await expect(run(enterprise())).rejects.toMatchObject({
      name: 'RegionOptInFailed',
      message: expect.stringMatching(/^account:GetRegionOptStatus for region me-central-1 in account 444444444444 was denied \(trusted access is not enabled\): the organization needs trusted access for account\.amazonaws\.com \(.*aws organizations enable-aws-service-access --service-principal account\.amazonaws\.com\)/),
    });
  });

  it('names the enable-regions function\'s role and TesseraPlatform, not TesseraOrganization, when the platform account is the management account', async () => {
    // No TESSERA_ORGANIZATION_ROLE_ARN: the function calls with its own role, which TesseraPlatform grants (tenant-lifecycle.ts regionOptIn).
    vi.stubEnv('TESSERA_ORGANIZATION_ROLE_ARN', '');
    try {
      account.on(GetRegionOptStatusCommand).rejects(named('AccessDeniedException', 'not authorized to perform account:GetRegionOptStatus'));
      const error = await run(enterprise()).then(() => undefined, (e: Error) => e);
      expect(error).toMatchObject({ name: 'RegionOptInFailed' });
      expect(error!.message).toMatch(/and the enable-regions function's role \(tessera-lifecycle-enable-regions, deployed by TesseraPlatform: the platform account is the management account\) account:GetRegionOptStatus on this account with account:TargetRegion me-central-1: redeploy TesseraPlatform after adding the region to the config, then retry$/);
      expect(error!.message).not.toContain('TesseraOrganization');
      expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('fails past the bound naming the region, the account and its status', async () => {
    const { REGION_ENABLE_WAIT_MS } = await import('../../../lambdas/lifecycle/enable-regions.js');
    statuses({ 'me-central-1': 'ENABLING', 'il-central-1': 'ENABLED' });
    const since = new Date(Date.now() - REGION_ENABLE_WAIT_MS - 60_000).toISOString();
    await expect(run(enterprise({ regions: { since } }))).rejects.toMatchObject({
      name: 'RegionOptInFailed',
      message: expect.stringMatching(/^opt-in region not enabled in account 444444444444 48\d minutes after the step began \(limit 480\): me-central-1 is ENABLING; /),
    });
  });

  it('makes no Account Management call for a tier without an opt-in region (a tier change to a tier homed in a default region)', async () => {
    useConfig(configWith({}));
    const out = await run(enterprise());
    expect(out).toMatchObject({ state: 'ENABLED', regions: [] });
    expect(account.calls()).toHaveLength(0);
  });

  it('takes a tier change\'s target tier (state.change.tier), not the request\'s', async () => {
    statuses({ 'me-central-1': 'ENABLED', 'il-central-1': 'DISABLED' });
    const out = await run(enterprise({ request: { ...state('ent').request, tier: 'starter', isolation: 'vpc' }, change: { tier: 'enterprise' } }));
    expect(out.regions.map((r) => r.region)).toEqual(['me-central-1', 'il-central-1']);
  });
});

describe('Validate request and Begin change: optInRegions gates the step', () => {
  it('validate-request sets optInRegions for an account tier with an opt-in region, and none for a VPC tier', async () => {
    const { handler } = await import('../../../lambdas/lifecycle/validate-request.js');
    const request = { tenantId: 'ent', name: 'Ent', tier: 'enterprise', adminEmail: 'root+ent@example.com', requestId: 'req-ent-0001' };
    expect((await handler({ request } as never)).optInRegions).toEqual(['me-central-1', 'il-central-1']);
    expect((await handler({ request: { ...request, tier: 'starter' } } as never)).optInRegions).toBeUndefined();
    useConfig(configWith({}));
    expect((await handler({ request } as never)).optInRegions).toBeUndefined();
  });
});
