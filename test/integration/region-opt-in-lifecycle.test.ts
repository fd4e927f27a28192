import { AccountClient, DisableRegionCommand, GetRegionOptStatusCommand } from '@aws-sdk/client-account';
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DisableAWSServiceAccessCommand, EnableAWSServiceAccessCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerClientPlugin } from '../../lambdas/shared/aws-clients.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { nextStepAfterFailure } from '../../lib/cli/lifecycle-answers.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { configWith } from '../support/config-with.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * An account tier whose DR region is an opt-in region (me-central-1, UAE), onboarded on the local lifecycle
 * (aws-local-stepfunctions + moto): the account CreateAccount makes has the region DISABLED, and *Enable regions*
 * (lambdas/lifecycle/enable-regions.ts) enables it from the management account and waits (*Wait for regions*, *Check
 * regions*) until it is ENABLED, before any call into it (the DR blueprint). moto answers the Account Management API
 * through support/moto-python/tessera_moto_patches.py answer_account_regions (ENABLING for two polls, then ENABLED).
 *
 * enterprise here also has an account customization (`security`, test/fixtures/customizations/security.yaml: an SNS
 * topic and its subscription, an SSM parameter): its onboarding deploys it and its offboarding deletes it. (In this
 * file, whose config is its own, rather than in lifecycle.test.ts, whose config the lifecycle files share: a config of
 * its own there would be one more synthesis of the blueprints, ~19 s of CPU on a cold cache.)
 */
const OPT_IN = 'me-central-1';
/** enterprise (isolation account) without DR, under another name and with a pool of its own: a tenant moved from it to enterprise gains the opt-in DR region. */
function homeOnlyTier() {
  const tier = structuredClone(DEFAULT_CONFIG.tiers.enterprise);
  tier.network.tenantCidrPool = '10.112.0.0/12';
  return tier;
}
/** The customizations role's policies in enterprise: what the fixture's template creates. */
const CUSTOMIZATION_POLICIES = ['arn:aws:iam::aws:policy/AmazonSNSFullAccess', 'arn:aws:iam::aws:policy/AmazonSSMFullAccess'];
const local = useLocalLifecycle(configWith({
  allowedRegions: ['us-east-1', 'us-west-2', OPT_IN],
  tiers: {
    enterprise: {
      disasterRecovery: { region: OPT_IN, rpoHours: 4, rtoHours: 12 },
      accountCustomizations: [{ name: 'security', templateFile: 'test/fixtures/customizations/security.yaml', parameters: { AlertEmail: 'sec@platform.example.com' } }],
      accountCustomizationsRole: { managedPolicyArns: CUSTOMIZATION_POLICIES },
    },
    homeonly: homeOnlyTier(),
  },
}));
const CUSTOM_STACK = `tessera-uaeacme-custom-security`;
const CUSTOMIZATIONS_ROLE = 'tessera-account-customizations';

const tenant = 'uaeacme';
/** Every SDK call the Lambdas made during the onboarding, in order: the client, the command, its region and, for GetRegionOptStatus, the answer. */
const calls: Array<{ client: string; command: string; region: string; input: Record<string, unknown>; status?: string }> = [];
/** The registry's currentStep right after each *Enable regions* / *Check regions* invocation. */
const recordedSteps: string[] = [];
let run: Awaited<ReturnType<typeof local.workflows.run>>;
let accountId: string;

beforeAll(async () => {
  const uninstall = registerClientPlugin((client) => {
    const c = client as unknown as { config: { region: string | (() => Promise<string>) }; middlewareStack: { add(m: unknown, o: object): void } };
    c.middlewareStack.add((next: (a: { input: Record<string, unknown> }) => Promise<{ output: any }>, context: { clientName?: string; commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const region = typeof c.config.region === 'function' ? await c.config.region() : c.config.region;
      const entry: (typeof calls)[number] = { client: context.clientName ?? '', command: context.commandName ?? '', region, input: args.input };
      calls.push(entry);
      const out = await next(args);
      if (entry.command === 'GetRegionOptStatusCommand') entry.status = out.output.RegionOptStatus;
      return out;
    }, { step: 'initialize', name: 'recordRegionCalls', override: true });
  });
  local.workflows.wrap = (name, handler) => (name === 'enable-regions' ? async (event: unknown) => {
    const out = await handler(event);
    recordedSteps.push((await getTenant(tenant))!.currentStep ?? '');
    return out;
  } : handler);
  try {
    run = await local.workflows.run('onboard', onboardRequest(tenant, 'enterprise'));
  } finally {
    uninstall();
    local.workflows.wrap = undefined;
  }
  accountId = (await getTenant(tenant))!.accountId!;
}, 600_000);

describe('an account tier with an opt-in DR region', () => {
  it('enables the region in the new account after it is made and before Verify provisioning access, polling in Wait states', () => {
    expect(run.error).toBeUndefined();
    const at = (state: string) => run.states.indexOf(state);
    expect(at('Quarantine account')).toBeGreaterThan(-1);
    expect(at('Opt-in regions?')).toBe(at('Quarantine account') + 1);
    expect(at('Enable regions')).toBe(at('Opt-in regions?') + 1);
    expect(at('Wait for regions')).toBeGreaterThan(at('Enable regions'));
    expect(at('Check regions')).toBeGreaterThan(at('Wait for regions'));
    expect(at('Verify provisioning access')).toBeGreaterThan(run.states.lastIndexOf('Check regions'));
    // the registry recorded each invocation's state as its currentStep
    expect(recordedSteps[0]).toBe('Enable regions');
    expect(recordedSteps.slice(1).every((s) => s === 'Check regions')).toBe(true);
    expect(recordedSteps.length).toBeGreaterThanOrEqual(2);
  });

  it('calls EnableRegion once for the tenant\'s account, and nothing in the region before GetRegionOptStatus answers ENABLED', async () => {
    const enables = calls.filter((c) => c.command === 'EnableRegionCommand');
    expect(enables.map((c) => c.input)).toEqual([{ AccountId: accountId, RegionName: OPT_IN }]);
    const enabledAt = calls.findIndex((c) => c.command === 'GetRegionOptStatusCommand' && c.status === 'ENABLED');
    expect(enabledAt).toBeGreaterThan(calls.indexOf(enables[0]));
    expect(calls.slice(calls.indexOf(enables[0]), enabledAt).filter((c) => c.command === 'GetRegionOptStatusCommand').map((c) => c.status)).toEqual(['ENABLING', 'ENABLING']);
    const firstInRegion = calls.findIndex((c) => c.region === OPT_IN && c.client !== 'AccountClient');
    expect(firstInRegion).toBeGreaterThan(enabledAt);
    // the home region (not opt-in) is neither read nor enabled
    expect(calls.filter((c) => c.client === 'AccountClient').every((c) => c.input.RegionName === OPT_IN)).toBe(true);
    // and the region is enabled in the account, the DR stack there
    const account = new AccountClient({ credentials: local.fixture.management, region: 'us-east-1' });
    expect((await account.send(new GetRegionOptStatusCommand({ AccountId: accountId, RegionName: OPT_IN }))).RegionOptStatus).toBe('ENABLED');
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(accountId), region: OPT_IN });
    expect((await cfn.send(new DescribeStacksCommand({ StackName: `tessera-${tenant}-dr` }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
    expect(await getTenant(tenant)).toMatchObject({ status: 'ACTIVE', disasterRecovery: { region: OPT_IN, status: 'ACTIVE' } });
  });

  it('deploys the tier\'s account customization in the new account, after the tier blueprint and before Wire tenant, as the customizations role the account baseline made; recorded ACTIVE', async () => {
    expect(run.states.indexOf('Deploy customizations')).toBeGreaterThan(run.states.indexOf('Deploy blueprint'));
    expect(run.states.indexOf('Deploy customizations')).toBeLessThan(run.states.indexOf('Wire tenant'));
    const credentials = await local.fixture.as(accountId);
    // the role: made by the account baseline stack, under its boundary, from the tier's policies (moto's CloudFormation
    // attaches no ManagedPolicyArns and answers a CommaDelimitedList parameter as Python's list text: each ARN looked for)
    const roleArn = `arn:aws:iam::${accountId}:role/${CUSTOMIZATIONS_ROLE}`;
    expect((await new IAMClient({ credentials }).send(new GetRoleCommand({ RoleName: CUSTOMIZATIONS_ROLE }))).Role).toMatchObject({
      Arn: roleArn, PermissionsBoundary: { PermissionsBoundaryArn: `arn:aws:iam::${accountId}:policy/${CUSTOMIZATIONS_ROLE}-boundary` },
    });
    const cfn = new CloudFormationClient({ credentials, region: 'us-east-1' });
    expect((await cfn.send(new DescribeStackResourcesCommand({ StackName: 'tessera-account-baseline' }))).StackResources!.map((r) => r.PhysicalResourceId)).toContain(CUSTOMIZATIONS_ROLE);
    const baseline = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-account-baseline' }))).Stacks![0];
    const policies = baseline.Parameters!.find((p) => p.ParameterKey === 'AccountCustomizationsPolicyArns')?.ParameterValue ?? '';
    for (const arn of CUSTOMIZATION_POLICIES) expect(policies).toContain(arn);
    // the stack: as that role, protected, tagged, with the config's parameters; what its template makes is there
    const custom = (await cfn.send(new DescribeStacksCommand({ StackName: CUSTOM_STACK }))).Stacks![0];
    expect(custom).toMatchObject({ StackStatus: 'CREATE_COMPLETE', RoleARN: roleArn, EnableTerminationProtection: true });
    expect(custom.Parameters).toContainEqual({ ParameterKey: 'AlertEmail', ParameterValue: 'sec@platform.example.com' });
    expect(custom.Tags).toContainEqual({ Key: 'tessera:component', Value: 'account-customization' });
    expect((await new SSMClient({ credentials, region: 'us-east-1' }).send(new GetParameterCommand({ Name: '/platform/baseline' }))).Parameter?.Value).toBe('platform-security-alerts');
    expect((await getTenant(tenant))!.customizations).toEqual({
      security: { stackName: CUSTOM_STACK, status: 'ACTIVE', tier: 'enterprise', blueprintVersion: expect.any(String), updatedAt: expect.any(String) },
    });
  });

  it('skips the step without a call for a VPC tier (its regions are the workload account\'s)', async () => {
    calls.length = 0;
    const uninstall = registerClientPlugin((client) => {
      (client as unknown as { middlewareStack: { add(m: unknown, o: object): void } }).middlewareStack.add((next: (a: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => async (args: unknown) => {
        calls.push({ client: context.clientName ?? '', command: context.commandName ?? '', region: '', input: {} });
        return next(args);
      }, { step: 'initialize', name: 'recordRegionCalls', override: true });
    });
    let vpc: typeof run;
    try {
      vpc = await local.workflows.run('onboard', onboardRequest('vpcacme', 'starter'));
    } finally {
      uninstall();
    }
    expect(vpc.error).toBeUndefined();
    expect(vpc.states).not.toContain('Enable regions');
    expect(calls.filter((c) => c.client === 'AccountClient')).toEqual([]);
  }, 600_000);

  it('fails at Enable regions naming trusted access while the organization has not enabled it for account.amazonaws.com (AWS answers AccessDenied), and a retry once it is enabled resumes there', async () => {
    // GIVEN trusted access for account.amazonaws.com turned off (the fixture turns it on: docs/deploying.md's step)
    const orgs = new OrganizationsClient({ credentials: local.fixture.management, region: 'us-east-1' });
    await orgs.send(new DisableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
    let denied: typeof run;
    try {
      // WHEN an account-tier tenant is onboarded
      denied = await local.workflows.run('onboard', onboardRequest('denied', 'enterprise'));
    } finally {
      await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
    }
    // THEN it fails at the step, before any call into the region, naming the cause and the command that removes it
    expect(denied.error?.message).toMatch(/RegionOptInFailed/);
    expect(denied.states).not.toContain('Verify provisioning access');
    const record = (await getTenant('denied'))!;
    expect(record).toMatchObject({ status: 'FAILED', failure: { step: 'Enable regions' } });
    expect(record.failure!.reason).toMatch(/account:GetRegionOptStatus for region me-central-1 in account \d{12} was denied .*aws organizations enable-aws-service-access --service-principal account\.amazonaws\.com/);
    expect(nextStepAfterFailure('denied', record.failure!.kind, record.failure!.reason)).toBe('remove the cause above, then run tessera tenants retry denied (steps already done are skipped)');
    // AND the retry (trusted access now on) enables the region in the same account and ends ACTIVE
    const retried = await local.workflows.run('onboard', onboardRequest('denied', 'enterprise'));
    expect(retried.error).toBeUndefined();
    expect(retried.states).toContain('Enable regions');
    expect(await getTenant('denied')).toMatchObject({ status: 'ACTIVE', accountId: record.accountId });
  }, 600_000);

  it('enables the DR region before the account baseline when an account-tier tenant moves to that tier (tessera-change), and not before; the move completes', async () => {
    // GIVEN a tenant of homeonly (account tier, no opt-in region): onboarded without the step
    const onboarded = await local.workflows.run('onboard', onboardRequest('mover', 'homeonly'));
    expect(onboarded.error).toBeUndefined();
    expect(onboarded.states).toContain('Opt-in regions?');
    expect(onboarded.states).not.toContain('Enable regions');
    const moverAccount = (await getTenant('mover'))!.accountId!;
    const account = new AccountClient({ credentials: local.fixture.management, region: 'us-east-1' });
    expect((await account.send(new GetRegionOptStatusCommand({ AccountId: moverAccount, RegionName: OPT_IN }))).RegionOptStatus).toBe('DISABLED');
    // WHEN it moves to enterprise, whose DR region is me-central-1
    const moved = await local.workflows.run('change', { request: { tenantId: 'mover', requestId: 'req-mover-change-1' }, change: { tier: 'enterprise' } });
    // THEN the region is enabled first, then the account baseline, then the DR blueprint in the region, then the primary
    // (whose update replaces the database backup role by tessera-mover-database-backup, the name the DR key admits), to the end
    expect(moved.error).toBeUndefined();
    const at = (state: string) => moved.states.indexOf(state);
    // (an account tenant's tier change moves its account to the new tier's OU first: Move account, session 46)
    expect(at('Move account')).toBe(at('Begin change') + 2);
    expect(at('Opt-in regions?')).toBe(at('Move account') + 1);
    expect(at('Enable regions')).toBe(at('Opt-in regions?') + 1);
    expect(at('Deploy account baseline')).toBeGreaterThan(moved.states.lastIndexOf('Check regions'));
    expect(at('Deploy DR blueprint')).toBeGreaterThan(at('Deploy account baseline'));
    expect(at('DR blueprint ready')).toBeGreaterThan(at('Deploy DR blueprint'));
    expect((await account.send(new GetRegionOptStatusCommand({ AccountId: moverAccount, RegionName: OPT_IN }))).RegionOptStatus).toBe('ENABLED');
    expect(at('Deploy blueprint')).toBeGreaterThan(at('DR blueprint ready'));
    expect(at('Blueprint ready')).toBeGreaterThan(at('Deploy blueprint'));
    expect(moved.states.at(-1)).toBe('Changed');
    expect(await getTenant('mover')).toMatchObject({ status: 'ACTIVE', tier: 'enterprise', disasterRecovery: { region: OPT_IN, stackName: 'tessera-mover-dr', status: 'ACTIVE' } });
    // and enterprise's customization deployed by the change, after the blueprints, as the role the baseline's update made
    expect(at('Deploy customizations')).toBeGreaterThan(at('Blueprint ready'));
    expect(await getTenant('mover')).toMatchObject({ customizations: { security: { stackName: 'tessera-mover-custom-security', status: 'ACTIVE', tier: 'enterprise' } } });
    const credentials = await local.fixture.as(moverAccount);
    expect((await new CloudFormationClient({ credentials, region: OPT_IN }).send(new DescribeStacksCommand({ StackName: 'tessera-mover-dr' }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
    const primary = (await new CloudFormationClient({ credentials, region: 'us-east-1' }).send(new DescribeStacksCommand({ StackName: 'tessera-mover' }))).Stacks![0];
    expect(primary.StackStatus).toBe('UPDATE_COMPLETE');
    expect(primary.Outputs).toContainEqual(expect.objectContaining({ OutputKey: 'Tier', OutputValue: 'enterprise' }));
  }, 600_000);

  /**
   * AWS answers every call into a region the account has disabled as it answers an unknown credential: "the act of disabling
   * a Region will remove all IAM access to any resources that reside in that Region" (Account Management API Reference,
   * DisableRegion). moto answers so itself (support/moto-python/tessera_moto_patches.py refuse_disabled_regions: any call
   * signed for the region by an account whose status is not ENABLED fails, UnrecognizedClientException or
   * InvalidClientTokenId, naming nothing of the cause). This records moto's GetRegionOptStatus answers of `accountId`'s
   * `region`, as the calls read them, into `answers`.
   */
  function recordOptStatus(accountId: string, region: string, answers: string[]): () => void {
    return registerClientPlugin((client) => {
      (client as unknown as { middlewareStack: { add(m: unknown, o: object): void } }).middlewareStack.add((next: (a: { input: Record<string, unknown> }) => Promise<{ output: any }>, context: { clientName?: string; commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
        const out = await next(args);
        if (context.commandName === 'GetRegionOptStatusCommand' && args.input.AccountId === accountId && args.input.RegionName === region) answers.push(out.output.RegionOptStatus);
        return out;
      }, { step: 'initialize', name: 'recordOptStatus', override: true });
    });
  }

  it('offboards a tenant whose DR region someone disabled in its account: Enable regions, after the keys are revoked and before the first call into the account, enables it again', async () => {
    // GIVEN uaeacme (enterprise, DR stack in me-central-1) ACTIVE, and someone disables me-central-1 in its account
    const account = new AccountClient({ credentials: local.fixture.management, region: 'us-east-1' });
    await account.send(new DisableRegionCommand({ AccountId: accountId, RegionName: OPT_IN }));
    // (moto refuses a call into it now, as AWS: the DR stack is out of reach)
    const credentials = await local.fixture.as(accountId);
    const drStack = () => new CloudFormationClient({ credentials, region: OPT_IN, maxAttempts: 1 }).send(new DescribeStacksCommand({ StackName: `tessera-${tenant}-dr` }));
    await expect(drStack()).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
    const answers: string[] = [];
    const uninstall = recordOptStatus(accountId, OPT_IN, answers);
    // (the customization stack as Retire account finds it, before the account is moved out and closed)
    const homeCfn = new CloudFormationClient({ credentials, region: 'us-east-1' });
    const customId = (await homeCfn.send(new DescribeStacksCommand({ StackName: CUSTOM_STACK }))).Stacks![0].StackId!;
    let customAtRetire: string | undefined;
    local.workflows.wrap = (name, handler) => (name === 'retire-account' ? async (event: unknown) => {
      customAtRetire ??= (await homeCfn.send(new DescribeStacksCommand({ StackName: customId }))).Stacks![0].StackStatus;
      return handler(event);
    } : handler);
    let offboarded: typeof run;
    try {
      // WHEN it is offboarded
      offboarded = await local.workflows.run('offboard', { request: { tenantId: tenant, requestId: 'req-uaeacme-offboard' } });
    } finally {
      uninstall();
      local.workflows.wrap = undefined;
    }
    // THEN the region is enabled again (DISABLING waited out, then EnableRegion) before any call into the account, after
    // the usage key's revocation, and the offboarding completes: the DR stack in the region deleted
    expect(offboarded.error).toBeUndefined();
    const at = (state: string) => offboarded.states.indexOf(state);
    expect(at('Opt-in regions?')).toBe(at('Revoke usage key') + 1);
    expect(at('Enable regions')).toBe(at('Opt-in regions?') + 1);
    expect(at('Retire fine-tuned models')).toBeGreaterThan(offboarded.states.lastIndexOf('Check regions'));
    expect(answers[0]).toBe('DISABLING');
    expect(answers).toContain('DISABLED');
    expect(answers.at(-1)).toBe('ENABLED');
    expect((await account.send(new GetRegionOptStatusCommand({ AccountId: accountId, RegionName: OPT_IN }))).RegionOptStatus).toBe('ENABLED');
    expect(await getTenant(tenant)).toMatchObject({ status: 'OFFBOARDED' });
    // AND its account customization was deleted by Delete tenant stacks (its protection lifted on record), before the account was retired
    expect(customAtRetire).toBe('DELETE_COMPLETE');
    const record = (await getTenant(tenant))!;
    expect(record.customizations?.security).toMatchObject({ stackName: CUSTOM_STACK, status: 'DELETED' });
    expect(record.offboarding?.liftedProtections.filter((l) => l.logicalId === CUSTOM_STACK).map((l) => `${l.protection} by ${l.step}`)).toEqual(['TerminationProtection by Delete tenant stacks']);
  }, 600_000);

  it('fails an offboarding at Enable regions, naming the region and its status, when the region cannot be enabled again (trusted access off), before any call into the account', async () => {
    // GIVEN denied (enterprise, ACTIVE since the retry above) whose DR region someone disabled, and trusted access for account.amazonaws.com off
    const deniedAccount = (await getTenant('denied'))!.accountId!;
    const account = new AccountClient({ credentials: local.fixture.management, region: 'us-east-1' });
    await account.send(new DisableRegionCommand({ AccountId: deniedAccount, RegionName: OPT_IN }));
    const orgs = new OrganizationsClient({ credentials: local.fixture.management, region: 'us-east-1' });
    await orgs.send(new DisableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
    let failed: typeof run;
    try {
      failed = await local.workflows.run('offboard', { request: { tenantId: 'denied', requestId: 'req-denied-offboard' } });
    } finally {
      await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
    }
    // THEN the registry names the step, the region, the account and what to do; nothing in the account was called
    expect(failed.error?.message).toMatch(/RegionOptInFailed/);
    expect(failed.states).not.toContain('Retire fine-tuned models');
    const record = (await getTenant('denied'))!;
    expect(record).toMatchObject({ status: 'OFFBOARDING', failure: { step: 'Enable regions' } });
    expect(record.failure!.reason).toMatch(new RegExp(`account:GetRegionOptStatus for region ${OPT_IN} in account ${deniedAccount} was denied .*enable-aws-service-access --service-principal account\\.amazonaws\\.com`));
  }, 600_000);
});
