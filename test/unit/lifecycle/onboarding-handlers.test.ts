import { CloudFormationClient, CreateStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupEgressCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  AttachPolicyCommand, CreateAccountCommand, DescribeCreateAccountStatusCommand, DetachPolicyCommand, ListOrganizationalUnitsForParentCommand,
  ListParentsCommand, ListPoliciesCommand, ListPoliciesForTargetCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { credentials, setLifecycleEnv, state, tenant } from './support.js';
import { records, registryMock } from './registry-mock.js';

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
  claimCidr: vi.fn(async () => true),
}));

const orgs = mockClient(OrganizationsClient);
const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const events = mockClient(EventBridgeClient);

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [orgs, sts, cfn, ec2, events]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
  orgs.on(ListPoliciesCommand).resolves({ Policies: [{ Id: 'p-quarantine', Name: 'tessera-quarantine' }, { Id: 'p-guard', Name: 'tessera-guardrails' }] });
  orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [{ Id: 'ou-ent', Name: 'tessera-enterprise' }, { Id: 'ou-susp', Name: 'Suspended' }] });
});

describe('Validate request', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/validate-request.js');
  it('resolves isolation and compute mode of the tier', async () => {
    await expect(handler(state('acme', { request: { ...state().request, tier: 'enterprise' } }))).resolves.toMatchObject({ isolation: 'account', computeMode: 'dedicated' });
  });
  it('names every bad field and its value', async () => {
    await expect(handler({ request: { tenantId: 'Bad_Id', name: '', tier: 'starter', adminEmail: 'nope', requestId: 'r' } } as never))
      .rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/tenantId = "Bad_Id".*adminEmail = "nope".*requestId = "r"/) });
  });
  it('refuses an unknown tier, listing the tiers', async () => {
    await expect(handler(state('acme', { request: { ...state().request, tier: 'gold' } }))).rejects.toMatchObject({ name: 'InvalidRequest', message: 'tier "gold" does not exist (tiers: starter, professional, enterprise)' });
  });
});

describe('Register tenant', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/register-tenant.js');
  it('registers a new tenant as PROVISIONING in the workload account for VPC isolation', async () => {
    await expect(handler(state())).resolves.toEqual({ action: 'proceed' });
    expect(records.get('acme')).toMatchObject({ status: 'PROVISIONING', accountId: '333333333333', executions: [expect.objectContaining({ status: 'RUNNING' })] });
  });
  it('is a no-op for the same request once ACTIVE', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await expect(handler(state())).resolves.toEqual({ action: 'done' });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
  });
  it('resumes a FAILED onboarding of the same request, reporting where it stopped', async () => {
    records.set('acme', tenant({ status: 'FAILED', failure: { step: 'Check blueprint', reason: 'x', at: 'now' } }));
    await expect(handler(state())).resolves.toEqual({ action: 'proceed', resumedFrom: 'Check blueprint' });
    expect(records.get('acme')?.status).toBe('PROVISIONING');
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
    controlMock.acquireSlot.mockResolvedValueOnce(false);
    await expect(acquire(state())).resolves.toEqual({ acquired: false, cap: 5 });
    expect(controlMock.acquireSlot).toHaveBeenCalledWith('acme', 5);
    await expect(release(state())).resolves.toEqual({ released: true });
    expect(controlMock.releaseSlot).toHaveBeenCalledWith('acme');
  });
});

describe('Create account / Check account', async () => {
  const create = (await import('../../../lambdas/lifecycle/create-account.js')).handler;
  const check = (await import('../../../lambdas/lifecycle/check-account-status.js')).handler;
  it('asks Organizations once, through the management account role, with the provisioning role name and tags', async () => {
    records.set('acme', tenant({ isolation: 'account', tier: 'enterprise', accountId: undefined }));
    orgs.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-1', State: 'IN_PROGRESS' } });
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)[0].args[0].input).toMatchObject({
      Email: 'admin@acme.example.com', AccountName: 'tessera-acme', RoleName: 'TesseraProvisioning', IamUserAccessToBilling: 'DENY',
      Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:tier', Value: 'enterprise' }],
    });
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input.RoleArn).toBe('arn:aws:iam::111111111111:role/TesseraOrganizationAccess');
    expect(records.get('acme')?.createAccountRequestId).toBe('car-1');
    await expect(create(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
    expect(orgs.commandCalls(CreateAccountCommand)).toHaveLength(1);
  });
  it('records the account id when Organizations succeeds', async () => {
    records.set('acme', tenant({ accountId: undefined, createAccountRequestId: 'car-1' }));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { State: 'SUCCEEDED', AccountId: '444444444444' } });
    await expect(check(state())).resolves.toEqual({ state: 'SUCCEEDED', accountId: '444444444444' });
    expect(records.get('acme')).toMatchObject({ accountId: '444444444444' });
    expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
  });
  it('keeps polling while IN_PROGRESS', async () => {
    records.set('acme', tenant({ accountId: undefined, createAccountRequestId: 'car-1' }));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { State: 'IN_PROGRESS' } });
    await expect(check(state())).resolves.toEqual({ state: 'IN_PROGRESS' });
  });
  it('fails terminally on EMAIL_ALREADY_EXISTS and ACCOUNT_LIMIT_EXCEEDED, naming the reason', async () => {
    for (const reason of ['EMAIL_ALREADY_EXISTS', 'ACCOUNT_LIMIT_EXCEEDED']) {
      records.set('acme', tenant({ accountId: undefined, createAccountRequestId: 'car-1' }));
      orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { State: 'FAILED', FailureReason: reason as 'EMAIL_ALREADY_EXISTS' } });
      await expect(check(state())).rejects.toMatchObject({ name: 'AccountCreationFailed', message: expect.stringContaining(reason) });
    }
  });
  it('asks for a new attempt after CONCURRENT_ACCOUNT_MODIFICATION', async () => {
    records.set('acme', tenant({ accountId: undefined, createAccountRequestId: 'car-1' }));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { State: 'FAILED', FailureReason: 'CONCURRENT_ACCOUNT_MODIFICATION' } });
    await expect(check(state())).resolves.toEqual({ state: 'RETRY', reason: 'CONCURRENT_ACCOUNT_MODIFICATION' });
    expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
  });
  it('lets throttling through to the state machine retry', async () => {
    records.set('acme', tenant({ accountId: undefined }));
    orgs.on(CreateAccountCommand).rejects(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' }));
    await expect(create(state())).rejects.toMatchObject({ name: 'TooManyRequestsException' });
  });
});

describe('Quarantine account', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/quarantine-account.js');
  it('attaches the quarantine SCP and moves the account into its tier OU', async () => {
    records.set('acme', tenant({ isolation: 'account', tier: 'enterprise', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'r-root', Type: 'ROOT' }] });
    await handler(state());
    expect(orgs.commandCalls(AttachPolicyCommand)[0].args[0].input).toEqual({ PolicyId: 'p-quarantine', TargetId: '444444444444' });
    expect(orgs.commandCalls(MoveAccountCommand)[0].args[0].input).toEqual({ AccountId: '444444444444', SourceParentId: 'r-root', DestinationParentId: 'ou-ent' });
  });
  it('does nothing twice', async () => {
    records.set('acme', tenant({ isolation: 'account', tier: 'enterprise', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-ent' }] });
    await handler(state());
    expect(orgs.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(0);
  });
  it('names the missing OU when the organization stack is not deployed', async () => {
    records.set('acme', tenant({ tier: 'professional', accountId: '444444444444' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    await expect(handler(state())).rejects.toThrow(/organizational unit "tessera-professional" does not exist under r-root; deploy the TesseraOrganization stack/);
  });
});

describe('Verify provisioning access', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/verify-provisioning-access.js');
  it('chains through the management account into the provisioning role, the session named after the tenant, untagged', async () => {
    records.set('acme', tenant({ accountId: '444444444444' }));
    await handler(state());
    const provisioning = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input).find((i) => i.RoleArn!.endsWith('TesseraProvisioning'));
    expect(provisioning).toMatchObject({ RoleArn: 'arn:aws:iam::444444444444:role/TesseraProvisioning', RoleSessionName: expect.stringMatching(/^tessera-acme-/) });
    // Organizations' role trusts sts:AssumeRole only: session tags would be refused.
    expect(provisioning?.Tags).toBeUndefined();
  });
  it('reports a role that is not assumable yet as ProvisioningRoleNotReady (retried)', async () => {
    records.set('acme', tenant({ accountId: '555555555555' }));
    sts.on(AssumeRoleCommand, { RoleArn: 'arn:aws:iam::555555555555:role/TesseraProvisioning' }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'ProvisioningRoleNotReady' });
  });
});

describe('Allocate network', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/allocate-network.js');
  it('hands out the next free block of the tier pool', async () => {
    records.set('acme', tenant({ vpcCidr: undefined }));
    controlMock.nextPoolIndex.mockResolvedValueOnce(0).mockResolvedValueOnce(1);
    controlMock.claimCidr.mockResolvedValueOnce(false).mockResolvedValueOnce(true);
    await expect(handler(state())).resolves.toEqual({ vpcCidr: '10.64.4.0/22', quotas: { checked: 0, unchecked: [] } });
    expect(records.get('acme')?.vpcCidr).toBe('10.64.4.0/22');
  });
  it('keeps an existing allocation', async () => {
    records.set('acme', tenant({ vpcCidr: '10.64.8.0/22' }));
    await expect(handler(state())).resolves.toEqual({ vpcCidr: '10.64.8.0/22' });
    expect(controlMock.nextPoolIndex).not.toHaveBeenCalled();
  });
  it('fails with the pool and the key to widen when exhausted', async () => {
    records.set('acme', tenant({ vpcCidr: undefined }));
    controlMock.nextPoolIndex.mockResolvedValueOnce(1024);
    await expect(handler(state())).rejects.toMatchObject({ name: 'NetworkPoolExhausted', message: expect.stringMatching(/pool 10\.64\.0\.0\/12 has no free \/22 left \(1024 handed out\); widen tiers\.starter\.network\.tenantCidrPool/) });
  });
});

describe('Deploy blueprint / Check blueprint', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const check = (await import('../../../lambdas/lifecycle/check-stack.js')).handler;
  const notFound = Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' });
  it('creates the stack from the catalog URL with the tenant parameters, termination protection and rollback on failure', async () => {
    records.set('acme', tenant());
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'tenant' }));
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input).toMatchObject({
      StackName: 'tessera-acme',
      TemplateURL: 'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/1.0.0/starter.template.json',
      // The database is created unprotected: a create that fails after it exists must be able to roll it back.
      Parameters: [{ ParameterKey: 'TenantId', ParameterValue: 'acme' }, { ParameterKey: 'VpcCidr', ParameterValue: '10.64.0.0/22' }, { ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'false' }],
      EnableTerminationProtection: true, OnFailure: 'ROLLBACK', Capabilities: ['CAPABILITY_NAMED_IAM'],
    });
    expect(records.get('acme')?.stackName).toBe('tessera-acme');
  });
  it('deploys the namespace blueprint in the platform account under its service role', async () => {
    records.set('acme', tenant());
    process.env.TESSERA_NAMESPACE_DEPLOYER_ROLE_ARN = 'arn:aws:iam::222222222222:role/deployer';
    cfn.on(DescribeStacksCommand).rejects(notFound);
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await deploy(state('acme', { blueprint: 'namespace' }));
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input).toMatchObject({
      StackName: 'tessera-acme-namespace', RoleARN: 'arn:aws:iam::222222222222:role/deployer',
      Parameters: [{ ParameterKey: 'TenantId', ParameterValue: 'acme' }, { ParameterKey: 'TenantAccountId', ParameterValue: '333333333333' }, { ParameterKey: 'TenantVpcCidr', ParameterValue: '10.64.0.0/22' }],
    });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });
  it('updates an existing stack, and takes "no updates" as done', async () => {
    records.set('acme', tenant());
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date() }] });
    cfn.on(UpdateStackCommand).rejects(Object.assign(new Error('No updates are to be performed.'), { name: 'ValidationError' }));
    await expect(deploy(state('acme', { blueprint: 'tenant', change: { blueprintVersion: '2.0.0' } }))).resolves.toMatchObject({ stackName: 'tessera-acme' });
    expect(cfn.commandCalls(UpdateStackCommand)[0].args[0].input.TemplateURL).toMatch(/blueprints\/2\.0\.0\/starter\.template\.json$/);
  });
  it('waits for a stack being deleted', async () => {
    records.set('acme', tenant());
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date() }] });
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'StackBusy' });
  });
  it('records the outputs of a complete stack', async () => {
    records.set('acme', tenant());
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'KeyArn', OutputValue: 'arn:k' }, { OutputKey: 'BlueprintVersion', OutputValue: '1.0.0' }] }] });
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ state: 'COMPLETE' });
    expect(records.get('acme')).toMatchObject({ stackOutputs: { KeyArn: 'arn:k', BlueprintVersion: '1.0.0' }, blueprintVersion: '1.0.0' });
  });
  it('keeps polling while in progress, even while rolling back', async () => {
    records.set('acme', tenant());
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'ROLLBACK_IN_PROGRESS', CreationTime: new Date() }] });
    await expect(check(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ state: 'IN_PROGRESS' });
  });
  it('fails with the first failed resource when the stack rolled back', async () => {
    records.set('acme', tenant());
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date() }] });
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
    records.set('acme', tenant({ stackOutputs: { DefaultSecurityGroupId: 'sg-1' } }));
    const rule = { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-1' }] };
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-1', IpPermissions: [rule], IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }] });
    await expect(handler(state())).resolves.toMatchObject({ defaultSecurityGroupClosed: true });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0].args[0].input).toEqual({ GroupId: 'sg-1', IpPermissions: [rule] });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toHaveLength(1);
  });
});

describe('Activate tenant', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/activate-tenant.js');
  it('lifts the quarantine of an account tenant, marks it ACTIVE and announces it', async () => {
    records.set('acme', tenant({ isolation: 'account', accountId: '444444444444', currentStep: 'Wire tenant' }));
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [{ Id: 'p-quarantine' }] });
    await handler(state());
    expect(orgs.commandCalls(DetachPolicyCommand)[0].args[0].input).toEqual({ PolicyId: 'p-quarantine', TargetId: '444444444444' });
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE' });
    expect(records.get('acme')?.currentStep).toBeUndefined();
    const entry = events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect(entry).toMatchObject({ Source: 'tessera.lifecycle', DetailType: 'Tenant Activated', EventBusName: 'tessera-lifecycle' });
  });
  it('fails when EventBridge rejects the event', async () => {
    records.set('acme', tenant());
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    await expect(handler(state())).rejects.toThrow(/EventBridge rejected "Tenant Activated": InternalFailure boom/);
  });
});
