import { CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand, ExecuteChangeSetCommand, UpdateStackCommand, ListStackResourcesCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupEgressCommand, RevokeSecurityGroupIngressCommand, EC2ServiceException } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import {
  AttachPolicyCommand, CreateAccountCommand, DescribeAccountCommand, DescribeCreateAccountStatusCommand, DetachPolicyCommand, ListAccountsCommand, ListCreateAccountStatusCommand, ListOrganizationalUnitsForParentCommand,
  ListParentsCommand, ListPoliciesCommand, ListPoliciesForTargetCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient, OrganizationsServiceException, ConstraintViolationException, AccessDeniedException,
  TagResourceCommand, UntagResourceCommand, AccountNotFoundException, ConcurrentModificationException, DestinationParentNotFoundException, DuplicateAccountException, SourceParentNotFoundException, TooManyRequestsException } from '@aws-sdk/client-organizations';
import { DescribeExecutionCommand, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { ACCOUNT_ZONES, blueprintObject, standingSubnets, credentials, EXECUTION_ARN, LEASED_AT, leased, NAMESPACE_DEPLOYER_SCOPE, OTHER_EXECUTION_ARN, ownedTags, setLifecycleEnv, state, tenant, useConfig, useNamespaceDeployerScope } from './support.js';
import { CreateRoleCommand, GetRoleCommand, IAMClient, IAMServiceException, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { configWith } from '../../support/config-with.js';
import { records, registryMock } from './registry-mock.js';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
// The quota check has its own tests (quota-check.test.ts): here every quota holds.
vi.mock('../../../lambdas/lifecycle/quota-check.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  tierTemplate: vi.fn(async () => ({ Resources: {} })),
  checkQuotas: vi.fn(async () => ({ findings: [], unchecked: [], shortfalls: [] })),
}));
const controlMock = vi.hoisted(() => ({
  acquireSlot: vi.fn(async () => true),
  releaseSlot: vi.fn(async () => undefined),
  nextPoolIndex: vi.fn(async () => 0),
  passPoolIndex: vi.fn(async () => undefined),
  claimCidr: vi.fn(async () => true),
  cidrClaimsOf: vi.fn(async (): Promise<string[]> => []),
  releaseCidr: vi.fn(async () => undefined),
  returnPoolIndex: vi.fn(async () => undefined),
  // No block given back at offboarding is listed (pool-allocation.test.ts hands them out).
  releasedCidrs: vi.fn(async (): Promise<string[]> => []),
  claimReleasedCidr: vi.fn(async () => 'gone' as const),
  dropClaimedCidr: vi.fn(async () => undefined),
  slotHolders: vi.fn(async (): Promise<string[]> => []),
  claimOnboardingRequest: vi.fn(async (requestId: string, tenantId: string) => (await import('./control-table-mock.js')).claimOnboardingRequest(requestId, tenantId)),
  releaseOnboardingRequest: vi.fn(async () => undefined),
}));

const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
/** The blueprint catalog (Deploy blueprint reads the template it deploys). */
const templates = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const ec2 = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const eventTypes = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType);
const eventDetails = () => events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!));

beforeEach(() => {
  setLifecycleEnv();
  forgetSessions(); // each test sees its own AssumeRole calls (the management session is kept 10 minutes)
  records.clear();
  vi.clearAllMocks();
  for (const m of [orgs, sts, cfn, ec2, events, sfn, iam]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  ec2.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  // a standing stack's subnets (a tenant without recorded zones: Deploy blueprint reads them from its stack)
  cfn.on(ListStackResourcesCommand).resolves(standingSubnets().resources);
  ec2.on(DescribeSubnetsCommand).resolves(standingSubnets().subnets);
  templates.on(GetObjectCommand).resolves(blueprintObject());
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
  orgs.on(ListPoliciesCommand).resolves({ Policies: [{ Id: 'p-quarantine', Name: 'tessera-quarantine' }, { Id: 'p-guard', Name: 'tessera-guardrails' }] });
  orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [{ Id: 'ou-abcd-enterprise', Name: 'tessera-enterprise' }, { Id: 'ou-abcd-suspended', Name: 'Suspended' }] });
});

describe('Validate request', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/validate-request.js');
  // What the admin API starts the execution with: the onboarding request as the client sent it (strict, nothing resolved yet).
  const sent = { tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'admin@acme.example.com', requestId: 'req-acme-0001' };
  it('resolves isolation and compute mode of the tier', async () => {
    await expect(handler(state('acme', { request: { ...sent, tier: 'enterprise' } }))).resolves.toEqual({ ...sent, tier: 'enterprise', isolation: 'account', computeMode: 'dedicated' });
  });
  it('refuses a field the request does not know, naming it', async () => {
    await expect(handler(state('acme', { request: { ...sent, isolation: 'vpc' } }))).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/Unrecognized key.*"isolation"/) });
  });
  it('names every bad field and its value', async () => {
    await expect(handler({ request: { tenantId: 'Bad_Id', name: '', tier: 'starter', adminEmail: 'nope', requestId: 'r' } } as never))
      .rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/tenantId = "Bad_Id".*adminEmail = "nope".*requestId = "r"/) });
  });
  it('takes an account tier\'s admin email over 64 characters: the account\'s root email is the platform\'s, not this one', async () => {
    const long = `${'a'.repeat(48)}@acme.example.com`;
    await expect(handler(state('acme', { request: { ...sent, tier: 'enterprise', adminEmail: long } }))).resolves.toMatchObject({ isolation: 'account', adminEmail: long });
  });
  it('refuses an unknown tier, listing the tiers', async () => {
    await expect(handler(state('acme', { request: { ...sent, tier: 'gold' } }))).rejects.toMatchObject({ name: 'InvalidRequest', message: 'tier "gold" does not exist (tiers: starter, professional, enterprise)' });
  });
});

describe('Register tenant', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/register-tenant.js');
  it('registers a new tenant as PROVISIONING in the workload account for VPC isolation, holding its lease', async () => {
    await expect(handler(state())).resolves.toEqual({ action: 'proceed' });
    const record = records.get('acme')!;
    expect(record).toMatchObject({
      status: 'PROVISIONING', accountId: '333333333333', currentStep: 'Register tenant',
      lease: { kind: 'onboard', executionArn: EXECUTION_ARN, requestId: 'req-acme-0001', previousStatus: 'REQUESTED' },
    });
    expect(record.executions).toEqual([{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: record.lease!.acquiredAt, status: 'RUNNING' }]);
  });

  it('takes over the record the admin API registered for this execution (REQUESTED, its lease already)', async () => {
    // GIVEN the record the admin API put before StartExecution
    records.set('acme', leased('onboard', { status: 'REQUESTED', accountId: '333333333333', vpcCidr: undefined }));
    // WHEN
    await expect(handler(state())).resolves.toEqual({ action: 'proceed' });
    // THEN the same lease, PROVISIONING
    expect(records.get('acme')).toMatchObject({ status: 'PROVISIONING', currentStep: 'Register tenant', lease: { executionArn: EXECUTION_ARN, acquiredAt: LEASED_AT, previousStatus: 'REQUESTED' } });
    expect(records.get('acme')!.executions).toHaveLength(1);
  });

  it.each(['ACTIVE', 'UPDATING', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED'] as const)('is a no-op for the same request once %s: done, nothing written', async (status) => {
    // GIVEN a tenant past onboarding, and a replay of its onboarding request (a bus replay, a second StartExecution)
    const before = tenant({ status, executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: 'arn:first', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] });
    records.set('acme', before);
    // WHEN / THEN
    await expect(handler(state())).resolves.toEqual({ action: 'done', status });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(registryMock.putNewTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });

  it('refuses a request id another tenant\'s onboarding used (an execution started outside the admin API), writing nothing', async () => {
    // GIVEN globex onboarded by req-acme-0001
    records.set('globex', tenant({ tenantId: 'globex', status: 'ACTIVE', requestId: 'req-acme-0001' }));
    // WHEN acme's onboarding comes with that request id (a bus event, a StartExecution): was registered as a second onboarding
    await expect(handler(state())).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: 'request req-acme-0001 was used for the onboarding of tenant globex; a request id names one request: send a new requestId to onboard acme',
    });
    // THEN
    expect(registryMock.putNewTenant).not.toHaveBeenCalled();
    expect(records.has('acme')).toBe(false);
  });

  it('gives its request id back when it lost the registration to another request (TenantConflict): it registered nothing', async () => {
    // GIVEN acme registered by another request between this step's read and its conditional put
    records.set('acme', tenant({ status: 'PROVISIONING', requestId: 'req-other-0001' }));
    registryMock.getTenant.mockImplementationOnce(async () => undefined);
    // WHEN / THEN refused as before, and (hlc4) the claim it made is released: it was kept, so the id sent for another
    // tenant was refused as "used for the onboarding of tenant acme", which no request of that id onboarded
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantConflict' });
    expect(controlMock.releaseOnboardingRequest).toHaveBeenCalledWith('req-acme-0001', 'acme');
    expect(records.get('acme')).toMatchObject({ requestId: 'req-other-0001' });
  });

  it('refuses the same request with another tier, email or name, naming each difference, and writes nothing', async () => {
    // GIVEN a FAILED onboarding recorded with the original values
    const before = tenant({ status: 'FAILED', failure: { step: 'Check account', reason: 'AccountCreationFailed: EMAIL_ALREADY_EXISTS', at: 't' } });
    records.set('acme', before);
    // WHEN the same request id comes with other values
    const changed = state('acme', { request: { ...state().request, tier: 'professional', adminEmail: 'root@acme.example.com', name: 'Acme Corp' } });
    // THEN
    await expect(handler(changed)).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringContaining('request req-acme-0001 differs from the one recorded for tenant acme: name "Acme" → "Acme Corp"; tier "starter" → "professional"; adminEmail "admin@acme.example.com" → "root@acme.example.com"; '),
    });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });

  // s27: the replay left out inviteAdmin the original set false; with the platform's pool its default is true.
  it('refuses the same request leaving out inviteAdmin the original set, when its default differs, naming the recorded value and the default', async () => {
    const before = tenant({ status: 'FAILED', inviteAdmin: false, failure: { step: 'Check account', reason: 'x', at: 't' } });
    records.set('acme', before);
    process.env.TESSERA_USER_POOL_ID = 'us-east-1_Pool123';
    try {
      await expect(handler(state())).rejects.toMatchObject({
        name: 'InvalidRequest', message: expect.stringContaining('request req-acme-0001 differs from the one recorded for tenant acme: inviteAdmin "false" → (not given: default "true"); '),
      });
    } finally {
      delete process.env.TESSERA_USER_POOL_ID;
    }
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });

  // An onboarding started from the console or the bus is checked only by Validate request, which has no pool: an adminEmail
  // Cognito cannot take as a Username (AdminCreateUser: 1-128 characters) was registered, and the run failed minutes later at
  // Invite tenant admin. Register tenant has the pool: it refuses before anything is claimed or written.
  describe('an adminEmail Cognito cannot take as the first admin\'s Username', () => {
    const long = `${'a'.repeat(129 - '@acme.example.com'.length)}@acme.example.com`;
    const refusal = `invalid onboarding request: adminEmail = "${long.slice(0, 97)}..." (129 characters): a user's email is its Cognito username, and Cognito AdminCreateUser takes a Username of 1-128 characters; the onboarding invites adminEmail as the tenant's first admin: give an address Cognito takes, or set inviteAdmin to false`;
    const withPool = async (run: () => Promise<void>) => {
      process.env.TESSERA_USER_POOL_ID = 'us-east-1_Pool123';
      try {
        await run();
      } finally {
        delete process.env.TESSERA_USER_POOL_ID;
      }
    };
    it('refuses a new onboarding that invites it, naming adminEmail and its value, claiming and writing nothing', async () => withPool(async () => {
      await expect(handler(state('acme', { request: { ...state().request, adminEmail: long } }))).rejects.toMatchObject({ name: 'InvalidRequest', message: refusal });
      expect(controlMock.claimOnboardingRequest).not.toHaveBeenCalled();
      expect(registryMock.putNewTenant).not.toHaveBeenCalled();
      expect(records.has('acme')).toBe(false);
    }));
    it('refuses one with whitespace in it too', async () => withPool(async () => {
      await expect(handler(state('acme', { request: { ...state().request, adminEmail: 'first admin@acme.example.com' } })))
        .rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining('adminEmail = "first admin@acme.example.com": a user\'s email is its Cognito username') });
      expect(records.has('acme')).toBe(false);
    }));
    it('refuses to resume a FAILED onboarding recorded with it, writing nothing (a retry corrects adminEmail)', async () => withPool(async () => {
      const before = tenant({ status: 'FAILED', adminEmail: long, failure: { step: 'Invite tenant admin', reason: 'x', at: 't' } });
      records.set('acme', before);
      await expect(handler(state('acme', { request: { ...state().request, adminEmail: long } }))).rejects.toMatchObject({ name: 'InvalidRequest', message: refusal });
      expect(registryMock.updateTenant).not.toHaveBeenCalled();
      expect(records.get('acme')).toEqual(before);
    }));
    it('takes it when no invitation is made: inviteAdmin false, or no pool (its default then is false)', async () => {
      await withPool(async () => {
        await expect(handler(state('acme', { request: { ...state().request, adminEmail: long, inviteAdmin: false } }))).resolves.toEqual({ action: 'proceed' });
      });
      records.clear();
      await expect(handler(state('acme', { request: { ...state().request, adminEmail: long } }))).resolves.toEqual({ action: 'proceed' });
    });
    it('takes 128 characters with the pool', async () => withPool(async () => {
      await expect(handler(state('acme', { request: { ...state().request, adminEmail: long.slice(1) } }))).resolves.toEqual({ action: 'proceed' });
    }));
  });

  it('resumes a FAILED onboarding of the same request with the lease, reporting where it stopped', async () => {
    // GIVEN an earlier execution that failed at Check blueprint
    const earlier = { kind: 'onboard' as const, requestId: 'req-acme-0001', executionArn: 'arn:earlier', startedAt: 't0', endedAt: 't1', status: 'FAILED' as const, failedStep: 'Check blueprint', reason: 'x' };
    records.set('acme', tenant({ status: 'FAILED', currentStep: 'Check blueprint', executions: [earlier], failure: { step: 'Check blueprint', reason: 'x', at: 't1', kind: 'onboard', executionArn: 'arn:earlier' } }));
    // WHEN
    await expect(handler(state())).resolves.toEqual({ action: 'proceed', resumedFrom: 'Check blueprint' });
    // THEN this execution holds the lease, the failure is cleared, both attempts are in the history
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'PROVISIONING', currentStep: 'Register tenant', lease: { kind: 'onboard', executionArn: EXECUTION_ARN, previousStatus: 'FAILED' } });
    expect(record.failure).toBeUndefined();
    expect(record.executions).toEqual([earlier, expect.objectContaining({ executionArn: EXECUTION_ARN, status: 'RUNNING' })]);
  });

  // s37c: a duplicate delivery of the request (EventBridge delivers at least once) was refused TenantBusy: a Tenant Lifecycle
  // Failed on the bus and a lastRefusal on the tenant for a request being carried out.
  it('does nothing while another execution of the same onboarding request runs: done, naming it, writing nothing', async () => {
    // GIVEN a live execution holds the lease for this request
    const before = leased('onboard', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    // WHEN / THEN
    await expect(handler(state())).resolves.toEqual({ action: 'done', status: before.status, runningExecution: OTHER_EXECUTION_ARN });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0].args[0].input).toEqual({ executionArn: OTHER_EXECUTION_ARN });
    expect(records.get('acme')).toEqual(before);
  });

  // s48: Register tenant decided on its read before the lease; another execution of the request could end in between.
  describe('decides again on the record the lease returned', () => {
    const failed = (step: string, extra: Partial<TenantRecord> = {}) => tenant({ status: 'FAILED', currentStep: step, failure: { step, reason: 'x', at: 't1', kind: 'onboard', executionArn: 'arn:earlier' }, ...extra });
    /** What the step reads first (before the lease): `before`; the registry holds what another execution of the request left since. */
    const readBefore = (before: TenantRecord) => registryMock.getTenant.mockImplementationOnce(async () => structuredClone(before));
    it('refuses a request that differs from the values a retry with corrections recorded meanwhile (was: onboarded with the values read before)', async () => {
      // GIVEN the FAILED onboarding read with the request's adminEmail; a retry correcting it ran and failed before the lease
      records.set('acme', failed('Invite tenant admin', { adminEmail: 'ops@acme.example.com' }));
      readBefore(failed('Check blueprint'));
      await expect(handler(state())).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining('adminEmail "ops@acme.example.com" → "admin@acme.example.com"') });
    });
    it('answers done for the tenant another execution of the request left ACTIVE meanwhile (was: refused TenantConflict)', async () => {
      records.set('acme', tenant({ status: 'ACTIVE' }));
      readBefore(failed('Check blueprint'));
      await expect(handler(state())).resolves.toEqual({ action: 'done', status: 'ACTIVE' });
      expect(records.get('acme')).toMatchObject({ status: 'ACTIVE' });
      expect(records.get('acme')?.lease).toBeUndefined();
    });
    it('reports the step the last failed run stopped at as the lease returned it (was: the failure read before)', async () => {
      records.set('acme', failed('Invite tenant admin'));
      readBefore(failed('Check blueprint'));
      await expect(handler(state())).resolves.toEqual({ action: 'proceed', resumedFrom: 'Invite tenant admin' });
    });
    it('names no step when the record the lease returned has no failure: a run since went past the one read before (was: the failure read before)', async () => {
      // GIVEN the FAILED onboarding read at Check blueprint; another execution of the request then took it, cleared the
      // failure at Register tenant and went on to Deploy blueprint, and no lease holds it now
      records.set('acme', tenant({ status: 'PROVISIONING', currentStep: 'Deploy blueprint' }));
      readBefore(failed('Check blueprint'));
      // WHEN / THEN this execution takes it, and says it resumes from no recorded failure
      await expect(handler(state())).resolves.toEqual({ action: 'proceed' });
      expect(records.get('acme')).toMatchObject({ status: 'PROVISIONING', currentStep: 'Register tenant', lease: { executionArn: EXECUTION_ARN } });
    });
  });

  it('refuses a tenant id taken by another request', async () => {
    records.set('acme', tenant({ requestId: 'someone-else', status: 'ACTIVE' }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantConflict', message: expect.stringMatching(/already registered by request someone-else/) });
  });
});

describe('account slots', async () => {
  const acquire = (await import('../../../lambdas/lifecycle/acquire-account-slot.js')).handler;
  const release = (await import('../../../lambdas/lifecycle/release-account-slot.js')).handler;
  it('reports whether a slot under the cap was taken', async () => {
    const waiting = leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined });
    records.set('acme', { ...waiting, lease: { ...waiting.lease!, acquiredAt: new Date().toISOString() } });
    controlMock.acquireSlot.mockResolvedValueOnce(false);
    await expect(acquire(state())).resolves.toEqual({ acquired: false, cap: 5 });
    expect(controlMock.acquireSlot).toHaveBeenCalledWith('acme', 5);
    await expect(release(state())).resolves.toEqual({ released: true });
    expect(controlMock.releaseSlot).toHaveBeenCalledWith('acme');
  });

  // Hostile lc (s12): the wait for a slot had no limit (until the execution history's 25,000 events) and named no cause.
  it('fails the onboarding after ACCOUNT_SLOT_WAIT_MS without a slot, naming the tenants holding the slots and their requests', async () => {
    const { ACCOUNT_SLOT_WAIT_MS } = await import('../../../lambdas/lifecycle/acquire-account-slot.js');
    const waiting = leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined });
    records.set('acme', { ...waiting, lease: { ...waiting.lease!, acquiredAt: new Date(Date.now() - ACCOUNT_SLOT_WAIT_MS - 60_000).toISOString() } });
    records.set('globex', tenant({ tenantId: 'globex', status: 'PROVISIONING', accountId: undefined, createAccountRequestId: 'car-stuck' }));
    controlMock.acquireSlot.mockResolvedValueOnce(false);
    controlMock.slotHolders.mockResolvedValueOnce(['globex', 'gone']);
    await expect(acquire(state())).rejects.toMatchObject({
      name: 'AccountWaitTimedOut', message: expect.stringMatching(/^tenant acme waited 48\d minutes \(limit 480\) for one of 5 account-creation slots; held by globex \(CreateAccount request car-stuck\), gone \(no tenant record\)$/),
    });
  });
});

describe('Create account / Check account', async () => {
  const create = (await import('../../../lambdas/lifecycle/create-account.js')).handler;
  const check = (await import('../../../lambdas/lifecycle/check-account-status.js')).handler;
  const vending = (extra: Partial<TenantRecord> = {}) => records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined, vpcCidr: undefined, ...extra }));

  // s23 (hostile pass), pinned: a redrive (aws stepfunctions redrive-execution) re-runs the state the execution stopped in, not its
  // first step. A step that tracks itself writes currentStep under its execution's lease (markStep) before any AWS call: an
  // execution whose lease was released when it ended (FAILED by end-stopped-execution) is refused there, nothing sent.
  it('a redriven Create account whose lease was released is refused at its first, lease-conditioned write: no CreateAccount', async () => {
    const before = tenant({ status: 'FAILED', isolation: 'account', tier: 'enterprise', accountId: undefined, executions: [
      { kind: 'onboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, endedAt: 't', status: 'FAILED', failedStep: 'Create account' },
    ] });
    records.set('acme', before);
    await expect(create(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(orgs.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('asks Organizations once, through the management account role, with the provisioning role name and tags', async () => {
    vending();
    orgs.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS' } });
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)[0].args[0].input).toEqual({
      // the root email is the platform's (organization.accountEmail with the tenant id), never the admin's admin@acme.example.com
      Email: 'aws+tessera-acme@example.com', AccountName: 'tessera-acme', RoleName: 'TesseraProvisioning', IamUserAccessToBilling: 'DENY',
      Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:tier', Value: 'enterprise' }],
    });
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input.RoleArn).toBe('arn:aws:iam::111111111111:role/TesseraOrganizationAccess');
    expect(records.get('acme')).toMatchObject({
      createAccountRequestId: 'car-00000001', createAccountClaim: { at: expect.any(String), executionArn: EXECUTION_ARN }, accountEmail: 'aws+tessera-acme@example.com',
    });
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(1);
  });

  it('gives each tenant\'s account its own root email from organization.accountEmail, whoever its admin is', async () => {
    // GIVEN two account tenants whose first admin is one person
    useConfig(configWith({ organization: { accountEmail: 'aws+t-{tenantId}@platform.acme.test' } }));
    orgs.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS' } });
    for (const id of ['acme', 'globex']) {
      records.set(id, leased('onboard', { tenantId: id, isolation: 'account', tier: 'enterprise', accountId: undefined, vpcCidr: undefined, adminEmail: 'pat@customer.example.com' }));
      // WHEN
      await create(state(id));
    }
    // THEN Organizations is asked for two addresses of the platform's, neither the admin's
    expect(orgs.commandCalls(CreateAccountCommand).map((c) => c.args[0].input.Email)).toEqual(['aws+t-acme@platform.acme.test', 'aws+t-globex@platform.acme.test']);
    expect(records.get('globex')?.accountEmail).toBe('aws+t-globex@platform.acme.test');
  });

  it('adopts an account requested with the recorded root email, and one requested before the key with the admin email', async () => {
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [
      { Id: '555555555555', Name: 'tessera-acme', Email: 'admin@acme.example.com' },
      { Id: '444444444444', Name: 'tessera-acme', Email: 'aws+tessera-acme@example.com' },
    ] });
    // a claim of this version: the address it recorded, not the admin's
    vending({ createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN }, accountEmail: 'aws+tessera-acme@example.com' });
    await expect(create(state())).resolves.toEqual({ state: 'SUCCEEDED', accountId: '444444444444' });
    // a claim made before organization.accountEmail existed: CreateAccount was sent the admin's address
    vending({ createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    await expect(create(state())).resolves.toEqual({ state: 'SUCCEEDED', accountId: '555555555555' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('writes its claim before it calls CreateAccount', async () => {
    // GIVEN no account, request or claim
    vending();
    let claimAtCall: unknown;
    orgs.on(CreateAccountCommand).callsFake(() => {
      claimAtCall = structuredClone(records.get('acme')!.createAccountClaim);
      return { CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS' } };
    });
    // WHEN
    await create(state());
    // THEN the registry held the claim when Organizations was asked
    expect(claimAtCall).toEqual({ at: expect.any(String), executionArn: EXECUTION_ARN });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(1);
  });

  it('records the request of an earlier claim that reached Organizations instead of calling CreateAccount again', async () => {
    // GIVEN an earlier invocation claimed at 10:00 and died before it recorded the request id
    const at = '2026-11-30T10:00:00.000Z';
    vending({ createAccountClaim: { at, executionArn: EXECUTION_ARN } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [
      // the same account name, requested long before the claim (another, older attempt): not ours
      { Id: 'car-old', AccountName: 'tessera-acme', State: 'FAILED', RequestedTimestamp: new Date('2026-11-01T00:00:00.000Z') },
      { Id: 'car-other', AccountName: 'tessera-globex', State: 'IN_PROGRESS', RequestedTimestamp: new Date(at) },
      { Id: 'car-00000001', AccountName: 'tessera-acme', State: 'IN_PROGRESS', RequestedTimestamp: new Date('2026-11-30T10:00:01.000Z') },
    ] });
    // WHEN
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    // THEN
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(0);
    expect(orgs.commandCalls(ListCreateAccountStatusCommand)[0].args[0].input).toEqual({ States: ['IN_PROGRESS', 'SUCCEEDED', 'FAILED'] });
    expect(records.get('acme')).toMatchObject({ createAccountRequestId: 'car-00000001', createAccountClaim: { at, executionArn: EXECUTION_ARN } });
  });

  // Hostile lc (s12): the search looked back only 60 s before the claim, so a retry minutes later made a second CreateAccount (refused for the email) and orphaned the account.
  it('finds the request of an earlier attempt however long before the claim it was made, and waits for it while IN_PROGRESS', async () => {
    vending({ createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [
      { Id: 'car-failed', AccountName: 'tessera-acme', State: 'FAILED', RequestedTimestamp: new Date('2026-11-29T00:00:00.000Z') },
      { Id: 'car-00000001', AccountName: 'tessera-acme', State: 'IN_PROGRESS', RequestedTimestamp: new Date('2026-11-30T09:00:00.000Z') },
    ] });
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(0);
    expect(records.get('acme')?.createAccountRequestId).toBe('car-00000001');
  });
  it('adopts the tenant\'s account found by name and email in ListAccounts when no request of its claim is listed', async () => {
    vending({ createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '555555555555', Name: 'tessera-acme', Email: 'other@acme.example.com' }, { Id: '444444444444', Name: 'tessera-acme', Email: 'admin@acme.example.com' }] });
    await expect(create(state())).resolves.toEqual({ state: 'SUCCEEDED', accountId: '444444444444' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(0);
    expect(records.get('acme')).toMatchObject({ accountId: '444444444444' });
    expect(records.get('acme')?.createAccountClaim).toBeUndefined();
  });

  it('claims anew and asks once when Organizations has no request for an earlier claim (the call never reached it)', async () => {
    vending({ createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-00000002', State: 'IN_PROGRESS' } });
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(1);
    expect(records.get('acme')?.createAccountRequestId).toBe('car-00000002');
    expect(records.get('acme')?.createAccountClaim?.at).not.toBe('2026-11-30T10:00:00.000Z');
  });

  it('makes no call when another invocation claimed between its read and its claim, and polls instead of failing', async () => {
    vending();
    // the record as this invocation reads it, then the other invocation's claim lands
    registryMock.requireTenant.mockImplementationOnce(async (id: string) => {
      const seen = structuredClone(records.get(id)!);
      records.set(id, { ...records.get(id)!, createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: 'arn:concurrent' }, updatedAt: '2026-11-30T10:00:00.000Z' });
      return seen;
    });
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(0);
    expect(records.get('acme')?.createAccountClaim?.executionArn).toBe('arn:concurrent');
  });

  it('records the account id when Organizations succeeds, clearing request and claim', async () => {
    vending({ createAccountRequestId: 'car-00000001', createAccountClaim: { at: 't', executionArn: EXECUTION_ARN } });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'SUCCEEDED', AccountId: '444444444444' } });
    await expect(check(state())).resolves.toEqual({ state: 'SUCCEEDED', accountId: '444444444444' });
    expect(orgs.commandCalls(DescribeCreateAccountStatusCommand)[0].args[0].input).toEqual({ CreateAccountRequestId: 'car-00000001' });
    expect(records.get('acme')).toMatchObject({ accountId: '444444444444' });
    expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
    expect(records.get('acme')?.createAccountClaim).toBeUndefined();
  });

  it('keeps polling while IN_PROGRESS', async () => {
    vending({ createAccountRequestId: 'car-00000001' });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS' } });
    await expect(check(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(records.get('acme')?.createAccountRequestId).toBe('car-00000001');
  });

  it('fails terminally on EMAIL_ALREADY_EXISTS and ACCOUNT_LIMIT_EXCEEDED, naming the reason, and clears request and claim', async () => {
    for (const reason of ['EMAIL_ALREADY_EXISTS', 'ACCOUNT_LIMIT_EXCEEDED']) {
      vending({ createAccountRequestId: 'car-00000001', createAccountClaim: { at: 't', executionArn: EXECUTION_ARN } });
      orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'FAILED', FailureReason: reason as 'EMAIL_ALREADY_EXISTS' } });
      orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] }); // no account of this tenant holds the email
      orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '555555555555', Name: 'someone', Email: 'admin@acme.example.com' }] });
      // A request made before organization.accountEmail (none recorded) had the admin's email: the failure names that field
      // and the correction; a full organization says what to do about its quota.
      const fix = reason === 'EMAIL_ALREADY_EXISTS'
        ? '; the field at fault is adminEmail = "admin@acme.example.com": run the onboarding again with another email (POST /admin/tenants/acme/retry {"adminEmail": "…"}, tessera tenants retry acme --admin-email …)'
        : '; the organization has reached its quota of accounts (AWS Organizations "Default maximum number of accounts", 10 by default; accounts closed by offboardings keep counting while SUSPENDED, until 90 days after their closure): request an increase in Service Quotas from the management account (Region us-east-1, service organizations), check the count and the limit with tessera doctor, and tessera tenants retry acme once it is raised';
      await expect(check(state())).rejects.toMatchObject({
        name: 'AccountCreationFailed', message: `Organizations could not create the account for tenant acme (admin@acme.example.com): ${reason}${fix}`,
      });
      // no account will come of it: a retry with a corrected email must be able to ask again
      expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
      expect(records.get('acme')?.createAccountClaim).toBeUndefined();
    }
  });

  it('on EMAIL_ALREADY_EXISTS or INVALID_EMAIL for the platform\'s root email, names it and organization.accountEmail, not adminEmail', async () => {
    for (const reason of ['EMAIL_ALREADY_EXISTS', 'INVALID_EMAIL'] as const) {
      vending({ createAccountRequestId: 'car-00000001', createAccountClaim: { at: 't', executionArn: EXECUTION_ARN }, accountEmail: 'aws+tessera-acme@example.com' });
      orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'FAILED', FailureReason: reason } });
      orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
      orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '555555555555', Name: 'someone', Email: 'aws+tessera-acme@example.com' }] });
      const why = reason === 'EMAIL_ALREADY_EXISTS' ? 'is already the root email of another AWS account' : 'is not an address Organizations accepts';
      await expect(check(state())).rejects.toMatchObject({
        name: 'AccountCreationFailed',
        message: `Organizations could not create the account for tenant acme (aws+tessera-acme@example.com): ${reason}; the account's root email "aws+tessera-acme@example.com" (organization.accountEmail with the tenant id) ${why}: set organization.accountEmail to a template that gives a free, deliverable address of the platform's, deploy, and tessera tenants retry acme`,
      });
    }
  });

  it('adopts the tenant\'s own account when EMAIL_ALREADY_EXISTS comes from a CreateAccount sent twice', async () => {
    vending({ createAccountRequestId: 'car-00000002', createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000002', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [
      { Id: 'car-old', AccountName: 'tessera-acme', State: 'SUCCEEDED', AccountId: '999999999999', RequestedTimestamp: new Date('2026-01-01T00:00:00Z') },
      { Id: 'car-00000001', AccountName: 'tessera-acme', State: 'SUCCEEDED', AccountId: '444444444444', RequestedTimestamp: new Date('2026-11-30T10:00:01Z') },
    ] });
    // Adopted only with the tenant's admin email (an account someone else made under the name is not: account-adoption-*.test.ts)
    orgs.on(DescribeAccountCommand, { AccountId: '444444444444' }).resolves({ Account: { Id: '444444444444', Email: 'admin@acme.example.com' } });
    orgs.on(DescribeAccountCommand, { AccountId: '999999999999' }).resolves({ Account: { Id: '999999999999', Email: 'ops@platform.example' } });
    await expect(check(state())).resolves.toEqual({ state: 'SUCCEEDED', accountId: '444444444444' });
    expect(records.get('acme')).toMatchObject({ accountId: '444444444444' });
    expect(records.get('acme')?.createAccountClaim).toBeUndefined();
  });

  it('on EMAIL_ALREADY_EXISTS waits for the tenant\'s earlier request still IN_PROGRESS instead of failing', async () => {
    vending({ createAccountRequestId: 'car-00000002', createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000002', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' } });
    orgs.on(ListCreateAccountStatusCommand, { States: ['SUCCEEDED'] }).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListCreateAccountStatusCommand, { States: ['IN_PROGRESS'] }).resolves({ CreateAccountStatuses: [{ Id: 'car-00000001', AccountName: 'tessera-acme', State: 'IN_PROGRESS', RequestedTimestamp: new Date('2026-11-30T09:00:00Z') }] });
    await expect(check(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(records.get('acme')?.createAccountRequestId).toBe('car-00000001');
  });
  it('on EMAIL_ALREADY_EXISTS adopts the tenant\'s account found by name and email in ListAccounts (its request no longer listed)', async () => {
    vending({ createAccountRequestId: 'car-00000002', createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000002', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '444444444444', Name: 'tessera-acme', Email: 'admin@acme.example.com' }] });
    await expect(check(state())).resolves.toEqual({ state: 'SUCCEEDED', accountId: '444444444444' });
    expect(records.get('acme')).toMatchObject({ accountId: '444444444444' });
  });

  // Hostile lc (s12): Wait for account polled a stuck request until the history limit, naming nothing.
  it('fails when a request is still IN_PROGRESS ACCOUNT_REQUEST_WAIT_MS after it was made, naming the request and its state, and keeps it recorded', async () => {
    const { ACCOUNT_REQUEST_WAIT_MS } = await import('../../../lambdas/lifecycle/check-account-status.js');
    vending({ createAccountRequestId: 'car-00000001' });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS', RequestedTimestamp: new Date(Date.now() - ACCOUNT_REQUEST_WAIT_MS - 120_000) } });
    await expect(check(state())).rejects.toMatchObject({
      name: 'AccountWaitTimedOut', message: expect.stringMatching(/^CreateAccount request car-00000001 for tenant acme is still IN_PROGRESS 24\d minutes after it was made \(limit 240\)$/),
    });
    expect(records.get('acme')?.createAccountRequestId).toBe('car-00000001');
  });

  it('never adopts the refused request itself as the tenant\'s own account', async () => {
    vending({ createAccountRequestId: 'car-00000002', createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000002', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [{ Id: 'car-00000002', AccountName: 'tessera-acme', State: 'SUCCEEDED', AccountId: '444444444444', RequestedTimestamp: new Date('2026-11-30T10:00:01Z') }] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    await expect(check(state())).rejects.toMatchObject({ name: 'AccountCreationFailed' });
    expect(records.get('acme')?.accountId).toBeUndefined();
  });

  it('asks for a new attempt after CONCURRENT_ACCOUNT_MODIFICATION', async () => {
    vending({ createAccountRequestId: 'car-00000001', createAccountClaim: { at: 't', executionArn: EXECUTION_ARN } });
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'FAILED', FailureReason: 'CONCURRENT_ACCOUNT_MODIFICATION' } });
    await expect(check(state())).resolves.toEqual({ state: 'RETRY', reason: 'CONCURRENT_ACCOUNT_MODIFICATION', transientFailures: [{ requestId: 'car-00000001', reason: 'CONCURRENT_ACCOUNT_MODIFICATION', at: expect.any(String) }] });
    expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
    expect(records.get('acme')?.createAccountClaim).toBeUndefined();
  });

  it('asks again after a transient failure at most MAX_TRANSIENT_ACCOUNT_FAILURES times in a row, then fails naming each request and reason', async () => {
    const { MAX_TRANSIENT_ACCOUNT_FAILURES } = await import('../../../lambdas/lifecycle/check-account-status.js');
    // GIVEN an organization whose every account request fails with INTERNAL_FAILURE ("try again later")
    vending();
    let n = 0;
    orgs.on(CreateAccountCommand).callsFake(() => ({ CreateAccountStatus: { Id: `car-${String(++n).padStart(8, '0')}`, State: 'IN_PROGRESS' } }));
    orgs.on(DescribeCreateAccountStatusCommand).callsFake((input: { CreateAccountRequestId: string }) => ({ CreateAccountStatus: { Id: input.CreateAccountRequestId, State: 'FAILED', FailureReason: 'INTERNAL_FAILURE' } }));
    // WHEN the state machine runs Create account, Check account, and again on RETRY, each with the previous answer as $.account
    let account: Awaited<ReturnType<typeof check>> | undefined;
    let failure: unknown;
    for (let round = 0; round < 2 * MAX_TRANSIENT_ACCOUNT_FAILURES && !failure; round++) {
      account = await create(state('acme', { account }));
      try {
        account = await check(state('acme', { account }));
      } catch (e) {
        failure = e;
      }
      if (!failure) expect(account).toMatchObject({ state: 'RETRY', reason: 'INTERNAL_FAILURE', transientFailures: expect.any(Array) });
    }
    // THEN the onboarding fails after that many requests (was: a new CreateAccount every round until the 2-day timeout)
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(MAX_TRANSIENT_ACCOUNT_FAILURES);
    expect(failure).toMatchObject({ name: 'AccountCreationFailed', message: expect.stringContaining(`${MAX_TRANSIENT_ACCOUNT_FAILURES} account requests in a row failed for a transient reason, the last INTERNAL_FAILURE`) });
    expect((failure as Error).message).toContain(`car-00000001 INTERNAL_FAILURE at `);
    expect((failure as Error).message).toContain(`car-${String(MAX_TRANSIENT_ACCOUNT_FAILURES).padStart(8, '0')} INTERNAL_FAILURE at `);
    // AND nothing is left pending on the record: no request, no claim
    const { createAccountRequestId, createAccountClaim, accountId } = records.get('acme')!;
    expect({ createAccountRequestId, createAccountClaim, accountId }).toEqual({ createAccountRequestId: undefined, createAccountClaim: undefined, accountId: undefined });
  });

  it('takes the claim off a CreateAccount Organizations refused outright, and names the account quota and what to do for ACCOUNT_NUMBER_LIMIT_EXCEEDED', async () => {
    // GIVEN the organization at its quota of accounts: CreateAccount itself is refused (no request made)
    vending();
    orgs.on(CreateAccountCommand).rejects(new ConstraintViolationException({ message: 'You have exceeded the allowed number of AWS accounts.', $metadata: { httpStatusCode: 400 }, Reason: 'ACCOUNT_NUMBER_LIMIT_EXCEEDED' }));
    // WHEN
    const refusal = (await create(state()).then(() => undefined, (e: unknown) => e)) as Error;
    // THEN the failure says what refused it and what to do (was: ConstraintViolationException with no advice)
    expect(refusal).toMatchObject({ name: 'AccountCreationFailed' });
    expect(refusal.message).toContain('Organizations refused CreateAccount for tenant acme (aws+tessera-acme@example.com): ConstraintViolationException (ACCOUNT_NUMBER_LIMIT_EXCEEDED): You have exceeded the allowed number of AWS accounts.');
    expect(refusal.message).toContain('request an increase in Service Quotas from the management account');
    // AND no claim is left for Record failure to call "an account request may be pending", nor for the offboarding to wait for
    expect(records.get('acme')!.createAccountClaim).toBeUndefined();
    expect(records.get('acme')!.createAccountRequestId).toBeUndefined();
    // AND a refusal of another kind is passed on as it is, its claim taken off too
    vending();
    orgs.on(CreateAccountCommand).rejects(new AccessDeniedException({ message: 'not authorized to perform organizations:CreateAccount', $metadata: { httpStatusCode: 403 } }));
    await expect(create(state())).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(records.get('acme')!.createAccountClaim).toBeUndefined();
  });

  it('lets throttling through to the state machine retry, its claim kept for the retry to resolve', async () => {
    vending();
    orgs.on(CreateAccountCommand).rejects(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' }));
    await expect(create(state())).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(records.get('acme')?.createAccountClaim).toEqual({ at: expect.any(String), executionArn: EXECUTION_ARN });
    expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
  });

  it('writes nothing and asks nothing for an execution that does not hold the lease', async () => {
    const before = leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined }, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    await expect(create(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });
});

describe('Quarantine account', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/quarantine-account.js');
  it('attaches the quarantine SCP and moves the account into its tier OU', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'r-root', Type: 'ROOT' }] });
    await handler(state());
    expect(orgs.commandCalls(AttachPolicyCommand)[0].args[0].input).toEqual({ PolicyId: 'p-quarantine', TargetId: '444444444444' });
    expect(orgs.commandCalls(MoveAccountCommand)[0].args[0].input).toEqual({ AccountId: '444444444444', SourceParentId: 'r-root', DestinationParentId: 'ou-abcd-enterprise' });
  });
  it('does nothing twice', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-enterprise' }] });
    await handler(state());
    expect(orgs.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(0);
  });
  // Faults pass: AttachPolicy and MoveAccount carry no idempotency token. The SDK sends a call again after a timeout
  // or a server fault, and when the first call took effect Organizations answers the second DuplicatePolicyAttachmentException
  // and DuplicateAccountException: the step failed, the onboarding FAILED at Quarantine account naming an error for work
  // that was done (the account quarantined and in its tier OU), and an operator had to retry it.
  it('counts an attachment or a move that Organizations says is already done as done (a call sent again after its answer was lost)', async () => {
    // GIVEN the listings read before the calls, and Organizations answering the calls sent again
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
    orgs.on(AttachPolicyCommand).rejects(Object.assign(new Error('The selected policy is already attached to the specified target.'), { name: 'DuplicatePolicyAttachmentException' }));
    orgs.on(ListParentsCommand).resolvesOnce({ Parents: [{ Id: 'r-root', Type: 'ROOT' }] }).resolves({ Parents: [{ Id: 'ou-abcd-enterprise', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(MoveAccountCommand).rejects(Object.assign(new Error('That account is already present in the specified destination.'), { name: 'DuplicateAccountException' }));
    // WHEN / THEN the step goes on
    await expect(handler(state())).resolves.toEqual({ accountId: '444444444444', ou: 'ou-abcd-enterprise', quarantinePolicy: 'p-quarantine' });
  });
  it('lets a move refused for an account that is not in its destination fail', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-otherunit', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(MoveAccountCommand).rejects(Object.assign(new Error('We can\'t find a source root or OU with the ParentId that you specified.'), { name: 'SourceParentNotFoundException' }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'SourceParentNotFoundException' });
    expect(orgs.commandCalls(ListParentsCommand)).toHaveLength(2);
  });
  it('names the missing OU when the organization stack is not deployed', async () => {
    records.set('acme', leased('onboard', { tier: 'professional', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    await expect(handler(state())).rejects.toThrow(/organizational unit "tessera-professional" does not exist under r-root; deploy the TesseraOrganization stack/);
  });
});

describe('Verify provisioning access', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/verify-provisioning-access.js');
  it('chains through the management account into the provisioning role, the session named after the tenant, untagged', async () => {
    records.set('acme', leased('onboard', { accountId: '444444444444' }));
    await handler(state());
    const provisioning = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input).find((i) => i.RoleArn!.endsWith('TesseraProvisioning'));
    expect(provisioning).toMatchObject({ RoleArn: 'arn:aws:iam::444444444444:role/TesseraProvisioning', RoleSessionName: expect.stringMatching(/^tessera-acme-/) });
    // Organizations' role trusts sts:AssumeRole only: session tags would be refused.
    expect(provisioning?.Tags).toBeUndefined();
  });
  it('reports a role that is not assumable yet as ProvisioningRoleNotReady (retried)', async () => {
    records.set('acme', leased('onboard', { accountId: '555555555555' }));
    sts.on(AssumeRoleCommand, { RoleArn: 'arn:aws:iam::555555555555:role/TesseraProvisioning' }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'ProvisioningRoleNotReady' });
  });
});

describe('Allocate network', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/allocate-network.js');
  it('hands out the next free block of the tier pool', async () => {
    records.set('acme', leased('onboard', { vpcCidr: undefined }));
    controlMock.nextPoolIndex.mockResolvedValueOnce(0).mockResolvedValueOnce(1);
    controlMock.claimCidr.mockResolvedValueOnce(false).mockResolvedValueOnce(true);
    await expect(handler(state())).resolves.toEqual({ vpcCidr: '10.64.4.0/22', quotas: { checked: 0, unchecked: [] } });
    expect(controlMock.cidrClaimsOf).toHaveBeenCalledWith('acme');
    expect(controlMock.claimCidr.mock.calls).toEqual([['10.64.0.0/22', 'acme'], ['10.64.4.0/22', 'acme']]);
    expect(records.get('acme')?.vpcCidr).toBe('10.64.4.0/22');
    expect(controlMock.releaseCidr).not.toHaveBeenCalled();
  });
  it('reuses the range an earlier attempt claimed but never recorded, claiming nothing new', async () => {
    records.set('acme', leased('onboard', { vpcCidr: undefined }));
    controlMock.cidrClaimsOf.mockResolvedValueOnce(['10.64.8.0/22']);
    await expect(handler(state())).resolves.toEqual({ vpcCidr: '10.64.8.0/22', quotas: { checked: 0, unchecked: [] } });
    expect(controlMock.nextPoolIndex).not.toHaveBeenCalled();
    expect(controlMock.claimCidr).not.toHaveBeenCalled();
    expect(records.get('acme')?.vpcCidr).toBe('10.64.8.0/22');
  });
  it('gives its range back when another run recorded one meanwhile: one range per tenant', async () => {
    // GIVEN another run records 10.64.4.0/22 while this one claims 10.64.0.0/22
    records.set('acme', leased('onboard', { vpcCidr: undefined }));
    controlMock.claimCidr.mockImplementationOnce(async () => {
      records.set('acme', { ...records.get('acme')!, vpcCidr: '10.64.4.0/22' });
      return true;
    });
    // WHEN / THEN theirs stands, ours goes back
    await expect(handler(state())).resolves.toEqual({ vpcCidr: '10.64.4.0/22', quotas: { checked: 0, unchecked: [] } });
    expect(controlMock.releaseCidr).toHaveBeenCalledWith('10.64.0.0/22', 'acme');
    // and the pool's counter moved back to its block (0 of starter's pool), for the next tenant
    expect(controlMock.returnPoolIndex).toHaveBeenCalledWith('starter', 0);
    expect(records.get('acme')?.vpcCidr).toBe('10.64.4.0/22');
  });
  it('keeps an existing allocation', async () => {
    records.set('acme', leased('onboard', { vpcCidr: '10.64.8.0/22' }));
    await expect(handler(state())).resolves.toEqual({ vpcCidr: '10.64.8.0/22' });
    expect(controlMock.nextPoolIndex).not.toHaveBeenCalled();
  });
  it('fails with the pool and the key to widen when exhausted', async () => {
    records.set('acme', leased('onboard', { vpcCidr: undefined }));
    controlMock.nextPoolIndex.mockResolvedValueOnce(1024);
    await expect(handler(state())).rejects.toMatchObject({ name: 'NetworkPoolExhausted', message: expect.stringMatching(/pool 10\.64\.0\.0\/12 has no free \/22 left: all 1024 are held by tenants now \(this counts tenants at once: an offboarded tenant's range comes back to the pool\); offboard a tenant of the tier, or widen tiers\.starter\.network\.tenantCidrPool/) });
  });
});

describe('Deploy blueprint / Check blueprint', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const check = (await import('../../../lambdas/lifecycle/check-stack.js')).handler;
  const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });
  it('creates the stack from the catalog URL with the tenant parameters, termination protection and rollback on failure', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input).toMatchObject({
      StackName: 'tessera-acme',
      TemplateURL: 'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/1.0.0/starter.template.json',
      // The database is created unprotected: a create that fails after it exists must be able to roll it back.
      Parameters: [{ ParameterKey: 'TenantId', ParameterValue: 'acme' }, { ParameterKey: 'VpcCidr', ParameterValue: '10.64.0.0/22' }, { ParameterKey: 'AvailabilityZones', ParameterValue: 'us-east-1a,us-east-1b' }, { ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'false' }],
      EnableTerminationProtection: true, OnFailure: 'ROLLBACK', Capabilities: ['CAPABILITY_NAMED_IAM'],
    });
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Tags).toEqual([
      { Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:tier', Value: 'starter' }, { Key: 'tessera:blueprint-version', Value: '1.0.0' },
      { Key: 'tessera:request-id', Value: 'req-acme-0001' }, { Key: 'tessera:created-by', Value: EXECUTION_ARN },
    ]);
    expect(records.get('acme')?.stackName).toBe('tessera-acme');
  });
  it('deploys the namespace blueprint in the platform account as the tenant\'s own namespace deployer, created first', async () => {
    records.set('acme', leased('onboard'));
    useNamespaceDeployerScope();
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'The role with name tessera-acme-namespace-deployer cannot be found.', $metadata: {} }));
    iam.on(CreateRoleCommand).resolves({ Role: { RoleName: 'tessera-acme-namespace-deployer', Arn: 'arn:aws:iam::222222222222:role/tessera-acme-namespace-deployer', Path: '/', RoleId: 'AROAEXAMPLE000000000', CreateDate: new Date(), PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: NAMESPACE_DEPLOYER_SCOPE.boundaryArn } } });
    iam.on(PutRolePolicyCommand).resolves({});
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'namespace' }));
    expect(iam.commandCalls(CreateRoleCommand)[0].args[0].input).toMatchObject({ RoleName: 'tessera-acme-namespace-deployer', PermissionsBoundary: NAMESPACE_DEPLOYER_SCOPE.boundaryArn });
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input).toMatchObject({
      StackName: 'tessera-acme-namespace', RoleARN: 'arn:aws:iam::222222222222:role/tessera-acme-namespace-deployer',
      Parameters: [{ ParameterKey: 'TenantId', ParameterValue: 'acme' }, { ParameterKey: 'TenantAccountId', ParameterValue: '333333333333' }, { ParameterKey: 'TenantVpcCidr', ParameterValue: '10.64.0.0/22' }],
    });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });
  it('updates an existing stack (through a change set), and takes "no updates" as done', async () => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0' }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.', Changes: [] });
    cfn.on(DeleteChangeSetCommand).resolves({});
    await expect(deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }))).resolves.toMatchObject({ stackName: 'tessera-acme', changeSet: { outcome: 'UNCHANGED' } });
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.TemplateURL).toMatch(/blueprints\/2\.0\.0\/starter\.template\.json$/);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });
  it('waits for a stack being deleted', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date(), Tags: ownedTags() }] });
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'StackBusy' });
  });
  it('records the outputs of a complete stack', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags(), Outputs: [{ OutputKey: 'KeyArn', OutputValue: 'arn:k' }, { OutputKey: 'BlueprintVersion', OutputValue: '1.0.0' }] }] });
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ state: 'COMPLETE' });
    expect(records.get('acme')).toMatchObject({ stackOutputs: { KeyArn: 'arn:k', BlueprintVersion: '1.0.0' }, blueprintVersion: '1.0.0' });
  });
  it('keeps polling while in progress, even while rolling back', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'ROLLBACK_IN_PROGRESS', CreationTime: new Date(), Tags: ownedTags() }] });
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ state: 'IN_PROGRESS' });
  });
  it('refuses to check a stack with the tenant\'s name that Tessera did not create (StackNotOwned), recording nothing', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:stack/tessera-acme/x', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'KeyArn', OutputValue: 'arn:theirs' }] }] });
    await expect(check(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'StackNotOwned', message: expect.stringMatching(/its tag tessera:tenant-id is absent, not "acme"/) });
    expect(records.get('acme')?.stackOutputs).toEqual({});
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });
  it('fails with the first failed resource when the stack rolled back', async () => {
    records.set('acme', leased('onboard'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      { LogicalResourceId: 'tessera-acme', ResourceStatus: 'ROLLBACK_COMPLETE', StackId: 's', StackName: 's', EventId: '1', Timestamp: new Date() },
      { LogicalResourceId: 'Cache', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'cache.r7g.large is not available in us-east-1e', StackId: 's', StackName: 's', EventId: '2', Timestamp: new Date() },
    ] });
    await expect(check(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'StackFailed', message: 'stack tessera-acme is ROLLBACK_COMPLETE: Cache CREATE_FAILED: cache.r7g.large is not available in us-east-1e' });
  });
});

describe('Wire tenant', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/wire-tenant.js');
  it('strips every rule from the default security group', async () => {
    records.set('acme', leased('onboard', { stackOutputs: { DefaultSecurityGroupId: 'sg-1' } }));
    const rule = { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-1' }] };
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-1', IpPermissions: [rule], IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }] });
    await expect(handler(state())).resolves.toMatchObject({ defaultSecurityGroupClosed: true });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0].args[0].input).toEqual({ GroupId: 'sg-1', IpPermissions: [rule] });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toHaveLength(1);
  });
});

describe('Activate tenant', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/activate-tenant.js');
  // The detach of tessera-quarantine was recorded nowhere (the history entry said nothing of it).
  it('lifts the quarantine of an account tenant, marks it ACTIVE, ends the operation (the detach of tessera-quarantine in its history entry) and announces it', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(orgs.commandCalls(DetachPolicyCommand)[0].args[0].input).toEqual({ PolicyId: 'p-quarantine', TargetId: '444444444444' });
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'ACTIVE' });
    expect(record.currentStep).toBeUndefined();
    expect(record.lease).toBeUndefined();
    expect(record.executions).toEqual([{
      kind: 'onboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, endedAt: expect.any(String), status: 'SUCCEEDED',
      tesseraQuarantine: { policyId: 'p-quarantine', name: 'tessera-quarantine', accountId: '444444444444', result: 'DETACHED', at: expect.any(String) },
    }]);
    const entry = events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect(entry).toMatchObject({ Source: 'tessera.lifecycle', DetailType: 'Tenant Activated', EventBusName: 'tessera-lifecycle' });
    expect(JSON.parse(entry.Detail!)).toEqual({ tenantId: 'acme', tier: 'starter', isolation: 'account', accountId: '444444444444', executionArn: EXECUTION_ARN });
  });

  it('has the record say ACTIVE (the lease still held) before the quarantine SCP comes off', async () => {
    // GIVEN a fenced account tenant at the end of its onboarding
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    let atDetach: TenantRecord | undefined;
    orgs.on(DetachPolicyCommand).callsFake(() => {
      atDetach = structuredClone(records.get('acme'));
      return {};
    });
    // WHEN
    await handler(state());
    // THEN when DetachPolicy was called the record already said ACTIVE, under this execution's lease (kept until the last write)
    expect(orgs.commandCalls(DetachPolicyCommand)).toHaveLength(1);
    expect(atDetach).toMatchObject({ status: 'ACTIVE', currentStep: 'Activate tenant', lease: { executionArn: EXECUTION_ARN } });
    expect(atDetach?.executions).toEqual([expect.objectContaining({ executionArn: EXECUTION_ARN, status: 'RUNNING' })]);
    // writes: ACTIVE (conditional on PROVISIONING), then the end of the operation (history SUCCEEDED, lease released, Tenant Activated owed), then the announcement no longer owed
    expect(registryMock.updateTenant.mock.calls.map((c) => c.slice(1))).toEqual([
      [{ status: 'ACTIVE', currentStep: 'Activate tenant' }, { expectStatus: ['PROVISIONING'] }],
      [expect.objectContaining({
        status: 'ACTIVE', lease: undefined, executions: [expect.objectContaining({ status: 'SUCCEEDED' })],
        owedAnnouncements: [expect.objectContaining({ detailType: 'Tenant Activated', executionArn: EXECUTION_ARN })],
      }), { holder: EXECUTION_ARN }],
      [{ owedAnnouncements: undefined }, { holder: null, expectUpdatedAt: expect.any(String) }],
    ]);
    expect(records.get('acme')?.lease).toBeUndefined();
    expect(records.get('acme')?.owedAnnouncements).toBeUndefined();
  });

  // Faults pass: a DetachPolicy whose answer was lost, sent again by the SDK (or the other invocation of this Task
  // detaching first), met PolicyNotAttachedException: the step failed after the record said ACTIVE, Record failure put the
  // quarantine back and recorded the onboarding FAILED, though the quarantine had come off as asked.
  it('counts a quarantine that Organizations says is no longer attached as lifted, and completes', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    orgs.on(DetachPolicyCommand).rejects(Object.assign(new Error('The policy isn\'t attached to the specified target in the specified root.'), { name: 'PolicyNotAttachedException' }));
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', executions: [expect.objectContaining({ executionArn: EXECUTION_ARN, status: 'SUCCEEDED' })] });
    expect(records.get('acme')!.executions[0].tesseraQuarantine).toMatchObject({ policyId: 'p-quarantine', result: 'NOT_ATTACHED' });
    expect(records.get('acme')?.lease).toBeUndefined();
    expect(orgs.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    expect(eventTypes()).toEqual(['Tenant Activated']);
  });

  // Review: the quarantine was looked for in ListPoliciesForTarget's first page only. Organizations' List operations
  // "can occasionally return an empty set of results even when there are more results available" (NextToken): the
  // quarantine on a later page was taken for not attached, never detached, and the ACTIVE tenant's account kept it.
  it('detaches a quarantine that ListPoliciesForTarget shows only on a page after the first (an empty page with a NextToken)', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand)
      .resolvesOnce({ Policies: [], NextToken: 'page-2' })
      .resolvesOnce({ Policies: [{ Id: 'p-quarantine' }] });
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(orgs.commandCalls(ListPoliciesForTargetCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    expect(orgs.commandCalls(DetachPolicyCommand).map((c) => c.args[0].input)).toEqual([{ PolicyId: 'p-quarantine', TargetId: '444444444444' }]);
  });

  it('leaves the quarantine SCP attached when the ACTIVE write fails', async () => {
    // GIVEN the registry refuses the write
    const before = leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' });
    records.set('acme', before);
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    registryMock.updateTenant.mockRejectedValueOnce(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));
    // WHEN / THEN
    await expect(handler(state())).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(orgs.commandCalls(DetachPolicyCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
    expect(eventTypes()).toEqual([]);
  });

  it('leaves the quarantine SCP attached when this execution no longer holds the lease', async () => {
    const before = leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(orgs.commandCalls(DetachPolicyCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('run twice for one execution: the invocation that finds ACTIVE written by its own execution goes on, not a conflict', async () => {
    // GIVEN the other invocation of this Task wrote ACTIVE between this one's read and its write
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    registryMock.updateTenant.mockImplementationOnce(async (id: string) => {
      records.set(id, { ...records.get(id)!, status: 'ACTIVE', currentStep: 'Activate tenant' });
      throw new registryMock.TenantConflictError(`tenant "${id}" is ACTIVE; this change needs PROVISIONING`);
    });
    // WHEN / THEN it completes the operation
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', executions: [expect.objectContaining({ executionArn: EXECUTION_ARN, status: 'SUCCEEDED' })] });
    expect(records.get('acme')!.lease).toBeUndefined();
    // but ACTIVE under another execution's lease is a conflict, nothing lifted
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', status: 'PROVISIONING' }));
    registryMock.updateTenant.mockImplementationOnce(async (id: string) => {
      records.set(id, { ...records.get(id)!, status: 'ACTIVE', lease: { ...records.get(id)!.lease!, executionArn: OTHER_EXECUTION_ARN } });
      throw new registryMock.TenantConflictError(`tenant "${id}" is ACTIVE; this change needs PROVISIONING`);
    });
    orgs.resetHistory();
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantConflict' });
    expect(orgs.commandCalls(DetachPolicyCommand)).toHaveLength(0);
  });

  it('puts the quarantine back when the completing write fails after the quarantine came off (the lease was ended meanwhile)', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand).resolvesOnce({ Policies: [{ Id: 'p-quarantine' }] }).resolves({ Policies: [] });
    // Record failure of the other invocation ends the lease while this one lifts the quarantine
    orgs.on(DetachPolicyCommand).callsFake(() => {
      const r = records.get('acme')!;
      records.set('acme', { ...r, status: 'FAILED', lease: undefined });
      return {};
    });
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(orgs.commandCalls(AttachPolicyCommand).map((c) => c.args[0].input)).toEqual([{ PolicyId: 'p-quarantine', TargetId: '444444444444' }]);
    expect(eventTypes()).toEqual([]);
  });

  // s23 (hostile pass): a redrive (aws stepfunctions redrive-execution) re-runs the state an execution stopped in, not its
  // lease-taking first step. An onboarding stopped in Activate tenant (its lease then ended FAILED), retried as a new
  // execution that made the tenant ACTIVE, then redriven: Activate tenant skipped its lease-conditioned write (ACTIVE
  // already), its completing write failed, and the quarantine SCP went back on the ACTIVE tenant's account.
  it('refuses a redriven or late run once another execution made the tenant ACTIVE: no Organizations call, the quarantine left off, nothing written', async () => {
    const before = tenant({ status: 'ACTIVE', isolation: 'account', accountId: '444444444444', executions: [
      { kind: 'onboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, endedAt: 't', status: 'FAILED', failedStep: 'Activate tenant' },
      { kind: 'onboard', requestId: 'req-acme-0001', executionArn: OTHER_EXECUTION_ARN, startedAt: 't', endedAt: 't', status: 'SUCCEEDED' },
    ] });
    records.set('acme', before);
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringMatching(/^tenant "acme" is ACTIVE, not by execution .*redriven or late run/) });
    expect(orgs.calls()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
    expect(eventTypes()).toEqual([]);
  });

  it('only announces on a retry after the operation ended (the lease already released): the owed announcement, then no longer owed', async () => {
    // GIVEN the first attempt wrote everything and the announcement failed
    const owed = { detailType: 'Tenant Activated', detail: { tenantId: 'acme', executionArn: EXECUTION_ARN }, executionArn: EXECUTION_ARN, at: 't' };
    records.set('acme', tenant({ status: 'ACTIVE', isolation: 'account', accountId: '444444444444', owedAnnouncements: [owed], executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, endedAt: 't', status: 'SUCCEEDED' }] }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
    // WHEN / THEN
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(registryMock.updateTenant.mock.calls.map((c) => c[1])).toEqual([{ owedAnnouncements: undefined }]);
    expect(orgs.commandCalls(DetachPolicyCommand)).toHaveLength(0);
    expect(eventTypes()).toEqual(['Tenant Activated']);
    expect(eventDetails()).toEqual([owed.detail]);
    // a second retry finds nothing owed: sent once
    await handler(state());
    expect(eventTypes()).toEqual(['Tenant Activated']);
  });

  it('keeps Tenant Activated owed on the record when EventBridge rejects it', async () => {
    records.set('acme', leased('onboard'));
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    await expect(handler(state())).rejects.toThrow(/EventBridge rejected "Tenant Activated": InternalFailure boom/);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', owedAnnouncements: [{ detailType: 'Tenant Activated', executionArn: EXECUTION_ARN, error: 'InternalFailure: EventBridge rejected "Tenant Activated": InternalFailure boom' }] });
    expect(records.get('acme')?.lease).toBeUndefined();
  });

  it('fails when EventBridge rejects the event', async () => {
    records.set('acme', leased('onboard'));
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    await expect(handler(state())).rejects.toThrow(/EventBridge rejected "Tenant Activated": InternalFailure boom/);
  });
  // Faults pass: PutEvents answers 200 with the entry failed for an entry it throttled (the SDK does not retry a
  // 200), and the error thrown was a plain Error that no Retry of the state machines matched: the step failed.
  it('names the error after the rejected entry\'s ErrorCode, so a throttled or failed entry is retried by the state machine, a refusal not', async () => {
    const { RETRYABLE_ERRORS } = await import('../../../lambdas/shared/errors.js');
    records.set('acme', leased('onboard'));
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] });
    const error = await handler(state()).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ThrottlingException', message: 'EventBridge rejected "Tenant Activated": ThrottlingException Rate exceeded' });
    expect(RETRYABLE_ERRORS).toContain((error as Error).name);
    // the retry of the step sends what is owed
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(records.get('acme')?.owedAnnouncements).toBeUndefined();
    // a refusal keeps its own name, not retried
    records.set('acme', leased('onboard'));
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
    const refused = await handler(state()).catch((e: Error) => e);
    expect((refused as Error).name).toBe('AccessDeniedException');
    expect(RETRYABLE_ERRORS).not.toContain((refused as Error).name);
  });
});

// Landing Zone Accelerator's quarantineNewAccounts SCP (QuarantineAccounts in LZA's example) is attached to every new
// account, Tessera's included, and LZA lifts it only from the accounts of its accounts-config.yaml: an ACTIVE tenant's
// account kept it, denying the tenant roles, break-glass and Identity Center users, until an operator detached it by hand.
describe('Activate tenant: organization.externalQuarantinePolicies', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/activate-tenant.js');
  const ACCOUNT = '444444444444';
  /** LZA's quarantine SCP and a second listed one. */
  const LZA = 'p-lzaquarantine1';
  const OTHER = 'p-otherquarant2';
  const withExternal = () => useConfig(configWith({ organization: { externalQuarantinePolicies: [{ policyId: LZA, name: 'QuarantineAccounts' }, { policyId: OTHER }] } }));
  const detached = () => orgs.commandCalls(DetachPolicyCommand).map((c) => c.args[0].input);
  const notAttached = () => Object.assign(new Error('The policy isn\'t attached to the specified target in the specified root.'), { name: 'PolicyNotAttachedException' });

  it('detaches each listed SCP attached to the tenant\'s account, after ACTIVE and before tessera-quarantine, and records each in the history entry', async () => {
    // GIVEN LZA's SCP on the account, the other listed one not
    withExternal();
    records.set('acme', leased('onboard', { isolation: 'account', accountId: ACCOUNT, currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand, { TargetId: ACCOUNT }).resolves({ Policies: [{ Id: 'p-FullAWSAccess' }, { Id: LZA }, { Id: 'p-quarantine' }] });
    const statusAtDetach: Array<string | undefined> = [];
    orgs.on(DetachPolicyCommand).callsFake(() => {
      statusAtDetach.push(records.get('acme')?.status);
      return {};
    });
    // WHEN
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    // THEN only the listed SCP that is attached, only from the tenant's account, then tessera-quarantine
    expect(detached()).toEqual([{ PolicyId: LZA, TargetId: ACCOUNT }, { PolicyId: 'p-quarantine', TargetId: ACCOUNT }]);
    expect(statusAtDetach).toEqual(['ACTIVE', 'ACTIVE']);
    // and the history entry says what became of each, in the operation's completing write
    expect(records.get('acme')!.executions).toEqual([{
      kind: 'onboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, endedAt: expect.any(String), status: 'SUCCEEDED',
      externalQuarantinePolicies: [
        { policyId: LZA, name: 'QuarantineAccounts', accountId: ACCOUNT, result: 'DETACHED', at: expect.any(String) },
        { policyId: OTHER, accountId: ACCOUNT, result: 'NOT_ATTACHED', at: expect.any(String) },
      ],
      tesseraQuarantine: { policyId: 'p-quarantine', name: 'tessera-quarantine', accountId: ACCOUNT, result: 'DETACHED', at: expect.any(String) },
    }]);
    expect(orgs.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    // a VPC-isolated tenant (the workload account): no Organizations call, nothing recorded
    orgs.resetHistory();
    records.set('acme', leased('onboard', { currentStep: 'Wire tenant' }));
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(orgs.calls()).toHaveLength(0);
    expect(records.get('acme')!.executions[0].externalQuarantinePolicies).toBeUndefined();
    expect(records.get('acme')!.executions[0].tesseraQuarantine).toBeUndefined();
  });

  it('counts a DetachPolicy met by PolicyNotAttachedException (the SDK sent it again after its answer was lost) as detached, and completes', async () => {
    withExternal();
    records.set('acme', leased('onboard', { isolation: 'account', accountId: ACCOUNT, currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand, { TargetId: ACCOUNT }).resolves({ Policies: [{ Id: LZA }, { Id: 'p-quarantine' }] });
    // the first DetachPolicy took effect, its answer was lost; the retry finds the policy gone
    orgs.on(DetachPolicyCommand, { PolicyId: LZA }).rejects(notAttached());
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(detached()).toEqual([{ PolicyId: LZA, TargetId: ACCOUNT }, { PolicyId: 'p-quarantine', TargetId: ACCOUNT }]);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', executions: [{ status: 'SUCCEEDED', externalQuarantinePolicies: [{ policyId: LZA, result: 'NOT_ATTACHED' }, { policyId: OTHER, result: 'NOT_ATTACHED' }] }] });
    expect(records.get('acme')!.lease).toBeUndefined();
    expect(eventTypes()).toEqual(['Tenant Activated']);
  });

  // The retry found LZA's SCP off and recorded it NOT_ATTACHED, though the first attempt had detached it.
  it('a retry of the step after a throttled tessera-quarantine detach does not detach LZA\'s SCP twice, completes, and records it DETACHED as the first attempt did', async () => {
    withExternal();
    records.set('acme', leased('onboard', { isolation: 'account', accountId: ACCOUNT, currentStep: 'Wire tenant' }));
    const attached = new Set([LZA, 'p-quarantine']);
    orgs.on(ListPoliciesForTargetCommand, { TargetId: ACCOUNT }).callsFake(() => ({ Policies: [...attached].map((Id) => ({ Id })) }));
    let throttled = false;
    orgs.on(DetachPolicyCommand).callsFake((input: { PolicyId: string }) => {
      if (input.PolicyId === 'p-quarantine' && !throttled) {
        throttled = true;
        throw Object.assign(new Error('AWS Organizations can\'t complete your request because another request is already in progress.'), { name: 'TooManyRequestsException' });
      }
      attached.delete(input.PolicyId);
      return {};
    });
    // WHEN the first attempt fails on tessera-quarantine, under the SDK error's own name (the state machine's Retry matches it)
    await expect(handler(state())).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(attached).toEqual(new Set(['p-quarantine']));
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', lease: { executionArn: EXECUTION_ARN } });
    // the first attempt's detach is on the running entry before tessera-quarantine's
    const first = records.get('acme')!.executions[0];
    expect(first).toMatchObject({ status: 'RUNNING', externalQuarantinePolicies: [{ policyId: LZA, result: 'DETACHED' }, { policyId: OTHER, result: 'NOT_ATTACHED' }] });
    // THEN the retry finds LZA's SCP gone and lifts tessera-quarantine
    await expect(handler(state())).resolves.toEqual({ status: 'ACTIVE' });
    expect(attached).toEqual(new Set());
    expect(detached().filter((d) => d.PolicyId === LZA)).toHaveLength(1);
    const ended = records.get('acme')!.executions[0];
    expect(ended.status).toBe('SUCCEEDED');
    // LZA's SCP as the first attempt recorded it (DETACHED, its time), the other as this attempt found it
    expect(ended.externalQuarantinePolicies).toEqual([first.externalQuarantinePolicies![0], { policyId: OTHER, accountId: ACCOUNT, result: 'NOT_ATTACHED', at: expect.any(String) }]);
    expect(ended.tesseraQuarantine).toMatchObject({ policyId: 'p-quarantine', result: 'DETACHED' });
  });

  it('fails naming the config entry, the policy and the account when DetachPolicy is refused, and leaves tessera-quarantine on', async () => {
    withExternal();
    records.set('acme', leased('onboard', { isolation: 'account', accountId: ACCOUNT, currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand, { TargetId: ACCOUNT }).resolves({ Policies: [{ Id: LZA }, { Id: 'p-quarantine' }] });
    orgs.on(DetachPolicyCommand, { PolicyId: LZA }).rejects(Object.assign(new Error('You don\'t have permissions to access this resource.'), { name: 'AccessDeniedException' }));
    const error = await handler(state()).catch((e: Error) => e);
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(/^organization\.externalQuarantinePolicies\[0\] p-lzaquarantine1 \(QuarantineAccounts\): could not detach it from the tenant's account 444444444444: AccessDeniedException: You don't have permissions to access this resource\.; the lifecycle's organizations:DetachPolicy grant names the policies of organization\.externalQuarantinePolicies as they were when TesseraOrganization .*was last deployed/),
    });
    expect(detached()).toEqual([{ PolicyId: LZA, TargetId: ACCOUNT }]);
    expect(eventTypes()).toEqual([]);
  });
});

// s45: a tenant's own tags (lib/tenant-tags.ts) on its record, account, stacks and Tenant Activated; Tessera's tags stay first.
describe('tenant tags', async () => {
  const register = (await import('../../../lambdas/lifecycle/register-tenant.js')).handler;
  const create = (await import('../../../lambdas/lifecycle/create-account.js')).handler;
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const activate = (await import('../../../lambdas/lifecycle/activate-tenant.js')).handler;
  const { tenantStackTags } = await import('../../../lambdas/lifecycle/stack-ownership.js');
  const tags = { Owner: 'team-x', CostCenter: '4711' };
  const tenantTags = [{ Key: 'CostCenter', Value: '4711' }, { Key: 'Owner', Value: 'team-x' }];
  const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });

  it('Register tenant records the request\'s tags on the new tenant', async () => {
    await expect(register(state('acme', { request: { ...state().request, tags } }))).resolves.toEqual({ action: 'proceed' });
    expect(records.get('acme')?.tags).toEqual(tags);
  });

  it('Register tenant refuses the same request id with other tags, naming them, and writes nothing', async () => {
    const before = tenant({ status: 'FAILED', tags, failure: { step: 'Check account', reason: 'x', at: 't' } });
    records.set('acme', before);
    await expect(register(state('acme', { request: { ...state().request, tags: { CostCenter: '4712' } } }))).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringContaining('differs from the one recorded for tenant acme: tags {"CostCenter":"4711","Owner":"team-x"} → {"CostCenter":"4712"}; '),
    });
    expect(records.get('acme')).toEqual(before);
  });

  it('Register tenant takes the same tags in another key order as the same request', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', tags, executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: 'arn:first', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] }));
    await expect(register(state('acme', { request: { ...state().request, tags: { CostCenter: '4711', Owner: 'team-x' } } }))).resolves.toEqual({ action: 'done', status: 'ACTIVE' });
  });

  it('Create account sends Tessera\'s tags, then the tenant\'s, in CreateAccount Tags', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined, vpcCidr: undefined, tags }));
    orgs.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS' } });
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)[0].args[0].input.Tags).toEqual([
      { Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:tier', Value: 'enterprise' }, ...tenantTags,
    ]);
  });

  it('Deploy blueprint creates the tenant stack with Tessera\'s tags and the tenant\'s', async () => {
    records.set('acme', leased('onboard', { tags }));
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Tags).toEqual([
      { Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:tier', Value: 'starter' }, { Key: 'tessera:blueprint-version', Value: '1.0.0' },
      { Key: 'tessera:request-id', Value: 'req-acme-0001' }, { Key: 'tessera:created-by', Value: EXECUTION_ARN }, ...tenantTags,
    ]);
  });

  it('Deploy blueprint keeps the tenant\'s tags on an update (the change set replaces the stack\'s tag set)', async () => {
    records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0', tags }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.', Changes: [] });
    cfn.on(DeleteChangeSetCommand).resolves({});
    await deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }));
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Tags).toEqual(expect.arrayContaining([{ Key: 'tessera:tenant-id', Value: 'acme' }, ...tenantTags]));
  });

  it('tags every kind of tenant stack alike (namespace, DR and customization stacks take the same tenantStackTags)', () => {
    const record = tenant({ tags });
    const out = tenantStackTags(record, 'starter', '1.0.0', EXECUTION_ARN);
    expect(out.slice(-2)).toEqual(tenantTags);
    expect(out.filter((t) => t.Key!.startsWith('tessera:')).map((t) => t.Key)).toEqual(['tessera:tenant-id', 'tessera:tier', 'tessera:blueprint-version', 'tessera:request-id', 'tessera:created-by']);
    expect(tenantStackTags(tenant(), 'starter', '1.0.0', EXECUTION_ARN)).toHaveLength(5);
  });

  it('Tenant Activated carries the tenant\'s tags', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Wire tenant', tags }));
    await expect(activate(state())).resolves.toEqual({ status: 'ACTIVE' });
    const detail = eventDetails().find((_, i) => eventTypes()[i] === 'Tenant Activated');
    expect(detail).toMatchObject({ tenantId: 'acme', tags });
  });
});

// session 45: changing a tenant's own tags after onboarding (change.tags: all of them, replacing the recorded ones).
describe('changing a tenant\'s tags', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const finish = (await import('../../../lambdas/lifecycle/finish-change.js')).handler;
  const old = { CostCenter: '4711', Owner: 'team-x' };
  const changeState = (change: Record<string, unknown>) => state('acme', { change, kind: 'change' });

  it('Begin change: a tags-only change keeps the tenant\'s tier and blueprint version (not the platform\'s) and carries the tags on', async () => {
    templates.on(HeadObjectCommand).resolves({});
    // The platform is on 1.0.0 (setLifecycleEnv); the tenant on 2.0.0 would keep it anyway: on 0.9.0 it is the telling case.
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '0.9.0', tags: old }));
    await expect(begin(changeState({ tags: { CostCenter: '4712' } }))).resolves.toMatchObject({ tier: 'starter', previousTier: 'starter', blueprintVersion: '0.9.0', tags: { CostCenter: '4712' } });
    expect(records.get('acme')).toMatchObject({ status: 'UPDATING', lease: { kind: 'change' } });
    // With a version asked for, that version; tags ride along.
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '0.9.0' }));
    await expect(begin(changeState({ blueprintVersion: '1.0.0', tags: {} }))).resolves.toMatchObject({ blueprintVersion: '1.0.0', tags: {} });
  });

  it('Begin change refuses, before the lease, tags the admin API refuses', async () => {
    templates.on(HeadObjectCommand).resolves({});
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await expect(begin(changeState({ tags: { 'aws:cost': '1' } }))).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/^change\.tags\.aws:cost = "1": Invalid key "aws:cost": is reserved/) });
    expect(records.get('acme')!.lease).toBeUndefined();
  });

  it('Begin change marks an account tenant\'s tags change tagAccount (Tag account runs); a VPC tenant\'s, and a change without tags, not', async () => {
    templates.on(HeadObjectCommand).resolves({});
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', isolation: 'account', tier: 'enterprise', accountId: '444444444444', vpcCidr: '10.96.0.0/18' }));
    await expect(begin(changeState({ tags: { A: '1' } }))).resolves.toMatchObject({ tags: { A: '1' }, tagAccount: true });
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', isolation: 'account', tier: 'enterprise', accountId: '444444444444', vpcCidr: '10.96.0.0/18' }));
    await expect(begin(changeState({ blueprintVersion: '1.0.0' }))).resolves.not.toHaveProperty('tagAccount');
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await expect(begin(changeState({ tags: { A: '1' } }))).resolves.not.toHaveProperty('tagAccount');
  });

  // session 46: the account's `tessera:tier` tag (CreateAccount's) follows a tier change; before, only a tags change
  // reached Tag account, and the account kept the tier it was onboarded on for good.
  it('Begin change marks an account tenant\'s tier change tagAccount too (its account\'s tessera:tier); the same tier, not', async () => {
    templates.on(HeadObjectCommand).resolves({});
    const xl = structuredClone(configWith().tiers.enterprise);
    xl.network.tenantCidrPool = '10.112.0.0/12';
    useConfig(configWith({ tiers: { 'enterprise-xl': xl } }));
    const acct = { status: 'ACTIVE' as const, blueprintVersion: '1.0.0', isolation: 'account' as const, tier: 'enterprise', accountId: '444444444444', vpcCidr: '10.96.0.0/18' };
    records.set('acme', tenant(acct));
    await expect(begin(changeState({ tier: 'enterprise-xl' }))).resolves.toMatchObject({ tier: 'enterprise-xl', previousTier: 'enterprise', tagAccount: true });
    records.set('acme', tenant(acct));
    await expect(begin(changeState({ tier: 'enterprise', blueprintVersion: '1.0.0' }))).resolves.not.toHaveProperty('tagAccount');
    // A repair puts the account's tags right too (an account moved to another tier before, or retagged by hand).
    records.set('acme', tenant(acct));
    await expect(begin(changeState({ repair: true }))).resolves.toMatchObject({ repair: true, tagAccount: true });
  });

  it('Tag account on a repair puts tessera:tier and the recorded tags again, removing nothing', async () => {
    const tagAccount = (await import('../../../lambdas/lifecycle/tag-account.js')).handler;
    records.set('acme', leased('change', { isolation: 'account', tier: 'enterprise', accountId: '444444444444', tags: old }));
    orgs.on(TagResourceCommand).resolves({});
    await expect(tagAccount(changeState({ tier: 'enterprise', previousTier: 'enterprise', repair: true, tagAccount: true }))).resolves.toEqual({ accountId: '444444444444', tagged: ['tessera:tier', 'CostCenter', 'Owner'], untagged: [] });
    expect(orgs.commandCalls(TagResourceCommand).map((c) => c.args[0].input.Tags)).toEqual([[{ Key: 'tessera:tier', Value: 'enterprise' }, { Key: 'CostCenter', Value: '4711' }, { Key: 'Owner', Value: 'team-x' }]]);
    expect(orgs.commandCalls(UntagResourceCommand)).toHaveLength(0);
    expect(records.get('acme')!.tags).toEqual(old);
  });

  it('Tag account puts tessera:tier to the new tier on a tier change; alone, it touches none of the tenant\'s tags nor the record\'s', async () => {
    const tagAccount = (await import('../../../lambdas/lifecycle/tag-account.js')).handler;
    records.set('acme', leased('change', { isolation: 'account', tier: 'enterprise', accountId: '444444444444', tags: old }));
    orgs.on(TagResourceCommand).resolves({});
    await expect(tagAccount(changeState({ tier: 'enterprise-xl', previousTier: 'enterprise', tagAccount: true }))).resolves.toEqual({ accountId: '444444444444', tagged: ['tessera:tier'], untagged: [] });
    expect(orgs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([{ ResourceId: '444444444444', Tags: [{ Key: 'tessera:tier', Value: 'enterprise-xl' }] }]);
    expect(records.get('acme')!.tags).toEqual(old);
    // With tags too: one TagResource of the tier and the new set.
    orgs.reset();
    orgs.on(UntagResourceCommand).resolves({});
    orgs.on(TagResourceCommand).resolves({});
    await tagAccount(changeState({ tier: 'enterprise-xl', previousTier: 'enterprise', tags: { CostCenter: '4712' }, tagAccount: true }));
    expect(orgs.commandCalls(TagResourceCommand).map((c) => c.args[0].input.Tags)).toEqual([[{ Key: 'tessera:tier', Value: 'enterprise-xl' }, { Key: 'CostCenter', Value: '4712' }]]);
  });

  it('Tag account removes the recorded keys the change drops, then puts the new tags, on the tenant\'s account only', async () => {
    const tagAccount = (await import('../../../lambdas/lifecycle/tag-account.js')).handler;
    records.set('acme', leased('change', { isolation: 'account', tier: 'enterprise', accountId: '444444444444', tags: old }));
    orgs.on(UntagResourceCommand).resolves({});
    orgs.on(TagResourceCommand).resolves({});
    await expect(tagAccount(changeState({ tags: { Project: 'llm', CostCenter: '4712' }, tagAccount: true }))).resolves.toEqual({ accountId: '444444444444', tagged: ['CostCenter', 'Project'], untagged: ['Owner'] });
    expect(orgs.commandCalls(UntagResourceCommand).map((c) => c.args[0].input)).toEqual([{ ResourceId: '444444444444', TagKeys: ['Owner'] }]);
    expect(orgs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([{ ResourceId: '444444444444', Tags: [{ Key: 'CostCenter', Value: '4712' }, { Key: 'Project', Value: 'llm' }] }]);
    // All removed: no TagResource (Organizations refuses an empty Tags list), and the record's tags are Finish change's to replace.
    orgs.reset();
    orgs.on(UntagResourceCommand).resolves({});
    records.set('acme', leased('change', { isolation: 'account', tier: 'enterprise', accountId: '444444444444', tags: old }));
    await expect(tagAccount(changeState({ tags: {}, tagAccount: true }))).resolves.toMatchObject({ tagged: [], untagged: ['CostCenter', 'Owner'] });
    expect(orgs.commandCalls(TagResourceCommand)).toHaveLength(0);
    // The record follows the account: none left, no `tags` attribute (as Finish change records `{}`).
    expect('tags' in records.get('acme')!).toBe(false);
  });

  // session 46: the record's tags follow the account call by call, so no failure leaves `tenants show` naming tags the
  // account lacks. Before, they stayed the old ones until Finish change: after UntagResource, keys the account no longer had.
  it('Tag account records, call by call, the tags the account carries: a TagResource refused leaves the dropped keys gone from the record too', async () => {
    const tagAccount = (await import('../../../lambdas/lifecycle/tag-account.js')).handler;
    const acct = { isolation: 'account' as const, tier: 'enterprise', accountId: '444444444444', tags: old };
    records.set('acme', leased('change', acct));
    orgs.on(UntagResourceCommand).resolves({});
    orgs.on(TagResourceCommand).rejects(new ConstraintViolationException({ message: 'You have exceeded the allowed number of tags for this resource.', $metadata: { httpStatusCode: 400 }, Reason: 'MAX_TAG_LIMIT_EXCEEDED' }));
    await expect(tagAccount(changeState({ tags: { CostCenter: '4712' }, tagAccount: true }))).rejects.toMatchObject({ name: 'ConstraintViolationException' });
    // Owner was removed from the account, CostCenter not yet changed: the record says just that.
    expect(records.get('acme')!.tags).toEqual({ CostCenter: '4711' });
    // A retry (or the same tags sent again) untags nothing more and puts the set; the record then has the new set.
    orgs.reset();
    orgs.on(TagResourceCommand).resolves({});
    await expect(tagAccount(changeState({ tags: { CostCenter: '4712' }, tagAccount: true }))).resolves.toMatchObject({ tagged: ['CostCenter'], untagged: [] });
    expect(orgs.commandCalls(UntagResourceCommand)).toHaveLength(0);
    expect(records.get('acme')!.tags).toEqual({ CostCenter: '4712' });
    // UntagResource refused: nothing changed on the account, nor on the record.
    orgs.reset();
    records.set('acme', leased('change', acct));
    orgs.on(UntagResourceCommand).rejects(new AccessDeniedException({ message: 'denied by an SCP', $metadata: { httpStatusCode: 400 } }));
    await expect(tagAccount(changeState({ tags: { CostCenter: '4712' }, tagAccount: true }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(records.get('acme')!.tags).toEqual(old);
    expect(orgs.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('Deploy blueprint puts the change\'s tags on the stack\'s change set in place of the recorded ones (a removed key is gone)', async () => {
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', tags: old }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.', Changes: [] });
    cfn.on(DeleteChangeSetCommand).resolves({});
    await deploy(state('acme', { blueprint: 'tenant', change: { tier: 'starter', blueprintVersion: '1.0.0', tags: { CostCenter: '4712' } } }));
    const tags = cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Tags!;
    expect(tags.filter((t) => !t.Key!.startsWith('tessera:'))).toEqual([{ Key: 'CostCenter', Value: '4712' }]);
    expect(tags.map((t) => t.Key)).toContain('tessera:tenant-id');
  });

  it('Finish change records the new tags; {} removes the attribute; a change without tags keeps them', async () => {
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', tags: old }));
    await finish(changeState({ tier: 'starter', previousTier: 'starter', tags: { CostCenter: '4712' } }));
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', tags: { CostCenter: '4712' } });
    expect(eventDetails().find((_, i) => eventTypes()[i] === 'Tenant Changed')).toMatchObject({ tenantId: 'acme', tags: { CostCenter: '4712' } });
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', tags: old }));
    await finish(changeState({ tier: 'starter', previousTier: 'starter', tags: {} }));
    expect(records.get('acme')!.status).toBe('ACTIVE');
    expect('tags' in records.get('acme')!).toBe(false);
    records.set('acme', leased('change', { blueprintVersion: '1.0.0', tags: old }));
    await finish(changeState({ tier: 'starter', previousTier: 'starter', blueprintVersion: '1.0.0' }));
    expect(records.get('acme')!.tags).toEqual(old);
    expect(eventDetails().at(-1)).not.toHaveProperty('tags');
  });
});

// session 46: a tier change of an account tenant moves its AWS account to the new tier's OU (tessera-<tier>), before the
// stacks; a repair puts back an account moved by hand. Before, the account stayed in the OU of the tier it was onboarded
// on for good, under that tier's SCPs and OU policies.
describe('moving an account tenant\'s account to its tier\'s OU (Move account)', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;
  const move = (await import('../../../lambdas/lifecycle/tag-account.js')).handler;
  const acct = { isolation: 'account' as const, tier: 'enterprise', accountId: '444444444444', vpcCidr: '10.96.0.0/18' };
  const changeState = (change: Record<string, unknown>) => state('acme', { change, kind: 'change' });
  const moveState = (change: Record<string, unknown>) => ({ ...changeState(change), stateName: 'Move account', accountStep: 'move' as const });
  const meta = { $metadata: { httpStatusCode: 400 } };
  // OU ids as Organizations' pattern has them (ou-<4 to 32>-<8 to 32 lowercase letters or digits>): the strict mock checks it.
  const ouId = (n: string) => `ou-abcd-${n.replace(/[^a-z0-9]/g, '').padEnd(8, '0')}`;
  const ous = (...names: string[]) => orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: names.map((n) => ({ Id: ouId(n), Name: `tessera-${n}` })) });

  it('Begin change marks an account tenant\'s tier change and its repair moveAccount; the same tier and a VPC tenant\'s change, not', async () => {
    templates.on(HeadObjectCommand).resolves({});
    const xl = structuredClone(configWith().tiers.enterprise);
    xl.network.tenantCidrPool = '10.112.0.0/12';
    useConfig(configWith({ tiers: { 'enterprise-xl': xl } }));
    records.set('acme', tenant({ ...acct, status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await expect(begin(changeState({ tier: 'enterprise-xl' }))).resolves.toMatchObject({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true });
    records.set('acme', tenant({ ...acct, status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await expect(begin(changeState({ repair: true }))).resolves.toMatchObject({ repair: true, moveAccount: true });
    records.set('acme', tenant({ ...acct, status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await expect(begin(changeState({ tier: 'enterprise', tags: { A: '1' } }))).resolves.not.toHaveProperty('moveAccount');
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await expect(begin(changeState({ repair: true }))).resolves.not.toHaveProperty('moveAccount');
  });

  // a tier change that failed after Move account (or before Tag account) left the account in the new tier's OU (or
  // tessera:tier on the old tier); the next change to succeed cleared the failure without looking.
  it('Begin change marks any change of an account tenant whose record holds a failure afterFailure, moveAccount and tagAccount; Tag account then puts tessera:tier', async () => {
    templates.on(HeadObjectCommand).resolves({});
    const failure = { step: 'Deploy blueprint', reason: 'AccessDenied: explicit deny in a service control policy', at: '2026-12-07T08:00:00.000Z', kind: 'change' as const };
    records.set('acme', tenant({ ...acct, status: 'ACTIVE', blueprintVersion: '1.0.0', failure }));
    const marked = await begin(changeState({ tags: { CostCenter: '4711' } }));
    expect(marked).toMatchObject({ tier: 'enterprise', afterFailure: true, moveAccount: true, tagAccount: true });
    // A VPC tenant has no account to settle; an account tenant without a failure, nothing to settle.
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0', failure }));
    const vpc = await begin(changeState({ tags: { CostCenter: '4711' } }));
    for (const key of ['afterFailure', 'moveAccount', 'tagAccount']) expect(vpc).not.toHaveProperty(key);
    records.set('acme', tenant({ ...acct, status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const clean = await begin(changeState({ tags: { CostCenter: '4711' } }));
    expect(clean).toMatchObject({ tagAccount: true });
    for (const key of ['afterFailure', 'moveAccount']) expect(clean).not.toHaveProperty(key);
    // Tag account after a failure: tessera:tier with the tenant's tags (as for a repair).
    records.set('acme', leased('change', { ...acct, failure }));
    orgs.on(TagResourceCommand).resolves({});
    await expect(move(changeState(marked as Record<string, unknown>))).resolves.toMatchObject({ tagged: ['tessera:tier', 'CostCenter'] });
    expect(orgs.commandCalls(TagResourceCommand)[0].args[0].input.Tags).toEqual([{ Key: 'tessera:tier', Value: 'enterprise' }, { Key: 'CostCenter', Value: '4711' }]);
  });

  // a tier change that failed at its stacks after Move account left the account in the new tier's OU, and the
  // failure (what tessera tenants show prints) did not say so.
  it('Record failure\'s note: an account tenant\'s account outside its recorded tier\'s OU is named; in it, another kind, or Organizations refusing the read, nothing', async () => {
    const { misplacedAccountNote } = await import('../../../lambdas/lifecycle/account-placement-note.js');
    const record = tenant({ ...acct, status: 'UPDATING' });
    ous('enterprise', 'enterprise-xl');
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-enterprisexl', Type: 'ORGANIZATIONAL_UNIT' }] });
    await expect(misplacedAccountNote(record, 'change', 'enterprise')).resolves
      .toBe('account 444444444444 is in OU tessera-enterprise-xl (ou-abcd-enterprisexl), not tier enterprise\'s tessera-enterprise: the tenant\'s next change, upgrade run or repair puts it back in tessera-enterprise (a tier change sent again, in its new tier\'s OU)');
    await expect(misplacedAccountNote(record, 'upgrade', 'enterprise-xl')).resolves.toBeUndefined();
    orgs.resetHistory();
    await expect(misplacedAccountNote(record, 'onboard', 'enterprise')).resolves.toBeUndefined();
    await expect(misplacedAccountNote(tenant({ status: 'UPDATING' }), 'change', 'enterprise')).resolves.toBeUndefined();
    expect(orgs.calls()).toHaveLength(0);
    orgs.on(ListParentsCommand).rejects(new AccessDeniedException({ message: 'You don\'t have permissions to access this resource.', ...meta }));
    await expect(misplacedAccountNote(record, 'change', 'enterprise')).resolves.toBeUndefined();
  });

  it('moves the account from the old tier\'s OU into the new tier\'s (MoveAccount with the parent ListParents gives), recording the step', async () => {
    records.set('acme', leased('change', acct));
    ous('enterprise', 'enterprise-xl');
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-enterprise', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(MoveAccountCommand).resolves({});
    await expect(move(moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true })))
      .resolves.toEqual({ accountId: '444444444444', ou: 'ou-abcd-enterprisexl', ouName: 'tessera-enterprise-xl', from: 'ou-abcd-enterprise', moved: true });
    expect(orgs.commandCalls(MoveAccountCommand).map((c) => c.args[0].input)).toEqual([{ AccountId: '444444444444', SourceParentId: 'ou-abcd-enterprise', DestinationParentId: 'ou-abcd-enterprisexl' }]);
    expect(orgs.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(records.get('acme')!.currentStep).toBe('Move account');
  });

  it('moves nothing on a replay (the account in the tier\'s OU already), nor when Organizations answers DuplicateAccountException for a move that took effect', async () => {
    records.set('acme', leased('change', acct));
    ous('enterprise', 'enterprise-xl');
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-enterprisexl', Type: 'ORGANIZATIONAL_UNIT' }] });
    await expect(move(moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true }))).resolves.toMatchObject({ moved: false, ou: 'ou-abcd-enterprisexl' });
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(0);
    orgs.on(ListParentsCommand).resolvesOnce({ Parents: [{ Id: 'ou-abcd-enterprise', Type: 'ORGANIZATIONAL_UNIT' }] }).resolves({ Parents: [{ Id: 'ou-abcd-enterprisexl', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(MoveAccountCommand).rejects(new DuplicateAccountException({ message: 'That account is already present in the specified destination.', ...meta }));
    await expect(move(moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true }))).resolves.toMatchObject({ moved: false });
  });

  // an account moved by someone else between ListParents and MoveAccount (AWS: SourceParentNotFoundException) failed
  // the step, which no workflow retries, though the account was one MoveAccount away from its tier's OU.
  it('moves the account again from where someone moved it between ListParents and MoveAccount (SourceParentNotFoundException), up to 3 calls', async () => {
    records.set('acme', leased('change', acct));
    ous('enterprise', 'enterprise-xl');
    orgs.on(ListParentsCommand).resolvesOnce({ Parents: [{ Id: 'ou-abcd-enterprise', Type: 'ORGANIZATIONAL_UNIT' }] }).resolves({ Parents: [{ Id: 'ou-abcd-sandbox01', Type: 'ORGANIZATIONAL_UNIT' }] });
    const moved = new SourceParentNotFoundException({ message: 'We can\'t find a source root or OU with the ParentId that you specified.', ...meta });
    orgs.on(MoveAccountCommand).rejectsOnce(moved).resolves({});
    await expect(move(moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true }))).resolves.toMatchObject({ moved: true, from: 'ou-abcd-sandbox01', ou: 'ou-abcd-enterprisexl' });
    expect(orgs.commandCalls(MoveAccountCommand).map((c) => c.args[0].input.SourceParentId)).toEqual(['ou-abcd-enterprise', 'ou-abcd-sandbox01']);
    // An account that keeps moving under the calls: the third refusal stands (the step fails, recorded).
    orgs.reset();
    orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
    ous('enterprise', 'enterprise-xl');
    let parent = 0;
    orgs.on(ListParentsCommand).callsFake(() => ({ Parents: [{ Id: `ou-abcd-elsewhere${(parent++).toString().padStart(2, '0')}`, Type: 'ORGANIZATIONAL_UNIT' }] }));
    orgs.on(MoveAccountCommand).rejects(moved);
    await expect(move(moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true }))).rejects.toMatchObject({ name: 'SourceParentNotFoundException' });
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(3);
  });

  it('a repair puts an account moved by hand back in its tier\'s OU', async () => {
    records.set('acme', leased('change', acct));
    orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [{ Id: 'ou-abcd-enterprise', Name: 'tessera-enterprise' }, { Id: 'ou-abcd-sandbox01', Name: 'Sandbox' }] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-sandbox01', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(MoveAccountCommand).resolves({});
    await expect(move(moveState({ tier: 'enterprise', previousTier: 'enterprise', repair: true, moveAccount: true }))).resolves.toMatchObject({ moved: true, from: 'ou-abcd-sandbox01', ou: 'ou-abcd-enterprise' });
    expect(orgs.commandCalls(MoveAccountCommand).map((c) => c.args[0].input)).toEqual([{ AccountId: '444444444444', SourceParentId: 'ou-abcd-sandbox01', DestinationParentId: 'ou-abcd-enterprise' }]);
  });

  it('fails with AccountPlacement naming the tier\'s OU when it does not exist (or is gone by the move), moving nothing', async () => {
    records.set('acme', leased('change', acct));
    ous('enterprise');
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-enterprise', Type: 'ORGANIZATIONAL_UNIT' }] });
    await expect(move(moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true }))).rejects.toMatchObject({
      name: 'AccountPlacement',
      message: expect.stringMatching(/^tier enterprise-xl's organizational unit tessera-enterprise-xl does not exist under the organization's root r-root: account 444444444444 of tenant acme was not moved .*Deploy the TesseraOrganization stack with tier enterprise-xl/),
    });
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(0);
    ous('enterprise', 'enterprise-xl');
    orgs.on(MoveAccountCommand).rejects(new DestinationParentNotFoundException({ message: 'We can\'t find the destination container (a root or OU) with the ParentId that you specified.', ...meta }));
    await expect(move(moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true }))).rejects.toMatchObject({
      name: 'AccountPlacement', message: expect.stringMatching(/^tier enterprise-xl's organizational unit tessera-enterprise-xl \(ou-abcd-enterprisexl\) is gone \(MoveAccount: DestinationParentNotFoundException/),
    });
  });

  it('fails with AccountPlacement naming an account Organizations does not know; throttling and contention as they come (the workflow retries them)', async () => {
    records.set('acme', leased('change', acct));
    ous('enterprise', 'enterprise-xl');
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-enterprise', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(MoveAccountCommand).rejects(new AccountNotFoundException({ message: 'We can\'t find an AWS account with the AccountId that you specified.', ...meta }));
    const changed = moveState({ tier: 'enterprise-xl', previousTier: 'enterprise', moveAccount: true });
    await expect(move(changed)).rejects.toMatchObject({ name: 'AccountPlacement', message: expect.stringMatching(/^account 444444444444 of tenant acme is not in the organization \(AccountNotFoundException: /) });
    orgs.on(MoveAccountCommand).rejects(new ConcurrentModificationException({ message: 'The target of the operation is currently being modified by a different request. Try again later.', ...meta }));
    await expect(move(changed)).rejects.toMatchObject({ name: 'ConcurrentModificationException' });
    orgs.on(MoveAccountCommand).rejects(new TooManyRequestsException({ message: 'slow down', ...meta }));
    await expect(move(changed)).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    const { RETRYABLE_ERRORS, TERMINAL_ERRORS } = await import('../../../lambdas/shared/errors.js');
    expect(RETRYABLE_ERRORS).toEqual(expect.arrayContaining(['ConcurrentModificationException', 'TooManyRequestsException']));
    expect(TERMINAL_ERRORS).toContain('AccountPlacement');
  });
});
